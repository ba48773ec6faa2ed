"""The demo account seed: a mixed book the sizing engine has work to do on."""

from __future__ import annotations

import pytest

from cockpit.demo import DEMO_BALANCES, demo_positions
from cockpit.sim.instruments import is_month_end_expiry, option_tick
from cockpit.venues.sim import SimMarket

from .conftest import START_MS

DAY_MS = 86_400_000


@pytest.fixture(params=[7, 21])
def seeded(request):
    market = SimMarket(seed=request.param, start_ms=START_MS)
    listed = {i.symbol: i for i in market.instruments()}
    return market, listed, demo_positions(market)


def test_balances():
    assert set(DEMO_BALANCES) == {"USDT", "BTC"}
    assert all(v > 0 for v in DEMO_BALANCES.values())


def test_book_holds_btc_long_eth_short_a_short_strangle_and_a_long_call(seeded):
    market, listed, positions = seeded
    assert len(positions) == 5
    by_symbol = {s: (size, entry) for s, size, entry in positions}
    assert by_symbol["BTC/USDT:USDT"][0] > 0
    assert by_symbol["ETH/USDT:USDT"][0] < 0
    options = [(listed[s], size) for s, (size, _) in by_symbol.items() if listed[s].is_option]
    short_put = [i for i, n in options if n < 0 and i.option_type == "put"]
    short_call = [i for i, n in options if n < 0 and i.option_type == "call"]
    long_call = [i for i, n in options if n > 0 and i.option_type == "call"]
    assert len(short_put) == len(short_call) == len(long_call) == 1
    put, call = short_put[0], short_call[0]
    index = market.index_price()
    assert put.strike < index < call.strike  # both legs out of the money: a strangle
    assert put.expiry_ms == call.expiry_ms
    assert is_month_end_expiry(put.expiry_ms)
    assert put.expiry_ms - market.now_ms() >= 7 * DAY_MS
    assert long_call[0].strike > index


def test_sizes_and_entries_respect_the_venue_rules(seeded):
    market, listed, positions = seeded
    for symbol, size, entry in positions:
        inst = listed[symbol]
        steps = abs(size) / inst.amount_step
        assert abs(steps - round(steps)) < 1e-9 and abs(size) >= inst.min_amount
        mark = market.ticker(symbol).mark
        if inst.is_option:
            assert entry == pytest.approx(mark, abs=float(option_tick(mark)))
        else:
            assert abs(size) * entry >= inst.min_cost
            assert entry == pytest.approx(mark, rel=0.15)  # a day's move at most
            ticks = entry / inst.price_step
            assert abs(ticks - round(ticks)) < 1e-6


def test_btc_perp_is_sized_above_the_default_vol_target(seeded):
    # equity = 150,000 USDT + 1.5 BTC x index (~285,000 USD at 90,000); the BTC
    # long (~375,000 USD) alone runs a portfolio vol of notional / equity x the
    # market's expected 58 % vol ~ 0.76, well above the 0.50 default target.
    market, _, positions = seeded
    index = market.index_price()
    equity = DEMO_BALANCES["USDT"] + DEMO_BALANCES["BTC"] * index
    size = next(s for sym, s, _ in positions if sym == "BTC/USDT:USDT")
    position_vol = size * market.ticker("BTC/USDT:USDT").mark / equity * 0.583
    assert position_vol > 1.3 * 0.50
