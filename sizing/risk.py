"""Portfolio risk: VaR / CVaR, drawdown tiers and a full-revaluation stress grid.

Conventions
-----------
* ``pnl`` samples are profits (positive) and losses (negative) over one
  horizon, in USD or as returns; VaR and CVaR come back as *positive loss
  numbers* in the same unit (VaR 0.05 = a 5 % loss).
* ``alpha`` is the confidence level (0.99), not the tail probability.
* Drawdown is a fraction of the peak equity (0.10 = 10 % below the peak).
* NaN in gives NaN out; impossible input raises a one-line ``ValueError``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sizing.greeks import black76
from sizing.special import gammaln, ndtri

__all__ = [
    "DEFAULT_DRAWDOWN_TIERS",
    "DrawdownState",
    "DrawdownTier",
    "StressPosition",
    "drawdown_state",
    "fit_student_t",
    "normal_var_cvar",
    "student_t_var_cvar",
    "stress_grid",
    "update_peak",
    "var_cvar",
]

METHODS = ("historical", "normal", "student-t", "filtered")
RISKMETRICS_LAMBDA = 0.94  # J.P. Morgan RiskMetrics (1996) daily decay


# ------------------------------------------------------------------ VaR / CVaR


def normal_var_cvar(mean: float, std: float, alpha: float = 0.99) -> tuple[float, float]:
    """VaR and CVaR of a normal PnL with ``mean`` and ``std``.

    Notes
    -----
    VaR = -mean + std z, CVaR = -mean + std phi(z) / (1 - alpha), z = N^-1(alpha):
    2.326 std and 2.665 std at 99 % (McNeil, Frey & Embrechts, *Quantitative
    Risk Management*, 2005, example 2.14).
    """
    z = float(ndtri(alpha))
    pdf = math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    return -mean + std * z, -mean + std * pdf / (1 - alpha)


def student_t_var_cvar(
    dof: float, loc: float, scale: float, alpha: float = 0.99
) -> tuple[float, float]:
    """VaR and CVaR of PnL = loc + scale x T, T Student-t with ``dof`` degrees of freedom.

    Notes
    -----
    With q = t_dof^-1(alpha) and g the t density (McNeil, Frey & Embrechts,
    2005, example 2.19)::

        VaR  = -loc + scale q
        CVaR = -loc + scale g(q) / (1 - alpha) x (dof + q^2) / (dof - 1)

    CVaR is infinite for dof <= 1 (the mean does not exist).
    """
    from scipy import stats  # lazy: only this path needs it

    q = stats.t.ppf(alpha, dof)
    var = -loc + scale * q
    if dof <= 1:
        return var, math.inf
    tail = stats.t.pdf(q, dof) / (1 - alpha) * (dof + q * q) / (dof - 1)
    return var, -loc + scale * tail


def fit_student_t(pnl) -> tuple[float, float, float]:
    """Maximum-likelihood (dof, loc, scale) of a location-scale Student-t.

    Notes
    -----
    Minimises the negative log-likelihood
    ``-sum log[Gamma((v+1)/2) / (Gamma(v/2) sqrt(v pi) s) (1 + z^2/v)^(-(v+1)/2)]``,
    z = (x - loc) / s, over (log v, loc, log s) with scipy's SLSQP,
    started from the median, the MAD and the dof implied by the sample
    kurtosis (excess kurtosis of t is 6 / (v - 4)). dof is bounded to
    [0.5, 10,000]; normal data drives it to the top, where t is normal.
    Reaches scipy.stats.t.fit's optimum in a fraction of its time (no Nelder-Mead).
    """
    from scipy import optimize, stats  # lazy: only this path needs it

    x = np.asarray(pnl, dtype=float).ravel()
    n = len(x)
    med = float(np.median(x))
    spread = float(np.median(np.abs(x - med))) * 1.4826 or float(x.std()) or 1.0
    excess = float(stats.kurtosis(x))
    dof0 = min(max(4 + 6 / excess if excess > 0.05 else 100.0, 2.5), 200.0)

    def neg_log_likelihood(params):
        log_dof, loc, log_scale = params
        dof = math.exp(log_dof)
        z = (x - loc) / math.exp(log_scale)
        const = gammaln((dof + 1) / 2) - gammaln(dof / 2) - 0.5 * math.log(dof * math.pi)
        return -(n * (const - log_scale) - (dof + 1) / 2 * np.log1p(z * z / dof).sum())

    with np.errstate(all="ignore"):  # line-search probes far out; the optimum is finite
        fit = optimize.minimize(
            neg_log_likelihood,
            [math.log(dof0), med, math.log(spread)],
            method="SLSQP",
            bounds=[(math.log(0.5), math.log(1e4)), (None, None), (None, None)],
        )
    log_dof, loc, log_scale = fit.x
    return math.exp(log_dof), float(loc), math.exp(log_scale)


def _historical(losses: np.ndarray, alpha: float) -> tuple[float, float]:
    """Empirical VaR (the alpha-quantile of losses, no interpolation) and the
    Acerbi-Tasche (2002) expected shortfall of the empirical distribution."""
    n = len(losses)
    ordered = np.sort(losses)
    # smallest loss l with F_n(l) >= alpha; the epsilon keeps n x alpha = 95 from
    # becoming 95.00000000000001 and skipping an order statistic
    k = max(math.ceil(n * alpha - 1e-9), 1)
    var = float(ordered[k - 1])
    beyond = ordered[ordered > var]
    tail_mass = 1 - alpha
    cvar = (beyond.sum() / n + var * (tail_mass - len(beyond) / n)) / tail_mass
    return var, float(cvar)


def _ewma_filter(x: np.ndarray, lam: float) -> tuple[np.ndarray, float]:
    """RiskMetrics EWMA variance: s2_t = lam s2_{t-1} + (1 - lam) x_{t-1}^2, seeded with the
    sample second moment. Returns the standardised residuals x_t / s_t and the
    next-period vol s_{T+1}."""
    from scipy.signal import lfilter  # lazy: only this path needs it

    seed = float(np.mean(x * x))
    # the recursion as a first-order IIR filter; zi carries lam x s2_0 into the first step
    after = lfilter([1 - lam], [1.0, -lam], x * x, zi=[lam * seed])[0]
    vol = np.sqrt(np.concatenate(([seed], after)))
    with np.errstate(divide="ignore", invalid="ignore"):
        # thousands of zero days can underflow the variance; a zero day is a zero residual
        residuals = np.where(vol[:-1] > 0, x / vol[:-1], 0.0)
    return residuals, float(vol[-1])


def var_cvar(pnl, alpha: float = 0.99, method: str = "historical") -> tuple[float, float]:
    """One-horizon Value at Risk and Conditional VaR (expected shortfall) of a PnL sample.

    Parameters
    ----------
    pnl : 1-D samples of profit and loss (positive = profit), e.g. daily
        portfolio PnL in USD or daily returns.
    alpha : confidence level in (0, 1), 0.99 by default.
    method : "historical" (empirical quantile; Acerbi-Tasche shortfall),
        "normal" (sample mean and std), "student-t" (dof, loc, scale fitted by
        maximum likelihood with scipy), "filtered" (filtered historical
        simulation: EWMA-standardised residuals rescaled to tomorrow's EWMA
        vol, Barone-Adesi, Giannopoulos & Vosper, 1999).

    Returns
    -------
    (var, cvar) as positive loss numbers in the unit of ``pnl`` (a sample
    that never loses gives negative numbers: a gain even in the tail).
    NaN anywhere in ``pnl`` gives (NaN, NaN): a missing day is not a zero day.

    Notes
    -----
    "filtered" assumes the samples are a time series, oldest first, with
    mean near zero (daily PnL or returns); the filter is RiskMetrics EWMA with
    lambda = 0.94 seeded with the sample second moment.

    References
    ----------
    Acerbi & Tasche (2002), "On the coherence of expected shortfall";
    McNeil, Frey & Embrechts (2005), *Quantitative Risk Management*, ch. 2;
    Barone-Adesi, Giannopoulos & Vosper (1999), "VaR without correlations
    for portfolios of derivative securities", J. Futures Markets 19(5).

    Examples
    --------
    >>> var_cvar([-3.0, -1.0, 0.0, 1.0, 2.0], alpha=0.8)
    (1.0, 3.0)
    """
    if method not in METHODS:
        raise ValueError(f"method: {method!r}; pass one of {', '.join(METHODS)}")
    a = float(alpha)
    if not 0 < a < 1:
        raise ValueError(f"alpha: {alpha!r} must be a confidence level in (0, 1), e.g. 0.99")
    x = np.asarray(pnl, dtype=float).ravel()
    if len(x) < 2:
        raise ValueError(f"pnl: {len(x)} sample(s); pass at least 2")
    if np.isnan(x).any():
        return math.nan, math.nan
    if method == "historical":
        return _historical(-x, a)
    mean, std = float(x.mean()), float(x.std(ddof=1))
    if method == "normal" or std == 0:
        var, cvar = normal_var_cvar(mean, std, a)
        return float(var), float(cvar)
    if method == "student-t":
        dof, loc, scale = fit_student_t(x)
        var, cvar = student_t_var_cvar(dof, loc, scale, a)
        return float(var), float(cvar)
    residuals, next_vol = _ewma_filter(x, RISKMETRICS_LAMBDA)
    return _historical(-residuals * next_vol, a)


# ------------------------------------------------------------------ drawdown


@dataclass(frozen=True, slots=True)
class DrawdownTier:
    """At or beyond ``drawdown`` (fraction below peak), scale new risk by ``scale``;
    ``reduce_only`` forbids any increase."""

    drawdown: float
    scale: float
    reduce_only: bool = False

    def __post_init__(self):
        if not 0 < self.drawdown < 1:
            raise ValueError(f"drawdown: {self.drawdown!r} must be a fraction in (0, 1)")
        if not 0 <= self.scale <= 1:
            raise ValueError(f"scale: {self.scale!r} must be within [0, 1]")


DEFAULT_DRAWDOWN_TIERS = (
    DrawdownTier(0.05, 0.5),
    DrawdownTier(0.10, 0.25),
    DrawdownTier(0.15, 0.0, reduce_only=True),
)


@dataclass(frozen=True, slots=True)
class DrawdownState:
    """Where the account stands against its drawdown tiers.

    drawdown : fraction below the peak (0 at or above it).
    scale : multiplier on target sizes (1.0 = no cut).
    reduce_only : True when no position may grow.
    tier_label : one line a trader reads ("drawdown 11.0% ≥ 10%: scale 0.25").
    """

    drawdown: float
    scale: float
    reduce_only: bool
    tier_label: str


def update_peak(peak: float, equity: float) -> float:
    """The new high-water mark: max(peak, equity); a NaN equity leaves the peak alone."""
    p, e = float(peak), float(equity)
    if math.isnan(e):
        return p
    if math.isnan(p):
        return e
    return max(p, e)


def drawdown_state(
    equity: float, peak_equity: float, tiers: tuple[DrawdownTier, ...] = DEFAULT_DRAWDOWN_TIERS
) -> DrawdownState:
    """Drawdown from the peak and the deepest tier it has reached.

    Unknown equity (NaN) is treated as the worst case: reduce-only with the
    reason in the label, because a cockpit that cannot see the account must
    not add risk.
    """
    ordered = tuple(sorted(tiers, key=lambda t: t.drawdown))
    e, p = float(equity), float(peak_equity)
    if math.isnan(e) or math.isnan(p):
        return DrawdownState(math.nan, 0.0, True, "equity or peak unknown (NaN): reduce-only")
    if p <= 0:
        raise ValueError(f"peak_equity: {peak_equity!r} must be > 0")
    drawdown = max(0.0, (p - e) / p)  # (p - e) / p keeps 90 vs 100 at exactly 0.10
    reached = [t for t in ordered if drawdown >= t.drawdown]
    if not reached:
        return DrawdownState(drawdown, 1.0, False, f"drawdown {drawdown:.1%}: full size")
    tier = reached[-1]
    action = "reduce-only" if tier.reduce_only else f"scale {tier.scale:g}"
    label = f"drawdown {drawdown:.1%} ≥ {tier.drawdown:.0%}: {action}"
    return DrawdownState(drawdown, tier.scale, tier.reduce_only, label)


# ------------------------------------------------------------------ stress grid


@dataclass(frozen=True, slots=True)
class StressPosition:
    """One position for the stress grid, in plain numbers.

    kind : "perp", "future", "spot" (a coin balance) or "option".
    contracts : signed (+ long, - short).
    contract_size : coin per contract (linear perps, spot, options) or USD
        per contract (inverse perps).
    price : today's USD price of the underlying (mark for perps, forward for
        options).
    linear : False for inverse (coin-margined) perps and futures.
    strike, years, vol, is_call : options only; vol annualised (0.6).
    beta : the position's move per unit of the grid's price shock (1.0).
    """

    kind: str
    contracts: float
    contract_size: float
    price: float
    linear: bool = True
    strike: float | None = None
    years: float | None = None
    vol: float | None = None
    is_call: bool | None = None
    beta: float = 1.0

    def __post_init__(self):
        if self.kind not in ("perp", "future", "spot", "option"):
            raise ValueError(f"kind: {self.kind!r}; pass 'perp', 'future', 'spot' or 'option'")
        if not self.price > 0 and not math.isnan(self.price):
            raise ValueError(f"price: {self.price!r} must be > 0")
        if self.kind == "option" and None in (self.strike, self.years, self.vol, self.is_call):
            raise ValueError("strike, years, vol, is_call: required for an option position")


def _linear_pnl(pos: StressPosition, moves: np.ndarray) -> np.ndarray:
    """(P, 1) USD PnL of a perp, future or coin balance."""
    size = pos.contracts * pos.contract_size
    move_usd = pos.price * pos.beta * moves
    if pos.linear or pos.kind == "spot":
        return size * move_usd  # coin x USD move
    # inverse: USD size s earns s (1/F - 1/F') coin, worth s (F'/F - 1) USD at F'
    return size * move_usd / pos.price


def _options_pnl(options: list[StressPosition], moves: np.ndarray, vols: np.ndarray):
    """(P, V) USD PnL of all options, repriced in one Black-76 call."""

    def column(name):
        return np.array([getattr(o, name) for o in options], dtype=float).reshape(-1, 1, 1)

    size = column("contracts") * column("contract_size")
    forward, strike, years, vol = column("price"), column("strike"), column("years"), column("vol")
    is_call = np.array([bool(o.is_call) for o in options]).reshape(-1, 1, 1)
    # an instantaneous shock: same time to expiry; vol floored so a big negative shock
    # cannot make it negative
    new_forward = forward * (1 + column("beta") * moves[None])  # (n, P, 1)
    new_vol = np.maximum(vol + vols[None], 1e-4)  # (n, 1, V)
    before = black76(forward, strike, years, vol, is_call).price
    after = black76(new_forward, strike, years, new_vol, is_call).price
    return (size * (after - before)).sum(axis=0)


def stress_grid(positions, price_shocks, vol_shocks=(0.0,)) -> np.ndarray:
    """Portfolio PnL in USD under every (price shock, vol shock) pair, options fully revalued.

    Parameters
    ----------
    positions : iterable of :class:`StressPosition`.
    price_shocks : relative moves of the underlying (-0.2 = down 20 %),
        each > -1; applied to every position times its ``beta``.
    vol_shocks : additive shifts of implied vol in vol units (0.10 = +10
        vol points), applied to every option; the shocked vol is floored
        at 0.01 %.

    Returns
    -------
    (len(price_shocks), len(vol_shocks)) array of USD PnL against today's
    valuation. Options are priced with Black-76 on the shocked forward and
    vol at the same time to expiry (an instantaneous shock, no theta);
    their USD value is the same whether they settle in coin or USD. Perps:
    linear coin x USD move; inverse size_usd x relative move. Collateral held
    in coin is a "spot" position.
    """
    moves = np.asarray(price_shocks, dtype=float).reshape(-1, 1)
    vols = np.asarray(vol_shocks, dtype=float).reshape(1, -1)
    if (moves <= -1).any():
        raise ValueError("price_shocks: each must be > -1 (a move of -100 % or worse)")
    positions = list(positions)
    for pos in positions:
        if (1 + pos.beta * moves <= 0).any():
            raise ValueError(
                f"price_shocks: beta {pos.beta:g} x a shock of {moves.min():g} takes "
                "the price to zero or below; use smaller shocks"
            )
    total = np.zeros((moves.shape[0], vols.shape[1]))
    for pos in positions:
        if pos.kind != "option":
            total = total + _linear_pnl(pos, moves)
    options = [p for p in positions if p.kind == "option"]
    if options:
        total = total + _options_pnl(options, moves, vols)
    return total
