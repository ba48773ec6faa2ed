"""The engine's suggestions as rows the trader approves or rejects."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace

from cockpit.model import Snapshot
from cockpit.model.views import (
    SuggestionRow,
    SuggestionsView,
)
from cockpit.views.common import (
    _decimals,
    _finite,
    _num,
    _opt,
)

# --------------------------------------------------------------------------- suggestions


def suggestions_view(
    suggestions: Iterable, snapshot: Snapshot, now_ms: int | None = None,
    max_age_s: float = 30.0, max_move_bps: float = 50.0,
) -> SuggestionsView:
    """Rows for the engine's suggestions (``cockpit.suggestions.Suggestion``:
    id, decision, planned orders, created time and reference mark). Staleness
    uses ``cockpit.suggestions.stale_reason`` at data time ``now_ms``
    (default the snapshot's own clock)."""
    from cockpit.suggestions import stale_reason

    snap = snapshot if now_ms in (None, snapshot.ts_ms) else replace(snapshot, ts_ms=now_ms)
    rows = []
    for s in suggestions:
        d = s.decision
        inst = snapshot.instruments.get(s.symbol)
        _pd, ad = _decimals(inst)
        why = stale_reason(s, snap, max_age_s, max_move_bps)
        order = float(getattr(d, "order", d.target - d.current))
        inputs = getattr(d, "inputs", {}) or {}
        slip = inputs.get("expected_slippage_bps", inputs.get("slippage_bps"))
        if _finite(_num(getattr(s, "slippage_bps", None))):  # the desk's: against mid
            slip = s.slippage_bps
        usd = getattr(s, "slippage_usd", None)
        after = getattr(d, "after", None)
        rows.append(SuggestionRow(
            id=s.id, symbol=s.symbol, current=d.current, target=d.target,
            orders=orders_text(s.orders, order, ad), binding=d.binding_constraint,
            slippage_bps=float(slip) if _finite(_num(slip)) else None,
            margin_ratio_after=_opt(getattr(after, "margin_ratio", None)),
            liq_sigmas_after=_opt(getattr(after, "liquidation_sigmas", None)),
            reason=d.reason, stale=why is not None, stale_reason=why or "",
            reduces_risk=bool(d.reduces_risk), order_side="buy" if order > 0 else "sell",
            order_amount=abs(order), amount_decimals=ad, style=getattr(s, "style", ""),
            style_why=getattr(s, "style_why", ""),
            slippage_usd=float(usd) if _finite(_num(usd)) else None,
        ))
    return SuggestionsView(tuple(rows), empty_reason="" if rows else
                           "no resize proposed: every position is inside its limits")




def _price(p: float) -> str:
    """Cents for prices of 1 and more; an option's 0.0235 keeps its digits."""
    return f"{p:,.2f}" if abs(p) >= 1 else f"{p:.6g}"


def orders_text(orders: Iterable, net: float, amount_decimals: int = 3) -> str:
    """"sell 0.400 market RO" or "3× buy limit 0.100 @ 59,950–60,000" (planned orders)."""
    orders = list(orders or ())
    if not orders:
        return f"{'buy' if net > 0 else 'sell'} {abs(net):.{amount_decimals}f}"
    first = orders[0]
    flags = " RO" if all(getattr(o, "reduce_only", False) for o in orders) else ""
    total = math.fsum(o.amount for o in orders)
    if len(orders) == 1:
        price = "" if first.price is None else f" @ {_price(first.price)}"
        return f"{first.side} {total:.{amount_decimals}f} {first.type}{price}{flags}"
    prices = [o.price for o in orders if o.price is not None]
    span = f" @ {_price(min(prices))}–{_price(max(prices))}" if prices else ""
    return f"{len(orders)}× {first.side} {first.type} {total:.{amount_decimals}f}{span}{flags}"
