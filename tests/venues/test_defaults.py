"""The default-symbol choice as properties over random chains, and the --symbols rule."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.venues.defaults import (
    BAND_PCT,
    EXPIRIES,
    MIN_LIFE_MS,
    STRIKES_PER_EXPIRY,
    choose_defaults,
    symbols_flag_problem,
    ticker_price,
    with_symbols_flag,
)

DAY = 86_400_000
NOW = 1_796_369_400_000  # 2026-12-04 07:30 UTC


def _perp(base: str, settle: str) -> tuple[str, dict]:
    quote = "USD" if settle == base else settle
    return f"{base}/{quote}:{settle}", {"swap": True, "option": False, "active": True,
                                        "base": base, "settle": settle}


def _option(base, expiry, strike, kind, active=True):
    symbol = f"{base}/USD:{base}-{expiry}-{strike:g}-{kind}"
    return symbol, {"swap": False, "option": True, "active": active, "base": base,
                    "settle": base, "expiry": expiry, "strike": float(strike),
                    "optionType": "call" if kind == "C" else "put"}


chains = st.lists(
    st.tuples(st.integers(-3, 40).map(lambda d: NOW + d * DAY // 2),  # expiry, some past
              st.integers(50, 150).map(lambda k: k * 1_000),  # strike, USD
              st.sampled_from("CP")),
    min_size=0, max_size=120)


@settings(max_examples=150, deadline=None)
@given(chain=chains, price=st.floats(60_000, 140_000),
       inactive=st.lists(st.integers(0, 119), max_size=5))
def test_chosen_options_are_live_near_the_money_and_few(chain, price, inactive):
    markets = dict([_perp("BTC", "BTC"), _perp("ETH", "ETH"), _perp("BTC", "USDC")])
    for i, (expiry, strike, kind) in enumerate(chain):
        s, m = _option("BTC", expiry, strike, kind, active=i not in inactive)
        markets[s] = m
    chosen = choose_defaults("deribit", markets, {"BTC": price}, NOW)
    assert chosen[:2] == ["BTC/USD:BTC", "ETH/USD:ETH"]  # inverse first on Deribit
    options = [markets[s] for s in chosen[2:]]
    assert all(m["option"] for m in options)
    live = [m for m in markets.values() if m["option"] and m["active"]
            and m["expiry"] > NOW + MIN_LIFE_MS]
    nearest = sorted({m["expiry"] for m in live})[:EXPIRIES]
    for m in options:
        assert m["active"] and m["expiry"] in nearest  # never expired, never inactive
        assert abs(m["strike"] / price - 1) <= BAND_PCT / 100
    for expiry in nearest:
        strikes = {m["strike"] for m in options if m["expiry"] == expiry}
        assert len(strikes) <= STRIKES_PER_EXPIRY
        in_band = {m["strike"] for m in live if m["expiry"] == expiry
                   and abs(m["strike"] / price - 1) <= BAND_PCT / 100}
        assert len(strikes) == min(STRIKES_PER_EXPIRY, len(in_band))
        if strikes:  # nothing left out lies nearer the money than what was taken
            worst = max(abs(k - price) for k in strikes)
            assert all(abs(k - price) >= worst for k in in_band - strikes)
        for m in live:  # a chosen strike comes with every type listed at it
            if m["expiry"] == expiry and m["strike"] in strikes:
                assert m in options
    assert len(chosen) == len(set(chosen)) <= 2 + 2 * EXPIRIES * STRIKES_PER_EXPIRY * 2


def test_no_price_no_options_and_binance_none_at_all():
    markets = dict([_perp("BTC", "USDT"), _perp("ETH", "USDT"),
                    _option("BTC", NOW + DAY, 100_000, "C")])
    assert choose_defaults("okx", markets, {}, NOW) == ["BTC/USDT:USDT", "ETH/USDT:USDT"]
    assert choose_defaults("okx", markets, {"BTC": math.nan}, NOW) == [
        "BTC/USDT:USDT", "ETH/USDT:USDT"]
    assert choose_defaults("binanceusdm", markets, {"BTC": 100_000.0}, NOW) == [
        "BTC/USDT:USDT", "ETH/USDT:USDT"]


def test_nothing_matching_chooses_nothing():
    markets = dict([_perp("SOL", "USDT")])
    assert choose_defaults("bybit", markets, {}, NOW) == []


@pytest.mark.parametrize(("configured", "flag", "expected"), [
    ((), None, ()),  # nothing: the defaults
    (("A/B",), None, ("A/B",)),  # config replaces the defaults
    (("A/B",), "C/D,E/F", ("C/D", "E/F")),  # the flag replaces the config
    ((), "+C/D", ("defaults", "C/D")),  # + adds to the defaults
    (("A/B",), "+C/D, A/B", ("A/B", "C/D")),  # + adds to the config, once each
    ((), "defaults,C/D", ("defaults", "C/D")),
])
def test_symbols_flag_rule(configured, flag, expected):
    assert with_symbols_flag(configured, flag) == expected


@pytest.mark.parametrize("text", ["", " , ", "+", "BTCUSDT", "BTC/USDT:USDT,ETH USDT"])
def test_bad_symbols_flag_is_named(text):
    problem = symbols_flag_problem(text)
    assert problem is not None and problem.startswith("--symbols") and "\n" not in problem


def test_good_symbols_flag_passes():
    assert symbols_flag_problem("+BTC/USD:BTC-261225-100000-C,defaults") is None


def test_ticker_price_falls_back_from_last_to_mid_to_mark():
    assert ticker_price({"last": 101.0, "bid": 1.0, "ask": 3.0}) == 101.0
    assert ticker_price({"last": None, "bid": 100.0, "ask": 102.0}) == 101.0
    assert ticker_price({"markPrice": 99.0}) == 99.0
    assert math.isnan(ticker_price({}))
