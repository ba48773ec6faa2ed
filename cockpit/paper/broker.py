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
* Funding is booked when a ticker's clock passes the perp's funding time;
  the account is liquidated at mark when equity falls below maintenance margin.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
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
from cockpit.paper.matching import (
    OrderRejected,
    check_order,
    crossing_levels,
    round_amount_down,
    valid_book_side,
    walk_levels,
)
from cockpit.paper.storage import FundingEntry, PaperStorage
from cockpit.venues.base import Broker

__all__ = ["OrderRejected", "PaperBroker"]

log = logging.getLogger("cockpit.paper")

# Quote/settle currencies taken at 1 USD (the cockpit values the account in USD).
STABLE = frozenset({"USD", "USDT", "USDC", "BUSD", "FDUSD"})
RECENT_FILLS = 200
PEAK_SAVE_EVERY_MS = 60_000


def _fmt(x: float) -> str:
    return f"{x:.10g}"


class PaperBroker(Broker):
    """Simulated broker with a cross-margined USD account persisted in SQLite.

    ``state_path=None`` keeps the account in memory. ``clock`` (ms) stamps orders
    and fills; by default the newest market-data timestamp, else the wall clock.
    ``on_account`` receives a fresh ``Account`` after fills, funding, liquidation
    and mark updates (at most once per market-data call).
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
        self._storage = PaperStorage(state_path)
        state = self._storage.load()
        self._balances = state.balances
        self._positions = state.positions  # symbol -> (signed contracts, entry price)
        self._orders = state.orders  # every order ever, by id
        self._by_client = {o.client_order_id: o.id for o in self._orders.values()}
        meta = state.meta
        self._order_seq = int(meta.get("order_seq", "0"))
        self._fill_seq = int(meta.get("fill_seq", "0"))
        self._peak = float(meta.get("peak_equity_usd", "0"))
        self._liquidations = int(meta.get("liquidations", "0"))
        self._last_liquidation = meta.get("last_liquidation", "")
        self._recent = deque(self._storage.fills(limit=RECENT_FILLS), maxlen=RECENT_FILLS)
        self._tickers: dict[str, Ticker] = {}
        self._books: dict[str, Book] = {}
        self._index: dict[str, float] = {}  # coin -> USD, from perp/future index prices
        self._underlying: dict[str, float] = {}  # coin -> USD, from option tickers
        self._funding_due: dict[str, tuple[int, float]] = {}  # symbol -> (time ms, rate)
        self._data_ms = 0
        self._peak_saved_ms = 0
        self._warned: dict[str, int] = {}
        self._account: Account | None = None

    # -- clock, prices ---------------------------------------------------------------

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

    # -- market data -----------------------------------------------------------------

    def _warn(self, symbol: str, reason: str) -> None:
        """Log a rejected update, at most once a minute of data time per symbol."""
        last = self._warned.get(symbol)
        if last is None or self._data_ms - last >= 60_000:
            self._warned[symbol] = self._data_ms
            log.warning("paper broker ignored %s: %s; keeping the last good state", symbol, reason)

    def on_instruments(self, instruments: list[Instrument]) -> None:
        with self._lock:
            for inst in instruments:
                self._instruments[inst.symbol] = inst
            self._account = None

    def _ticker_problem(self, t: Ticker, inst: Instrument | None) -> str:
        option = inst is not None and inst.is_option
        if not math.isfinite(t.mark) or t.mark < 0 or (t.mark == 0 and not option):
            return f"ticker mark {t.mark}"
        if not option and (not math.isfinite(t.index) or t.index <= 0):
            return f"ticker index {t.index}"
        for name in ("bid", "ask", "last"):
            v = getattr(t, name)
            if math.isinf(v) or v < 0:  # NaN bid/ask is an empty side: tolerated
                return f"ticker {name} {v}"
        if t.underlying_price is not None and not (
            math.isfinite(t.underlying_price) and t.underlying_price > 0
        ):
            return f"ticker underlying_price {t.underlying_price}"
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
            if inst.is_option:
                if ticker.underlying_price is not None:
                    self._underlying[inst.base] = ticker.underlying_price
            else:
                self._index[inst.base] = ticker.index
            changed = False
            if inst.kind == "perp":
                changed |= self._funding(inst, ticker)
            if ticker.symbol not in self._books and self._has_open(ticker.symbol):
                changed |= self._match_resting_ticker(inst, ticker)
            if changed or self._matters(inst):
                self._account = None
                account = self._check_liquidation(self.account())
                self._save_peak()
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
            if inst is None or not self._has_open(book.symbol):
                return
            if self._match_resting_book(inst, book):
                self._emit(self.account())

    def on_trade(self, trade: Trade) -> None:
        """A print strictly through a resting limit fills it up to the print's size."""
        with self._lock:
            if not (math.isfinite(trade.price) and trade.price > 0 and math.isfinite(trade.amount)
                    and trade.amount > 0):
                self._warn(trade.symbol, f"trade price {trade.price} amount {trade.amount}")
                return
            self._data_ms = max(self._data_ms, trade.ts_ms)
            inst = self._instruments.get(trade.symbol)
            if inst is None or not self._has_open(trade.symbol):
                return
            left = trade.amount
            filled_any = False
            for order in self._resting(trade.symbol):
                through = trade.price < order.price if order.side == "buy" else (
                    trade.price > order.price)
                if not through or left <= 0:
                    continue
                take = min(order.remaining, left)
                if self._fill_resting(inst, order, take):
                    left -= take
                    filled_any = True
            if filled_any:
                self._emit(self.account())

    def on_bars(self, bars) -> None:  # the MarketSink protocol; bars do not move the account
        return None

    def on_venue_status(self, status) -> None:
        return None

    def _matters(self, inst: Instrument) -> bool:
        """Whether a ticker of ``inst`` moves the account (a held symbol or a valued coin)."""
        if inst.symbol in self._positions:
            return True
        if inst.is_option:
            return False
        if inst.base in self._balances:
            return True
        return any(
            (i := self._instruments.get(s)) is not None and inst.base in (i.base, i.settle)
            for s in self._positions
        )

    # -- funding ---------------------------------------------------------------------

    def _funding(self, inst: Instrument, t: Ticker) -> bool:
        """Book the funding due when the ticker's clock reaches it; schedule the next."""
        booked = False
        due = self._funding_due.get(inst.symbol)
        if due is not None and t.ts_ms >= due[0]:
            del self._funding_due[inst.symbol]
            booked = self._book_funding(inst, due[0], due[1], t.mark)
        if t.funding_rate is not None:
            nxt = t.next_funding_ms
            if nxt is None:  # no schedule from the feed: fixed intervals from 00:00 UTC
                step = int(inst.funding_interval_h * 3_600_000)
                nxt = (t.ts_ms // step + 1) * step
            if nxt > t.ts_ms:
                self._funding_due[inst.symbol] = (nxt, t.funding_rate)
        return booked

    def _book_funding(self, inst: Instrument, funding_ms: int, rate: float, mark: float) -> bool:
        pos = self._positions.get(inst.symbol)
        if pos is None or pos[0] == 0.0:
            return False
        payment = acc.funding_payment(inst, pos[0], mark, rate)
        entry = FundingEntry(inst.symbol, funding_ms, pos[0], mark, rate, payment, inst.settle)
        balances = {inst.settle: self._balances.get(inst.settle, 0.0) - payment}
        if not self._storage.write_funding([entry], balances):
            return False  # already booked (a restart replayed the same funding time)
        self._balances.update(balances)
        log.info("funding %s at %d: rate %s, paid %s %s", inst.symbol, funding_ms,
                 _fmt(rate), _fmt(payment), inst.settle)
        return True

    def funding_ledger(self) -> list[FundingEntry]:
        """Every funding payment booked, oldest first (``payment`` > 0 = paid)."""
        with self._lock:
            return self._storage.funding()

    # -- the account -----------------------------------------------------------------

    def account(self) -> Account:
        """The latest account view, valued at the last good marks (cheap; cached)."""
        with self._lock:
            if self._account is None:
                marks = {}
                for sym in self._positions:
                    t = self._tickers.get(sym)
                    marks[sym] = (t.mark, t.underlying_price) if t else (math.nan, None)
                extra = {"funding_paid": self._funding_summary()}
                if self._last_liquidation:
                    extra["last_liquidation"] = self._last_liquidation
                self._account = acc.build_account(
                    self.venue, self._now(), self._instruments, self._balances,
                    self._positions, marks, self.price_usd, self._peak,
                    open_orders=tuple(self._resting()), fills=tuple(self._recent),
                    liquidations=self._liquidations, extra=extra,
                )
                self._peak = self._account.peak_equity_usd
            return self._account

    def _funding_summary(self) -> dict[str, float]:
        paid: dict[str, float] = {}
        for e in self._funding_entries():
            paid[e.currency] = paid.get(e.currency, 0.0) + e.payment
        return paid

    def _funding_entries(self) -> list[FundingEntry]:
        return self._storage.funding()

    def _emit(self, account: Account) -> None:
        if self.on_account is not None:
            try:
                self.on_account(account)
            except Exception:  # a listener's bug must not stop fills or funding
                log.exception("on_account listener failed")

    def _save_peak(self) -> None:
        if self._data_ms - self._peak_saved_ms >= PEAK_SAVE_EVERY_MS:
            self._peak_saved_ms = self._data_ms
            self._storage.write_state(meta={"peak_equity_usd": repr(self._peak)})

    def _check_liquidation(self, account: Account) -> Account:
        """Close every position at mark when equity < maintenance margin (cross margin)."""
        eq, mm = account.equity_usd, account.maintenance_margin_usd
        if not (self._positions and math.isfinite(eq) and math.isfinite(mm) and eq < mm):
            return account
        legs, orders, now = [], [], self._now()
        for sym, (contracts, _) in list(self._positions.items()):
            t = self._tickers.get(sym)
            if t is None or contracts == 0.0:
                continue
            side = "sell" if contracts > 0 else "buy"
            order = self._new_order(sym, side, "market", abs(contracts), None, True, False,
                                    "", now)
            legs.append((order, t.mark, abs(contracts), False))
            orders.append(order)
        reason = (f"liquidated at {now}: equity {eq:,.2f} USD < maintenance margin "
                  f"{mm:,.2f} USD; closed {len(legs)} positions at mark")
        cancelled = [self._with(o, status="canceled", reason="cancelled by liquidation")
                     for o in self._resting()]
        done = self._commit(legs, cancelled, liquidation=True, reason=reason,
                            meta={"liquidations": str(self._liquidations + 1),
                                  "last_liquidation": reason})
        if done is None:
            return account
        self._liquidations += 1
        self._last_liquidation = reason
        log.warning("paper broker %s", reason)
        self._account = None
        return self.account()

    # -- seeding ---------------------------------------------------------------------

    def seed(self, balances: dict[str, float], positions: list[tuple[str, float, float]]) -> bool:
        """Give a brand-new account its balances and positions (symbol, signed contracts,
        entry). Does nothing, and returns False, once the account has any state."""
        with self._lock:
            if not self._storage.is_empty():
                return False
            pos = {s: (float(c), float(e)) for s, c, e in positions if c != 0}
            self._storage.write_state(dict(balances), dict(pos), {"seeded": "1"})
            self._balances.update(balances)
            self._positions.update(pos)
            self._account = None
            return True

    # -- orders ----------------------------------------------------------------------

    def _has_open(self, symbol: str) -> bool:
        return any(o.status == "open" and o.symbol == symbol for o in self._orders.values())

    def _resting(self, symbol: str | None = None) -> list[Order]:
        """Open orders, best price first per side, then oldest first."""
        out = [o for o in self._orders.values()
               if o.status == "open" and (symbol is None or o.symbol == symbol)]
        out.sort(key=lambda o: (o.symbol, o.side, -(o.price or 0) if o.side == "buy"
                                else (o.price or 0), o.ts_ms, o.id))
        return out

    @staticmethod
    def _with(order: Order, **changes) -> Order:
        fields = {k: getattr(order, k) for k in Order.__slots__}
        fields.update(changes)
        return Order(**fields)

    def _new_order(self, symbol, side, type_, amount, price, reduce_only, post_only,
                   client_id, ts_ms) -> Order:
        self._order_seq += 1
        oid = f"P{self._order_seq:08d}"
        return Order(oid, client_id or f"paper-{oid}", symbol, side, type_, amount, price,
                     0.0, None, "open", reduce_only, post_only, ts_ms)

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
        """Remove what we took from our copy of the book until the feed sends a new one."""
        book = self._books.get(symbol)
        if book is None or taken <= 0:
            return
        levels = (book.asks if side == "buy" else book.bids).copy()
        left = taken
        for row in levels:
            take = min(row[1], left)
            row[1] -= take
            left -= take
        levels = levels[levels[:, 1] > 1e-12]
        levels.setflags(write=False)
        if side == "buy":
            self._books[symbol] = Book(symbol, book.ts_ms, book.bids, levels, book.seq)
        else:
            self._books[symbol] = Book(symbol, book.ts_ms, levels, book.asks, book.seq)

    def place_order(self, request: OrderRequest) -> Order:
        """Synchronous ``create_order``: returns once the order and its fills are committed."""
        with self._lock:
            known = self._by_client.get(request.client_order_id) if request.client_order_id \
                else None
            if known is not None:
                return self._orders[known]  # a retry of an order we already have
            inst = self.instrument(request.symbol)
            levels_bid = self._levels(inst.symbol, "sell")
            levels_ask = self._levels(inst.symbol, "buy")
            best_bid = float(levels_bid[0, 0]) if len(levels_bid) else math.nan
            best_ask = float(levels_ask[0, 0]) if len(levels_ask) else math.nan
            position = self._positions.get(inst.symbol, (0.0, 0.0))[0]
            amount, price = check_order(inst, request, position, best_bid, best_ask)
            order = self._new_order(inst.symbol, request.side, request.type, amount, price,
                                    request.reduce_only, request.post_only,
                                    request.client_order_id, self._now())
            taking = levels_ask if request.side == "buy" else levels_bid
            walk = walk_levels(taking, amount, price, request.side)
            legs = [(order, p, a, False) for p, a in walk]
            filled = sum(a for _, a in walk)
            status, reason = "open", ""
            if request.type == "market":
                status = "closed"
                if filled < amount - 1e-12:
                    status = "canceled"
                    reason = (f"book exhausted: filled {_fmt(filled)} of {_fmt(amount)}, "
                              f"{_fmt(amount - filled)} cancelled")
            elif filled >= amount - 1e-12:
                status = "closed"
            done = self._commit(legs, [self._with(order, status=status, reason=reason)])
            if done is None:  # cannot happen with fresh ids; keep the promise anyway
                raise OrderRejected(f"order {order.id} could not be booked: retry")
            self._consume(inst.symbol, request.side, filled)
            result = self._orders[order.id]
        self._emit(self.account())
        return result

    def _fill_resting(self, inst: Instrument, order: Order, amount: float) -> bool:
        """Fill part of a resting limit as maker at its price (reduce-only re-clipped)."""
        if order.reduce_only:
            position = self._positions.get(inst.symbol, (0.0, 0.0))[0]
            reduces = (position > 0) if order.side == "sell" else (position < 0)
            if not reduces:
                cancelled = self._with(order, status="canceled",
                                       reason="reduce-only: position already closed")
                self._commit([], [cancelled])
                return False
            amount = min(amount, abs(position))
        amount = round_amount_down(amount, inst.amount_step)
        if amount <= 0:
            return False
        return self._commit([(order, order.price, amount, True)], []) is not None

    def _match_resting_book(self, inst: Instrument, book: Book) -> bool:
        used = {"buy": 0.0, "sell": 0.0}  # liquidity already given to better-priced orders
        filled_any = False
        for order in self._resting(inst.symbol):
            opposite = book.asks if order.side == "buy" else book.bids
            free = crossing_levels(order.side, order.price, opposite) - used[order.side]
            take = min(order.remaining, free)
            if take > 1e-12 and self._fill_resting(inst, order, take):
                used[order.side] += take
                filled_any = True
        return filled_any

    def _match_resting_ticker(self, inst: Instrument, t: Ticker) -> bool:
        """No book for this symbol: a top of book at or through the limit fills it all."""
        filled_any = False
        for order in self._resting(inst.symbol):
            top = t.ask if order.side == "buy" else t.bid
            if not (math.isfinite(top) and top > 0):
                continue
            if (top <= order.price) if order.side == "buy" else (top >= order.price):
                filled_any |= self._fill_resting(inst, order, order.remaining)
        return filled_any

    # -- booking: one transaction per execution ------------------------------------------

    def _commit(self, legs, orders: list[Order], *, liquidation: bool = False, reason: str = "",
                meta: dict[str, str] | None = None) -> list[Fill] | None:
        """Book ``legs`` = [(order, price, amount, maker[, fill_id, ts_ms])] and write the
        orders they touch plus ``orders`` (final states) in ONE transaction.

        Returns the fills, or None when a fill id was already booked (nothing changes).
        """
        balances: dict[str, float] = {}
        positions: dict[str, tuple[float, float] | None] = {}
        touched = {o.id: o for o in orders}
        fills: list[tuple[Fill, float]] = []
        fill_seq = self._fill_seq
        now = self._now()
        for leg in legs:
            order, price, amount, maker = leg[:4]
            inst = self._instruments[order.symbol]
            sym, settle = inst.symbol, inst.settle
            contracts, entry = positions.get(sym) or self._positions.get(sym, (0.0, 0.0))
            contracts, entry, realised = acc.apply_trade(inst, contracts, entry, order.side,
                                                         amount, price)
            fee = acc.fill_fee(inst, amount, price, maker)
            balances[settle] = balances.get(settle, self._balances.get(settle, 0.0)) \
                + realised - fee
            positions[sym] = (contracts, entry) if contracts != 0.0 else None
            if len(leg) > 4:
                fill_id, ts = leg[4], leg[5]
            else:
                fill_seq += 1
                fill_id, ts = f"T{fill_seq:08d}", now
            fills.append((Fill(fill_id, order.id, sym, order.side, amount, price, fee, settle,
                               ts, maker, liquidation), realised))
            cur = touched.get(order.id) or self._orders.get(order.id) or order
            done = cur.filled + amount
            average = ((cur.average or 0.0) * cur.filled + price * amount) / done
            status = cur.status
            if status == "open" and done >= cur.amount - 1e-12:
                status = "closed"
            touched[order.id] = self._with(cur, filled=done, average=average, status=status,
                                           reason=reason or cur.reason)
        write_orders = [o for o in touched.values()
                        if o.id in self._orders or o.client_order_id]
        meta = dict(meta or {})
        meta.update(order_seq=str(self._order_seq), fill_seq=str(fill_seq),
                    peak_equity_usd=repr(self._peak))
        if not self._storage.write_execution(write_orders, fills, balances, positions, meta):
            return None
        self._fill_seq = fill_seq
        self._balances.update(balances)
        for sym, pos in positions.items():
            if pos is None:
                self._positions.pop(sym, None)
            else:
                self._positions[sym] = pos
        for o in write_orders:
            self._orders[o.id] = o
            self._by_client[o.client_order_id] = o.id
        self._recent.extend(f for f, _ in fills)
        self._account = None
        return [f for f, _ in fills]

    def apply_fill(self, fill: Fill, maker: bool | None = None) -> bool:
        """Book an execution known by its id (a replay, a venue report). Idempotent:
        a fill id already booked is refused as a whole and False returned."""
        with self._lock:
            self.instrument(fill.symbol)
            order = self._orders.get(fill.order_id) or Order(
                fill.order_id, "", fill.symbol, fill.side, "market", fill.amount, None, 0.0,
                None, "closed", False, False, fill.ts_ms)
            leg = (order, fill.price, fill.amount, fill.maker if maker is None else maker,
                   fill.id, fill.ts_ms)
            booked = self._commit([leg], []) is not None
        if booked:
            self._emit(self.account())
        return booked

    def cancel(self, order_id: str) -> Order:
        """Synchronous ``cancel_order``; an order no longer open comes back unchanged."""
        with self._lock:
            order = self._orders.get(order_id)
            if order is None:
                raise OrderRejected(f"order {order_id!r} unknown: check the id")
            if order.status != "open":
                return order
            self._commit([], [self._with(order, status="canceled", reason="cancelled by user")])
            order = self._orders[order_id]
        self._emit(self.account())
        return order

    def cancel_all(self, symbol: str | None = None) -> list[Order]:
        """Cancel every open order (of ``symbol``) in one transaction."""
        with self._lock:
            open_ = [self._with(o, status="canceled", reason="cancelled by cancel-all")
                     for o in self._resting(symbol)]
            if open_:
                self._commit([], open_)
        if open_:
            self._emit(self.account())
        return open_

    def close(self) -> None:
        """Close the database (the broker is unusable afterwards)."""
        with self._lock:
            self._storage.close()

    # -- the ccxt-shaped async API ------------------------------------------------------

    async def create_order(self, request: OrderRequest) -> Order:
        return self.place_order(request)

    async def cancel_order(self, order_id: str, symbol: str | None = None) -> Order:
        return self.cancel(order_id)

    async def cancel_all_orders(self, symbol: str | None = None) -> list[Order]:
        return self.cancel_all(symbol)

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        with self._lock:
            return self._resting(symbol)

    async def fetch_positions(self) -> list[Position]:
        return list(self.account().positions)

    async def fetch_balance(self) -> list[Balance]:
        return list(self.account().balances)

    async def fetch_my_trades(self, since_ms: int | None = None) -> list[Fill]:
        with self._lock:
            return self._storage.fills(since_ms)
