"""Positions and open orders."""

from __future__ import annotations

from cockpit.model import Snapshot
from cockpit.model.views import (
    OrderRow,
    PositionRow,
    PositionsView,
)
from cockpit.views.common import (
    _decimals,
)

# --------------------------------------------------------------------------- positions


def positions_view(snapshot: Snapshot) -> PositionsView:
    """Open positions (entry/mark in the instrument's quote units: USD for perps,
    coin for Deribit options; PnL in USD) and open orders."""
    acct = snapshot.account
    if acct is None:
        return PositionsView(empty_reason="waiting for the first account update")
    rows = []
    # Perps and futures first, biggest first: the first row is what the ladder shows.
    def order(p):
        inst = snapshot.instruments.get(p.symbol)
        return (inst is not None and inst.is_option, -abs(p.notional_usd or 0.0), p.symbol)

    for p in sorted(acct.positions, key=order):
        if p.contracts == 0:
            continue
        inst = snapshot.instruments.get(p.symbol)
        pd, ad = _decimals(inst)
        ticker = snapshot.tickers.get(p.symbol)
        mark = ticker.mark if ticker is not None else p.mark_price
        rows.append(PositionRow(p.symbol, p.side, p.contracts, p.entry_price, mark,
                                p.unrealised_pnl_usd, p.leverage, pd, ad))
    orders = []
    for o in acct.open_orders:
        pd, ad = _decimals(snapshot.instruments.get(o.symbol))
        orders.append(OrderRow(o.id, o.symbol, o.side, o.type, o.amount, o.filled, o.price,
                               o.status, o.reduce_only, o.reason, pd, ad))
    return PositionsView(tuple(rows), tuple(orders),
                         empty_reason="" if rows else "no open positions")
