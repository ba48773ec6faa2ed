"""Matching for the paper broker: precision rounding, book walking, limit crossing.

What a trade print fills of a resting limit (its place in the queue) is
``cockpit.paper.queue``.

Pure functions over plain numbers and ``(N, 2)`` ``[price, amount]`` arrays, best
level first (``cockpit.model.Book``). A market buy walks the asks, a sell the bids.
"""

from __future__ import annotations

import math

import numpy as np

from cockpit.market_checks import book_side_problem
from cockpit.model import Book, Instrument, Order, OrderRequest, Ticker

__all__ = [
    "OrderRejected",
    "check_order",
    "book_crossings",
    "crossing_levels",
    "touch_crossings",
    "round_amount_down",
    "round_price",
    "valid_book_side",
    "walk_levels",
    "would_cross",
]

class OrderRejected(ValueError):
    """An order the broker refuses; the one-line message names the field and the fix."""


# Tolerance, in steps, for float noise: 0.3 / 0.1 is 2.9999999999999996 steps.
_STEP_EPS = 1e-9


def round_amount_down(amount: float, step: float) -> float:
    """``amount`` rounded DOWN to a multiple of ``step`` (ccxt's TRUNCATE for amounts)."""
    if step <= 0:
        return amount
    return round(math.floor(amount / step + _STEP_EPS) * step, 12)


def round_price(price: float, step: float) -> float:
    """``price`` rounded to the NEAREST multiple of ``step`` (ccxt's ROUND for prices)."""
    if step <= 0:
        return price
    return round(round(price / step) * step, 12)


def walk_levels(levels: np.ndarray, amount: float, limit: float | None = None,
                side: str = "buy") -> list[tuple[float, float]]:
    """Take liquidity level by level until ``amount`` is filled or the levels run out.

    Returns ``[(price, amount), ...]`` per level touched. With ``limit``, stops at
    the first level beyond it (above for a buy, below for a sell).
    """
    fills: list[tuple[float, float]] = []
    left = amount
    for price, size in np.asarray(levels, dtype=float):
        if left <= 1e-12:
            break
        if limit is not None and (price > limit if side == "buy" else price < limit):
            break
        if size <= 0:
            continue
        take = min(left, float(size))
        fills.append((float(price), take))
        left -= take
    return fills


def would_cross(side: str, price: float, best_bid: float, best_ask: float) -> bool:
    """True when a limit at ``price`` would trade at once against the opposite best price."""
    if side == "buy":
        return not math.isnan(best_ask) and price >= best_ask
    return not math.isnan(best_bid) and price <= best_bid


def crossing_levels(side: str, price: float, book_side: np.ndarray) -> float:
    """Contracts on the opposite ``book_side`` at prices that cross a resting limit at ``price``."""
    levels = np.asarray(book_side, dtype=float)
    if levels.size == 0:
        return 0.0
    mask = levels[:, 0] <= price if side == "buy" else levels[:, 0] >= price
    return float(levels[mask, 1].sum())


def valid_book_side(levels: np.ndarray) -> str:
    """Empty string when ``levels`` is a usable side (``cockpit.market_checks``)."""
    return book_side_problem(levels)


def order_cost(inst: Instrument, amount: float, price: float) -> float:
    """What ``min_cost`` is compared with: quote currency for perps/futures
    (``amount x cs x price``; inverse: ``amount x cs`` USD), settle coin for options."""
    if not inst.linear and not inst.is_option:
        return amount * inst.contract_size
    return amount * inst.contract_size * price


def check_order(
    inst: Instrument, req: OrderRequest, position: float, best_bid: float, best_ask: float
) -> tuple[float, float | None]:
    """Validate and round an order; returns ``(amount, limit price or None)``.

    Amount rounded DOWN to ``amount_step`` (never more than asked), price to the
    nearest ``price_step``. Reduce-only is clipped to the open position and refused
    when there is nothing on the other side to reduce; it is exempt from min cost.
    Raises ``OrderRejected`` naming the field and the fix.
    """
    sym = inst.symbol
    if req.side not in ("buy", "sell"):
        raise OrderRejected(f"side {req.side!r} for {sym}: use 'buy' or 'sell'")
    if req.type not in ("market", "limit"):
        raise OrderRejected(f"type {req.type!r} for {sym}: use 'market' or 'limit'")
    if not (isinstance(req.amount, int | float) and math.isfinite(req.amount) and req.amount > 0):
        raise OrderRejected(f"amount {req.amount!r} for {sym}: must be a positive number of contracts")
    price: float | None = None
    if req.type == "limit":
        if req.price is None or not math.isfinite(req.price) or req.price <= 0:
            raise OrderRejected(f"price {req.price!r} for {sym} limit: give a positive price")
        price = round_price(req.price, inst.price_step)
        if price <= 0:
            raise OrderRejected(
                f"price {req.price:g} rounds to 0 at {sym} tick {inst.price_step:g}: raise it")
    elif req.post_only:
        raise OrderRejected(f"post_only on a market order for {sym}: use a limit order")
    amount = round_amount_down(req.amount, inst.amount_step)
    if req.reduce_only:
        reduces = (position > 0 and req.side == "sell") or (position < 0 and req.side == "buy")
        if not reduces:
            held = "flat" if position == 0 else ("long" if position > 0 else "short")
            raise OrderRejected(
                f"reduce_only {req.side} on a {held} {sym} position would not reduce it: "
                "drop reduce_only or trade the other side")
        amount = min(amount, round_amount_down(abs(position), inst.amount_step) or abs(position))
    if amount <= 0 or amount < inst.min_amount * (1 - 1e-9):
        raise OrderRejected(
            f"amount {req.amount:g} below {sym} minimum {max(inst.min_amount, inst.amount_step):g}"
            ": raise the amount")
    ref = price if price is not None else (best_ask if req.side == "buy" else best_bid)
    if ref is None or not math.isfinite(ref):
        raise OrderRejected(f"no {'ask' if req.side == 'buy' else 'bid'} for {sym} yet: "
                            "wait for market data or send a limit order")
    if inst.min_cost > 0 and not req.reduce_only:
        cost = order_cost(inst, amount, ref)
        if cost < inst.min_cost * (1 - 1e-9):
            raise OrderRejected(
                f"cost {cost:g} {inst.quote} below {sym} minimum {inst.min_cost:g}: "
                "raise the amount")
    if req.post_only and would_cross(req.side, price, best_bid, best_ask):
        opp = f"best ask {best_ask:g}" if req.side == "buy" else f"best bid {best_bid:g}"
        fix = "lower" if req.side == "buy" else "raise"
        raise OrderRejected(
            f"post_only {req.side} at {price:g} would cross {sym} {opp}: {fix} the price")
    return amount, price


def book_crossings(resting: list[Order], book: Book) -> list[tuple[Order, float]]:
    """How much of each resting limit (best price first) a new ``book`` fills: the
    opposite side's size at or through its price, shared out in price-time priority."""
    used = {"buy": 0.0, "sell": 0.0}
    out = []
    for order in resting:
        opposite = book.asks if order.side == "buy" else book.bids
        free = crossing_levels(order.side, order.price, opposite) - used[order.side]
        take = min(order.remaining, free)
        if take > 1e-12:
            used[order.side] += take
            out.append((order, take))
    return out


def touch_crossings(resting: list[Order], t: Ticker) -> list[tuple[Order, float]]:
    """Without a book: a touch (best ask for a buy) at or through a limit fills it whole."""
    out = []
    for order in resting:
        top = t.ask if order.side == "buy" else t.bid
        if math.isfinite(top) and top > 0 and (
                top <= order.price if order.side == "buy" else top >= order.price):
            out.append((order, order.remaining))
    return out
