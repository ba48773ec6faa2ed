"""VaR/CVaR, drawdown tiers and the stress grid against textbook values and independent code."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from sizing.risk import (
    DEFAULT_DRAWDOWN_TIERS,
    DrawdownTier,
    StressPosition,
    drawdown_state,
    fit_student_t,
    normal_var_cvar,
    stress_grid,
    student_t_var_cvar,
    update_peak,
    var_cvar,
)

# ------------------------------------------------------------------ VaR / CVaR


def test_normal_var_cvar_99_textbook():
    # McNeil, Frey & Embrechts, QRM (2005), ex. 2.14: VaR99 = 2.326 sigma, ES99 = 2.665 sigma.
    var, cvar = normal_var_cvar(0.0, 1.0, 0.99)
    assert var == pytest.approx(2.326, abs=5e-4)
    assert cvar == pytest.approx(2.665, abs=5e-4)
    # a sample rescaled to mean 0 and std (ddof=1) exactly 2 gives 2 x those numbers
    x = np.random.default_rng(7).standard_normal(500)
    x = (x - x.mean()) / x.std(ddof=1) * 2.0
    var, cvar = var_cvar(x, 0.99, "normal")
    assert var == pytest.approx(2 * 2.3263479, rel=1e-6)
    assert cvar == pytest.approx(2 * 2.6652142, rel=1e-6)


def test_historical_hand_computed():
    # losses 1..100 (shuffled): VaR95 is the 95th smallest loss = 95; the expected
    # shortfall is the mean of the 5 worst: (96 + ... + 100) / 5 = 98.
    pnl = -np.random.default_rng(0).permutation(np.arange(1.0, 101.0))
    assert var_cvar(pnl, 0.95) == pytest.approx((95.0, 98.0))
    assert var_cvar(pnl, 0.99) == pytest.approx((99.0, 100.0))
    # a tail of 1.5 observations (n = 50, alpha = 0.97): VaR = 49th loss = 49 and, by
    # Acerbi & Tasche (2002), ES = (50 x 1/50 + 49 x (0.03 - 1/50)) / 0.03 = 49.667.
    pnl = -np.arange(1.0, 51.0)
    var, cvar = var_cvar(pnl, 0.97)
    assert var == pytest.approx(49.0)
    assert cvar == pytest.approx((50 * 0.02 + 49 * 0.01) / 0.03)
    # five samples at 80 %: losses sorted -2, -1, 0, 1, 3 -> VaR = 1, ES = 3
    assert var_cvar([-3.0, -1.0, 0.0, 1.0, 2.0], alpha=0.8) == pytest.approx((1.0, 3.0))


def test_student_t_tends_to_normal_with_large_dof():
    var_t, cvar_t = student_t_var_cvar(1e7, 0.0, 1.0, 0.99)
    var_n, cvar_n = normal_var_cvar(0.0, 1.0, 0.99)
    assert var_t == pytest.approx(var_n, rel=1e-5)
    assert cvar_t == pytest.approx(cvar_n, rel=1e-5)


@pytest.mark.parametrize("dof", [2.5, 4.0, 10.0])
def test_student_t_cvar_matches_numerical_tail_integral(dof):
    # ES = E[L | L >= VaR] for L = -(loc + scale T), integrated numerically.
    loc, scale, alpha = 0.1, 2.0, 0.99
    var, cvar = student_t_var_cvar(dof, loc, scale, alpha)
    dist = stats.t(dof, loc=-loc, scale=scale)  # the loss distribution
    assert var == pytest.approx(dist.ppf(alpha), rel=1e-10)
    tail, _ = integrate.quad(lambda v: v * dist.pdf(v), var, np.inf)
    assert cvar == pytest.approx(tail / (1 - alpha), rel=1e-7)
    assert student_t_var_cvar(0.9, 0, 1)[1] == math.inf


def test_student_t_fit_recovers_dof_and_matches_scipy_optimum():
    rng = np.random.default_rng(42)
    x = 0.5 + 0.02 * rng.standard_t(4.0, 20_000)
    dof, loc, scale = fit_student_t(x)
    assert dof == pytest.approx(4.0, abs=0.4)
    assert loc == pytest.approx(0.5, abs=0.001)
    assert scale == pytest.approx(0.02, rel=0.03)
    # the maximum likelihood is at least as good as scipy's own fit
    ours = stats.t.logpdf(x, dof, loc, scale).sum()
    theirs = stats.t.logpdf(x, *stats.t.fit(x[:2000], 4.0, loc=0.5, scale=0.02)).sum()
    assert ours >= theirs - 1e-6
    var, cvar = var_cvar(x, 0.99, "student-t")
    assert (var, cvar) == pytest.approx(student_t_var_cvar(dof, loc, scale, 0.99))


def _fhs_by_hand(pnl, alpha, lam=0.94):
    """Filtered historical simulation written out in plain Python loops."""
    var_t = sum(v * v for v in pnl) / len(pnl)
    residuals = []
    for v in pnl:
        residuals.append(v / math.sqrt(var_t))
        var_t = lam * var_t + (1 - lam) * v * v
    scenarios = sorted(-z * math.sqrt(var_t) for z in residuals)
    n = len(scenarios)
    k = math.ceil(n * alpha - 1e-9)
    var = scenarios[k - 1]
    worse = [s for s in scenarios if s > var]
    return var, (sum(worse) / n + var * (1 - alpha - len(worse) / n)) / (1 - alpha)


def test_filtered_historical_simulation_matches_hand_loop_and_sees_the_regime():
    rng = np.random.default_rng(3)
    calm_then_wild = np.concatenate([rng.standard_normal(500), 3 * rng.standard_normal(500)])
    got = var_cvar(calm_then_wild, 0.99, "filtered")
    assert got == pytest.approx(_fhs_by_hand(list(calm_then_wild), 0.99), rel=1e-10)
    # today's vol is 3, the whole-sample vol is ~2.2: the filtered VaR is the larger one,
    # and the other way round when the wild days are behind us
    assert got[0] > var_cvar(calm_then_wild, 0.99, "historical")[0]
    wild_then_calm = calm_then_wild[::-1]
    assert (
        var_cvar(wild_then_calm, 0.99, "filtered")[0]
        < 0.6 * var_cvar(wild_then_calm, 0.99, "historical")[0]
    )


@pytest.mark.parametrize("method", ["historical", "normal", "student-t", "filtered"])
def test_var_is_positively_homogeneous_and_cvar_dominates(method):
    x = np.random.default_rng(11).standard_t(5, 400)
    var, cvar = var_cvar(x, 0.99, method)
    var3, cvar3 = var_cvar(3.0 * x, 0.99, method)
    assert (var3, cvar3) == pytest.approx((3 * var, 3 * cvar), rel=1e-4)
    assert cvar >= var > 0


@settings(max_examples=60, deadline=None)
@given(
    pnl=st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=200),
    alpha=st.floats(0.5, 0.999),
    shift=st.floats(-1e3, 1e3),
)
def test_historical_properties(pnl, alpha, shift):
    x = np.array(pnl)
    var, cvar = var_cvar(x, alpha)
    assert cvar >= var - 1e-9 * (1 + abs(var))
    assert -x.max() <= var <= -x.min()
    # translation: a sure extra gain of `shift` lowers both by `shift`
    var_s, cvar_s = var_cvar(x + shift, alpha)
    assert var_s == pytest.approx(var - shift, abs=1e-6 * (1 + abs(var)))
    assert cvar_s == pytest.approx(cvar - shift, abs=1e-6 * (1 + abs(cvar)))


def test_var_bad_input():
    assert all(math.isnan(v) for v in var_cvar([1.0, math.nan, -2.0]))
    with pytest.raises(ValueError, match="method"):
        var_cvar([1.0, 2.0], method="monte-carlo")
    with pytest.raises(ValueError, match="alpha"):
        var_cvar([1.0, 2.0], alpha=99)
    with pytest.raises(ValueError, match="pnl"):
        var_cvar([1.0])
    # a long run of zero days (variance underflows to 0) then a loss: no warning, finite
    quiet = np.concatenate([[1.0, -1.0], np.zeros(13_000), [-1.0]])
    assert all(math.isfinite(v) for v in var_cvar(quiet, 0.99, "filtered"))
    # constant PnL: no risk, every method says so without a warning
    for method in ("normal", "student-t", "filtered"):
        assert var_cvar(np.full(10, -2.0), 0.99, method) == pytest.approx((2.0, 2.0))


# ------------------------------------------------------------------ drawdown


@pytest.mark.parametrize(
    "equity, drawdown, scale, reduce_only",
    [
        (110.0, 0.0, 1.0, False),  # above the peak (the caller updates the peak)
        (96.0, 0.04, 1.0, False),
        (95.0, 0.05, 0.5, False),  # 5 % -> 0.5
        (90.0, 0.10, 0.25, False),  # 10 % -> 0.25, exactly on the edge
        (86.0, 0.14, 0.25, False),
        (85.0, 0.15, 0.0, True),  # 15 % -> reduce-only
        (-5.0, 1.05, 0.0, True),
    ],
)
def test_default_drawdown_tiers(equity, drawdown, scale, reduce_only):
    state = drawdown_state(equity, 100.0)
    assert state.drawdown == pytest.approx(drawdown)
    assert (state.scale, state.reduce_only) == (scale, reduce_only)
    assert state.tier_label


def test_drawdown_labels_and_custom_tiers():
    assert drawdown_state(89.0, 100.0).tier_label == "drawdown 11.0% ≥ 10%: scale 0.25"
    assert "reduce-only" in drawdown_state(80.0, 100.0).tier_label
    tiers = (DrawdownTier(0.2, 0.1), DrawdownTier(0.02, 0.9))  # unsorted on purpose
    assert drawdown_state(97.0, 100.0, tiers).scale == 0.9
    assert drawdown_state(79.0, 100.0, tiers).scale == 0.1
    nan = drawdown_state(math.nan, 100.0)
    assert nan.reduce_only and nan.scale == 0.0 and "NaN" in nan.tier_label
    with pytest.raises(ValueError, match="scale"):
        DrawdownTier(0.1, 1.5)
    with pytest.raises(ValueError, match="peak_equity"):
        drawdown_state(10.0, 0.0)
    assert len(DEFAULT_DRAWDOWN_TIERS) == 3


def test_update_peak():
    assert update_peak(100.0, 105.0) == 105.0
    assert update_peak(100.0, 90.0) == 100.0
    assert update_peak(100.0, math.nan) == 100.0
    assert update_peak(math.nan, 50.0) == 50.0


# ------------------------------------------------------------------ stress grid


def _black76_by_hand(f, k, t, vol, is_call):
    """Black (1976) undiscounted, written with math.erf (independent of sizing.greeks)."""

    def n(x):
        return 0.5 * (1 + math.erf(x / math.sqrt(2)))

    sd = vol * math.sqrt(t)
    d1 = (math.log(f / k) + 0.5 * sd * sd) / sd
    d2 = d1 - sd
    return f * n(d1) - k * n(d2) if is_call else k * n(-d2) - f * n(-d1)


PRICE_SHOCKS = [-0.3, -0.1, 0.0, 0.1, 0.3]
VOL_SHOCKS = [-0.1, 0.0, 0.2]


def test_zero_shock_gives_zero_pnl():
    book = [
        StressPosition("perp", 2.0, 1.0, 30_000.0),
        StressPosition("perp", -5_000, 10.0, 30_000.0, linear=False),
        StressPosition("option", -3.0, 1.0, 30_000.0, strike=35_000, years=0.1, vol=0.6,
                       is_call=True),
    ]
    grid = stress_grid(book, PRICE_SHOCKS, VOL_SHOCKS)
    assert grid.shape == (5, 3)
    assert grid[2, 1] == 0.0


def test_linear_and_inverse_perp_pnl_hand_computed():
    # linear: 2.5 contracts x 0.001 BTC x (33,000 - 30,000) = 7.5 USD at +10 %
    linear = StressPosition("perp", 2.5, 0.001, 30_000.0)
    grid = stress_grid([linear], PRICE_SHOCKS, VOL_SHOCKS)
    for i, s in enumerate(PRICE_SHOCKS):
        assert grid[i] == pytest.approx(2.5 * 0.001 * (30_000 * (1 + s) - 30_000), rel=1e-12)
    assert grid[3, 0] == pytest.approx(7.5)
    # inverse: long 1,000 x 10 USD at 20,000, down 10 % to 18,000:
    # 10,000 x (1/20,000 - 1/18,000) = -0.05556 BTC, x 18,000 = -1,000 USD
    inverse = StressPosition("perp", 1_000, 10.0, 20_000.0, linear=False)
    assert stress_grid([inverse], [-0.1])[0, 0] == pytest.approx(
        10_000 * (1 / 20_000 - 1 / 18_000) * 18_000
    )
    # vol shocks leave perps alone
    assert np.all(grid == grid[:, [0]])


def test_option_is_fully_revalued_with_black76():
    pos = StressPosition("option", 1.5, 1.0, 30_000.0, strike=32_000, years=0.25, vol=0.55,
                         is_call=False)
    grid = stress_grid([pos], PRICE_SHOCKS, VOL_SHOCKS)
    today = _black76_by_hand(30_000, 32_000, 0.25, 0.55, False)
    for i, s in enumerate(PRICE_SHOCKS):
        for j, dv in enumerate(VOL_SHOCKS):
            after = _black76_by_hand(30_000 * (1 + s), 32_000, 0.25, 0.55 + dv, False)
            assert grid[i, j] == pytest.approx(1.5 * (after - today), rel=1e-9, abs=1e-9)


def test_short_strangle_loses_on_big_moves_and_vol_up():
    strangle = [
        StressPosition("option", -1.0, 1.0, 30_000.0, strike=36_000, years=30 / 365,
                       vol=0.5, is_call=True),
        StressPosition("option", -1.0, 1.0, 30_000.0, strike=24_000, years=30 / 365,
                       vol=0.5, is_call=False),
    ]
    grid = stress_grid(strangle, [-0.3, 0.0, 0.3], [0.0, 0.3])
    assert grid[0, 0] < 0 and grid[2, 0] < 0  # big down, big up
    assert grid[1, 1] < 0  # vol up, price unchanged
    assert grid[1, 0] == 0.0


def test_spot_balance_and_beta():
    # 2 BTC of collateral at 30,000, beta 1: -20 % -> -12,000 USD; an ETH perp with beta 1.2
    # of 10 ETH at 2,000 moves 1.2 x -20 % -> 10 x 2,000 x -0.24 = -4,800.
    book = [
        StressPosition("spot", 2.0, 1.0, 30_000.0),
        StressPosition("perp", 10.0, 1.0, 2_000.0, beta=1.2),
    ]
    assert stress_grid(book, [-0.2])[0, 0] == pytest.approx(-12_000 - 4_800)


def test_stress_bad_input():
    with pytest.raises(ValueError, match="price_shocks"):
        stress_grid([], [-1.5])
    with pytest.raises(ValueError, match="price_shocks"):
        stress_grid([StressPosition("perp", 1.0, 1.0, 30_000.0, beta=2.0)], [-0.6])
    with pytest.raises(ValueError, match="strike"):
        StressPosition("option", 1.0, 1.0, 30_000.0)
    with pytest.raises(ValueError, match="kind"):
        StressPosition("swap", 1.0, 1.0, 30_000.0)
