"""Shared set-up for the built-in market tests."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from cockpit.model import Bars, Book, Ticker, Trade
from cockpit.venues.sim import SimMarket

# Monday 2026-11-23 07:20:34 UTC: mid-hour on purpose (a partial first bar),
# four days before the November month-end expiry.
START_MS = int(dt.datetime(2026, 11, 23, 7, 20, 34, tzinfo=dt.UTC).timestamp() * 1000)


@pytest.fixture
def market() -> SimMarket:
    return SimMarket(seed=7, start_ms=START_MS)


def fingerprint(update) -> tuple:
    """A comparable, exact rendering of one update (arrays as tuples of floats)."""
    if isinstance(update, Book):
        return ("book", update.symbol, update.ts_ms, update.bids.tobytes(), update.asks.tobytes())
    if isinstance(update, Bars):
        return ("bars", update.symbol, update.ts_ms.tobytes(), update.close.tobytes())
    if isinstance(update, Ticker | Trade):
        return (type(update).__name__, repr(update))
    raise AssertionError(f"unexpected update type {type(update)!r}")


def numbers_of(update) -> np.ndarray:
    """Every price/amount an update carries, as one float array."""
    if isinstance(update, Book):
        return np.concatenate((update.bids.ravel(), update.asks.ravel()))
    if isinstance(update, Bars):
        return np.concatenate((update.open, update.high, update.low, update.close, update.volume))
    if isinstance(update, Trade):
        return np.array([update.price, update.amount])
    values = [update.bid, update.ask, update.last, update.mark, update.index]
    for extra in (update.mark_iv, update.underlying_price, update.volume_24h):
        if extra is not None:
            values.append(extra)
    return np.array(values, float)
