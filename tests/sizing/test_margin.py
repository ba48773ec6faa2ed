"""Margin, liquidation and liquidation-distance maths against venue examples and invariants."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sizing.margin import (
    LiquidationDistance,
    MarginTier,
    deribit_future_margin_rates,
    deribit_option_margin,
    initial_margin,
    liquidation_distance,
    liquidation_price,
    maintenance_margin,
    margin_ratio,
    max_size_for_margin_ratio,
    tier_for,
)

# Binance USD-M BTCUSDT leverage brackets as published ("Leverage and Margin of
# USDⓈ-M Futures", 2021-22 table): (bracket cap USDT, max leverage, MMR, maintenance amount).
BINANCE_BTCUSDT_PUBLISHED = [
    (50_000, 125, 0.004, 0),
    (250_000, 100, 0.005, 50),
    (1_000_000, 50, 0.01, 1_300),
    (10_000_000, 20, 0.025, 16_300),
    (20_000_000, 10, 0.05, 266_300),
    (50_000_000, 5, 0.10, 1_266_300),
    (100_000_000, 4, 0.125, 2_516_300),
    (200_000_000, 3, 0.15, 5_016_300),
    (300_000_000, 2, 0.25, 25_016_300),
    (500_000_000, 1, 0.50, 100_016_300),
]
BINANCE_BTCUSDT = tuple(
    MarginTier(cap, 1.0 / lev, mmr, amt) for cap, lev, mmr, amt in BINANCE_BTCUSDT_PUBLISHED
)


def _tiers_by_rule(caps, im_rates, mm_rates):
    """Maintenance amounts from Binance's stated rule (independent of the table):
    amount_i = amount_{i-1} + cap_{i-1} x (rate_i - rate_{i-1}), which makes MM continuous."""
    tiers, amt = [], 0.0
    for i, (cap, im, mm) in enumerate(zip(caps, im_rates, mm_rates, strict=True)):
        if i:
            amt += caps[i - 1] * (mm - mm_rates[i - 1])
        tiers.append(MarginTier(cap, im, mm, amt))
    return tuple(tiers)


# A coin-margined (inverse) tier table, notional in BTC, amounts by the same rule.
INVERSE_BTC = _tiers_by_rule(
    [150.0, 300.0, 450.0, 600.0, 750.0], [0.01, 0.015, 0.02, 0.025, 0.03],
    [0.005, 0.01, 0.015, 0.02, 0.025],
)


# ------------------------------------------------------------------ tiers


def test_binance_published_amounts_follow_the_continuity_rule():
    caps = [c for c, *_ in BINANCE_BTCUSDT_PUBLISHED]
    rates = [m for _, _, m, _ in BINANCE_BTCUSDT_PUBLISHED]
    by_rule = _tiers_by_rule(caps, [1 / lev for _, lev, _, _ in BINANCE_BTCUSDT_PUBLISHED], rates)
    assert [t.maintenance_amount for t in by_rule] == pytest.approx(
        [a for *_, a in BINANCE_BTCUSDT_PUBLISHED], abs=1e-6
    )


def test_binance_mm_hand_computed_in_each_of_the_first_tiers():
    assert maintenance_margin(40_000, BINANCE_BTCUSDT) == pytest.approx(40_000 * 0.004)  # 160
    assert maintenance_margin(100_000, BINANCE_BTCUSDT) == pytest.approx(100_000 * 0.005 - 50)
    assert maintenance_margin(600_000, BINANCE_BTCUSDT) == pytest.approx(6_000 - 1_300)  # 4,700
    assert maintenance_margin(-600_000, BINANCE_BTCUSDT) == pytest.approx(4_700)  # shorts alike
    assert initial_margin(600_000, BINANCE_BTCUSDT) == pytest.approx(600_000 / 50)


@pytest.mark.parametrize("cap", [c for c, *_ in BINANCE_BTCUSDT_PUBLISHED[:-1]])
def test_binance_mm_continuous_across_each_tier_boundary(cap):
    below = maintenance_margin(cap * (1 - 1e-12), BINANCE_BTCUSDT)
    above = maintenance_margin(cap * (1 + 1e-12), BINANCE_BTCUSDT)
    assert tier_for(cap * (1 + 1e-12), BINANCE_BTCUSDT).max_notional > cap
    assert above == pytest.approx(below, rel=1e-9)


# ------------------------------------------------------------------ Deribit


def test_deribit_futures_25_btc():
    # Deribit "Margin requirements – Futures": IM 2% + 0.005%/BTC, MM 1% + 0.005%/BTC.
    im, mm = deribit_future_margin_rates(25)
    assert im == pytest.approx(0.02 + 25 * 0.00005) and im == pytest.approx(0.02125)
    assert mm == pytest.approx(0.01125)
    assert deribit_future_margin_rates(-25) == (im, mm)
    assert all(math.isnan(x) for x in deribit_future_margin_rates(math.nan))


def test_deribit_short_call_otm_floor_and_itm():
    # Deribit "Margin requirements – Options". OTM call: S=30,000, K=35,000, mark 0.01 BTC:
    # 0.15 - 5,000/30,000 = -0.0167 -> floor 0.10; IM = 0.10 + 0.01 = 0.11 BTC per contract.
    im, mm = deribit_option_margin(0.01, 30_000, 35_000, True, 2, short=True)
    assert im == pytest.approx(2 * 0.11)
    assert mm == pytest.approx(2 * (0.075 + 0.01))
    # ITM call (OTM amount 0): IM = 0.15 + mark.
    im, mm = deribit_option_margin(0.2, 30_000, 25_000, True, 1, short=True)
    assert (im, mm) == pytest.approx((0.35, 0.275))
    # Slightly OTM: K=31,500, S=30,000: 0.15 - 0.05 = 0.10 + 0.02.
    im, _ = deribit_option_margin(0.02, 30_000, 31_500, True, 1, short=True)
    assert im == pytest.approx(0.12)


def test_deribit_short_put_and_long():
    # OTM put: S=30,000, K=27,000: OTM 3,000 -> 0.15 - 0.1 = 0.05 -> floor 0.10; mark 0.004.
    im, mm = deribit_option_margin(0.004, 30_000, 27_000, False, 3, short=True)
    assert im == pytest.approx(3 * 0.104)
    assert mm == pytest.approx(3 * (0.075 + 0.004))
    # A deep ITM put worth more than 1 BTC: MM = 0.075 x mark + mark.
    im, mm = deribit_option_margin(1.5, 10_000, 25_000, False, 1, short=True)
    assert mm == pytest.approx(0.075 * 1.5 + 1.5)
    assert im == pytest.approx(max(0.15 + 1.5, mm))
    assert deribit_option_margin(0.05, 30_000, 30_000, True, 5, short=False) == (0.0, 0.0)


def test_deribit_option_bad_input():
    with pytest.raises(ValueError, match="underlying_usd"):
        deribit_option_margin(0.01, 0, 30_000, True, 1, True)
    assert all(math.isnan(x) for x in deribit_option_margin(math.nan, 1, 1, True, 1, True))


# ------------------------------------------------------------ liquidation price


def test_bybit_isolated_usdt_example():
    # Bybit help, "Liquidation Price (USDT Contract)": long 1 BTC at 20,000 with 50x
    # (IM = 20,000 / 50 = 400), MMR 0.5 % of position value (100):
    # liq = 20,000 - (400 - 100) / 1 = 19,700. The short mirror: 20,000 + 300 = 20,300.
    assert liquidation_price(1, 20_000, 400, 0.005, maintenance_on="entry") == pytest.approx(
        19_700
    )
    assert liquidation_price(-1, 20_000, 400, 0.005, maintenance_on="entry") == pytest.approx(
        20_300
    )


def test_bybit_isolated_inverse_example():
    # Bybit help, "Liquidation Price Calculation under Isolated Mode": long 60,000 USD of
    # BTCUSD at 50,000, 10x, MMR 0.5 %. Position value 1.2 BTC, IM 0.12, MM 0.006:
    # liq = 60,000 / (1.2 + 0.12 - 0.006) = 45,662.1.
    liq = liquidation_price(
        60_000, 50_000, 0.12, 0.005, linear=False, maintenance_on="entry"
    )
    assert liq == pytest.approx(60_000 / 1.314)
    assert round(liq, 1) == 45_662.1


def test_linear_mark_basis_hand_computed():
    # Binance-style MM on the mark: long 1 BTC at 20,000 with 400 margin, MMR 0.5 %:
    # 400 + (P - 20,000) = 0.005 P  ->  P = 19,600 / 0.995.
    assert liquidation_price(1, 20_000, 400, 0.005) == pytest.approx(19_600 / 0.995)
    # Short: 400 - (P - 20,000) = 0.005 P -> P = 20,400 / 1.005.
    assert liquidation_price(-1, 20_000, 400, 0.005) == pytest.approx(20_400 / 1.005)


def test_cross_hand_computed():
    # 1,000 USD equity besides the position, other positions' MM 50, long 1 BTC at 20,000,
    # MMR 0.5 % on the mark: 1,000 + (P - 20,000) = 50 + 0.005 P -> P = 19,050 / 0.995.
    liq = liquidation_price(1, 20_000, 1_000, 0.005, mode="cross", other_maintenance=50)
    assert liq == pytest.approx(19_050 / 0.995)
    # the same without the other positions' MM sits lower: 19,000 / 0.995
    assert liquidation_price(1, 20_000, 1_000, 0.005, mode="cross") == pytest.approx(
        19_000 / 0.995
    )


def test_no_liquidation_and_bad_input():
    # A long backed by more than its notional has no positive liquidation price.
    assert liquidation_price(1, 20_000, 25_000, 0.005) is None
    # An inverse short whose coin collateral covers the max loss (|s| / E) cannot be liquidated.
    assert liquidation_price(-10_000, 20_000, 1.0, 0.005, linear=False) is None
    assert liquidation_price(0, 20_000, 400, 0.005) is None
    assert math.isnan(liquidation_price(1, math.nan, 400, 0.005))
    with pytest.raises(ValueError, match="entry_price"):
        liquidation_price(1, -5, 400, 0.005)
    with pytest.raises(ValueError, match="mode"):
        liquidation_price(1, 20_000, 400, 0.005, mode="portfolio")
    with pytest.raises(ValueError, match="other_maintenance"):
        liquidation_price(1, 20_000, 400, 0.005, other_maintenance=5)


def _equity_and_mm(contracts, entry, collateral, price, tiers, linear, other):
    """Independent restatement: equity and total MM at ``price`` (margin currency)."""
    if linear:
        pnl = contracts * (price - entry)
        notional = abs(contracts) * price
    else:
        pnl = contracts * (1 / entry - 1 / price)
        notional = abs(contracts) / price
    return collateral + pnl, other + maintenance_margin(notional, tiers)


@settings(max_examples=150, deadline=None)
@given(
    entry=st.floats(1_000, 200_000),
    size_coin=st.floats(0.01, 5_000),
    long=st.booleans(),
    margin_frac=st.floats(0.005, 0.9),
    linear=st.booleans(),
    cross=st.booleans(),
    other_frac=st.floats(0.0, 0.05),
)
def test_equity_equals_maintenance_at_liquidation(
    entry, size_coin, long, margin_frac, linear, cross, other_frac
):
    tiers = BINANCE_BTCUSDT if linear else INVERSE_BTC
    # linear size in coin; inverse size in USD of the same coin amount
    contracts = size_coin if linear else size_coin * entry
    contracts = contracts if long else -contracts
    notional_entry = size_coin * entry if linear else size_coin
    collateral = margin_frac * notional_entry
    other = other_frac * notional_entry if cross else 0.0
    if cross:
        collateral += other  # the account carries the other positions' margin too
    liq = liquidation_price(
        contracts, entry, collateral, tiers, linear=linear,
        mode="cross" if cross else "isolated", other_maintenance=other,
    )
    if liq is None:
        # Only a position that cannot lose enough: check it is solvent at the worst price.
        worst = 1e-9 if long else 1e12
        equity, mm = _equity_and_mm(contracts, entry, collateral, worst, tiers, linear, other)
        assert equity >= mm * (1 - 1e-9)
        return
    equity, mm = _equity_and_mm(contracts, entry, collateral, liq, tiers, linear, other)
    assert equity == pytest.approx(mm, rel=1e-8, abs=1e-9 * notional_entry)
    # and, for a position solvent at entry, it sits on the losing side of the entry
    equity_entry, mm_entry = _equity_and_mm(contracts, entry, collateral, entry, tiers, linear,
                                            other)
    if equity_entry > mm_entry * (1 + 1e-6):
        assert (liq < entry) if long else (liq > entry)


@settings(max_examples=60, deadline=None)
@given(
    entry=st.floats(1_000, 200_000),
    size_coin=st.floats(0.01, 500),
    long=st.booleans(),
    leverage=st.floats(2, 100),
    linear=st.booleans(),
)
def test_equity_equals_entry_based_maintenance_at_liquidation(
    entry, size_coin, long, leverage, linear
):
    # Bybit convention: MM is fixed at the entry value's tier.
    tiers = BINANCE_BTCUSDT if linear else INVERSE_BTC
    contracts = (size_coin if linear else size_coin * entry) * (1 if long else -1)
    notional_entry = size_coin * entry if linear else size_coin
    collateral = notional_entry / leverage
    liq = liquidation_price(contracts, entry, collateral, tiers, linear=linear,
                            maintenance_on="entry")
    mm = maintenance_margin(notional_entry, tiers)
    if liq is None:
        return
    equity, _ = _equity_and_mm(contracts, entry, collateral, liq, tiers, linear, 0.0)
    assert equity == pytest.approx(mm, rel=1e-8, abs=1e-9 * notional_entry)


def test_discontinuous_tier_table_falls_back_to_the_jump():
    # MM jumps from 0.5 % to 5 % at 10,000 notional (no maintenance amount): a long of 1 coin
    # at 20,000 with 9,000 margin. On the 5 % tier equity = MM at (20,000 - 9,000) / 0.95
    # = 11,578.9 (notional > 10,000, consistent), so that is the answer.
    jumpy = (MarginTier(10_000, 0.01, 0.005), MarginTier(1e9, 0.1, 0.05))
    liq = liquidation_price(1, 20_000, 9_000, jumpy)
    assert liq == pytest.approx(11_000 / 0.95)
    # A short of 1 coin at 9,000 with 1,200 margin: the 0.5 % tier's solution
    # (10,200 / 1.005 = 10,149) lies above its 10,000 cap, the 5 % tier's (10,200 / 1.05
    # = 9,714) below its start: equity stays above MM up to 10,000 and falls below it just
    # past it, so the liquidation is the jump at 10,000.
    liq = liquidation_price(-1, 9_000, 1_200, jumpy)
    assert liq == pytest.approx(10_000, rel=1e-9)


# ------------------------------------------------------------------ ratio and max size


def test_margin_ratio():
    assert margin_ratio(250, 1_000) == pytest.approx(0.25)
    assert margin_ratio(250, 0) == math.inf
    assert margin_ratio(250, -10) == math.inf
    assert margin_ratio(0, 1_000) == 0.0
    assert math.isnan(margin_ratio(math.nan, 1_000))
    with pytest.raises(ValueError, match="maintenance_margin"):
        margin_ratio(-1, 1_000)


def test_max_size_flat_rate_hand_computed():
    # equity 10,000, cap 50 % -> MM budget 5,000 -> notional 5,000 / 0.005 = 1,000,000 USD
    # -> 50 BTC at 20,000.
    assert max_size_for_margin_ratio(0.5, 20_000, 10_000, 0.005) == pytest.approx(50)
    # other positions already use 4,000 of MM -> budget 1,000 -> 10 BTC.
    assert max_size_for_margin_ratio(
        0.5, 20_000, 10_000, 0.005, other_maintenance=4_000
    ) == pytest.approx(10)
    assert max_size_for_margin_ratio(0.5, 20_000, 10_000, 0.005, other_maintenance=6_000) == 0


def test_max_size_binance_tiers_hand_computed():
    # equity 100,000, cap 0.5 -> budget 50,000. MM at 1M = 8,700, at 10M = 233,700, so the
    # answer is in the 2.5 % tier: N = (50,000 + 16,300) / 0.025 = 2,652,000 USDT
    # -> 53.04 BTC at 50,000.
    size = max_size_for_margin_ratio(0.5, 50_000, 100_000, BINANCE_BTCUSDT)
    assert size == pytest.approx(2_652_000 / 50_000)


def test_max_size_inverse_in_usd_contracts():
    # Inverse BTCUSD, 100 USD contracts, equity 2 BTC, cap 0.5 -> budget 1 BTC of MM.
    # Tier 1 caps at 150 BTC (MM 0.75), tier 2: N = (1 + 0.75) / 0.01 = 175 BTC notional
    # = 175 x 40,000 USD = 7,000,000 USD = 70,000 contracts.
    size = max_size_for_margin_ratio(0.5, 40_000, 2.0, INVERSE_BTC, contract_size=100,
                                     linear=False)
    assert size == pytest.approx(70_000)


@settings(max_examples=100, deadline=None)
@given(
    cap=st.floats(0.05, 0.95),
    price=st.floats(100, 200_000),
    equity=st.floats(10, 1e9),
    other_frac=st.floats(0, 1.2),
)
def test_max_size_hits_the_cap_and_no_more(cap, price, equity, other_frac):
    other = other_frac * cap * equity
    size = max_size_for_margin_ratio(cap, price, equity, BINANCE_BTCUSDT,
                                     other_maintenance=other)

    def ratio(contracts):
        return margin_ratio(other + maintenance_margin(contracts * price, BINANCE_BTCUSDT), equity)

    if other >= cap * equity:  # already at or past the cap: nothing may be added
        assert size == 0
        return
    assert ratio(size) <= cap * (1 + 1e-9)
    assert ratio(size) == pytest.approx(cap, rel=1e-9)
    assert ratio(size * (1 + 1e-6) + 1e-9) > cap


# ------------------------------------------------------------------ distance


def test_distance_zero_drift_hand_computed():
    # 20,000 -> 19,700 at 60 % vol. d = ln(20,000 / 19,700) = 0.015114; daily sigma =
    # 0.6 / sqrt(365) = 0.031405 -> 0.4813 sigmas. Median first passage without drift:
    # 2 N(-d / (sigma sqrt t)) = 0.5 -> t = (d / (0.6745 sigma))^2 years.
    dist = liquidation_distance(20_000, 19_700, 0.6)
    d = math.log(20_000 / 19_700)
    assert dist.pct == pytest.approx(1.5)
    assert dist.sigmas_daily == pytest.approx(d / (0.6 / math.sqrt(365)))
    assert dist.expected_days == pytest.approx((d / (0.6744897501960817 * 0.6)) ** 2 * 365)
    # independent: the zero-drift hitting time is Lévy distributed with scale d^2 / sigma^2
    assert dist.expected_days == pytest.approx(
        stats.levy(scale=d**2 / 0.6**2).median() * 365, rel=1e-9
    )


@pytest.mark.parametrize("drift", [0.3, 2.0, 20.0])
def test_distance_with_drift_toward_level_is_inverse_gaussian_median(drift):
    # Long at 20,000, liq 18,000 below, log drift -drift (toward the level). The hitting
    # time is inverse Gaussian with mean d / nu and shape d^2 / sigma^2 (scipy invgauss with
    # mu = mean / shape, scale = shape).
    sigma = 0.8
    d = math.log(20_000 / 18_000)
    shape = d**2 / sigma**2
    expected = stats.invgauss(mu=(d / drift) / shape, scale=shape).median() * 365
    dist = liquidation_distance(20_000, 18_000, sigma, drift_annual=-drift)
    assert dist.expected_days == pytest.approx(expected, rel=1e-7)
    # sooner than without drift
    assert dist.expected_days < liquidation_distance(20_000, 18_000, sigma).expected_days


def test_distance_drift_away_never_reaches_even_odds():
    # Short liquidated above at 22,000 with log drift -1.0 (away): the touch probability ever
    # is exp(-2 x 1.0 x d / 0.5^2) = exp(-0.762) = 0.47 < 0.5 -> no median.
    dist = liquidation_distance(20_000, 22_000, 0.5, drift_annual=-1.0)
    assert dist.expected_days == math.inf
    # a mild drift away only delays it
    slow = liquidation_distance(20_000, 22_000, 0.5, drift_annual=-0.1)
    assert liquidation_distance(20_000, 22_000, 0.5).expected_days < slow.expected_days < math.inf


def test_distance_edge_cases():
    assert liquidation_distance(20_000, None, 0.6) == LiquidationDistance(
        math.inf, math.inf, math.inf
    )
    nan = liquidation_distance(20_000, 19_000, math.nan)
    assert math.isnan(nan.sigmas_daily) and math.isnan(nan.expected_days)
    zero_vol = liquidation_distance(20_000, 19_000, 0.0)
    assert zero_vol.sigmas_daily == math.inf and zero_vol.expected_days == math.inf
    with pytest.raises(ValueError, match="vol_annual"):
        liquidation_distance(20_000, 19_000, -0.1)


@settings(max_examples=60, deadline=None)
@given(
    ratio=st.floats(0.3, 0.99),
    vol=st.floats(0.05, 3.0),
    drift=st.floats(0.01, 5.0),
    below=st.booleans(),
)
def test_distance_median_matches_inverse_gaussian_and_grows_with_distance(
    ratio, vol, drift, below
):
    price = 30_000.0
    liq = price * ratio if below else price / ratio
    toward = -drift if below else drift  # log drift pointing at the level
    dist = liquidation_distance(price, liq, vol, drift_annual=toward)
    d = abs(math.log(liq / price))
    shape = d**2 / vol**2
    expected = stats.invgauss(mu=(d / drift) / shape, scale=shape).median() * 365
    assert dist.expected_days == pytest.approx(expected, rel=1e-6)
    # a level twice as far (in log terms) takes longer and is more sigmas away
    farther_liq = price * ratio**2 if below else price / ratio**2
    farther = liquidation_distance(price, farther_liq, vol, drift_annual=toward)
    assert farther.expected_days > dist.expected_days
    assert farther.sigmas_daily == pytest.approx(2 * dist.sigmas_daily)
