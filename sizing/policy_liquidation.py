"""The policy's liquidation questions answered by the account solver (``sizing.account_risk``):
the same revaluation the margin panel shows, so a suggestion's what-if equals what the
panel says after approval.

Used when ``PortfolioState.book`` is given (the app and ``cockpit size`` on an account);
``sizing.constraints.liquidation_cap`` / ``liquidation_pct`` remain the closed forms for
a state without balances (``cockpit size --input``).
"""

from __future__ import annotations

import math

from sizing.account_risk import (
    BookPosition,
    liquidation_move,
    max_contracts_within_buffer,
    resized,
)
from sizing.policy_exposure import contract_spec, daily_sigma, is_option

INF = math.inf


def book_position(book, inst) -> BookPosition:
    """The book's position for ``inst`` (an ``InstrumentState``), or a flat one built from it."""
    for p in book.positions:
        if p.contract.symbol == inst.symbol:
            return p
    return BookPosition(contract_spec(inst), 0.0, inst.mark_price, inst.mark_price, inst.underlying_price,
                        inst.implied_vol if inst.implied_vol is not None else math.nan,
                        inst.years if inst.years is not None else math.nan)


def _adverse(inst, contracts: float) -> int:
    """-1 when the position loses as the price falls (longs, short puts), else +1."""
    long = contracts > 0
    if is_option(inst):
        return -1 if long == bool(inst.is_call) else 1
    return -1 if long else 1


def liquidation_sigmas(book, inst, contracts: float, vol: float) -> float:
    """Daily sigmas at ``vol`` to the account's liquidation, ``inst`` held at ``contracts``,
    in the direction that position loses; inf when none within +-95 % (or flat)."""
    if contracts == 0:
        return INF
    pos = book_position(book, inst)
    trial = resized(book, pos, contracts)
    direction = _adverse(inst, contracts)
    move = liquidation_move(trial, inst.group, direction)
    if move is None:
        return INF
    if move == 0.0:
        return 0.0
    return abs(math.log1p(move)) / daily_sigma(vol)


def liquidation_cap(book, inst, vol: float, buffer_sigmas: float, equity: float,
                    notional_per_contract: float, tolerance: float = 1e-9) -> float:
    """Largest |contracts| keeping the account's liquidation ``buffer_sigmas`` daily sigmas
    away in the position's adverse direction (options: inf, the policy only cuts them)."""
    if is_option(inst) or notional_per_contract <= 0:
        return INF
    sign = -1 if inst.contracts < 0 else 1
    k_sd = buffer_sigmas * daily_sigma(vol)
    need = -math.expm1(-k_sd) if sign > 0 else math.expm1(k_sd)
    pos = book_position(book, inst)
    if pos.contracts == 0:
        from dataclasses import replace

        pos = replace(pos, contracts=float(sign) * 1e-12)  # the side to search on
    upper = abs(inst.contracts) + 4.0 * max(equity, 0.0) / (need * notional_per_contract)
    return max_contracts_within_buffer(book, pos, min(need, 0.95), upper, tolerance)
