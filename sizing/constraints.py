"""The policy's caps, one function each: the largest |position| in contracts a rule allows.

Every function returns a non-negative number of contracts (``math.inf`` when
the rule does not limit this instrument) and never rounds: rounding to the
venue's step happens once, in ``sizing.policy``. ``equity`` is the account's
equity in USD; ``vol`` the forecast annualised vol of the underlying (fraction);
``expo`` the per-contract ``Exposure`` from ``sizing.policy_exposure``;
``direction`` +1 for a long, -1 for a short.

References
----------
Moreira, A. and Muir, T. (2017), "Volatility-Managed Portfolios", J. Finance 72.
Thorp, E. O. (2006), "The Kelly criterion in blackjack, sports betting and the
stock market", Handbook of Asset and Liability Management, ch. 9.
Jorion, P. (2007), "Value at Risk", 3rd ed., McGraw-Hill (delta-normal and
full-revaluation VaR).
"""

from __future__ import annotations

import math

import numpy as np

from sizing.policy_exposure import (
    daily_sigma,
    is_option,
    linear_mm_per_contract,
    option_value_usd,
)
from sizing.special import ndtri  # the normal quantile (scipy.stats costs ~0.7 s to import)

INF = math.inf
MIN_DAILY_SAMPLES = 30  # fewer daily returns than this: historical VaR falls back to normal


def vol_target_cap(equity: float, vol: float, target_vol: float, delta_usd: float) -> float:
    """|contracts| whose delta-notional runs at ``target_vol`` of equity at forecast ``vol``.

    Notes
    -----
    ``cap = target_vol * equity / (vol * |delta_usd per contract|)``: the
    position's annualised USD vol, ``|n * delta_usd| * vol``, equals
    ``target_vol * equity`` (Moreira & Muir 2017).
    """
    if delta_usd == 0.0 or vol <= 0.0:
        return INF
    return target_vol * equity / (vol * abs(delta_usd))


def kelly_cap(
    equity: float, vol: float, drift_annual: float, kelly_fraction: float,
    delta_usd: float, direction: int,
) -> tuple[float, float | None]:
    """Fractional-Kelly cap and the leverage it implies (None when Kelly is off).

    Notes
    -----
    Continuous Kelly leverage ``(mu - r) / sigma**2`` (Thorp 2006) with ``mu``
    taken in the position's direction: a drift against the position gives
    leverage <= 0 and the cap is 0 (Kelly says do not hold that side).
    ``drift_annual == 0`` means "no edge estimate": the cap is off, never guessed.
    """
    if drift_annual == 0.0 or delta_usd == 0.0:
        return INF, None
    from sizing.kelly import kelly_leverage

    lev = kelly_fraction * float(kelly_leverage(direction * drift_annual, vol))
    return max(lev, 0.0) * equity / abs(delta_usd), lev


def leverage_cap(
    equity: float, max_leverage: float, gross_other_usd: float, notional_usd: float,
) -> float:
    """|contracts| keeping gross perp/future notional at most ``max_leverage`` x equity."""
    if notional_usd <= 0.0:
        return INF
    return max(max_leverage * equity - gross_other_usd, 0.0) / notional_usd


def daily_returns(log_returns: np.ndarray, periods_per_year: float) -> np.ndarray:
    """Non-overlapping daily log returns summed from the newest bar backwards."""
    per_day = max(int(round(periods_per_year / 365.0)), 1)
    r = np.asarray(log_returns, float)
    n = (len(r) // per_day) * per_day
    if n == 0:
        return np.empty(0)
    return r[len(r) - n:].reshape(-1, per_day).sum(axis=1)


def var_per_contract(
    inst, expo, vol: float, alpha: float, method: str, direction: int,
) -> tuple[float, str]:
    """1-day VaR at ``alpha`` in USD of ONE contract held in ``direction``, and the method used.

    Notes
    -----
    ``"normal"``: delta-normal ``z_alpha * sigma_daily * |delta_usd|`` for
    perps, and full revaluation of options at the two moves ``exp(+-z sigma_daily)``
    (the worse loss). Other methods hand the per-contract P&L of each past
    daily return (full revaluation for options) to ``sizing.risk.var_cvar``;
    with fewer than ``MIN_DAILY_SAMPLES`` days they fall back to normal and say so.
    The forecast ``vol`` feeds the normal method only.
    """
    sd = daily_sigma(vol)
    if method != "normal":
        r = daily_returns(inst.log_returns, inst.periods_per_year)
        if len(r) >= MIN_DAILY_SAMPLES:
            from sizing.risk import var_cvar

            pnl = direction * _pnl_for_moves(inst, expo, r)
            var, _ = var_cvar(pnl, alpha, method)
            return max(float(var), 0.0), method
        method_used = f"normal (fallback: {len(r)} daily returns)"
    else:
        method_used = "normal"
    z = float(ndtri(alpha))
    if is_option(inst):
        pnl = direction * _pnl_for_moves(inst, expo, np.array([z * sd, -z * sd]))
        return max(float(-pnl.min()), 0.0), method_used
    return z * sd * abs(expo.delta_usd), method_used


def _pnl_for_moves(inst, expo, log_moves: np.ndarray) -> np.ndarray:
    """USD P&L of one long contract for each log move of the underlying."""
    if is_option(inst):
        s = inst.underlying_price
        return option_value_usd(inst, s * np.exp(log_moves)) - expo.price_usd
    return expo.delta_usd * np.expm1(log_moves)


def var_cap(equity: float, var_limit: float, var_usd_per_contract: float) -> float:
    """|contracts| whose stand-alone 1-day VaR is ``var_limit`` x equity."""
    if var_usd_per_contract <= 0.0:
        return INF
    return var_limit * equity / var_usd_per_contract


def margin_budget_usd(mm_position: float, mm_total: float, cap_usd: float) -> float:
    """Maintenance margin (USD) this position may carry under the account cap.

    Notes
    -----
    Under the cap the position may use all the headroom, ``mm_i + (cap - MM)``;
    over it every margin-carrying position gives back its pro-rata share,
    ``mm_i * cap / MM``, so the account lands on the cap when all are cut.
    """
    headroom = cap_usd - mm_total
    if headroom >= 0.0:
        return mm_position + headroom
    return mm_position * cap_usd / mm_total if mm_total > 0 else 0.0


def margin_cap(inst, direction: int, budget_usd: float) -> float:
    """Largest |contracts| whose maintenance margin fits ``budget_usd`` (inf if MM never binds)."""

    per = linear_mm_per_contract(inst, direction)
    if per is not None:
        if budget_usd < 0.0:
            return 0.0
        return budget_usd / per if per > 0.0 else INF

    if budget_usd <= 0.0:
        return 0.0
    from sizing.margin import max_size_for_margin_ratio

    # the tier table is in the margin currency: USD for linear, coin for inverse
    budget = budget_usd if inst.linear else budget_usd / inst.mark_price
    return float(max_size_for_margin_ratio(1.0, inst.mark_price, budget, inst.margin_tiers,
                                           contract_size=inst.contract_size,
                                           linear=inst.linear))


def liquidation_pct(equity: float, mm_other: float, mm_position: float,
                    contracts: float, delta_usd: float) -> float:
    """Adverse move (fraction of price) that takes cross-margin equity down to maintenance.

    Other positions and the maintenance margin are held at today's values;
    inf for a flat position.
    """
    exposure_usd = abs(contracts * delta_usd)
    if exposure_usd == 0.0:
        return INF
    return (equity - mm_other - mm_position) / exposure_usd


def pct_to_sigmas(pct: float, vol: float, direction: int) -> float:
    """Distance to liquidation in daily sigmas of log price (inf when it cannot be reached)."""
    if pct <= 0.0:
        return 0.0
    if math.isinf(pct) or (direction > 0 and pct >= 1.0):
        return INF
    log_dist = -math.log1p(-pct) if direction > 0 else math.log1p(pct)
    return log_dist / daily_sigma(vol)


def liquidation_cap(
    inst, equity: float, mm_other: float, vol: float, buffer_sigmas: float,
    delta_usd: float, direction: int,
) -> float:
    """Largest |contracts| keeping liquidation at least ``buffer_sigmas`` daily sigmas away.

    Perps and futures only (options: inf). A long needs a fall of
    ``1 - exp(-k sigma_d)``, a short a rise of ``exp(k sigma_d) - 1``.
    """
    if is_option(inst) or delta_usd == 0.0:
        return INF
    k_sd = buffer_sigmas * daily_sigma(vol)
    need = -math.expm1(-k_sd) if direction > 0 else math.expm1(k_sd)

    free = equity - mm_other
    if free <= 0.0:
        return 0.0
    per = linear_mm_per_contract(inst, direction)
    if per is not None:
        return free / (per + need * abs(delta_usd))
    return _tiered_liquidation_cap(inst, free, need)


def _tiered_liquidation_cap(inst, free_usd: float, need: float) -> float:
    """Closed form of ``free - MM(N) >= need x N`` over a tier table (N in margin currency).

    Within a tier MM = N r - a, so N* = (free + a) / (r + need); the room
    shrinks as N grows, so the first tier that holds N* gives the answer.
    Linear: N = contracts x size x price (USD); inverse: N = contracts x size /
    price (coin), with USD = coin x price.
    """
    price, cs = inst.mark_price, inst.contract_size
    usd_per_unit = 1.0 if inst.linear else price
    free = free_usd / usd_per_unit
    low = 0.0
    tiers = inst.margin_tiers
    notional = INF
    for i, t in enumerate(tiers):
        high = INF if i == len(tiers) - 1 else t.max_notional
        n_star = (free + t.maintenance_amount) / (t.maintenance_rate + need)
        if n_star <= high:
            notional = max(n_star, low)
            break
        low = high
    return notional / (cs * price) if inst.linear else notional * price / cs


def slippage_cap(current_abs: float, levels: np.ndarray, budget_bps: float) -> float:
    """|current| plus the largest add whose book walk stays within ``budget_bps``."""
    if levels is None or len(levels) == 0:
        return current_abs
    from sizing.liquidity import max_size_within_slippage

    return current_abs + float(max_size_within_slippage(levels, budget_bps))


def adv_cap(current_abs: float, adv_contracts: float | None, fraction: float) -> float:
    """|current| plus ``fraction`` of average daily volume (inf when ADV is unknown)."""
    if adv_contracts is None:
        return INF
    return current_abs + fraction * adv_contracts


def greek_caps(
    currents: list[float], risk_per_contract: list[float], limit: float,
) -> list[float]:
    """Pro-rata caps on a group's gross Greek risk (vega or gamma) against ``limit``.

    Notes
    -----
    ``G = sum |n_i| r_i``. Within the limit, each position may add the whole
    headroom, ``|n_i| + (limit - G) / r_i``; past it, every position shrinks
    by the same factor ``limit / G`` so the group lands on the limit.
    """
    gross = sum(abs(n) * r for n, r in zip(currents, risk_per_contract, strict=True))
    caps = []
    for n, r in zip(currents, risk_per_contract, strict=True):
        if r <= 0.0:
            caps.append(INF)
        elif gross <= limit:
            caps.append(abs(n) + (limit - gross) / r)
        else:
            caps.append(abs(n) * limit / gross)
    return caps
