"""Black-76 prices and Greeks (placeholder until the sizing issue's full module).

``black76(forward, strike, years, vol, is_call, rate=0.0)`` broadcasts like a
numpy ufunc. Price in the forward's currency; vega per vol point (0.01);
theta per calendar day; rho per 1 % rate; vol annualised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr


@dataclass(frozen=True, slots=True)
class Black76:
    price: np.ndarray
    delta: np.ndarray
    gamma: np.ndarray
    vega: np.ndarray
    theta: np.ndarray
    rho: np.ndarray


def black76(forward, strike, years, vol, is_call, rate=0.0) -> Black76:
    f, k, t, s, c, r = np.broadcast_arrays(
        np.asarray(forward, float), np.asarray(strike, float), np.asarray(years, float),
        np.asarray(vol, float), np.asarray(is_call, bool), np.asarray(rate, float),
    )
    sq = np.sqrt(t)
    sd = s * sq
    d1 = (np.log(f / k) + 0.5 * sd * sd) / sd
    d2 = d1 - sd
    df = np.exp(-r * t)
    pdf = np.exp(-0.5 * d1 * d1) / np.sqrt(2 * np.pi)
    call = df * (f * ndtr(d1) - k * ndtr(d2))
    put = df * (k * ndtr(-d2) - f * ndtr(-d1))
    price = np.where(c, call, put)
    delta = np.where(c, df * ndtr(d1), -df * ndtr(-d1))
    gamma = df * pdf / (f * sd)
    vega = df * f * pdf * sq * 0.01
    theta_year = -df * f * pdf * s / (2 * sq) + r * price
    theta = theta_year / 365.0
    rho = -t * price * 0.01
    return Black76(price, delta, gamma, vega, theta, rho)
