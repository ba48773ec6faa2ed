"""Reconciliation at start: the journal's unfinished orders against the broker.

For every order the journal left unfinished (intent written, sent, resting, or of
unknown fate) the broker is asked, by client id, what became of it; its fills
since then are journaled (idempotent by fill id); orders of ours resting at the
broker that the journal never saw are adopted; other orders are left alone and
named. A broker that cannot be asked leaves the desk unreconciled: auto-execute
stays off and the state at most REDUCING (a missing report never means flat).
"""

from __future__ import annotations

from collections import Counter

from cockpit.execution import execution_of, venue_error_line
from cockpit.model import Order

DAY_MS = 86_400_000


def _line(o, verb: str) -> str:
    price = f" @ {o.price:g}" if o.price is not None else ""
    return f"{verb}: {o.side} {o.amount:g} {o.symbol} {o.type}{price} ({o.client_order_id})"


async def _lookup(broker, cid: str, symbol: str) -> Order | None | str:
    """The broker's order, None (it has none), or "unknown" (cannot look up)."""
    try:
        return await broker.fetch_order_by_client_id(cid, symbol)
    except NotImplementedError:
        return "unknown"


async def reconcile(journal, broker, now_ms: int) -> tuple[list[str], bool]:
    """Returns (lines for the trader, whether the broker answered)."""
    unfinished = journal.orders(unfinished_only=True)
    since = min((o.ts_ms for o in unfinished), default=now_ms - DAY_MS) - 60_000
    try:
        resting = await broker.fetch_open_orders()
        fills = await broker.fetch_my_trades(since)
        positions = await broker.fetch_positions()
        looked: dict[str, Order | None | str] = {}
        for jo in unfinished:
            if not any(o.client_order_id == jo.client_order_id for o in resting):
                looked[jo.client_order_id] = await _lookup(broker, jo.client_order_id, jo.symbol)
    except Exception as exc:
        return ([f"cannot ask the broker ({venue_error_line(exc)}): auto-execute stays OFF and "
                 "trading at most REDUCING until it answers; retrying"], False)
    lines: list[str] = []
    counts: Counter[str] = Counter()
    by_cid = {o.client_order_id: o for o in resting if o.client_order_id}
    known = {o.client_order_id for o in journal.orders()}
    cid_of = {o.id: o.client_order_id for o in resting}
    for jo in unfinished:
        cid = jo.client_order_id
        o = by_cid.get(cid) or looked.get(cid)
        if isinstance(o, Order):
            cid_of[o.id] = cid
            journal.order_update(cid, now_ms, status=o.status, venue_order_id=o.id or None,
                                 filled=o.filled, average=o.average, reason="reconciled")
            verb = {"open": "resting, kept (k cancels it)", "closed": "filled while down",
                    "canceled": "cancelled while down"}.get(o.status, o.status)
            if jo.status == "intent" and o.status != "open":
                verb = f"sent before the stop, {o.status}"
            counts[o.status] += 1
            lines.append(_line(jo, verb) + (f", filled {o.filled:g}" if o.filled else ""))
        elif o == "unknown":
            journal.order_update(cid, now_ms, status="unknown",
                                 reason="the broker cannot look orders up by client id")
            counts["unknown"] += 1
            lines.append(_line(jo, "fate unknown (the broker cannot look it up): check the venue"))
        else:
            verb = "never sent" if jo.status == "intent" else "not at the broker"
            journal.order_update(cid, now_ms, status="rejected",
                                 reason=f"reconciled: {verb}, nothing filled")
            counts["not placed"] += 1
            lines.append(_line(jo, verb))
    for o in resting:
        if o.client_order_id in known:
            continue
        if execution_of(o.client_order_id):
            journal.order_update(o.client_order_id, now_ms, status=o.status,
                                 venue_order_id=o.id or None, filled=o.filled,
                                 average=o.average, symbol=o.symbol, side=o.side, type=o.type,
                                 amount=o.amount, price=o.price, reduce_only=o.reduce_only,
                                 execution_id=execution_of(o.client_order_id),
                                 reason="reconciled: ours, but the journal never saw it")
            counts["adopted"] += 1
            lines.append(_line(o, "ours but not in the journal, adopted"))
        else:
            counts["foreign"] += 1
            lines.append(_line(o, "not placed by the cockpit, left alone"))
    ledger = getattr(getattr(broker, "ledger", None), "orders", {})
    new_fills = 0
    for f in fills:
        cid = cid_of.get(f.order_id) or getattr(ledger.get(f.order_id), "client_order_id", "")
        text = f"{f.side} {f.amount:g} {f.symbol} @ {f.price:,.6g} (seen at reconciliation)"
        if journal.fill(f.ts_ms, fill_id=f.id, client_order_id=cid or None, symbol=f.symbol,
                        side=f.side, amount=f.amount, price=f.price, fee=f.fee, text=text):
            new_fills += 1
    held = ", ".join(f"{p.symbol} {p.contracts:+g}" for p in positions if p.contracts) or "flat"
    summary = (f"reconciled: {len(unfinished)} unfinished order(s) in the journal, "
               f"{len(resting)} resting at the broker, {new_fills} fill(s) not journaled before"
               + (f" ({', '.join(f'{n} {k}' for k, n in sorted(counts.items()))})" if counts
                  else "") + f"; positions: {held}")
    return [*lines, summary], True
