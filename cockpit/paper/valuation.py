"""Valuing the paper account in USD: positions at mark, the cross account's equity
and margin, each perp's liquidation price, and whether an order can be margined.

Conventions as in ``cockpit.paper.accounting`` (contracts, settle currency, futures-style
booking of options).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import replace

import numpy as np

from cockpit.model import Account, Balance, Instrument, Position
from sizing.account_risk import AccountBook, BookPosition, account_liquidations
from sizing.contracts import contract_pnl, fill_fee, position_margin
from sizing.contracts import notional_usd as _notional_usd

MS_PER_YEAR = 365.0 * 86_400_000.0

__all__ = [
    "account_book",
    "build_account",
    "option_delta_notionals",
    "option_implied_vols",
    "LiquidationMemo",
    "position_liquidation_prices",
    "margin_shortfall_usd",
    "notional_usd",
    "value_position",
]


notional_usd = _notional_usd  # the one book's (sizing.contracts)


def value_position(
    inst: Instrument,
    contracts: float,
    entry: float,
    mark: float,
    coin_usd: float,
    settle_usd: float,
    underlying_usd: float | None = None,
    venue: str = "",
) -> Position:
    """A position valued at ``mark`` (liquidation price and leverage left to the account).

    NaN ``mark`` (no price yet) gives NaN PnL and margin, never a silent zero.
    """
    upnl = contract_pnl(inst, contracts, entry, mark) if contracts else 0.0
    im, mm = position_margin(inst, contracts, mark, coin_usd, settle_usd, underlying_usd)
    return Position(
        symbol=inst.symbol,
        contracts=contracts,
        entry_price=entry,
        mark_price=mark,
        unrealised_pnl_settle=upnl,
        unrealised_pnl_usd=upnl * settle_usd,
        notional_usd=notional_usd(inst, contracts, mark, settle_usd),
        initial_margin_usd=im,
        maintenance_margin_usd=mm,
        venue=venue,
    )


def option_implied_vols(
    instruments: Mapping[str, Instrument], positions: Mapping[str, tuple[float, float]],
    marks: Mapping[str, tuple[float, float | None]], price_usd: Callable[[str], float],
    ts_ms: int,
) -> dict[str, tuple[float, float]]:
    """Option symbol -> (implied vol, years to expiry): the vol that reprices today's mark.

    One vectorised ``sizing.greeks.implied_vol`` call; the vol the revaluation
    holds fixed (sticky strike). NaN where the mark cannot be inverted.
    """
    rows = []
    for sym in positions:
        inst = instruments.get(sym)
        if inst is None or not inst.is_option or inst.expiry_ms is None:
            continue
        mark, under = marks.get(sym, (math.nan, None))
        s = under if under is not None else price_usd(inst.base)
        years = (inst.expiry_ms - ts_ms) / MS_PER_YEAR
        usd = mark * s if not inst.linear else mark
        rows.append((sym, usd, s, float(inst.strike or math.nan), years, inst.is_call))
    if not rows:
        return {}
    from sizing.greeks import implied_vol

    cols = list(zip(*rows, strict=True))
    with np.errstate(all="ignore"):
        vols = implied_vol(np.array(cols[1]), np.array(cols[2]), np.array(cols[3]),
                           np.array(cols[4]), np.array(cols[5], dtype=bool))
    return {sym: (float(v), yrs) for sym, v, yrs in zip(cols[0], np.atleast_1d(vols), cols[4],
                                                       strict=True)}


def account_book(
    instruments: Mapping[str, Instrument],
    balances: Mapping[str, float],
    positions: Mapping[str, tuple[float, float]],
    marks: Mapping[str, tuple[float, float | None]],
    price_usd: Callable[[str], float],
    ts_ms: int,
    vols: Mapping[str, tuple[float, float]] | None = None,
) -> AccountBook:
    """The account as ``sizing.account_risk`` revalues it (same inputs as ``build_account``).

    Options carry the implied vol of their mark (``option_implied_vols``) unless
    ``vols`` gives one. Positions without an instrument are left out.
    """
    vols = vols if vols is not None else option_implied_vols(
        instruments, positions, marks, price_usd, ts_ms)
    coins = set(balances)
    rows = []
    for sym, (contracts, entry) in sorted(positions.items()):
        inst = instruments.get(sym)
        if inst is None or contracts == 0:
            continue
        mark, under = marks.get(sym, (math.nan, None))
        coins |= {inst.base, inst.settle, inst.underlying or inst.base}
        spot = under if under is not None else price_usd(inst.underlying or inst.base)
        iv, years = vols.get(sym, (math.nan, math.nan))
        rows.append(BookPosition(inst, contracts, entry, mark, spot, iv, years))
    prices = {c: price_usd(c) for c in coins if c}
    return AccountBook(dict(balances), prices, tuple(rows), ts_ms)


def position_liquidation_prices(book: AccountBook) -> dict[str, float | None]:
    """Symbol -> the price of its own mark at which the whole account liquidates.

    The account's level for the position's underlying in the direction the
    position loses (a long perp: down; a short: up), from ``sizing.account_risk``
    (every position revalued, margin recomputed). None for options (their mark is
    not the price that moves; the margin panel shows the underlying's level) and
    when no move within +-95 % liquidates the account.
    """
    levels = account_liquidations(book)
    out: dict[str, float | None] = {}
    for p in book.positions:
        lv = levels.get(p.underlying)
        if lv is None:
            out[p.contract.symbol] = None
            continue
        falling = _loses_when_falling(p)
        level = lv.down if falling else lv.up
        if level is None or p.is_option:
            out[p.contract.symbol] = None
        else:
            out[p.contract.symbol] = p.mark_price * (1.0 + level.move_pct)
    return out


LIQUIDATION_REFRESH_MS = 1_000


class LiquidationMemo:
    """``position_liquidation_prices`` solved again only when the book's positions or
    balances change, or ``refresh_ms`` of market time has passed.

    Why it may wait: the price at which a fixed book liquidates is a root of
    equity(S) = MM(S) over the whole book, which does not depend on today's price
    (perps and balances are revalued at S itself; options sticky strike, so only
    their implied vols and time move the root). Between refreshes the level
    moves by what one second of vol and decay does to it; a fill, a funding
    payment or a liquidation re-solves at once. The paper broker's own
    liquidation check never uses these prices: it compares equity with
    maintenance margin on every valuation.
    """

    def __init__(self, refresh_ms: int = LIQUIDATION_REFRESH_MS) -> None:
        self.refresh_ms = refresh_ms
        self.solves = 0
        self._last: tuple | None = None  # (key, ts_ms, prices)

    def __call__(self, book: AccountBook) -> dict[str, float | None]:
        key = (tuple((p.contract.symbol, p.contracts, p.entry_price) for p in book.positions),
               tuple(sorted(book.balances.items())), book.fixed_equity_usd, book.fixed_mm_usd)
        last = self._last
        if last is not None and last[0] == key and 0 <= book.ts_ms - last[1] < self.refresh_ms:
            return last[2]
        prices = position_liquidation_prices(book)
        self.solves += 1
        self._last = (key, book.ts_ms, prices)
        return prices


def option_delta_notionals(book: AccountBook) -> dict[str, float]:
    """Option symbol -> |plain Black delta| x underlying x size, USD: the underlying an
    option position moves like, so its notional and leverage compare with a perp's
    (the premium would show a short call on $450k of BTC as "0.02x")."""
    from sizing.book_greeks import position_greeks

    return {g.symbol: abs(g.delta_usd) for p, g in zip(book.positions, position_greeks(book),
                                                       strict=True)
            if p.is_option and math.isfinite(g.delta_usd)}


def _loses_when_falling(p: BookPosition) -> bool:
    if not p.is_option:
        return p.contracts > 0
    return (p.contracts > 0) == bool(p.contract.is_call)


def build_account(
    venue: str,
    ts_ms: int,
    instruments: Mapping[str, Instrument],
    balances: Mapping[str, float],
    positions: Mapping[str, tuple[float, float]],
    marks: Mapping[str, tuple[float, float | None]],
    price_usd: Callable[[str], float],
    peak_equity_usd: float = 0.0,
    liquidation_prices: Callable[[AccountBook], dict] | None = None,
    **fields,
) -> Account:
    """Value a cross-margined account in USD.

    ``positions`` maps symbol -> (signed contracts, entry); ``marks`` maps symbol ->
    (mark, underlying USD or None); ``price_usd(currency)`` prices coins (NaN if
    unknown). equity_usd = sum of balances x price + unrealised PnL in USD. A missing
    price makes the figures it feeds NaN and is named in ``extra["missing"]``.
    ``fields`` pass through to ``Account`` (open_orders, fills, liquidations, extra).
    ``liquidation_prices`` solves each position's level (default: solved every
    call; the paper broker passes a :class:`LiquidationMemo`).
    """
    missing: list[str] = []
    bal_rows = []
    for cur, total in sorted(balances.items()):
        px = price_usd(cur)
        if math.isnan(px):
            missing.append(f"no {cur} price")
        bal_rows.append(Balance(cur, total, total * px))
    valued: list[tuple[Position, Instrument | None]] = []
    for sym, (contracts, entry) in sorted(positions.items()):
        inst = instruments.get(sym)
        if inst is None:
            missing.append(f"no instrument {sym}")
            valued.append((Position(sym, contracts, entry, unrealised_pnl_usd=math.nan,
                                    notional_usd=math.nan, venue=venue), None))
            continue
        mark, under = marks.get(sym, (math.nan, None))
        if math.isnan(mark):
            missing.append(f"no mark for {sym}")
        pos = value_position(inst, contracts, entry, mark, price_usd(inst.base),
                             price_usd(inst.settle), under, venue)
        valued.append((pos, inst))
    wallet_usd = sum(b.usd_value for b in bal_rows)
    upnl_usd = sum(p.unrealised_pnl_usd for p, _ in valued)
    im = sum(p.initial_margin_usd for p, _ in valued)
    mm = sum(p.maintenance_margin_usd for p, _ in valued)
    equity = wallet_usd + upnl_usd
    liq: dict[str, float | None] = {}
    delta_notional: dict[str, float] = {}
    if math.isfinite(equity):
        book = account_book(instruments, balances, positions, marks, price_usd, ts_ms)
        liq = (liquidation_prices or position_liquidation_prices)(book)
        delta_notional = option_delta_notionals(book)
    out = []
    for pos, _inst in valued:
        notional = delta_notional.get(pos.symbol, pos.notional_usd)
        lev = notional / equity if equity > 0 else math.nan
        out.append(replace(pos, liquidation_price=liq.get(pos.symbol), leverage=lev,
                           notional_usd=notional))
    extra = dict(fields.pop("extra", None) or {})
    if missing:
        extra["missing"] = "; ".join(missing)
    peak = max(peak_equity_usd, equity) if math.isfinite(equity) else peak_equity_usd
    return Account(
        venue=venue, ts_ms=ts_ms, balances=tuple(bal_rows), positions=tuple(out),
        equity_usd=equity, initial_margin_usd=im, maintenance_margin_usd=mm,
        unrealised_pnl_usd=upnl_usd, peak_equity_usd=peak, extra=extra, **fields,
    )


def margin_shortfall_usd(
    inst: Instrument,
    account: Account,
    side: str,
    amount: float,
    taker_fills: list[tuple[float, float]],
    mark: float,
    coin_usd: float,
    settle_usd: float,
    underlying_usd: float | None = None,
) -> float:
    """USD by which an order growing a position leaves equity short of initial margin
    (<= 0 when it can be margined; NaN when a needed figure is unknown).

    After the order (``taker_fills`` as walked, the rest of ``amount`` as if filled at
    mark) equity less fees and the price paid away from mark must still cover the
    account's initial margin with this position at its new size, plus what resting
    orders reserve (``account.extra["open_order_margin_usd"]``), as venues check
    before accepting an order.
    """
    held = account.position(inst.symbol)
    before = held.contracts if held is not None else 0.0
    after = before + (amount if side == "buy" else -amount)
    sign = 1.0 if side == "buy" else -1.0
    cost = sum(fill_fee(inst, a, p, False) - contract_pnl(inst, sign * a, p, mark)
               for p, a in taker_fills) * settle_usd
    im_before = held.initial_margin_usd if held is not None else 0.0
    im_after, _ = position_margin(inst, after, mark, coin_usd, settle_usd, underlying_usd)
    orders_im = account.extra.get("open_order_margin_usd", 0.0)
    needed = account.initial_margin_usd + orders_im - im_before + im_after
    return needed - (account.equity_usd - cost)
