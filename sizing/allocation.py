"""Risk-based allocation across instruments: inverse vol and true equal risk contribution.

Weights are fractions of the risk budget that sum to 1 (long-only). ``cov`` is a
covariance matrix of returns in any consistent unit (daily or annualised: the
weights do not depend on the scale). Market-data problems (a NaN in ``cov`` or
``vols``, a zero vol) give all-NaN weights rather than an exception; a malformed
argument (not square, not symmetric, negative variance) raises ``ValueError``.

References
----------
S. Maillard, T. Roncalli, J. Teiletche, "The Properties of Equally Weighted Risk
Contribution Portfolios", J. Portfolio Management 36(4) (2010).
F. Spinu, "An Algorithm for Computing Risk Parity Weights", SSRN 2297383 (2013).
"""

from __future__ import annotations

import numpy as np

_MAX_NEWTON = 50


def _check_cov(cov) -> np.ndarray:
    c = np.asarray(cov, float)
    if c.ndim != 2 or c.shape[0] != c.shape[1] or c.shape[0] == 0:
        raise ValueError(f"cov: expected a square (n, n) matrix, got shape {c.shape}")
    if np.isnan(c).any():
        return c
    scale = np.max(np.abs(np.diag(c)))
    if np.max(np.abs(c - c.T)) > 1e-8 * max(scale, 1e-300):
        raise ValueError("cov: not symmetric; pass a covariance matrix (cov + cov.T) / 2")
    if (np.diag(c) < 0).any():
        raise ValueError("cov: negative variance on the diagonal; pass a covariance matrix")
    return 0.5 * (c + c.T)


def inverse_vol_weights(vols) -> np.ndarray:
    """Weights proportional to 1 / vol, summing to 1.

    Equal to the ERC weights when the instruments are uncorrelated (Maillard et al.
    2010, section 2.3). ``vols`` must be > 0; any NaN or non-positive vol gives
    all-NaN weights because the others cannot be normalised without it.
    """
    v = np.asarray(vols, float)
    if v.ndim != 1 or v.size == 0:
        raise ValueError(f"vols: expected a non-empty 1-d array, got shape {v.shape}")
    if not (v > 0).all():  # also catches NaN
        return np.full(v.shape, np.nan)
    inv = 1.0 / v
    return inv / inv.sum()


def risk_contributions(weights, cov) -> np.ndarray:
    """Each instrument's contribution to portfolio vol: w_i (cov w)_i / sqrt(w' cov w).

    The contributions sum to the portfolio vol (Euler allocation), in the unit of
    ``sqrt(cov)``. Divide by their sum for fractions of risk.
    """
    w = np.asarray(weights, float)
    c = _check_cov(cov)
    if w.shape != (c.shape[0],):
        raise ValueError(f"weights: expected shape ({c.shape[0]},) to match cov, got {w.shape}")
    marginal = c @ w
    variance = float(w @ marginal)
    if not variance > 0:
        return np.full(w.shape, np.nan)
    return w * marginal / np.sqrt(variance)


def risk_parity_weights(cov, budgets=None) -> np.ndarray:
    """Long-only weights whose risk contributions are equal (or match ``budgets``).

    Parameters
    ----------
    cov : array_like, shape (n, n)
        Covariance of returns; positive definite for a unique answer.
    budgets : array_like, shape (n,), optional
        Target risk shares, > 0; normalised to sum to 1. Default equal (ERC).

    Returns
    -------
    ndarray, shape (n,)
        Weights > 0 summing to 1 with w_i (cov w)_i proportional to budget_i.

    Notes
    -----
    Spinu (2013): the ERC weights are the normalised minimiser of the strictly
    convex f(y) = y' cov y / 2 - sum_i b_i ln y_i over y > 0, whose first-order
    condition y_i (cov y)_i = b_i is exactly the risk-budget condition. Newton's
    method with a step cut that keeps y > 0 converges quadratically from the
    inverse-vol start, typically in under 10 steps.
    """
    c = _check_cov(cov)
    n = c.shape[0]
    b = np.full(n, 1.0 / n) if budgets is None else np.asarray(budgets, float)
    if b.shape != (n,) or not (b > 0).all():
        raise ValueError(f"budgets: expected {n} positive risk shares, got {budgets!r}")
    b = b / b.sum()
    if np.isnan(c).any() or not (np.diag(c) > 0).all():
        return np.full(n, np.nan)
    # Start from inverse vol scaled so that y' cov y = 1 (where the solution's is sum b = 1).
    y = 1.0 / np.sqrt(np.diag(c))
    y /= np.sqrt(y @ c @ y)
    for _ in range(_MAX_NEWTON):
        cy = c @ y
        grad = cy - b / y
        hess = c + np.diag(b / (y * y))
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            return np.full(n, np.nan)
        # Halve the step until y stays positive (the log barrier is infinite at 0).
        t = 1.0
        while (y - t * step <= 0).any() and t > 1e-12:
            t *= 0.5
        y = y - t * step
        if np.max(np.abs(y * (c @ y) - b)) <= 1e-14:
            break
    return y / y.sum()
