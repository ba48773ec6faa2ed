"""Implied vol: round trips over strikes, expiries and vols, reasons, and vollib (LBR)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sizing.greeks import black76, implied_vol, implied_vol_with_reason

F = 100.0


def _vega_per_unit_vol(k, t, v, r):
    return black76(F, k, t, v, True, r).vega * 100.0


def _check_round_trip(k, t, v, c, r):
    price = black76(F, k, t, v, c, r).price
    vol, reason = implied_vol_with_reason(price, F, k, t, c, r)
    assert set(np.unique(reason)) <= {"ok", "at intrinsic (zero time value)"}
    assert not np.isnan(vol).any()
    # The agreed tolerances: reprice to 1e-10 x forward everywhere; the vol itself to
    # 1e-9 wherever vega >= 0.1 % of the forward per unit vol.
    reprice = black76(F, k, t, vol, c, r).price
    assert np.max(np.abs(reprice - price)) <= 1e-10 * F
    determined = _vega_per_unit_vol(k, t, v, r) >= 1e-3 * F
    assert np.max(np.abs(vol - v)[determined], initial=0.0) <= 1e-9
    return determined.sum()


def test_round_trip_across_wings_expiries_and_vols():
    # Strikes from F e^-3 to F e^3 (deep ITM and OTM wings), 1 day .. 2 years, 5 % .. 300 %.
    k = F * np.exp(np.linspace(-3, 3, 41))
    t = np.array([1 / 365, 7 / 365, 30 / 365, 0.25, 1.0, 2.0])
    v = np.array([0.05, 0.1, 0.25, 0.5, 0.8, 1.2, 2.0, 3.0])
    r = np.array([0.0, 0.05])
    c = np.array([True, False])
    kk, tt, vv, rr, cc = (a.ravel() for a in np.meshgrid(k, t, v, r, c, indexing="ij"))
    determined = _check_round_trip(kk, tt, vv, cc, rr)
    assert determined > 0.25 * kk.size  # the vol check bit on a good share of the grid


def test_round_trip_on_a_random_chain():
    rng = np.random.default_rng(7)
    n = 20_000
    k = F * np.exp(rng.uniform(-2, 2, n))
    t = np.exp(rng.uniform(np.log(1 / 365), np.log(2), n))
    v = np.exp(rng.uniform(np.log(0.05), np.log(3), n))
    c = rng.random(n) < 0.5
    r = rng.uniform(0, 0.1, n)
    _check_round_trip(k, t, v, c, r)


@settings(max_examples=80, deadline=None)
@given(
    x=st.floats(-2.5, 2.5), t=st.floats(1 / 365, 2), v=st.floats(0.05, 3), call=st.booleans()
)
def test_round_trip_property(x, t, v, call):
    _check_round_trip(np.array([F * np.exp(x)]), t, v, call, 0.0)


def test_matches_vollib_lets_be_rational_on_a_grid():
    # vollib is py_vollib's maintained name (py_vollib 1.0.12 warns "import from vollib
    # instead"); its Black IV is Jäckel's Let's Be Rational, the accuracy reference.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from vollib.black import black as vl_black
        from vollib.black.implied_volatility import implied_volatility as vl_iv
    rng = np.random.default_rng(3)
    k = F * np.exp(rng.uniform(-1.5, 1.5, 150))
    t = np.exp(rng.uniform(np.log(2 / 365), np.log(2), 150))
    v = rng.uniform(0.08, 2.5, 150)
    r = rng.uniform(0, 0.08, 150)
    c = rng.random(150) < 0.5
    # Prices from vollib, vols from vollib's Let's Be Rational: an independent pipeline.
    price, ref = np.empty(150), np.empty(150)
    for i in range(150):
        flag = "c" if c[i] else "p"
        price[i] = vl_black(flag, F, k[i], t[i], r[i], v[i])
        ref[i] = vl_iv(price[i], F, k[i], r[i], t[i], flag)
    ours = implied_vol(price, F, k, t, c, r)
    determined = _vega_per_unit_vol(k, t, v, r) >= 1e-3 * F
    assert determined.sum() > 100
    assert np.max(np.abs(ours - ref)[determined]) <= 1e-9


def test_nan_with_reason_outside_the_no_arbitrage_bounds():
    d = np.exp(-0.05 * 0.5)
    cases = [
        # (price, strike, years, is_call, expected reason)
        (d * 9.0, 90.0, 0.5, True, "below intrinsic"),  # intrinsic is D x 10
        (d * 5.0, 110.0, 0.5, False, "below intrinsic"),
        (d * 100.0, 90.0, 0.5, True, "above upper bound"),  # a call is worth < D F
        (d * 120.0, 110.0, 0.5, False, "above upper bound"),  # a put is worth < D K
        (-1.0, 100.0, 0.5, True, "below intrinsic"),
        (np.nan, 100.0, 0.5, True, "nan input"),
        (5.0, np.nan, 0.5, True, "nan input"),
        (5.0, 100.0, 0.0, True, "non-positive time"),
        (5.0, 100.0, -1.0, True, "non-positive time"),
        (5.0, -100.0, 0.5, True, "non-positive forward or strike"),
    ]
    price, strike, years, call, expected = map(np.array, zip(*cases, strict=True))
    vol, reason = implied_vol_with_reason(price, F, strike, years, call, 0.05)
    assert np.isnan(vol).all()
    assert list(reason) == list(expected)


def test_price_at_intrinsic_is_zero_vol():
    d = np.exp(-0.05)
    vol, reason = implied_vol_with_reason(d * 10.0, F, 90.0, 1.0, True, 0.05)
    assert vol == 0.0 and reason == "at intrinsic (zero time value)"


def test_broadcasts_over_a_chain_and_keeps_shape():
    strikes = np.array([80.0, 100.0, 120.0])
    expiries = np.array([[0.1], [1.0]])
    price = black76(F, strikes, expiries, 0.7, True).price
    vol = implied_vol(price, F, strikes, expiries, True)
    assert vol.shape == (2, 3)
    np.testing.assert_allclose(vol, 0.7, atol=1e-12)
    assert implied_vol(float(price[0, 1]), F, 100.0, 0.1, True) == pytest.approx(0.7, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    x=st.floats(-1.5, 1.5), t=st.floats(2 / 365, 2), v=st.floats(0.05, 3),
    r=st.floats(0, 0.1), scale=st.floats(1e-3, 1e5),
)
def test_call_and_put_imply_the_same_vol_in_any_currency_unit(x, t, v, r, scale):
    # Parity: the call and the put at one strike carry the same time value, hence one vol;
    # and Black-76 is homogeneous of degree one in (price, F, K), so units do not matter.
    f, k = 100.0 * scale, 100.0 * scale * np.exp(x)
    call = black76(f, k, t, v, True, r)
    put = black76(f, k, t, v, False, r)
    if call.vega * 100 < 1e-3 * f:
        return  # the price does not pin the vol down; the round-trip tests cover repricing
    vols = implied_vol([call.price, put.price], f, k, t, [True, False], r)
    np.testing.assert_allclose(vols, v, atol=1e-9)
