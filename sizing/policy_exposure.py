"""Per-contract exposures of one instrument in USD: the numbers every cap divides by.

Conventions
-----------
* A *contract* is the venue's unit of ``amount``; ``contract_size`` turns it
  into coin (linear perps, coin-settled options) or USD (inverse perps and
  futures, whose ``contract_size`` is a USD face value).
* Delta is in USD of underlying exposure per contract (what one contract makes
  for a +1 move in the underlying, times the underlying price).
* Option Greeks come from Black-76 with the underlying price as the forward
  and zero rate (the basis is ignored), at the instrument's implied vol:
  vega in USD per vol point (0.01), gamma as the USD P&L of a 1 % move from the
  second-order term, ``0.5 * gamma * (0.01 * S)**2``.
* Maintenance margin is in USD: tiered (``sizing.margin``) for perps and
  futures, Deribit's option rule for coin-settled short options, and a flat
  fallback rate otherwise.

References
----------
Black, F. (1976), "The pricing of commodity contracts", J. Financial Economics 3.
Deribit, "Inverse futures" and "Options" contract specifications.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Maintenance margin as a fraction of notional when the venue gives neither
#: tiers nor a current figure (Binance USD-M's first BTC tier is 0.4 %; we err high).
FALLBACK_MM_RATE = 0.005


@dataclass(frozen=True, slots=True)
class Exposure:
    """What one contract of an instrument is worth and how it moves, in USD.

    ``notional_usd``: underlying value per contract; ``delta_usd``: USD P&L per
    +100 % linearised move (so 1 % move = delta_usd / 100); ``vega_usd``: per
    vol point; ``gamma_1pct_usd``: second-order P&L of a 1 % move;
    ``price_usd``: the contract's own value (option premium; equals notional
    for perps only in the sense of exposure, premium is 0 for perps).
    ``book_delta_usd``: the delta the book counts (``sizing.contracts``): for a
    coin-settled option the Black delta net of its coin price, as Deribit's
    ``delta_total``; otherwise ``delta_usd``. The delta band reads this one.
    """

    notional_usd: float
    delta_usd: float
    vega_usd: float
    gamma_1pct_usd: float
    price_usd: float
    book_delta_usd: float = math.nan

    def __post_init__(self) -> None:
        if math.isnan(self.book_delta_usd):
            object.__setattr__(self, "book_delta_usd", self.delta_usd)


def is_option(inst) -> bool:
    return inst.kind == "option"


def is_inverse_future(inst) -> bool:
    return (not inst.linear) and not is_option(inst)


def option_value_usd(inst, spot: np.ndarray | float) -> np.ndarray:
    """Black-76 USD value of one contract at underlying price(s) ``spot``, same vol and time."""
    from sizing.greeks import black76

    res = black76(spot, inst.strike, inst.years, inst.implied_vol, bool(inst.is_call))
    return np.asarray(res.price, float) * inst.contract_size


def exposure(inst) -> Exposure:
    """Per-contract USD exposure of ``inst`` (an ``InstrumentState``)."""
    cs = inst.contract_size
    if is_option(inst):
        from sizing.contracts import premium_adjustment_coin
        from sizing.greeks import black76

        s = inst.underlying_price
        g = black76(s, inst.strike, inst.years, inst.implied_vol, bool(inst.is_call))
        delta_usd = float(g.delta) * s * cs
        # coin-settled: the coin value (Black price / S) comes off, as in delta_total
        adj = premium_adjustment_coin(inst, 1.0, float(g.price) / s) * s
        return Exposure(
            notional_usd=cs * s,
            delta_usd=delta_usd,
            vega_usd=float(g.vega) * cs,
            gamma_1pct_usd=0.5 * float(g.gamma) * (0.01 * s) ** 2 * cs,
            price_usd=float(g.price) * cs,
            book_delta_usd=delta_usd + adj,
        )
    if is_inverse_future(inst):
        # face value in USD: the USD exposure is the face value whatever the price
        return Exposure(cs, cs, 0.0, 0.0, 0.0)
    value = cs * inst.mark_price
    return Exposure(value, value, 0.0, 0.0, 0.0)


def contract_spec(inst):
    """``inst`` (an ``InstrumentState``) as the one book's ``sizing.contracts.ContractSpec``."""
    from sizing.contracts import ContractSpec

    return ContractSpec(inst.symbol, inst.kind, inst.linear, inst.contract_size,
                        base=inst.group, settle="USDT" if inst.linear else inst.group,
                        underlying=inst.group, venue=inst.venue, strike=inst.strike,
                        is_call=bool(inst.is_call), margin_tiers=tuple(inst.margin_tiers))


def maintenance_usd(inst, contracts: float) -> float:
    """Maintenance margin in USD that ``contracts`` of ``inst`` would carry.

    The one book's rule (``sizing.contracts.position_margin``, what the paper
    broker charges): tiers on the notional in the margin currency, Deribit's
    option and BTC-future rules, ``DEFAULT_TIERS`` without tiers. Only when a
    perp/future has no tier table but the venue reports this position's own
    margin is that rate scaled instead (the venue knows its rule; we do not).
    """
    from sizing.contracts import position_margin

    n = abs(float(contracts))
    if n == 0.0:
        return 0.0
    if not is_option(inst) and not inst.margin_tiers and inst.maintenance_margin_usd:
        return current_mm_rate(inst) * n * exposure(inst).notional_usd
    s = inst.underlying_price
    settle_usd = 1.0 if inst.linear else s
    _, mm = position_margin(contract_spec(inst), float(contracts), inst.mark_price, s,
                            settle_usd, s)
    return float(mm)


def linear_mm_per_contract(inst, direction: int) -> float | None:
    """USD maintenance margin per contract when it is proportional to size, else None (tiers).

    Lets the caps solve in closed form instead of bisecting over the tier table.
    """
    if is_option(inst) or not inst.margin_tiers:
        return maintenance_usd(inst, float(direction))
    return None


def current_mm_rate(inst) -> float:
    """The position's own MM rate (venue figure / notional) or the fallback."""
    held = abs(inst.contracts) * exposure(inst).notional_usd
    mm = inst.maintenance_margin_usd
    if mm is not None and held > 0 and mm > 0:
        return mm / held
    return FALLBACK_MM_RATE


def daily_sigma(vol_annual: float) -> float:
    """Daily standard deviation of log price (crypto trades 365 days a year)."""
    return vol_annual / math.sqrt(365.0)
