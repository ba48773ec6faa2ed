"""The paper broker: simulated fills on whatever market feed drives it.

One implementation for every feed (the built-in market, a real venue's public
data, a replay). The feed's updates reach it through ``on_ticker`` / ``on_book``
/ ``on_trade``; orders come through the ccxt-shaped async API of ``Broker``.

* Market orders walk the current book level by level (VWAP); what the book cannot
  fill is cancelled and said so in ``Order.reason``. Without a book the ticker's
  best bid/ask is taken as one level of unlimited size.
* Limit orders fill at once as taker up to their price, rest, and later fill as
  maker at their price when the book crosses them or a trade prints through them.
* Every execution (order update, fills, balances, positions) is one SQLite
  transaction; ``create_order`` returns only after it is committed.
* Funding is booked when a ticker's clock reaches the perp's funding time; the
  account is liquidated at mark when equity falls below maintenance margin.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from cockpit.model import (
    Account,
    Balance,
    Book,
    Fill,
    Instrument,
    Order,
    OrderRequest,
    Position,
    Ticker,
    Trade,
)
from cockpit.paper import accounting as acc
from cockpit.paper.ledger import Ledger, updated
from cockpit.paper.matching import (
    OrderRejected,
    check_order,
    crossing_levels,
    round_amount_down,
    valid_book_side,
    walk_levels,
)
from cockpit.paper.storage import FundingEntry
from cockpit.venues.base import Broker

__all__ = ["OrderRejected", "PaperBroker"]

log = logging.getLogger("cockpit.paper")

# Quote/settle currencies taken at 1 USD (the cockpit values the account in USD).
STABLE = frozenset({"USD", "USDT", "USDC", "BUSD", "FDUSD"})
PEAK_SAVE_EVERY_MS = 60_000
WARN_EVERY_MS = 60_000
EXPIRY_GRACE_MS = 300_000  # wait this long after expiry for the venue's settlement print


def _fmt(x: float) -> str:
    return f"{x:.10g}"


class PaperBroker(Broker):
    """Simulated broker with a cross-margined USD account persisted in SQLite.

    ``state_path=None`` keeps the account in memory. ``clock`` (ms) stamps orders
    and fills; by default the newest market-data timestamp, else the wall clock.
    ``on_account`` receives a fresh ``Account`` after fills, funding, liquidation
    and mark updates (at most once per call that caused them).
    """

    paper = True
    client_order_id_field = "clientOrderId"

    def __init__(
        self,
        instruments: Iterable[Instrument] = (),
        *,
        state_path: Path | str | None = None,
        clock: Callable[[], int] | None = None,
        venue: str = "paper",
        on_account: Callable[[Account], None] | None = None,
    ) -> None:
        self.venue = venue
        self.on_account = on_account
        self._clock = clock
        self._lock = threading.RLock()
        self._instruments: dict[str, Instrument] = {i.symbol: i for i in instruments}
        self.ledger = Ledger(self._instruments, state_path)
        self._tickers: dict[str, Ticker] = {}
        self._books: dict[str, Book] = {}
        self._index: dict[str, float] = {}  # coin -> USD, from perp/future index prices
        self._underlying: dict[str, float] = {}  # coin -> USD, from option tickers
        self._funding_due: dict[str, tuple[int, float]] = {}  # symbol -> (time ms, rate)
        self._data_ms = 0
        self._peak_saved_ms = 0
        self._warned: dict[str, int] = {}
        self._account: Account | None = None

    # -- clock, prices, instruments ----------------------------------------------------

    def _now(self) -> int:
        if self._clock is not None:
            return int(self._clock())
        return self._data_ms or int(time.time() * 1000)

    def price_usd(self, currency: str) -> float:
        """USD per unit of ``currency``: 1 for stablecoins, else the latest index (NaN if none)."""
        if currency in STABLE:
            return 1.0
        return self._index.get(currency, self._underlying.get(currency, math.nan))

    def instrument(self, symbol: str) -> Instrument:
        inst = self._instruments.get(symbol)
        if inst is None:
            raise OrderRejected(f"symbol {symbol!r} unknown to the paper broker: pick a listed one")
        return inst

    def on_instruments(self, instruments: list[Instrument]) -> None:
        with self._lock:
            for inst in instruments:
                self._instruments[inst.symbol] = inst
            self._account = None

    # -- market data -------------------------------------------------------------------

    def _warn(self, symbol: str, reason: str) -> None:
        """Log a rejected update, at most once a minute of data time per symbol."""
        last = self._warned.get(symbol)
        if last is None or self._data_ms - last >= WARN_EVERY_MS:
            self._warned[symbol] = self._data_ms
            log.warning("paper broker ignored %s: %s; keeping the last good state", symbol, reason)

    @staticmethod
    def _ticker_problem(t: Ticker, inst: Instrument | None) -> str:
        option = inst is not None and inst.is_option
        if not math.isfinite(t.mark) or t.mark < 0 or (t.mark == 0 and not option):
            return f"ticker mark {t.mark}"
        if not option and (not math.isfinite(t.index) or t.index <= 0):
            return f"ticker index {t.index}"
        for name in ("bid", "ask", "last"):
            v = getattr(t, name)
            if math.isinf(v) or v < 0:  # a NaN bid/ask is an empty side: tolerated
                return f"ticker {name} {v}"
        u = t.underlying_price
        if u is not None and not (math.isfinite(u) and u > 0):
            return f"ticker underlying_price {u}"
        if t.funding_rate is not None and not math.isfinite(t.funding_rate):
            return f"ticker funding_rate {t.funding_rate}"
        return ""

    def on_ticker(self, ticker: Ticker) -> None:
        """Take a mark update: revalue, book funding due, liquidate if equity < MM."""
        with self._lock:
            inst = self._instruments.get(ticker.symbol)
            problem = self._ticker_problem(ticker, inst)
            if problem:
                self._warn(ticker.symbol, problem)
                return
            self._tickers[ticker.symbol] = ticker
            self._data_ms = max(self._data_ms, ticker.ts_ms)
            if inst is None:
                return
            if not inst.is_option:
                self._index[inst.base] = ticker.index
            elif ticker.underlying_price is not None:
                self._underlying[inst.base] = ticker.underlying_price
            changed = self._settle_expired()
            if inst.kind == "perp":
                changed |= self._funding(inst, ticker)
            if ticker.symbol not in self._books and self.ledger.has_open(ticker.symbol):
                changed |= self._match_resting_top(inst, ticker)
            if not (changed or self._moves_account(inst)):
                return
            self._account = None
            account = self._check_liquidation(self.account())
            if self._data_ms - self._peak_saved_ms >= PEAK_SAVE_EVERY_MS:
                self._peak_saved_ms = self._data_ms
                self.ledger.save_peak(account.peak_equity_usd)
        self._emit(account)

    def on_book(self, book: Book) -> None:
        """Take a new book and fill resting limits it crosses (as maker, at their price)."""
        with self._lock:
            for name, side in (("bids", book.bids), ("asks", book.asks)):
                problem = valid_book_side(side)
                if problem:
                    self._warn(book.symbol, f"book {name}: {problem}")
                    return
            if len(book.bids) and len(book.asks) and book.best_bid >= book.best_ask:
                self._warn(book.symbol, f"crossed book {book.best_bid} >= {book.best_ask}")
                return
            self._books[book.symbol] = book
            self._data_ms = max(self._data_ms, book.ts_ms)
            inst = self._instruments.get(book.symbol)
            if inst is None or not self.ledger.has_open(book.symbol):
                return
            used = {"buy": 0.0, "sell": 0.0}  # liquidity already given to better-priced orders
            filled_any = False
            for order in self.ledger.resting(book.symbol):
                opposite = book.asks if order.side == "buy" else book.bids
                free = crossing_levels(order.side, order.price, opposite) - used[order.side]
                take = min(order.remaining, free)
                if take > 1e-12 and self._fill_resting(inst, order, take):
                    used[order.side] += take
                    filled_any = True
            if not filled_any:
                return
            account = self.account()
        self._emit(account)

    def on_trade(self, trade: Trade) -> None:
        """A print strictly through a resting limit fills it up to the print's size (a
        print AT the limit may have filled others queued ahead of us, so it does not)."""
        with self._lock:
            if not (math.isfinite(trade.price) and trade.price > 0
                    and math.isfinite(trade.amount) and trade.amount > 0):
                self._warn(trade.symbol, f"trade price {trade.price} amount {trade.amount}")
                return
            self._data_ms = max(self._data_ms, trade.ts_ms)
            inst = self._instruments.get(trade.symbol)
            if inst is None or not self.ledger.has_open(trade.symbol):
                return
            left, filled_any = trade.amount, False
            for order in self.ledger.resting(trade.symbol):
                through = trade.price < order.price if order.side == "buy" \
                    else trade.price > order.price
                take = min(order.remaining, left)
                if through and take > 1e-12 and self._fill_resting(inst, order, take):
                    left -= take
                    filled_any = True
            if not filled_any:
                return
            account = self.account()
        self._emit(account)

    def on_bars(self, bars) -> None:
        """Part of the feed's sink protocol; bars do not move a paper account."""

    def on_venue_status(self, status) -> None:
        """Part of the feed's sink protocol; nothing to do."""

    def _moves_account(self, inst: Instrument) -> bool:
        """Whether a ticker of ``inst`` revalues the account (held, or prices a held coin)."""
        if inst.symbol in self.ledger.positions:
            return True
        if inst.is_option:
            return False
        if inst.base in self.ledger.balances:
            return True
        held = (self._instruments.get(s) for s in self.ledger.positions)
        return any(i is not None and inst.base in (i.base, i.settle) for i in held)

    # -- funding -----------------------------------------------------------------------

    def _funding(self, inst: Instrument, t: Ticker) -> bool:
        """Book the funding due once the ticker's clock reaches it; schedule the next.

        The rate charged is the one a ticker stamped at the funding time carries, else
        the last one published before it; the mark is the first good mark at or after
        it (Binance USD-M and Bybit use the mark at the funding time).
        """
        booked = False
        due = self._funding_due.get(inst.symbol)
        if due is not None and t.ts_ms >= due[0]:
            del self._funding_due[inst.symbol]
            # a ticker stamped exactly at the funding time carries the settled rate
            exact = t.ts_ms == due[0] and t.funding_rate is not None
            entry = self.ledger.book_funding(inst, due[0], t.funding_rate if exact else due[1],
                                             t.mark)
            if entry is not None:
                booked = True
                log.info("funding %s at %d: rate %s, paid %s %s", inst.symbol, due[0],
                         _fmt(entry.rate), _fmt(entry.payment), entry.currency)
        if t.funding_rate is not None:
            nxt = t.next_funding_ms
            if nxt is None:  # no schedule from the feed: fixed intervals from 00:00 UTC
                step = int(inst.funding_interval_h * 3_600_000)
                nxt = (t.ts_ms // step + 1) * step
            if nxt > t.ts_ms:
                self._funding_due[inst.symbol] = (nxt, t.funding_rate)
        return booked

    # -- option expiry -----------------------------------------------------------------

    def _settle_expired(self) -> bool:
        """Close option positions past their expiry, as a maker fill, at the venue's
        settlement: the option's own ticker stamped at or after expiry (the sim and a
        replay publish one) or, once ``EXPIRY_GRACE_MS`` has passed without it, the
        intrinsic value in coin at the index, ``max(S - K, 0) / S`` for a call and
        ``max(K - S, 0) / S`` for a put (Deribit delivers cash at the index; its
        delivery fee, like our maker fee, is capped at 12.5 % of the option's value).
        Open orders on settled options are cancelled."""
        legs, now = [], self._now()
        for sym, (contracts, _) in self.ledger.positions.items():
            inst = self._instruments.get(sym)
            if inst is None or not inst.is_option or inst.expiry_ms is None \
                    or self._data_ms < inst.expiry_ms:
                continue
            t = self._tickers.get(sym)
            spot = self.price_usd(inst.base)
            k = float(inst.strike or 0.0)
            if t is not None and t.ts_ms >= inst.expiry_ms:
                value, how = t.mark, "settlement mark"
            elif self._data_ms < inst.expiry_ms + EXPIRY_GRACE_MS:
                continue  # the venue's settlement print may still come
            elif math.isfinite(spot):
                value = max(spot - k, 0.0) / spot if inst.is_call else max(k - spot, 0.0) / spot
                how = f"intrinsic at index {_fmt(spot)}"
            else:
                continue
            reason = f"expired: settled at {_fmt(value)} {inst.settle} ({how})"
            order = self.ledger.new_order(sym, "sell" if contracts > 0 else "buy", "market",
                                          abs(contracts), None, True, False, "", now)
            legs.append((updated(order, reason=reason), value, abs(contracts), True))
        if not legs:
            return False
        symbols = {leg[0].symbol for leg in legs}
        cancelled = [updated(o, status="canceled", reason="cancelled: the option expired")
                     for o in self.ledger.resting() if o.symbol in symbols]
        if self._book(legs, cancelled) is None:
            return False
        log.info("paper broker settled %d expired option positions", len(legs))
        return True

    def funding_ledger(self) -> list[FundingEntry]:
        """Every funding payment booked, oldest first (``payment`` > 0 = paid)."""
        with self._lock:
            return self.ledger.storage.funding()

    # -- the account -------------------------------------------------------------------

    def account(self) -> Account:
        """The latest account view, valued at the last good marks (cheap; cached)."""
        with self._lock:
            if self._account is None:
                lg = self.ledger
                marks = {}
                for sym in lg.positions:
                    t = self._tickers.get(sym)
                    marks[sym] = (t.mark, t.underlying_price) if t else (math.nan, None)
                extra = {"funding_paid": dict(lg.funding_paid)}
                if lg.last_liquidation:
                    extra["last_liquidation"] = lg.last_liquidation
                self._account = acc.build_account(
                    self.venue, self._now(), self._instruments, lg.balances, lg.positions,
                    marks, self.price_usd, lg.peak_equity_usd,
                    open_orders=tuple(lg.resting()), fills=tuple(lg.recent),
                    liquidations=lg.liquidations, extra=extra,
                )
                lg.peak_equity_usd = self._account.peak_equity_usd
            return self._account

    def _emit(self, account: Account) -> None:
        if self.on_account is not None:
            try:
                self.on_account(account)
            except Exception:  # a listener's bug must not stop fills or funding
                log.exception("on_account listener failed")

    def _check_liquidation(self, account: Account) -> Account:
        """Close every position at mark when equity < maintenance margin (cross margin).

        Liquidation fills pay the taker fee and are flagged ``liquidation=True``;
        open orders are cancelled first, as venues do.
        """
        eq, mm = account.equity_usd, account.maintenance_margin_usd
        if not (self.ledger.positions and math.isfinite(eq) and math.isfinite(mm) and eq < mm):
            return account
        now, legs = self._now(), []
        for sym, (contracts, _) in list(self.ledger.positions.items()):
            side = "sell" if contracts > 0 else "buy"
            order = self.ledger.new_order(sym, side, "market", abs(contracts), None, True,
                                          False, "", now)
            legs.append((order, self._tickers[sym].mark, abs(contracts), False))
        reason = (f"liquidated at {now}: equity {eq:,.2f} USD < maintenance margin "
                  f"{mm:,.2f} USD; closed {len(legs)} positions at mark")
        cancelled = [updated(o, status="canceled", reason="cancelled by liquidation")
                     for o in self.ledger.resting()]
        meta = {"liquidations": str(self.ledger.liquidations + 1), "last_liquidation": reason}
        if self._book(legs, cancelled, liquidation=True, reason=reason, meta=meta) is None:
            return account
        log.warning("paper broker %s", reason)
        self._account = None
        return self.account()

    def seed(self, balances: dict[str, float], positions: list[tuple[str, float, float]]) -> bool:
        """Give a brand-new account its balances and positions (symbol, signed contracts,
        entry). Does nothing, and returns False, once the account has any state."""
        with self._lock:
            seeded = self.ledger.seed(balances, positions)
            self._account = None
            return seeded

    # -- orders ------------------------------------------------------------------------

    def _book(self, legs, orders: list[Order], **kw) -> list[Fill] | None:
        """Commit through the ledger (one transaction) and drop the cached account."""
        fills = self.ledger.commit(legs, orders, self._now(), **kw)
        self._account = None
        return fills

    def _levels(self, symbol: str, side: str) -> np.ndarray:
        """The side of the book a ``side`` order takes from, or the ticker's top as one
        level of unlimited size when no book has arrived."""
        book = self._books.get(symbol)
        if book is not None:
            return book.asks if side == "buy" else book.bids
        t = self._tickers.get(symbol)
        top = (t.ask if side == "buy" else t.bid) if t else math.nan
        if math.isfinite(top) and top > 0:
            return np.array([[top, math.inf]])
        return np.empty((0, 2))

    def _consume(self, symbol: str, side: str, taken: float) -> None:
        """Take what we filled out of our copy of the book until the feed sends a new one."""
        book = self._books.get(symbol)
        if book is None or taken <= 0:
            return
        levels = np.array(book.asks if side == "buy" else book.bids, dtype=float)
        levels[:, 1] -= np.clip(taken - (np.cumsum(levels[:, 1]) - levels[:, 1]), 0,
                                levels[:, 1])
        levels = levels[levels[:, 1] > 1e-12]
        levels.setflags(write=False)
        bids, asks = (book.bids, levels) if side == "buy" else (levels, book.asks)
        self._books[symbol] = Book(symbol, book.ts_ms, bids, asks, book.seq)

    def place_order(self, request: OrderRequest) -> Order:
        """Synchronous ``create_order``: returns once the order and its fills are committed.

        A ``client_order_id`` seen before returns that order, never a second one.
        """
        with self._lock:
            known = self.ledger.by_client.get(request.client_order_id)
            if request.client_order_id and known is not None:
                return self.ledger.orders[known]
            inst = self.instrument(request.symbol)
            bids, asks = self._levels(inst.symbol, "sell"), self._levels(inst.symbol, "buy")
            best_bid = float(bids[0, 0]) if len(bids) else math.nan
            best_ask = float(asks[0, 0]) if len(asks) else math.nan
            amount, price = check_order(inst, request, self.ledger.position(inst.symbol),
                                        best_bid, best_ask)
            walk = walk_levels(asks if request.side == "buy" else bids, amount, price,
                               request.side)
            filled = sum(a for _, a in walk)
            # a market order can only add what it fills; a limit, its whole amount
            adds = filled if request.type == "market" else amount
            if not request.reduce_only:
                problem = self._margin_problem(inst, request.side, adds, walk, price)
                if problem:
                    raise OrderRejected(problem)
            now = self._now()
            order = self.ledger.new_order(inst.symbol, request.side, request.type, amount,
                                          price, request.reduce_only, request.post_only,
                                          request.client_order_id, now)
            status, reason = "open", ""
            if request.type == "market":
                status = "closed"
                if filled < amount - 1e-12:
                    status = "canceled"
                    reason = (f"book exhausted: filled {_fmt(filled)} of {_fmt(amount)}, "
                              f"{_fmt(amount - filled)} cancelled")
            legs = [(order, p, a, False) for p, a in walk]
            final = updated(order, status=status, reason=reason)
            if self._book(legs, [final]) is None:
                raise OrderRejected(f"order {order.id} could not be booked: retry it")
            self._consume(inst.symbol, request.side, filled)
            result = self.ledger.orders[order.id]
            account = self.account()
        self._emit(account)
        return result

    def _margin_problem(self, inst: Instrument, side: str, amount: float,
                        walk: list[tuple[float, float]], limit: float | None) -> str:
        """Why an order that grows a position cannot be afforded, or "" if it can.

        After the order (taker fills as walked, a limit's rest as if filled at its
        price) equity less fees and the price paid away from mark must still cover
        the account's initial margin, as a venue checks before accepting an order.
        Orders that only reduce or close pass; so does everything while a price the
        check needs is unknown (NaN equity): the broker cannot say, so it does not block.
        """
        before = self.ledger.position(inst.symbol)
        after = before + (amount if side == "buy" else -amount)
        if abs(after) <= abs(before) and (after == 0 or (after > 0) == (before > 0)):
            return ""
        acct = self.account()
        t = self._tickers.get(inst.symbol)
        mark = t.mark if t is not None else (walk[0][0] if walk else limit)
        if mark is None or not math.isfinite(acct.equity_usd) or not math.isfinite(mark):
            return ""
        settle_usd = self.price_usd(inst.settle)
        sign = 1.0 if side == "buy" else -1.0
        cost = sum(acc.fill_fee(inst, a, p, False) - acc.contract_pnl(inst, sign * a, p, mark)
                   for p, a in walk) * settle_usd
        held = acct.position(inst.symbol)
        im_before = held.initial_margin_usd if held is not None else 0.0
        im_after, _ = acc.position_margin(inst, after, mark, self.price_usd(inst.base),
                                          settle_usd, t.underlying_price if t else None)
        available = acct.equity_usd - cost - (acct.initial_margin_usd - im_before + im_after)
        if available >= 0 or not math.isfinite(available):
            return ""
        return (f"insufficient margin for {side} {_fmt(amount)} {inst.symbol}: initial margin "
                f"after {acct.initial_margin_usd - im_before + im_after:,.2f} USD exceeds "
                f"equity {acct.equity_usd - cost:,.2f} USD: reduce the amount")

    def _fill_resting(self, inst: Instrument, order: Order, amount: float) -> bool:
        """Fill part of a resting limit as maker at its price (reduce-only re-clipped)."""
        if order.reduce_only:
            position = self.ledger.position(inst.symbol)
            if not ((position > 0) if order.side == "sell" else (position < 0)):
                done = updated(order, status="canceled",
                               reason="reduce-only: nothing left to reduce")
                self._book([], [done])
                return False
            amount = min(amount, abs(position))
        amount = round_amount_down(amount, inst.amount_step)
        if amount <= 0:
            return False
        return self._book([(order, order.price, amount, True)], []) \
            is not None

    def _match_resting_top(self, inst: Instrument, t: Ticker) -> bool:
        """No book for this symbol: a top of book at or through a limit fills it whole."""
        filled_any = False
        for order in self.ledger.resting(inst.symbol):
            top = t.ask if order.side == "buy" else t.bid
            if not (math.isfinite(top) and top > 0):
                continue
            if (top <= order.price) if order.side == "buy" else (top >= order.price):
                filled_any |= self._fill_resting(inst, order, order.remaining)
        return filled_any

    def apply_fill(self, fill: Fill) -> bool:
        """Book an execution known by its id (a replay, a venue's report). Idempotent:
        a fill id already booked changes nothing and returns False."""
        with self._lock:
            self.instrument(fill.symbol)
            order = self.ledger.orders.get(fill.order_id) or Order(
                fill.order_id, "", fill.symbol, fill.side, "market", fill.amount, None, 0.0,
                None, "closed", False, False, fill.ts_ms)
            leg = (order, fill.price, fill.amount, fill.maker, fill.id, fill.ts_ms)
            if self._book([leg], [], liquidation=fill.liquidation) is None:
                return False
            self._account = None
            account = self.account()
        self._emit(account)
        return True

    def cancel(self, order_id: str) -> Order:
        """Synchronous ``cancel_order``; an order no longer open comes back unchanged."""
        with self._lock:
            order = self.ledger.orders.get(order_id)
            if order is None:
                raise OrderRejected(f"order {order_id!r} unknown: check the id")
            if order.status != "open":
                return order
            done = updated(order, status="canceled", reason="cancelled by user")
            self._book([], [done])
            self._account = None
            account = self.account()
        self._emit(account)
        return done

    def cancel_all(self, symbol: str | None = None) -> list[Order]:
        """Cancel every open order (of ``symbol``) in one transaction."""
        with self._lock:
            done = [updated(o, status="canceled", reason="cancelled by cancel-all")
                    for o in self.ledger.resting(symbol)]
            if not done:
                return []
            self._book([], done)
            self._account = None
            account = self.account()
        self._emit(account)
        return done

    def close(self) -> None:
        """Close the database; the broker must not be used afterwards."""
        with self._lock:
            self.ledger.close()

    # -- the ccxt-shaped async API -----------------------------------------------------

    async def create_order(self, request: OrderRequest) -> Order:
        return self.place_order(request)

    async def cancel_order(self, order_id: str, symbol: str | None = None) -> Order:
        return self.cancel(order_id)

    async def cancel_all_orders(self, symbol: str | None = None) -> list[Order]:
        return self.cancel_all(symbol)

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        with self._lock:
            return self.ledger.resting(symbol)

    async def fetch_positions(self) -> list[Position]:
        return list(self.account().positions)

    async def fetch_balance(self) -> list[Balance]:
        return list(self.account().balances)

    async def fetch_my_trades(self, since_ms: int | None = None) -> list[Fill]:
        with self._lock:
            return self.ledger.storage.fills(since_ms)
