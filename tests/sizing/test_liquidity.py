"""Order-book liquidity maths: hand-computed walks and exactness properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sizing.liquidity import (
    BookWalk,
    adv_cap,
    depth_within_bps,
    max_size_within_slippage,
    walk_book,
)

ASKS = np.array([[100.0, 1.0], [101.0, 2.0], [102.0, 5.0]])
BIDS = np.array([[99.0, 1.5], [98.0, 2.0], [96.0, 4.0]])


def test_buy_walks_three_levels_hand_computed():
    # buy 4: 1 @ 100 + 2 @ 101 + 1 @ 102 = 404 -> vwap 101; (101 - 100) / 100 = 100 bps
    w = walk_book(ASKS, 4)
    assert w.filled == pytest.approx(4)
    assert w.cost == pytest.approx(404)
    assert w.vwap == pytest.approx(101)
    assert w.slippage_bps == pytest.approx(100)
    assert w.levels_used == 3
    assert not w.partial


def test_sell_slippage_is_positive_when_worse():
    # sell 3: 1.5 @ 99 + 1.5 @ 98 = 295.5 -> vwap 98.5; (99 - 98.5) / 99 = 50.505 bps, worse.
    w = walk_book(BIDS, 3)
    assert w.vwap == pytest.approx(98.5)
    assert w.cost == pytest.approx(295.5)
    assert w.slippage_bps == pytest.approx(0.5 / 99 * 1e4)
    assert w.slippage_bps > 0
    assert w.levels_used == 2


def test_inside_first_level_has_no_slippage():
    w = walk_book(ASKS, 0.4)
    assert (w.vwap, w.filled, w.slippage_bps, w.levels_used) == (100.0, 0.4, 0.0, 1)


def test_partial_fill_when_book_runs_out():
    # 8 available: 100 + 202 + 510 = 812 -> vwap 101.5
    w = walk_book(ASKS, 10)
    assert w.partial and w.filled == pytest.approx(8) and w.requested == 10
    assert w.vwap == pytest.approx(812 / 8)
    assert w.levels_used == 3


def test_walk_bad_and_empty_input():
    empty = walk_book(np.empty((0, 2)), 1)
    assert empty.filled == 0 and math.isnan(empty.vwap) and empty.partial
    assert math.isnan(walk_book(ASKS, math.nan).vwap)
    nan_book = walk_book([[math.nan, 1.0], [101, 1]], 1.5)
    assert math.isnan(nan_book.vwap)
    with pytest.raises(ValueError, match="amount"):
        walk_book(ASKS, -1)
    nothing = walk_book(ASKS, 0)
    assert (nothing.filled, nothing.slippage_bps, nothing.levels_used) == (0.0, 0.0, 0)
    with pytest.raises(ValueError, match="levels"):
        walk_book([1, 2, 3], 1)


def test_max_size_within_slippage_hand_computed():
    # budget 50 bps of 100 -> mean adverse distance 0.5. Level 0 (x=0) fits wholly (1);
    # level 1 (x=1): (0 + 1 x (A - 1)) / A <= 0.5 -> A <= 1 / 0.5 = 2.
    assert max_size_within_slippage(ASKS, 50) == pytest.approx(2.0)
    assert walk_book(ASKS, 2.0).slippage_bps == pytest.approx(50)
    # budget 150 bps -> D = 1.5; level 2 (x=2): C = 3, X = 2: (2 x 3 - 2) / (2 - 1.5) = 8,
    # capped by the book's end at 8.
    assert max_size_within_slippage(ASKS, 150) == pytest.approx(8.0)
    # budget 120 bps -> D = 1.2: (6 - 2) / 0.8 = 5
    assert max_size_within_slippage(ASKS, 120) == pytest.approx(5.0)
    assert walk_book(ASKS, 5.0).slippage_bps == pytest.approx(120)
    # zero budget: only the best level
    assert max_size_within_slippage(ASKS, 0) == pytest.approx(1.0)
    assert max_size_within_slippage(np.empty((0, 2)), 10) == 0.0
    assert math.isnan(max_size_within_slippage(ASKS, math.nan))


def _books(draw_side: str):
    """A side of the book: strictly worse prices, positive amounts."""

    @st.composite
    def side(draw):
        best = draw(st.floats(1.0, 100_000.0))
        n = draw(st.integers(1, 12))
        gaps = draw(st.lists(st.floats(1e-4, 0.02), min_size=n - 1, max_size=n - 1))
        sizes = draw(st.lists(st.floats(1e-3, 50.0), min_size=n, max_size=n))
        steps = np.concatenate(([0.0], np.cumsum(gaps)))
        sign = 1.0 if draw_side == "ask" else -1.0
        prices = best * (1 + sign * steps)
        return np.column_stack([prices, sizes])

    return side()


@settings(max_examples=150, deadline=None)
@given(book=st.one_of(_books("ask"), _books("bid")), budget=st.floats(0.0, 300.0))
def test_max_size_within_slippage_is_exact(book, budget):
    size = max_size_within_slippage(book, budget)
    total = book[:, 1].sum()
    assert 0 < size <= total * (1 + 1e-12)
    assert walk_book(book, size).slippage_bps <= budget + 1e-7
    if size < total * (1 - 1e-9):
        # one hair more breaks the budget: exact within the level, not at its boundary
        assert walk_book(book, size * (1 + 1e-6)).slippage_bps > budget


@settings(max_examples=100, deadline=None)
@given(book=st.one_of(_books("ask"), _books("bid")), frac=st.floats(0.01, 1.5))
def test_walk_conserves_amount_and_cost(book, frac):
    amount = frac * book[:, 1].sum()
    w = walk_book(book, amount)
    assert w.filled == pytest.approx(min(amount, book[:, 1].sum()), rel=1e-12)
    assert w.cost == pytest.approx(w.vwap * w.filled, rel=1e-12)
    # the VWAP lies between the best price and the worst price used
    used = book[: w.levels_used, 0]
    assert used.min() * (1 - 1e-12) <= w.vwap <= used.max() * (1 + 1e-12)
    assert w.slippage_bps >= 0


def test_depth_within_bps_hand_computed():
    # mid = (99 + 100) / 2 = 99.5; 100 bps band: bids >= 98.505 -> 1.5; asks <= 100.495 -> 1.
    assert depth_within_bps(BIDS, ASKS, 100) == pytest.approx((1.5, 1.0))
    # 300 bps: bids >= 96.515 -> 1.5 + 2; asks <= 102.485 -> 8
    assert depth_within_bps(BIDS, ASKS, 300) == pytest.approx((3.5, 8.0))
    # a level exactly on the edge counts: mid 100, 100 bps -> 99 and 101
    bids = np.array([[99.5, 1.0], [99.0, 2.0]])
    asks = np.array([[100.5, 1.0], [101.0, 3.0]])
    assert depth_within_bps(bids, asks, 100) == pytest.approx((3.0, 4.0))
    assert all(math.isnan(x) for x in depth_within_bps(np.empty((0, 2)), asks, 10))


def test_adv_cap():
    assert adv_cap(12_000, 0.05) == pytest.approx(600)
    assert math.isnan(adv_cap(math.nan, 0.05))
    with pytest.raises(ValueError, match="fraction"):
        adv_cap(100, 5)


def test_bookwalk_is_frozen():
    w = walk_book(ASKS, 1)
    assert isinstance(w, BookWalk)
    with pytest.raises(AttributeError):
        w.vwap = 1.0  # type: ignore[misc]


@settings(max_examples=60, deadline=None)
@given(bids=_books("bid"), asks=_books("ask"), narrow=st.floats(0, 100), extra=st.floats(0, 500))
def test_depth_grows_with_the_band(bids, asks, narrow, extra):
    # make the book uncrossed around a common mid
    asks = asks.copy()
    asks[:, 0] *= bids[0, 0] / asks[0, 0] * 1.001
    inner = depth_within_bps(bids, asks, narrow)
    outer = depth_within_bps(bids, asks, narrow + extra)
    assert outer[0] >= inner[0] and outer[1] >= inner[1]
    assert outer[0] <= bids[:, 1].sum() * (1 + 1e-12)
    assert outer[1] <= asks[:, 1].sum() * (1 + 1e-12)
