"""Volatility estimators and GARCH forecasts on simulated series with known vol."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sizing.volatility import (
    GarchForecast,
    atr,
    close_to_close,
    ewma_vol,
    garch_forecast,
    garman_klass,
    parkinson,
    vol_spike,
    yang_zhang,
)


def simulate_garch(n, omega, alpha, beta, nu, gamma=0.0, seed=0):
    """Zero-mean GJR-GARCH(1,1) with unit-variance Student-t shocks (plain loop, our own)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_t(nu, n) * math.sqrt((nu - 2) / nu)
    r = np.empty(n)
    var = omega / (1 - alpha - beta - gamma / 2)
    for i in range(n):
        r[i] = math.sqrt(var) * z[i]
        var = omega + (alpha + gamma * (r[i] < 0)) * r[i] ** 2 + beta * var
    return r


def brownian_ohlc(n_bars, vol_per_bar, steps=2000, drift_per_bar=0.0, seed=0):
    """OHLC of a log-price Brownian motion sampled ``steps`` times per bar, no gaps."""
    rng = np.random.default_rng(seed)
    inc = rng.normal(drift_per_bar / steps, vol_per_bar / math.sqrt(steps), (n_bars, steps))
    path = np.cumsum(inc, axis=1)
    start = np.concatenate([[0.0], path[:-1, -1]]).cumsum()[:, None]
    log_bar = np.concatenate([np.zeros((n_bars, 1)), path], axis=1) + start
    o, c = log_bar[:, 0], log_bar[:, -1]
    return 100 * np.exp(o), 100 * np.exp(log_bar.max(1)), 100 * np.exp(log_bar.min(1)), 100 * np.exp(c)


@pytest.fixture(scope="module")
def garch_series():
    # Daily-like: unconditional vol 2 % a bar (omega / (1 - a - b) = 4e-4), nu = 6.
    return simulate_garch(20_000, omega=8e-6, alpha=0.08, beta=0.90, nu=6, seed=11)


@pytest.fixture(scope="module")
def garch_fit(garch_series):
    return garch_forecast(garch_series, 365)


def test_garch_recovers_known_parameters_from_a_long_simulated_series(garch_fit):
    p = garch_fit.params
    assert garch_fit.model == "garch" and garch_fit.converged and garch_fit.n_obs == 20_000
    # Tolerances: several standard errors of the MLE at n = 20,000.
    assert p["alpha[1]"] == pytest.approx(0.08, abs=0.02)
    assert p["beta[1]"] == pytest.approx(0.90, abs=0.03)
    assert p["nu"] == pytest.approx(6.0, abs=1.5)
    # omega alone is weakly identified; the unconditional variance is not. Params are for
    # returns x scale (variance x scale^2): 4e-4 x scale^2.
    uncond = p["omega"] / (1 - p["alpha[1]"] - p["beta[1]"])
    assert uncond == pytest.approx(4e-4 * garch_fit.scale**2, rel=0.15)


def test_garch_forecast_is_the_analytic_multi_step_forecast(garch_series, garch_fit):
    # Independent recursion with the fitted parameters, then
    # sigma^2_{t+k} = V + (a + b)^(k-1) (sigma^2_{t+1} - V), vol = sqrt(mean_k sigma^2 x 365).
    p, s = garch_fit.params, garch_fit.scale
    r = garch_series * s
    var = float(np.mean(r * r))
    for x in r:
        var = p["omega"] + p["alpha[1]"] * x * x + p["beta[1]"] * var
    persistence = p["alpha[1]"] + p["beta[1]"]
    long_run = p["omega"] / (1 - persistence)
    assert garch_fit.vol_annual == pytest.approx(math.sqrt(var * 365) / s, rel=1e-6)
    h = 30
    path = long_run + persistence ** np.arange(h) * (var - long_run)
    ten = garch_forecast(garch_series, 365, horizon=h, previous=garch_fit)
    assert ten.converged and ten.horizon == h
    assert ten.vol_annual == pytest.approx(math.sqrt(path.mean() * 365) / s, rel=1e-4)


def test_garch_warm_start_reaches_the_same_fit(garch_series, garch_fit):
    again = garch_forecast(garch_series, 365, previous=garch_fit)
    assert again.converged
    for k, v in garch_fit.params.items():
        assert again.params[k] == pytest.approx(v, rel=1e-3)


def test_hourly_crypto_returns_are_scaled_for_arch_and_a_fallback_is_no_warm_start():
    # Hourly-like: unconditional vol 0.5 % a bar (omega / (1 - a - b) = 2.5e-5).
    r = simulate_garch(3000, omega=5e-7, alpha=0.05, beta=0.93, nu=5, seed=2)
    fallback = garch_forecast(r[:50], 8760)
    fit = garch_forecast(r, 8760, horizon=24, previous=fallback)
    assert fit.converged and fit.model == "garch"
    # scale puts the scaled variance in [1, 100): sd 0.005 x 1000 = 5.
    assert fit.scale == 1000.0
    assert 1 <= np.var(r * fit.scale) < 100
    # A 24-bar forecast sits between the current and the long-run vol: near 0.5 % a bar.
    assert fit.vol_annual == pytest.approx(0.005 * math.sqrt(8760), rel=0.5)


def test_gjr_recovers_the_leverage_term():
    r = simulate_garch(20_000, omega=8e-6, alpha=0.04, beta=0.88, nu=6, gamma=0.12, seed=5)
    fit = garch_forecast(r, 365, model="gjr")
    assert fit.model == "gjr" and fit.converged
    assert fit.params["gamma[1]"] == pytest.approx(0.12, abs=0.04)
    assert fit.params["alpha[1]"] == pytest.approx(0.04, abs=0.02)
    assert fit.params["beta[1]"] == pytest.approx(0.88, abs=0.03)


@pytest.mark.parametrize(
    ("returns", "why"),
    [
        (np.random.default_rng(1).normal(0, 0.01, 50), "too short"),
        (np.zeros(500), "constant"),
        (np.full(500, 0.001), "constant"),
        (np.where(np.arange(500) % 7 == 0, np.nan, np.random.default_rng(2).normal(0, 0.01, 500)),
         "not finite"),
    ],
)
def test_garch_falls_back_to_ewma_without_raising(returns, why):
    fit = garch_forecast(returns, 365)
    assert fit.model.startswith("ewma (fallback: ") and why in fit.model
    assert fit.converged is False
    finite = returns[np.isfinite(returns)]
    assert fit.vol_annual == pytest.approx(ewma_vol(finite, 365))


def test_garch_falls_back_when_the_fit_itself_fails(monkeypatch):
    import arch

    def broken(*args, **kwargs):
        raise np.linalg.LinAlgError("singular matrix")

    monkeypatch.setattr(arch, "arch_model", broken)
    r = np.random.default_rng(3).normal(0, 0.01, 400)
    fit = garch_forecast(r, 365)
    assert fit.model == "ewma (fallback: fit failed: singular matrix)"
    assert fit.vol_annual == pytest.approx(ewma_vol(r, 365))


class _FakeFit:
    """Stands in for arch's result: only what garch_forecast reads."""

    def __init__(self, flag, alpha, beta):
        self.convergence_flag = flag
        self.params = {"omega": 0.1, "alpha[1]": alpha, "beta[1]": beta, "nu": 6.0}

    def forecast(self, horizon, reindex):
        class _F:
            variance = np.ones((1, horizon))

        return _F()


@pytest.mark.parametrize(
    ("fit", "why"),
    [
        (_FakeFit(flag=1, alpha=0.05, beta=0.9), "fit did not converge"),
        (_FakeFit(flag=0, alpha=0.2, beta=0.85), "non-stationary fit, persistence 1.050"),
    ],
)
def test_garch_falls_back_on_a_non_converged_or_explosive_fit(monkeypatch, fit, why):
    import arch

    class _Model:
        def fit(self, **kwargs):
            return fit

    monkeypatch.setattr(arch, "arch_model", lambda *a, **k: _Model())
    r = np.random.default_rng(4).normal(0, 0.01, 400)
    out = garch_forecast(r, 365)
    assert out.model == f"ewma (fallback: {why})" and not out.converged
    assert out.vol_annual == pytest.approx(ewma_vol(r, 365))


def test_garch_rejects_a_bad_model_name():
    with pytest.raises(ValueError, match="model"):
        garch_forecast(np.zeros(10), 365, model="egarch")
    assert isinstance(garch_forecast(np.zeros(10), 365), GarchForecast)


def test_ewma_matches_the_riskmetrics_recursion_by_hand():
    r = np.array([0.01, -0.02, 0.03])
    lam = 0.94
    var = (0.01**2 + 0.02**2 + 0.03**2) / 3  # seed: mean square
    for x in r:
        var = lam * var + (1 - lam) * x * x
    assert ewma_vol(r, 365, lam) == pytest.approx(math.sqrt(var * 365), rel=1e-13)


def test_ewma_variance_is_unbiased_on_constant_vol_series():
    # E[sigma^2_ewma] = sigma^2 exactly (weights sum to 1); average over 2,000 paths.
    sigma, ppy = 0.03, 365
    rng = np.random.default_rng(4)
    paths = rng.normal(0, sigma, (2000, 120))
    var = np.array([ewma_vol(p, ppy) ** 2 / ppy for p in paths])
    assert var.mean() == pytest.approx(sigma**2, rel=0.03)  # ~4 standard errors


def test_close_to_close_recovers_constant_vol():
    sigma_annual, ppy, n = 0.8, 365, 20_000
    r = np.random.default_rng(6).normal(0, sigma_annual / math.sqrt(ppy), n)
    close = 100 * np.exp(np.concatenate([[0.0], np.cumsum(r)]))
    # Relative standard error 1 / sqrt(2n) = 0.5 %.
    assert close_to_close(close, ppy) == pytest.approx(sigma_annual, rel=0.02)


@pytest.fixture(scope="module")
def ohlc():
    return brownian_ohlc(1000, vol_per_bar=0.01, steps=2000, seed=8)


@pytest.mark.parametrize("estimator", ["parkinson", "garman_klass", "yang_zhang"])
def test_range_estimators_unbiased_on_brownian_bars(ohlc, estimator):
    o, h, lo, c = ohlc
    ppy = 365
    true = 0.01 * math.sqrt(ppy)
    got = {
        "parkinson": lambda: parkinson(h, lo, ppy),
        "garman_klass": lambda: garman_klass(o, h, lo, c, ppy),
        "yang_zhang": lambda: yang_zhang(o, h, lo, c, ppy),
    }[estimator]()
    # Sampling error ~1 % at 1,000 bars; sampling the path 2,000 times a bar biases
    # the range ~1.5 % low. 5 % catches a wrong constant (Parkinson's 4 ln 2 vs 4 is 17 %).
    assert got == pytest.approx(true, rel=0.05)


def test_yang_zhang_is_drift_independent():
    ppy = 365
    o, h, lo, c = brownian_ohlc(1000, vol_per_bar=0.01, steps=2000, drift_per_bar=0.01, seed=9)
    assert yang_zhang(o, h, lo, c, ppy) == pytest.approx(0.01 * math.sqrt(ppy), rel=0.05)


def test_atr_by_hand():
    high = np.array([10.0, 11.0, 12.0, 11.5, 13.0])
    low = np.array([9.0, 9.5, 10.5, 10.0, 11.0])
    close = np.array([9.5, 10.8, 11.0, 10.2, 12.5])
    # TR: bar1 max(1.5, |11-9.5|, |9.5-9.5|) = 1.5; bar2 max(1.5, 1.2, 0.3) = 1.5;
    # bar3 max(1.5, 0.5, 1.0) = 1.5; bar4 max(2.0, 2.8, 0.8) = 2.8.
    # window 2: ATR0 = (1.5 + 1.5) / 2 = 1.5; then (1.5 + 1.5) / 2 = 1.5; then (1.5 + 2.8) / 2.
    assert atr(high, low, close, window=2) == pytest.approx(2.15)
    assert math.isnan(atr(high, low, close, window=14))


def test_vol_spike_by_hand():
    calm = np.tile([0.01, -0.01], 348)  # 696 bars, RMS 1 %
    spike = np.tile([0.04, -0.04], 12)  # last 24 bars, RMS 4 %
    s = vol_spike(np.concatenate([calm, spike]), 8760)
    long_rms = math.sqrt((696 * 1e-4 + 24 * 16e-4) / 720)
    assert s.short_vol == pytest.approx(0.04 * math.sqrt(8760))
    assert s.long_vol == pytest.approx(long_rms * math.sqrt(8760))
    assert s.ratio == pytest.approx(0.04 / long_rms) and s.tripped
    quiet = vol_spike(np.tile([0.01, -0.01], 400), 8760)
    assert quiet.ratio == pytest.approx(1.0) and not quiet.tripped
    short = vol_spike(np.ones(100) * 0.01, 8760)
    assert math.isnan(short.ratio) and not short.tripped


def test_bad_market_data_gives_nan_and_bad_arguments_name_themselves():
    close = np.array([100.0, 101.0, np.nan, 102.0])
    assert math.isnan(close_to_close(close, 365))
    assert math.isnan(close_to_close([100.0, -1.0, 101.0], 365))
    assert math.isnan(parkinson([10.0, 9.0], [9.0, 10.0], 365))  # high below low
    assert math.isnan(ewma_vol([0.01, np.nan], 365))
    with pytest.raises(ValueError, match="lengths"):
        garman_klass([1.0, 2.0], [1.0], [1.0], [1.0], 365)
    with pytest.raises(ValueError, match="periods_per_year"):
        close_to_close([1.0, 2.0, 3.0], 0)
    with pytest.raises(ValueError, match="window"):
        atr([1.0], [1.0], [1.0], window=0)


@settings(max_examples=25, deadline=None)
@given(unit=st.floats(1e-4, 1e6), seed=st.integers(0, 10_000))
def test_estimators_do_not_depend_on_the_price_unit(unit, seed):
    # Quoting in USD, cents or sats changes nothing but ATR, which scales with the price.
    o, h, lo, c = brownian_ohlc(40, vol_per_bar=0.02, steps=50, seed=seed)
    ppy = 365
    pairs = [
        (close_to_close(c, ppy), close_to_close(c * unit, ppy)),
        (parkinson(h, lo, ppy), parkinson(h * unit, lo * unit, ppy)),
        (garman_klass(o, h, lo, c, ppy), garman_klass(o * unit, h * unit, lo * unit, c * unit, ppy)),
        (yang_zhang(o, h, lo, c, ppy), yang_zhang(o * unit, h * unit, lo * unit, c * unit, ppy)),
        (atr(h, lo, c) * unit, atr(h * unit, lo * unit, c * unit)),
    ]
    for base, scaled in pairs:
        assert scaled == pytest.approx(base, rel=1e-9)
