"""Greeks per position and per underlying, venue or model (Black-76)."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import NamedTuple

import numpy as np

from cockpit.model import Snapshot
from cockpit.model.views import (
    GreeksRow,
    GreeksView,
)
from cockpit.views.common import (
    MS_PER_YEAR,
    _finite,
    _underlying,
)
from sizing import greeks as sg

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
