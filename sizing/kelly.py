"""Kelly sizing: the growth-optimal bet for a discrete bet and for a continuous drift.

Both return the *full* Kelly size; the policy applies the trader's fraction (half
Kelly is the usual choice, since full Kelly's drawdowns are brutal and the inputs
are estimates) and a leverage cap. NaN in gives NaN out; impossible inputs (a
probability outside [0, 1], a non-positive payoff ratio or vol) also give NaN,
because these come from estimates of market data, not from the trader.

References
----------
J. L. Kelly, "A New Interpretation of Information Rate", Bell System Technical
Journal 35 (1956).
E. O. Thorp, "The Kelly Criterion in Blackjack, Sports Betting and the Stock
Market" (2006), sections 2 and 7.
R. C. Merton, "Lifetime Portfolio Selection under Uncertainty", Rev. Econ. Stat. (1969).
"""

from __future__ import annotations

import numpy as np


def kelly_fraction(win_prob, win_loss_ratio):
    """Fraction of capital to stake on a bet that wins ``b`` per 1 lost.

    Parameters
    ----------
    win_prob : array_like
        Probability of a win, in [0, 1].
    win_loss_ratio : array_like
        ``b``: amount won per unit staked on a win (a loss costs the stake), > 0.

    Returns
    -------
    ndarray
        f* = p - (1 - p) / b. Negative means the bet has negative edge (take the
        other side or stay out); the caller decides whether to floor it at 0.

    Notes
    -----
    Maximises E[log(1 + f X)] with X = b w.p. p, -1 w.p. 1 - p (Kelly 1956;
    Thorp 2006, eq. 2.3). Textbook check: p = 0.6, b = 1 gives 0.2.
    """
    p = np.asarray(win_prob, float)
    b = np.asarray(win_loss_ratio, float)
    valid = (p >= 0) & (p <= 1) & (b > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = p - (1.0 - p) / b
    return np.where(valid, f, np.nan)


def kelly_leverage(drift_annual, vol_annual, rate=0.0):
    """Growth-optimal leverage for an asset with lognormal returns.

    Parameters
    ----------
    drift_annual : array_like
        Expected arithmetic return per year, fraction (mu).
    vol_annual : array_like
        Annualised volatility, fraction (sigma), > 0.
    rate : array_like
        Risk-free or funding rate per year, fraction (r).

    Returns
    -------
    ndarray
        Leverage (notional / equity) = (mu - r) / sigma^2; negative means short.

    Notes
    -----
    Maximises the growth rate g(f) = r + f (mu - r) - f^2 sigma^2 / 2 (Merton 1969;
    Thorp 2006, section 7). At that leverage the portfolio vol is the Sharpe ratio
    (mu - r) / sigma, which is why full Kelly is aggressive with noisy drifts.
    """
    mu = np.asarray(drift_annual, float)
    sigma = np.asarray(vol_annual, float)
    r = np.asarray(rate, float)
    valid = sigma > 0
    safe = np.where(valid, sigma, 1.0)
    return np.where(valid, (mu - r) / (safe * safe), np.nan)
