"""The TOML config: typed, every key optional with a documented default.

Default path: ``<user config dir>/cockpit/config.toml`` (platformdirs), or
``--config PATH``. A bad file stops start-up with ONE line naming the key (or
the TOML line) and the fix; :func:`load_config` raises :class:`ConfigError`
carrying that line and the CLI exits with code 2.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from cockpit.alerts import ALERT_KINDS
from cockpit.keymap import check_keymap

__all__ = [
    "AlertsConfig",
    "Config",
    "ConfigError",
    "DataConfig",
    "VenueConfig",
    "check_theme",
    "default_config_path",
    "load_config",
]

# strict: a TOML boolean is never read as 1.0 (ints are still fine); finite: inf and
# nan are refused, so no limit is silently switched off and no engine run fails on one.
Real = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Fraction = Annotated[Real, Field(gt=0, le=1)]
Positive = Annotated[Real, Field(gt=0)]
Seconds = Annotated[Real, Field(gt=0, le=86_400)]
Usd = Annotated[Real, Field(gt=0, le=1e12)]
Count = Annotated[int, Field(strict=True)]

# the names of secrets: their values are never echoed in an error, whatever their type
_SECRET_WORDS = ("key", "secret", "password", "passphrase", "token", "webhook")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class SizingConfig(_Section):
    """[sizing]: the policy's risk settings (fractions, not percent)."""

    target_vol: Annotated[Real, Field(gt=0, le=5)] = 0.50  # annualised
    kelly_fraction: Fraction = 0.5  # of full Kelly
    max_leverage: Annotated[Real, Field(gt=0, le=200)] = 3.0  # gross notional / equity
    var_limit: Fraction = 0.05  # 1-day 99 % VaR as a fraction of equity
    var_method: Literal["historical", "normal", "student-t", "filtered"] = "historical"
    margin_ratio_cap: Fraction = 0.5  # maintenance margin / equity
    liquidation_buffer_sigmas: Positive = 3.0  # daily sigmas to liquidation, at least
    slippage_budget_bps: Annotated[Real, Field(gt=0, le=10_000)] = 20.0
    adv_fraction: Fraction = 0.05  # of average daily volume
    delta_band_usd: Usd = 25_000.0  # portfolio delta band, +/- USD
    gamma_limit_usd: Usd = 5_000.0  # USD P&L per 1 % move squared term
    vega_limit_usd: Usd = 2_000.0  # USD per vol point
    no_trade_band: Annotated[Real, Field(ge=0, lt=1)] = 0.10  # of current size
    stale_after_s: Seconds = 10.0
    vol_spike_threshold: Annotated[Real, Field(gt=1, le=100)] = 2.0  # short/long vol ratio
    drawdown_tiers: tuple[tuple[Annotated[Real, Field(gt=0, lt=1)],
                                Annotated[Real, Field(ge=0, le=1)]], ...] = (
        (0.05, 0.5),
        (0.10, 0.25),
        (0.15, 0.0),  # scale 0 = reduce-only
    )
    # expected return used by Kelly (0 = Kelly does not bind), a fraction a year
    drift_annual: Annotated[Real, Field(ge=-10, le=10)] = 0.0
    vol_model: Literal["garch", "gjr", "ewma"] = "garch"  # the engine's forecast model

    @field_validator("drawdown_tiers")
    @classmethod
    def _tiers_ordered(cls, tiers):
        """Deeper drawdowns come later and never scale risk back UP."""
        for i in range(1, len(tiers)):
            (dd0, s0), (dd1, s1) = tiers[i - 1], tiers[i]
            if dd1 <= dd0:
                raise ValueError(f"drawdowns must increase: tier {i + 1} ({dd1:g}) is not "
                                 f"deeper than tier {i} ({dd0:g}); order them shallow to deep")
            if s1 > s0:
                raise ValueError(f"scales must not rise with the drawdown: tier {i + 1} "
                                 f"scale {s1:g} > tier {i} scale {s0:g}")
        return tiers


class EngineConfig(_Section):
    """[engine]: how often the policy runs and what may happen without a key press."""

    interval_s: Annotated[Real, Field(ge=0.5, le=3600)] = 3.0
    auto_execute_increases: StrictBool = False  # auto-execute never increases risk unless True
    suggestion_max_age_s: Seconds = 30.0
    suggestion_max_move_bps: Annotated[Real, Field(gt=0, le=10_000)] = 50.0
    # a move this big since the last run triggers a run
    big_move_bps: Annotated[Real, Field(gt=0, le=10_000)] = 100.0
    # GARCH refits in a child process: arch's optimiser holds the GIL, which in a
    # thread stalls the screen (cockpit/forecast_worker.py)
    forecast_process: StrictBool = True


class RiskConfig(_Section):
    """[risk]: the risk gate every order passes (``cockpit.risk_gate``), whoever sent it.

    allow: unified symbols or glob patterns (``"BTC/*"``) that may be traded;
        empty = every listed instrument.
    max_data_age_s: wall seconds; older ticker or book data refuses the order
        (data ages are divided by the demo's acceleration).
    max_order_notional_usd: USD per order: ``amount x contract size x price`` in USD
        (options: x the underlying price).
    max_notional_per_hour_usd, max_notional_per_day_usd: USD sent in the rolling last
        hour / day (wall clock). Orders verified to reduce risk are exempt from the three
        notional limits and do not count: a trader can always get out.
    max_margin_ratio: maintenance margin / equity after the order (fraction); refused
        only when above it AND higher than now. Gross leverage uses [sizing] max_leverage.
    price_band_bps: a limit buy above mark (sell below) by more than this is refused.
    option_price_band_bps: the same for options, wider: option books are wide.
    max_orders_per_second, max_orders_per_minute: orders sent, every order counted.
    """

    allow: tuple[str, ...] = ()
    max_data_age_s: Positive = 10.0
    max_order_notional_usd: Positive = 500_000.0
    max_notional_per_hour_usd: Positive = 1_500_000.0
    max_notional_per_day_usd: Positive = 5_000_000.0
    max_margin_ratio: Fraction = 0.5
    price_band_bps: Positive = 100.0
    option_price_band_bps: Positive = 2_000.0
    max_orders_per_second: Annotated[int, Field(ge=1)] = 10
    max_orders_per_minute: Annotated[int, Field(ge=1)] = 120


class ExecutionConfig(_Section):
    """[execution]: how an approved order is worked (``cockpit.executions``). Times are
    market seconds (the demo's --acceleration shortens them); bps of the reference
    price (mid, or an option's mark).

    default_style: "auto" picks per instrument (``cockpit.execution_style``), or one of
        market, passive, twap, ladder for every order.
    passive_step_bps, passive_step_s: a passive limit steps this far toward the far side
        this often; never beyond max_worse_bps from the arrival price; it gives up after
        passive_timeout_s.
    twap_slices, twap_duration_s: slices at duration / slices apart.
    ladder_count, ladder_bps, ladder_timeout_s: rungs from the reference to ladder_bps
        away; what has not filled by the timeout is cancelled.
    """

    default_style: Literal["auto", "market", "passive", "twap", "ladder"] = "auto"
    passive_step_bps: Positive = 50.0
    passive_step_s: Positive = 30.0
    max_worse_bps: Annotated[float, Field(ge=0)] = 250.0
    passive_timeout_s: Positive = 300.0
    twap_slices: Annotated[int, Field(ge=1, le=100)] = 3
    twap_duration_s: Positive = 60.0
    ladder_count: Annotated[int, Field(ge=1, le=50)] = 5
    ladder_bps: Positive = 50.0
    ladder_timeout_s: Positive = 600.0


class DisplayConfig(_Section):
    """[display]: look and thresholds of the margin gauge (margin ratio = MM / equity)."""

    theme: str = ""  # empty = the last theme chosen in the app (default dark)
    margin_amber: Fraction = 0.5
    margin_red: Fraction = 0.8
    refresh_hz: Annotated[Real, Field(ge=1, le=60)] = 12.0  # >= 10 repaints/s with jitter

    @field_validator("theme")
    @classmethod
    def _known_theme(cls, name: str) -> str:
        problem = check_theme(name) if name else None
        if problem:
            raise ValueError(problem)
        return name

    @model_validator(mode="after")
    def _amber_below_red(self) -> DisplayConfig:
        if self.margin_amber >= self.margin_red:
            raise ValueError("margin_amber must be below margin_red")
        return self


class DemoConfig(_Section):
    """[demo]: the built-in market."""

    seed: Annotated[Count, Field(ge=0, le=2**32 - 1)] = 7  # numpy seeds are 32-bit
    tick_hz: Annotated[Real, Field(gt=0, le=200)] = 10.0
    acceleration: Annotated[Real, Field(gt=0, le=1e6)] = 1.0


class DataConfig(_Section):
    """[data]: when market data is too doubtful to fill or size an order on.

    A paper order is refused when the book (or ticker) it would fill from is older
    than ``max_book_age_s`` of data time, crossed, empty on the side it needs, or when
    the price moved more than ``max_jump_pct`` percent in one update against the last
    good price (a 90 % drop in one tick is a bad print until the market confirms it).
    """

    max_jump_pct: Annotated[Real, Field(gt=0, le=100)] = 30.0
    max_book_age_s: Seconds = 10.0


class VenueConfig(_Section):
    """[venues.NAME]: one real venue (NAME is a ccxt id: deribit, binanceusdm, bybit, okx)."""

    symbols: tuple[str, ...] = ()
    sandbox: StrictBool = False
    rest_url: str = ""
    ws_url: str = ""
    api_key_env: str = ""
    secret_env: str = ""
    password_env: str = ""
    keyring: StrictBool = False
    api_key: str = Field(default="", repr=False)
    secret: str = Field(default="", repr=False)
    live: StrictBool = False


class AlertsConfig(_Section):
    """[alerts]: alerts posted off screen (every alert is shown on screen anyway).

    webhook_url: where alerts are POSTed as JSON; empty = on screen only. It may hold
        a token: it is never shown beyond its scheme and host.
    events: which alert kinds are posted (``cockpit.alerts.ALERT_KINDS``; default all).
    timeout_s: seconds to connect and to answer, per try.
    max_per_minute: alerts posted in any rolling minute; the rest stay on screen only.
    dedup_window_s: an alert with the same key posted within this window is not again.
    """

    webhook_url: str = Field(default="", repr=False)
    events: tuple[str, ...] = ALERT_KINDS
    timeout_s: Annotated[Real, Field(gt=0, le=60)] = 5.0
    max_per_minute: Annotated[Count, Field(ge=1, le=600)] = 10
    dedup_window_s: Annotated[Real, Field(ge=0, le=86_400)] = 300.0

    @field_validator("webhook_url")
    @classmethod
    def _postable(cls, url: str) -> str:
        from cockpit.alerts_webhook import check_webhook_url

        if problem := check_webhook_url(url):
            raise ValueError(problem)
        return url

    @field_validator("events")
    @classmethod
    def _known_events(cls, events: tuple[str, ...]) -> tuple[str, ...]:
        for e in events:
            if e not in ALERT_KINDS:
                raise ValueError(f"unknown event {e!r}: use any of {', '.join(ALERT_KINDS)}")
        return events


class Config(_Section):
    sizing: SizingConfig = SizingConfig()
    engine: EngineConfig = EngineConfig()
    risk: RiskConfig = RiskConfig()
    execution: ExecutionConfig = ExecutionConfig()
    display: DisplayConfig = DisplayConfig()
    demo: DemoConfig = DemoConfig()
    data: DataConfig = DataConfig()
    alerts: AlertsConfig = AlertsConfig()
    venues: dict[Literal["deribit", "binanceusdm", "bybit", "okx"], VenueConfig] = {}
    keymap: dict[str, str] = {}  # binding id -> keys, e.g. approve = "enter"
    path: Path | None = Field(default=None, exclude=True)

    @field_validator("keymap")
    @classmethod
    def _bindable_keymap(cls, keymap: dict[str, str]) -> dict[str, str]:
        """Known ids, keys Textual can bind, no key twice, quit never taken away
        (see ``cockpit.keymap``); the keys come back in Textual's own names."""
        return check_keymap(keymap)


class ConfigError(Exception):
    """A config problem, already phrased as the one line to show."""


def default_config_path() -> Path:
    from platformdirs import user_config_path

    return user_config_path("cockpit") / "config.toml"


def check_theme(name: str) -> str | None:
    """Why ``name`` is not a theme the app can show, or None (the one check for the
    config's ``[display] theme`` and ``--theme``). Imports Textual only when asked."""
    from textual.theme import BUILTIN_THEMES

    from cockpit.theming import theme_name

    if theme_name(name, BUILTIN_THEMES) is None:
        return f"unknown theme {name!r}: use dark, light or high-contrast"
    return None


def _is_secret(parts: list[str]) -> bool:
    return any(word in part.lower() for part in parts for word in _SECRET_WORDS)


def _describe(err: dict) -> str:
    """One line for one pydantic error: the key, what is wrong, the fix. The value is
    shown unless the key names a secret."""
    parts = [str(p) for p in err["loc"]]
    kind = err["type"]
    if parts[-1:] == ["[key]"]:
        return (
            f"unknown venue '{parts[-2]}' in [venues]: use one of deribit, binanceusdm, "
            "bybit, okx"
        )
    if kind == "keymap":
        binding = err["ctx"]["binding"]
        return f"'keymap.{binding}': {err['msg']}"
    loc = ".".join(parts)
    if kind == "extra_forbidden":
        return f"unknown key '{loc}': remove it or check its spelling"
    value = err.get("input")
    msg = err["msg"].removeprefix("Value error, ")
    msg = msg[:1].lower() + msg[1:]
    if _is_secret(parts):
        return f"'{loc}': {msg} (value not shown: it is a secret); fix it in the file"
    shown = "" if isinstance(value, dict | list) else f" (got {_short(value)})"
    return f"'{loc}': {msg}{shown}; fix it in the file"


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def load_config(path: Path | str | None = None) -> Config:
    """Read and validate the config; a missing default file means all defaults.

    A UTF-8 byte-order mark (Windows editors write one) is accepted."""
    explicit = path is not None
    p = Path(path) if explicit else default_config_path()
    if p.is_dir():
        raise ConfigError(f"config {p}: is a directory; give the path of a TOML file")
    if not p.exists():
        if explicit:
            raise ConfigError(f"config {p}: no such file; create it or drop --config")
        return Config()
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"config {p}: not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"config {p}: cannot read it ({exc.strerror or type(exc).__name__})"
                          "; check its permissions") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config {p}: TOML syntax error {exc}; fix that line") from None
    try:
        cfg = Config.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"config {p}: {_describe(first)}") from None
    return cfg.model_copy(update={"path": p})
