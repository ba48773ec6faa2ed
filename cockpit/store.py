"""The Store: the one place that owns the latest state (DESIGN.md "How data flows").

Feeds and brokers push updates in; everyone else reads immutable
:class:`~cockpit.model.Snapshot` objects. The Store is also the boundary
check for market data: a NaN, infinite, zero, negative or absurd price, a
crossed book, or a price that jumped beyond ``max_jump_pct`` in one update
(``market_checks.JumpGuard``) is rejected and the last good state stays. Market
listeners (the paper broker) only ever see updates that passed that check, and
are told through ``on_data_suspect(symbol, reason | None)`` while a symbol's
newest data is being refused, so nothing fills on the last good book meanwhile.
The venue's status line says so too. Rejections are counted and summarised
(``market_checks.RejectionTally``), never logged one by one.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import replace
from types import MappingProxyType

import numpy as np

from cockpit.market_checks import JumpGuard, RejectionTally, book_problem, ticker_problem
from cockpit.model import (
    Account,
    Bars,
    Book,
    Instrument,
    Snapshot,
    Ticker,
    Trade,
    VenueStatus,
)

log = logging.getLogger("cockpit.store")

TRADES_KEPT = 200  # per symbol
CLOCK_REFRESH_MS = 1000  # a cached snapshot older than this on the clock is restamped


def _bad_price(value: float | None, name: str) -> str | None:
    if value is None or not math.isfinite(value) or value <= 0:
        return f"{name} is {value}"
    return None


def _frozen(arr) -> np.ndarray:
    out = np.array(arr, dtype=float, copy=True)
    out.setflags(write=False)
    return out


class Store:
    """Merges updates; :meth:`snapshot` returns the latest immutable view.

    ``clock`` gives the data source's time in ms (the simulated clock in
    the demo), so snapshot timestamps and staleness follow the data.
    """

    def __init__(self, mode: str = "demo", clock: Callable[[], int] | None = None, *,
                 max_jump_pct: float = 30.0, time_scale: float = 1.0) -> None:
        self.mode = mode
        self.time_scale = float(time_scale)  # data ms per wall ms (see Snapshot.wall_age_s)
        self.clock = clock or (lambda: int(time.time() * 1000))
        self._instruments: dict[str, Instrument] = {}
        self._tickers: dict[str, Ticker] = {}
        self._books: dict[str, Book] = {}
        self._trades: dict[str, deque[Trade]] = {}
        self._bars: dict[str, Bars] = {}
        self._venues: dict[str, VenueStatus] = {}
        self._account: Account | None = None
        # venue -> its own account; with ``multi`` set (a session of several venues,
        # cockpit.runtime_multi) ``_account`` is their sum (cockpit.accounts)
        self.multi = False
        self._accounts: dict[str, Account] = {}
        # A venue's account has no high-water mark: the store keeps it (the desk seeds
        # it from the journal and persists rises through ``on_new_peak``).
        self.peak_equity_usd = 0.0
        self.on_new_peak: Callable[[float], None] | None = None
        self._venue_data_ms: dict[str, int] = {}  # newest market data per venue
        self._seq = 0
        self._snap: Snapshot | None = None
        self._listeners: list[object] = []
        self.tally = RejectionTally(log)
        self.jumps = JumpGuard(max_jump_pct)
        self._suspects: dict[tuple[str, str], str] = {}  # (symbol, kind) -> why refused
        self.rejected = 0

    # -- wiring ---------------------------------------------------------------
    def add_market_listener(self, listener: object) -> None:
        """Forward every accepted market update to ``listener`` (e.g. the paper broker)."""
        self._listeners.append(listener)

    def _forward(self, method: str, item: object) -> None:
        for listener in self._listeners:
            fn = getattr(listener, method, None)
            if fn is not None:
                try:
                    fn(item)
                except Exception:  # a listener bug must not stop the market
                    log.exception("market listener %s.%s failed", type(listener).__name__, method)

    @contextmanager
    def batch(self):
        """Updates of one instant (a sim step, one websocket message of many tickers):
        listeners hear ``on_batch(True)`` before and ``on_batch(False)`` after, so the
        paper broker revalues the account once, at consistent marks."""
        self._forward("on_batch", True)
        try:
            yield self
        finally:
            self._forward("on_batch", False)

    def _changed(self) -> None:
        self._seq += 1
        self._snap = None

    def set_max_jump_pct(self, pct: float) -> None:
        """``[data] max_jump_pct``: the largest one-update move taken without confirmation."""
        self.jumps = JumpGuard(pct)

    def _reject(self, symbol: str, kind: str, reason: str) -> None:
        self.rejected += 1
        self.tally.add(f"{kind}s rejected (last good kept)", symbol, reason)
        if kind not in ("ticker", "book"):
            return
        first = symbol not in self.suspect
        self._suspects[(symbol, kind)] = f"{kind} {reason}"
        self._forward("on_data_suspect", (symbol, self.suspect[symbol]))
        if first:
            self._changed()

    def _accepted(self, symbol: str, kind: str) -> None:
        """Good data of ``kind`` clears that kind only: a good ticker says nothing
        about a book that keeps coming crossed."""
        if self._suspects.pop((symbol, kind), None) is not None:
            self._forward("on_data_suspect", (symbol, self.suspect.get(symbol)))

    @property
    def suspect(self) -> dict[str, str]:
        """symbol -> why its newest ticker or book was refused (while it is)."""
        out: dict[str, str] = {}
        for (symbol, _), reason in self._suspects.items():
            out.setdefault(symbol, reason)
        return out

    def _jump(self, symbol: str, price: float, ts_ms: int) -> str | None:
        """One reference price per symbol, moved by marks and book mids alike: a book
        far from the last good mark is as doubtful as a mark far from the last book."""
        inst = self._instruments.get(symbol)
        if inst is not None and inst.is_option:
            return None  # option premiums move by multiples in a day; that is normal
        return self.jumps.check(symbol, price, ts_ms)

    # -- MarketSink -------------------------------------------------------------
    def on_instruments(self, instruments: list[Instrument]) -> None:
        for inst in instruments:
            self._instruments[inst.symbol] = inst
        self._forward("on_instruments", instruments)
        self._changed()

    def on_ticker(self, ticker: Ticker) -> None:
        if reason := ticker_problem(ticker, self._instruments.get(ticker.symbol)) or \
                self._jump(ticker.symbol, ticker.mark, ticker.ts_ms):
            self._reject(ticker.symbol, "ticker", reason)
            return
        self._accepted(ticker.symbol, "ticker")
        self._tickers[ticker.symbol] = ticker
        self._saw_data(ticker.symbol, ticker.ts_ms)
        self._forward("on_ticker", ticker)
        self._changed()

    def on_book(self, book: Book) -> None:
        reason = book_problem(book)
        if reason is None and (len(book.bids) or len(book.asks)):
            tops = [float(side[0, 0]) for side in (book.bids, book.asks) if len(side)]
            reason = self._jump(book.symbol, sum(tops) / len(tops), book.ts_ms)
        if reason:
            self._reject(book.symbol, "book", reason)
            return
        self._accepted(book.symbol, "book")
        if book.bids.flags.writeable or book.asks.flags.writeable:
            book = replace(book, bids=_frozen(book.bids), asks=_frozen(book.asks))
        self._books[book.symbol] = book
        self._saw_data(book.symbol, book.ts_ms)
        self._forward("on_book", book)
        self._changed()

    def on_trade(self, trade: Trade) -> None:
        if reason := _bad_price(trade.price, "price") or (
            None if math.isfinite(trade.amount) and trade.amount > 0 else f"amount is {trade.amount}"
        ):
            self._reject(trade.symbol, "trade", reason)
            return
        self._trades.setdefault(trade.symbol, deque(maxlen=TRADES_KEPT)).append(trade)
        self._forward("on_trade", trade)
        self._changed()

    def on_bars(self, bars: Bars) -> None:
        arrays = (bars.open, bars.high, bars.low, bars.close)
        if any(not np.isfinite(a).all() or (np.asarray(a) <= 0).any() for a in arrays):
            self._reject(bars.symbol, "bars", "NaN, infinite or non-positive OHLC")
            return
        old = self._bars.get(bars.symbol)
        if old is not None and len(bars) and len(old) and bars.ts_ms[0] > old.ts_ms[-1]:
            bars = _concat(old, bars)
        elif old is not None and len(bars) == 1 and len(old) and bars.ts_ms[0] == old.ts_ms[-1]:
            bars = _concat(_drop_last(old), bars)
        self._bars[bars.symbol] = bars
        self._changed()

    def _saw_data(self, symbol: str, ts_ms: int) -> None:
        inst = self._instruments.get(symbol)
        if inst is not None and ts_ms > self._venue_data_ms.get(inst.venue, 0):
            self._venue_data_ms[inst.venue] = ts_ms

    def on_venue_status(self, status: VenueStatus) -> None:
        self._venues[status.venue] = status
        self._changed()

    # -- AccountSink --------------------------------------------------------------
    def on_account(self, account: Account) -> None:
        if self.multi:
            from cockpit.accounts import combine_accounts

            self._accounts[account.venue] = account
            account = combine_accounts(self._accounts)
        equity = account.equity_usd
        if account.peak_equity_usd <= 0 and math.isfinite(equity) and equity > 0:
            if equity > self.peak_equity_usd:
                self.peak_equity_usd = equity
                if self.on_new_peak is not None:
                    self.on_new_peak(equity)
            account = replace(account, peak_equity_usd=self.peak_equity_usd)
        self._account = account
        if not self.multi:
            self._accounts = {account.venue: account}
        self._changed()

    # -- readers -------------------------------------------------------------------
    @property
    def seq(self) -> int:
        return self._seq

    def snapshot(self) -> Snapshot:
        """The latest state; the same object is returned until something changes, or
        until the clock has moved ``CLOCK_REFRESH_MS`` past it: then the same state
        (same ``seq``) is restamped, so a feed that went silent shows its data AGE
        growing in the status bar instead of reading fresh forever."""
        if self._snap is not None:
            now = self.clock()
            if now - self._snap.ts_ms >= CLOCK_REFRESH_MS:
                self._snap = replace(self._snap, ts_ms=now)
            return self._snap
        self._snap = Snapshot(
            ts_ms=self.clock(), time_scale=self.time_scale,
            seq=self._seq,
            mode=self.mode,
            instruments=MappingProxyType(dict(self._instruments)),
            tickers=MappingProxyType(dict(self._tickers)),
            books=MappingProxyType(dict(self._books)),
            trades=MappingProxyType({k: tuple(v) for k, v in self._trades.items()}),
            bars=MappingProxyType(dict(self._bars)),
            account=self._account,
            accounts=MappingProxyType(dict(self._accounts)),
            venues=MappingProxyType({
                name: replace(v, last_data_ms=max(v.last_data_ms,
                                                  self._venue_data_ms.get(name, 0)),
                              message=self._suspect_note(name) or v.message)
                for name, v in self._venues.items()
            }),
        )
        return self._snap

    def _suspect_note(self, venue: str) -> str:
        """"SUSPECT BTC/USDT:USDT: book crossed ..." for the venue's status line."""
        suspect = self.suspect
        for sym, reason in suspect.items():
            inst = self._instruments.get(sym)
            if inst is not None and inst.venue == venue:
                more = sum(1 for s in suspect if s != sym)
                return f"SUSPECT {sym}: {reason}" + (f" (+{more} more)" if more else "")
        return ""


_BAR_FIELDS = ("ts_ms", "open", "high", "low", "close", "volume")
_MAX_BARS = 5000


def _concat(a: Bars, b: Bars) -> Bars:
    return replace(a, **{f: _frozen(np.concatenate([getattr(a, f), getattr(b, f)])[-_MAX_BARS:]) for f in _BAR_FIELDS})


def _drop_last(a: Bars) -> Bars:
    return replace(a, **{f: getattr(a, f)[:-1] for f in _BAR_FIELDS})
