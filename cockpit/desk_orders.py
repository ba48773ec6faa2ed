"""Order entry: every order the desk sends, amends or cancels (mixed into the Desk).

Every order — an approved suggestion, ``R``, auto-execute, the order ticket, each
child of a worked execution — leaves through :meth:`OrderEntry._send`: the risk gate
checks it under the trading state, the journal writes the intent, then the broker is
called, and what came back is journaled. Nothing else calls ``broker.create_order``.

The methods here use the desk's own parts (``config``, ``store``, ``broker``,
``journal``, ``gate``, ``book``, ``executor``, ``state``, ``note``, ``_show``,
``now_ms``, ``sync_account`` and the ``_sent`` / ``_journaled`` / ``_cancelled_count``
books); :class:`cockpit.desk.Desk` sets them up and is the one class that mixes this in.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time

from cockpit.execution import (
    ExecutionReport,
    client_order_id,
    execution_of,
    new_execution_id,
    requests_for,
    venue_error_line,
)
from cockpit.execution_style import plan_for_style
from cockpit.journal import ORDER_STATUSES, JournalError
from cockpit.model import Order, OrderRequest, Snapshot
from cockpit.risk_gate import reduces_risk
from cockpit.suggestions import Suggestion, stale_reason

log = logging.getLogger("cockpit.desk")  # the desk's one logger: same name as before the split


class OrderEntry:
    """Sending, approving, amending and cancelling orders, and the checks that say
    whether one may go out now."""

    # -- may it go out now -----------------------------------------------------------
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

    # -- cancelling everything -------------------------------------------------------
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

    # -- the gate's memory of what was sent -----------------------------------------
    def _restore_gate_windows(self, *, now_wall_ms: int | None = None) -> None:
        """The orders sent in the last day still count toward the gate's rolling
        hour/day notional and its rates after a restart (valued at today's marks)."""
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
