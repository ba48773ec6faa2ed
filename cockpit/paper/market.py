"""The paper broker's view of the market: the last GOOD ticker and book per symbol,
coin prices in USD, and the data clock.

Updates with NaN, infinite or negative prices (or a crossed book) are refused with
a logged reason (``cockpit.paper``, at most once a minute of data time per symbol);
the last good state stays.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from cockpit.market_checks import book_problem, ticker_problem
from cockpit.model import Book, Instrument, Ticker, Trade

__all__ = ["STABLE", "MarketView", "ticker_problem"]

log = logging.getLogger("cockpit.paper")

# Quote/settle currencies taken at 1 USD (the cockpit values the account in USD).
STABLE = frozenset({"USD", "USDT", "USDC", "BUSD", "FDUSD"})
WARN_EVERY_MS = 60_000


class MarketView:
    """Last good market data as the paper broker sees it."""

    def __init__(self) -> None:
        self.tickers: dict[str, Ticker] = {}
        self.books: dict[str, Book] = {}
        self.index: dict[str, float] = {}  # coin -> USD, from perp/future index prices
        self.underlying: dict[str, float] = {}  # coin -> USD, from option tickers
        self.data_ms = 0  # newest timestamp seen in good data
        self._warned: dict[str, int] = {}

    def _warn(self, symbol: str, reason: str) -> None:
        last = self._warned.get(symbol)
        if last is None or self.data_ms - last >= WARN_EVERY_MS:
            self._warned[symbol] = self.data_ms
            log.warning("paper broker ignored %s: %s; keeping the last good state", symbol, reason)

    def take_ticker(self, t: Ticker, inst: Instrument | None) -> bool:
        problem = ticker_problem(t, inst)
        if problem:
            self._warn(t.symbol, problem)
            return False
        self.tickers[t.symbol] = t
        self.data_ms = max(self.data_ms, t.ts_ms)
        if inst is not None and not inst.is_option:
            self.index[inst.base] = t.index
        elif inst is not None and t.underlying_price is not None:
            self.underlying[inst.base] = t.underlying_price
        return True

    def take_book(self, book: Book) -> bool:
        problem = book_problem(book)
        if problem:
            self._warn(book.symbol, problem)
            return False
        self.books[book.symbol] = book
        self.data_ms = max(self.data_ms, book.ts_ms)
        return True

    def take_trade(self, trade: Trade) -> bool:
        if not (math.isfinite(trade.price) and trade.price > 0
                and math.isfinite(trade.amount) and trade.amount > 0):
            self._warn(trade.symbol, f"trade price {trade.price} amount {trade.amount}")
            return False
        self.data_ms = max(self.data_ms, trade.ts_ms)
        return True

    def price_usd(self, currency: str) -> float:
        """USD per unit of ``currency``: 1 for stablecoins, else the latest index
        (an option's underlying price when no perp/future prices it); NaN if none."""
        if currency in STABLE:
            return 1.0
        return self.index.get(currency, self.underlying.get(currency, math.nan))

    def mark(self, symbol: str) -> tuple[float, float | None]:
        """(mark, underlying USD or None) of ``symbol``; NaN mark when none arrived."""
        t = self.tickers.get(symbol)
        return (t.mark, t.underlying_price) if t is not None else (math.nan, None)

    def levels(self, symbol: str, side: str) -> np.ndarray:
        """The book side a ``side`` order takes from (asks for a buy), or the ticker's
        touch as one level of unlimited size when no book has arrived."""
        book = self.books.get(symbol)
        if book is not None:
            return book.asks if side == "buy" else book.bids
        t = self.tickers.get(symbol)
        top = (t.ask if side == "buy" else t.bid) if t else math.nan
        if math.isfinite(top) and top > 0:
            return np.array([[top, math.inf]])
        return np.empty((0, 2))

    def consume(self, symbol: str, side: str, taken: float) -> None:
        """Take what a ``side`` order filled out of our copy of the book, so a second
        order before the next book cannot fill against the same liquidity."""
        book = self.books.get(symbol)
        if book is None or taken <= 0:
            return
        levels = np.array(book.asks if side == "buy" else book.bids, dtype=float)
        before = np.cumsum(levels[:, 1]) - levels[:, 1]
        levels[:, 1] -= np.clip(taken - before, 0.0, levels[:, 1])
        levels = levels[levels[:, 1] > 1e-12]
        levels.setflags(write=False)
        bids, asks = (book.bids, levels) if side == "buy" else (levels, book.asks)
        self.books[symbol] = Book(symbol, book.ts_ms, bids, asks, book.seq)
