"""Risk parity: equal risk contributions, inverse vol on a diagonal, published example."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose

from sizing.allocation import inverse_vol_weights, risk_contributions, risk_parity_weights


@st.composite
def covariances(draw):
    """Random SPD covariances with vols from 5 % to 200 % and arbitrary correlation."""
    n = draw(st.integers(2, 8))
    a = draw(arrays(float, (n, n), elements=st.floats(-1, 1)))
    vols = draw(arrays(float, n, elements=st.floats(0.05, 2.0)))
    m = a @ a.T + 0.05 * np.eye(n)  # SPD, well away from singular
    d = 1 / np.sqrt(np.diag(m))
    corr = m * d[:, None] * d[None, :]
    return corr * vols[:, None] * vols[None, :]


@settings(max_examples=60, deadline=None)
@given(cov=covariances())
def test_erc_weights_give_equal_risk_contributions(cov):
    w = risk_parity_weights(cov)
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    assert (w > 0).all()
    rc = risk_contributions(w, cov)
    assert rc.sum() == pytest.approx(np.sqrt(w @ cov @ w), rel=1e-12)  # Euler: sums to vol
    assert_allclose(rc, rc.mean(), rtol=1e-8)


@settings(max_examples=30, deadline=None)
@given(vols=arrays(float, st.integers(1, 10), elements=st.floats(0.01, 3.0)))
def test_inverse_vol_equals_erc_for_a_diagonal_covariance(vols):
    w_iv = inverse_vol_weights(vols)
    assert_allclose(w_iv, risk_parity_weights(np.diag(vols**2)), rtol=1e-10)
    assert_allclose(w_iv * vols, (w_iv * vols).mean(), rtol=1e-12)


def test_maillard_roncalli_teiletche_two_asset_closed_form():
    # Maillard et al. (2010) section 2.2: for two assets ERC is inverse vol for any
    # correlation: w1 = sigma2 / (sigma1 + sigma2). sigma = 20 %, 40 %, rho = 0.5
    # -> w = (2/3, 1/3).
    s1, s2, rho = 0.2, 0.4, 0.5
    cov = np.array([[s1 * s1, rho * s1 * s2], [rho * s1 * s2, s2 * s2]])
    assert_allclose(risk_parity_weights(cov), [2 / 3, 1 / 3], rtol=1e-12)


def test_erc_differs_from_inverse_vol_when_correlations_differ():
    # Three 20 %-vol assets, two of them 90 % correlated: ERC moves weight to the third.
    vol = 0.2
    corr = np.array([[1.0, 0.9, 0.0], [0.9, 1.0, 0.0], [0.0, 0.0, 1.0]])
    w = risk_parity_weights(corr * vol * vol)
    assert w[2] > 0.4 and w[0] == pytest.approx(w[1])
    # Hand check of the fixed point: w1 (Sw)_1 = w3 (Sw)_3 with w1 = w2 = a, w3 = 1 - 2a
    # gives a (a + 0.9 a) = (1 - 2a)^2 -> a = (4 - sqrt(7.6)) / 4.2 (the root < 1/2).
    a = (4 - np.sqrt(16 - 4 * 2.1 * 1)) / (2 * 2.1)
    assert_allclose(w, [a, a, 1 - 2 * a], rtol=1e-10)


def test_risk_budgets():
    cov = np.diag([0.04, 0.09])
    w = risk_parity_weights(cov, budgets=[0.75, 0.25])
    rc = risk_contributions(w, cov)
    assert_allclose(rc / rc.sum(), [0.75, 0.25], rtol=1e-10)


def test_market_data_problems_give_nan_and_malformed_input_names_the_argument():
    assert np.isnan(risk_parity_weights([[np.nan, 0], [0, 1.0]])).all()
    assert np.isnan(inverse_vol_weights([0.2, np.nan])).all()
    assert np.isnan(inverse_vol_weights([0.2, 0.0])).all()
    with pytest.raises(ValueError, match="cov"):
        risk_parity_weights(np.ones((2, 3)))
    with pytest.raises(ValueError, match="cov"):
        risk_parity_weights([[1.0, 0.5], [0.0, 1.0]])
    with pytest.raises(ValueError, match="budgets"):
        risk_parity_weights(np.eye(2), budgets=[1.0, -1.0])
    with pytest.raises(ValueError, match="weights"):
        risk_contributions([0.5, 0.5, 0.0], np.eye(2))
