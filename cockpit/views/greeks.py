"""Greeks per position and per underlying, venue or model (Black-76)."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import NamedTuple

import numpy as np

from cockpit.model import Snapshot
from cockpit.model.views import (
    DeltaBandRow,
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
    """Greeks per position, the book delta per underlying, and the delta band check.

    Options use the venue's Greeks when the ticker carries them (Deribit
    convention, per contract: delta in coin, gamma coin per USD, vega USD
    per vol point, theta USD per day) and ``sizing.greeks.black76`` at the
    ticker's mark IV otherwise: the same plain Black delta either way.
    Perpetuals and futures: delta = contracts x contract size (coin; inverse
    contracts: USD size / mark). Model theta follows the venue's last-day rule
    (``sizing.book_greeks.venue_theta``).

    Per underlying, two lines complete the book delta (``sizing.book_greeks``):
    the premium adjustment (coin-settled options count net of their coin value,
    as Deribit's ``delta_total``) and the coin equity (collateral plus coin
    PnL), so ``Σ`` is d(equity USD)/d(price). The band covers the options'
    book delta and the perps that hedge them, by the policy's own rule
    (``sizing.policy_hedge.band_delta_usd``); ``breach`` when that is outside
    +/- ``delta_band_usd``.

    References
    ----------
    Black, F. (1976), "The pricing of commodity contracts", J. Fin. Econ. 3.
    Deribit API ``public/ticker`` (``greeks``), ``private/get_account_summary``
    (``delta_total``).
    """
    from sizing.book_greeks import DELTA_CONVENTION

    acct = snapshot.account
    if acct is None:
        return GreeksView(delta_band_usd=delta_band_usd,
                          empty_reason="waiting for the first account update")
    rows = _resolve_model_greeks(
        [_greeks_row(snapshot, p.symbol, p.contracts) for p in acct.positions if p.contracts])
    if not rows:
        return GreeksView(delta_band_usd=delta_band_usd, empty_reason="no open positions")
    totals, bands = [], []
    breach = False
    for und in dict.fromkeys(r.underlying for r in rows):
        group = [r for r in rows if r.underlying == und]
        extra = _book_lines_by_venue(snapshot, und, group)
        total = _total(und, group + extra)
        band = _band(snapshot, und, group, extra, delta_band_usd)
        if band is not None:
            bands.append(band)
            if band.outside:
                breach = True
                total = replace(total, outside_band=True,
                                note="; ".join(filter(None, [total.note, "outside band"])))
        totals += extra
        totals.append(total)
    deltas = [t.delta_usd for t in totals if t.is_total and _finite(t.delta_usd)]
    has_options = any(snapshot.instruments[r.symbol].is_option for r in rows
                      if r.symbol in snapshot.instruments)
    return GreeksView(rows=tuple(rows), totals=tuple(totals),
                      portfolio_delta_usd=math.fsum(deltas) if deltas else None,
                      delta_band_usd=delta_band_usd, breach=breach, bands=tuple(bands),
                      delta_convention=DELTA_CONVENTION,
                      note="" if has_options else
                      "no options in this account: gamma, vega and theta are zero")


def _book_lines_by_venue(snapshot: Snapshot, und: str, group: list[GreeksRow]) -> list:
    """Several venues: each account's premium adjustment and coin equity on its own,
    valued at its own venue's price ("BTC@deribit coin equity"), so the Σ per
    underlying is the sum of each account's Σ alone."""
    if len(snapshot.accounts) < 2:
        return _book_lines(snapshot, und, group)
    out = []
    for venue, acct in snapshot.accounts.items():
        mine = [r for r in group if getattr(snapshot.instruments.get(r.symbol), "venue", "")
                == venue]
        alone = replace(snapshot, account=acct)
        for line in _book_lines(alone, und, mine):
            name = (f"{line.symbol}@{venue}" if line.symbol.startswith("premium adj")
                    else f"{und}@{venue} coin equity")
            out.append(replace(line, symbol=name))
    return out


def _book_lines(snapshot: Snapshot, und: str, group: list[GreeksRow]) -> list[GreeksRow]:
    """The premium adjustment and coin equity lines of one underlying (delta only)."""
    from sizing.contracts import premium_adjustment_coin

    acct = snapshot.account
    spot = next((r.delta_usd / r.delta_coin for r in group
                 if r.delta_coin and _finite(r.delta_usd)), None)
    if spot is None:
        return []
    adj = 0.0
    coin = sum(b.total for b in acct.balances if b.currency == und)
    for p in acct.positions:
        inst = snapshot.instruments.get(p.symbol)
        if inst is None or _underlying(inst, p.symbol) != und:
            continue
        t = snapshot.tickers.get(p.symbol)
        if t is not None:
            adj += premium_adjustment_coin(inst, p.contracts, t.mark)
        if inst.settle == und:
            coin += p.unrealised_pnl_settle
    lines = []
    if adj:
        lines.append(GreeksRow(f"premium adj {und}", und, 0.0, "book", adj, adj * spot,
                               None, None, None, None, None, None, is_total=False,
                               note="coin options net of their coin value (delta_total)"))
    if coin:
        lines.append(GreeksRow(f"{und} coin equity", und, 0.0, "book", coin, coin * spot,
                               None, None, None, None, None, None, is_total=False,
                               note="collateral + coin PnL"))
    return lines


def _band(snapshot, und, group, extra, band_usd) -> DeltaBandRow | None:
    """The band's reading for one underlying, by the policy's rule (one number)."""
    from sizing.policy_hedge import band_delta_usd

    if band_usd is None:
        return None
    kinds = {r.symbol: snapshot.instruments[r.symbol].kind for r in group
             if r.symbol in snapshot.instruments}
    options = math.fsum(r.delta_usd for r in group
                        if kinds.get(r.symbol) == "option" and _finite(r.delta_usd))
    options += math.fsum(r.delta_usd for r in extra if r.symbol.startswith("premium adj"))
    perps = [r.delta_usd for r in group if kinds.get(r.symbol) == "perp"
             and _finite(r.delta_usd)]
    others = math.fsum(r.delta_usd for r in group if kinds.get(r.symbol) == "future"
                       and _finite(r.delta_usd))
    covered, flags = band_delta_usd(options, perps, band_usd)
    hedges = math.fsum(d for d, f in zip(perps, flags, strict=True) if f)
    coin = math.fsum(r.delta_usd for r in extra if r.symbol.endswith("coin equity"))
    return DeltaBandRow(und, covered, options, hedges,
                        math.fsum(perps) - hedges + others, coin, band_usd,
                        abs(covered) > band_usd)


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
                           ticker.mark_iv, inst.is_call)
    return _greeks_from_unit(symbol, und, contracts, source, qty, spot,
                             delta, gamma, vega, theta)


def _greeks_from_unit(symbol, und, contracts, source, qty, spot, delta, gamma, vega, theta):
    """Position Greeks from per-unit ones (delta coin, gamma per USD, vega USD per
    vol point, theta USD per day) x ``qty``; coin figures are USD / ``spot``;
    gamma_usd the P&L of a 1 % move from gamma, 0.5 gamma (1 % S)^2."""
    dc, gc, vu, tu = delta * qty, gamma * qty, vega * qty, theta * qty
    return GreeksRow(symbol, und, contracts, source,
                     delta_coin=dc, delta_usd=dc * spot,
                     gamma_coin=gc, gamma_usd=0.5 * gc * (0.01 * spot) ** 2,
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


def _resolve_model_greeks(items: list) -> list[GreeksRow]:
    """Evaluate every pending option in one vectorised ``black76`` call."""
    pending = [it for it in items if isinstance(it, _ModelInput)]
    if not pending:
        return items
    cols = list(zip(*pending, strict=True))
    bs = sg.black76(np.array(cols[4]), np.array(cols[5]), np.array(cols[6]),
                    np.array(cols[7]), np.array(cols[8], dtype=bool))
    # the plain Black delta, as the venue's ticker shows it (the premium adjustment is a
    # book-level line); theta by the venue's last-day rule
    from sizing.book_greeks import venue_theta

    delta = bs.delta
    theta = venue_theta(bs.theta, np.array(cols[6]))
    out, k = [], 0
    for it in items:
        if not isinstance(it, _ModelInput):
            out.append(it)
            continue
        out.append(_greeks_from_unit(it.symbol, it.underlying, it.contracts, "model", it.qty,
                                     it.spot, float(delta[k]), float(bs.gamma[k]),
                                     float(bs.vega[k]), float(theta[k])))
        k += 1
    return out


def _total(und: str, group: list[GreeksRow]) -> GreeksRow:
    ok = [r for r in group if r.delta_coin is not None]
    left_out = [r.symbol for r in group if r.delta_coin is None]
    note = f"excludes {len(left_out)} without Greeks" if left_out else ""

    def s(name):
        vals = [getattr(r, name) for r in ok if getattr(r, name) is not None]
        return math.fsum(vals) if vals else None

    return GreeksRow(f"Σ {und}", und, math.fsum(r.contracts for r in group), "book",
                     s("delta_coin"), s("delta_usd"), s("gamma_coin"), s("gamma_usd"),
                     s("vega_coin"), s("vega_usd"), s("theta_coin"), s("theta_usd"),
                     is_total=True, note=note)
