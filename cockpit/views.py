"""View builders: Snapshot (+ engine results) -> the plain views the panels render.

This is where the panels' numbers are computed, with ``sizing`` doing the
maths (Black-76 Greeks, liquidation distance, book walks); the widgets only
format. Builders never raise on market data: a number that cannot be had is
None with a one-line note saying why.

Conventions: crypto trades 365 days a year (vol_annual / sqrt(365) is one
day's sigma; option time to expiry in 365-day years); hourly bars give
8,760 periods a year.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import NamedTuple

import numpy as np

from cockpit.model import Instrument, Snapshot
from cockpit.model.views import (
    DepthBand,
    DepthView,
    GreeksRow,
    GreeksView,
    LadderLevel,
    MarginView,
    OrderRow,
    PositionMarginRow,
    PositionRow,
    PositionsView,
    StatusView,
    SuggestionRow,
    SuggestionsView,
    VenueRow,
    VolView,
)
from sizing import greeks as sg
from sizing import liquidity as sl
from sizing import margin as sm
from sizing import volatility as sv
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


# --------------------------------------------------------------------------- greeks


def greeks_view(snapshot: Snapshot, delta_band_usd: float | None = None) -> GreeksView:
    """Greeks per position, totals per underlying, and the delta band check.

    Options use the venue's Greeks when the ticker carries them (Deribit
    convention, per contract: delta in coin, gamma coin per USD, vega USD
    per vol point, theta USD per day) and ``sizing.greeks.black76`` at the
    ticker's mark IV otherwise. For coin-settled (inverse) options the coin
    delta is the Black-76 delta minus the option's coin price, as Deribit
    reports it; USD figures are coin figures x the underlying price.
    Perpetuals and futures: delta = contracts x contract size (coin; inverse
    contracts: USD size / mark). ``breach`` when any underlying's delta is
    outside +/- ``delta_band_usd``.

    Notes
    -----
    A coin-settled option worth V USD is worth V/S coin. Its coin P&L per USD
    move of S is d(V/S)/dS = (delta - V/S) / S, so the position's coin-equivalent
    exposure (what a perp hedge must offset) is delta - V/S coin per contract:
    Deribit's published "delta" for BTC options. gamma_usd = gamma x S^2 x 1 %
    is the change of USD delta for a 1 % move.

    References
    ----------
    Black, F. (1976), "The pricing of commodity contracts", J. Fin. Econ. 3.
    Deribit, "Inverse options" and API ``public/ticker`` (``greeks`` per contract).
    """
    acct = snapshot.account
    if acct is None:
        return GreeksView(delta_band_usd=delta_band_usd,
                          empty_reason="waiting for the first account update")
    rows = _resolve_model_greeks(
        [_greeks_row(snapshot, p.symbol, p.contracts) for p in acct.positions if p.contracts])
    if not rows:
        return GreeksView(delta_band_usd=delta_band_usd, empty_reason="no open positions")
    totals = []
    breach = False
    for und in dict.fromkeys(r.underlying for r in rows):
        group = [r for r in rows if r.underlying == und]
        total = _total(und, group)
        if delta_band_usd is not None and _finite(total.delta_usd) \
                and abs(total.delta_usd) > delta_band_usd:
            breach = True
            total = replace(total, outside_band=True,
                            note="; ".join(filter(None, [total.note, "outside band"])))
        totals.append(total)
    deltas = [t.delta_usd for t in totals if _finite(t.delta_usd)]
    has_options = any(snapshot.instruments[r.symbol].is_option for r in rows
                      if r.symbol in snapshot.instruments)
    return GreeksView(rows=tuple(rows), totals=tuple(totals),
                      portfolio_delta_usd=math.fsum(deltas) if deltas else None,
                      delta_band_usd=delta_band_usd, breach=breach,
                      note="" if has_options else
                      "no options in this account: gamma, vega and theta are zero")


def _greeks_row(snapshot: Snapshot, symbol: str, contracts: float) -> GreeksRow | _ModelInput:
    """The row, or for an option without venue Greeks its pending model input."""
    inst = snapshot.instruments.get(symbol)
    ticker = snapshot.tickers.get(symbol)
    und = _underlying(inst, symbol)

    def missing(source: str, note: str) -> GreeksRow:
        return GreeksRow(symbol, und, contracts, source, *([None] * 8), note=note)

    if inst is None:
        return missing("—", "instrument not loaded")
    if ticker is None:
        return missing("—", "no ticker yet")
    if not inst.is_option:
        price = ticker.mark
        if not _finite(price) or price <= 0:
            return missing(inst.kind, "no mark price")
        coin = contracts * inst.contract_size
        if not inst.linear:
            coin /= price  # inverse: contract size in USD
        return GreeksRow(symbol, und, contracts, inst.kind, coin, coin * price,
                         0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    spot = ticker.underlying_price if _finite(ticker.underlying_price) else ticker.index
    if not _finite(spot) or spot <= 0:
        return missing("—", "no underlying price")
    qty = contracts * inst.contract_size
    if ticker.greeks is not None:
        g = ticker.greeks
        if not all(_finite(x) for x in (g.delta, g.gamma, g.vega, g.theta)):
            return missing("venue", "venue Greeks incomplete (NaN)")
        delta, gamma, vega, theta, source = g.delta, g.gamma, g.vega, g.theta, "venue"
        qty = contracts  # venue Greeks are per contract
    else:
        if not _finite(ticker.mark_iv) or ticker.mark_iv <= 0:
            return missing("model", "no implied vol for model Greeks")
        if inst.expiry_ms is None or inst.strike is None:
            return missing("model", "option without strike/expiry")
        years = (inst.expiry_ms - snapshot.ts_ms) / MS_PER_YEAR
        if years <= 0:
            return missing("model", "expired")
        return _ModelInput(symbol, und, contracts, qty, spot, inst.strike, years,
                           ticker.mark_iv, inst.is_call, inst.linear)
    return _greeks_from_unit(symbol, und, contracts, source, qty, spot,
                             delta, gamma, vega, theta)


def _greeks_from_unit(symbol, und, contracts, source, qty, spot, delta, gamma, vega, theta):
    """Position Greeks from per-unit ones (delta coin, gamma per USD, vega USD per
    vol point, theta USD per day) x ``qty``; coin figures are USD / ``spot``."""
    dc, gc, vu, tu = delta * qty, gamma * qty, vega * qty, theta * qty
    return GreeksRow(symbol, und, contracts, source,
                     delta_coin=dc, delta_usd=dc * spot,
                     gamma_coin=gc, gamma_usd=gc * spot * spot * 0.01,
                     vega_coin=vu / spot, vega_usd=vu, theta_coin=tu / spot, theta_usd=tu)


class _ModelInput(NamedTuple):
    """An option position waiting for its Black-76 evaluation (done for all at once)."""

    symbol: str
    underlying: str
    contracts: float
    qty: float
    spot: float
    strike: float
    years: float
    vol: float
    is_call: bool
    linear: bool


def _resolve_model_greeks(items: list) -> list[GreeksRow]:
    """Evaluate every pending option in one vectorised ``black76`` call."""
    pending = [it for it in items if isinstance(it, _ModelInput)]
    if not pending:
        return items
    cols = list(zip(*pending, strict=True))
    bs = sg.black76(np.array(cols[4]), np.array(cols[5]), np.array(cols[6]),
                    np.array(cols[7]), np.array(cols[8], dtype=bool))
    # coin-settled options: Deribit's coin delta, Black-76 delta minus the coin price
    inverse = ~np.array(cols[9], dtype=bool)
    delta = np.where(inverse, sg.inverse_coin_delta(bs.delta, bs.price, np.array(cols[4])),
                     bs.delta)
    out, k = [], 0
    for it in items:
        if not isinstance(it, _ModelInput):
            out.append(it)
            continue
        out.append(_greeks_from_unit(it.symbol, it.underlying, it.contracts, "model", it.qty,
                                     it.spot, float(delta[k]), float(bs.gamma[k]),
                                     float(bs.vega[k]), float(bs.theta[k])))
        k += 1
    return out


def _total(und: str, group: list[GreeksRow]) -> GreeksRow:
    ok = [r for r in group if r.delta_coin is not None]
    left_out = [r.symbol for r in group if r.delta_coin is None]
    note = f"excludes {len(left_out)} without Greeks" if left_out else ""

    def s(name):
        vals = [getattr(r, name) for r in ok]
        return math.fsum(vals) if vals else None

    return GreeksRow(f"Σ {und}", und, math.fsum(r.contracts for r in group), "",
                     s("delta_coin"), s("delta_usd"), s("gamma_coin"), s("gamma_usd"),
                     s("vega_coin"), s("vega_usd"), s("theta_coin"), s("theta_usd"),
                     is_total=True, note=note)


# --------------------------------------------------------------------------- depth


def depth_view(
    snapshot: Snapshot,
    symbol: str | None,
    suggestion: SuggestionRow | None = None,
    *,
    levels: int = 10,
    bands_bps: tuple[float, ...] = (10.0, 50.0, 100.0),
    stale_after_s: float = 5.0,
) -> DepthView:
    """Ladder of the ``levels`` best prices a side with cumulative contracts,
    spread, depth within ``bands_bps`` of mid (whole book) and the slippage
    the ``suggestion``'s order would pay walking it (``sizing.liquidity``)."""
    if not symbol:
        return DepthView("", empty_reason="select an instrument (positions table) to see its book")
    inst = snapshot.instruments.get(symbol)
    pd, ad = _decimals(inst)
    book = snapshot.books.get(symbol)
    if book is None:
        return DepthView(symbol, price_decimals=pd, amount_decimals=ad,
                         empty_reason=f"no book for {symbol} yet")
    bids, asks = np.asarray(book.bids, float), np.asarray(book.asks, float)
    if not len(bids) and not len(asks):
        return DepthView(symbol, price_decimals=pd, amount_decimals=ad,
                         empty_reason=f"book for {symbol} is empty")
    bid, ask = book.best_bid, book.best_ask
    spread = ask - bid if len(bids) and len(asks) else None
    mid = 0.5 * (bid + ask) if spread is not None else None
    spread_bps = spread / mid * 1e4 if spread is not None and mid > 0 else None
    bands = ()
    if mid is not None:
        bands = tuple(DepthBand(b, *sl.depth_within_bps(bids, asks, b)) for b in bands_bps)
    view = DepthView(
        symbol, bids=_ladder(bids, levels), asks=_ladder(asks, levels),
        best_bid=bid if len(bids) else None, best_ask=ask if len(asks) else None,
        spread=spread, spread_bps=spread_bps, bands=bands, price_decimals=pd,
        amount_decimals=ad, age_s=snapshot.age_ms(book.ts_ms) / 1000.0,
    )
    view = replace(view, stale=view.age_s > stale_after_s)
    return _with_suggestion(view, bids, asks, suggestion) if suggestion else view


def _ladder(levels: np.ndarray, n: int) -> tuple[LadderLevel, ...]:
    top = levels[:n]
    cum = np.cumsum(top[:, 1]) if len(top) else ()
    return tuple(LadderLevel(float(p), float(a), float(c))
                 for (p, a), c in zip(top, cum, strict=True))


def _with_suggestion(view: DepthView, bids, asks, s: SuggestionRow) -> DepthView:
    text = f"suggested {s.order_side} {s.order_amount:g}"
    view = replace(view, suggestion_side=s.order_side)
    if s.symbol != view.symbol:
        return replace(view, suggestion_text=text, suggestion_note=f"order is for {s.symbol}")
    side_levels = asks if s.order_side == "buy" else bids
    if s.order_amount <= 0 or not len(side_levels):
        return replace(view, suggestion_text=text, suggestion_note="nothing to walk")
    walk = sl.walk_book(side_levels, s.order_amount)
    note = ""
    if walk.filled < s.order_amount:
        note = f"book holds only {walk.filled:g} of {s.order_amount:g}"
    return replace(view, suggestion_text=text, suggestion_slippage_bps=float(walk.slippage_bps),
                   suggestion_filled=float(walk.filled), suggestion_note=note)


# --------------------------------------------------------------------------- positions


def positions_view(snapshot: Snapshot) -> PositionsView:
    """Open positions (entry/mark in the instrument's quote units: USD for perps,
    coin for Deribit options; PnL in USD) and open orders."""
    acct = snapshot.account
    if acct is None:
        return PositionsView(empty_reason="waiting for the first account update")
    rows = []
    # Perps and futures first, biggest first: the first row is what the ladder shows.
    def order(p):
        inst = snapshot.instruments.get(p.symbol)
        return (inst is not None and inst.is_option, -abs(p.notional_usd or 0.0), p.symbol)

    for p in sorted(acct.positions, key=order):
        if p.contracts == 0:
            continue
        inst = snapshot.instruments.get(p.symbol)
        pd, ad = _decimals(inst)
        ticker = snapshot.tickers.get(p.symbol)
        mark = ticker.mark if ticker is not None else p.mark_price
        rows.append(PositionRow(p.symbol, p.side, p.contracts, p.entry_price, mark,
                                p.unrealised_pnl_usd, p.leverage, pd, ad))
    orders = []
    for o in acct.open_orders:
        pd, ad = _decimals(snapshot.instruments.get(o.symbol))
        orders.append(OrderRow(o.id, o.symbol, o.side, o.type, o.amount, o.filled, o.price,
                               o.status, o.reduce_only, o.reason, pd, ad))
    return PositionsView(tuple(rows), tuple(orders),
                         empty_reason="" if rows else "no open positions")


# --------------------------------------------------------------------------- volatility


def vol_view(
    snapshot: Snapshot, underlying: str, forecasts: Mapping | None = None,
    *, window: int = 168, vol_window: int = 24, history: int = 120,
) -> VolView:
    """Realised close-to-close vol over the last ``window`` hourly bars, the
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
    vol, model = forecast_for(forecasts, sym)
    atm_iv, atm_symbol, atm_note = _atm_iv(snapshot, underlying)
    return VolView(
        underlying, sym, realised_vol=realised, realised_window=len(rets), realised_note=note,
        forecast_vol=vol, model=model,
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


# --------------------------------------------------------------------------- suggestions


def suggestions_view(
    suggestions: Iterable, snapshot: Snapshot, now_ms: int | None = None,
    max_age_s: float = 30.0, max_move_bps: float = 50.0,
) -> SuggestionsView:
    """Rows for the engine's suggestions (``cockpit.suggestions.Suggestion``:
    id, decision, planned orders, created time and reference mark). Staleness
    uses ``cockpit.suggestions.stale_reason`` at data time ``now_ms``
    (default the snapshot's own clock)."""
    from cockpit.suggestions import stale_reason

    snap = snapshot if now_ms in (None, snapshot.ts_ms) else replace(snapshot, ts_ms=now_ms)
    rows = []
    for s in suggestions:
        d = s.decision
        inst = snapshot.instruments.get(s.symbol)
        _pd, ad = _decimals(inst)
        why = stale_reason(s, snap, max_age_s, max_move_bps)
        order = float(getattr(d, "order", d.target - d.current))
        inputs = getattr(d, "inputs", {}) or {}
        slip = inputs.get("expected_slippage_bps", inputs.get("slippage_bps"))
        after = getattr(d, "after", None)
        rows.append(SuggestionRow(
            id=s.id, symbol=s.symbol, current=d.current, target=d.target,
            orders=orders_text(s.orders, order, ad), binding=d.binding_constraint,
            slippage_bps=float(slip) if _finite(_num(slip)) else None,
            margin_ratio_after=_opt(getattr(after, "margin_ratio", None)),
            liq_sigmas_after=_opt(getattr(after, "liquidation_sigmas", None)),
            reason=d.reason, stale=why is not None, stale_reason=why or "",
            reduces_risk=bool(d.reduces_risk), order_side="buy" if order > 0 else "sell",
            order_amount=abs(order), amount_decimals=ad,
        ))
    return SuggestionsView(tuple(rows), empty_reason="" if rows else
                           "no resize proposed: every position is inside its limits")


def _num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def _opt(x) -> float | None:
    """A what-if number; inf (no liquidation price) is kept, NaN is not."""
    v = _num(x)
    return None if v is None or math.isnan(v) else v


def orders_text(orders: Iterable, net: float, amount_decimals: int = 3) -> str:
    """"sell 0.400 market RO" or "3× buy limit 0.100 @ 59,950–60,000" (planned orders)."""
    orders = list(orders or ())
    if not orders:
        return f"{'buy' if net > 0 else 'sell'} {abs(net):.{amount_decimals}f}"
    first = orders[0]
    flags = " RO" if all(getattr(o, "reduce_only", False) for o in orders) else ""
    total = math.fsum(o.amount for o in orders)
    if len(orders) == 1:
        price = "" if first.price is None else f" @ {first.price:,.2f}"
        return f"{first.side} {total:.{amount_decimals}f} {first.type}{price}{flags}"
    prices = [o.price for o in orders if o.price is not None]
    span = f" @ {min(prices):,.2f}–{max(prices):,.2f}" if prices else ""
    return f"{len(orders)}× {first.side} {first.type} {total:.{amount_decimals}f}{span}{flags}"


# --------------------------------------------------------------------------- status


def status_view(
    snapshot: Snapshot, *, engine_state: str = "waiting", engine_last_run_ms: int | None = None,
    engine_duration_ms: float | None = None, engine_next_run_s: float | None = None,
    engine_error: str = "", auto_execute: bool = False, breakers: Iterable[str] = (),
    stale_after_s: float = 5.0,
) -> StatusView:
    """The status bar: venue data age = snapshot clock - venue's newest data time."""
    venues = tuple(
        VenueRow(v.venue, v.connected,
                 snapshot.age_ms(v.last_data_ms) / 1000.0 if v.last_data_ms else None,
                 v.retrying, v.message, v.dead_man)
        for v in snapshot.venues.values()
    )
    return StatusView(snapshot.mode, snapshot.ts_ms, venues, engine_state, engine_last_run_ms,
                      engine_duration_ms, engine_next_run_s, engine_error, auto_execute,
                      tuple(breakers), stale_after_s)
