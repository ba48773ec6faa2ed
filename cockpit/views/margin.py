"""Margin health: account figures and per-position liquidation distance."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace

from cockpit.model import Snapshot
from cockpit.model.views import (
    MarginView,
    PositionMarginRow,
)
from cockpit.views.common import (
    _decimals,
    _finite,
    _underlying,
    bars_symbol,
    forecast_for,
)
from sizing import margin as sm

# --------------------------------------------------------------------------- margin


def margin_view(
    snapshot: Snapshot,
    forecasts: Mapping | None = None,
    thresholds: tuple[float, float] = (0.5, 0.8),
    buffer_sigmas: float = 3.0,
) -> MarginView:
    """Margin health; ``thresholds`` = (amber, red) margin ratios from ``[display]``.

    Each perp/future's liquidation price comes from the broker (Position);
    its distance in daily sigmas and median time to touch use
    ``sizing.margin.liquidation_distance`` at the forecast vol of the
    position's own bars or, failing that, of its underlying's. A position
    fewer than ``buffer_sigmas`` daily sigmas from liquidation (the policy's
    ``liquidation_buffer_sigmas``) is flagged ``inside_buffer``.

    Notes
    -----
    sigmas = |ln(liq / mark)| / (vol_annual / sqrt(365)); the expected time is
    the median first-passage time of driftless Brownian log price,
    (d / (0.6745 sigma))^2 years (see ``sizing.margin.liquidation_distance``).
    The worst position is the one fewest daily sigmas away (by percent when
    no forecast is available).
    """
    amber, red = thresholds
    if not 0 <= amber < red:
        raise ValueError(f"thresholds: {thresholds!r}; pass (amber, red) with 0 <= amber < red")
    acct = snapshot.account
    nan = math.nan
    if acct is None:
        return MarginView(nan, nan, nan, nan, nan, amber, red, nan, None,
                          empty_reason="waiting for the first account update")
    rows = [_margin_row(snapshot, p, forecasts) for p in acct.positions if p.contracts]
    rows = [replace(r, inside_buffer=True) if _finite(r.distance_sigmas)
            and r.distance_sigmas < buffer_sigmas else r for r in rows]
    worst = _worst(rows)
    rows = [r if r.symbol != worst else _with_worst(r) for r in rows]
    peak = acct.peak_equity_usd
    drawdown = max(peak - acct.equity_usd, 0.0) / peak if peak > 0 else None
    return MarginView(
        equity_usd=acct.equity_usd, available_usd=acct.available_usd,
        initial_margin_usd=acct.initial_margin_usd,
        maintenance_margin_usd=acct.maintenance_margin_usd, margin_ratio=acct.margin_ratio,
        amber_ratio=amber, red_ratio=red, unrealised_pnl_usd=acct.unrealised_pnl_usd,
        drawdown=drawdown, rows=tuple(rows), worst_symbol=worst,
        empty_reason="" if rows else "no open positions",
    )


def _margin_row(snapshot: Snapshot, p, forecasts: Mapping | None) -> PositionMarginRow:
    inst = snapshot.instruments.get(p.symbol)
    ticker = snapshot.tickers.get(p.symbol)
    mark = ticker.mark if ticker is not None else p.mark_price
    liq = p.liquidation_price

    def row(note: str, pct=None, sigmas=None, days=None, vol=None) -> PositionMarginRow:
        pd, ad = _decimals(inst)
        return PositionMarginRow(p.symbol, p.side, p.contracts, mark, liq, pct, sigmas, days,
                                 vol, price_decimals=pd, note=note, amount_decimals=ad)

    if inst is not None and inst.is_option:
        return row("option")  # margined with the account, no price of its own to hit
    if liq is None:
        return row("no liquidation price")
    if not _finite(mark) or mark <= 0:
        return row("no mark price yet")
    if not _finite(liq) or liq <= 0:
        return row("liquidation price unusable")
    vol, _model = forecast_for(forecasts, p.symbol,
                               bars_symbol(snapshot, _underlying(inst, p.symbol)))
    if vol is None:
        return row("no forecast vol yet", pct=abs(liq - mark) / mark)
    d = sm.liquidation_distance(mark, liq, vol)
    return row("", d.pct / 100.0, d.sigmas_daily, d.expected_days, vol)


def _worst(rows: list[PositionMarginRow]) -> str:
    """Closest to liquidation: fewest daily sigmas, else smallest percent distance."""
    with_sigmas = [r for r in rows if _finite(r.distance_sigmas)]
    if with_sigmas:
        return min(with_sigmas, key=lambda r: r.distance_sigmas).symbol
    with_pct = [r for r in rows if _finite(r.distance_pct)]
    return min(with_pct, key=lambda r: r.distance_pct).symbol if with_pct else ""


def _with_worst(r: PositionMarginRow) -> PositionMarginRow:
    return replace(r, worst=True)
