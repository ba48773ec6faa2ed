"""Instrument specs, margin tiers, funding formula, expiry calendar and strike grids."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.sim.instruments import (
    next_funding_ms,
    option_expiries,
    option_strikes,
    option_symbol,
    option_tick,
    perp_instruments,
    strike_step,
)
from cockpit.sim.perp import funding_rate
from sizing.margin import maintenance_margin

PERPS = {i.symbol: i for i in perp_instruments()}


def test_perp_specs_follow_binance_usdm():
    btc, eth = PERPS["BTC/USDT:USDT"], PERPS["ETH/USDT:USDT"]
    for inst in (btc, eth):
        assert (inst.kind, inst.quote, inst.settle, inst.linear) == ("perp", "USDT", "USDT", True)
        assert inst.contract_size == 1.0
        assert (inst.maker_fee, inst.taker_fee) == (0.0002, 0.0005)
        assert inst.funding_interval_h == 8.0
    assert (btc.amount_step, btc.price_step, btc.min_amount, btc.min_cost) == (0.001, 0.1, 0.001, 100)
    assert (eth.amount_step, eth.price_step, eth.min_amount, eth.min_cost) == (0.01, 0.01, 0.01, 20)


def test_btc_tiers_by_hand():
    # cum_i = cum_{i-1} + boundary x (mmr_i - mmr_{i-1}):
    #   50,000 x (0.005 - 0.004) = 50;  50 + 600,000 x (0.0065 - 0.005) = 950;
    #   950 + 3,000,000 x (0.01 - 0.0065) = 11,450
    tiers = PERPS["BTC/USDT:USDT"].margin_tiers
    assert tiers[0].initial_rate == pytest.approx(1 / 125) and tiers[0].maintenance_amount == 0
    assert [t.maintenance_amount for t in tiers[1:4]] == pytest.approx([50, 950, 11_450])
    # e.g. 1,000,000 USDT of BTC: 1,000,000 x 0.65 % - 950 = 5,550 USDT maintenance
    assert maintenance_margin(1_000_000, tiers) == pytest.approx(5_550)


@pytest.mark.parametrize("symbol", list(PERPS))
def test_maintenance_margin_is_continuous_across_every_tier(symbol):
    tiers = PERPS[symbol].margin_tiers
    for tier in tiers[:-1]:
        below = maintenance_margin(tier.max_notional, tiers)
        above = maintenance_margin(tier.max_notional * (1 + 1e-12), tiers)
        assert above == pytest.approx(below, rel=1e-9)
    rates = [t.maintenance_rate for t in tiers]
    assert rates == sorted(rates) and all(t.initial_rate > t.maintenance_rate for t in tiers)


@pytest.mark.parametrize(
    ("premium", "expected"),
    [
        (0.0001, 0.0001),  # P + clamp(0.01 % - P) = 0.01 %
        (0.0003, 0.0001),  # inside the +-0.05 % band: exactly the interest rate
        (-0.0004, 0.0001),
        (0.0010, 0.0005),  # 0.10 % + clamp(-0.09 %, -0.05 %) = 0.05 %
        (-0.0010, -0.0005),  # -0.10 % + 0.05 %
        (0.0200, 0.0075),  # capped at +0.75 %
        (-0.0200, -0.0075),
    ],
)
def test_funding_rate_is_binance_formula(premium, expected):
    assert funding_rate(premium) == pytest.approx(expected, abs=1e-15)


def test_next_funding_times():
    def ms(*args):
        return int(dt.datetime(*args, tzinfo=dt.UTC).timestamp() * 1000)

    assert next_funding_ms(ms(2026, 11, 23, 7, 59, 59)) == ms(2026, 11, 23, 8)
    assert next_funding_ms(ms(2026, 11, 23, 8)) == ms(2026, 11, 23, 16)
    assert next_funding_ms(ms(2026, 11, 23, 23, 0)) == ms(2026, 11, 24, 0)


def test_deribit_option_tick():
    assert float(option_tick(0.0049)) == 0.0001
    assert float(option_tick(0.005)) == 0.0005


NOW = st.integers(
    min_value=int(dt.datetime(2020, 1, 1, tzinfo=dt.UTC).timestamp() * 1000),
    max_value=int(dt.datetime(2035, 1, 1, tzinfo=dt.UTC).timestamp() * 1000),
)


@settings(max_examples=60, deadline=None)
@given(NOW)
def test_expiries_are_future_fridays_at_0800_at_least_four(now_ms):
    expiries = option_expiries(now_ms)
    assert len(expiries) >= 4 and expiries == sorted(set(expiries))
    assert expiries[0] > now_ms and expiries[0] - now_ms <= 7 * 86_400_000
    for e in expiries:
        when = dt.datetime.fromtimestamp(e / 1000, dt.UTC)
        assert (when.weekday(), when.hour, when.minute) == (calendar.FRIDAY, 8, 0)
    last = dt.datetime.fromtimestamp(expiries[-1] / 1000, dt.UTC)
    assert last.month % 3 == 0 and last.day + 7 > calendar.monthrange(last.year, last.month)[1]


@settings(max_examples=80, deadline=None)
@given(st.floats(min_value=2_000, max_value=2_000_000), st.floats(min_value=1e-4, max_value=1.0))
def test_strike_grid_has_15_positive_strikes_around_the_forward(forward, years):
    strikes = option_strikes(forward, years)
    assert len(strikes) >= 15 and strikes == sorted(set(strikes))
    assert strikes[0] > 0 and strikes[0] < forward < strikes[-1]
    step = strike_step(years, forward)
    near = [k for k in strikes if abs(k - forward) <= 6 * step]
    assert len(near) >= 12  # a dense grid near the money, whatever the price level
    assert all(abs(k / step - round(k / step)) < 1e-9 for k in strikes)


@pytest.mark.parametrize(("days", "step"), [(4, 1000), (32, 2000), (123, 5000)])
def test_deribit_like_strike_steps_at_90000(days, step):
    strikes = option_strikes(90_000.0, days / 365)
    assert strike_step(days / 365, 90_000.0) == step
    assert {k for k in strikes if abs(k - 90_000) <= 6 * step} == {
        90_000 + i * step for i in range(-6, 7)
    }
    assert all(k % 1000 == 0 for k in strikes)


def test_symbols_never_use_exponent_form():
    friday = int(dt.datetime(2026, 12, 25, 8, tzinfo=dt.UTC).timestamp() * 1000)
    assert option_symbol(friday, 100_000.0, "call") == "BTC/USD:BTC-261225-100000-C"
    assert option_symbol(friday, 2_500_000.0, "put") == "BTC/USD:BTC-261225-2500000-P"
    assert option_symbol(friday, 1_250.5, "put") == "BTC/USD:BTC-261225-1250.5-P"
