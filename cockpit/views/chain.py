"""The option chain of one underlying: expiries x strikes, quotes, IV, delta, the smile.

Greeks and implied vol come from where the Greeks panel gets them
(``cockpit.views.greeks``): the venue's published Greeks when the ticker carries
them, else Black-76 (``sizing.greeks.black76``) at the ticker's mark IV. A venue
that gives a mark but no IV gets the mark's Black-76 implied vol
(``sizing.greeks.implied_vol``), marked "model".
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from cockpit.model import Instrument, Snapshot
from cockpit.model.views import ChainExpiry, ChainQuote, ChainStrikeRow, ChainView
from cockpit.views.common import MS_PER_YEAR, _decimals, _finite, _underlying
from cockpit.views.greeks import _greeks_row, _ModelInput, _resolve_model_greeks
from sizing import greeks as sg

__all__ = ["chain_underlyings", "chain_view", "expiry_label"]


def expiry_label(expiry_ms: int) -> str:
    """Deribit's expiry label: 1798185600000 -> "25DEC26" (UTC date)."""
    d = dt.datetime.fromtimestamp(expiry_ms / 1000.0, tz=dt.UTC)
    return f"{d.day}{d.strftime('%b').upper()}{d:%y}"


def _live_options(snapshot: Snapshot) -> list[Instrument]:
    return [i for i in snapshot.instruments.values()
            if i.is_option and i.strike is not None and i.expiry_ms is not None
            and i.expiry_ms > snapshot.ts_ms]


def chain_underlyings(snapshot: Snapshot) -> tuple[tuple[str, str], ...]:
    """Every (venue, underlying) with live options listed, in listing order."""
    return tuple(dict.fromkeys((i.venue, _underlying(i, i.symbol))
                               for i in _live_options(snapshot)))


def chain_view(snapshot: Snapshot, underlying: str | None = None,
               venue: str | None = None) -> ChainView:
    """The chain of ``underlying`` on ``venue`` (the first listed where None or
    not listed), expiries nearest first, strikes lowest first."""
    live = _live_options(snapshot)
    pairs = tuple(dict.fromkeys((i.venue, _underlying(i, i.symbol)) for i in live))
    if not pairs:
        return ChainView(underlying or "", venue or "",
                         empty_reason="no options listed on the venue(s) in use")
    if (venue, underlying) not in pairs:
        venue, underlying = next((p for p in pairs if p[1] == underlying), pairs[0])
    options = [i for i in live if i.venue == venue and _underlying(i, i.symbol) == underlying]
    quotes = _quotes(snapshot, options)
    groups: dict[int, list[Instrument]] = {}
    for inst in options:
        groups.setdefault(inst.expiry_ms, []).append(inst)
    expiries = [_expiry(snapshot, expiry_ms, groups[expiry_ms], quotes)
                for expiry_ms in sorted(groups)]
    return ChainView(underlying, venue, tuple(expiries), pairs)


def _expiry(snapshot: Snapshot, expiry_ms: int, group: list[Instrument],
            quotes: dict[str, ChainQuote]) -> ChainExpiry:
    forward = _forward(snapshot, group)
    by_side = {(i.strike, i.is_call): quotes[i.symbol] for i in group}
    rows = []
    for strike in sorted({i.strike for i in group}):
        rows.append(ChainStrikeRow(strike, by_side.get((strike, True)),
                                   by_side.get((strike, False)),
                                   in_the_money_call=forward is not None and strike < forward))
    smile = []
    for r in rows:  # the out-of-the-money side: the liquid one, as a smile is read
        q = r.put if forward is not None and r.strike < forward else r.call
        q = q or r.call or r.put
        if q is not None and _finite(q.iv):
            smile.append((r.strike, q.iv))
    atm_iv = None
    if forward is not None and smile:
        atm_iv = min(smile, key=lambda p: abs(p[0] - forward))[1]
    return ChainExpiry(expiry_ms, expiry_label(expiry_ms),
                       (expiry_ms - snapshot.ts_ms) / 86_400_000.0, forward, tuple(rows),
                       tuple(smile), atm_iv)


def _forward(snapshot: Snapshot, group: list[Instrument]) -> float | None:
    """The USD underlying the expiry's options are priced off (their tickers')."""
    for inst in group:
        t = snapshot.tickers.get(inst.symbol)
        if t is None:
            continue
        spot = t.underlying_price if _finite(t.underlying_price) else t.index
        if _finite(spot) and spot > 0:
            return spot
    return None


def _side(x: float) -> float | None:
    """A quote side; 0 or NaN is an empty side (the Store's one-sided book)."""
    return x if _finite(x) and x > 0 else None


def _quotes(snapshot: Snapshot, options: list[Instrument]) -> dict[str, ChainQuote]:
    """Per option: its quote, IV and delta. Model Greeks in one vectorised call."""
    held = {p.symbol: p.contracts for p in (snapshot.account.positions
                                            if snapshot.account else ())}
    ivs = _implied_vols(snapshot, options)
    pending: list = []
    for inst in options:
        iv, _ = ivs[inst.symbol]
        t = snapshot.tickers.get(inst.symbol)
        if t is not None and t.greeks is not None:
            pending.append(_greeks_row(snapshot, inst.symbol, 1.0))
            continue
        spot = _spot(t)
        years = (inst.expiry_ms - snapshot.ts_ms) / MS_PER_YEAR
        if iv is None or spot is None:
            pending.append(None)
            continue
        pending.append(_ModelInput(inst.symbol, _underlying(inst, inst.symbol), 1.0,
                                   inst.contract_size, spot, inst.strike, years, iv,
                                   inst.is_call))
    rows = _resolve_model_greeks([p for p in pending if p is not None])
    greeks = {r.symbol: r for r in rows}
    decimals: dict[float, int] = {}  # per tick size
    out = {}
    for inst in options:
        t = snapshot.tickers.get(inst.symbol)
        iv, iv_source = ivs[inst.symbol]
        g = greeks.get(inst.symbol)
        delta = None
        if g is not None and _finite(g.delta_coin) and inst.contract_size > 0:
            delta = g.delta_coin / inst.contract_size  # per coin of underlying
        price_decimals = decimals.setdefault(inst.price_step, max(_decimals(inst)[0], 4))
        if t is None:
            out[inst.symbol] = ChainQuote(inst.symbol, None, None, None, None, None, None,
                                          held=held.get(inst.symbol, 0.0),
                                          price_decimals=price_decimals, note="no ticker yet")
            continue
        mark = t.mark if _finite(t.mark) and t.mark > 0 else None
        spot = _spot(t)
        mark_usd = None
        if mark is not None:
            mark_usd = mark if inst.linear else (mark * spot if spot is not None else None)
        note = "" if iv is not None else ivs[inst.symbol][1]
        if iv is not None and delta is None and g is not None:
            note = g.note
        out[inst.symbol] = ChainQuote(
            inst.symbol, _side(t.bid), _side(t.ask), mark, mark_usd, iv, delta,
            open_interest=t.open_interest if _finite(t.open_interest) else None,
            held=held.get(inst.symbol, 0.0), iv_source=iv_source if iv is not None else "",
            delta_source=(g.source if g is not None and delta is not None else ""),
            price_decimals=price_decimals, note=note)
    return out


def _spot(t) -> float | None:
    if t is None:
        return None
    spot = t.underlying_price if _finite(t.underlying_price) else t.index
    return spot if _finite(spot) and spot > 0 else None


def _implied_vols(snapshot: Snapshot, options: list[Instrument]) -> dict[str, tuple]:
    """symbol -> (iv or None, source, or the reason there is none)."""
    out: dict[str, tuple] = {}
    invert = []
    for inst in options:
        t = snapshot.tickers.get(inst.symbol)
        if t is None:
            out[inst.symbol] = (None, "no ticker yet")
        elif _finite(t.mark_iv) and t.mark_iv > 0:
            out[inst.symbol] = (float(t.mark_iv), "venue")
        elif _spot(t) is None or not (_finite(t.mark) and t.mark > 0):
            out[inst.symbol] = (None, "no mark or underlying price for an implied vol")
        else:
            invert.append((inst, t))
    if invert:
        spot = np.array([_spot(t) for _, t in invert])
        price = np.array([t.mark if inst.linear else t.mark * _spot(t) for inst, t in invert])
        years = np.array([(inst.expiry_ms - snapshot.ts_ms) / MS_PER_YEAR for inst, _ in invert])
        vol, why = sg.implied_vol_with_reason(
            price, spot, np.array([inst.strike for inst, _ in invert]), years,
            np.array([inst.is_call for inst, _ in invert], dtype=bool))
        for (inst, _), v, reason in zip(invert, vol.tolist(), why.tolist(), strict=True):
            ok = math.isfinite(v) and v > 0
            out[inst.symbol] = (v, "model") if ok else (None, f"no implied vol: {reason}")
    return out
