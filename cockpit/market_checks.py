"""One rule for what market data is usable, used at the Store (the boundary every
feed goes through) and by the paper broker (which may be driven on its own).

A ticker needs a finite mark >= 0 (0 only for an option: worthless at expiry),
a positive index (options may carry none), bid/ask/last that are not negative or
infinite (NaN = an empty side), and a positive underlying price and implied vol
when given. A book side is an (N, 2) array of positive prices and non-negative
amounts, and the book must not be crossed. ``ticker_problem`` / ``book_problem``
return the reason the data is refused, or None.
"""

from __future__ import annotations

import math

import numpy as np

from cockpit.model import Book, Instrument, Ticker

__all__ = ["book_problem", "book_side_problem", "ticker_problem"]


def ticker_problem(t: Ticker, inst: Instrument | None = None) -> str | None:
    option = inst is not None and inst.is_option
    if not math.isfinite(t.mark) or t.mark < 0 or (t.mark == 0 and not option):
        return f"ticker mark {t.mark}"
    if not option and (not math.isfinite(t.index) or t.index <= 0):
        return f"ticker index {t.index}"
    for name in ("bid", "ask", "last"):
        v = getattr(t, name)
        if math.isinf(v) or v < 0:
            return f"ticker {name} {v}"
    for name in ("underlying_price", "mark_iv"):
        v = getattr(t, name)
        if v is not None and not (math.isfinite(v) and v > 0):
            return f"ticker {name} {v}"
    if t.funding_rate is not None and not math.isfinite(t.funding_rate):
        return f"ticker funding_rate {t.funding_rate}"
    return None


def book_side_problem(levels: np.ndarray) -> str:
    """Empty string when ``levels`` is a usable ``(N, 2)`` side, else the reason it is not."""
    arr = np.asarray(levels)
    if arr.size == 0:
        return ""
    if arr.ndim != 2 or arr.shape[1] != 2:
        return f"levels shape {arr.shape}, expected (N, 2)"
    low = arr.min(axis=0)  # NaN propagates into the minimum
    if not (low[0] > 0 and low[1] >= 0 and np.isfinite(arr.max())):
        return f"bad level: lowest price {low[0]}, lowest amount {low[1]}, highest {arr.max()}"
    return ""


def book_problem(book: Book) -> str | None:
    for name, side in (("bids", book.bids), ("asks", book.asks)):
        problem = book_side_problem(side)
        if problem:
            return f"book {name}: {problem}"
    if len(book.bids) and len(book.asks) and book.best_bid >= book.best_ask:
        return f"crossed book {book.best_bid} >= {book.best_ask}"
    return None
