"""Kelly: textbook values and the growth-rate optimum it claims to be."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from sizing.kelly import kelly_fraction, kelly_leverage


def test_textbook_even_money_bet():
    # Thorp (2006) eq. 2.3: p = 0.6, b = 1 -> f* = p - q = 0.2.
    assert kelly_fraction(0.6, 1.0) == pytest.approx(0.2)


def test_textbook_values_by_hand():
    # p = 0.5, b = 2: f* = 0.5 - 0.5/2 = 0.25.  p = 0.4, b = 1: f* = -0.2 (no edge: stay out).
    np.testing.assert_allclose(kelly_fraction([0.5, 0.4, 1.0], [2.0, 1.0, 3.0]), [0.25, -0.2, 1.0])


@settings(max_examples=40, deadline=None)
@given(p=st.floats(0.05, 0.95), b=st.floats(0.2, 5.0))
def test_kelly_fraction_maximises_expected_log_growth(p, b):
    f_star = float(kelly_fraction(p, b))

    def minus_growth(f):
        return -(p * np.log1p(f * b) + (1 - p) * np.log1p(-f))

    best = minimize_scalar(minus_growth, bounds=(-1 / b + 1e-9, 1 - 1e-9), method="bounded",
                           options={"xatol": 1e-10})
    assert f_star == pytest.approx(best.x, abs=1e-6)


def test_merton_leverage_by_hand():
    # mu = 10 %, r = 2 %, sigma = 40 %: (0.10 - 0.02) / 0.16 = 0.5x.
    assert kelly_leverage(0.10, 0.40, rate=0.02) == pytest.approx(0.5)
    # A negative excess drift says short: (0.0 - 0.05) / 0.25 = -0.2.
    assert kelly_leverage(0.0, 0.5, rate=0.05) == pytest.approx(-0.2)


def test_kelly_leverage_maximises_continuous_growth_rate():
    # g(f) = r + f (mu - r) - f^2 sigma^2 / 2: check against a fine grid search.
    mu, sigma, r = 0.3, 0.8, 0.04
    f = np.linspace(-2, 2, 400_001)
    growth = r + f * (mu - r) - 0.5 * f**2 * sigma**2
    assert kelly_leverage(mu, sigma, r) == pytest.approx(f[np.argmax(growth)], abs=1e-5)


def test_impossible_or_missing_inputs_give_nan():
    assert np.isnan(kelly_fraction([np.nan, 1.2, -0.1, 0.6], [1.0, 1.0, 1.0, 0.0])).all()
    assert np.isnan(kelly_leverage([0.1, np.nan, 0.1], [0.0, 0.5, np.nan])).all()
