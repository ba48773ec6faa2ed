"""Amending a resting limit on the paper broker: what a venue checks before it
changes an order's price or amount in place (OKX ``amend-order``, Deribit ``edit``).

The amended order keeps its id and client id. ``amount`` is the new TOTAL amount,
the part already filled included (as OKX ``newSz``); it must stay above what has
filled. A new price loses time priority (the order re-queues), a smaller amount
keeps it, as on the venues. An amend that would cross the book is refused: it
re-prices a resting order, it does not take liquidity (send a new order for that).
"""

from __future__ import annotations

import math

from cockpit.model import Instrument, Order
from cockpit.paper.matching import OrderRejected, order_cost, would_cross

__all__ = ["check_amend"]

_ON_STEP = 1e-6  # a price within a millionth of a tick of a multiple is on the tick


def _on_step(x: float, step: float) -> bool:
    return step <= 0 or abs(x / step - round(x / step)) < _ON_STEP


def check_amend(inst: Instrument, order: Order, price: float | None, amount: float | None,
                best_bid: float, best_ask: float) -> tuple[float, float]:
    """The (total amount, price) ``order`` would have after the amend, or
    ``OrderRejected`` with one line naming the field and the fix."""
    sym = inst.symbol
    if order.status != "open":
        raise OrderRejected(f"order {order.id} on {sym} is {order.status}, not resting any "
                            "more: nothing to amend")
    if order.type != "limit" or order.price is None:
        raise OrderRejected(f"order {order.id} on {sym} is a {order.type} order: only a "
                            "resting limit can be amended")
    if price is None and amount is None:
        raise OrderRejected(f"amend of {order.id} on {sym}: give a new price or amount")
    new_price = order.price if price is None else price
    new_amount = order.amount if amount is None else amount
    if not (isinstance(new_price, int | float) and math.isfinite(new_price) and new_price > 0):
        raise OrderRejected(f"price {price!r} for {sym}: give a positive price")
    if not _on_step(new_price, inst.price_step):
        below = math.floor(new_price / inst.price_step) * inst.price_step
        raise OrderRejected(f"price {new_price:g} not on {sym} tick {inst.price_step:g}: use "
                            f"{below:.10g} or {below + inst.price_step:.10g}")
    if not (isinstance(new_amount, int | float) and math.isfinite(new_amount)
            and new_amount > 0):
        raise OrderRejected(f"amount {amount!r} for {sym}: must be a positive number of "
                            "contracts")
    if new_amount < inst.min_amount * (1 - 1e-9):
        raise OrderRejected(f"amount {new_amount:g} below {sym} minimum "
                            f"{max(inst.min_amount, inst.amount_step):g}: raise the amount")
    if not _on_step(new_amount, inst.amount_step):
        raise OrderRejected(f"amount {new_amount:g} not a multiple of {sym} step "
                            f"{inst.amount_step:g}: round it")
    if new_amount <= order.filled + 1e-12:
        raise OrderRejected(f"amount {new_amount:g} for {sym}: {order.filled:g} has already "
                            "filled; the new total must be larger (or cancel the order)")
    if inst.min_cost > 0 and not order.reduce_only:
        cost = order_cost(inst, new_amount, new_price)
        if cost < inst.min_cost * (1 - 1e-9):
            raise OrderRejected(f"cost {cost:g} {inst.quote} below {sym} minimum "
                                f"{inst.min_cost:g}: raise the amount")
    if price is not None and would_cross(order.side, new_price, best_bid, best_ask):
        opp = f"best ask {best_ask:g}" if order.side == "buy" else f"best bid {best_bid:g}"
        fix = "lower" if order.side == "buy" else "raise"
        raise OrderRejected(f"amend {order.side} to {new_price:g} would cross {sym} {opp}: "
                            f"{fix} the price, or send a new order to take")
    if new_price == order.price and new_amount == order.amount:
        raise OrderRejected(f"amend of {order.id} on {sym}: price and amount are unchanged")
    return float(new_amount), float(new_price)
