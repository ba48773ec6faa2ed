"""sizing.policy: worked examples computed by hand, and the properties a trader relies on.

Every expected number below is derived in the test's comments from the rule's
formula, not read back from the code.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from sizing.greeks import black76
from sizing.margin import MarginTier
from sizing.orders import plan_orders
from sizing.policy import InstrumentState, PolicySettings, PortfolioState, decide

# Loose limits so that, unless a test says otherwise, only the rule under test binds.
LOOSE = dict(var_limit=1.0, var_method="normal", max_leverage=100.0, margin_ratio_cap=1.0,
             liquidation_buffer_sigmas=0.5, no_trade_band=0.0, delta_band_usd=math.inf)


def book(mid: float, tick: float, amount: float, levels: int = 25):
    bids = np.array([[mid - tick * (i + 1), amount] for i in range(levels)])
    asks = np.array([[mid + tick * (i + 1), amount] for i in range(levels)])
    return bids, asks


def perp(symbol="BTC/USDT:USDT", contracts=1.0, price=60_000.0, vol=0.78, **kw):
    base = symbol.split("/")[0]
    fields = dict(underlying=base, venue="binanceusdm", amount_step=0.001, price_step=0.1,
                  min_amount=0.001, forecast_vol=vol, forecast_model="garch (student-t)")
    fields.update(kw)
    underlying_price = fields.pop("underlying_price", price)
    return InstrumentState(symbol, "perp", contracts, price, underlying_price, **fields)


def call(contracts=-5.0, strike=70_000.0, spot=60_000.0, iv=0.6, years=0.1, **kw):
    fields = dict(underlying="BTC", venue="deribit", linear=False, amount_step=0.1,
                  price_step=0.0005, min_amount=0.1, forecast_vol=0.6, implied_vol=iv,
                  strike=strike, years=years, is_call=True)
    fields.update(kw)
    usd = float(black76(spot, strike, years, iv, True).price)
    return InstrumentState(f"BTC/USD:BTC-261225-{strike:.0f}-C", "option", contracts,
                           usd / spot, spot, **fields)


def one(inst, equity=60_000.0, peak=None, mm=0.0, **settings_kw):
    s = PolicySettings(**{**LOOSE, **settings_kw})
    state = PortfolioState(equity, peak if peak is not None else equity, mm, (inst,))
    (d,) = decide(state, s)
    return d


# ----------------------------------------------------------------- worked examples


def test_vol_target_cuts_btc_perp_at_78pct_forecast():
    # 1 BTC at 60,000 on 60,000 equity is 1x; its USD vol is 78 % of equity.
    # Target 50 %: |n| = 0.50 * 60,000 / (0.78 * 60,000) = 0.641025... BTC.
    # A cut rounds the reduction UP to the 0.001 step: 1 - 0.359 = 0.641.
    d = one(perp(contracts=1.0, vol=0.78), target_vol=0.50)
    assert d.binding_constraint == "vol_target"
    assert d.caps["vol_target"] == pytest.approx(0.5 / 0.78)
    assert d.target == pytest.approx(0.641)
    assert d.order == pytest.approx(-0.359)
    assert d.kind == "resize" and d.reduces_risk and not d.forced
    assert d.reason == "cut BTC/USDT:USDT 1.000 → 0.641: GARCH vol 78% vs 50% target"
    assert d.inputs["forecast_vol"] == 0.78


def test_vol_target_keeps_a_short_short():
    # Same numbers on a 2 BTC short: |n| = 0.641, side kept.
    d = one(perp(contracts=-2.0, vol=0.78), target_vol=0.50)
    assert d.target == pytest.approx(-0.641)
    assert d.order > 0


def test_vol_target_adds_up_to_the_slippage_budget():
    # Vol 25 %: cap = 0.5 * 60,000 / (0.25 * 60,000) = 2.0 BTC. The ask side has
    # 0.5 BTC per 5 USD level from 60,005: a 20 bps budget on VWAP allows far
    # more than 1 BTC, so the add stops at the vol target: 1.0 -> 2.0.
    bids, asks = book(60_000.0, 5.0, 0.5)
    d = one(perp(contracts=1.0, vol=0.25, bids=bids, asks=asks), target_vol=0.50)
    assert d.target == pytest.approx(2.0)
    assert d.binding_constraint == "vol_target"
    assert not d.reduces_risk
    assert d.reason.startswith("add BTC/USDT:USDT 1.000 → 2.000")


def test_slippage_budget_caps_an_add():
    # Asks every 60 USD with 0.1 BTC each from 60,060. Slippage is the VWAP
    # against the best ask; 20 bps of 60,060 = 120.12 USD of VWAP drift.
    # After 5 full levels the drift is (0+60+120+180+240) x 0.1 / 0.5 = 120 USD;
    # q more at 60,360 gives (60 + 300 q) / (0.5 + q) <= 120.12 -> q <= 0.000334.
    # So the add is 0.500334 BTC, rounded down to the step: 1.0 -> 1.500.
    # (The vol target, 0.5 x 60,000 / (0.1 x 60,000) = 5 BTC, does not bind.)
    bids = np.array([[59_940.0 - 60 * i, 0.1] for i in range(25)])
    asks = np.array([[60_060.0 + 60 * i, 0.1] for i in range(25)])
    d = one(perp(contracts=1.0, vol=0.1, bids=bids, asks=asks), target_vol=0.5)
    assert d.binding_constraint == "slippage"
    assert d.caps["slippage"] == pytest.approx(1.0 + 0.5 + 0.06 / 179.88, rel=1e-6)
    assert d.target == pytest.approx(1.5)
    assert d.inputs["expected_slippage_bps"] <= 20.0


def test_no_trade_band_holds_small_changes():
    # Vol 52 %: target 0.5/0.52 = 0.9615 BTC, a 3.8 % change < 10 % band -> hold.
    d = one(perp(contracts=1.0, vol=0.52), target_vol=0.50, no_trade_band=0.10)
    assert d.kind == "hold" and d.target == 1.0 and d.order == 0.0
    assert d.binding_constraint == "no_trade_band"
    assert "no-trade band" in d.reason
    # Without the band the same inputs cut: 1 - ceil(0.03846 / 0.001) * 0.001 = 0.961.
    d = one(perp(contracts=1.0, vol=0.52), target_vol=0.50, no_trade_band=0.0)
    assert d.target == pytest.approx(0.961)


def test_kelly_caps_leverage():
    # Continuous Kelly: mu / sigma^2 = 0.10 / 0.25^2 = 1.6x; half Kelly 0.8x of
    # 60,000 equity = 48,000 USD = 0.8 BTC at 60,000. Vol target would allow 2 BTC.
    d = one(perp(contracts=1.0, vol=0.25), drift_annual=0.10, kelly_fraction=0.5)
    assert d.caps["kelly"] == pytest.approx(0.8)
    assert d.binding_constraint == "kelly"
    assert d.target == pytest.approx(0.8)
    # Drift against a short: Kelly says do not hold that side, cap 0.
    d = one(perp(contracts=-1.0, vol=0.25), drift_annual=0.10)
    assert d.caps["kelly"] == 0.0 and d.target == 0.0


def test_var_cap_delta_normal():
    # 1-day 99 % VaR of 1 BTC at 60,000 and 60 % vol: z * sigma_d * 60,000 with
    # z = 2.3263, sigma_d = 0.6 / sqrt(365) = 0.031405 -> 4,383.4 USD per BTC.
    # Limit 5 % of 60,000 = 3,000 USD -> cap 3,000 / 4,383.4 = 0.6844 BTC.
    per_btc = norm.ppf(0.99) * 0.6 / math.sqrt(365) * 60_000
    d = one(perp(contracts=1.0, vol=0.6), var_limit=0.05, target_vol=5.0)
    assert per_btc == pytest.approx(4383.4, abs=0.5)
    assert d.caps["var"] == pytest.approx(3000 / per_btc)
    assert d.binding_constraint == "var"
    assert d.after.var_usd == pytest.approx(d.target * per_btc)
    assert d.after.var_usd <= 3000


def test_drawdown_tier_scales_risk():
    # Equity 93,000 vs peak 100,000: 7 % drawdown, tier 5 % -> scale 0.5.
    # Vol target: 0.5 * 93,000 / (0.5 * 60,000) = 1.55 BTC; halved: 0.775 BTC.
    d = one(perp(contracts=1.0, vol=0.5), equity=93_000.0, peak=100_000.0)
    assert d.caps["drawdown"] == pytest.approx(0.775)
    assert d.binding_constraint == "drawdown"
    assert d.target == pytest.approx(0.775)
    assert d.forced and d.reduces_risk
    assert "drawdown 7.0%" in d.reason


def test_drawdown_reduce_only_tier_never_adds():
    # 16 % below peak: the 15 % tier is reduce-only. Vol 20 % would allow
    # 0.5 * 84,000 / (0.2 * 60,000) = 3.5 BTC, but the position may not grow.
    bids, asks = book(60_000.0, 5.0, 5.0)
    d = one(perp(contracts=1.0, vol=0.2, bids=bids, asks=asks), equity=84_000.0, peak=100_000.0)
    assert d.target == 1.0 and d.kind == "hold"
    assert d.binding_constraint == "drawdown"


def test_stale_data_breaker_is_reduce_only_and_names_itself():
    bids, asks = book(60_000.0, 5.0, 5.0)
    inst = perp(contracts=1.0, vol=0.2, bids=bids, asks=asks, data_age_s=12.5)
    d = one(inst, stale_after_s=10.0)
    assert d.target == 1.0 and d.kind == "hold"
    assert d.breakers == ("stale data 12.5s > 10s",)
    assert "stale data 12.5s" in d.reason
    # ...and it still lets a cut through: at 78 % vol the vol target cuts.
    d = one(perp(contracts=1.0, vol=0.78, data_age_s=12.5), stale_after_s=10.0)
    assert d.target == pytest.approx(0.641)
    assert d.reason.endswith("(reduce-only: stale data 12.5s > 10s)")


def test_no_timestamp_is_stale():
    bids, asks = book(60_000.0, 5.0, 5.0)
    d = one(perp(contracts=1.0, vol=0.2, bids=bids, asks=asks, data_age_s=math.inf))
    assert d.target == 1.0 and d.breakers == ("stale data: no timestamp",)


def test_vol_spike_breaker():
    # Calm hourly returns at 40 % vol, then the last 24 hours at 5x that vol:
    # the short/long ratio is far above the 2.0 threshold.
    rng = np.random.default_rng(3)
    calm = rng.normal(0, 0.4 / math.sqrt(8760), 1000)
    storm = rng.normal(0, 2.0 / math.sqrt(8760), 24)
    bids, asks = book(60_000.0, 5.0, 5.0)
    inst = perp(contracts=1.0, vol=0.2, bids=bids, asks=asks,
                log_returns=np.concatenate([calm, storm]))
    d = one(inst)
    assert d.target == 1.0
    assert len(d.breakers) == 1 and d.breakers[0].startswith("vol spike")


def test_margin_cap_cut_is_forced_and_comes_first():
    # Equity 10,000; BTC 3.5 @ 60,000 with MM 2.5 % -> 5,250; ETH -30 @ 2,000
    # with MM 0.05 % -> 30. Account MM 5,280 > cap 0.5 x 10,000 = 5,000.
    # Each position gives back pro rata: BTC may carry 5,250 x 5,000 / 5,280
    # = 4,971.59 USD of MM -> 4,971.59 / (0.025 x 60,000) = 3.31439 BTC,
    # a cut rounded up to 3.314. ETH is cut by its vol target instead:
    # 3.0 x 10,000 / (3.0 x 2,000) = 5 ETH, not forced.
    btc = perp(contracts=3.5, vol=0.1, margin_tiers=(MarginTier(1e12, 0.05, 0.025),))
    eth = perp("ETH/USDT:USDT", contracts=-30.0, price=2_000.0, vol=3.0, amount_step=0.01,
               margin_tiers=(MarginTier(1e12, 0.001, 0.0005),))
    s = PolicySettings(**{**LOOSE, "target_vol": 3.0, "margin_ratio_cap": 0.5,
                          "max_leverage": 30.0, "liquidation_buffer_sigmas": 1.0})
    first, second = decide(PortfolioState(10_000.0, 10_000.0, 5_280.0, (eth, btc)), s)
    assert first.symbol == "BTC/USDT:USDT"
    assert first.binding_constraint == "margin_ratio" and first.forced
    assert first.caps["margin_ratio"] == pytest.approx(5250 * 5000 / 5280 / 1500, rel=1e-9)
    assert first.target == pytest.approx(3.314)
    assert first.after.margin_ratio < 0.528
    assert second.symbol == "ETH/USDT:USDT"
    assert second.binding_constraint == "vol_target" and not second.forced
    assert second.target == pytest.approx(-5.0)


def test_margin_cap_cuts_through_the_no_trade_band():
    # Over the cap by 2 %: the cut (to 0.98 of size) is inside a 10 % band but
    # the margin cap is a hard limit. MM = 2.5 % of 60,000 x n; account MM is
    # 1,530 for n=1 (1,500) plus 30 elsewhere; cap 0.5 x 3,000 = 1,500 ->
    # budget 1,500 x 1,500 / 1,530 = 1,470.6 -> 0.98039 BTC -> cut to 0.980.
    inst = perp(contracts=1.0, vol=0.1, margin_tiers=(MarginTier(1e12, 0.05, 0.025),))
    d = one(inst, equity=3_000.0, mm=1_530.0, margin_ratio_cap=0.5, no_trade_band=0.10,
            target_vol=5.0, liquidation_buffer_sigmas=0.1)
    assert d.binding_constraint == "margin_ratio"
    assert d.target == pytest.approx(0.980)


def test_liquidation_buffer():
    # Cross margin, 10,000 equity, no other positions, MM 0.5 % of notional.
    # A long liquidates after a fall of (10,000 - 300 n) / (60,000 n). With vol
    # 73 % (sigma_d = 0.73 / sqrt(365) = 0.0382099) and a 6-sigma buffer it must
    # survive a fall of 1 - exp(-0.2292597) = 0.2048780:
    # 10,000 - 300 n >= 0.2048780 * 60,000 n  ->  n <= 10,000 / 12,592.68 = 0.794112 BTC.
    # (Vol target 5.0 x 10,000 / (0.73 x 60,000) = 1.14 BTC does not bind.)
    need = -math.expm1(-6 * 0.73 / math.sqrt(365))
    expected = 10_000 / (300 + need * 60_000)
    d = one(perp(contracts=2.0, vol=0.73, margin_tiers=(MarginTier(1e12, 0.01, 0.005),)),
            equity=10_000.0, mm=600.0, liquidation_buffer_sigmas=6.0, target_vol=5.0)
    assert expected == pytest.approx(0.794112, abs=1e-6)
    assert d.caps["liquidation_buffer"] == pytest.approx(expected, rel=1e-9)
    assert d.binding_constraint == "liquidation_buffer" and d.forced
    assert d.target == pytest.approx(0.795 - 0.001)  # 2 - ceil(1.205888 / 0.001) steps
    assert d.after.liquidation_sigmas >= 6.0


def test_liquidation_buffer_across_tiers_matches_a_root_search():
    # Binance-style tiers with maintenance amounts (MM continuous at 50k and 600k).
    # The largest n with 100,000 - MM(60,000 n) >= need x 60,000 n, found here by
    # brentq on the condition itself (an independent route to the same number).
    from scipy.optimize import brentq

    from sizing.margin import maintenance_margin

    tiers = (MarginTier(5e4, 0.008, 0.004, 0.0), MarginTier(6e5, 0.01, 0.005, 50.0),
             MarginTier(3e6, 0.02, 0.01, 3050.0))
    need = -math.expm1(-3 * 0.6 / math.sqrt(365))

    def room(n):
        return 100_000 - maintenance_margin(60_000 * n, tiers) - need * 60_000 * n

    expected = brentq(room, 1e-9, 1e3, xtol=1e-12)
    assert 60_000 * expected > 6e5  # the answer sits in the third tier
    d = one(perp(contracts=20.0, vol=0.6, margin_tiers=tiers), equity=100_000.0,
            mm=maintenance_margin(1.2e6, tiers), liquidation_buffer_sigmas=3.0, target_vol=5.0)
    assert d.caps["liquidation_buffer"] == pytest.approx(expected, rel=1e-9)


def coin_call_book_delta(strike: float, iv: float, years: float = 0.1, s: float = 60_000.0):
    """Deribit's delta_total of one coin-settled call, N(d1) - C/S (Black-76, zero rate),
    in coin; written from the formulas, not from sizing."""
    d1 = (math.log(s / strike) + 0.5 * iv * iv * years) / (iv * math.sqrt(years))
    d2 = d1 - iv * math.sqrt(years)
    price = s * norm.cdf(d1) - strike * norm.cdf(d2)
    return norm.cdf(d1) - price / s


def test_delta_hedge_in_a_perp_on_another_venue_brings_option_delta_into_band():
    # Short 5 Deribit calls, K=70,000, S=60,000, 60 % IV, 0.1y. Coin-settled, so the
    # book counts Deribit's delta_total: (N(d1) - C/S) per call, C the Black-76 price
    # (zero rate); in USD -5 x (N(d1) - C/S) x 60,000, checked independently here.
    opt = call(contracts=-5.0)
    d1 = (math.log(60_000 / 70_000) + 0.5 * 0.36 * 0.1) / (0.6 * math.sqrt(0.1))
    d2 = d1 - 0.6 * math.sqrt(0.1)
    price = 60_000 * norm.cdf(d1) - 70_000 * norm.cdf(d2)
    option_delta = -5 * (norm.cdf(d1) - price / 60_000) * 60_000
    assert option_delta < -25_000
    hedge_perp = perp(contracts=0.0, vol=0.5)  # flat BTC perp on binanceusdm
    s = PolicySettings(**{**LOOSE, "delta_band_usd": 25_000.0})
    decisions = decide(PortfolioState(500_000.0, 500_000.0, 0.0, (opt, hedge_perp)), s)
    (h,) = [d for d in decisions if d.kind == "hedge"]
    assert h.symbol == "BTC/USDT:USDT" and h.binding_constraint == "delta_band"
    assert h.order > 0 and h.reduces_risk
    # buy back to delta zero, to the nearest 0.001 BTC step (half a step = 30 USD)
    assert h.target == pytest.approx(round(-option_delta / 60_000, 3))
    after = option_delta + h.target * 60_000
    assert abs(after) <= 30.0 + 1e-6
    assert h.inputs["hedge_delta_after_usd"] == pytest.approx(after)
    assert decisions[0] is h  # hedges before the option's hold


def test_delta_hedge_prefers_the_perp_it_reduces():
    # Short calls need a buy. A long perp would grow; a short perp shrinks: pick the short.
    # Both are directional (the long is larger than the options' delta plus the band)
    # and both sit at their vol target: 0.5 x 120,000 / (0.5 x 60,000) = 2 BTC.
    opt = call(contracts=-5.0)
    option_delta = -5 * coin_call_book_delta(70_000.0, 0.6) * 60_000  # coin-settled
    long_perp = perp(contracts=2.0, vol=0.5, venue="binanceusdm")
    short_perp = perp("BTC/USDT:USDT-BYBIT", contracts=-2.0, vol=0.5, venue="bybit")
    s = PolicySettings(**{**LOOSE, "delta_band_usd": 25_000.0, "target_vol": 0.5})
    decisions = decide(PortfolioState(120_000.0, 120_000.0, 0.0,
                                      (opt, long_perp, short_perp)), s)
    (h,) = [d for d in decisions if d.kind == "hedge"]
    assert h.symbol == "BTC/USDT:USDT-BYBIT" and h.reduces_risk
    # -2 + (option delta back to zero in 0.001 steps)
    assert h.target == pytest.approx(-2.0 + round(-option_delta / 60_000, 3))
    assert [d.kind for d in decisions if d.symbol == "BTC/USDT:USDT"] == ["hold"]


def test_options_shrink_as_implied_vol_expands_past_the_vega_limit():
    # Vega of one 70k call at 0.1y: S * phi(d1) * sqrt(T) / 100 per vol point.
    def vega_usd(iv):
        d1 = (math.log(60_000 / 70_000) + 0.5 * iv * iv * 0.1) / (iv * math.sqrt(0.1))
        return 60_000 * norm.pdf(d1) * math.sqrt(0.1) / 100

    limit = 5 * vega_usd(0.5)  # five contracts sit exactly on the limit at 50 % IV
    targets = []
    for iv in (0.5, 0.8, 1.2):
        d = one(call(contracts=-5.0, iv=iv), equity=1e6, vega_limit_usd=limit,
                vega_reference_iv=0.5, gamma_limit_usd=1e9)
        targets.append(d.target)
        if iv > 0.5:
            # vega counted at iv/0.5 x its size: cap = 5 x limit / (5 x vega x iv/0.5)
            assert d.caps["vega"] == pytest.approx(limit / (vega_usd(iv) * iv / 0.5), rel=1e-6)
            assert d.binding_constraint == "vega"
    assert targets[0] == -5.0
    assert -5.0 < targets[1] < 0 and targets[1] < targets[2] <= 0


def test_nan_mark_holds_and_names_the_field():
    d = one(perp(contracts=1.0, price=math.nan))
    assert d.kind == "hold" and d.order == 0.0 and d.target == 1.0
    assert "mark_price" in d.reason


def test_nan_in_returns_holds():
    r = np.full(100, 0.001)
    r[50] = math.nan
    d = one(perp(contracts=1.0, log_returns=r))
    assert d.kind == "hold" and "log_returns" in d.reason


def test_nan_equity_holds_everything():
    s = PolicySettings(**LOOSE)
    for d in decide(PortfolioState(math.nan, 1e5, 0.0, (perp(), perp("ETH/USDT:USDT"))), s):
        assert d.kind == "hold" and "equity_usd" in d.reason


def test_flat_perp_is_never_opened_without_a_hedge():
    bids, asks = book(60_000.0, 5.0, 5.0)
    d = one(perp(contracts=0.0, vol=0.2, bids=bids, asks=asks))
    assert d.kind == "hold" and d.target == 0.0 and d.binding_constraint == "flat"


@pytest.mark.parametrize("field,value", [
    ("target_vol", 0.0), ("kelly_fraction", 1.5), ("var_method", "monte-carlo"),
    ("no_trade_band", 1.0), ("stale_after_s", math.nan), ("drawdown_tiers", ((0.1, 0.5), (0.05, 0.2))),
])
def test_bad_settings_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        PolicySettings(**{field: value})


# ----------------------------------------------------------------- properties

PROPS = settings(max_examples=40, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])
vols = st.floats(0.05, 3.0)


@PROPS
@given(cur=st.floats(-5, 5).filter(lambda x: abs(x) > 0.01), v1=vols, v2=vols,
       equity=st.floats(5e3, 1e6), method=st.sampled_from(["normal", "historical"]),
       band=st.sampled_from([0.0, 0.1]))
def test_higher_forecast_vol_never_raises_a_target(cur, v1, v2, equity, method, band):
    lo, hi = sorted((v1, v2))
    rets = np.random.default_rng(0).normal(0, 0.6 / math.sqrt(8760), 24 * 60)
    bids, asks = book(60_000.0, 5.0, 2.0)
    s = PolicySettings(var_method=method, no_trade_band=band)
    cur = round(cur, 3)
    targets = []
    for v in (lo, hi):
        inst = perp(contracts=cur, vol=v, bids=bids, asks=asks, log_returns=rets,
                    margin_tiers=(MarginTier(1e12, 0.01, 0.005),))
        (d,) = decide(PortfolioState(equity, equity, 300.0 * abs(cur), (inst,)), s)
        targets.append(d.target)
    assert abs(targets[1]) <= abs(targets[0]) + 1e-12
    assert all(t * cur >= 0 for t in targets)  # never flips


@PROPS
@given(perp_cur=st.floats(-3, 3), opt_cur=st.floats(-20, 20), vol=vols,
       iv=st.floats(0.2, 2.0), age=st.floats(10.01, 1e4), equity=st.floats(1e4, 1e6),
       band=st.floats(1e3, 1e5))
def test_a_tripped_breaker_never_increases_a_position(perp_cur, opt_cur, vol, iv, age,
                                                      equity, band):
    bids, asks = book(60_000.0, 5.0, 5.0)
    insts = (
        perp(contracts=round(perp_cur, 3), vol=vol, bids=bids, asks=asks, data_age_s=age),
        call(contracts=round(opt_cur, 1), iv=iv, data_age_s=age),
    )
    s = PolicySettings(stale_after_s=10.0, delta_band_usd=band, var_method="normal")
    for d in decide(PortfolioState(equity, equity, 0.0, insts), s):
        assert abs(d.target) <= abs(d.current) + 1e-12
        assert d.target * d.current >= 0


NUMERIC_FIELDS = ["contracts", "mark_price", "underlying_price", "forecast_vol",
                  "data_age_s", "contract_size", "log_returns", "asks", "implied_vol", "years"]


@PROPS
@given(field=st.sampled_from(NUMERIC_FIELDS), bad=st.sampled_from([math.nan, math.inf]),
       cur=st.floats(-5, 5))
def test_nan_in_never_gives_an_order_out(field, bad, cur):
    assume(not (field == "data_age_s" and bad == math.inf))  # = no timestamp: a breaker
    bids, asks = book(60_000.0, 5.0, 5.0)
    rets = np.full(48, 0.001)
    if field in ("implied_vol", "years"):
        inst = dataclasses.replace(call(contracts=round(cur, 1)), **{field: bad})
    else:
        value = {"log_returns": np.where(np.arange(48) == 7, bad, rets),
                 "asks": np.where(asks == asks[3, 0], bad, asks)}.get(field, bad)
        kw = dict(bids=bids, asks=asks, log_returns=rets)
        kw[field if field not in ("contracts", "mark_price") else "_"] = value
        kw.pop("_", None)
        base = dict(contracts=round(cur, 3), price=60_000.0)
        if field == "contracts":
            base["contracts"] = value
        if field == "mark_price":
            base["price"] = value
        inst = perp(**base, **kw)
    s = PolicySettings(var_method="normal")
    (d,) = decide(PortfolioState(1e5, 1e5, 0.0, (inst,)), s)
    assert d.kind == "hold"
    assert d.order == 0.0
    assert plan_orders(d, inst) == ()


@PROPS
@given(opt_cur=st.floats(-30, 30), strike=st.floats(40_000, 90_000), iv=st.floats(0.2, 1.5),
       perp_cur=st.floats(-3, 3), band=st.floats(1e3, 1e5))
def test_hedges_bring_the_book_delta_to_zero_and_then_hold(opt_cur, strike, iv, perp_cur,
                                                           band):
    # The coin-settled call's book delta (Deribit delta_total): (N(d1) - C/S) x S.
    opt = call(contracts=round(opt_cur, 1), strike=strike, iv=iv)
    option_delta = opt.contracts * coin_call_book_delta(strike, iv) * 60_000
    flat = perp(contracts=0.0, vol=0.5)
    s = PolicySettings(**{**LOOSE, "delta_band_usd": band, "target_vol": 5.0})
    decisions = {d.symbol: d for d in decide(PortfolioState(1e7, 1e7, 0.0, (opt, flat)), s)}
    p = decisions[flat.symbol]
    option_delta *= decisions[opt.symbol].target / opt.contracts if opt.contracts else 0.0
    if abs(option_delta) > band:
        assert p.kind == "hedge" and p.reduces_risk
        assert abs(option_delta + p.target * 60_000) <= 30.0 + 1e-6  # half a 0.001 step
    else:
        assert p.kind == "hold" and p.target == 0.0

    # Approve everything, run again on the same market: nothing left to do (no churn),
    # whether the perp started flat or held a directional position of its own.
    for start in (0.0, round(perp_cur, 3)):
        insts = (opt, perp(contracts=start, vol=0.5))
        first = {d.symbol: d.target for d in decide(PortfolioState(1e7, 1e7, 0.0, insts), s)}
        applied = tuple(dataclasses.replace(i, contracts=first[i.symbol]) for i in insts)
        again = decide(PortfolioState(1e7, 1e7, 0.0, applied), s)
        assert all(d.kind == "hold" for d in again), [d.reason for d in again]


@PROPS
@given(iv1=st.floats(0.2, 2.0), iv2=st.floats(0.2, 2.0), cur=st.floats(-20, 20),
       limit=st.floats(100, 20_000))
def test_higher_implied_vol_never_grows_an_option(iv1, iv2, cur, limit):
    lo, hi = sorted((iv1, iv2))
    targets = []
    for iv in (lo, hi):
        d = one(call(contracts=round(cur, 1), iv=iv), equity=1e6, vega_limit_usd=limit,
                gamma_limit_usd=1e9)
        targets.append(d.target)
    assert abs(targets[1]) <= abs(targets[0]) + 1e-12


@PROPS
@given(cur=st.floats(-10, 10).filter(lambda x: abs(x) >= 0.01), vol=vols,
       equity=st.floats(2e4, 1e6), method=st.sampled_from(["normal", "historical"]),
       band=st.sampled_from([0.0, 0.1]), mm_rate=st.sampled_from([0.004, 0.02, 0.1]),
       peak_up=st.floats(1.0, 1.3))
def test_approving_a_decision_and_rerunning_holds(cur, vol, equity, method, band, mm_rate,
                                                  peak_up):
    # No churn: once the target is reached, the same market gives a hold.
    from sizing.policy_exposure import maintenance_usd

    rets = np.random.default_rng(1).normal(0, 0.6 / math.sqrt(8760), 24 * 60)
    s = PolicySettings(var_method=method, no_trade_band=band)
    inst = perp(contracts=round(cur, 3), vol=vol, log_returns=rets,
                margin_tiers=(MarginTier(1e12, 2 * mm_rate, mm_rate),))
    for _ in range(2):
        state = PortfolioState(equity, equity * peak_up, maintenance_usd(inst, inst.contracts),
                               (inst,))
        (d,) = decide(state, s)
        inst = dataclasses.replace(inst, contracts=d.target)
    assert d.kind == "hold", d.reason
