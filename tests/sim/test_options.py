"""The simulated option chain: listing, symbols, surface shape, and pricing checked independently."""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from collections import defaultdict

import pytest

from cockpit.sim.instruments import option_expiries
from cockpit.venues.sim import SimMarket

from .conftest import START_MS

SYMBOL = re.compile(r"^BTC/USD:BTC-(\d{6})-(\d+)-([CP])$")
YEAR_MS = 365 * 86_400_000


def black76_call_put(f: float, k: float, t: float, vol: float) -> tuple[float, float]:
    """Black (1976) undiscounted call and put, written out with math.erf
    (independent of sizing.greeks): C = F N(d1) - K N(d2), P = K N(-d2) - F N(-d1)."""
    n = lambda x: 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))  # noqa: E731
    d1 = (math.log(f / k) + 0.5 * vol * vol * t) / (vol * math.sqrt(t))
    d2 = d1 - vol * math.sqrt(t)
    return f * n(d1) - k * n(d2), k * n(-d2) - f * n(-d1)


def chain(market: SimMarket):
    by_expiry = defaultdict(lambda: defaultdict(set))
    for inst in market.instruments():
        if inst.is_option:
            by_expiry[inst.expiry_ms][inst.strike].add(inst.option_type)
    return by_expiry


def test_chain_has_4_expiries_x_15_strikes_calls_and_puts(market):
    expiries = chain(market)
    assert len(expiries) >= 4
    for strikes in expiries.values():
        assert len(strikes) >= 15
        assert all(types == {"call", "put"} for types in strikes.values())


def test_symbols_follow_ccxt_deribit_form_and_match_the_fields(market):
    for inst in (i for i in market.instruments() if i.is_option):
        m = SYMBOL.match(inst.symbol)
        assert m, inst.symbol
        expiry = dt.datetime.fromtimestamp(inst.expiry_ms / 1000, dt.UTC)
        assert m.group(1) == expiry.strftime("%y%m%d")
        assert int(m.group(2)) == inst.strike
        assert m.group(3) == ("C" if inst.option_type == "call" else "P")
        assert (expiry.weekday(), expiry.hour, expiry.minute) == (calendar.FRIDAY, 8, 0)
        assert inst.strike % 1000 == 0
        assert (inst.base, inst.quote, inst.settle, inst.underlying) == ("BTC", "USD", "BTC", "BTC")
        assert inst.linear is False and inst.contract_size == 1.0
        assert (inst.amount_step, inst.min_amount, inst.price_step) == (0.1, 0.1, 0.0005)
        assert inst.maker_fee == inst.taker_fee == 0.0003
        assert inst.venue == "sim" and inst.kind == "option"


def test_expiries_for_a_known_date():
    # Mon 2026-11-23 07:20 UTC: Fridays Nov 27 (also the November month-end) and
    # Dec 4; month-ends Nov 27 and Dec 25; quarter-ends Dec 25 and Mar 26 2027.
    got = [dt.datetime.fromtimestamp(e / 1000, dt.UTC).date() for e in option_expiries(START_MS)]
    assert got == [dt.date(2026, 11, 27), dt.date(2026, 12, 4), dt.date(2026, 12, 25),
                   dt.date(2027, 3, 26)]


def test_an_expiry_at_08_00_is_not_listed_from_08_00_on():
    friday_8am = int(dt.datetime(2026, 11, 27, 8, tzinfo=dt.UTC).timestamp() * 1000)
    assert all(e > friday_8am for e in option_expiries(friday_8am))


def test_put_call_parity_in_coin(market):
    # Inverse options (premium in BTC = USD premium / F), no rates:
    # C - P = (F - K) / F for every strike and expiry.
    tickers = {i.symbol: market.ticker(i.symbol) for i in market.instruments() if i.is_option}
    checked = 0
    for symbol, call in tickers.items():
        if not symbol.endswith("-C"):
            continue
        put = tickers[symbol[:-1] + "P"]
        strike = float(symbol.split("-")[2])
        f = call.underlying_price
        assert put.underlying_price == f  # the whole chain is quoted at start
        assert call.mark - put.mark == pytest.approx((f - strike) / f, abs=1e-12)
        checked += 1
    assert checked >= 60


def test_marks_reprice_with_an_independent_black76_at_mark_iv(market):
    now = market.now_ms()
    for inst in (i for i in market.instruments() if i.is_option):
        t = market.ticker(inst.symbol)
        call, put = black76_call_put(t.underlying_price, inst.strike,
                                     (inst.expiry_ms - now) / YEAR_MS, t.mark_iv)
        usd = call if inst.is_call else put
        assert t.mark == pytest.approx(usd / t.underlying_price, rel=1e-9, abs=1e-14)
        assert t.greeks is None  # the cockpit computes its own


def atm_iv(market: SimMarket, expiry_ms: int) -> float:
    f = market.index_price()
    calls = [i for i in market.instruments()
             if i.is_option and i.is_call and i.expiry_ms == expiry_ms]
    return market.ticker(min(calls, key=lambda i: abs(i.strike - f)).symbol).mark_iv


def test_surface_has_put_skew_and_a_smile(market):
    f = market.index_price()
    for expiry in chain(market):
        ivs = {i.strike: market.ticker(i.symbol).mark_iv for i in market.instruments()
               if i.is_option and i.is_call and i.expiry_ms == expiry}
        strikes = sorted(ivs)
        low, high = strikes[0], strikes[-1]
        atm = min(strikes, key=lambda k: abs(k - f))
        assert ivs[low] > ivs[high]  # puts richer than calls the same distance out
        assert ivs[low] > ivs[atm] and ivs[high] > 0.9 * ivs[atm]


def test_atm_iv_follows_the_regime_with_a_premium():
    market = SimMarket(seed=2, start_ms=START_MS)
    nearest = min(chain(market))
    t = (nearest - market.now_ms()) / YEAR_MS
    long_run = market.expected_vol_annual()
    for vol in (0.35, 1.2):
        market.set_vol_regime(vol)
        iv = atm_iv(market, nearest)
        # short-dated ATM IV sits between the current and long-run vol, times ~1.05:
        # the nearest strike is within ~0.5 % of F, so skew moves it little
        assert min(vol, long_run) * 1.0 < iv < max(vol, long_run) * 1.1, (vol, iv, t)
    calm_iv = (market.set_vol_regime(0.35), atm_iv(market, nearest))[1]
    storm_iv = (market.set_vol_regime(1.2), atm_iv(market, nearest))[1]
    assert storm_iv > 1.8 * calm_iv
    far = max(chain(market))
    assert atm_iv(market, far) < storm_iv  # inverted term structure in a storm
