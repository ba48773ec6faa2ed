"""Shared helpers of the view builders (units as in the package docstring)."""

from __future__ import annotations

import math
from collections.abc import Mapping

from cockpit.model import Instrument, Snapshot
from widgets.format import decimals_for_step

MS_PER_YEAR = 365.0 * 86_400_000.0


def _finite(x) -> bool:
    return x is not None and math.isfinite(x)


def _underlying(inst: Instrument | None, symbol: str) -> str:
    if inst is None:
        return symbol.split("/")[0]
    return inst.underlying or inst.base


def _decimals(inst: Instrument | None) -> tuple[int, int]:
    if inst is None:
        return 2, 3
    return decimals_for_step(inst.price_step), decimals_for_step(inst.amount_step, default=3)


def bars_symbol(snapshot: Snapshot, underlying: str) -> str:
    """The bar series that tracks ``underlying`` (a perp/future on it; "" if none)."""
    best = ""
    for sym in snapshot.bars:
        inst = snapshot.instruments.get(sym)
        if _underlying(inst, sym) == underlying:
            if inst is not None and inst.kind == "perp":
                return sym
            best = best or sym
    return best


def forecast_for(forecasts: Mapping | None, *keys: str) -> tuple[float | None, str]:
    """(vol_annual, model) of the first key with a usable (finite, positive) vol;
    values are ``GarchForecast``-like (``vol_annual``, ``model``) or plain floats."""
    for key in keys:
        if forecasts and key and key in forecasts:
            f = forecasts[key]
            vol = getattr(f, "vol_annual", f)
            try:
                vol = float(vol)
            except (TypeError, ValueError):
                continue
            if math.isfinite(vol) and vol > 0:
                return vol, str(getattr(f, "model", ""))
    return None, ""


def _num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def _opt(x) -> float | None:
    """A what-if number; inf (no liquidation price) is kept, NaN is not."""
    v = _num(x)
    return None if v is None or math.isnan(v) else v
