"""The account after one order: the what-if the risk gate judges every order by.

:func:`what_if` fills ``order`` at its expected price and revalues the account with the
project's contract maths (``cockpit.paper.accounting.position_margin``, ``contract_pnl``,
``fill_fee``), the same functions the paper broker books with, so the gate's "margin
ratio after" is the broker's margin ratio after the fill. It is one function on purpose:
when contract maths move into ``sizing/`` it is re-pointed here and nowhere else.

Conventions
-----------
* Expected price: a market order walks the book side it takes (asks for a buy), best
  level first; what the book cannot hold is priced at its last (worst) level. Without
  a book, the ticker's touch (as the paper broker does). A limit order fills at its
  limit price.
* Equity after = equity - taker fee - the price paid away from mark, valued at mark
  (the broker marks positions at the ticker's mark). A fill *better* than mark is not
  counted as a gain: a passive limit far from the market must not look as if it
  lowered the margin ratio.
* Delta, in USD, per underlying (``Instrument.underlying`` or ``base``), positions
  only: perps and futures ``contracts x cs`` coin (inverse: ``contracts x cs / mark``)
  times mark; options the venue's Greeks on the ticker when present, else Black-76
  (``sizing.greeks.black76``) at the ticker's implied vol, coin-settled options at
  Deribit's premium-adjusted coin delta (``sizing.greeks.inverse_coin_delta``), times
  the underlying price. The same convention as the Greeks panel.
* Gross notional: perps and futures ``|contracts| x`` contract value at mark in USD;
  options ``|delta| x`` underlying notional (``|contracts| x cs x underlying``).
* Unknown prices give NaN, never a silent zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cockpit.model import Instrument, OrderRequest, Snapshot, Ticker
from cockpit.paper.accounting import contract_pnl, fill_fee, is_inverse_future, position_margin
from cockpit.paper.market import STABLE
from cockpit.paper.matching import walk_levels

__all__ = ["WhatIf", "coin_prices", "delta_usd_per_contract", "expected_price", "what_if"]

NAN = math.nan
MS_PER_YEAR = 365.0 * 86_400_000.0


@dataclass(frozen=True, slots=True)
class WhatIf:
    """The account after one order fills at its expected price (module docstring).

    Positions in contracts (signed); money in USD; ratios are fractions:
    ``margin_ratio`` = maintenance margin / equity, ``gross_leverage`` = gross notional
    / equity. ``notional_usd`` is the order's own: ``|amount| x`` contract value in USD
    at the expected price (options: ``amount x cs x`` underlying). ``delta_usd`` is the
    book delta of the order's underlying. ``price`` is the expected average fill price
    (the instrument's quote units); ``mark`` the ticker's mark.
    """

    position_before: float
    position_after: float
    equity_usd: float
    maintenance_margin_usd: float
    initial_margin_usd: float
    margin_ratio_before: float
    margin_ratio_after: float
    gross_leverage_before: float
    gross_leverage_after: float
    notional_usd: float
    delta_usd_before: float
    delta_usd_after: float
    price: float = NAN
    mark: float = NAN


# A snapshot's coin prices and per-contract deltas are computed once, however many orders
# are judged on it; the last few snapshots are kept (the UI and the engine's thread may
# judge on different ones). The tuple is swapped whole, so threads never mix snapshots.
_MEMO_SIZE = 4
_memos: tuple = ()


def _memo(snapshot: Snapshot) -> tuple:
    """(snapshot, coin prices, {symbol: delta_usd per contract}) for ``snapshot``."""
    global _memos
    memos = _memos
    for m in memos:
        if m[0] is snapshot:
            return m
    m = (snapshot, _coin_prices(snapshot), {})
    _memos = (m, *memos[:_MEMO_SIZE - 1])
    return m


def coin_prices(snapshot: Snapshot) -> dict[str, float]:
    """USD per coin as the paper broker prices it: the newest perp/future index of that
    base, else an option's underlying price. Stablecoins (``STABLE``) are 1."""
    return dict(_memo(snapshot)[1])


def _coin_prices(snapshot: Snapshot) -> dict[str, float]:
    index: dict[str, tuple[int, float]] = {}
    underlying: dict[str, float] = {}
    for sym, t in snapshot.tickers.items():
        inst = snapshot.instruments.get(sym)
        if inst is None:
            continue
        if not inst.is_option:
            if math.isfinite(t.index) and t.index > 0 and t.ts_ms >= index.get(
                    inst.base, (-1, 0.0))[0]:
                index[inst.base] = (t.ts_ms, t.index)
        elif t.underlying_price is not None and t.underlying_price > 0:
            underlying[inst.base] = t.underlying_price
    return {**underlying, **{c: v for c, (_, v) in index.items()}}


def _usd(prices: dict[str, float], currency: str) -> float:
    return 1.0 if currency in STABLE else prices.get(currency, NAN)


def _spot(inst: Instrument, t: Ticker, prices: dict[str, float]) -> float:
    """The underlying's USD price for an option (its ticker's, else the index)."""
    if t.underlying_price is not None and t.underlying_price > 0:
        return t.underlying_price
    if math.isfinite(t.index) and t.index > 0:
        return t.index
    return _usd(prices, inst.base)


def delta_usd_per_contract(inst: Instrument, t: Ticker | None, snapshot: Snapshot,
                           prices: dict[str, float] | None = None) -> float:
    """Signed USD delta of one long contract of ``inst`` (module conventions); NaN unknown."""
    if t is None or not math.isfinite(t.mark):
        return NAN
    cs = inst.contract_size
    if not inst.is_option:
        if t.mark <= 0:
            return NAN
        return cs if is_inverse_future(inst) else cs * t.mark * _usd(
            prices if prices is not None else _memo(snapshot)[1], inst.settle)
    prices = prices if prices is not None else _memo(snapshot)[1]
    spot = _spot(inst, t, prices)
    if not spot > 0:
        return NAN
    if t.greeks is not None:  # Deribit convention: coin per contract
        return t.greeks.delta * spot if math.isfinite(t.greeks.delta) else NAN
    return _model_delta_coin(inst, t, spot, snapshot.ts_ms) * cs * spot


def _model_delta_coin(inst: Instrument, t: Ticker, spot: float, now_ms: int, *,
                      premium_adjusted: bool = True) -> float:
    """Black-76 coin delta per 1 coin of underlying (premium-adjusted when coin-settled,
    unless ``premium_adjusted`` is False: the plain Black delta)."""
    from sizing.greeks import black76, implied_vol, inverse_coin_delta

    if inst.strike is None or inst.expiry_ms is None:
        return NAN
    years = (inst.expiry_ms - now_ms) / MS_PER_YEAR
    vol = t.mark_iv
    if vol is None and years > 0:
        usd = t.mark * spot if not inst.linear else t.mark
        vol = float(implied_vol(usd, spot, inst.strike, years, inst.is_call))
    if vol is None or not vol > 0:
        vol = 0.0 if years <= 0 else NAN
    g = black76(spot, inst.strike, years, vol, inst.is_call)
    if inst.linear or not premium_adjusted:
        return float(g.delta)
    return float(inverse_coin_delta(g.delta, g.price, spot))


def _unit_delta(inst: Instrument, t: Ticker | None, snapshot: Snapshot,
                prices: dict[str, float]) -> float:
    """``delta_usd_per_contract``, once per snapshot and symbol."""
    units = _memo(snapshot)[2]
    if inst.symbol not in units:
        units[inst.symbol] = delta_usd_per_contract(inst, t, snapshot, prices)
    return units[inst.symbol]


def _gross_usd_per_contract(inst: Instrument, t: Ticker | None, snapshot: Snapshot,
                            prices: dict[str, float]) -> float:
    """Gross notional of one contract (module conventions). Options count their
    delta-notional at the plain Black-76 delta, the per-position convention of
    ``sizing.book_greeks`` (the Greeks panel's and the venue's own figure)."""
    if inst.is_option:
        if t is None or not math.isfinite(t.mark):
            return NAN
        spot = _spot(inst, t, prices)
        if not spot > 0:
            return NAN
        if t.greeks is not None:
            return abs(t.greeks.delta * spot) if math.isfinite(t.greeks.delta) else NAN
        return abs(_model_delta_coin(inst, t, spot, snapshot.ts_ms, premium_adjusted=False)
                   * inst.contract_size * spot)
    if t is None or not (math.isfinite(t.mark) and t.mark > 0):
        return NAN
    if is_inverse_future(inst):
        return inst.contract_size
    return inst.contract_size * t.mark * _usd(prices, inst.settle)


def expected_price(order: OrderRequest, snapshot: Snapshot) -> float:
    """Average price ``order`` is expected to fill at (module conventions); NaN unknown."""
    if order.type == "limit":
        p = _float(order.price)
        return p if math.isfinite(p) and p > 0 else NAN
    book = snapshot.books.get(order.symbol)
    levels = None if book is None else (book.asks if order.side == "buy" else book.bids)
    if levels is None or len(levels) == 0:
        t = snapshot.tickers.get(order.symbol)
        top = NAN if t is None else (t.ask if order.side == "buy" else t.bid)
        return top if math.isfinite(top) and top > 0 else NAN
    amount = _float(order.amount)
    if not (math.isfinite(amount) and amount > 0):
        return float(levels[0, 0])
    fills = walk_levels(levels, amount, None, order.side)
    filled = sum(a for _, a in fills)
    cost = sum(p * a for p, a in fills) + (amount - filled) * float(levels[-1, 0])
    return cost / amount


def what_if(order: OrderRequest, snapshot: Snapshot) -> WhatIf:
    """The account after ``order`` fills at its expected price (pure; module docstring).

    Equity, margins, leverage and delta are NaN when a price they need is unknown
    (no ticker, no book and no touch, no coin price); positions are always known.
    """
    acct = snapshot.account
    inst = snapshot.instruments.get(order.symbol)
    held = acct.position(order.symbol) if acct is not None else None
    before = held.contracts if held is not None else 0.0
    amount = _float(order.amount)
    signed = amount if order.side == "buy" else -amount
    after = before + signed
    if abs(after) < 1e-12:
        after = 0.0
    if acct is None or inst is None:
        return WhatIf(before, after, *([NAN] * 10))
    prices = _memo(snapshot)[1]
    t = snapshot.tickers.get(order.symbol)
    mark = t.mark if t is not None else NAN
    price = expected_price(order, snapshot)
    coin_usd, settle_usd = _usd(prices, inst.base), _usd(prices, inst.settle)
    under = _spot(inst, t, prices) if inst.is_option and t is not None else None

    # equity after: the fee, and what is paid away from mark (never a gain)
    fee = fill_fee(inst, amount, price, maker=False) * settle_usd
    away = -contract_pnl(inst, signed, price, mark) * settle_usd if math.isfinite(mark) \
        and price > 0 else NAN
    equity = acct.equity_usd
    equity_after = equity - fee - max(away, 0.0) if math.isfinite(away) else NAN

    im_b, mm_b = position_margin(inst, before, mark, coin_usd, settle_usd, under)
    im_a, mm_a = position_margin(inst, after, mark, coin_usd, settle_usd, under)
    mm_after = acct.maintenance_margin_usd - mm_b + mm_a
    im_after = acct.initial_margin_usd - im_b + im_a

    group = inst.underlying or inst.base
    gross = delta = 0.0
    for p in acct.positions:
        pi = snapshot.instruments.get(p.symbol)
        if pi is None or p.contracts == 0:
            gross += NAN if p.contracts else 0.0
            continue
        pt = snapshot.tickers.get(p.symbol)
        if p.symbol != order.symbol:
            gross += abs(p.contracts) * _gross_usd_per_contract(pi, pt, snapshot, prices)
        if (pi.underlying or pi.base) == group:
            delta += p.contracts * _unit_delta(pi, pt, snapshot, prices)
    unit_gross = _gross_usd_per_contract(inst, t, snapshot, prices)
    _unit_delta(inst, t, snapshot, prices)
    gross_before = gross + (abs(before) * unit_gross if before else 0.0)
    gross_after = gross + (abs(after) * unit_gross if after else 0.0)
    if inst.is_option:
        notional = amount * inst.contract_size * (under if under is not None else NAN)
    elif is_inverse_future(inst):
        notional = amount * inst.contract_size
    else:
        notional = amount * inst.contract_size * price * settle_usd
    return WhatIf(
        position_before=before, position_after=after,
        equity_usd=equity_after, maintenance_margin_usd=mm_after, initial_margin_usd=im_after,
        margin_ratio_before=_ratio(acct.maintenance_margin_usd, equity),
        margin_ratio_after=_ratio(mm_after, equity_after),
        gross_leverage_before=_ratio(gross_before, equity),
        gross_leverage_after=_ratio(gross_after, equity_after),
        notional_usd=abs(notional), delta_usd_before=book_delta_usd(snapshot, group),
        delta_usd_after=book_delta_usd(snapshot, group, (order.symbol, signed, price)),
        price=price, mark=mark,
    )


def _float(x) -> float:
    """A caller's number as a float; NaN for anything that is not one (None, text)."""
    try:
        return float(x)
    except (TypeError, ValueError):
        return NAN


def book_delta_usd(snapshot: Snapshot, underlying: str,
                   trade: tuple[str, float, float] | None = None) -> float:
    """The book delta of ``underlying`` in USD, as the Greeks panel and the policy's band
    read it (``sizing.book_greeks``: Deribit's delta_total plus the coin held), before
    or after ``trade`` (symbol, signed contracts, price). NaN when unknown."""
    from cockpit.engine_input import book_from_snapshot
    from sizing.book_greeks import book_deltas

    if trade is None:
        cache = _memo(snapshot)[2]
        key = ("book delta", underlying)
        if key not in cache:
            cache[key] = book_delta_usd(snapshot, underlying, ("", 0.0, 0.0))
        return cache[key]
    try:
        book = book_from_snapshot(snapshot, trade if trade[0] else None)
        d = book_deltas(book).get(underlying) if book is not None else None
    except (ValueError, KeyError, ZeroDivisionError):
        return NAN
    if d is None:
        return 0.0
    return d.total_coin * d.price


def _ratio(num: float, equity: float) -> float:
    """``num / equity``; infinite when there is something over no equity, NaN unknown."""
    if not (math.isfinite(num) and math.isfinite(equity)):
        return NAN
    if equity <= 0:
        return math.inf if num > 0 else 0.0
    return num / equity
