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

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, model_validator

__all__ = ["Config", "ConfigError", "VenueConfig", "default_config_path", "load_config"]

Fraction = Annotated[float, Field(gt=0, le=1)]
Positive = Annotated[float, Field(gt=0)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SizingConfig(_Section):
    """[sizing]: the policy's risk settings (fractions, not percent)."""

    target_vol: Annotated[float, Field(gt=0, le=5)] = 0.50  # annualised
    kelly_fraction: Fraction = 0.5  # of full Kelly
    max_leverage: Positive = 3.0  # gross notional / equity
    var_limit: Fraction = 0.05  # 1-day 99 % VaR as a fraction of equity
    var_method: Literal["historical", "normal", "student-t", "filtered"] = "historical"
    margin_ratio_cap: Fraction = 0.5  # maintenance margin / equity
    liquidation_buffer_sigmas: Positive = 3.0  # daily sigmas to liquidation, at least
    slippage_budget_bps: Positive = 20.0
    adv_fraction: Fraction = 0.05  # of average daily volume
    delta_band_usd: Positive = 25_000.0  # portfolio delta band, +/- USD
    gamma_limit_usd: Positive = 5_000.0  # USD P&L per 1 % move squared term
    vega_limit_usd: Positive = 2_000.0  # USD per vol point
    no_trade_band: Annotated[float, Field(ge=0, lt=1)] = 0.10  # of current size
    stale_after_s: Positive = 10.0
    vol_spike_threshold: Annotated[float, Field(gt=1)] = 2.0  # short/long vol ratio
    drawdown_tiers: tuple[tuple[Fraction, Annotated[float, Field(ge=0, le=1)]], ...] = (
        (0.05, 0.5),
        (0.10, 0.25),
        (0.15, 0.0),  # scale 0 = reduce-only
    )
    drift_annual: float = 0.0  # expected return used by Kelly (0 = Kelly does not bind)
    vol_model: Literal["garch", "gjr", "ewma"] = "garch"  # the engine's forecast model


class EngineConfig(_Section):
    """[engine]: how often the policy runs and what may happen without a key press."""

    interval_s: Annotated[float, Field(ge=0.5, le=3600)] = 3.0
    auto_execute_increases: StrictBool = False  # auto-execute never increases risk unless True
    suggestion_max_age_s: Positive = 30.0
    suggestion_max_move_bps: Positive = 50.0
    big_move_bps: Positive = 100.0  # a move this big since the last run triggers a run


class DisplayConfig(_Section):
    """[display]: look and thresholds of the margin gauge (margin ratio = MM / equity)."""

    theme: str = ""  # empty = the last theme chosen in the app (default dark)
    margin_amber: Fraction = 0.5
    margin_red: Fraction = 0.8
    refresh_hz: Annotated[float, Field(ge=1, le=60)] = 12.0  # >= 10 repaints/s with jitter

    @model_validator(mode="after")
    def _amber_below_red(self) -> DisplayConfig:
        if self.margin_amber >= self.margin_red:
            raise ValueError("margin_amber must be below margin_red")
        return self


class DemoConfig(_Section):
    """[demo]: the built-in market."""

    seed: Annotated[int, Field(ge=0)] = 7
    tick_hz: Annotated[float, Field(gt=0, le=200)] = 10.0
    acceleration: Annotated[float, Field(gt=0, le=1e6)] = 1.0


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


class Config(_Section):
    sizing: SizingConfig = SizingConfig()
    engine: EngineConfig = EngineConfig()
    display: DisplayConfig = DisplayConfig()
    demo: DemoConfig = DemoConfig()
    venues: dict[Literal["deribit", "binanceusdm", "bybit", "okx"], VenueConfig] = {}
    keymap: dict[str, str] = {}  # binding id -> keys, e.g. approve = "enter"
    path: Path | None = Field(default=None, exclude=True)


class ConfigError(Exception):
    """A config problem, already phrased as the one line to show."""


def default_config_path() -> Path:
    from platformdirs import user_config_path

    return user_config_path("cockpit") / "config.toml"


def _describe(err: dict) -> str:
    parts = [str(p) for p in err["loc"]]
    kind = err["type"]
    if parts[-1:] == ["[key]"]:
        return (
            f"unknown venue '{parts[-2]}' in [venues]: use one of deribit, binanceusdm, "
            "bybit, okx"
        )
    loc = ".".join(parts)
    if kind == "extra_forbidden":
        return f"unknown key '{loc}': remove it or check its spelling"
    value = err.get("input")
    shown = "" if isinstance(value, dict | list) else f" (got {value!r})"
    return f"'{loc}': {err['msg'].lower()}{shown}; fix it in the file"


def load_config(path: Path | str | None = None) -> Config:
    """Read and validate the config; a missing default file means all defaults."""
    explicit = path is not None
    p = Path(path) if explicit else default_config_path()
    if not p.exists():
        if explicit:
            raise ConfigError(f"config {p}: no such file; create it or drop --config")
        return Config()
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config {p}: TOML syntax error {exc}; fix that line") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config {p}: cannot read it ({exc.__class__.__name__}); check the file") from None
    try:
        cfg = Config.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"config {p}: {_describe(first)}") from None
    return cfg.model_copy(update={"path": p})
