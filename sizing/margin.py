"""Margin maths for linear and inverse derivatives.

Conventions
-----------
* ``notional`` is the absolute position value in the *margin currency*:
  USD(T) for linear contracts, coin for inverse contracts.
* Rates are fractions (0.005 = 0.5 %), never percent.
* Tiered maintenance margin follows the published "maintenance amount"
  form used by Binance USD-M, Bybit and OKX::

      MM = notional * maintenance_rate(tier) - maintenance_amount(tier)

  where the tier is the first whose ``max_notional`` is >= notional.

References
----------
Binance USD-M, "Leverage and Margin of USDⓈ-M Futures";
Bybit, "Maintenance Margin (USDT Contract)".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class MarginTier:
    """One leverage tier; applies while ``notional <= max_notional``.

    ``initial_rate`` is 1 / max leverage of the tier; ``maintenance_amount``
    is the deduction ("cum") that keeps MM continuous across tiers.
    """

    max_notional: float
    initial_rate: float
    maintenance_rate: float
    maintenance_amount: float = 0.0


def tier_for(notional: float, tiers: tuple[MarginTier, ...]) -> MarginTier:
    """The tier that applies to an absolute ``notional`` (the last tier beyond the table)."""
    if not tiers:
        raise ValueError("tiers: empty; pass at least one MarginTier")
    n = abs(float(notional))
    for tier in tiers:
        if n <= tier.max_notional:
            return tier
    return tiers[-1]


def initial_margin(notional: float, tiers: tuple[MarginTier, ...]) -> float:
    """Initial margin (margin currency) for an absolute ``notional``: notional x IMR(tier)."""
    n = abs(float(notional))
    return n * tier_for(n, tiers).initial_rate


def maintenance_margin(notional: float, tiers: tuple[MarginTier, ...]) -> float:
    """Maintenance margin (margin currency): notional x MMR(tier) - maintenance amount."""
    n = abs(float(notional))
    t = tier_for(n, tiers)
    return float(np.maximum(n * t.maintenance_rate - t.maintenance_amount, 0.0))
