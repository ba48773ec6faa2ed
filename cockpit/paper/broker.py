"""The paper broker: simulated fills on whatever market feed drives it.

One implementation for every feed (the built-in market, a real venue's public
data, a replay). The feed's updates reach it through ``on_ticker`` / ``on_book``
/ ``on_trade``; orders come through the ccxt-shaped async API of ``Broker``.

* An order that would trade now is refused, naming why, when the data it would fill
  from is doubtful: the book (or, without one, the ticker) older than
  ``max_book_age_s`` of data time, the newest update of the symbol refused by the
  Store (crossed, absurd, jumped: ``on_data_suspect``), or no price on the side it
  takes. A fill on a 20-s-old book is a fill at a price that no longer exists.
* Market orders walk the current book level by level (VWAP); what the book cannot
  fill is cancelled and said so in ``Order.reason``. Without a book the ticker's
  best bid/ask is taken as one level of unlimited size.
* Limit orders fill at once as taker up to their price, rest, and later fill as
  maker at their price when the book crosses them, or from trade prints at or
  through their price, behind the queue estimated ahead of them
  (``cockpit.paper.queue``: a print at the limit fills only what the queue ahead
  leaves of it; a print through it fills up to the print's size).
* Every execution (order update, fills, balances, positions) is one SQLite
  transaction; ``create_order`` returns only after it is committed.
* An order that grows a position must leave equity above the initial margin of
  the positions and of the resting orders (closing is never blocked).
* Funding is booked when a ticker's clock reaches the perp's funding time; expired
  options are settled; the account is liquidated at mark when equity falls below
  maintenance margin (see ``events``).

``account().extra`` carries ``funding_paid`` and ``realised_pnl`` per currency,
``open_order_margin_usd``, ``last_liquidation`` (one line) and ``missing`` (which
price is not known yet, when a figure is NaN).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

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
from cockpit.paper.accounting import position_margin
from cockpit.paper.events import EXPIRY_GRACE_MS, FundingClock, expiry_legs, liquidation_legs
from cockpit.paper.ledger import Ledger, updated
from cockpit.paper.market import MarketView
from cockpit.paper.matching import (
    OrderRejected,
    book_crossings,
    check_order,
    round_amount_down,
    touch_crossings,
    walk_levels,
)
from cockpit.paper.queue import QueueTracker
from cockpit.paper.storage import FundingEntry
from cockpit.paper.valuation import LiquidationMemo, build_account, margin_shortfall_usd
from cockpit.utc import utc_time
from cockpit.venues.base import Broker

__all__ = ["EXPIRY_GRACE_MS", "OrderRejected", "PaperBroker"]

log = logging.getLogger("cockpit.paper")

PEAK_SAVE_EVERY_MS = 60_000


def _fmt(x: float) -> str:
    """A number as a trader reads it: 0.8, 1.0, 60000.5 (no float noise)."""
    text = f"{x:.10g}"
    return text if any(c in text for c in ".en") else text + ".0"


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
        max_book_age_s: float | None = 10.0,
        max_jump_pct: float | None = None,
    ) -> None:
        self.venue = venue
        # [data] limits: ``max_jump_pct`` is applied by the Store in front of us (the
        # boundary); accepted here so one config section reaches both
        self.max_book_age_s = max_book_age_s
        self.max_jump_pct = max_jump_pct
        self._suspect: dict[str, str] = {}
        self.on_account = on_account
        self._clock = clock
        self._lock = threading.RLock()
        self._instruments: dict[str, Instrument] = {i.symbol: i for i in instruments}
        self.ledger = Ledger(self._instruments, state_path)
        self.market = MarketView()
        self.queue = QueueTracker()  # contracts ahead of each resting limit at its price
        self._funding_clock = FundingClock()
        self._peak_saved_ms = 0
        self._account: Account | None = None
        self._liquidation_memo = LiquidationMemo()  # levels re-solved on a book change
        # Inside a feed's batch (one sim step: every ticker of one instant) a mark that
        # only revalues is taken, and the account is revalued once at the batch's end:
        # same marks, same liquidation check, a tenth of the work (issue 12).
        self._in_batch = False
        self._revalue_due = False

    # -- clock, prices, instruments ----------------------------------------------------

    def _now(self) -> int:
        if self._clock is not None:
            return int(self._clock())
        return self.market.data_ms or int(time.time() * 1000)

    def price_usd(self, currency: str) -> float:
        """USD per unit of ``currency``: 1 for stablecoins, else the latest index (NaN if none)."""
        return self.market.price_usd(currency)

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

    def on_ticker(self, ticker: Ticker) -> None:
        """Take a mark update: revalue, book funding due, liquidate if equity < MM."""
        with self._lock:
            inst = self._instruments.get(ticker.symbol)
            if not self.market.take_ticker(ticker, inst) or inst is None:
                return
            changed = self._settle_expired()
            if inst.kind == "perp":
                changed |= self._funding(inst, ticker)
            if ticker.symbol not in self.market.books and self.ledger.has_open(ticker.symbol):
                changed |= self._fill_crossings(
                    inst, touch_crossings(self.ledger.resting(ticker.symbol), ticker))
            if not (changed or self._moves_account(inst)):
                return
            self._account = None
            if self._in_batch and not changed:
                self._revalue_due = True
                return
            account = self._revalue()
        self._emit(account)

    def _revalue(self) -> Account:
        """Value the account at the latest marks and liquidate it if equity < MM
        (under the lock)."""
        self._revalue_due = False
        account = self._check_liquidation(self.account())
        if self.market.data_ms - self._peak_saved_ms >= PEAK_SAVE_EVERY_MS:
            self._peak_saved_ms = self.market.data_ms
            self.ledger.save_peak(account.peak_equity_usd)
        return account

    def on_batch(self, started: bool) -> None:
        """From the Store: a feed's batch of updates of one instant starts (True) or
        ends (False). At its end the account is revalued once if a mark moved it."""
        with self._lock:
            self._in_batch = started
            if started or not self._revalue_due:
                return
            account = self._revalue()
        self._emit(account)

    def on_book(self, book: Book) -> None:
        """Take a new book and fill resting limits it crosses (as maker, at their price)."""
        with self._lock:
            if not self.market.take_book(book):
                return
            inst = self._instruments.get(book.symbol)
            if inst is None or not self.ledger.has_open(book.symbol):
                return
            filled = self._fill_crossings(inst, book_crossings(self.ledger.resting(book.symbol),
                                                               book))
            self.queue.on_book(self.ledger.resting(book.symbol), book)
            if not filled:
                return
            account = self.account()
        self._emit(account)

    def on_trade(self, trade: Trade) -> None:
        """Fill resting limits from a print at or through their price, behind their
        queue (``cockpit.paper.queue``)."""
        with self._lock:
            if not self.market.take_trade(trade):
                return
            inst = self._instruments.get(trade.symbol)
            if inst is None or not self.ledger.has_open(trade.symbol):
                return
            if not self._fill_crossings(inst, self.queue.fills(
                    self.ledger.resting(trade.symbol), trade)):
                return
            account = self.account()
        self._emit(account)

    def on_data_suspect(self, item: tuple[str, str | None]) -> None:
        """From the Store: ``(symbol, reason)`` while its newest data is refused,
        ``(symbol, None)`` once good data is back."""
        symbol, reason = item
        with self._lock:
            if reason is None:
                self._suspect.pop(symbol, None)
            else:
                self._suspect[symbol] = reason

    def _data_problem(self, inst: Instrument, side: str, takes: bool) -> str:
        """Why the data an order would fill from now cannot be trusted, or ""."""
        sym = inst.symbol
        if not takes:
            return ""  # a limit that rests fills later, on data checked as it arrives
        if reason := self._suspect.get(sym):
            return (f"{sym}: not filled, the newest market data was refused ({reason}); "
                    "wait for good data and retry")
        if self.max_book_age_s is None:
            return ""
        book = self.market.books.get(sym)
        ticker = self.market.tickers.get(sym)
        ts = book.ts_ms if book is not None else (ticker.ts_ms if ticker is not None else None)
        if ts is None:
            return ""  # check_order says there is no price yet
        # data time: the feed's clock, else the newest update seen (not the wall clock)
        now = int(self._clock()) if self._clock is not None else self.market.data_ms
        age_s = (now - ts) / 1000.0
        if age_s > self.max_book_age_s:
            what = "book" if book is not None else "ticker"
            return (f"{sym}: not filled, the {what} is {age_s:.0f} s old (limit "
                    f"{self.max_book_age_s:g} s, [data] max_book_age_s); wait for fresh data")
        return ""

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

    # -- funding and expiry ------------------------------------------------------------

    def _funding(self, inst: Instrument, t: Ticker) -> bool:
        """Book the funding due once the ticker's clock reaches it (see ``FundingClock``)."""
        fired = self._funding_clock.tick(inst, t)
        if fired is None:
            return False
        entry = self.ledger.book_funding(inst, fired[0], fired[1], t.mark)
        if entry is None:
            return False  # flat, or this funding time was booked before a restart
        log.info("funding %s at %s: rate %s, paid %s %s", inst.symbol, utc_time(entry.funding_ms),
                 _fmt(entry.rate), _fmt(entry.payment), entry.currency)
        self._account = None
        return True

    def _settle_expired(self) -> bool:
        """Close expired option positions (see ``events.expiry_legs``); cancel their orders."""
        legs = expiry_legs(self.ledger, self.market, self._instruments, self._now())
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
                marks = {sym: self.market.mark(sym) for sym in lg.positions}
                extra = {"funding_paid": dict(lg.funding_paid),
                         "realised_pnl": dict(lg.realised_pnl),
                         "open_order_margin_usd": self._open_order_margin_usd()}
                if lg.last_liquidation:
                    extra["last_liquidation"] = lg.last_liquidation
                self._account = build_account(
                    self.venue, self._now(), self._instruments, lg.balances, lg.positions,
                    marks, self.price_usd, lg.peak_equity_usd,
                    open_orders=tuple(lg.resting()), fills=tuple(lg.recent),
                    liquidations=lg.liquidations, extra=extra,
                    liquidation_prices=self._liquidation_memo,
                )
                lg.peak_equity_usd = self._account.peak_equity_usd
            return self._account

    def _open_order_margin_usd(self) -> float:
        """Initial margin the resting orders would need if filled at their price (what
        Binance calls open-order initial margin); reduce-only orders need none."""
        total = 0.0
        for o in self.ledger.resting():
            inst = self._instruments.get(o.symbol)
            if inst is None or o.reduce_only:
                continue
            signed = o.remaining if o.side == "buy" else -o.remaining
            under = self.market.mark(o.symbol)[1]
            im, _ = position_margin(inst, signed, o.price, self.price_usd(inst.base),
                                    self.price_usd(inst.settle), under)
            total += im
        return total

    def _emit(self, account: Account) -> None:
        if self.on_account is not None:
            try:
                self.on_account(account)
            except Exception:  # a listener's bug must not stop fills or funding
                log.exception("on_account listener failed")

    def _check_liquidation(self, account: Account) -> Account:
        """Close every position at mark when equity < maintenance margin (cross margin).

        Liquidation fills pay the taker fee and are flagged ``liquidation=True``;
        open orders are cancelled, as venues do.
        """
        found = liquidation_legs(self.ledger, self.market, account, self._now())
        if found is None:
            return account
        legs, reason = found
        cancelled = [updated(o, status="canceled", reason="cancelled by liquidation")
                     for o in self.ledger.resting()]
        meta = {"liquidations": str(self.ledger.liquidations + 1), "last_liquidation": reason}
        if self._book(legs, cancelled, liquidation=True, reason=reason, meta=meta) is None:
            return account
        log.warning("paper broker %s", reason)
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

    def place_order(self, request: OrderRequest) -> Order:
        """Synchronous ``create_order``: returns once the order and its fills are committed.

        A ``client_order_id`` seen before returns that order, never a second one.
        """
        with self._lock:
            known = self.ledger.by_client.get(request.client_order_id)
            if request.client_order_id and known is not None:
                return self.ledger.orders[known]
            inst = self.instrument(request.symbol)
            bids = self.market.levels(inst.symbol, "sell")
            asks = self.market.levels(inst.symbol, "buy")
            best_bid = float(bids[0, 0]) if len(bids) else math.nan
            best_ask = float(asks[0, 0]) if len(asks) else math.nan
            amount, price = check_order(inst, request, self.ledger.position(inst.symbol),
                                        best_bid, best_ask)
            takes = price is None or (best_ask <= price if request.side == "buy"
                                      else best_bid >= price)
            if problem := self._data_problem(inst, request.side, takes):
                raise OrderRejected(problem)
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
            self.market.consume(inst.symbol, request.side, filled)
            result = self.ledger.orders[order.id]
            if result.status == "open":
                self._join_queue(result)
            account = self.account()
        self._emit(account)
        return result

    def _join_queue(self, order: Order) -> None:
        """``order`` rests from now: its place behind the size shown at its price."""
        open_ids = {o.id for o in self.ledger.resting()}
        for gone in [k for k in self.queue.ahead if k not in open_ids]:
            self.queue.forget(gone)
        self.queue.join(order, self.market.books.get(order.symbol))

    def _margin_problem(self, inst: Instrument, side: str, amount: float,
                        walk: list[tuple[float, float]], limit: float | None) -> str:
        """Why an order that grows a position cannot be margined, or "" if it can
        (see ``valuation.margin_shortfall_usd``). Reducing or closing always passes;
        so does an order while a figure the check needs is unknown."""
        before = self.ledger.position(inst.symbol)
        after = before + (amount if side == "buy" else -amount)
        if abs(after) <= abs(before) and (after == 0 or (after > 0) == (before > 0)):
            return ""
        account = self.account()
        t = self.market.tickers.get(inst.symbol)
        mark = t.mark if t is not None else (walk[0][0] if walk else limit)
        short = margin_shortfall_usd(
            inst, account, side, amount, walk, mark, self.price_usd(inst.base),
            self.price_usd(inst.settle), t.underlying_price if t is not None else None)
        if not short > 0:  # NaN: cannot tell, so do not block
            return ""
        return (f"insufficient margin for {side} {_fmt(amount)} {inst.symbol}: "
                f"{short:,.2f} USD short of initial margin: reduce the amount")

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
        return self._book([(order, order.price, amount, True)], []) is not None

    def _fill_crossings(self, inst: Instrument, crossings: list[tuple[Order, float]]) -> bool:
        filled_any = False
        for order, amount in crossings:
            filled_any |= self._fill_resting(inst, order, amount)
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

    def amend(self, order_id: str, *, price: float | None = None,
              amount: float | None = None) -> Order:
        """A resting limit's new price and/or total amount; same id and client id.

        Checked like a new order (tick, minimum, reduce-only, margin for what it adds).
        A price that would trade at once is refused (an amend never becomes a taker
        here: cancel and send a market order instead); the amount may not fall below
        what already filled."""
        with self._lock:
            order = self.ledger.orders.get(order_id)
            if order is None:
                raise OrderRejected(f"order {order_id!r} unknown: check the id")
            if order.status != "open" or order.type != "limit":
                raise OrderRejected(f"order {order_id} is {order.status}, not a resting "
                                    "limit: only a resting limit can be amended")
            inst = self.instrument(order.symbol)
            new_amount = order.amount if amount is None else float(amount)
            new_price = order.price if price is None else float(price)
            if not (math.isfinite(new_amount) and new_amount > order.filled + 1e-12):
                raise OrderRejected(f"amount {new_amount:g} for {order.symbol}: must exceed the "
                                    f"{_fmt(order.filled)} already filled")
            bids = self.market.levels(inst.symbol, "sell")
            asks = self.market.levels(inst.symbol, "buy")
            best_bid = float(bids[0, 0]) if len(bids) else math.nan
            best_ask = float(asks[0, 0]) if len(asks) else math.nan
            request = OrderRequest(order.symbol, order.side, "limit", new_amount - order.filled,
                                   new_price, reduce_only=order.reduce_only,
                                   post_only=order.post_only)
            remaining, new_price = check_order(inst, request, self.ledger.position(inst.symbol),
                                               best_bid, best_ask)
            crosses = best_ask <= new_price if order.side == "buy" else best_bid >= new_price
            if crosses:
                raise OrderRejected(f"price {new_price:g} for {order.symbol} would trade at once "
                                    "(it crosses the book): amend it less far, or cancel and "
                                    "send a market order")
            added = remaining - order.remaining
            if added > 0 and not order.reduce_only:
                problem = self._margin_problem(inst, order.side, added, [], new_price)
                if problem:
                    raise OrderRejected(problem)
            done = updated(order, price=new_price, amount=order.filled + remaining)
            if self._book([], [done]) is None:
                raise OrderRejected(f"order {order.id} could not be amended: retry it")
            self._account = None
            result = self.ledger.orders[order.id]
            if new_price != order.price or remaining > order.remaining + 1e-12:
                self._join_queue(result)  # a new price or a larger size loses its place
            account = self.account()
        self._emit(account)
        return result

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
            account = self.account()
            if math.isfinite(account.peak_equity_usd):
                self.ledger.save_peak(account.peak_equity_usd)
            self.ledger.close()

    # -- the ccxt-shaped async API -----------------------------------------------------

    async def create_order(self, request: OrderRequest) -> Order:
        return self.place_order(request)

    async def cancel_order(self, order_id: str, symbol: str | None = None) -> Order:
        return self.cancel(order_id)

    async def amend_order(self, order_id: str, symbol: str | None = None, *,
                          price: float | None = None, amount: float | None = None) -> Order:
        return self.amend(order_id, price=price, amount=amount)

    async def cancel_all_orders(self, symbol: str | None = None) -> list[Order]:
        return self.cancel_all(symbol)

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        with self._lock:
            return self.ledger.resting(symbol)

    async def fetch_order_by_client_id(self, client_order_id: str, symbol: str) -> Order | None:
        with self._lock:
            known = self.ledger.by_client.get(client_order_id)
            return self.ledger.orders.get(known) if known is not None else None

    async def fetch_positions(self) -> list[Position]:
        return list(self.account().positions)

    async def fetch_balance(self) -> list[Balance]:
        return list(self.account().balances)

    async def fetch_my_trades(self, since_ms: int | None = None) -> list[Fill]:
        with self._lock:
            return self.ledger.storage.fills(since_ms)
