"""Order-book liquidity: what a market order costs, how much fits a slippage budget.

Conventions
-----------
* A book side is an (N, 2) array of ``[price, amount]`` rows, **best first**:
  asks ascending (what a buyer walks), bids descending (what a seller walks).
* Amounts are in contracts (or coin), prices in the quote currency.
* ``slippage_bps`` is the VWAP against the best level's price in basis points,
  positive = worse for the taker, for buys and sells alike:
  ``|vwap - best| / best x 10,000``. Walking a side best first can only move
  the VWAP away from the best price, so the absolute value carries the sign.
* NaN in gives NaN out; impossible input raises a one-line ``ValueError``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BookWalk",
    "adv_cap",
    "depth_within_bps",
    "max_size_within_slippage",
    "walk_book",
]

BPS = 10_000.0


@dataclass(frozen=True, slots=True)
class BookWalk:
    """The result of sweeping one side of the book with a market order.

    vwap : average fill price (quote currency; NaN when nothing fills).
    filled : amount filled; less than ``requested`` when the book runs out.
    slippage_bps : VWAP vs best price, positive = worse for the taker.
    levels_used : levels touched, the last one possibly partly.
    cost : quote currency paid (buy) or received (sell), sum of price x amount.
    requested : the amount asked for.
    """

    vwap: float
    filled: float
    slippage_bps: float
    levels_used: int
    cost: float
    requested: float = math.nan

    @property
    def partial(self) -> bool:
        """True when the book ran out before the requested amount filled."""
        return self.filled < self.requested


def _side(levels, name: str) -> np.ndarray:
    arr = np.asarray(levels, dtype=float)
    if arr.size == 0:
        return np.empty((0, 2))
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{name}: shape {arr.shape}; pass an (N, 2) array of [price, amount]")
    return arr


def walk_book(levels, amount: float, *, reference_price: float | None = None,
              side: str = "") -> BookWalk:
    """Fill ``amount`` against one side of the book, best level first.

    Parameters
    ----------
    levels : (N, 2) ``[price, amount]`` rows, best first (asks for a buy,
        bids for a sell).
    amount : amount to fill (>= 0), same unit as the level amounts.
    reference_price, side : measure slippage against this price (the mid, or
        an option's mark) instead of the best level: ``s x (vwap - ref) / ref``
        in bps with s = +1 for ``side="buy"``, -1 for ``"sell"``, so half the
        spread counts; negative when the fill beats the reference.

    Notes
    -----
    ``vwap = sum(p_i x take_i) / sum(take_i)`` with ``take_i`` the part of
    level i consumed. Example: asks 100 x 1, 101 x 2, 102 x 5 and a buy of 4
    takes 1 + 2 + 1: vwap = (100 + 202 + 102) / 4 = 101, slippage 100 bps.
    """
    book = _side(levels, "levels")
    want = float(amount)
    if math.isnan(want):
        return BookWalk(math.nan, math.nan, math.nan, 0, math.nan, want)
    if want < 0:
        raise ValueError(f"amount: {amount!r} must be >= 0 (the side picks buy or sell)")
    if want == 0:  # no order, no slippage
        return BookWalk(math.nan, 0.0, 0.0, 0, 0.0, 0.0)
    if len(book) == 0:
        return BookWalk(math.nan, 0.0, math.nan, 0, 0.0, want)
    prices, sizes = book[:, 0], np.maximum(book[:, 1], 0.0)
    before = np.concatenate(([0.0], np.cumsum(sizes)[:-1]))
    take = np.clip(want - before, 0.0, sizes)
    used = take > 0
    if np.isnan(prices[used]).any() or np.isnan(sizes).any():
        return BookWalk(math.nan, math.nan, math.nan, int(used.sum()), math.nan, want)
    filled = float(take.sum())
    if filled == 0:
        return BookWalk(math.nan, 0.0, math.nan, 0, 0.0, want)
    cost = float(take[used] @ prices[used])
    vwap = cost / filled
    best = float(prices[0])
    slippage = abs(vwap - best) / best * BPS
    if reference_price is not None:
        if side not in ("buy", "sell"):
            raise ValueError(f"side: {side!r}; pass 'buy' or 'sell' with reference_price")
        sign = 1.0 if side == "buy" else -1.0
        slippage = sign * (vwap - reference_price) / reference_price * BPS
    return BookWalk(vwap, filled, slippage, int(used.sum()), cost, want)


def max_size_within_slippage(levels, budget_bps: float) -> float:
    """Largest amount whose VWAP slippage stays within ``budget_bps``, exact inside a level.

    Returns the amount (same unit as the level amounts); the whole side when
    all of it fits; 0 for an empty book; NaN for NaN input.

    Notes
    -----
    With x_i = |p_i - p_0| the adverse distance of level i, the VWAP distance
    of amount A is the amount-weighted mean of x, and the budget is
    D = budget_bps x p_0 / 10,000. Inside level k, with C and X the amount and
    the sum of amount x distance of the levels before it::

        (X + x_k (A - C)) / A <= D   <=>   A <= (x_k C - X) / (x_k - D)   (x_k > D)

    so the answer is exact, not rounded to a level boundary.
    """
    book = _side(levels, "levels")
    budget = float(budget_bps)
    if math.isnan(budget) or np.isnan(book).any():
        return math.nan
    if budget < 0:
        raise ValueError(f"budget_bps: {budget_bps!r} must be >= 0")
    if len(book) == 0:
        return 0.0
    prices, sizes = book[:, 0], np.maximum(book[:, 1], 0.0)
    best = float(prices[0])
    allowed = budget * best / BPS
    taken = 0.0  # C: amount of the levels before
    distance_sum = 0.0  # X: sum of amount x adverse distance
    for price, size in zip(prices, sizes, strict=True):
        x = abs(float(price) - best)
        if x > allowed:
            limit = (x * taken - distance_sum) / (x - allowed)
            if limit < taken + size:
                return float(max(limit, taken))
        taken += float(size)
        distance_sum += float(size) * x
    return taken


def depth_within_bps(bids, asks, bps: float) -> tuple[float, float]:
    """Amounts resting within ``bps`` basis points of the mid on each side.

    Returns ``(bid_depth, ask_depth)``: the sum of bid amounts priced at or
    above mid x (1 - bps/10,000) and of ask amounts at or below
    mid x (1 + bps/10,000). NaN for both when either side is empty (no mid).
    """
    b, a = _side(bids, "bids"), _side(asks, "asks")
    width = float(bps)
    if math.isnan(width):
        return math.nan, math.nan
    if width < 0:
        raise ValueError(f"bps: {bps!r} must be >= 0")
    if len(b) == 0 or len(a) == 0:
        return math.nan, math.nan
    mid = 0.5 * (b[0, 0] + a[0, 0])
    if math.isnan(mid):
        return math.nan, math.nan
    # a level exactly on the band edge counts despite float rounding
    tol = 1e-12 * mid
    low, high = mid * (1 - width / BPS) - tol, mid * (1 + width / BPS) + tol
    bid_depth = float(np.maximum(b[b[:, 0] >= low, 1], 0.0).sum())
    ask_depth = float(np.maximum(a[a[:, 0] <= high, 1], 0.0).sum())
    return bid_depth, ask_depth


def adv_cap(average_daily_volume: float, fraction: float) -> float:
    """Largest order or position as a fraction of average daily volume (same unit as ADV).

    A common participation limit: 0.05 means at most 5 % of a day's volume.
    NaN ADV gives NaN (unknown volume is not zero volume).
    """
    adv, f = float(average_daily_volume), float(fraction)
    if math.isnan(adv) or math.isnan(f):
        return math.nan
    if adv < 0:
        raise ValueError(f"average_daily_volume: {average_daily_volume!r} must be >= 0")
    if not 0 <= f <= 1:
        raise ValueError(f"fraction: {fraction!r} must be within [0, 1] (0.05 = 5 % of ADV)")
    return adv * f
