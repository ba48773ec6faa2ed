"""Plain view types the panels render (built by ``cockpit.views`` from a Snapshot).

Every number a panel shows is already computed here; widgets only format.
A value that could not be computed is ``None`` (or NaN) and the row carries a
one-line ``note`` saying why, so the panel can show "—" and the reason.

Units follow the field names: ``_usd`` in US dollars, ``_coin`` in the
underlying coin, ``_bps`` in basis points, vols are annualised fractions
(0.55 = 55 %), ratios are fractions, times are epoch milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AccountLiquidationRow",
    "ChainExpiry",
    "ChainQuote",
    "ChainStrikeRow",
    "ChainView",
    "DeltaBandRow",
    "DepthBand",
    "DepthView",
    "GreeksRow",
    "GreeksView",
    "LadderLevel",
    "LogEntry",
    "MarginView",
    "VenueAccountRow",
    "OrderRow",
    "PositionMarginRow",
    "PositionRow",
    "PositionsView",
    "StatusView",
    "StressView",
    "FundingRow",
    "SuggestionRow",
    "SuggestionsView",
    "VenueRow",
    "VolView",
]


@dataclass(frozen=True, slots=True)
class PositionMarginRow:
    """One position's distance to liquidation.

    ``distance_pct`` is |liquidation - mark| / mark as a fraction;
    ``distance_sigmas`` the same distance in daily standard deviations of log
    price at the forecast vol; ``expected_days`` the median time to touch it
    (see ``sizing.margin.liquidation_distance``). ``note`` says why any is None.
    """

    symbol: str
    side: str
    contracts: float
    mark: float
    liquidation_price: float | None
    distance_pct: float | None
    distance_sigmas: float | None
    expected_days: float | None
    forecast_vol: float | None
    price_decimals: int = 2
    worst: bool = False
    note: str = ""
    inside_buffer: bool = False  # closer than the liquidation buffer (daily sigmas)
    amount_decimals: int = 3


@dataclass(frozen=True, slots=True)
class AccountLiquidationRow:
    """Where the whole account meets maintenance margin as one underlying moves.

    ``underlying`` "BTC" (or "all" for every underlying moving together);
    ``direction`` "down" / "up"; ``price_now`` and ``liquidation_price`` in USD
    ("all": ratios to today's prices); ``move_pct`` signed fraction; equity and
    maintenance margin at that price in USD; ``distance_sigmas`` / ``expected_days``
    at the underlying's forecast vol. None where no move within +-95 %
    liquidates (``note`` says so).
    """

    underlying: str
    direction: str
    price_now: float
    liquidation_price: float | None
    move_pct: float | None
    equity_usd: float | None = None
    maintenance_margin_usd: float | None = None
    distance_sigmas: float | None = None
    expected_days: float | None = None
    forecast_vol: float | None = None
    inside_buffer: bool = False
    note: str = ""
    price_decimals: int = 0


@dataclass(frozen=True, slots=True)
class VenueAccountRow:
    """One venue's own account in a session of several (``venue`` "Σ" for their sum):
    USD figures, ``margin_ratio`` = MM / equity of that account alone (each venue
    liquidates its own account), ``level`` "ok" / "amber" / "red" / "unknown"."""

    venue: str
    mode: str  # "paper" | "live" | "" for the total
    equity_usd: float
    available_usd: float
    initial_margin_usd: float
    maintenance_margin_usd: float
    margin_ratio: float
    level: str = "ok"
    is_total: bool = False


@dataclass(frozen=True, slots=True)
class MarginView:
    """Account margin health. ``margin_ratio`` = MM / equity (liquidation at 1);
    the gauge turns amber at ``amber_ratio`` and red at ``red_ratio``;
    ``drawdown`` is (peak - equity) / peak as a fraction."""

    equity_usd: float
    available_usd: float
    initial_margin_usd: float
    maintenance_margin_usd: float
    margin_ratio: float
    amber_ratio: float
    red_ratio: float
    unrealised_pnl_usd: float
    drawdown: float | None
    rows: tuple[PositionMarginRow, ...] = ()
    worst_symbol: str = ""
    empty_reason: str = ""
    account_levels: tuple[AccountLiquidationRow, ...] = ()
    buffer_sigmas: float = 3.0
    revaluation_note: str = ""  # how the account was revalued ("options at today's IV ...")
    margin_source: str = ""  # "venue account" when IM/MM are the venue's account-level figures
    venues: tuple[VenueAccountRow, ...] = ()  # several venues: each account, then the Σ row

    @property
    def level(self) -> str:
        """"ok", "amber" or "red" for the gauge and the panel's state class;
        "unknown" while the ratio is NaN (account not valued yet)."""
        if self.margin_ratio != self.margin_ratio:
            return "unknown"
        if self.margin_ratio >= self.red_ratio:
            return "red"
        if self.margin_ratio >= self.amber_ratio:
            return "amber"
        return "ok"


@dataclass(frozen=True, slots=True)
class GreeksRow:
    """Greeks of one position (or a total line, ``is_total``).

    delta_coin: per position the plain Black-76 delta x size (the venue's
    convention, Deribit's ticker); perps their coin size. delta_usd =
    delta_coin x underlying. Total lines add the premium adjustment and the
    coin equity (their own lines) so ``Σ`` is the book delta.
    gamma_coin: change of delta_coin per 1 USD of underlying;
    gamma_usd: the P&L of a 1 % move from gamma, 0.5 x gamma x (1 % S)^2, the
    unit of ``[sizing] gamma_limit_usd``.
    vega per 1 vol point, theta per calendar day (inside the last day, x the
    time left, as Deribit shows it). ``source`` is "venue" (the venue's
    published Greeks), "model" (``sizing.greeks.black76``), the instrument
    kind "perp"/"future" (delta only, exact), or "book" for the adjustment lines.
    """

    symbol: str
    underlying: str
    contracts: float
    source: str
    delta_coin: float | None
    delta_usd: float | None
    gamma_coin: float | None
    gamma_usd: float | None
    vega_coin: float | None
    vega_usd: float | None
    theta_coin: float | None
    theta_usd: float | None
    is_total: bool = False
    note: str = ""
    outside_band: bool = False  # totals only: |delta_usd| beyond the delta band


@dataclass(frozen=True, slots=True)
class DeltaBandRow:
    """What the delta band covers for one underlying (USD), by the policy's own rule
    (``sizing.policy_hedge.band_delta_usd``): ``covered_usd`` = options' book
    delta + hedge perps; ``view_perps_usd`` the directional perps and
    ``coin_usd`` the coin equity, the trader's view, outside the band."""

    underlying: str
    covered_usd: float
    options_usd: float
    hedge_perps_usd: float
    view_perps_usd: float
    coin_usd: float
    band_usd: float
    outside: bool


@dataclass(frozen=True, slots=True)
class GreeksView:
    """Per-position Greeks, totals per underlying, and the delta band (USD,
    +/- ``delta_band_usd`` per underlying, as the policy hedges it); ``breach``
    when any underlying's total is outside (``GreeksRow.outside_band``)."""

    rows: tuple[GreeksRow, ...] = ()
    totals: tuple[GreeksRow, ...] = ()
    portfolio_delta_usd: float | None = None
    delta_band_usd: float | None = None
    breach: bool = False
    empty_reason: str = ""
    note: str = ""  # e.g. "no options in this account: gamma, vega and theta are zero"
    bands: tuple[DeltaBandRow, ...] = ()
    delta_convention: str = ""


@dataclass(frozen=True, slots=True)
class LadderLevel:
    """One price level: ``amount`` in contracts, ``cumulative`` from the best price."""

    price: float
    amount: float
    cumulative: float


@dataclass(frozen=True, slots=True)
class DepthBand:
    """Contracts resting within ``bps`` of mid on each side."""

    bps: float
    bid_amount: float
    ask_amount: float


@dataclass(frozen=True, slots=True)
class DepthView:
    """Order-book ladder for one instrument, best first on each side.

    ``spread_bps`` = (ask - bid) / mid x 1e4. ``suggestion_slippage_bps`` is
    what the selected suggestion's order would pay walking this book (VWAP
    against the best price, positive = worse), ``None`` with
    ``suggestion_note`` when there is nothing to walk.
    """

    symbol: str
    bids: tuple[LadderLevel, ...] = ()
    asks: tuple[LadderLevel, ...] = ()
    best_bid: float | None = None
    best_ask: float | None = None
    spread: float | None = None
    spread_bps: float | None = None
    bands: tuple[DepthBand, ...] = ()
    suggestion_text: str = ""
    suggestion_side: str = ""  # "buy" walks the asks, "sell" the bids
    suggestion_slippage_bps: float | None = None
    suggestion_filled: float | None = None
    suggestion_note: str = ""
    price_decimals: int = 2
    amount_decimals: int = 3
    age_s: float | None = None
    stale: bool = False
    empty_reason: str = ""


@dataclass(frozen=True, slots=True)
class PositionRow:
    """An open position; ``pnl_usd`` unrealised; ``leverage`` = notional / equity."""

    symbol: str
    side: str
    contracts: float
    entry: float
    mark: float
    pnl_usd: float
    leverage: float
    price_decimals: int = 2
    amount_decimals: int = 3


@dataclass(frozen=True, slots=True)
class OrderRow:
    """An open (or just finished) order; ``price`` None for market orders."""

    id: str
    symbol: str
    side: str
    type: str
    amount: float
    filled: float
    price: float | None
    status: str
    reduce_only: bool = False
    reason: str = ""
    price_decimals: int = 2
    amount_decimals: int = 3


@dataclass(frozen=True, slots=True)
class PositionsView:
    positions: tuple[PositionRow, ...] = ()
    orders: tuple[OrderRow, ...] = ()
    empty_reason: str = ""


@dataclass(frozen=True, slots=True)
class VolView:
    """Volatility of one underlying. ``realised_vol`` close-to-close over
    ``realised_window`` hourly bars; ``forecast_vol`` the engine's forecast
    (``model`` names it, e.g. "garch-t" or "ewma (fallback: short)");
    ``atm_iv`` the nearest-expiry at-the-money implied vol. Each None has
    its ``*_note``. ``price_history``/``vol_history`` oldest first."""

    underlying: str
    symbol: str = ""
    realised_vol: float | None = None
    realised_window: int = 0
    realised_note: str = ""
    forecast_vol: float | None = None
    model: str = ""
    forecast_note: str = ""
    atm_iv: float | None = None
    atm_symbol: str = ""
    atm_note: str = ""
    price_history: tuple[float, ...] = ()
    vol_history: tuple[float, ...] = ()
    empty_reason: str = ""
    range_vol: float | None = None  # Yang-Zhang (OHLC) over the same window


@dataclass(frozen=True, slots=True)
class SuggestionRow:
    """One resize proposal as the trader reads it.

    ``current``/``target`` in contracts; ``orders`` a short text of the
    planned order(s); ``order_side``/``order_amount`` the net order (for the
    book walk). ``stale`` suggestions cannot be approved (``stale_reason``).
    """

    id: str
    symbol: str
    current: float
    target: float
    orders: str
    binding: str
    slippage_bps: float | None
    margin_ratio_after: float | None
    liq_sigmas_after: float | None
    reason: str
    stale: bool = False
    stale_reason: str = ""
    reduces_risk: bool = False
    order_side: str = ""
    order_amount: float = 0.0
    amount_decimals: int = 3
    style: str = ""  # how it will be worked: market, passive, twap, ladder
    style_why: str = ""  # "passive: spread 1,058 bp > 20 bp budget"
    slippage_usd: float | None = None  # expected, against mid (an option's mark)

    @property
    def approvable(self) -> bool:
        return not self.stale and self.order_amount > 0


@dataclass(frozen=True, slots=True)
class SuggestionsView:
    rows: tuple[SuggestionRow, ...] = ()
    empty_reason: str = ""
    working: tuple[str, ...] = ()  # executions' progress lines (cockpit.executions)


@dataclass(frozen=True, slots=True)
class VenueRow:
    """Connection of one venue; ``age_s`` = snapshot time - newest data time."""

    venue: str
    connected: bool
    age_s: float | None
    retrying: bool = False
    message: str = ""
    dead_man: str | None = None


@dataclass(frozen=True, slots=True)
class StatusView:
    """The status bar: mode ("demo", "paper", "live", "replay"), venues,
    engine state, auto-execute, tripped breakers and the data clock."""

    mode: str
    clock_ms: int
    venues: tuple[VenueRow, ...] = ()
    engine_state: str = "waiting"  # "waiting" | "running" | "idle" | "failed"
    engine_last_run_ms: int | None = None
    engine_duration_ms: float | None = None
    engine_next_run_s: float | None = None
    engine_error: str = ""
    auto_execute: bool = False
    breakers: tuple[str, ...] = ()
    stale_after_s: float = 5.0  # venue data older than this shows as stale
    trading_state: str = "active"  # "active" | "reducing" | "halted"
    trading_reason: str = ""  # why the state was entered (shown beside it)


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One event-log line. ``kind``: a journal kind ("suggestion", "approval",
    "rejection", "auto", "refusal", "state", "order", "cancel", "fill", "funding",
    "expiry", "liquidation", "kill", "reconcile", "error", "info")."""

    ts_ms: int
    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class FundingRow:
    """One perpetual's funding: ``rate`` per interval (fraction, + longs pay),
    ``next_ms`` the next funding time, ``payment_usd`` what the position pays at
    that rate (negative = receives), ``paid_so_far`` the account's funding paid in
    the perp's settle currency (``paid_currency``) since it opened."""

    symbol: str
    rate: float | None
    next_ms: int | None
    interval_h: float
    payment_usd: float | None
    paid_so_far: float | None = None
    paid_currency: str = ""


@dataclass(frozen=True, slots=True)
class StressView:
    """The stress grid and the portfolio VaR (see ``sizing.portfolio_risk``).

    ``pnl_usd[i][j]`` the account's P&L with every underlying moved by
    ``moves[i]`` (fraction) and every IV x (1 + ``vol_shifts[j]``);
    ``margin_ratio`` MM / equity there; ``liquidated`` where equity <= MM.
    ``var_usd`` / ``cvar_usd`` 1-day at ``alpha`` by full revaluation over
    ``scenarios`` filtered historical days; ``components`` (item, component VaR
    USD, stand-alone VaR USD) largest first.
    """

    moves: tuple[float, ...] = ()
    vol_shifts: tuple[float, ...] = ()
    pnl_usd: tuple[tuple[float, ...], ...] = ()
    margin_ratio: tuple[tuple[float, ...], ...] = ()
    liquidated: tuple[tuple[bool, ...], ...] = ()
    equity_usd: float | None = None
    var_usd: float | None = None
    cvar_usd: float | None = None
    alpha: float = 0.99
    scenarios: int = 0
    method: str = ""
    components: tuple[tuple[str, float, float], ...] = ()
    funding: tuple[FundingRow, ...] = ()
    empty_reason: str = ""


@dataclass(frozen=True, slots=True)
class ChainQuote:
    """One option of the chain, per contract, as the venue quotes it.

    ``bid`` / ``ask`` / ``mark`` in the option's quote (the settle coin for
    Deribit-style options, 0.0125 BTC; None where that side is empty), ``mark_usd``
    = mark x underlying; ``iv`` the mark's annualised implied vol (fraction);
    ``iv_source`` "venue" (the ticker's mark IV) or "model" (inverted from the
    mark with ``sizing.greeks.implied_vol``); ``delta`` the plain Black delta per
    coin of underlying (``delta_source`` "venue" or "model", Black-76 at ``iv``);
    ``open_interest`` in contracts, None where the venue does not publish it;
    ``held`` the account's contracts in it (0 = not held). ``note`` says why a
    None is None.
    """

    symbol: str
    bid: float | None
    ask: float | None
    mark: float | None
    mark_usd: float | None
    iv: float | None
    delta: float | None
    open_interest: float | None = None
    held: float = 0.0
    iv_source: str = ""
    delta_source: str = ""
    price_decimals: int = 4
    note: str = ""


@dataclass(frozen=True, slots=True)
class ChainStrikeRow:
    """One strike of one expiry: the call and the put (None where not listed);
    ``in_the_money_call`` when the strike is below the forward."""

    strike: float
    call: ChainQuote | None
    put: ChainQuote | None
    in_the_money_call: bool = False


@dataclass(frozen=True, slots=True)
class ChainExpiry:
    """One expiry's strikes, lowest first. ``forward`` the USD underlying its
    options are priced off; ``days`` to expiry; ``smile`` (strike, iv) of the
    out-of-the-money option at each strike (calls at or above the forward,
    puts below), strikes ascending, finite IVs only."""

    expiry_ms: int
    label: str  # "25DEC26"
    days: float
    forward: float | None
    rows: tuple[ChainStrikeRow, ...] = ()
    smile: tuple[tuple[float, float], ...] = ()
    atm_iv: float | None = None


@dataclass(frozen=True, slots=True)
class ChainView:
    """The option chain of one underlying on one venue: expiries nearest first.
    ``underlyings`` every (venue, underlying) with listed options, for switching."""

    underlying: str
    venue: str = ""
    expiries: tuple[ChainExpiry, ...] = ()
    underlyings: tuple[tuple[str, str], ...] = ()
    empty_reason: str = ""
