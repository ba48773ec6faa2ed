"""Black-76 prices and Greeks: textbook value, finite differences, parity, limits, vollib."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from sizing.greeks import black76, inverse_coin_delta, inverse_coin_price


def test_hull_black_model_put_example():
    # Hull, Options, Futures and Other Derivatives, example on Black's model:
    # F = 20, K = 20, r = 9 %, T = 4 months, sigma = 25 %  ->  put = 1.12.
    # By hand at the money: s = 0.25 sqrt(1/3), d1 = s/2, d2 = -s/2, so
    # put = e^{-rT} K (N(s/2) - N(-s/2)) = e^{-0.03} x 20 x erf(s / (2 sqrt 2)).
    put = black76(20.0, 20.0, 4 / 12, 0.25, False, rate=0.09)
    assert round(float(put.price), 2) == 1.12
    s = 0.25 * math.sqrt(1 / 3)
    by_hand = math.exp(-0.03) * 20.0 * math.erf(s / (2 * math.sqrt(2)))
    assert_allclose(put.price, by_hand, rtol=1e-13)


def _grid():
    f = 100.0
    k = f * np.exp(np.linspace(-0.8, 0.8, 9))
    t = np.array([7 / 365, 0.1, 0.5, 2.0])
    v = np.array([0.1, 0.5, 1.2])
    r = np.array([0.0, 0.05])
    c = np.array([True, False])
    kk, tt, vv, rr, cc = np.meshgrid(k, t, v, r, c, indexing="ij")
    return f, kk.ravel(), tt.ravel(), vv.ravel(), rr.ravel(), cc.ravel()


def test_every_greek_matches_central_finite_differences_on_a_grid():
    f, k, t, v, r, c = _grid()
    g = black76(f, k, t, v, c, r)

    def price(ff=f, tt=t, vv=v, rr=r):
        return black76(ff, k, tt, vv, c, rr).price

    hf = 1e-5 * f
    delta_fd = (price(ff=f + hf) - price(ff=f - hf)) / (2 * hf)
    hg = 1e-5 * f
    gamma_fd = (price(ff=f + hg) - 2 * price() + price(ff=f - hg)) / hg**2
    hv = 1e-6
    vega_fd = (price(vv=v + hv) - price(vv=v - hv)) / (2 * hv) * 0.01
    ht = 1e-6
    theta_fd = -(price(tt=t + ht) - price(tt=t - ht)) / (2 * ht) / 365.0
    hr = 1e-6
    rho_fd = (price(rr=r + hr) - price(rr=r - hr)) / (2 * hr) * 0.01
    # Worst element over the grid (assert_allclose checks every one). The tolerances are
    # the central-difference error for these steps, O(h^2) truncation + eps P / h (or
    # eps P / h^2 for gamma) rounding: measured max 7e-10 (delta), 8e-8 (gamma), 2e-10
    # (vega, theta, rho); a wrong formula is off by orders of magnitude more.
    assert_allclose(g.delta, delta_fd, rtol=0, atol=5e-9)
    assert_allclose(g.gamma, gamma_fd, rtol=0, atol=5e-7)
    assert_allclose(g.vega, vega_fd, rtol=0, atol=2e-9)
    assert_allclose(g.theta, theta_fd, rtol=0, atol=2e-9)
    assert_allclose(g.rho, rho_fd, rtol=0, atol=2e-9)


def test_put_call_parity_for_price_and_greeks():
    f, k, t, v, r, _ = _grid()
    call = black76(f, k, t, v, True, r)
    put = black76(f, k, t, v, False, r)
    df = np.exp(-r * t)
    # C - P = e^{-rT}(F - K); differentiate: dC - dP = e^{-rT}, equal gamma and vega.
    assert_allclose(call.price - put.price, df * (f - k), rtol=0, atol=1e-12 * f)
    assert_allclose(call.delta - put.delta, df, rtol=0, atol=1e-14)
    assert_allclose(call.gamma, put.gamma, rtol=1e-12)
    assert_allclose(call.vega, put.vega, rtol=1e-12)
    # theta: -d/dT of e^{-rT}(F-K) = r e^{-rT}(F-K), per day.
    assert_allclose(call.theta - put.theta, r * df * (f - k) / 365, rtol=0, atol=1e-12)
    assert_allclose(call.rho - put.rho, -t * df * (f - k) * 0.01, rtol=0, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    x=st.floats(-3, 3), t=st.floats(1 / 365, 3), v=st.floats(0.02, 3),
    r=st.floats(-0.02, 0.2), call=st.booleans(),
)
def test_price_inside_no_arbitrage_bounds(x, t, v, r, call):
    f, k = 100.0, 100.0 * np.exp(x)
    g = black76(f, k, t, v, call, r)
    df = np.exp(-r * t)
    intrinsic = df * max((f - k) if call else (k - f), 0.0)
    upper = df * (f if call else k)
    assert intrinsic - 1e-12 * f <= g.price <= upper
    assert g.gamma >= 0 and g.vega >= 0
    assert (0 <= g.delta <= df) if call else (-df <= g.delta <= 0)


def test_agrees_with_vollib_analytical_greeks():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from vollib.black import black as vl_black
        from vollib.black.greeks import analytical as vl
    f, k, t, v, r, c = _grid()
    g = black76(f, k, t, v, c, r)
    for i in range(0, k.size, 7):
        flag = "c" if c[i] else "p"
        args = (flag, f, k[i], t[i], r[i], v[i])
        assert g.price[i] == pytest.approx(vl_black(*args), abs=1e-11)
        assert g.delta[i] == pytest.approx(vl.delta(*args), abs=1e-12)
        assert g.gamma[i] == pytest.approx(vl.gamma(*args), abs=1e-12)
        assert g.vega[i] == pytest.approx(vl.vega(*args), abs=1e-12)
        assert g.theta[i] == pytest.approx(vl.theta(*args), abs=1e-12)
        assert g.rho[i] == pytest.approx(vl.rho(*args), abs=1e-12)


def test_expired_option_is_intrinsic_with_step_delta():
    g = black76(100.0, [90.0, 100.0, 110.0], 0.0, 0.6, True, 0.05)
    assert_allclose(g.price, [10.0, 0.0, 0.0])
    assert_allclose(g.delta, [1.0, 0.5, 0.0])
    for name in ("gamma", "vega", "theta", "rho"):
        assert_allclose(getattr(g, name), 0.0)
    put = black76(100.0, [90.0, 110.0], -0.1, 0.6, False)
    assert_allclose(put.price, [0.0, 10.0])
    assert_allclose(put.delta, [0.0, -1.0])


def test_zero_vol_is_discounted_intrinsic_and_the_limit_of_small_vol():
    t, r = 0.5, 0.05
    zero = black76(100.0, [90.0, 110.0], t, 0.0, [True, False], r)
    tiny = black76(100.0, [90.0, 110.0], t, 1e-9, [True, False], r)
    df = np.exp(-r * t)
    assert_allclose(zero.price, df * 10.0)
    assert_allclose(zero.price, tiny.price, rtol=1e-12)
    assert_allclose(zero.delta, tiny.delta, rtol=1e-12)
    assert_allclose(zero.theta, tiny.theta, rtol=1e-9)
    assert_allclose(zero.rho, tiny.rho, rtol=1e-12)


def test_bad_market_data_gives_nan_not_a_number_or_an_exception():
    g = black76([np.nan, 100, -5, 100, 100], [100, np.nan, 100, 0.0, 100],
                1.0, [0.5, 0.5, 0.5, 0.5, -0.2], True)
    for name in ("price", "delta", "gamma", "vega", "theta", "rho"):
        assert np.isnan(getattr(g, name)).all(), name
    assert np.isnan(black76(100, 100, np.nan, 0.5, True).price)
    assert np.isnan(black76(100, 100, 1.0, 0.5, True, np.nan).price)


def test_whole_chain_broadcasts_in_one_call_and_bad_shapes_name_the_arguments():
    strikes = np.array([80.0, 90.0, 100.0, 110.0])
    expiries = np.array([[0.1], [0.5], [1.0]])
    g = black76(100.0, strikes, expiries, 0.6, True)
    assert g.price.shape == (3, 4)
    assert_allclose(g.price[1, 2], black76(100.0, 100.0, 0.5, 0.6, True).price)
    with pytest.raises(ValueError, match="strike"):
        black76(100.0, np.ones(3), np.ones(4), 0.5, True)


def test_deribit_faq_inverse_delta_example():
    # Deribit FAQ ("Delta Total"): buying a 0.50-delta call for 0.10 BTC adds 0.40.
    index = 60_000.0
    assert inverse_coin_delta(0.50, 0.10 * index, index) == pytest.approx(0.40)
    assert inverse_coin_price(0.10 * index, index) == pytest.approx(0.10)
    assert np.isnan(inverse_coin_price(100.0, 0.0))


def test_inverse_coin_delta_is_the_coin_value_sensitivity_by_finite_difference():
    # Coin value C(S) = V(S)/S; the coin delta is S dC/dS (coin per 1/S relative move).
    s, k, t, v = 60_000.0, np.array([40e3, 55e3, 60e3, 70e3, 90e3]), 0.25, 0.7
    for call in (True, False):
        g = black76(s, k, t, v, call)
        h = 1e-6 * s
        coin = lambda x, call=call: black76(x, k, t, v, call).price / x  # noqa: E731
        fd = s * (coin(s + h) - coin(s - h)) / (2 * h)
        assert_allclose(inverse_coin_delta(g.delta, g.price, s), fd, rtol=0, atol=1e-9)
