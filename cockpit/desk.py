"""The trading desk: the session's trading logic, headless (DESIGN.md "One fact, one place").

Suggestions, engine results, executions, the one :class:`TradingState`, the kill
switch, auto-execute, reconciliation at start and the journal. The App binds keys
to it and paints what it says; a test or a script drives it without Textual (every
method that talks to the broker is a coroutine).

Every order — an approved suggestion, ``R``, auto-execute, the order ticket —
leaves through :meth:`Desk._send`: the risk gate checks it under the trading
state, the journal writes the intent, then the broker is called, and what came
back is journaled. Nothing else calls ``broker.create_order``. That send path,
with approvals, amends and cancels, is :mod:`cockpit.desk_orders` (mixed in);
this module is the coordinator that owns the session's parts.

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
from cockpit.desk_orders import OrderEntry
from cockpit.desk_state import StateKeeper, lower_of
from cockpit.engine import EngineResult
from cockpit.execution import ExecutionReport, new_execution_id
from cockpit.execution_style import STYLES, choose_style, expected_for_style, plan_for_style
from cockpit.executions import Executor
from cockpit.journal import Journal
from cockpit.keys import redact
from cockpit.model import Snapshot
from cockpit.model.views import LogEntry
from cockpit.reconcile import reconcile
from cockpit.risk_gate import RiskGate, TradingState
from cockpit.suggestions import Suggestion, SuggestionBook

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


class Desk(OrderEntry):
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

    def _show(self, kind: str, text: str) -> None:
        """An event-log line that is already in the journal in another form."""
        entry = LogEntry(self.now_ms(), kind, redact(text))
        self.log.append(entry)
        if self.on_entry is not None:
            self.on_entry(entry)

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
