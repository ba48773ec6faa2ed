"""Mark price, basis and funding of a simulated USDT perpetual (Binance style).

* mark = index x (1 + basis); the basis is an Ornstein-Uhlenbeck process with
  a 30-minute half-life around ``1 bp + 0.01 x (24 h log return of the
  index)`` (longs pay more after a rally), s.d. 3 bp x (vol / 50 %).
* Funding per 8 h, Binance's formula on the time-averaged premium P since the
  last funding time::

      rate = clamp(P + clamp(0.01 % - P, -0.05 %, +0.05 %), -0.75 %, +0.75 %)

  so a calm market funds at exactly 0.01 % per 8 h.

References
----------
Binance, "Introduction to Binance Futures Funding Rates" (premium index,
interest rate 0.01 %, clamp +-0.05 %, caps).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

INTEREST_RATE = 0.0001  # per 8 h
FUNDING_CAP = 0.0075
BASIS_HALF_LIFE_H = 0.5
BASIS_SD_CALM = 0.0003


def funding_rate(average_premium: float) -> float:
    """Binance's funding rate per 8 h from the average premium (fractions)."""
    inner = min(max(INTEREST_RATE - average_premium, -0.0005), 0.0005)
    return min(max(average_premium + inner, -FUNDING_CAP), FUNDING_CAP)


@dataclass(slots=True)
class PerpState:
    """Basis and the funding window of one perpetual."""

    basis: float = INTEREST_RATE
    premium_area: float = 0.0  # integral of basis dt over the window (basis x hours)
    window_hours: float = 0.0

    def advance(
        self,
        dt_hours: float,
        vol_annual: float,
        return_24h: float,
        rng: np.random.Generator,
    ) -> None:
        """Exact OU step of the basis over ``dt_hours``, then accumulate the premium."""
        target = INTEREST_RATE + min(max(0.01 * return_24h, -0.003), 0.003)
        a = math.exp(-math.log(2.0) / BASIS_HALF_LIFE_H * dt_hours)
        sd = BASIS_SD_CALM * max(vol_annual, 0.05) / 0.5
        self.basis = target + (self.basis - target) * a + sd * math.sqrt(1 - a * a) * float(
            rng.standard_normal()
        )
        self.basis = min(max(self.basis, -0.02), 0.02)
        self.premium_area += self.basis * dt_hours
        self.window_hours += dt_hours

    def predicted_rate(self) -> float:
        """The rate that would settle now (Binance publishes this live)."""
        premium = self.premium_area / self.window_hours if self.window_hours > 0 else self.basis
        return funding_rate(premium)

    def settle(self) -> float:
        """The rate at a funding time; starts a new window."""
        rate = self.predicted_rate()
        self.premium_area = 0.0
        self.window_hours = 0.0
        return rate
