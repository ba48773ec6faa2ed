"""The trading desk: the session's trading logic, headless (DESIGN.md "One fact, one place").

Suggestions, engine results, executions, the one :class:`TradingState`, the kill
switch, auto-execute, reconciliation at start and the journal. The App binds keys
to it and paints what it says; a test or a script drives it without Textual (every
method that talks to the broker is a coroutine).

Every order — an approved suggestion, ``R``, auto-execute, the order ticket —
leaves through :meth:`Desk._send`: the risk gate checks it under the trading
state, the journal writes the intent, then the broker is called, and what came
back is journaled. Nothing else calls ``broker.create_order``.

Time rules use one clock: ages are data-time differences divided by
``snapshot.time_scale`` (the demo's ``--acceleration``), so they read in wall
seconds whatever the market's speed; the engine's cadence is wall time too.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections import deque
from collections.abc import Callable

from cockpit.config import Config
from cockpit.desk_state import StateKeeper, lower_of
from cockpit.engine import EngineResult
from cockpit.execution import (
    ExecutionReport,
    client_order_id,
    execution_of,
    new_execution_id,
    requests_for,
    venue_error_line,
)
from cockpit.execution_style import STYLES, choose_style, expected_for_style, plan_for_style
from cockpit.executions import Executor
from cockpit.journal import ORDER_STATUSES, Journal, JournalError
from cockpit.keys import redact
from cockpit.model import Order, OrderRequest, Snapshot
from cockpit.model.views import LogEntry
from cockpit.reconcile import reconcile
from cockpit.risk_gate import RiskGate, TradingState, reduces_risk
from cockpit.suggestions import Suggestion, SuggestionBook, stale_reason

log = logging.getLogger("cockpit.desk")

__all__ = ["Desk", "ExecutionReport", "TradingState", "policy_settings"]


def policy_settings(config: Config, *, reduce_only: bool = False):
    """``[sizing]`` -> ``sizing.policy.PolicySettings`` (same names, same units)."""
    from sizing.policy import PolicySettings

    fields = {f.name for f in dataclasses.fields(PolicySettings)}
    values = {k: v for k, v in config.sizing.model_dump().items() if k in fields}
    return PolicySettings(**values, reduce_only=reduce_only)


def plan_for(decision, snapshot: Snapshot) -> tuple:
    """The child orders of one decision: a single market order, rounded to the
    venue's precision and minimums (``sizing.orders.plan_change``)."""
    from sizing.orders import OrderRules, plan_change

    inst = snapshot.instruments.get(decision.symbol)
    ticker = snapshot.tickers.get(decision.symbol)
    if inst is None or ticker is None:
        return ()
    try:
        return plan_change(decision.symbol, decision.current, decision.target,
                           OrderRules.of(inst), "market", reference_price=ticker.mark)
    except ValueError:
        return ()


def _news(prev: Suggestion | None, new: Suggestion) -> bool:
    """Journal a suggestion when it is new, its reason changed, or its target moved
    by more than a tenth of its order, not on every run's small drift."""
    if prev is None:
        return True
    a, b = prev.decision, new.decision
    if a.binding_constraint != b.binding_constraint or a.kind != b.kind:
        return True
    return abs(b.target - a.target) > 0.1 * max(abs(b.order), 1e-12)


def _jsonable(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | bool) or value is None:
        return value
    return str(value)


class Desk:
    """One trading session on one account. ``journal`` is that account's journal;
    ``on_entry`` (optional) receives every event-log line as it is made."""

    def __init__(self, config: Config, store, broker, journal: Journal, *,
                 live: bool = False, on_entry: Callable[[LogEntry], None] | None = None,
                 gate=None) -> None:
        self.config = config
        self.store = store
        self.broker = broker
        self.journal = journal
        self.live = live
        self.on_entry = on_entry
        self.book = SuggestionBook()
        # several venues: one gate per venue (cockpit.venue_gates), asked the same way
        self.gate = gate or RiskGate(config.risk, config.sizing, time_scale=self.time_scale)
        self.states = StateKeeper(config, journal)
        self.auto_execute = False
        self.auto_confirmed = False  # the first switch-on (and the first after a kill) asks
        self.last_result: EngineResult | None = None
        self.log: deque[LogEntry] = deque(maxlen=500)
        self.reconciled = False
        self._sent: set[str] = set()  # execution ids already sent: approving twice sends once
        self._journaled: set[str] = set()  # suggestion ids written to the journal
        self._fills_seen: set[str] = set()  # fill ids journaled (or found there) this session
        self.executor = Executor(self, config.execution)
        self._cancelled_count = 0  # orders this desk cancelled (the kill switch counts its own)
        self._track_peak_equity()
        for r in journal.tail(200):  # the event log survives a restart
            self.log.append(LogEntry(r.ts_ms, r.kind, r.text))

    # -- clock and state -----------------------------------------------------------
    @property
    def time_scale(self) -> float:
        return float(getattr(self.store, "time_scale", 1.0) or 1.0)

    @property
    def state(self) -> TradingState:
        """The effective trading state: at most REDUCING until reconciled."""
        if not self.reconciled:
            return lower_of(self.states.state, TradingState.REDUCING)
        return self.states.state

    @property
    def state_reason(self) -> str:
        if not self.reconciled and self.states.state == TradingState.ACTIVE:
            return "not reconciled with the broker yet"
        return self.states.reason

    def now_ms(self) -> int:
        return self.store.snapshot().ts_ms

    def note(self, kind: str, text: str, **fields) -> LogEntry:
        """Journal one record (durably) and show it in the event log."""
        text = redact(text)
        ts = fields.pop("ts_ms", None) or self.now_ms()
        try:
            self.journal.write(kind, ts, text, **fields)
        except Exception as exc:  # the journal failing must be seen, not crash trading
            log.error("journal write failed: %s", exc)
        entry = LogEntry(ts, kind, text)
        self.log.append(entry)
        if self.on_entry is not None:
            self.on_entry(entry)
        return entry

    def lower_state(self, to: TradingState, reason: str, who: str = "engine") -> bool:
        """Move the state down (never up); journaled once per change."""
        changed = self.states.lower(to, reason)
        if changed:
            self.note("state", f"trading state {self.states.state.value.upper()}: {reason}",
                      who=who, reason=reason, data={"state": self.states.state.value})
            if self.states.state != TradingState.ACTIVE and self.auto_execute and \
                    self.states.state == TradingState.HALTED:
                self.set_auto(False, who=who)
        return changed

    def raise_blockers(self, to: TradingState) -> list[str]:
        """What still holds the state down (hysteresis): empty when raising is allowed."""
        return self.states.blockers(self.store.snapshot(), self.last_result, to)

    def raise_state(self, to: TradingState, who: str = "trader") -> str | None:
        """The trader moves the state up (after a confirmation); returns why not, or None."""
        if not self.reconciled:
            return "not reconciled with the broker yet: wait, or check the venue connection"
        if blockers := self.raise_blockers(to):
            return "still tripped: " + "; ".join(blockers)
        before = self.states.state
        if self.states.raise_to(to):
            self.note("state", f"trading state {to.value.upper()} (was {before.value}): "
                      f"raised by the {who}", who=who, data={"state": to.value,
                                                           "was": before.value})
        return None

    # -- engine results --------------------------------------------------------------
    def on_result(self, result: EngineResult, snapshot: Snapshot) -> None:
        """Take a run's result: journal it, replace the suggestions, and let the
        automatic triggers move the state down."""
        data = {"engine_seq": result.seq, "duration_ms": round(result.duration_ms, 2),
                "refits": result.refits, "provisional": result.provisional,
                "forecasts": {k: _jsonable(getattr(f, "vol_annual", None))
                              for k, f in (result.forecasts or {}).items()}}
        if result.error:
            self.book.mark_failed(result.error)
            self.note("error", f"engine run failed: {result.error}", who="engine",
                      ts_ms=snapshot.ts_ms, data=data)
            self.last_result = dataclasses.replace(result, forecasts=(
                self.last_result.forecasts if self.last_result else {}))
            return
        self.journal.write("engine_run", result.snapshot_ts_ms,
                           f"engine run {result.seq}: {len(result.decisions)} decision(s), "
                           f"{result.duration_ms:.0f} ms", who="engine", data=data)
        old = {s.symbol: s for s in self.book}
        self.last_result = result
        quiet_ms = int(self.config.engine.suggestion_max_age_s * 1000 * self.time_scale)
        self.book.replace_all(self._suggestions(result, snapshot), snapshot.ts_ms, quiet_ms)
        for s in self.book:
            if _news(old.get(s.symbol), s):
                self._note_suggestion(s)
        for to, reason in self.states.triggers(snapshot, result):
            self.lower_state(to, reason)

    def _suggestions(self, result: EngineResult, snapshot: Snapshot) -> list[Suggestion]:
        """Non-hold decisions as suggestions, each with the style it would be worked in
        and why; none for an instrument an execution is still working on."""
        out = []
        cfg = self.config.execution
        for d in result.decisions:
            if d.kind == "hold" or not math.isfinite(d.order) or d.order == 0:
                continue
            if self.executor.for_symbol(d.symbol) is not None:
                continue
            ticker = snapshot.tickers.get(d.symbol)
            side = "buy" if d.order > 0 else "sell"
            if not d.forced and any(o.symbol == d.symbol and o.side != side
                                    for o in self._resting(snapshot)):
                continue  # never trade against our own resting order (cancel it with c)
            style, why = choose_style(snapshot, d.symbol, side, abs(d.order),
                                      budget_bps=self.config.sizing.slippage_budget_bps,
                                      default=cfg.default_style, twap_slices=cfg.twap_slices,
                                      twap_duration_s=cfg.twap_duration_s)
            orders = plan_for_style(d.symbol, d.current, d.target, snapshot, style, cfg)
            slip, usd, basis = expected_for_style(snapshot, d.symbol, side, abs(d.order), style,
                                                  orders, cfg)
            out.append(Suggestion(
                id=new_execution_id(), symbol=d.symbol, decision=d, orders=orders,
                created_ms=result.snapshot_ts_ms,
                ref_price=float(ticker.mark) if ticker else math.nan, engine_seq=result.seq,
                style=style, style_why=f"{why}; slippage = {basis}", slippage_bps=slip,
                slippage_usd=usd,
            ))
        return out

    def switch_style(self, suggestion_id: str) -> Suggestion | None:
        """The next style (market → passive → twap → ladder) for one suggestion, replanned
        from the current snapshot; None when the suggestion is gone."""
        s = self.book.get(suggestion_id)
        if s is None:
            return None
        style = STYLES[(STYLES.index(s.style) + 1) % len(STYLES)] if s.style in STYLES \
            else STYLES[0]
        d = s.decision
        snapshot = self.store.snapshot()
        orders = plan_for_style(s.symbol, d.current, d.target, snapshot, style,
                                self.config.execution)
        side = "buy" if d.order > 0 else "sell"
        slip, usd, basis = expected_for_style(snapshot, s.symbol, side, abs(d.order), style,
                                              orders, self.config.execution)
        new = dataclasses.replace(s, style=style, orders=orders, slippage_bps=slip,
                                  slippage_usd=usd,
                                  style_why=f"{style}: chosen by the trader; slippage = {basis}")
        self.book._items[s.id] = new
        return new

    def _note_suggestion(self, s: Suggestion) -> None:
        d = s.decision
        self.note("suggestion", d.reason, execution_id=s.id, symbol=s.symbol, who="engine",
                  ts_ms=s.created_ms, data=_jsonable({
                      "engine_seq": s.engine_seq, "kind": d.kind, "current": d.current,
                      "target": d.target, "order": d.order,
                      "binding_constraint": d.binding_constraint, "caps": dict(d.caps),
                      "inputs": dict(d.inputs), "reason": d.reason,
                      "reduces_risk": d.reduces_risk, "style": s.style, "style_why": s.style_why,
                      "expected_slippage_bps": s.slippage_bps,
                      "expected_slippage_usd": s.slippage_usd,
                      "orders": [dataclasses.asdict(o) for o in s.orders]
                      if s.orders and dataclasses.is_dataclass(s.orders[0]) else []}))
        self._journaled.add(s.id)

    def suggestion_refusal(self, s: Suggestion, snapshot: Snapshot, *, auto: bool) -> str | None:
        """Why suggestion ``s`` may not be sent now (staleness, nothing to send, the
        gate on each child order), or None."""
        max_age = self.config.engine.suggestion_max_age_s
        if reason := stale_reason(s, snapshot, max_age, self.config.engine.suggestion_max_move_bps):
            return f"stale: {reason}"
        if not s.orders:
            return "nothing to send: the planned order is below the venue's minimum"
        if (ex := self.executor.for_symbol(s.symbol)) is not None:
            return f"an execution is still working on {s.symbol} ({ex.id}): cancel it first"
        if auto and not self.config.engine.auto_execute_increases and \
                not self.verified_reducing(s, snapshot):
            return "auto-execute sends only verified risk-reducing orders; approve it with a key"
        resting = self._resting(snapshot)
        for req in requests_for(s.id, s.orders):
            if reason := self.gate.check(req, snapshot, self.state, resting=resting):
                return reason
        return None

    def verified_reducing(self, s: Suggestion, snapshot: Snapshot) -> bool:
        """Risk-reducing by the what-if, not by the engine's label."""
        resting = self._resting(snapshot)
        reqs = requests_for(s.id, s.orders)
        return bool(reqs) and all(reduces_risk(r, snapshot, resting) for r in reqs)

    @staticmethod
    def _resting(snapshot: Snapshot) -> tuple[Order, ...]:
        return tuple(snapshot.account.open_orders) if snapshot.account else ()

    # -- sending ---------------------------------------------------------------------
    async def _send(self, execution_id: str, symbol: str, requests: list[OrderRequest], *,
                    who: str) -> ExecutionReport:
        """Gate, journal the intent, send, journal the answer; child by child, and
        stop at the first refusal or error."""
        sent: list[Order] = []
        for req in requests:
            snap = self.store.snapshot()
            if reason := self.gate.check(req, snap, self.state, resting=self._resting(snap)):
                self.note("refusal", f"{req.symbol}: refused — {reason}", who=who,
                          execution_id=execution_id, symbol=req.symbol, reason=reason,
                          client_order_id=req.client_order_id, side=req.side,
                          amount=req.amount, price=req.price)
                return ExecutionReport(execution_id, symbol, tuple(sent), reason, who, refused=True)
            try:  # write-ahead: no journal row, no order
                self.journal.order_intent(
                    snap.ts_ms, execution_id=execution_id, client_order_id=req.client_order_id,
                    symbol=req.symbol, side=req.side, type=req.type, amount=req.amount,
                    price=req.price, reduce_only=req.reduce_only, who=who,
                    text=f"intent: {req.side} {req.amount:g} {req.symbol} {req.type}"
                         + (f" @ {req.price:g}" if req.price is not None else ""))
            except (JournalError, ValueError) as exc:  # no intent written, nothing sent (write-ahead)
                known = self.journal.order(req.client_order_id)
                reason = (f"already sent: {req.client_order_id} is in the journal "
                          f"({known.status}); an execution is never sent twice"
                          if known is not None else f"not sent: {exc}")
                self.note("refusal", f"{req.symbol}: {reason}", who=who,
                          execution_id=execution_id, symbol=req.symbol, reason=reason,
                          client_order_id=req.client_order_id)
                return ExecutionReport(execution_id, symbol, tuple(sent), reason, who, refused=True)
            self.gate.record_sent(req, snap)
            try:
                order = await self.broker.create_order(req)
            except Exception as exc:  # a venue error is one line on screen, never a crash
                msg = venue_error_line(exc)
                log.warning("order %s for %s refused: %s", req.client_order_id, req.symbol, exc)
                self.journal.order_update(req.client_order_id, self.now_ms(), status="rejected",
                                          reason=msg)
                self.note("error", f"{req.symbol}: not sent — {msg}", who=who,
                          execution_id=execution_id, symbol=req.symbol)
                return ExecutionReport(execution_id, symbol, tuple(sent), msg, who)
            sent.append(order)
            self.journal.order_update(req.client_order_id, self.now_ms(), status=order.status,
                                      venue_order_id=order.id or None, filled=order.filled,
                                      average=order.average, reason=order.reason)
            avg = f" @ {order.average:,.4f}" if order.average else ""
            why = f" ({order.reason})" if order.reason else ""
            self._show("order",
                       f"{order.side} {order.filled:g}/{order.amount:g} {order.symbol} "
                       f"{order.status}{avg}{why}")
        self.sync_account()
        return ExecutionReport(execution_id, symbol, tuple(sent), None, who)

    def _show(self, kind: str, text: str) -> None:
        """An event-log line that is already in the journal in another form."""
        entry = LogEntry(self.now_ms(), kind, redact(text))
        self.log.append(entry)
        if self.on_entry is not None:
            self.on_entry(entry)

    async def approve(self, suggestion_id: str, *, who: str = "key") -> ExecutionReport:
        """Send one suggestion's orders (its id is the execution id)."""
        s = self.book.get(suggestion_id)
        if s is None:
            why = ("already sent" if suggestion_id in self._sent
                   else "that suggestion is gone; wait for the next run")
            return ExecutionReport(suggestion_id, "", (), why, who, refused=True)
        snap = self.store.snapshot()
        if s.id not in self._journaled:
            self._note_suggestion(s)
        kind = "auto" if who == "auto" else "approval"
        if reason := self.suggestion_refusal(s, snap, auto=who == "auto"):
            self.note("refusal", f"{s.symbol}: not sent — {reason}", who=who,
                      execution_id=s.id, symbol=s.symbol, reason=reason)
            return ExecutionReport(s.id, s.symbol, (), reason, who, refused=True)
        self._sent.add(s.id)
        self.book.remove(s.id)
        verb = "auto-execute" if who == "auto" else "approved"
        self.note(kind, f"{verb} ({s.style_why or s.style}): {s.decision.reason}", who=who,
                  execution_id=s.id, symbol=s.symbol)
        ex = self.executor.new(s.id, s.symbol, s.style, s.orders, s.decision.target, who=who,
                               expected_slippage_bps=s.slippage_bps
                               if math.isfinite(s.slippage_bps) else None)
        if isinstance(ex, str):
            return ExecutionReport(s.id, s.symbol, (), ex, who, refused=True)
        return await self.executor.start(ex)

    async def send_child(self, execution_id: str, index: int, request: OrderRequest, *,
                         who: str) -> ExecutionReport:
        """One child of an execution (``cockpit.executions``), through the one send path:
        the gate, the journal, the broker; its client id carries ``index``."""
        req = dataclasses.replace(request, client_order_id=client_order_id(execution_id, index))
        return await self._send(execution_id, req.symbol, [req], who=who)

    async def cancel_order(self, order_id: str, symbol: str, *, client_order_id: str = "",
                           who: str = "trader") -> tuple[Order | None, str | None]:
        """Cancel one order at the broker and journal it: (the order as it ended, or None;
        why not, or None). An order that filled first comes back filled, not cancelled."""
        try:
            order = await self.broker.cancel_order(order_id, symbol)
        except Exception as exc:
            return None, venue_error_line(exc)
        cid = order.client_order_id or client_order_id
        if cid:
            self.journal.order_update(cid, self.now_ms(), status=order.status,
                                      venue_order_id=order.id or None, filled=order.filled,
                                      average=order.average, reason=f"cancelled ({who})")
        if order.status == "canceled":
            self._cancelled_count += 1
        self.sync_account()
        return order, None

    async def amend_order(self, order: Order, *, price: float | None = None,
                          amount: float | None = None, who: str = "trader") -> str:
        """Amend one resting limit (new price and/or total amount) through the risk
        gate, as if its remainder were sent anew; journaled before and after. One line:
        what was done, or why not."""
        new_amount = order.amount if amount is None else amount
        new_price = order.price if price is None else price
        request = OrderRequest(order.symbol, order.side, "limit",
                               max(new_amount - order.filled, 0.0), new_price,
                               reduce_only=order.reduce_only,
                               client_order_id=order.client_order_id)
        snapshot = self.store.snapshot()
        others = [o for o in self._resting(snapshot) if o.id != order.id]
        if why := self.gate.check(request, snapshot, self.state, resting=others):
            self.note("refusal", f"amend refused: {order.symbol} — {why}", who=who,
                      symbol=order.symbol, client_order_id=order.client_order_id)
            return f"refused: {why}"
        was = f"{order.remaining:g} @ {order.price:g}" if order.price else f"{order.remaining:g}"
        self.note("order", f"amend {order.side} {order.symbol} {was} → "
                  f"{new_amount - order.filled:g} @ {new_price:g}", who=who,
                  symbol=order.symbol, client_order_id=order.client_order_id,
                  execution_id=execution_of(order.client_order_id), side=order.side,
                  amount=new_amount, price=new_price,
                  data={"status": "amend sent",
                        "amend": {"from_price": order.price, "to_price": new_price,
                                  "from_amount": order.amount, "to_amount": new_amount}})
        try:
            done = await self.broker.amend_order(order.id, order.symbol, price=price,
                                                 amount=amount)
        except Exception as exc:
            line = venue_error_line(exc)
            self.note("error", f"{order.symbol}: amend failed — {line}", who=who,
                      symbol=order.symbol, client_order_id=order.client_order_id)
            return f"not amended: {line}"
        text = (f"amended {done.side} {done.symbol} {done.remaining:g} @ {done.price:g} "
                f"({done.status})")
        cid = done.client_order_id or order.client_order_id
        try:  # the orders row now shows the order as it rests; the record keeps the change
            recorded = cid and self.journal.order_amended(
                cid, self.now_ms(), price=done.price, amount=done.amount,
                status=done.status if done.status in ORDER_STATUSES else "open",
                who="venue", text=text)
        except Exception as exc:  # the journal failing must be seen, not crash trading
            log.error("journal write failed: %s", exc)
            recorded = True
        if recorded:
            self._show("order", text)
        else:  # an order the journal never saw: the change is still written down
            self.note("order", text, who="venue", symbol=done.symbol, client_order_id=cid)
        self.sync_account()
        return f"amended: {done.side} {done.remaining:g} {done.symbol} @ {done.price:g}"

    async def cancel_selected_order(self, order: Order, *, who: str = "key") -> str:
        """``c`` on an order row: a child of a working execution cancels the execution
        (else the next step would replace it); any other order is cancelled alone."""
        exid = execution_of(order.client_order_id)
        if exid is not None and exid in {e.id for e in self.executor.working()}:
            await self.executor.cancel(exid, who="trader")
            return f"execution {exid} cancelled with its resting orders"
        done, error = await self.cancel_order(order.id, order.symbol,
                                              client_order_id=order.client_order_id, who=who)
        if error:
            self.note("error", f"{order.symbol}: cancel failed — {error}", who=who,
                      symbol=order.symbol, client_order_id=order.client_order_id)
            return f"not cancelled: {error}"
        self.note("cancel", f"cancelled {order.side} {order.remaining:g} {order.symbol}"
                  + (f" @ {order.price:g}" if order.price is not None else "")
                  + (" (it had filled first)" if done.status == "closed" else ""), who=who,
                  symbol=order.symbol, execution_id=exid)
        return "cancelled" if done.status == "canceled" else f"order {done.status}"

    async def step_executions(self) -> None:
        """Advance the working executions to the market clock's now (the App's timer)."""
        if self.executor.working():
            await self.executor.step()

    def execution_lines(self) -> tuple[str, ...]:
        return self.executor.lines(self.now_ms())

    def reducing_candidates(self) -> list[Suggestion]:
        snap = self.store.snapshot()
        return [s for s in self.book if self.verified_reducing(s, snap)
                and self.suggestion_refusal(s, snap, auto=False) is None]

    async def approve_reducing(self) -> list[ExecutionReport]:
        """``R``: every fresh suggestion that verifies as risk-reducing."""
        return [await self.approve(s.id, who="key") for s in self.reducing_candidates()]

    def auto_candidates(self) -> list[Suggestion]:
        if not self.auto_execute or not self.reconciled:
            return []
        snap = self.store.snapshot()
        return [s for s in self.book
                if s.id not in self._sent and self.suggestion_refusal(s, snap, auto=True) is None]

    async def run_auto(self) -> list[ExecutionReport]:
        return [await self.approve(s.id, who="auto") for s in self.auto_candidates()]

    def reject(self, suggestion_id: str) -> Suggestion | None:
        s = self.book.reject(suggestion_id, self.now_ms())
        if s is not None:
            self.note("rejection", f"rejected: {s.decision.reason}", who="key",
                      execution_id=s.id, symbol=s.symbol)
        return s

    async def send_ticket(self, request: OrderRequest, *, style: str = "market"
                          ) -> ExecutionReport:
        """The trader's own order, through the same gate and journal; a worked ``style``
        (passive, twap, ladder) becomes a tracked execution of ``request.amount``."""
        eid = new_execution_id()
        if style != "market":
            return await self._worked_ticket(eid, request, style)
        req = dataclasses.replace(request, client_order_id=client_order_id(eid, 0))
        price = "market" if req.price is None else f"limit @ {req.price:g}"
        self.note("approval", f"order ticket: {req.side} {req.amount:g} {req.symbol} {price}"
                  + (" reduce-only" if req.reduce_only else ""), who="ticket",
                  execution_id=eid, symbol=req.symbol, side=req.side, amount=req.amount,
                  price=req.price)
        return await self._send(eid, req.symbol, [req], who="ticket")

    async def _worked_ticket(self, eid: str, request: OrderRequest, style: str
                             ) -> ExecutionReport:
        snap = self.store.snapshot()
        pos = snap.account.position(request.symbol) if snap.account else None
        current = pos.contracts if pos is not None else 0.0
        target = current + (request.amount if request.side == "buy" else -request.amount)
        plan = plan_for_style(request.symbol, current, target, snap, style,
                              self.config.execution)
        self.note("approval", f"order ticket: {style} {request.side} {request.amount:g} "
                  f"{request.symbol}", who="ticket", execution_id=eid, symbol=request.symbol,
                  side=request.side, amount=request.amount)
        ex = self.executor.new(eid, request.symbol, style, plan, target, who="ticket")
        if isinstance(ex, str):
            return ExecutionReport(eid, request.symbol, (), ex, "ticket", refused=True)
        return await self.executor.start(ex)

    # -- auto-execute, kill switch ------------------------------------------------------
    def set_auto(self, on: bool, *, who: str = "trader") -> str | None:
        """Turn auto-execute on or off; returns why it cannot be turned on, or None."""
        if on and not self.reconciled:
            return "not reconciled with the broker yet"
        if on and self.state == TradingState.HALTED:
            return "trading is HALTED: raise the state first"
        if on == self.auto_execute:
            return None
        self.auto_execute = on
        self.note("auto", f"auto-execute {'ON' if on else 'OFF'}", who=who)
        return None

    async def cancel_all(self, *, who: str) -> tuple[list[Order], list[str]]:
        """Cancel every open order; where cancel-all fails, cancel each and check.
        Returns (cancelled, what could not be cancelled)."""
        cancelled: list[Order] = []
        problems: list[str] = []
        try:
            cancelled = list(await self.broker.cancel_all_orders())
        except Exception as exc:  # e.g. ccxt has no cancelAllOrders for OKX: one by one
            # CancelIncomplete carries what it did cancel: journal those too
            cancelled = list(getattr(exc, "cancelled", None) or [])
            log.warning("cancel-all failed (%s); cancelling one by one", venue_error_line(exc))
        for _ in range(2):  # cancel, then check that none is left
            try:
                left = await self.broker.fetch_open_orders()
            except Exception as exc:
                problems = [f"cannot list open orders to check ({venue_error_line(exc)})"]
                break
            if not left:
                problems = []
                break
            problems = []
            for o in left:
                try:
                    done = await self.broker.cancel_order(o.id, o.symbol)
                    cancelled.append(dataclasses.replace(done, client_order_id=done.client_order_id
                                                         or o.client_order_id))
                except Exception as exc:
                    problems.append(f"{o.symbol} {o.id}: {venue_error_line(exc)}")
        for o in cancelled:
            if o.client_order_id:
                self.journal.order_update(o.client_order_id, self.now_ms(), status="canceled",
                                          venue_order_id=o.id or None, filled=o.filled,
                                          reason=f"cancelled ({who})")
        return cancelled, problems

    async def kill(self) -> str:
        """The kill switch: auto-execute off, state REDUCING, every open order
        cancelled. Works whatever the engine or the venue is doing."""
        self.auto_execute = False
        self.auto_confirmed = False  # turning auto back on asks again
        self.lower_state(TradingState.REDUCING, "kill switch", who="kill")
        # Working executions end first: left working, a passive or TWAP execution
        # would place its next child right after the cancel (or after a restart).
        before = self._cancelled_count
        for ex in self.executor.working():
            await self.executor.cancel(ex.id, who="kill switch")
        by_executions = self._cancelled_count - before  # their children, cancelled above
        cancelled, problems = await self.cancel_all(who="kill")
        text = (f"KILL SWITCH: {len(cancelled) + by_executions} order(s) cancelled, "
                f"auto-execute OFF, state {self.state.value.upper()}")
        if problems:
            text += "; NOT cancelled: " + "; ".join(problems)
        self.note("kill", text, who="kill")
        self.sync_account()
        return text

    # -- the account's own events, reconciliation ------------------------------------
    def _track_peak_equity(self) -> None:
        """The account's peak equity survives restarts (journal meta), so the
        drawdown tiers act on a live account too. A rise is written when it beats
        the saved peak by 0.05 % (a write per tick would be an fsync per tick): the
        saved peak trails the true one by at most that, far inside any tier."""
        try:
            saved = float(self.journal.get_meta("peak_equity_usd") or 0.0)
        except (TypeError, ValueError):
            saved = 0.0
        if math.isfinite(saved) and saved > self.store.peak_equity_usd:
            self.store.peak_equity_usd = saved
        written = [self.store.peak_equity_usd]

        def save(peak: float) -> None:
            if peak > written[0] * 1.0005:
                written[0] = peak
                try:
                    self.journal.set_meta("peak_equity_usd", repr(peak))
                except Exception as exc:
                    log.error("saving the peak equity failed: %s", exc)

        self.store.on_new_peak = save

    def sync_account(self) -> None:
        """Journal fills, funding, expiries and liquidations the broker reports
        (each once: the journal is idempotent by fill id)."""
        from cockpit.desk_sync import journal_account_events

        try:
            for kind, text in journal_account_events(self.journal, self.broker,
                                                     self.store.snapshot(), self._fills_seen):
                self._show(kind, text)
        except Exception as exc:
            log.error("journaling the account's events failed: %s", exc)

    async def reconcile(self) -> bool:
        """Match the journal against the broker (see :mod:`cockpit.reconcile`)."""
        lines, ok = await reconcile(self.journal, self.broker, self.now_ms())
        for line in lines:
            self.note("reconcile", line, who="start")
        if ok and not self.reconciled:
            self.reconciled = True
            self._restore_gate_windows()
            self.sync_account()
            for line in await self.executor.resume():
                self._show("execution", line)
        return ok

    def _restore_gate_windows(self, *, now_wall_ms: int | None = None) -> None:
        """The orders sent in the last day still count toward the gate's rolling
        hour/day notional and its rates after a restart (valued at today's marks)."""
        import time

        wall_now = int(time.time() * 1000) if now_wall_ms is None else now_wall_ms
        mono = time.monotonic()
        snap = self.store.snapshot()
        for r in self.journal.records(kinds=["order"], limit=20_000):
            age_s = (wall_now - r.wall_ms) / 1000.0
            if not r.text.startswith("intent:") or not 0 <= age_s < 86_400 or not r.symbol:
                continue
            jo = self.journal.order(r.client_order_id or "")
            if jo is None:
                continue
            req = OrderRequest(jo.symbol, jo.side, jo.type, jo.amount, jo.price, jo.reduce_only,
                               client_order_id=jo.client_order_id)
            try:
                self.gate.record_sent(req, snap, now_s=mono - age_s)
            except Exception as exc:  # an instrument no longer listed: skip it
                log.info("gate window: %s skipped (%s)", jo.client_order_id, exc)

    # -- quitting ------------------------------------------------------------------------
    def quit_question(self) -> str | None:
        """What quitting would leave behind, or None when it may quit at once."""
        snap = self.store.snapshot()
        resting = self._resting(snap)
        parts = []
        if resting:
            parts.append(f"{len(resting)} order(s) resting")
        if self.auto_execute:
            parts.append("auto-execute is ON")
        if self.live:
            parts.append("the account is LIVE")
        return ", ".join(parts) or None

    async def before_quit(self, *, cancel_resting: bool) -> bool:
        """Cancel resting orders if asked; returns whether the dead-man switch may
        be disarmed (never while orders of ours rest that the trader meant to cancel)."""
        self.auto_execute = False
        if cancel_resting:  # the trader asked for nothing of ours to outlive the session
            for ex in self.executor.working():
                await self.executor.cancel(ex.id, who="quit")
        if not cancel_resting:
            if self._resting(self.store.snapshot()):
                self.note("info", "quit: resting orders left at the venue by the trader",
                          who="trader")
            return True
        cancelled, problems = await self.cancel_all(who="quit")
        if cancelled:
            self.note("cancel", f"quit: {len(cancelled)} resting order(s) cancelled", who="trader")
        if problems:
            self.note("error", "quit: NOT cancelled: " + "; ".join(problems)
                      + " — the dead-man switch stays armed", who="trader")
            return False
        return True
