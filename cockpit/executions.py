"""Tracked executions: an approved order worked over time, child by child.

An :class:`Execution` is one approved suggestion (or ticket) being worked in one
style (``cockpit.execution_style``). The :class:`Executor`, owned by the desk, steps
every working execution on the MARKET clock (``snapshot.ts_ms``: the demo's
``--acceleration`` shortens a TWAP's intervals as it does everything else):

* **market**: its child orders at once; done (or given up when the book ran out).
* **passive**: a limit at the arrival reference (mid, or an option's mark); every
  ``passive_step_s`` it is cancelled and replaced ``passive_step_bps`` further toward
  the far side, never beyond ``max_worse_bps`` from the arrival reference; after
  ``passive_timeout_s`` the rest is cancelled and the execution gives up, saying so:
  "gave up at worst price ..." (or "short of the worst price" when the schedule had
  not reached it). A filled one says how far it went: "filled at or inside mark +
  1 step of 50 bp: limit ...". The first limit is priced from the arrival
  reference, so the suggestion's expected figure (the limit vs mid/mark) and the
  realised one agree within a tick when it fills first time.
* **ladder**: every rung rests at once; at ``ladder_timeout_s`` the rest is cancelled.
* **twap**: slice k goes out at the first step at or after arrival + k x duration /
  slices (on schedule: a late tick does not delay the later slices; at most one slice
  a step, so missed ones never go out in a burst); each slice is sized from the
  position the broker reports (what is left / slices left), not as planned.

Every child leaves through the desk (``Desk.send_child`` / ``Desk.cancel_order``: the
gate, then the journal, then the broker) with its own index in its client id. A
child whose send failed is looked up by client id before anything is sent again.
Each state change is an ``execution`` record in the journal (its ``data`` is the
execution), so ``cockpit journal why ID`` tells the story, and :meth:`Executor.resume`
picks unfinished ones up after a restart: resumed while their time is not up,
otherwise their resting children are cancelled and they end "cancelled".

Realised slippage: ``side x (average - arrival) / arrival x 10,000`` bps (positive =
worse than the arrival reference), from the children's fills.
"""

from __future__ import annotations

import asyncio
import math

from cockpit.execution import client_order_id, venue_error_line
from cockpit.execution_state import EPS, FINISHED, STATES, Child, Execution
from cockpit.execution_style import passive_price, reference_price
from cockpit.model import Order, OrderRequest

__all__ = ["FINISHED", "STATES", "Child", "Execution", "Executor"]


class Executor:
    """Works the desk's executions. ``desk`` gives the store, broker, journal and the
    one send path; ``settings`` is ``[execution]``."""

    def __init__(self, desk, settings) -> None:
        self.desk = desk
        self.settings = settings
        self.executions: dict[str, Execution] = {}
        self._locks: dict[str, asyncio.Lock] = {}  # one step at a time per execution

    def _lock(self, execution_id: str) -> asyncio.Lock:
        return self._locks.setdefault(execution_id, asyncio.Lock())

    # -- reading -----------------------------------------------------------------------
    def working(self) -> list[Execution]:
        return [e for e in self.executions.values() if not e.finished]

    def for_symbol(self, symbol: str) -> Execution | None:
        return next((e for e in self.working() if e.symbol == symbol), None)

    def _now(self) -> int:
        return self.desk.store.snapshot().ts_ms

    # -- starting ----------------------------------------------------------------------
    def new(self, execution_id: str, symbol: str, style: str, plan, target: float, *,
            who: str, expected_slippage_bps: float | None = None) -> Execution | str:
        """An Execution for planned orders ``plan`` (``sizing.orders.PlannedOrder``), or
        why not."""
        snap = self.desk.store.snapshot()
        inst = snap.instruments.get(symbol)
        if inst is None or not plan:
            return f"{symbol}: nothing to execute"
        ref, kind = reference_price(snap, symbol)
        if not ref > 0:
            return f"{symbol}: no {kind} price to execute against"
        cfg, now = self.settings, snap.ts_ms
        secs = {"passive": cfg.passive_timeout_s, "ladder": cfg.ladder_timeout_s,
                "twap": cfg.twap_duration_s}.get(style, 0.0)
        return Execution(
            id=execution_id, symbol=symbol, side=plan[0].side, style=style,
            planned=math.fsum(o.amount for o in plan), target=float(target),
            arrival_price=ref, arrival_kind=kind, started_ms=now,
            deadline_ms=now + int(secs * 1000), tick=inst.price_step,
            amount_step=inst.amount_step, min_amount=inst.min_amount,
            slices=len(plan) if style == "twap" else 1,
            interval_ms=int(cfg.twap_duration_s / cfg.twap_slices * 1000),
            step_ms=int(cfg.passive_step_s * 1000), step_bps=cfg.passive_step_bps,
            max_worse_bps=cfg.max_worse_bps, expected_slippage_bps=expected_slippage_bps,
            who=who, plan=[[o.side, o.type, o.amount, o.price, o.reduce_only] for o in plan])

    async def start(self, ex: Execution):
        """Journal the plan, send what goes out at once, and return the desk's report
        of the first children (``ExecutionReport``)."""
        async with self._lock(ex.id):
            self.executions[ex.id] = ex
            return await self._start(ex)

    async def _start(self, ex: Execution):
        from cockpit.execution import ExecutionReport

        self._journal(ex, f"execution started: {ex.style} {ex.side} {ex.planned:g} {ex.symbol}"
                      f", arrival {ex.arrival_kind} {ex.arrival_price:,.6g}")
        sent: list[Order] = []
        error, refused = None, False
        if ex.style in ("market", "ladder", "passive"):
            for side, type_, amount, price, reduce_only in ex.plan:
                if ex.style == "passive":  # at the arrival reference, not the suggestion's
                    price = self._passive_price(ex, 0)
                report = await self._send(ex, OrderRequest(ex.symbol, side, type_, amount, price,
                                                           reduce_only))
                sent += report.orders
                if report.error:
                    error, refused = report.error, report.refused
                    break
        if error and not ex.children:
            self._finish(ex, "given up", f"not sent: {error}")
        await self._step_one(ex)  # a TWAP's first slice goes now; a market one finishes
        if ex.style == "twap":
            sent = [c for c in self._orders(ex)]
            error = ex.note if ex.state == "given up" else None
        return ExecutionReport(ex.id, ex.symbol, tuple(sent), error, ex.who, refused=refused)

    # -- stepping ----------------------------------------------------------------------
    async def step(self) -> None:
        """Advance every working execution to the market clock's now; one being sent,
        stepped or cancelled elsewhere is skipped this time."""
        for ex in self.working():
            lock = self._lock(ex.id)
            if lock.locked():
                continue
            async with lock:
                try:
                    await self._step_one(ex)
                except Exception as exc:  # one execution's trouble must not stop the others
                    self._finish(ex, "given up", f"stopped by an error: {venue_error_line(exc)}")

    async def _step_one(self, ex: Execution) -> None:
        if ex.finished:
            return
        now = self._now()
        await self._refresh(ex)
        left = await self._remaining(ex)
        if left < max(ex.amount_step, ex.min_amount) - EPS and not self._resting(ex):
            self._finish(ex, "done", self._passive_verdict(ex) if ex.style == "passive" else "")
            return
        if ex.style == "market":
            self._finish(ex, "given up", f"{left:g} not filled (the book ran out)")
        elif ex.style == "twap":
            await self._twap(ex, now, left)
        elif now >= ex.deadline_ms:
            await self._cancel_resting(ex)
            await self._refresh(ex)
            done = ex.filled >= ex.planned - EPS
            if ex.style == "passive":
                note = self._passive_verdict(ex) if done else self._passive_gave_up(ex, now)
            else:
                last = ex.children[-1].price if ex.children else None
                at = f" with the limit at {last:g}" if last is not None else ""
                note = (f"timed out after {(now - ex.started_ms) / 1000:.0f} s{at}, "
                        f"{ex.planned - ex.filled:g} not filled")
            self._finish(ex, "done" if done else "given up", note)
        elif ex.style == "passive":
            await self._passive(ex, now, left)
        self._mark_progress(ex)

    # -- passive -----------------------------------------------------------------------
    def _passive_price(self, ex: Execution, k: int) -> float:
        """The k-th price of the passive schedule, from the arrival reference."""
        return passive_price(ex.arrival_price, ex.side, k, step_bps=ex.step_bps,
                             max_worse_bps=ex.max_worse_bps, tick=ex.tick)

    def _bps(self, ex: Execution, price: float) -> float:
        sign = 1.0 if ex.side == "buy" else -1.0
        return sign * (price - ex.arrival_price) / ex.arrival_price * 1e4

    def _passive_verdict(self, ex: Execution) -> str:
        """How a filled passive execution ended: the worst limit that filled, as steps
        from the arrival reference ("filled at or inside mark + 1 step of 50 bp ...")."""
        filled = [c for c in ex.children if c.filled > 0 and c.price is not None]
        if not filled:
            return ""
        worst = max(filled, key=lambda c: self._bps(ex, c.price))
        k = (worst.sent_ms - ex.started_ms) // max(ex.step_ms, 1)
        steps = min(k, math.ceil(ex.max_worse_bps / ex.step_bps - 1e-9)) if ex.step_bps else 0
        where = (f"its first limit, at or inside arrival {ex.arrival_kind}" if steps == 0 else
                 f"at or inside {ex.arrival_kind} + {steps} step{'' if steps == 1 else 's'} of "
                 f"{ex.step_bps:g} bp")
        return (f"filled {where}: limit {worst.price:g} "
                f"({self._bps(ex, worst.price):+.1f} bp vs arrival {ex.arrival_kind} "
                f"{ex.arrival_price:,.6g})")

    def _passive_gave_up(self, ex: Execution, now: int) -> str:
        """Why a passive execution gave up: at the worst price, or short of it."""
        worst = self._passive_price(ex, 10**9)
        last = next((c.price for c in reversed(ex.children) if c.price is not None), None)
        secs = (now - ex.started_ms) / 1000
        left = f"{ex.planned - ex.filled:g} not filled" + (
            f" ({ex.filled:g} filled)" if ex.filled > 0 else "")
        if last is not None and self._bps(ex, last) >= self._bps(ex, worst) - 1e-9:
            return (f"gave up at worst price {worst:g} ({self._bps(ex, worst):+.1f} bp vs "
                    f"arrival {ex.arrival_kind} {ex.arrival_price:,.6g}): timed out after "
                    f"{secs:.0f} s, {left}")
        at = f"the limit at {last:g}" if last is not None else "no limit resting"
        return (f"gave up short of the worst price {worst:g}: timed out after {secs:.0f} s "
                f"with {at}, {left}")

    async def _twap(self, ex: Execution, now: int, left: float) -> None:
        # one slice a step: a late step (a restart) does not fire the missed ones at once
        due = ex.started_ms + ex.slices_sent * ex.interval_ms
        if ex.slices_sent < ex.slices and now >= due:
            slices_left = ex.slices - ex.slices_sent
            amount = left if slices_left == 1 else left / slices_left
            ex.slices_sent += 1
            if amount >= max(ex.amount_step, ex.min_amount) - EPS:
                report = await self._send(ex, self._request(ex, "market", amount, None))
                if report.error:
                    self._finish(ex, "given up", f"slice {ex.slices_sent} not sent: "
                                 f"{report.error}")
                    return
        if ex.slices_sent >= ex.slices and not ex.finished:
            left = await self._remaining(ex)
            self._finish(ex, "done" if left < ex.amount_step - EPS else "given up",
                         "" if left < ex.amount_step - EPS else f"{left:g} left after the last slice")

    async def _passive(self, ex: Execution, now: int, left: float) -> None:
        price = self._passive_price(ex, (now - ex.started_ms) // max(ex.step_ms, 1))
        resting = self._resting(ex)
        if resting and all(c.price == price for c in resting):
            return
        await self._cancel_resting(ex)
        await self._refresh(ex)
        left = await self._remaining(ex)
        if left >= max(ex.amount_step, ex.min_amount) - EPS:
            report = await self._send(ex, self._request(ex, "limit", left, price))
            if report.error:
                self._finish(ex, "given up", f"replacement not sent: {report.error}")

    # -- children ----------------------------------------------------------------------
    def _resting(self, ex: Execution) -> list[Child]:
        return [c for c in ex.children if c.status in ("open", "unknown")]

    def _orders(self, ex: Execution) -> list[Order]:
        return [Order(c.order_id, c.client_order_id, ex.symbol, c.side, "", c.amount, c.price,
                      c.filled, c.average, c.status, False, False, 0) for c in ex.children]

    def _request(self, ex: Execution, type_: str, amount: float, price: float | None
                 ) -> OrderRequest:
        """A child for ``amount`` (rounded down to the step); reduce-only while it only
        shrinks the position the broker reports, and never past zero in one child."""
        pos = self.desk.broker.account().position(ex.symbol)
        held = pos.contracts if pos is not None else 0.0
        into = held < 0 if ex.side == "buy" else held > 0  # reduces an opposite position
        if into and amount > abs(held) + EPS:
            amount = abs(held)  # the next child opens the rest
        steps = math.floor(amount / ex.amount_step + 1e-9)
        digits = max(0, -math.floor(math.log10(ex.amount_step) + 1e-9) + 2)
        return OrderRequest(ex.symbol, ex.side, type_, round(steps * ex.amount_step, digits),
                            price, reduce_only=into)

    async def _send(self, ex: Execution, req: OrderRequest):
        from cockpit.execution import ExecutionReport

        index = ex.next_index
        if index > 99:
            return ExecutionReport(ex.id, ex.symbol, (), "100 child orders sent: stopping",
                                   ex.who, refused=True)
        ex.next_index += 1
        report = await self.desk.send_child(ex.id, index, req, who=ex.who)
        cid = client_order_id(ex.id, index)
        order = report.orders[0] if report.orders else None
        if order is None and not report.refused:  # lost answer: ask before any resend
            order = await self._lookup(ex.symbol, cid)
            if order is not None:
                self.desk.journal.order_update(cid, self._now(), status=order.status,
                                               venue_order_id=order.id or None,
                                               filled=order.filled, average=order.average,
                                               reason="found by client id after a lost answer")
                report = ExecutionReport(ex.id, ex.symbol, (order,), None, ex.who)
        if order is not None:
            ex.children.append(Child(index, cid, order.id, req.side, req.amount, req.price,
                                     order.filled, order.average, order.status, self._now()))
        return report

    async def _lookup(self, symbol: str, cid: str) -> Order | None:
        try:
            return await self.desk.broker.fetch_order_by_client_id(cid, symbol)
        except Exception:  # cannot look up: treat as unknown, never resend blindly
            return None

    async def _refresh(self, ex: Execution) -> None:
        """Bring resting children up to date from the broker (snapshot first)."""
        snap = self.desk.store.snapshot()
        open_now = {o.client_order_id: o for o in (snap.account.open_orders
                                                  if snap.account else ())}
        for c in self._resting(ex):
            o = open_now.get(c.client_order_id)
            if o is None or o.filled != c.filled:
                o = await self._lookup(ex.symbol, c.client_order_id) or o
            if o is None or (o.filled == c.filled and o.status == c.status):
                continue
            c.filled, c.average, c.status = o.filled, o.average, o.status
            c.order_id = o.id or c.order_id
            self.desk.journal.order_update(c.client_order_id, snap.ts_ms, status=o.status,
                                           venue_order_id=o.id or None, filled=o.filled,
                                           average=o.average)

    async def _remaining(self, ex: Execution) -> float:
        """Contracts still to trade toward the target, from the broker's position."""
        pos = self.desk.broker.account().position(ex.symbol)
        held = pos.contracts if pos is not None else 0.0
        gap = ex.target - held if ex.side == "buy" else held - ex.target
        gap = min(max(gap, 0.0), max(ex.planned - ex.filled, 0.0))  # never more than planned
        steps = math.floor(gap / ex.amount_step + 1e-9)
        return max(steps * ex.amount_step - self._resting_amount(ex), 0.0)

    def _resting_amount(self, ex: Execution) -> float:
        return math.fsum(max(c.amount - c.filled, 0.0) for c in self._resting(ex))

    async def _cancel_resting(self, ex: Execution) -> None:
        for c in self._resting(ex):
            order, error = await self.desk.cancel_order(c.order_id, ex.symbol,
                                                        client_order_id=c.client_order_id,
                                                        who=ex.who)
            if order is not None:
                c.filled, c.average, c.status = order.filled, order.average, order.status
            elif error:
                self.desk.note("error", f"{ex.symbol}: cancel of {c.client_order_id} failed — "
                               f"{error}", execution_id=ex.id, symbol=ex.symbol, who=ex.who)

    # -- ending ------------------------------------------------------------------------
    async def cancel(self, execution_id: str, *, who: str = "trader") -> str | None:
        """Cancel a working execution and its resting children; why not, or None."""
        ex = self.executions.get(execution_id)
        if ex is None or ex.finished:
            return "no such working execution"
        async with self._lock(ex.id):
            if ex.finished:
                return f"it ended first: {ex.state}"
            await self._cancel_resting(ex)
            await self._refresh(ex)
            self._finish(ex, "cancelled", f"cancelled by the {who}")
        return None

    def lines(self, now_ms: int, finished: int = 2) -> tuple[str, ...]:
        """Progress lines: every working execution, then the last ``finished`` ended."""
        done = [e for e in self.executions.values() if e.finished][-finished:]
        return tuple(e.progress(now_ms) for e in [*self.working(), *done])

    def _mark_progress(self, ex: Execution) -> None:
        if not ex.finished and ex.filled > 0 and ex.state == "working":
            ex.state = "part filled"
            self._journal(ex, f"part filled: {ex.progress(self._now())}")

    def _finish(self, ex: Execution, state: str, note: str) -> None:
        ex.state, ex.note = state, note
        self._journal(ex, f"execution {state}: {ex.progress(self._now())}")

    def _journal(self, ex: Execution, text: str) -> None:
        self.desk.note("execution", text, execution_id=ex.id, symbol=ex.symbol, who=ex.who,
                       side=ex.side, amount=ex.planned, price=ex.average, data=ex.record())

    # -- after a restart ---------------------------------------------------------------
    async def resume(self) -> list[str]:
        """Unfinished executions from the journal: resumed while their time is not up
        (market clock), else cancelled with their resting children. Lines for the log."""
        last: dict[str, dict] = {}
        for r in self.desk.journal.records(kinds=["execution"], limit=20_000):
            if r.execution_id and isinstance(r.data, dict) and "state" in r.data:
                last[r.execution_id] = r.data
        lines = []
        for exid, data in last.items():
            if data["state"] in FINISHED or exid in self.executions:
                continue
            ex = Execution.from_record(data)
            known = {c.client_order_id: c for c in ex.children}
            for jo in self.desk.journal.orders():  # the children, as reconciliation left them
                if jo.execution_id != exid:
                    continue
                index = int(jo.client_order_id[-2:])
                ex.next_index = max(ex.next_index, index + 1)
                c = known.get(jo.client_order_id)
                if c is None:
                    ex.children.append(Child(index, jo.client_order_id, jo.venue_order_id or "",
                                             jo.side, jo.amount, jo.price, jo.filled,
                                             jo.average, jo.status, jo.ts_ms))
                else:  # the journal's status is newer than the execution record's
                    c.status, c.filled, c.average = jo.status, jo.filled, jo.average
            self.executions[exid] = ex
            await self._refresh(ex)
            if ex.style == "market" or self._now() >= ex.deadline_ms:
                await self._cancel_resting(ex)
                self._finish(ex, "cancelled", "not finished before the restart")
                lines.append(f"execution {exid} cancelled: not finished before the restart")
            else:
                self._journal(ex, f"execution resumed after a restart: {ex.progress(self._now())}")
                lines.append(f"execution {exid} resumed: {ex.progress(self._now())}")
        return lines
