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
* Linear contracts: ``contracts * contract_size`` is the size in coin, PnL in
  USD is ``size_coin * (price - entry)``.  Inverse contracts:
  ``contracts * contract_size`` is the size in USD, PnL in coin is
  ``size_usd * (1/entry - 1/price)``.
* NaN in gives NaN out; impossible input (a negative price) raises a one-line
  ``ValueError`` naming the argument.

References
----------
Binance USD-M, "Leverage and Margin of USDⓈ-M Futures";
Bybit, "Maintenance Margin (USDT Contract)", "Liquidation Price (USDT Contract)";
Deribit, "Margin requirements" (futures and options, standard margin).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sizing.special import log_ndtr, ndtr, ndtri

__all__ = [
    "LiquidationDistance",
    "MarginTier",
    "deribit_future_margin_rates",
    "deribit_option_margin",
    "initial_margin",
    "liquidation_distance",
    "liquidation_price",
    "maintenance_margin",
    "margin_ratio",
    "max_size_for_margin_ratio",
    "tier_for",
]

DAYS_PER_YEAR = 365.0  # crypto trades every calendar day


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


def _as_tiers(tiers: tuple[MarginTier, ...] | float) -> tuple[MarginTier, ...]:
    """Accept a tier table or a single flat maintenance rate."""
    if isinstance(tiers, int | float):
        rate = float(tiers)
        if not rate >= 0.0:
            raise ValueError(f"tiers: maintenance rate {tiers!r} must be a fraction >= 0")
        return (MarginTier(math.inf, rate, rate, 0.0),)
    if not tiers:
        raise ValueError("tiers: empty; pass at least one MarginTier or a maintenance rate")
    return tuple(tiers)


def _tier_ranges(tiers: tuple[MarginTier, ...]):
    """Yield (low, high, tier): the tier applies for low < notional <= high."""
    low = 0.0
    for i, t in enumerate(tiers):
        high = math.inf if i == len(tiers) - 1 else float(t.max_notional)
        yield low, high, t
        low = high


# --------------------------------------------------------------------- Deribit


def deribit_future_margin_rates(size_btc: float) -> tuple[float, float]:
    """Deribit BTC futures/perpetual margin rates for a position of ``size_btc`` BTC.

    Returns ``(im_rate, mm_rate)`` as fractions of the position value.

    Notes
    -----
    IM = 2 % + 0.005 % x |size in BTC|, MM = 1 % + 0.005 % x |size in BTC|,
    so 25 BTC needs IM 2.125 % and MM 1.125 %.

    References
    ----------
    Deribit, "Margin requirements – Futures" (standard margin).
    """
    size = abs(float(size_btc))
    if math.isnan(size):
        return math.nan, math.nan
    return 0.02 + 0.00005 * size, 0.01 + 0.00005 * size


def deribit_option_margin(
    mark_coin: float,
    underlying_usd: float,
    strike: float,
    is_call: bool,
    contracts: float,
    short: bool,
) -> tuple[float, float]:
    """Deribit standard-margin requirement for an option position, in coin.

    Parameters
    ----------
    mark_coin : option mark price in coin per 1 coin of underlying (0.0125 BTC).
    underlying_usd : underlying (index/forward) price in USD.
    strike : strike in USD.
    is_call : True for a call, False for a put.
    contracts : position size in coin of underlying (Deribit BTC option = 1 BTC);
        the sign is ignored, ``short`` says the side.
    short : True for a short (written) position.

    Returns
    -------
    (im_coin, mm_coin) for the whole position.

    Notes
    -----
    Per 1 coin of underlying, with OTM = max(K - S, 0) for calls and
    max(S - K, 0) for puts::

        short call  IM = max(0.15 - OTM/S, 0.10) + mark
                    MM = 0.075 + mark
        short put   MM = max(0.075, 0.075 x mark) + mark
                    IM = max(max(0.15 - OTM/S, 0.10) + mark, MM)
        long        IM = MM = 0   (the premium is paid up front; nothing more is at risk)

    References
    ----------
    Deribit, "Margin requirements – Options" (standard margin).
    """
    mark, s, k, n = float(mark_coin), float(underlying_usd), float(strike), abs(float(contracts))
    if any(math.isnan(v) for v in (mark, s, k, n)):
        return math.nan, math.nan
    if mark < 0:
        raise ValueError(f"mark_coin: {mark_coin!r} is negative; pass the option mark in coin")
    if s <= 0:
        raise ValueError(f"underlying_usd: {underlying_usd!r} must be > 0")
    if k <= 0:
        raise ValueError(f"strike: {strike!r} must be > 0")
    if not short:
        return 0.0, 0.0
    otm = max(k - s, 0.0) if is_call else max(s - k, 0.0)
    im_base = max(0.15 - otm / s, 0.10)
    if is_call:
        mm = 0.075 + mark
        im = im_base + mark
    else:
        mm = max(0.075, 0.075 * mark) + mark
        im = max(im_base + mark, mm)
    return im * n, mm * n


# ------------------------------------------------------------- liquidation


def liquidation_price(
    contracts: float,
    entry_price: float,
    collateral: float,
    tiers: tuple[MarginTier, ...] | float,
    *,
    linear: bool = True,
    contract_size: float = 1.0,
    mode: str = "isolated",
    other_maintenance: float = 0.0,
    maintenance_on: str = "mark",
) -> float | None:
    """Mark price at which the account equity falls to its maintenance margin.

    Parameters
    ----------
    contracts : signed position (+ long, - short) in contracts.
    entry_price : average entry price, USD per coin.
    collateral : margin currency (USD for linear, coin for inverse).
        ``mode="isolated"``: the position margin (initial margin + margin added).
        ``mode="cross"``: the account equity *excluding this position's*
        unrealised PnL (wallet balance + other positions' unrealised PnL),
        held fixed.
    tiers : maintenance tier table (notional in margin currency) or one flat
        maintenance rate (0.005).
    linear : True for USD(T)-margined contracts, False for inverse (coin-margined).
    contract_size : coin per contract (linear) or USD per contract (inverse).
    mode : "isolated" or "cross".
    other_maintenance : cross only: maintenance margin of the account's other
        positions, held fixed (margin currency).
    maintenance_on : "mark" (Binance USD-M, OKX: MM on the notional at the
        liquidation price, tier chosen there) or "entry" (Bybit: MM on the
        position value at entry).

    Returns
    -------
    The liquidation price in USD per coin, or None when no positive price
    liquidates the position (a fully collateralised long, an inverse short
    whose collateral covers its maximum loss). NaN in gives NaN.

    Notes
    -----
    Solves ``collateral + PnL(P) = other_maintenance + MM(P)`` exactly, with
    PnL(P) = q (P - E) for linear (q in coin) and s (1/E - 1/P) for inverse
    (s in USD). With MM on the mark, each tier gives a closed form, and the
    answer is the one whose notional falls inside that tier, e.g. long linear::

        P = (q E - C - amount + other) / (q (1 - rate))

    Bybit's isolated example (1 BTC long at 20,000, 50x so IM = 400, MMR 0.5 %
    on the entry value = 100) gives 20,000 - (400 - 100) / 1 = 19,700:

    >>> liquidation_price(1, 20_000, 400, 0.005, maintenance_on="entry")
    19700.0

    Cross: 1,000 USD of equity besides the position, 50 USD of MM on other
    positions, long 1 BTC at 20,000, MMR 0.5 % on the mark:
    1,000 + (P - 20,000) = 50 + 0.005 P, so P = 19,050 / 0.995 = 19,145.73:

    >>> round(liquidation_price(1, 20_000, 1_000, 0.005, mode="cross", other_maintenance=50), 2)
    19145.73

    Fees to close and the bankruptcy-price fee reserve are ignored.

    References
    ----------
    Bybit, "Liquidation Price (USDT Contract)" and "Liquidation Price
    Calculation under Isolated Mode"; Binance, "How to Calculate Liquidation
    Price of USDⓈ-M Futures Contracts".
    """
    q_contracts, entry, c, other = (
        float(contracts), float(entry_price), float(collateral), float(other_maintenance)
    )
    if mode not in ("isolated", "cross"):
        raise ValueError(f"mode: {mode!r}; pass 'isolated' or 'cross'")
    if maintenance_on not in ("mark", "entry"):
        raise ValueError(f"maintenance_on: {maintenance_on!r}; pass 'mark' or 'entry'")
    if not contract_size > 0:
        raise ValueError(f"contract_size: {contract_size!r} must be > 0")
    table = _as_tiers(tiers)
    if any(math.isnan(v) for v in (q_contracts, entry, c, other)):
        return math.nan
    if entry <= 0:
        raise ValueError(f"entry_price: {entry_price!r} must be > 0")
    if other < 0:
        raise ValueError(f"other_maintenance: {other_maintenance!r} must be >= 0")
    if mode == "isolated" and other != 0.0:
        raise ValueError("other_maintenance: only used in cross mode; pass 0 or mode='cross'")
    if q_contracts == 0:
        return None
    size = q_contracts * float(contract_size)  # coin (linear) or USD (inverse), signed
    if maintenance_on == "entry":
        mm = other + maintenance_margin(abs(size) * entry if linear else abs(size) / entry, table)
        if linear:
            price = entry + (mm - c) / size
        else:
            denom = c + size / entry - mm
            price = size / denom if denom != 0 else math.inf
        return price if 0 < price < math.inf else None
    return _liquidation_on_mark(size, entry, c, other, table, linear)


def _liquidation_on_mark(size, entry, c, other, table, linear):
    # Only a linear long (price -> 0) and an inverse short (price -> inf) have a bounded
    # loss; when the collateral covers it at zero notional MM, nothing liquidates.
    if linear and size > 0 and c - size * entry - other >= 0:
        return None
    if not linear and size < 0 and c + size / entry - other >= 0:
        return None
    n_abs = abs(size)
    for low, high, t in _tier_ranges(table):
        r, amt = float(t.maintenance_rate), float(t.maintenance_amount)
        if linear:
            denom = n_abs * r - size
            if denom == 0:
                continue
            price = (c - size * entry + amt - other) / denom
            notional = n_abs * price
        else:
            denom = size + n_abs * r
            if denom == 0:
                continue
            x = (c + size / entry + amt - other) / denom  # x = 1 / price
            price = 1.0 / x if x > 0 else -1.0
            notional = n_abs * x
        if price <= 0:
            continue
        slack = 1e-12 * max(high if high < math.inf else notional, 1.0)
        if low - slack <= notional <= high + slack:
            return price
    return _liquidation_by_bisection(size, entry, c, other, table, linear)


def _liquidation_by_bisection(size, entry, c, other, table, linear):
    """Fallback for tier tables whose MM jumps at a boundary: the price where the
    equity-minus-MM sign flips (the liquidation triggers at the jump)."""

    def surplus(price):
        if linear:
            return c + size * (price - entry) - other - maintenance_margin(abs(size) * price, table)
        pnl = size * (1.0 / entry - 1.0 / price)
        return c + pnl - other - maintenance_margin(abs(size) / price, table)

    # surplus rises with price for a long and falls for a short
    toward_zero = size > 0
    a = entry
    b = entry * (0.5 if toward_zero else 2.0)
    for _ in range(200):
        if np.sign(surplus(a)) != np.sign(surplus(b)):
            break
        a, b = b, b * (0.5 if toward_zero else 2.0)
    else:
        return None
    lo, hi = sorted((a, b))
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if (surplus(mid) > 0) == (surplus(hi) > 0):
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


def margin_ratio(maintenance_margin: float, equity: float) -> float:
    """Account margin ratio MM / equity (fraction; 1.0 = liquidation).

    ``inf`` when equity <= 0 with MM > 0; 0.0 when there is no maintenance
    margin (nothing can be liquidated). NaN in gives NaN.
    """
    mm, eq = float(maintenance_margin), float(equity)
    if math.isnan(mm) or math.isnan(eq):
        return math.nan
    if mm < 0:
        raise ValueError(f"maintenance_margin: {maintenance_margin!r} must be >= 0")
    if mm == 0:
        return 0.0
    if eq <= 0:
        return math.inf
    return mm / eq


def max_size_for_margin_ratio(
    cap: float,
    price: float,
    equity: float,
    tiers: tuple[MarginTier, ...] | float,
    *,
    other_maintenance: float = 0.0,
    contract_size: float = 1.0,
    linear: bool = True,
) -> float:
    """Largest position (absolute contracts) keeping the account margin ratio <= ``cap``.

    Parameters
    ----------
    cap : margin-ratio ceiling as a fraction (0.5 = MM may use half of equity).
    price : mark price, USD per coin.
    equity : account equity in margin currency, held fixed (opening at the
        mark changes no equity, fees ignored).
    tiers : this instrument's maintenance tiers (notional in margin
        currency) or one flat maintenance rate.
    other_maintenance : MM of every other position in the account.
    contract_size : coin per contract (linear) or USD per contract (inverse).

    Returns
    -------
    The *total* position size in this instrument, in contracts (>= 0), not an
    increment. 0 when the other positions already breach the cap; ``inf``
    when the tier table charges no maintenance margin.

    Notes
    -----
    The largest notional N with ``other + MM(N) <= cap x equity``; within a
    tier MM(N) = N x rate - amount, so N = (budget + amount) / rate, taken
    in the first tier where that falls inside the tier. Linear: contracts =
    N / (price x contract_size); inverse (N in coin): N x price / contract_size.
    """
    cap_f, p, eq, other = float(cap), float(price), float(equity), float(other_maintenance)
    table = _as_tiers(tiers)
    if any(math.isnan(v) for v in (cap_f, p, eq, other)):
        return math.nan
    if not cap_f > 0:
        raise ValueError(f"cap: {cap!r} must be a fraction > 0")
    if p <= 0:
        raise ValueError(f"price: {price!r} must be > 0")
    if not contract_size > 0:
        raise ValueError(f"contract_size: {contract_size!r} must be > 0")
    budget = cap_f * eq - other
    if budget < 0 or eq <= 0:
        return 0.0
    notional = math.inf
    for low, high, t in _tier_ranges(table):
        r, amt = float(t.maintenance_rate), float(t.maintenance_amount)
        if r <= 0:
            continue  # this tier costs nothing beyond its start; look further
        n_star = (budget + amt) / r
        if n_star < low:  # MM jumps over the budget at this tier's start
            notional = low
            break
        if n_star <= high:
            notional = n_star
            break
    if linear:
        return notional / (p * contract_size)
    return notional * p / contract_size


# -------------------------------------------------------- distance to liquidation


@dataclass(frozen=True, slots=True)
class LiquidationDistance:
    """How far the mark is from liquidation.

    pct : distance as percent of the mark (1.5 = 1.5 %).
    sigmas_daily : |ln(liq / mark)| in daily standard deviations of log price
        at the forecast vol (vol_annual / sqrt(365)).
    expected_days : median first-passage time in calendar days: the time by
        which the probability of having touched the liquidation price reaches
        50 % (inf when it never does).
    """

    pct: float
    sigmas_daily: float
    expected_days: float


_Z75 = float(ndtri(0.75))  # 0.6745: 2 N(-z) = 0.5


def liquidation_distance(
    price: float,
    liquidation_price: float | None,
    vol_annual: float,
    drift_annual: float = 0.0,
) -> LiquidationDistance:
    """Distance from ``price`` to ``liquidation_price`` in percent, daily sigmas and days.

    Parameters
    ----------
    price : current mark, USD per coin.
    liquidation_price : from :func:`liquidation_price`; None means no
        liquidation price (all fields inf).
    vol_annual : forecast vol of log price, annualised fraction (0.6).
    drift_annual : drift of the *log* price per year (fraction); positive
        means up. Zero by default: traders rarely trust a drift forecast.

    Notes
    -----
    Log price is Brownian motion with drift nu and vol sigma. The mean
    first-passage time to a level d away is infinite without drift, so the
    expected time reported is the *median* first-passage time t, where the
    probability of touching the level by t is 50 %. With nu the drift
    toward the level (Karatzas & Shreve, 1991, eq. 3.5.12; the inverse
    Gaussian law)::

        P(tau <= t) = N((nu t - d) / (sigma sqrt t))
                      + exp(2 nu d / sigma^2) N((-nu t - d) / (sigma sqrt t))

    For nu = 0 this is 2 N(-d / (sigma sqrt t)) = 0.5, so
    t = (d / (0.6745 sigma))^2 years. Drift away from the level can make the
    touch probability never reach 50 %: then expected_days is inf.
    """
    p, v, mu = float(price), float(vol_annual), float(drift_annual)
    if math.isnan(p) or math.isnan(v) or math.isnan(mu):
        return LiquidationDistance(math.nan, math.nan, math.nan)
    if p <= 0:
        raise ValueError(f"price: {price!r} must be > 0")
    if v < 0:
        raise ValueError(f"vol_annual: {vol_annual!r} must be >= 0 (annualised fraction)")
    if liquidation_price is None:
        return LiquidationDistance(math.inf, math.inf, math.inf)
    liq = float(liquidation_price)
    if math.isnan(liq):
        return LiquidationDistance(math.nan, math.nan, math.nan)
    if liq <= 0 or math.isinf(liq):
        return LiquidationDistance(math.inf, math.inf, math.inf)
    pct = abs(liq - p) / p * 100.0
    d = abs(math.log(liq / p))
    if d == 0:
        return LiquidationDistance(0.0, 0.0, 0.0)
    nu = mu if liq > p else -mu  # drift toward the level
    if v == 0:
        days = d / nu * DAYS_PER_YEAR if nu > 0 else math.inf
        return LiquidationDistance(pct, math.inf, days)
    sigmas = d / (v / math.sqrt(DAYS_PER_YEAR))
    return LiquidationDistance(pct, sigmas, _median_first_passage_years(d, v, nu) * DAYS_PER_YEAR)


def _median_first_passage_years(d: float, sigma: float, nu: float) -> float:
    t0 = (d / (_Z75 * sigma)) ** 2  # the zero-drift median
    if nu == 0:
        return t0
    a = 2.0 * nu * d / sigma**2
    if a < math.log(0.5) + 1e-12:  # touch probability ever = exp(a) <= 50 %
        return math.inf

    def excess(t):
        st = sigma * math.sqrt(t)
        first = float(ndtr((nu * t - d) / st))
        second = math.exp(a + float(log_ndtr((-nu * t - d) / st)))
        return first + second - 0.5

    if nu > 0:  # drift toward the level: the median comes sooner than t0
        lo, hi = t0 * 1e-6, t0
        while excess(lo) > 0:
            lo *= 1e-3
    else:
        lo, hi = t0, 2 * t0
        while excess(hi) < 0:
            hi *= 2.0
            if hi > 1e12 * t0:
                return math.inf
    from scipy.optimize import brentq  # lazy: scipy.optimize costs ~0.5 s of start-up

    return float(brentq(excess, lo, hi, xtol=1e-14 * hi, rtol=1e-12))
