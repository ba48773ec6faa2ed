"""The account's own events into the journal: fills (whoever caused them),
expiry settlements, funding payments and liquidations, each exactly once.

Fills are idempotent by fill id in the journal, so a fill that arrives late —
for an order the journal thought failed, or while the cockpit was down — is
recorded once whenever it is first seen. Funding is kept by its funding time.
"""

from __future__ import annotations

from cockpit.model import Snapshot
from cockpit.utc import utc_time

utc = utc_time  # the one readable form (cockpit.utc)


def journal_account_events(journal, broker, snapshot: Snapshot,
                           seen: set[str] | None = None) -> list[tuple[str, str]]:
    """Journal what is new in the account; returns the (kind, text) lines written.
    ``seen`` (fill ids already journaled this session) spares the journal a look-up."""
    seen = set() if seen is None else seen
    acct = snapshot.account
    out: list[tuple[str, str]] = []
    if acct is None:
        return out
    open_orders = {o.id: o for o in acct.open_orders}
    ledger_orders = getattr(getattr(broker, "ledger", None), "orders", {})  # paper broker
    for f in acct.fills:
        if f.id in seen:
            continue
        seen.add(f.id)
        order = open_orders.get(f.order_id) or ledger_orders.get(f.order_id)
        cid = getattr(order, "client_order_id", "") or None
        inst = snapshot.instruments.get(f.symbol)
        expired = bool(inst and inst.is_option and inst.expiry_ms and f.ts_ms >= inst.expiry_ms)
        kind = "liquidation" if f.liquidation else "expiry" if expired else "fill"
        text = (f"{'LIQUIDATION ' if f.liquidation else 'expiry settled: ' if expired else ''}"
                f"{f.side} {f.amount:g} {f.symbol} @ {f.price:,.6g}"
                f" fee {f.fee:.6g} {f.fee_currency}")
        if journal.fill(f.ts_ms, fill_id=f.id, client_order_id=cid, symbol=f.symbol,
                        side=f.side, amount=f.amount, price=f.price, fee=f.fee, text=text):
            out.append(("fill", text))
            if order is not None and journal.order(cid) is not None:
                # the order's row follows its fills: a resting order that filled, or one
                # the journal thought failed ("rejected, then found filled")
                journal.order_update(cid, f.ts_ms, status=order.status,
                                     venue_order_id=order.id or None, filled=order.filled,
                                     average=order.average, reason="filled")
            if kind != "fill":
                journal.write(kind, f.ts_ms, text, symbol=f.symbol, client_order_id=cid,
                              side=f.side, amount=f.amount, price=f.price, who="venue")
    funding = getattr(broker, "funding_ledger", None)
    if funding is not None:
        seen = int(journal.get_meta("funding_seen_ms") or 0)
        newest = seen
        for e in funding():
            if e.funding_ms <= seen:
                continue
            verb = "paid" if e.payment > 0 else "received"
            text = (f"funding {e.symbol} at {utc(e.funding_ms)}: rate {e.rate:+.4%}, "
                    f"{verb} {abs(e.payment):.6g} {e.currency}")
            journal.write("funding", e.funding_ms, text, symbol=e.symbol, amount=e.contracts,
                          price=e.mark, who="venue",
                          data={"rate": e.rate, "payment": e.payment, "currency": e.currency})
            out.append(("funding", text))
            newest = max(newest, e.funding_ms)
        if newest > seen:
            journal.set_meta("funding_seen_ms", str(newest))
    return out
