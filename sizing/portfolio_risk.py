"""The whole book's risk: VaR and CVaR by full revaluation (filtered historical
simulation), each position's share (component VaR), and the stress grid.

Filtered historical simulation
------------------------------
Hourly log returns r_t of each underlying are aggregated into overlapping
24-hour returns R_t (so two thousand hours give ~two thousand one-day
scenarios, and the 99 % tail holds ~20 of them, not one). Each is divided by
the conditional daily vol at its start, an EWMA of the hourly returns
(lambda 0.97 per hour), and multiplied by today's forecast daily vol:
``move_t = R_t / sigma_t x sigma_forecast``. All underlyings use the same t,
so their co-movements are those of history. The book is revalued at each
scenario (perps and coin at the new price, options by Black-76 at today's IV,
sticky strike) and VaR / CVaR read off the P&L.

Component VaR
-------------
With P&L L = sum_i L_i, the component CVaR of item i is -E[L_i | L <= -VaR]
with the Acerbi-Tasche tail weights of ``sizing.risk.var_cvar`` (they sum to CVaR
exactly); component VaR is the same average over the
scenarios nearest the VaR quantile, scaled to sum to VaR (the kernel estimator
of Epperlein & Smillie). A hedge shows a negative component: it lowers VaR.

References
----------
Barone-Adesi, G., Giannopoulos, K., Vosper, L. (1999), "VaR without correlations
for portfolios of derivative securities", J. Futures Markets 19 (FHS).
Hull, J., White, A. (1998), "Incorporating volatility updating into the historical
simulation method for VaR", J. Risk 1.
Epperlein, E., Smillie, A. (2006), "Cracking VaR with kernels", Risk 19.
Tasche, D. (2000), "Conditional expectation as quantile derivative" (Euler allocation).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from sizing.account_risk import AccountBook, _revalue_many
from sizing.contracts import STABLE
from sizing.revaluation import option_values as _option_values
from sizing.revaluation import revalue_arrays

__all__ = [
    "PortfolioVaR",
    "StressGrid",
    "fhs_scenarios",
    "portfolio_var",
    "scenario_option_values",
    "scenario_pnl",
    "stress_grid",
]

EWMA_LAMBDA = 0.97  # per hourly bar: a ~33-hour memory for the filter
HOURS_PER_DAY = 24
MIN_SCENARIOS = 250  # fewer: VaR is still computed, and the result says how many
STRESS_MOVES = (-0.30, -0.20, -0.10, -0.05, 0.0, 0.05, 0.10, 0.20, 0.30)
STRESS_VOL_SHIFTS = (-0.50, -0.25, 0.0, 0.50, 1.00)  # relative: IV x (1 + shift)


@dataclass(frozen=True, slots=True)
class PortfolioVaR:
    """1-day VaR and CVaR of the whole book in USD (losses positive) at ``alpha``.

    ``components`` item -> component VaR (USD, sums to ``var_usd``);
    ``components_cvar`` the same for CVaR; items are position symbols and coin
    balances ("BTC balance"). ``scenarios`` how many one-day scenarios; ``method``
    names the estimator.
    """

    var_usd: float
    cvar_usd: float
    alpha: float
    scenarios: int
    method: str
    components: Mapping[str, float]
    components_cvar: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class StressGrid:
    """Every underlying moved together by ``moves`` (fractions) x every option's IV
    scaled by ``1 + vol_shift``. ``pnl_usd[i][j]`` the account's P&L, ``margin_ratio``
    MM / equity after, ``liquidated`` where equity <= MM."""

    moves: tuple[float, ...]
    vol_shifts: tuple[float, ...]
    pnl_usd: tuple[tuple[float, ...], ...]
    margin_ratio: tuple[tuple[float, ...], ...]
    liquidated: tuple[tuple[bool, ...], ...]


def _ewma_daily_sigma(r: np.ndarray, lam: float = EWMA_LAMBDA) -> np.ndarray:
    """Conditional daily sigma known before each hour: sqrt(24 x EWMA of r^2)."""
    v = float(np.mean(r[: min(len(r), 168)] ** 2)) if len(r) else math.nan
    var, w = [], 1.0 - lam
    for x in np.asarray(r, float).tolist():  # Python floats: the same doubles, faster
        var.append(v)
        v = lam * v + w * x * x
    return np.sqrt(HOURS_PER_DAY * np.array(var, float))


def fhs_scenarios(returns: Mapping[str, np.ndarray],
                  forecast_daily_sigma: Mapping[str, float]) -> dict[str, np.ndarray]:
    """Underlying -> one-day log moves, filtered and rescaled to today's vol (see module).

    ``returns`` hourly log returns per underlying, oldest first (trimmed to the
    common newest length so every underlying uses the same hours).
    """
    usable = {u: np.asarray(r, float) for u, r in returns.items() if len(r) > HOURS_PER_DAY}
    if not usable:
        return {}
    n = min(len(r) for r in usable.values())
    out = {}
    for u, r in usable.items():
        r = r[-n:]
        r = np.where(np.isfinite(r), r, 0.0)
        csum = np.concatenate(([0.0], np.cumsum(r)))
        day = csum[HOURS_PER_DAY:] - csum[:-HOURS_PER_DAY]  # R_t over hours t-23..t
        sigma = _ewma_daily_sigma(r)[: len(day)]  # known at the start of each window
        target = float(forecast_daily_sigma.get(u, math.nan))
        if not math.isfinite(target):
            target = float(np.std(day))
        with np.errstate(divide="ignore", invalid="ignore"):
            out[u] = np.where(sigma > 0, day / sigma * target, 0.0)
    return out


def scenario_pnl(book: AccountBook, scenarios: Mapping[str, np.ndarray],
                 option_values: Mapping | None = None) -> tuple[np.ndarray, tuple[str, ...]]:
    """(n_scenarios, n_items) USD P&L against today, items = positions then coin balances.

    ``scenarios`` underlying -> log moves; margin is not needed and not computed.
    ``option_values`` (``scenario_option_values`` of the same scenarios) spares
    revaluing the options again when several sizes of one book meet the same days.
    """
    n = len(next(iter(scenarios.values()))) if scenarios else 0
    moves = {u: np.exp(m) for u, m in scenarios.items()}
    today = revalue_arrays(book, {}, 1, with_margin=False)[3]
    pnls = revalue_arrays(book, moves, n, with_margin=False, values=option_values)[3]
    names = [p.contract.symbol for p in book.positions]
    cols = [pnls[i] - float(today[i][0]) for i in range(len(names))]
    for coin, amount in sorted(book.balances.items()):
        if coin in STABLE or not amount:
            continue
        k = moves.get(coin, np.ones(n))
        cols.append(amount * book.price(coin) * (k - 1.0))
        names.append(f"{coin} balance")
    matrix = np.column_stack(cols) if cols else np.zeros((n, 0))
    return matrix, tuple(names)


def scenario_option_values(book: AccountBook, scenarios: Mapping[str, np.ndarray]) -> dict:
    """Every option of ``book`` valued at ``scenarios`` (for ``scenario_pnl``); the
    values do not depend on the sizes held, so any resized copy of ``book`` may use them."""
    n = len(next(iter(scenarios.values()))) if scenarios else 0
    moves = {u: np.exp(m) for u, m in scenarios.items()}
    options = [p for p in book.positions if p.is_option]
    return _option_values(book, options, moves, n)


def portfolio_var(book: AccountBook, scenarios: Mapping[str, np.ndarray],
                  alpha: float = 0.99, option_values: Mapping | None = None) -> PortfolioVaR:
    """VaR / CVaR of the book's P&L over ``scenarios`` with component allocation
    (``option_values`` as for ``scenario_pnl``)."""
    pnl, names = scenario_pnl(book, scenarios, option_values)
    n = pnl.shape[0]
    if n == 0:
        return PortfolioVaR(math.nan, math.nan, alpha, 0, "no scenarios", {}, {})
    total = pnl.sum(axis=1)
    if not np.isfinite(total).all():  # a price or a vol missing: no honest number
        return PortfolioVaR(math.nan, math.nan, alpha, n, "not computed: NaN in the book",
                            {}, {})
    losses = -total
    from sizing.risk import var_cvar  # the one empirical estimator (Acerbi-Tasche ES)

    var, cvar = (float(x) for x in var_cvar(total, alpha, "historical"))
    # Acerbi-Tasche weights: 1 / (n (1 - alpha)) beyond VaR, the rest of the tail mass
    # on the scenarios at VaR, so the components sum to CVaR exactly
    tail_mass = 1.0 - alpha
    beyond = losses > var
    at = losses == var
    w = np.where(beyond, 1.0 / (n * tail_mass), 0.0)
    if at.any():
        w[at] = (tail_mass - beyond.sum() / n) / tail_mass / at.sum()
    comp_cvar = -(w[:, None] * pnl).sum(axis=0)
    # kernel: the scenarios ranked nearest the VaR quantile (at least 3 a side)
    order = np.argsort(losses, kind="stable")
    rank = int(np.searchsorted(losses[order], var))
    half = max(3, int(0.0025 * n))
    near = order[max(rank - half, 0): rank + half + 1]
    comp_var = -pnl[near].mean(axis=0)
    s = comp_var.sum()
    if s != 0 and math.isfinite(s):
        comp_var = comp_var * var / s
    method = f"filtered historical simulation, full revaluation, {n} one-day scenarios"
    if n < MIN_SCENARIOS:
        method += f" (few: under {MIN_SCENARIOS})"
    return PortfolioVaR(var, cvar, alpha, n, method,
                        dict(zip(names, map(float, comp_var), strict=True)),
                        dict(zip(names, map(float, comp_cvar), strict=True)))


def stress_grid(book: AccountBook, moves=STRESS_MOVES, vol_shifts=STRESS_VOL_SHIFTS,
                ) -> StressGrid:
    """The account under every (joint move, IV shift): P&L, margin ratio, liquidated."""
    from sizing.account_risk import revalue

    names = book.underlyings()
    ratios = np.array([1.0 + m for m in moves])
    today = revalue(book).equity_usd
    pnl, ratio, liq = [], [], []
    for m_i in range(len(moves)):
        row_p, row_r, row_l = [], [], []
        for v in vol_shifts:
            rev = _revalue_many(book, {u: ratios[m_i: m_i + 1] for u in names}, 1,
                                vol_scale=max(1.0 + v, 1e-4))[0]
            eq, mm = rev.equity_usd, rev.maintenance_margin_usd
            row_p.append(eq - today)
            row_r.append(mm / eq if eq > 0 else math.inf)
            row_l.append(bool(eq <= mm))
        pnl.append(tuple(row_p))
        ratio.append(tuple(row_r))
        liq.append(tuple(row_l))
    return StressGrid(tuple(moves), tuple(vol_shifts), tuple(pnl), tuple(ratio), tuple(liq))
