"""Snapshot -> ``sizing.policy.PortfolioState``: the one place the app's types meet the engine's.

What goes in
------------
* Every open position of ``snapshot.account`` (its size counting the resting
  orders as filled), plus every perpetual in
  ``snapshot.instruments`` on the same underlying (any venue) so the policy
  can propose a delta hedge there.
* Prices from the ticker (mark; ``underlying_price`` or index for options),
  the book's levels, and the data age: snapshot time minus the older of the
  ticker's and the book's timestamps.
* Returns: hourly log returns of the instrument's own bars, or of a perp on
  the same underlying (same venue first) for options; at most ``max_returns``.
* Forecasts: ``forecasts`` is keyed by bar symbol (as ``EngineRunner`` keeps
  them), by instrument symbol or by underlying; a value is a
  ``GarchForecast`` (``vol_annual``, ``model``) or a plain vol.
* Implied vol: the ticker's ``mark_iv``, else inverted from the option mark
  with ``sizing.greeks.implied_vol``; years to expiry on a 365-day year.
* ADV: the ticker's 24 h volume (base coin) in contracts.

A position whose instrument or ticker is missing still gets an
``InstrumentState`` with NaN prices, so the policy holds it and says why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from cockpit.model import Bars, Instrument, Position, Snapshot, Ticker

if TYPE_CHECKING:  # sizing.policy loads with the engine's first run, after the first screen
    from sizing.policy import InstrumentState, PortfolioState

__all__ = ["book_from_snapshot", "log_returns", "price_usd_from", "state_from_snapshot"]

MS_PER_YEAR = 365.0 * 86_400_000.0
NAN = math.nan


def log_returns(bars: Bars | None, max_returns: int = 2000) -> np.ndarray:
    """Log returns of ``bars.close`` (oldest first), the newest ``max_returns`` of them."""
    if bars is None or len(bars) < 2:
        return np.empty(0)
    close = np.asarray(bars.close, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.diff(np.log(close))
    return r[-max_returns:]


def price_usd_from(snapshot: Snapshot):
    """``currency -> USD`` as the paper broker prices coins: 1 for stablecoins, else the
    index of a perp/future on that coin, else an option's underlying price, else
    the account's own balance valuation; NaN when none is known."""
    from sizing.contracts import STABLE

    index: dict[str, float] = {}
    under: dict[str, float] = {}
    for sym, t in snapshot.tickers.items():
        inst = snapshot.instruments.get(sym)
        if inst is None:
            continue
        if not inst.is_option and t.index and t.index > 0:
            index.setdefault(inst.base, float(t.index))
        elif inst.is_option and t.underlying_price:
            under.setdefault(inst.base, float(t.underlying_price))
    own = {}
    if snapshot.account is not None:
        own = {b.currency: b.usd_value / b.total for b in snapshot.account.balances if b.total}

    def price_usd(currency: str) -> float:
        if currency in STABLE:
            return 1.0
        return index.get(currency, under.get(currency, own.get(currency, NAN)))

    return price_usd


def book_from_snapshot(snapshot: Snapshot, trade: tuple[str, float, float] | None = None):
    """The account as ``sizing.account_risk`` revalues it (None without an account).
    ``trade`` = (symbol, signed contracts, price): the book as if it had filled (the
    risk gate's what-if).

    Same builder as the paper broker's (``cockpit.paper.valuation.account_book``):
    marks and underlying prices from the tickers (the position's own mark
    without one), each option at the implied vol of its mark (sticky strike),
    calibrated to the account's own equity and maintenance margin
    (``sizing.account_risk.calibrated``; a no-op for the paper account).
    """
    acct = snapshot.account
    if acct is None:
        return None
    from cockpit.paper.valuation import account_book

    positions = {p.symbol: (p.contracts, p.entry_price) for p in acct.positions if p.contracts}
    if trade is not None:
        sym, signed, price = trade
        held, entry = positions.get(sym, (0.0, price))
        positions[sym] = (held + signed, entry if held else price)
    marks = {}
    for sym in positions:
        t = snapshot.tickers.get(sym)
        pos = acct.position(sym)
        marks[sym] = (float(t.mark), t.underlying_price) if t is not None else \
            ((pos.mark_price, None) if pos is not None else (math.nan, None))
    balances = {b.currency: b.total for b in acct.balances}
    from sizing.account_risk import calibrated

    book = account_book(snapshot.instruments, balances, positions, marks,
                        price_usd_from(snapshot), snapshot.ts_ms)
    # a venue's account figures may hold what positions and balances do not explain
    # (premium-style option booking, account-level margin): held fixed in every scenario
    return calibrated(book, acct.equity_usd, acct.maintenance_margin_usd)


def _bars_for(snapshot: Snapshot, inst: Instrument | None, symbol: str) -> tuple[str, Bars | None]:
    if symbol in snapshot.bars:
        return symbol, snapshot.bars[symbol]
    if inst is None:
        return "", None
    base = inst.underlying or inst.base
    candidates = sorted(
        (s for s, i in snapshot.instruments.items()
         if s in snapshot.bars and i.kind == "perp" and (i.underlying or i.base) == base),
        key=lambda s: (snapshot.instruments[s].venue != inst.venue, s),
    )
    return (candidates[0], snapshot.bars[candidates[0]]) if candidates else ("", None)


def _forecast(forecasts: Mapping, keys: tuple[str, ...]) -> tuple[float | None, str]:
    for k in keys:
        if k and k in forecasts:
            f = forecasts[k]
            if isinstance(f, int | float):
                return float(f), "given"
            return float(f.vol_annual), str(getattr(f, "model", "forecast"))
    return None, ""


def _implied_vol(inst: Instrument, t: Ticker, underlying: float, years: float) -> float:
    if t.mark_iv is not None:
        return float(t.mark_iv)
    from sizing.greeks import implied_vol

    usd = t.mark * underlying if not inst.linear else t.mark
    return float(implied_vol(usd, underlying, inst.strike, years, inst.is_call))


def _shared_returns(cache: dict, bar_symbol: str, bars: Bars | None, n: int) -> np.ndarray:
    """One array per bar series, so the policy computes each series' statistics once."""
    if bar_symbol not in cache:
        cache[bar_symbol] = log_returns(bars, n)
    return cache[bar_symbol]


def _age_s(snapshot: Snapshot, *stamps: int | None) -> float:
    known = [s for s in stamps if s is not None]
    return snapshot.wall_age_s(min(known)) if known else math.inf


def _resting_net(snapshot: Snapshot, symbol: str) -> float:
    """Contracts the resting orders on ``symbol`` would add if they filled (buys +,
    sells -): the policy sizes the position they would make, so it does not propose
    the same trade again while a limit rests."""
    acct = snapshot.account
    return sum((o.remaining if o.side == "buy" else -o.remaining)
               for o in (acct.open_orders if acct else ()) if o.symbol == symbol)


def _one(snapshot: Snapshot, symbol: str, pos: Position | None, forecasts: Mapping,
         drift_annual: float | None, max_returns: int, returns: dict) -> InstrumentState:
    from sizing.policy import InstrumentState

    inst = snapshot.instruments.get(symbol)
    t = snapshot.tickers.get(symbol)
    contracts = (pos.contracts if pos is not None else 0.0) + _resting_net(snapshot, symbol)
    if inst is None or t is None:
        kind = inst.kind if inst is not None else "perp"
        return InstrumentState(symbol, "perp" if kind == "option" else kind, contracts,
                               mark_price=NAN, underlying_price=NAN,
                               venue=pos.venue if pos is not None else "")
    book = snapshot.books.get(symbol)
    bar_symbol, bars = _bars_for(snapshot, inst, symbol)
    group = inst.underlying or inst.base
    vol, model = _forecast(forecasts, (bar_symbol, symbol, group))
    if inst.is_option:
        underlying = t.underlying_price if t.underlying_price is not None else t.index
    else:
        underlying = t.index if t.index and t.index > 0 else t.mark
    adv = None
    if t.volume_24h is not None:
        coin = float(t.volume_24h)
        adv = coin * t.mark / inst.contract_size if (not inst.linear and not inst.is_option) \
            else coin / inst.contract_size
    option = {}
    if inst.is_option:
        years = ((inst.expiry_ms or 0) - snapshot.ts_ms) / MS_PER_YEAR
        option = dict(strike=inst.strike, years=years, is_call=inst.is_call,
                      implied_vol=_implied_vol(inst, t, underlying, years) if years > 0 else NAN)
    mm = pos.maintenance_margin_usd if pos is not None and pos.maintenance_margin_usd > 0 else None
    empty = np.empty((0, 2))
    return InstrumentState(
        symbol=symbol, kind=inst.kind, contracts=contracts, mark_price=float(t.mark),
        underlying_price=float(underlying), underlying=group, venue=inst.venue,
        linear=inst.linear, contract_size=inst.contract_size, amount_step=inst.amount_step,
        price_step=inst.price_step, min_amount=inst.min_amount, min_cost=inst.min_cost,
        log_returns=_shared_returns(returns, bar_symbol, bars, max_returns),
        periods_per_year=365.0 * 86_400 / bars.timeframe_s if bars is not None else 8760.0,
        forecast_vol=vol, forecast_model=model,
        bids=np.asarray(book.bids, float) if book is not None else empty,
        asks=np.asarray(book.asks, float) if book is not None else empty,
        adv_contracts=adv, data_age_s=_age_s(snapshot, t.ts_ms, book.ts_ms if book else None),
        margin_tiers=tuple(inst.margin_tiers), maintenance_margin_usd=mm,
        drift_annual=drift_annual, venue_free_margin_usd=_free_margin(snapshot, inst.venue),
        **option,
    )


def _free_margin(snapshot: Snapshot, venue: str) -> float | None:
    """Several venues: the free margin of ``venue``'s own account (USD); None with one."""
    acct = snapshot.accounts.get(venue) if len(snapshot.accounts) > 1 else None
    return None if acct is None else float(acct.available_usd)


def state_from_snapshot(
    snapshot: Snapshot,
    *,
    forecasts: Mapping[str, object] | None = None,
    drift_annual: float | None = None,
    max_returns: int = 2000,
    with_book: bool = True,
) -> PortfolioState:
    """The policy's input for ``snapshot`` (see the module docstring for what goes in).

    ``drift_annual`` overrides the settings' Kelly drift for every instrument
    (None: use the settings). An account-less snapshot gives an empty state.
    ``with_book`` adds the account book (``book_from_snapshot``), so the policy's
    liquidation buffer and what-if revalue the whole account as the margin panel does.
    """
    from sizing.policy import PortfolioState

    acct = snapshot.account
    if acct is None:
        return PortfolioState(0.0, 0.0, 0.0, ())
    forecasts = forecasts or {}
    held = [p for p in acct.positions if p.contracts != 0]
    groups = set()
    for p in held:
        inst = snapshot.instruments.get(p.symbol)
        if inst is not None:
            groups.add(inst.underlying or inst.base)
    hedges = sorted(s for s, i in snapshot.instruments.items()
                    if i.kind == "perp" and (i.underlying or i.base) in groups
                    and s not in {p.symbol for p in held})
    cache: dict[str, np.ndarray] = {}
    rows = [_one(snapshot, p.symbol, p, forecasts, drift_annual, max_returns, cache)
            for p in held]
    rows += [_one(snapshot, s, None, forecasts, drift_annual, max_returns, cache)
             for s in hedges]
    peak = acct.peak_equity_usd if acct.peak_equity_usd > 0 else acct.equity_usd
    book = book_from_snapshot(snapshot) if with_book else None
    return PortfolioState(
        equity_usd=acct.equity_usd, peak_equity_usd=max(peak, acct.equity_usd),
        maintenance_margin_usd=acct.maintenance_margin_usd, instruments=tuple(rows),
        initial_margin_usd=acct.initial_margin_usd, book=book,
    )
