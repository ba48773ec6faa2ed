"""The whole account revalued at other prices: equity, margin, and where it liquidates.

A cross-margined account liquidates when its equity meets its maintenance
margin. Both depend on every position and on the coin collateral, so the
price at which that happens is found by revaluing everything at once:

* perps and futures at the new price (mark moves with the underlying);
* options by Black-76 at their current implied vol, sticky strike: the
  option's value at S' is ``mark + BS(S') - BS(S)``, so today's mark is
  reproduced exactly and the change is Black-76's;
* coin balances (collateral) and coin-settled PnL at the new coin price;
* margin recomputed at the new prices by the rules of
  ``sizing.contracts.position_margin``, the function the paper broker charges
  (applied to whole scenario arrays by ``sizing.revaluation``, same floats).

Scenarios are price ratios per underlying (``{"BTC": 0.75}`` = BTC down 25 %,
every other underlying unchanged). Pure numbers: numpy, scipy, stdlib.

References
----------
Black, F. (1976), "The pricing of commodity contracts", J. Financial Economics 3.
Derman, E. (1999), "Regimes of volatility" (sticky strike).
Deribit, "Margin requirements"; Binance USD-M, "Cross margin liquidation".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from sizing.contracts import STABLE
from sizing.revaluation import legs, option_values, revalue_arrays, totals

__all__ = [
    "AccountBook",
    "BookPosition",
    "LiquidationLevel",
    "Revaluation",
    "UnderlyingLiquidation",
    "account_liquidations",
    "calibrated",
    "joint_liquidation",
    "liquidation_levels",
    "liquidation_move",
    "max_contracts_within_buffer",
    "resized",
    "revalue",
    "with_position",
]

MAX_MOVE = 0.95  # search +-95 % of today's price
GRID_STEP = 0.025  # first pass: every 2.5 % of price, then refine inside the bracket
JOINT = "all"  # the key of the joint move of every underlying together


@dataclass(frozen=True, slots=True)
class BookPosition:
    """One position for revaluation.

    ``contract`` has the attributes of ``sizing.contracts.ContractSpec``;
    ``mark_price`` and ``entry_price`` are in the contract's quote units (USD(T)
    for perps and linear options, coin for coin-settled options);
    ``underlying_price`` is the USD price the option is priced off (the index
    for perps); ``implied_vol`` (annualised fraction) and ``years`` (to expiry,
    365-day year) are for options.
    """

    contract: object
    contracts: float
    entry_price: float
    mark_price: float
    underlying_price: float
    implied_vol: float = math.nan
    years: float = math.nan

    @property
    def underlying(self) -> str:
        c = self.contract
        return c.underlying or c.base

    @property
    def is_option(self) -> bool:
        return self.contract.kind == "option"


@dataclass(frozen=True, slots=True)
class AccountBook:
    """Balances (currency -> amount), today's USD price of each coin, and the positions.

    A coin's price moves with the underlying of the same name; stablecoins
    (``sizing.contracts.STABLE``) stay at 1 USD. ``fixed_equity_usd`` and
    ``fixed_mm_usd`` are held constant in every scenario: what a venue's own
    account figures hold beyond what the positions and balances explain (0 for
    the paper account, whose figures the book reproduces).
    """

    balances: Mapping[str, float]
    prices_usd: Mapping[str, float]
    positions: tuple[BookPosition, ...] = ()
    ts_ms: int = 0
    fixed_equity_usd: float = 0.0
    fixed_mm_usd: float = 0.0

    def underlyings(self) -> tuple[str, ...]:
        """Each underlying a position follows, or a coin balance is held in (sorted)."""
        names = {p.underlying for p in self.positions}
        names |= {c for c, a in self.balances.items() if c not in STABLE and a}
        return tuple(sorted(names))

    def price(self, coin: str) -> float:
        if coin in STABLE:
            return 1.0
        return float(self.prices_usd.get(coin, math.nan))


@dataclass(frozen=True, slots=True)
class Revaluation:
    """The account at one scenario: USD equity, initial and maintenance margin."""

    equity_usd: float
    initial_margin_usd: float
    maintenance_margin_usd: float
    position_equity_usd: tuple[float, ...] = field(default=())

    @property
    def surplus_usd(self) -> float:
        return self.equity_usd - self.maintenance_margin_usd


@dataclass(frozen=True, slots=True)
class LiquidationLevel:
    """Where the account meets maintenance: ``price`` (USD) of the underlying,
    ``move_pct`` signed fraction from today (-0.25 = down 25 %), and the
    account's equity and maintenance margin there (USD)."""

    price: float
    move_pct: float
    equity_usd: float
    maintenance_margin_usd: float


@dataclass(frozen=True, slots=True)
class UnderlyingLiquidation:
    """The nearest liquidation down and up for one underlying (None: none within +-95 %)."""

    underlying: str
    price: float
    down: LiquidationLevel | None
    up: LiquidationLevel | None


def calibrated(book: AccountBook, equity_usd: float, maintenance_margin_usd: float,
               tolerance_usd: float = 0.01) -> AccountBook:
    """``book`` with fixed amounts so that today it shows ``equity_usd`` and
    ``maintenance_margin_usd`` (a venue's own account figures); unchanged when
    it already does to ``tolerance_usd`` or a figure is not finite."""
    from dataclasses import replace

    now = revalue(book)
    d_eq = equity_usd - now.equity_usd
    d_mm = maintenance_margin_usd - now.maintenance_margin_usd
    if not (math.isfinite(d_eq) and math.isfinite(d_mm)):
        return book
    d_eq = d_eq if abs(d_eq) > tolerance_usd else 0.0
    d_mm = d_mm if abs(d_mm) > tolerance_usd else 0.0
    return replace(book, fixed_equity_usd=book.fixed_equity_usd + d_eq,
                   fixed_mm_usd=book.fixed_mm_usd + d_mm)


def revalue(book: AccountBook, moves: Mapping[str, float] | None = None) -> Revaluation:
    """The account at price ratios ``moves`` (underlying -> ratio; missing = 1)."""
    return _revalue_many(book, {u: np.array([k]) for u, k in (moves or {}).items()}, 1)[0]


def _revalue_many(book: AccountBook, moves: Mapping[str, np.ndarray], n: int,
                  vol_scale: float = 1.0, with_margin: bool = True) -> list:
    """Revaluations at ``n`` scenarios; ``moves`` maps underlying -> ratio array (n,);
    ``vol_scale`` multiplies every option's implied vol; without margin, IM/MM are 0."""
    equity, im, mm, pnls = revalue_arrays(book, moves, n, vol_scale, with_margin)
    return [Revaluation(float(equity[i]), float(im[i]), float(mm[i]),
                        tuple(float(x[i]) for x in pnls)) for i in range(n)]


def _moving_part(book: AccountBook, names: tuple[str, ...]) -> tuple[AccountBook, float]:
    """The sub-book whose value moves with ``names``, and the surplus of the rest (fixed)."""
    def moves(p: BookPosition) -> bool:
        c = p.contract
        return p.underlying in names or c.base in names or c.settle in names

    moving = tuple(p for p in book.positions if moves(p))
    fixed = tuple(p for p in book.positions if not moves(p))
    bal_moving = {c: a for c, a in book.balances.items() if c in names}
    bal_fixed = {c: a for c, a in book.balances.items() if c not in names}
    rest = revalue(AccountBook(bal_fixed, book.prices_usd, fixed, book.ts_ms,
                               book.fixed_equity_usd, book.fixed_mm_usd))
    return AccountBook(bal_moving, book.prices_usd, moving, book.ts_ms), rest.surplus_usd


def _surplus(book: AccountBook, names: tuple[str, ...], ratios: np.ndarray,
             fixed_usd: float = 0.0) -> np.ndarray:
    equity, _, mm, _ = revalue_arrays(book, {u: ratios for u in names}, len(ratios))
    return (equity - mm) + fixed_usd


def _level_ratio(book: AccountBook, names: tuple[str, ...], direction: int,
                 max_move: float) -> float | None:
    """Nearest ratio from 1 in ``direction`` where surplus (equity - MM) reaches 0
    (None: none within ``max_move``).

    A 2.5 % grid finds the first bracket (so a second crossing further out is
    never reported first), then Illinois false position narrows it to 1e-13 of
    the price; the safe end of the bracket is reported (equity >= MM there).
    """
    book, fixed = _moving_part(book, names)
    steps = np.arange(1, int(math.ceil(max_move / GRID_STEP)) + 1) * GRID_STEP
    ratios = np.concatenate(([1.0], 1.0 + direction * np.minimum(steps, max_move)))
    s = _surplus(book, names, ratios, fixed)
    if not np.isfinite(s[0]):
        return None
    if s[0] <= 0:
        safe = 1.0
    else:
        below = np.flatnonzero(~(s > 0))  # NaN counts as "not safe"
        if len(below) == 0:
            return None
        j = int(below[0])
        safe, bust, f_safe, f_bust = ratios[j - 1], ratios[j], s[j - 1], s[j]
        if not np.isfinite(f_bust):
            f_bust = -abs(f_safe)
        tol = 1e-12 * max(f_safe, -f_bust, 1e-9)
        side = 0
        for _ in range(200):  # Illinois: halve the stale end so it cannot stall
            m = bust - f_bust * (bust - safe) / (f_bust - f_safe)
            if not min(safe, bust) < m < max(safe, bust):
                m = 0.5 * (safe + bust)
            f_m = float(_surplus(book, names, np.array([m]), fixed)[0])
            if not math.isfinite(f_m):
                f_m = -abs(f_safe)
            if f_m > 0:
                safe, f_safe = m, f_m
                if side == 1:
                    f_bust *= 0.5
                side = 1
            else:
                bust, f_bust = m, f_m
                if side == -1:
                    f_safe *= 0.5
                side = -1
            if abs(f_m) <= tol:
                safe = m  # equity meets MM to a trillionth of the surplus scale
                break
            if abs(bust - safe) <= 1e-13:
                break
    return safe


def _level(book: AccountBook, names: tuple[str, ...], direction: int, ref_price: float,
           max_move: float) -> LiquidationLevel | None:
    """The account at its nearest liquidation in ``direction`` (see ``_level_ratio``)."""
    safe = _level_ratio(book, names, direction, max_move)
    if safe is None:
        return None
    rev = revalue(book, {u: safe for u in names})
    return LiquidationLevel(float(ref_price * safe), float(safe - 1.0), rev.equity_usd,
                            rev.maintenance_margin_usd)


def liquidation_levels(book: AccountBook, underlying: str,
                       max_move: float = MAX_MOVE) -> UnderlyingLiquidation:
    """Nearest move of ``underlying`` alone, down and up, at which equity meets maintenance."""
    price = book.price(underlying)
    names = (underlying,)
    return UnderlyingLiquidation(underlying, price,
                                 _level(book, names, -1, price, max_move),
                                 _level(book, names, +1, price, max_move))


def joint_liquidation(book: AccountBook, max_move: float = MAX_MOVE) -> UnderlyingLiquidation:
    """Every underlying moving together by the same fraction (``price`` reported as 1.0:
    the level's ``price`` is the ratio to today's prices)."""
    names = book.underlyings()
    return UnderlyingLiquidation(JOINT, 1.0, _level(book, names, -1, 1.0, max_move),
                                 _level(book, names, +1, 1.0, max_move))


def account_liquidations(book: AccountBook,
                         max_move: float = MAX_MOVE) -> dict[str, UnderlyingLiquidation]:
    """Underlying -> its liquidation levels, for every underlying the book holds."""
    return {u: liquidation_levels(book, u, max_move) for u in book.underlyings()}


# ------------------------------------------------------------------ the policy's questions


def with_position(book: AccountBook, position: BookPosition) -> AccountBook:
    """``book`` with ``position`` replacing the one of the same symbol (or added)."""
    from dataclasses import replace

    sym = position.contract.symbol
    rest = tuple(p for p in book.positions if p.contract.symbol != sym)
    return replace(book, positions=(*rest, position) if position.contracts else rest)


def _resized_position(position: BookPosition, contracts: float) -> BookPosition:
    """``position`` held at ``contracts``; a change trades at mark."""
    from dataclasses import replace

    entry = position.entry_price
    if position.contracts == 0 or (contracts > 0) != (position.contracts > 0):
        entry = position.mark_price
    elif abs(contracts) > abs(position.contracts):  # adds at mark: the average entry moves
        added = abs(contracts) - abs(position.contracts)
        entry = (abs(position.contracts) * entry + added * position.mark_price) / abs(contracts)
    return replace(position, contracts=contracts, entry_price=entry)


def resized(book: AccountBook, position: BookPosition, contracts: float) -> AccountBook:
    """``book`` with ``position`` held at ``contracts`` (a change trades at mark)."""
    return with_position(book, _resized_position(position, contracts))


def liquidation_move(book: AccountBook, underlying: str, direction: int) -> float | None:
    """Signed fraction of ``underlying``'s price to the account's liquidation in
    ``direction`` (-1 down, +1 up); None when none within +-95 %."""
    safe = _level_ratio(book, (underlying,), direction, MAX_MOVE)  # the account there: unused
    return None if safe is None else float(safe - 1.0)


def max_contracts_within_buffer(book: AccountBook, position: BookPosition, buffer_move: float,
                                upper: float, tolerance: float = 1e-9) -> float:
    """Largest |contracts| of ``position`` (its side) for which the account does not
    liquidate before ``underlying`` moves ``buffer_move`` (fraction > 0) against it.

    Bisection on size; the account is revalued at eight points between today
    and the buffer move (the 2.5 % grid of the solver is finer than any
    buffer a trader sets in daily sigmas, and the surplus is smooth between).
    ``upper`` bounds the search (contracts), ``tolerance`` the answer (contracts:
    half the venue's step is enough); 0 when even flat the account liquidates
    inside the buffer.
    """
    side = -1.0 if position.contracts < 0 else 1.0
    falling = side > 0 if not position.is_option else (side > 0) == bool(position.contract.is_call)
    direction = -1 if falling else 1
    names = (position.underlying,)
    ratios = 1.0 + direction * np.linspace(0.0, buffer_move, 9)[1:]
    moves, n = {u: ratios for u in names}, len(ratios)
    # Only this position changes between trials: the rest of the account (what does
    # not move with the underlying, and the other positions' legs) is revalued once,
    # and each trial adds its own leg in the order ``resized`` puts it (last).
    base, fixed = _moving_part(with_position(book, _resized_position(position, 0.0)), names)
    options = [p for p in (*base.positions, position) if p.is_option]
    values = option_values(base, options, moves, n)
    rest_legs = legs(base, base.positions, moves, n, values)

    def safe(size: float) -> bool:
        trial = _resized_position(position, side * size)
        own = legs(base, (trial,), moves, n, values) if trial.contracts else []
        equity, _, mm = totals(base, moves, n, rest_legs + own)
        return bool((((equity - mm) + fixed) > 0).all())

    if not safe(0.0):
        return 0.0
    if safe(upper):
        return upper
    lo, hi = 0.0, upper
    for _ in range(60):
        if hi - lo <= max(tolerance, 1e-12 * hi):
            break
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if safe(mid) else (lo, mid)
    return lo
