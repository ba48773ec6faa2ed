"""The price/vol process: realised vol against the model, regimes, step-size independence."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad

from cockpit.sim import process
from cockpit.sim.process import HOURS_PER_YEAR, VolParams, expected_vol_annual, simulate

PARAMS = VolParams()
FIVE_MINUTES = 1.0 / (HOURS_PER_YEAR * 12)


def hourly(returns: np.ndarray, per_hour: int) -> np.ndarray:
    n = len(returns) // per_hour * per_hour
    return returns[:n].reshape(-1, per_hour).sum(axis=1)


def test_expected_variance_matches_numerical_shot_noise_integral():
    # Independent route: E[exp(S)] for the shot noise S = sum J e^{-kappa (t - t_i)}
    # of a Poisson(lambda) process is exp(lambda * int_0^inf (exp(J e^{-kappa s}) - 1) ds)
    # (Campbell's theorem); the Gaussian part of ln v contributes exp(m + s^2 / 2).
    p = PARAMS
    integral, _ = quad(lambda s: math.expm1(p.jump_log_var * math.exp(-p.kappa * s)), 0, 1.0)
    by_hand = math.exp(p.log_var_mean + p.log_var_sd**2 / 2) * math.exp(p.jumps_per_year * integral)
    assert process.expected_variance(p) == pytest.approx(by_hand, rel=1e-9)


def test_calibration_figures_stated_in_the_docstring():
    # kappa = -ln(0.985) * 8760 = 132.4 / year (a 46 h half-life of log-variance)
    assert PARAMS.kappa == pytest.approx(-math.log(0.985) * 8760)
    assert math.log(2) / PARAMS.kappa * 8760 == pytest.approx(45.9, abs=0.1)
    assert expected_vol_annual(PARAMS) == pytest.approx(0.583, abs=0.001)
    assert expected_vol_annual(PARAMS, 1.2) == pytest.approx(1.2 * 0.583, abs=0.002)


@pytest.mark.parametrize("seed", [1, 2])
def test_realised_vol_of_50000_hours_within_15pct_of_the_model(seed):
    rng = np.random.default_rng(seed)
    path = simulate(PARAMS, 50_000 * 12, FIVE_MINUTES, PARAMS.log_var_mean, rng)
    btc = hourly(path.btc_returns, 12)
    eth = hourly(path.eth_returns, 12)
    btc_vol = math.sqrt(np.mean(btc**2) * HOURS_PER_YEAR)
    eth_vol = math.sqrt(np.mean(eth**2) * HOURS_PER_YEAR)
    assert btc_vol == pytest.approx(expected_vol_annual(PARAMS), rel=0.15)
    assert eth_vol == pytest.approx(expected_vol_annual(PARAMS, 1.2), rel=0.15)
    # ETH ~1.2x BTC and correlated ~0.8 (common jumps push it slightly higher)
    assert eth_vol / btc_vol == pytest.approx(1.2, abs=0.05)
    assert 0.75 < np.corrcoef(btc, eth)[0, 1] < 0.88


def test_calm_and_stormy_regimes_alternate():
    rng = np.random.default_rng(11)
    path = simulate(PARAMS, 2160 * 12, FIVE_MINUTES, PARAMS.log_var_mean, rng)
    btc = hourly(path.btc_returns, 12)
    daily_vol = np.sqrt(np.convolve(btc**2, np.ones(24) / 24, "valid") * HOURS_PER_YEAR)
    calm = np.median(daily_vol)
    assert 0.40 <= calm <= 0.80
    assert daily_vol.max() > 1.5 * calm  # a storm
    assert daily_vol.min() < calm / 1.3  # and quiet spells


@pytest.mark.parametrize(
    ("dt_years", "years"),
    [(1.0 / (HOURS_PER_YEAR * 6), 10.0), (1.0 / HOURS_PER_YEAR, 60.0), (1 / 365, 400.0)],
)
def test_log_variance_law_does_not_depend_on_step_length(dt_years, years):
    # Stationary law of x = ln v: OU around m with Gaussian variance s^2 plus the
    # shot noise of kicks J at rate lambda: mean m + lambda J / kappa and variance
    # s^2 + lambda J^2 / (2 kappa) (Campbell's theorem).
    p = PARAMS
    mean = p.log_var_mean + p.jumps_per_year * p.jump_log_var / p.kappa
    sd = math.sqrt(p.log_var_sd**2 + p.jumps_per_year * p.jump_log_var**2 / (2 * p.kappa))
    n = int(years / dt_years)
    x = simulate(p, n, dt_years, mean, np.random.default_rng(5)).log_var
    assert np.mean(x) == pytest.approx(mean, abs=0.05)
    assert np.std(x) == pytest.approx(sd, rel=0.06)  # jumps land at step ends: ~3 % at 1 day


@pytest.mark.parametrize("a", [0.99975, 0.985, 0.3, 1e-40])
def test_blockwise_ar1_equals_the_plain_recursion(a):
    shocks = np.random.default_rng(3).standard_normal(2000)
    expected = np.empty_like(shocks)
    y = 0.7
    for k, s in enumerate(shocks):
        y = a * y + s
        expected[k] = y
    np.testing.assert_allclose(process._ar1(shocks, a, 0.7), expected, rtol=1e-10, atol=1e-12)


def test_live_step_has_the_same_law_as_the_vectorised_path():
    # 20,000 one-hour live steps against the model's E[r^2]
    rng = np.random.default_rng(9)
    log_var = PARAMS.log_var_mean
    sq = []
    for _ in range(20_000):
        log_var, r_btc, _ = process.step(PARAMS, log_var, 1 / HOURS_PER_YEAR, rng)
        sq.append(r_btc * r_btc)
    vol = math.sqrt(np.mean(sq) * HOURS_PER_YEAR)
    assert vol == pytest.approx(expected_vol_annual(PARAMS), rel=0.15)


def test_bad_arguments_are_named():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="n_steps"):
        simulate(PARAMS, 0, FIVE_MINUTES, 0.0, rng)
    with pytest.raises(ValueError, match="dt_years"):
        simulate(PARAMS, 10, float("nan"), 0.0, rng)
