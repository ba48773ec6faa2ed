"""Simulated order books and trade prints: shape, grid, and liquidity that follows the regime."""

from __future__ import annotations

import numpy as np
import pytest

from cockpit.model import Trade
from cockpit.sim.instruments import option_tick
from cockpit.venues.sim import SimMarket

from .conftest import START_MS

PERPS = ("BTC/USDT:USDT", "ETH/USDT:USDT")


def on_grid(values: np.ndarray, step) -> bool:
    q = np.asarray(values) / step
    return bool(np.all(np.abs(q - np.round(q)) < 1e-6))


def check_perp_book(market: SimMarket, symbol: str) -> None:
    inst = next(i for i in market.instruments() if i.symbol == symbol)
    book = market.book(symbol)
    assert len(book.bids) >= 25 and len(book.asks) >= 25
    assert np.all(np.diff(book.bids[:, 0]) < 0)  # best first, strictly
    assert np.all(np.diff(book.asks[:, 0]) > 0)
    assert book.best_bid < book.best_ask  # never crossed, never locked
    assert on_grid(book.bids[:, 0], inst.price_step) and on_grid(book.asks[:, 0], inst.price_step)
    amounts = np.concatenate((book.bids[:, 1], book.asks[:, 1]))
    assert np.all(amounts >= inst.min_amount) and on_grid(amounts, inst.amount_step)
    assert book.best_bid <= market.ticker(symbol).mark <= book.best_ask
    assert not book.bids.flags.writeable


@pytest.mark.parametrize("vol", [0.2, 0.6, 3.0])
def test_perp_books_sorted_uncrossed_on_grid_25_levels(vol):
    market = SimMarket(seed=4, start_ms=START_MS)
    market.set_vol_regime(vol)
    for _ in range(5):
        market.step()
        for symbol in PERPS:
            check_perp_book(market, symbol)


def spread_and_depth(market: SimMarket, vol: float, symbol: str, samples: int = 20):
    spreads, depths = [], []
    for _ in range(samples):
        market.set_vol_regime(vol)  # republishes every book at this variance state
        book = market.book(symbol)
        spreads.append((book.best_ask - book.best_bid) / book.mid * 1e4)
        depths.append(book.bids[:, 1].sum() + book.asks[:, 1].sum())
    return np.mean(spreads), np.mean(depths)


@pytest.mark.parametrize("symbol", PERPS)
def test_spread_widens_and_depth_thins_as_vol_rises(symbol):
    market = SimMarket(seed=5, start_ms=START_MS)
    calm_spread, calm_depth = spread_and_depth(market, 0.3, symbol)
    storm_spread, storm_depth = spread_and_depth(market, 1.5, symbol)
    # model: half-spread ~ vol^2 (floored at a tick), sizes ~ 1/vol: 5x vol -> 5x thinner
    assert storm_spread > 3 * calm_spread
    assert storm_depth < calm_depth / 3


def test_option_spreads_widen_with_vol():
    market = SimMarket(seed=5, start_ms=START_MS)
    symbol = min(
        (i for i in market.instruments() if i.is_option and i.is_call),
        key=lambda i: (i.expiry_ms, abs(i.strike - market.index_price())),
    ).symbol
    market.set_vol_regime(0.3)
    calm = market.ticker(symbol)
    market.set_vol_regime(1.5)
    storm = market.ticker(symbol)
    assert (storm.ask - storm.bid) > (calm.ask - calm.bid)


def test_option_books_on_deribit_tick_with_bid_mark_ask_ordered():
    market = SimMarket(seed=6, start_ms=START_MS)
    options = [i for i in market.instruments() if i.is_option]
    for inst in options:
        book = market.book(inst.symbol)
        ticker = market.ticker(inst.symbol)
        assert len(book.asks) == 5  # five levels an ask side
        assert len(book.bids) <= 5
        if ticker.mark >= 0.001:  # cheap wings may have fewer bids than five
            assert len(book.bids) == 5
        for side in (book.bids, book.asks):
            prices = side[:, 0]
            assert on_grid(prices, option_tick(prices))
            assert np.all(prices >= 0.0001)
            assert np.all(side[:, 1] >= inst.min_amount) and on_grid(side[:, 1], 0.1)
        assert np.all(np.diff(book.bids[:, 0]) < 0) and np.all(np.diff(book.asks[:, 0]) > 0)
        assert ticker.bid <= ticker.mark <= ticker.ask
        if len(book.bids):
            assert book.best_bid == ticker.bid < book.best_ask == ticker.ask
        else:
            assert ticker.bid == 0.0  # Deribit shows a zero best bid when there is none


def test_trade_prints_hit_the_touch_or_sweep_through_it_with_valid_sides_and_amounts():
    market = SimMarket(seed=7, start_ms=START_MS)
    trades: list[Trade] = []
    at_touch = 0
    for _ in range(200):
        for u in market.step():
            if isinstance(u, Trade):
                trades.append(u)
                # a taker takes from the latest book: asks for a buyer, bids for a seller
                book = market.book(u.symbol)
                side = book.asks if u.side == "buy" else book.bids
                [level] = side[side[:, 0] == u.price]  # a price the book shows
                assert 0 < u.amount <= level[1] + 1e-9  # never more than that level holds
                at_touch += u.price == side[0, 0]
    assert len(trades) > 20  # ~4 + 3 perp prints a second over 20 simulated seconds
    assert at_touch >= 0.9 * len(trades)  # sweeps past the touch are the rare big takers
    assert {t.side for t in trades} == {"buy", "sell"}
    assert any("/USD:BTC-" in t.symbol for t in trades)  # the option chain trades too
    assert len({t.id for t in trades}) == len(trades)
