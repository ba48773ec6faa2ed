"""The revaluation core of ``sizing.account_risk``: one book at ``n`` scenarios, as arrays.

The policy asks the account the same question hundreds of times per decision
(the liquidation solvers, the size bisection, the VaR over two thousand
scenarios), so this is written for per-call speed with numpy arrays and no
per-scenario Python loop. The arithmetic is the scalar rules' own, operation for
operation (``sizing.contracts.position_margin``, ``sizing.margin``, Black-76 of
``sizing.greeks``): results are the same floats, not approximations.

Conventions
-----------
* ``moves`` maps underlying -> price ratio array of shape ``(n,)`` (missing = 1);
  a coin's price moves with the underlying of the same name; stablecoins stay at 1.
* A *leg* is one position's ``(pnl_usd, im_usd, mm_usd)`` arrays at the scenarios,
  in the order of ``book.positions``; totals add them in that order.
* Option values are USD per coin of underlying, sticky strike:
  ``max(mark + BS(S', vol x scale) - BS(S, vol), 0)``; NaN where a price or the
  vol is unknown. They depend on the scenario, never on the size held, so one
  mapping (``option_values``) serves every size of the same book.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from sizing.contracts import DEFAULT_TIERS, STABLE, contract_pnl, is_inverse_future, position_margin
from sizing.special import ndtr  # not scipy.special: its __init__ costs ~0.12 s of start-up

__all__ = ["legs", "margins", "option_key", "option_values", "revalue_arrays", "totals"]

# the ufuncs' own reductions: ndarray.all()/min() add a Python-level wrapper per call
_ALL, _MIN, _MAX = np.logical_and.reduce, np.minimum.reduce, np.maximum.reduce


def _k(moves: Mapping[str, np.ndarray], ones: np.ndarray, coin: str) -> np.ndarray:
    return moves.get(coin, ones) if coin not in STABLE else ones


def _price(book, coin: str) -> float:
    return 1.0 if coin in STABLE else float(book.prices_usd.get(coin, math.nan))


def option_key(p) -> tuple:
    """What an option's value at a scenario depends on (its size does not enter)."""
    c = p.contract
    return (c.symbol, c.strike, c.is_call, c.linear, p.underlying, p.underlying_price,
            p.implied_vol, p.years, p.mark_price)


def _black76_price(f, k, t, v, w):
    """Black-76 price at zero rate where F, K, T, vol > 0: the operations of
    ``sizing.greeks._black76_live`` for its price, in the same order."""
    s = v * np.sqrt(t)
    d1 = np.log(f / k)
    d1 /= s
    d1 += s * 0.5
    n1 = ndtr(w * d1)
    n2 = ndtr((d1 - s) * w)
    price = f * n1 - k * n2
    price *= w
    return price


def option_values(book, options, moves: Mapping[str, np.ndarray], n: int,
                  vol_scale: float = 1.0) -> dict[tuple, np.ndarray]:
    """``option_key`` -> USD value per coin of underlying at each scenario (see module)."""
    from sizing.greeks import black76

    if not options:
        return {}
    ones = np.ones(n)
    m = len(options)
    f = np.empty((m, n + 1))  # column 0 is today
    for i, p in enumerate(options):
        f[i, 0] = p.underlying_price
        f[i, 1:] = p.underlying_price * _k(moves, ones, p.underlying)
    iv = np.array([p.implied_vol for p in options])
    vol = np.empty((m, n + 1))
    vol[:, 0] = iv
    vol[:, 1:] = (iv * vol_scale)[:, None]
    strike = np.array([float(p.contract.strike or math.nan) for p in options])
    years = np.array([p.years for p in options])
    calls = np.array([bool(p.contract.is_call) for p in options])[:, None]
    ok = _ALL(np.isfinite(f), axis=1) & np.isfinite(iv) & np.isfinite(strike) \
        & np.isfinite(years) & (iv > 0) & (years > 0)
    strike, years = strike[:, None], years[:, None]
    if not _ALL(ok):  # safe stand-ins where a price or the vol is unknown
        okc = ok[:, None]
        f, vol = np.where(okc, f, 1.0), np.where(okc, vol, 0.5)
        strike, years = np.where(okc, strike, 1.0), np.where(okc, years, 1.0)
    if _MIN(f, axis=None) > 0 and _MIN(strike, axis=None) > 0 and _MIN(years, axis=None) > 0 \
            and _MIN(vol, axis=None) > 0:  # (NaN compares False)
        price = _black76_price(f, strike, years, vol, calls * 2.0 - 1.0)  # black76's live path
    else:
        price = black76(f, strike, years, vol, calls).price
    out = {}
    for i, p in enumerate(options):
        mark_usd = p.mark_price * p.underlying_price if not p.contract.linear else p.mark_price
        if not (ok[i] and math.isfinite(mark_usd)):
            out[option_key(p)] = np.full(n, math.nan)  # unknown vol or price
        else:
            out[option_key(p)] = np.maximum(mark_usd + price[i, 1:] - price[i, 0], 0.0)
    return out


_TIER_TABLES: dict[int, tuple] = {}


def _tier_table(tiers) -> tuple:
    """(max notionals, IM rates, MM rates, MM amounts, sorted?) of a tier table, by identity."""
    hit = _TIER_TABLES.get(id(tiers))
    if hit is not None and hit[0] is tiers:
        return hit[1]
    cols = [np.array([getattr(t, name) for t in tiers], float) for name in
            ("max_notional", "initial_rate", "maintenance_rate", "maintenance_amount")]
    table = (*cols, bool((np.diff(cols[0]) >= 0).all()))
    if len(_TIER_TABLES) > 256:
        _TIER_TABLES.clear()
    _TIER_TABLES[id(tiers)] = (tiers, table)  # holding ``tiers`` keeps its id unique
    return table


def _finite_from(a: np.ndarray, low: float, strict: bool) -> bool:
    """Every element finite and above ``low`` (or at it, unless ``strict``)."""
    if a.size == 0:
        return True
    lo, hi = _MIN(a, axis=None), _MAX(a, axis=None)  # NaN propagates: False below
    return bool((lo > low if strict else lo >= low) and hi < math.inf)


def _tiered(notional: np.ndarray, tiers) -> tuple[np.ndarray, np.ndarray]:
    """``sizing.margin.initial_margin`` / ``maintenance_margin`` elementwise."""
    a = np.abs(notional)
    top, im_rate, mm_rate, mm_amount, ascending = _tier_table(tiers)
    if ascending:  # the first tier with a <= its max (NaN sorts last: the last tier)
        idx = np.minimum(np.searchsorted(top, a, side="left"), len(top) - 1)
    else:
        idx = np.full(a.shape, len(tiers) - 1)
        for j in range(len(tiers) - 1, -1, -1):
            idx = np.where(a <= top[j], j, idx)
    return a * im_rate[idx], np.maximum(a * mm_rate[idx] - mm_amount[idx], 0.0)


def margins(c, contracts: float, marks: np.ndarray, coin_usd: np.ndarray,
            settle_usd: np.ndarray, spot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``sizing.contracts.position_margin`` at each scenario: (IM USD, MM USD) arrays."""
    n = len(marks)
    if contracts == 0.0:
        return np.zeros(n), np.zeros(n)
    if c.kind == "option":
        mark_coin = marks if not c.linear else marks / spot
        to_usd = settle_usd if not c.linear else spot
        coins = contracts * c.contract_size
        if contracts >= 0:  # long: the premium at mark, no maintenance
            return abs(coins) * mark_coin * to_usd, 0.0 * to_usd
        k, size = float(c.strike or 0.0), abs(float(coins))
        if not (math.isfinite(k) and k > 0 and math.isfinite(size)
                and _finite_from(mark_coin, 0.0, strict=False)
                and _finite_from(spot, 0.0, strict=True)):
            return _scalar_margins(c, contracts, marks, coin_usd, settle_usd, spot)  # NaN, raises
        otm = np.maximum(k - spot, 0.0) if c.is_call else np.maximum(spot - k, 0.0)
        im_base = np.maximum(0.15 - otm / spot, 0.10)
        if c.is_call:
            mm = 0.075 + mark_coin
            im = im_base + mark_coin
        else:
            mm = np.maximum(0.075, 0.075 * mark_coin) + mark_coin
            im = np.maximum(im_base + mark_coin, mm)
        return im * size * to_usd, mm * size * to_usd
    if is_inverse_future(c):
        notional = abs(contracts) * c.contract_size / marks
    else:
        notional = abs(contracts) * c.contract_size * marks
    if not c.margin_tiers and c.venue == "deribit" and c.base == "BTC" and not c.linear:
        size = np.abs(notional)  # Deribit's published BTC rates (sizing.margin)
        im_rate, mm_rate = 0.02 + 0.00005 * size, 0.01 + 0.00005 * size
        return notional * im_rate * settle_usd, notional * mm_rate * settle_usd
    im, mm = _tiered(notional, c.margin_tiers or DEFAULT_TIERS)
    return im * settle_usd, mm * settle_usd


def _scalar_margins(c, contracts, marks, coin_usd, settle_usd, spot):
    im, mm = np.zeros(len(marks)), np.zeros(len(marks))
    for i in range(len(marks)):
        im[i], mm[i] = position_margin(c, contracts, float(marks[i]), float(coin_usd[i]),
                                       float(settle_usd[i]), float(spot[i]))
    return im, mm


def legs(book, positions, moves: Mapping[str, np.ndarray], n: int, values: Mapping,
         with_margin: bool = True) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Each of ``positions``' (PnL, IM, MM) in USD at the scenarios; ``values`` from
    ``option_values`` for every option among them. Without margin, IM/MM are 0."""
    ones = np.ones(n)
    out = []
    for p in positions:
        c = p.contract
        ku = _k(moves, ones, p.underlying)
        settle_usd = _price(book, c.settle) * _k(moves, ones, c.settle)
        spot = p.underlying_price * ku
        if c.kind == "option":
            value = values[option_key(p)]
            marks = value / spot if not c.linear else value
        else:
            marks = p.mark_price * ku
        pnl_usd = contract_pnl(c, p.contracts, p.entry_price, marks) * settle_usd
        if with_margin:
            coin_usd = _price(book, c.base) * _k(moves, ones, c.base)
            im, mm = margins(c, p.contracts, marks, coin_usd, settle_usd, spot)
        else:
            im = mm = np.zeros(n)
        out.append((pnl_usd, im, mm))
    return out


def totals(book, moves: Mapping[str, np.ndarray], n: int, position_legs,
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(equity, IM, MM) USD arrays: ``book``'s balances and fixed amounts plus the legs."""
    ones = np.ones(n)
    wallet = np.zeros(n)
    for coin, amount in book.balances.items():
        wallet = wallet + amount * _price(book, coin) * _k(moves, ones, coin)
    equity = wallet + book.fixed_equity_usd
    im_tot, mm_tot = np.zeros(n), np.zeros(n) + book.fixed_mm_usd
    for pnl_usd, im, mm in position_legs:
        equity = equity + pnl_usd
        im_tot, mm_tot = im_tot + im, mm_tot + mm
    return equity, im_tot, np.maximum(mm_tot, 0.0)


def revalue_arrays(book, moves: Mapping[str, np.ndarray], n: int, vol_scale: float = 1.0,
                   with_margin: bool = True, values: Mapping | None = None):
    """(equity, IM, MM, per-position PnL list) at ``n`` scenarios, USD arrays.

    ``values`` (``option_values`` at the same ``moves`` and ``vol_scale``) may be
    handed in when several sizes of one book meet the same scenarios; options it
    lacks are valued here.
    """
    options = [p for p in book.positions if p.contract.kind == "option"]
    if values is None or any(option_key(p) not in values for p in options):
        values = {**(values or {}), **option_values(book, options, moves, n, vol_scale)}
    position_legs = legs(book, book.positions, moves, n, values, with_margin)
    equity, im, mm = totals(book, moves, n, position_legs)
    return equity, im, mm, [leg[0] for leg in position_legs]
