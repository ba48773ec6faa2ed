"""Realised, forecast and ATM implied vol with recent history."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from cockpit.model import Snapshot
from cockpit.model.views import (
    VolView,
)
from cockpit.views.common import (
    _finite,
    _underlying,
    bars_symbol,
    forecast_for,
)
from sizing import volatility as sv

# --------------------------------------------------------------------------- volatility


def vol_view(
    snapshot: Snapshot, underlying: str, forecasts: Mapping | None = None,
    *, window: int = 168, vol_window: int = 24, history: int = 120,
) -> VolView:
    """Realised close-to-close vol over the last ``window`` hourly bars (and the
    Yang-Zhang range estimator over the same bars, ``sizing.volatility.yang_zhang``), the
    engine's forecast, the nearest-expiry ATM implied vol, and histories:
    the last ``history`` closes and the rolling ``vol_window``-bar realised vol."""
    sym = bars_symbol(snapshot, underlying)
    if not sym:
        return VolView(underlying, empty_reason=f"no price history for {underlying} yet")
    bars = snapshot.bars[sym]
    close = np.asarray(bars.close, float)
    ppy = 365.0 * 86_400.0 / bars.timeframe_s
    realised, note = None, ""
    rets = np.diff(np.log(close[-window - 1:])) if len(close) > 2 else np.empty(0)
    if len(rets) < 2:
        note = "fewer than 3 bars"
    elif not np.all(np.isfinite(rets)):
        note = "NaN in price history"
    else:
        realised = sv.close_to_close(close[-window - 1:], ppy)
    n = window + 1
    yz = sv.yang_zhang(np.asarray(bars.open, float)[-n:], np.asarray(bars.high, float)[-n:],
                       np.asarray(bars.low, float)[-n:], close[-n:], ppy)
    vol, model = forecast_for(forecasts, sym)
    atm_iv, atm_symbol, atm_note = _atm_iv(snapshot, underlying)
    return VolView(
        underlying, sym, realised_vol=realised, realised_window=len(rets), realised_note=note,
        forecast_vol=vol, model=model, range_vol=yz if math.isfinite(yz) else None,
        forecast_note="" if vol is not None else "waiting for the first engine run",
        atm_iv=atm_iv, atm_symbol=atm_symbol, atm_note=atm_note,
        price_history=tuple(float(c) for c in close[-history:]),
        vol_history=_rolling_vol(close[-(history + vol_window):], vol_window, ppy),
    )


def _rolling_vol(close: np.ndarray, n: int, ppy: float) -> tuple[float, ...]:
    """Annualised sample std of log returns over each trailing ``n``-return window."""
    r = np.diff(np.log(close))
    if len(r) < n or n < 2:
        return ()
    windows = np.lib.stride_tricks.sliding_window_view(r, n)
    with np.errstate(invalid="ignore"):
        vols = windows.std(axis=1, ddof=1) * math.sqrt(ppy)
    return tuple(float(v) for v in vols)


def _atm_iv(snapshot: Snapshot, underlying: str) -> tuple[float | None, str, str]:
    """Mark IV of the option nearest the money at the nearest live expiry."""
    chain = [i for i in snapshot.instruments.values()
             if i.is_option and _underlying(i, i.symbol) == underlying
             and i.expiry_ms is not None and i.expiry_ms > snapshot.ts_ms
             and i.symbol in snapshot.tickers]
    if not chain:
        return None, "", f"no options on {underlying}"
    expiry = min(i.expiry_ms for i in chain)
    nearest = [i for i in chain if i.expiry_ms == expiry]

    def spot(i):
        t = snapshot.tickers[i.symbol]
        return t.underlying_price if _finite(t.underlying_price) else t.index

    best = min(nearest, key=lambda i: abs(i.strike - spot(i)) if _finite(spot(i)) else math.inf)
    iv = snapshot.tickers[best.symbol].mark_iv
    if not _finite(iv):
        return None, best.symbol, f"no mark IV for {best.symbol}"
    return float(iv), best.symbol, ""
