"""The Store: boundary checks on prices, immutable snapshots, listeners see only good data."""

import math

import numpy as np
import pytest

from cockpit.model import Book, Ticker, Trade
from cockpit.store import Store


def _ticker(mark=100.0, **kw):
    base = dict(symbol="BTC/USDT:USDT", ts_ms=1_000, bid=99.5, ask=100.5, last=100.0,
                mark=mark, index=100.0)
    base.update(kw)
    return Ticker(**base)


class _Listener:
    def __init__(self):
        self.tickers = []

    def on_ticker(self, t):
        self.tickers.append(t)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -1.0, 0.0])
def test_bad_mark_is_rejected_and_last_good_state_stays(bad, caplog):
    store, listener = Store(clock=lambda: 2_000), _Listener()
    store.add_market_listener(listener)
    store.on_ticker(_ticker(100.0))
    store.on_ticker(_ticker(bad, ts_ms=1_500))
    snap = store.snapshot()
    assert snap.tickers["BTC/USDT:USDT"].mark == 100.0
    assert [t.mark for t in listener.tickers] == [100.0]
    assert store.rejected == 1
    assert "mark" in caplog.text and "BTC/USDT:USDT" in caplog.text


def test_bad_book_rejected():
    store = Store(clock=lambda: 0)
    good = Book("X", 1, np.array([[99.0, 1.0]]), np.array([[101.0, 1.0]]))
    bad = Book("X", 2, np.array([[np.nan, 1.0]]), np.array([[101.0, 1.0]]))
    store.on_book(good)
    store.on_book(bad)
    assert store.snapshot().books["X"].ts_ms == 1


def test_snapshot_is_immutable_and_cached_until_change():
    store = Store(clock=lambda: 5)
    store.on_ticker(_ticker())
    a = store.snapshot()
    assert store.snapshot() is a
    with pytest.raises(TypeError):
        a.tickers["Y"] = _ticker()  # type: ignore[index]
    book = Book("X", 1, np.array([[99.0, 1.0]]), np.array([[101.0, 1.0]]))
    store.on_book(book)
    b = store.snapshot()
    assert b is not a and b.seq == a.seq + 1
    with pytest.raises(ValueError):
        b.books["X"].bids[0, 0] = 1.0  # read-only arrays


def test_trades_bounded_and_bad_trade_rejected():
    store = Store(clock=lambda: 0)
    for i in range(300):
        store.on_trade(Trade("X", i, 100.0 + i, 0.1, "buy"))
    store.on_trade(Trade("X", 999, -5.0, 0.1, "buy"))
    trades = store.snapshot().trades["X"]
    assert len(trades) == 200 and trades[-1].ts_ms == 299


def test_venue_data_age_follows_the_newest_ticker_not_the_last_status():
    from cockpit.model import Instrument, VenueStatus

    store = Store(clock=lambda: 10_000)
    store.on_instruments([Instrument("BTC/USDT:USDT", "sim", "perp", "BTC", "USDT", "USDT",
                                     True, 1.0, 0.001, 0.1, 0.001)])
    store.on_venue_status(VenueStatus("sim", True, last_data_ms=1_000))
    store.on_ticker(_ticker(ts_ms=9_500))
    assert store.snapshot().venues["sim"].last_data_ms == 9_500


def test_store_and_paper_broker_share_one_rule_for_usable_data():
    """A worthless option (mark 0 at expiry) passes, a crossed book does not; the
    Store used to refuse the first and pass the second."""
    from cockpit.model import Instrument

    opt = Instrument("BTC/USD:BTC-261225-100000-C", "sim", "option", "BTC", "USD", "BTC",
                     False, 1.0, 0.1, 0.0005, 0.1, option_type="call", strike=100_000.0)
    store = Store(clock=lambda: 0)
    store.on_instruments([opt])
    store.on_ticker(Ticker(opt.symbol, 1, 0.0, 0.0005, 0.0, 0.0, 90_000.0))
    assert store.snapshot().tickers[opt.symbol].mark == 0.0
    crossed = Book("X", 2, np.array([[101.0, 1.0]]), np.array([[100.0, 1.0]]))
    store.on_book(crossed)
    assert "X" not in store.snapshot().books and store.rejected == 1


def test_a_silent_feed_shows_its_data_ageing():
    """Nothing arrives for 22 s: the snapshot is restamped (same seq, same data), so
    the venue's age in the status bar grows instead of staying fresh."""
    from cockpit.model import VenueStatus

    now = [1_000]
    store = Store(clock=lambda: now[0])
    store.on_venue_status(VenueStatus(venue="okx", connected=True, last_data_ms=1_000))
    a = store.snapshot()
    now[0] = 1_500
    assert store.snapshot() is a  # within a second: the same object
    now[0] = 23_000
    b = store.snapshot()
    assert b.seq == a.seq and b.ts_ms == 23_000
    assert b.age_ms(b.venues["okx"].last_data_ms) == 22_000
