"""Margin health: account figures, the account's liquidation levels per underlying, and
each position's distance to them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace

from cockpit.model import Snapshot
from cockpit.model.views import (
    AccountLiquidationRow,
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

REVALUATION_NOTE = ("liquidation: whole account revalued (perps and coin at the new price, "
                    "options Black-76 at today's IV, sticky strike; margin recomputed)")

# --------------------------------------------------------------------------- margin


def margin_view(
    snapshot: Snapshot,
    forecasts: Mapping | None = None,
    thresholds: tuple[float, float] = (0.5, 0.8),
    buffer_sigmas: float = 3.0,
    liquidations: Mapping | None = None,
) -> MarginView:
    """Margin health; ``thresholds`` = (amber, red) margin ratios from ``[display]``.

    The account's liquidation levels come from ``sizing.account_risk`` (every
    position revalued, margin recomputed at each price, ``liquidations`` if the
    caller already solved them: underlying -> ``UnderlyingLiquidation``), one
    row per underlying and direction plus the joint move of all underlyings.
    Each perp/future's liquidation price is the account's level for its
    underlying in the direction it loses, at its own mark; options show the
    underlying's level. Distances in daily sigmas and median time to touch use
    ``sizing.margin.liquidation_distance`` at the forecast vol of the
    underlying's bars. Anything closer than ``buffer_sigmas`` (the policy's
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
                          empty_reason="waiting for the first account update",
                          buffer_sigmas=buffer_sigmas)
    if len(snapshot.accounts) > 1:  # several venues: each account liquidates on its own
        from cockpit.views.margin_venues import venue_parts

        levels, rows = venue_parts(snapshot, forecasts, buffer_sigmas)
    else:
        if liquidations is None:
            liquidations = solve_liquidations(snapshot)
        levels = _account_rows(snapshot, liquidations, forecasts, buffer_sigmas)
        rows = [_margin_row(snapshot, p, forecasts, liquidations) for p in acct.positions
                if p.contracts]
    rows = [replace(r, inside_buffer=True) if _finite(r.distance_sigmas)
            and r.distance_sigmas < buffer_sigmas else r for r in rows]
    worst = _worst(rows)
    rows = [r if r.symbol != worst else _with_worst(r) for r in rows]
    peak = acct.peak_equity_usd
    drawdown = max(peak - acct.equity_usd, 0.0) / peak if peak > 0 else None
    source = "venue account" if acct.extra.get("account_margin_from_venue") else ""
    return MarginView(
        equity_usd=acct.equity_usd, available_usd=acct.available_usd,
        initial_margin_usd=acct.initial_margin_usd,
        maintenance_margin_usd=acct.maintenance_margin_usd, margin_ratio=acct.margin_ratio,
        amber_ratio=amber, red_ratio=red, unrealised_pnl_usd=acct.unrealised_pnl_usd,
        drawdown=drawdown, rows=tuple(rows), worst_symbol=worst,
        empty_reason="" if rows else "no open positions",
        account_levels=tuple(levels), buffer_sigmas=buffer_sigmas,
        revaluation_note=REVALUATION_NOTE if levels else "", margin_source=source,
        venues=_venue_rows(snapshot, thresholds),
    )


def _venue_rows(snapshot: Snapshot, thresholds) -> tuple:
    if len(snapshot.accounts) < 2:
        return ()
    from cockpit.views.margin_venues import venue_rows

    return venue_rows(snapshot, thresholds)


def solve_liquidations(snapshot: Snapshot) -> dict:
    """Underlying (and "all") -> ``UnderlyingLiquidation`` for the snapshot's account."""
    from cockpit.engine_input import book_from_snapshot
    from sizing.account_risk import JOINT, account_liquidations, joint_liquidation

    book = book_from_snapshot(snapshot)
    if book is None or not book.positions:
        return {}
    from sizing.account_risk import revalue

    if not math.isfinite(revalue(book).surplus_usd):
        return {}  # a price or an implied vol is missing: the rows fall back to the venue
    out = dict(account_liquidations(book))
    if len(out) > 1:
        out[JOINT] = joint_liquidation(book)
    return out


def _vol_of(snapshot: Snapshot, forecasts, underlying: str, symbol: str = "") -> float | None:
    vol, _model = forecast_for(forecasts, symbol, bars_symbol(snapshot, underlying), underlying)
    return vol


def _account_rows(snapshot, liquidations, forecasts, buffer_sigmas) -> list:
    rows = []
    for und, lv in liquidations.items():
        vol = _vol_of(snapshot, forecasts, und) if und != "all" else None
        decimals = 3 if und == "all" else (0 if lv.price >= 1_000 else 2)
        for direction, level in (("down", lv.down), ("up", lv.up)):
            if level is None:
                rows.append(AccountLiquidationRow(und, direction, lv.price, None, None,
                                                  note="none within ±95 %",
                                                  price_decimals=decimals))
                continue
            sig = days = None
            if vol is not None and _finite(lv.price) and lv.price > 0:
                d = sm.liquidation_distance(lv.price, max(level.price, 1e-12), vol)
                sig, days = d.sigmas_daily, d.expected_days
            rows.append(AccountLiquidationRow(
                und, direction, lv.price, level.price, level.move_pct, level.equity_usd,
                level.maintenance_margin_usd, sig, days, vol,
                inside_buffer=sig is not None and sig < buffer_sigmas,
                note="every underlying moves together" if und == "all" else "",
                price_decimals=decimals))
    return rows


def _margin_row(snapshot: Snapshot, p, forecasts: Mapping | None,
                liquidations: Mapping) -> PositionMarginRow:
    inst = snapshot.instruments.get(p.symbol)
    ticker = snapshot.tickers.get(p.symbol)
    mark = ticker.mark if ticker is not None else p.mark_price
    und = _underlying(inst, p.symbol)
    lv = liquidations.get(und)
    option = inst is not None and inst.is_option

    def row(note: str, liq=None, pct=None, sigmas=None, days=None, vol=None, price=mark):
        pd, ad = _decimals(inst)
        if option:
            pd = 0
        return PositionMarginRow(p.symbol, p.side, p.contracts, price, liq, pct, sigmas, days,
                                 vol, price_decimals=pd, note=note, amount_decimals=ad)

    if lv is None:  # no solver result (no instrument, no prices): the venue's own figure
        liq = p.liquidation_price
        if option or liq is None or not _finite(mark) or mark <= 0:
            return row("option" if option else "no liquidation price", liq)
        return row("venue's figure", liq, abs(liq - mark) / mark)
    falling = _loses_when_falling(inst, p.contracts, ticker)
    level = lv.down if falling else lv.up
    where = "down" if falling else "up"
    if option:
        # an option's own mark is in coin and never "liquidates": its row shows the
        # underlying's price now and where the whole account liquidates
        price, note = lv.price, f"{und} price, liq {'↓' if where == 'down' else '↑'}"
    else:
        price, note = mark, ""
    if level is None:
        return row(f"account: none within ±95 % {where}", price=price)
    if not _finite(price) or price <= 0:
        return row("no mark price yet", price=price)
    liq = price * (1.0 + level.move_pct)
    vol = _vol_of(snapshot, forecasts, und, p.symbol)
    if vol is None:
        return row(note or "no forecast vol yet", liq, abs(level.move_pct), price=price)
    d = sm.liquidation_distance(price, max(liq, 1e-12), vol)
    return row(note, liq, d.pct / 100.0, d.sigmas_daily, d.expected_days, vol, price=price)


def _loses_when_falling(inst, contracts: float, ticker) -> bool:
    """The direction a position loses in: longs of perps and calls, shorts of puts, fall."""
    if inst is None or not inst.is_option:
        return contracts > 0
    return (contracts > 0) == inst.is_call


def _worst(rows: list[PositionMarginRow]) -> str:
    """Closest to liquidation: fewest daily sigmas, else smallest percent distance."""
    with_sigmas = [r for r in rows if _finite(r.distance_sigmas)]
    if with_sigmas:
        return min(with_sigmas, key=lambda r: r.distance_sigmas).symbol
    with_pct = [r for r in rows if _finite(r.distance_pct)]
    return min(with_pct, key=lambda r: r.distance_pct).symbol if with_pct else ""


def _with_worst(r: PositionMarginRow) -> PositionMarginRow:
    return replace(r, worst=True)
