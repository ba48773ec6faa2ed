"""The simulated implied-vol surface and option quotes in coin (Deribit style).

Surface
-------
ATM level follows the realised regime: the expected average variance to
expiry under mean reversion, plus a variance risk premium::

    atm(T)^2 = (1 + premium)^2 x [vbar + (v - vbar) (1 - e^{-k T}) / (k T)]

with ``v`` the current instantaneous variance, ``vbar`` the model's
unconditional variance and ``k`` = 26 / year (implied vol mean-reverts with a
half-life of about 10 days, slower than the hourly log-variance noise, as
quoted term structures do). Skew and smile are quadratic in the normalised
log-moneyness ``z = ln(K/F) / sqrt(T)``::

    iv(K, T) = atm(T) x min(1 + skew z + smile z^2, 3),  skew -0.12, smile 0.06

which is always >= 0.94 x atm (the quadratic's minimum), puts richer than
calls (put skew). The surface is smooth but not checked for butterfly
arbitrage in the far wings.

Prices are Black-76 on the BTC index as the forward (basis and rates ignored:
the sim has no futures curve) and converted to coin: USD price / forward.
Put-call parity in coin is then C - P = (F - K) / F exactly.

References
----------
F. Black (1976), "The pricing of commodity contracts", J. Financial Economics 3.
Deribit, "Inverse options" (coin-denominated premium = USD premium / index).
"""

from __future__ import annotations

import math

import numpy as np

from cockpit.sim.instruments import option_tick
from sizing.greeks import black76

IV_MEAN_REVERSION = 26.0
VARIANCE_PREMIUM = 0.05
SKEW = -0.12
SMILE = 0.06
MIN_YEARS = 1.0 / (365.0 * 24.0)  # price at least one hour of time value until expiry


def atm_vol(variance_now: float, variance_mean: float, years) -> np.ndarray:
    """ATM implied vol (annual fraction) for expiries ``years`` away."""
    t = np.maximum(np.asarray(years, float), MIN_YEARS)
    kt = IV_MEAN_REVERSION * t
    weight = -np.expm1(-kt) / kt
    var = variance_mean + (variance_now - variance_mean) * weight
    return (1.0 + VARIANCE_PREMIUM) * np.sqrt(var)


def implied_vol(atm, forward, strike, years) -> np.ndarray:
    """Implied vol (annual fraction) with put skew and smile around ``atm``."""
    t = np.maximum(np.asarray(years, float), MIN_YEARS)
    z = np.log(np.asarray(strike, float) / forward) / np.sqrt(t)
    return np.asarray(atm, float) * np.minimum(1.0 + SKEW * z + SMILE * z * z, 3.0)


def coin_price(forward, strike, years, vol, is_call) -> np.ndarray:
    """Black-76 option price in coin per 1 BTC contract (USD price / forward)."""
    t = np.maximum(np.asarray(years, float), MIN_YEARS)
    return np.asarray(black76(forward, strike, t, vol, is_call).price) / forward


def floor_tick(price) -> np.ndarray:
    """Round down to Deribit's option tick grid (never below 0)."""
    p = np.maximum(np.asarray(price, float), 0.0)
    tick = option_tick(p)
    return np.round(np.floor(p / tick + 1e-9) * tick, 4)


def ceil_tick(price) -> np.ndarray:
    """Round up to Deribit's option tick grid (at least one tick)."""
    p = np.maximum(np.asarray(price, float), 0.0001)
    tick = option_tick(p)
    return np.round(np.ceil(p / tick - 1e-9) * tick, 4)


def half_spread_vol(vol_annual: float) -> float:
    """Half the bid-ask spread in vol points (fraction): 1 point at 50 % vol,
    scaling with the regime."""
    return 0.01 * max(vol_annual, 0.05) / 0.5


def quote_ladder(forward: float, strike, years, vol, is_call, half_spread: float, levels: int):
    """Marks and bid/ask price ladders in coin, ``levels`` deep, for arrays of options.

    Level i sits at ``vol -/+ half_spread x (1 + i/2)`` in IV terms. Returns
    (marks (n,), bids (n, levels), asks (n, levels)); bids are 0 where the price
    falls under one tick (no bid). One Black-76 call prices all of it.
    """
    depth = 1.0 + 0.5 * np.arange(levels)
    v = np.asarray(vol, float)[:, None]
    bid_vol = np.maximum(v - half_spread * depth, 0.05 * v)
    ask_vol = v + half_spread * depth
    k, t, c = (np.asarray(a)[:, None] for a in (strike, years, is_call))
    prices = coin_price(forward, k, t, np.hstack((v, bid_vol, ask_vol)), c)
    marks = prices[:, 0]
    bids = floor_tick(prices[:, 1 : 1 + levels])
    asks = ceil_tick(prices[:, 1 + levels :])
    # keep each side strictly monotone on the tick grid
    for i in range(1, levels):
        step_down = bids[:, i - 1] - option_tick(bids[:, i - 1])
        bids[:, i] = np.round(np.minimum(bids[:, i], step_down), 4)
        step_up = asks[:, i - 1] + option_tick(asks[:, i - 1])
        asks[:, i] = np.round(np.maximum(asks[:, i], step_up), 4)
    bids[bids < 0.0001 - 1e-12] = 0.0
    return marks, bids, asks


def years_between(now_ms: int, expiry_ms) -> np.ndarray:
    """Calendar time to expiry in years (365-day year)."""
    return (np.asarray(expiry_ms, float) - now_ms) / (365.0 * 86_400_000.0)


def intrinsic_coin(forward: float, strike: float, is_call: bool) -> float:
    """Settlement value in coin at expiry: max(F - K, 0) / F for calls."""
    value = forward - strike if is_call else strike - forward
    return max(value, 0.0) / forward if math.isfinite(forward) and forward > 0 else float("nan")
