"""The policy's inputs and outputs: settings, portfolio state, decisions (frozen, numbers only).

Units
-----
* Sizes are in contracts, signed (+ long, - short); ``contract_size`` turns a
  contract into coin (linear perps, coin-settled options) or USD (inverse
  perps/futures).
* Prices: ``mark_price`` in the instrument's quote units — USD(T) for perps
  and linear options, the settle coin for coin-settled (``linear=False``)
  options as Deribit quotes them; ``underlying_price`` in USD.
* Vols are annualised fractions (0.5 = 50 %); money is USD unless named.
* ``log_returns`` are the underlying's log returns at ``periods_per_year``
  (8,760 for hourly bars: crypto trades 24 x 365), oldest first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from sizing.margin import MarginTier

VAR_METHODS = ("historical", "normal", "student-t", "filtered")
KINDS = ("perp", "future", "option")
_EMPTY_LEVELS = np.empty((0, 2))


def _empty_levels() -> np.ndarray:
    return _EMPTY_LEVELS


def _check(ok: bool, name: str, fix: str) -> None:
    if not ok:
        raise ValueError(f"{name}: {fix}")


@dataclass(frozen=True, slots=True)
class PolicySettings:
    """The trader's risk settings; names and defaults match the config's ``[sizing]``.

    ``target_vol`` annualised vol of each position's delta-notional as a
    fraction of equity; ``kelly_fraction`` of full Kelly; ``max_leverage`` gross
    perp/future notional over equity; ``var_limit`` 1-day VaR at ``var_alpha``
    as a fraction of equity, one position at a time; ``drawdown_tiers`` pairs
    ``(drawdown, scale)`` from peak equity (scale 0 = reduce-only);
    ``margin_ratio_cap`` maintenance margin / equity; ``liquidation_buffer_sigmas``
    daily sigmas to liquidation at forecast vol; ``slippage_budget_bps`` per
    increase walking the book; ``adv_fraction`` of average daily volume per
    increase; ``delta_band_usd`` +/- portfolio delta per underlying before a
    hedge; ``gamma_limit_usd`` gross option P&L of a 1 % move from gamma;
    ``vega_limit_usd`` gross option vega per vol point, counted at
    ``iv / vega_reference_iv`` times its size once implied vol is above the
    reference (vol moves in points grow with the level); ``no_trade_band``
    fraction of the current size inside which the policy holds;
    ``stale_after_s`` data age that trips the staleness breaker;
    ``vol_spike_threshold`` short/long realised vol ratio (windows in bars)
    that trips the spike breaker; ``drift_annual`` expected return for Kelly
    (0 = no estimate: Kelly does not bind); ``allow_increases`` /
    ``reduce_only`` the trader's own switches; ``vol_model`` the forecast the
    engine fits ("garch", "gjr" or "ewma", ``sizing.volatility.vol_forecast``).
    """

    target_vol: float = 0.50
    kelly_fraction: float = 0.5
    max_leverage: float = 3.0
    var_limit: float = 0.05
    var_method: str = "historical"
    var_alpha: float = 0.99
    drawdown_tiers: tuple[tuple[float, float], ...] = ((0.05, 0.5), (0.10, 0.25), (0.15, 0.0))
    margin_ratio_cap: float = 0.5
    liquidation_buffer_sigmas: float = 3.0
    slippage_budget_bps: float = 20.0
    adv_fraction: float = 0.05
    delta_band_usd: float = 25_000.0
    gamma_limit_usd: float = 5_000.0
    vega_limit_usd: float = 2_000.0
    vega_reference_iv: float = 0.50
    no_trade_band: float = 0.10
    stale_after_s: float = 10.0
    vol_spike_threshold: float = 2.0
    vol_spike_short: int = 24
    vol_spike_long: int = 720
    drift_annual: float = 0.0
    allow_increases: bool = True
    reduce_only: bool = False
    vol_model: str = "garch"

    def __post_init__(self) -> None:
        positive = ("target_vol", "max_leverage", "liquidation_buffer_sigmas",
                    "slippage_budget_bps", "delta_band_usd", "gamma_limit_usd",
                    "vega_limit_usd", "vega_reference_iv", "stale_after_s")
        for name in positive:
            v = getattr(self, name)
            # inf switches a USD limit off; NaN fails "v > 0"
            ok = isinstance(v, int | float) and v > 0 and (
                math.isfinite(v) or name.endswith("_usd"))
            _check(ok, name, f"must be a positive number, got {v!r}")
        for name in ("kelly_fraction", "var_limit", "margin_ratio_cap", "adv_fraction"):
            v = getattr(self, name)
            _check(0 < v <= 1, name, f"must be a fraction in (0, 1], got {v!r}")
        _check(0 <= self.no_trade_band < 1, "no_trade_band", "must be in [0, 1)")
        _check(0.5 < self.var_alpha < 1, "var_alpha", "must be in (0.5, 1), e.g. 0.99")
        _check(self.var_method in VAR_METHODS, "var_method", f"must be one of {VAR_METHODS}")
        _check(self.vol_model in ("garch", "gjr", "ewma"), "vol_model",
               "must be one of 'garch', 'gjr', 'ewma'")
        _check(self.vol_spike_threshold > 1, "vol_spike_threshold", "must be > 1 (a ratio)")
        _check(0 < self.vol_spike_short < self.vol_spike_long, "vol_spike_short",
               "must be positive and shorter than vol_spike_long")
        _check(math.isfinite(self.drift_annual), "drift_annual", "must be a finite number")
        last = 0.0
        for i, tier in enumerate(self.drawdown_tiers):
            _check(len(tier) == 2, f"drawdown_tiers[{i}]", "must be a (drawdown, scale) pair")
            dd, scale = tier
            _check(last < dd < 1, f"drawdown_tiers[{i}]",
                   "drawdowns must increase within (0, 1)")
            _check(0 <= scale <= 1, f"drawdown_tiers[{i}]", "scale must be in [0, 1]")
            last = dd


@dataclass(frozen=True, slots=True)
class InstrumentState:
    """One instrument as the policy sees it (see module units).

    ``forecast_vol`` overrides any forecast passed to ``decide``; ``implied_vol``,
    ``strike``, ``years`` and ``is_call`` are required for options. ``bids`` /
    ``asks`` are (N, 2) ``[price, amount]`` arrays, best first, amounts in
    contracts; ``adv_contracts`` average daily volume in contracts (None =
    unknown); ``data_age_s`` age of the newest price; ``maintenance_margin_usd``
    the venue's figure for the current position (None = compute it);
    ``drift_annual`` overrides the settings' Kelly drift for this instrument;
    ``venue_free_margin_usd`` with several venues, the free margin (equity - IM, USD)
    of the account on this instrument's venue, which must carry its orders (None: one
    account, whose margin the policy's own caps already watch).
    """

    symbol: str
    kind: str
    contracts: float
    mark_price: float
    underlying_price: float
    underlying: str = ""
    venue: str = ""
    linear: bool = True
    contract_size: float = 1.0
    amount_step: float = 0.001
    price_step: float = 0.01
    min_amount: float = 0.0
    min_cost: float = 0.0
    log_returns: np.ndarray = field(default_factory=lambda: np.empty(0))
    periods_per_year: float = 8760.0
    forecast_vol: float | None = None
    forecast_model: str = ""
    implied_vol: float | None = None
    strike: float | None = None
    years: float | None = None
    is_call: bool | None = None
    bids: np.ndarray = field(default_factory=_empty_levels)
    asks: np.ndarray = field(default_factory=_empty_levels)
    adv_contracts: float | None = None
    data_age_s: float = 0.0
    margin_tiers: tuple[MarginTier, ...] = ()
    maintenance_margin_usd: float | None = None
    drift_annual: float | None = None
    venue_free_margin_usd: float | None = None

    def __post_init__(self) -> None:
        _check(self.kind in KINDS, f"{self.symbol}.kind", f"must be one of {KINDS}")
        if self.kind == "option":
            for name in ("implied_vol", "strike", "years", "is_call"):
                _check(getattr(self, name) is not None, f"{self.symbol}.{name}",
                       "required for an option")

    @property
    def group(self) -> str:
        """The underlying this instrument's delta adds to (its symbol if none is given)."""
        return self.underlying or self.symbol


@dataclass(frozen=True, slots=True)
class PortfolioState:
    """The account and its instruments. Money in USD.

    ``maintenance_margin_usd`` / ``initial_margin_usd`` are the whole account's
    (positions outside ``instruments`` included); ``peak_equity_usd`` the
    high-water mark the drawdown is measured from. ``book`` (a
    ``sizing.account_risk.AccountBook``, optional) lets the liquidation buffer
    and the what-if revalue the whole account as the margin panel does; without
    it they linearise with margin held at today's value.
    """

    equity_usd: float
    peak_equity_usd: float
    maintenance_margin_usd: float
    instruments: tuple[InstrumentState, ...] = ()
    initial_margin_usd: float = 0.0
    book: object | None = None


@dataclass(frozen=True, slots=True)
class WhatIf:
    """The account after this one decision alone is executed.

    ``margin_ratio`` maintenance margin / equity; ``liquidation_sigmas`` daily
    sigmas of the underlying to this position's liquidation at forecast vol
    (inf for options or flat); ``var_usd`` the position's 1-day VaR.
    """

    margin_ratio: float
    liquidation_sigmas: float
    var_usd: float


@dataclass(frozen=True, slots=True)
class Decision:
    """What the policy wants for one instrument, and why.

    ``current`` / ``target`` signed contracts; ``order`` = target - current
    (+ buy, - sell); ``caps`` name -> largest |position| in contracts each rule
    allows (inf = not limiting); ``binding_constraint`` the rule that set the
    target (or why it holds); ``inputs`` the numbers the rules saw;
    ``after`` the what-if; ``kind`` "resize", "hedge" or "hold";
    ``reduces_risk`` True for cuts and delta hedges; ``forced`` True when a
    hard limit (margin, liquidation buffer, drawdown, breaker) forces a cut;
    ``breakers`` the tripped breakers by name; ``reason`` one line for the trader.
    """

    symbol: str
    venue: str
    kind: str
    current: float
    target: float
    order: float
    binding_constraint: str
    reason: str
    reduces_risk: bool
    forced: bool = False
    caps: Mapping[str, float] = field(default_factory=dict)
    inputs: Mapping[str, object] = field(default_factory=dict)
    after: WhatIf | None = None
    breakers: tuple[str, ...] = ()
