"""Record and replay: the committed fixture plays back the documented Deribit payloads,
deterministically, at the asked speed, skipping bad lines; record -> replay round-trips.

Expected numbers are read off the documented payloads (tests/venues/recorded/deribit,
tests/venues/fixtures/deribit_docs) and converted by hand here.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.model import Bars, Book, Instrument, Ticker, Trade, VenueGreeks, VenueStatus
from cockpit.venues.base import MarketFeed
from cockpit.venues.recorder import BOOK_LEVELS, decode, encode, header, record
from cockpit.venues.replay import ReplayFeed

FIXTURE = Path(__file__).parent / "fixtures" / "deribit_docs.jsonl.gz"
START_MS = 1583781354740
PERP = "BTC/USD:BTC"
OPTION = "BTC/USD:BTC-240927-40000-C"


class Sink:
    def __init__(self):
        self.events: list[tuple[str, object]] = []
        self.status: list[VenueStatus] = []

    def on_instruments(self, instruments):
        self.events.append(("instruments", instruments))

    def on_ticker(self, ticker):
        self.events.append(("ticker", ticker))

    def on_book(self, book):
        self.events.append(("book", book))

    def on_trade(self, trade):
        self.events.append(("trade", trade))

    def on_bars(self, bars):
        self.events.append(("bars", bars))

    def on_venue_status(self, status):
        self.status.append(status)

    def of(self, kind):
        return [x for k, x in self.events if k == kind]

    def encoded(self):
        return [(k, encode(k, x)) for k, x in self.events]


class FakeSleep:
    def __init__(self):
        self.calls: list[float] = []

    async def __call__(self, s):
        self.calls.append(s)
        await asyncio.sleep(0)


async def play(path, speed=0.0, sleep=None):
    feed = ReplayFeed(path, speed=speed, sleep=sleep or FakeSleep(), hold=False)
    sink = Sink()
    await feed.run(sink)
    return feed, sink


# ------------------------------------------------------------- the committed fixture


async def test_fixture_header_names_the_venue_and_symbols():
    feed = ReplayFeed(FIXTURE)
    assert feed.venue == "deribit" and feed.option_greeks
    assert feed.symbols == [PERP, OPTION]
    assert feed.now_ms() == START_MS


async def test_fixture_plays_the_documented_market_in_contracts():
    feed, sink = await play(FIXTURE)
    assert [k for k, _ in sink.events] == [
        "instruments", "bars", "ticker", "trade", "ticker", "book", "book", "book"]
    perp, opt = sink.of("instruments")[0]
    assert (perp.symbol, perp.contract_size, perp.linear) == (PERP, 10.0, False)
    assert (opt.symbol, opt.strike, opt.option_type) == (OPTION, 40000.0, "call")
    (bars,) = sink.of("bars")
    assert bars.timeframe_s == 60 and bars.close.tolist() == [7839.5, 7833.5, 7833, 7833]
    assert bars.ts_ms.dtype == np.int64 and not bars.close.flags.writeable
    ws_snapshot, ws_change, rest_book = sink.of("book")
    # get_order_book: bids [7814, 351820 USD] -> 351820 / 10 USD per contract = 35182
    assert rest_book.bids.tolist()[0] == [7814.0, 35182.0] and rest_book.seq == 17538025952
    assert not rest_book.bids.flags.writeable
    # ws snapshot bids [5042.34, 30 USD] -> 3 contracts; the change deletes both bids
    assert ws_snapshot.bids.tolist() == [[5042.34, 3.0], [5041.94, 2.0]]
    assert ws_change.bids.shape == (0, 2) and ws_change.asks.tolist()[0] == [5042.64, 4.0]
    (trade,) = sink.of("trade")
    assert (trade.price, trade.amount, trade.side) == (47946.5, 58.0, "buy")  # 580 USD / 10
    perp_t, opt_t = sink.of("ticker")
    assert (perp_t.bid, perp_t.ask, perp_t.mark, perp_t.index) == (7750, 7750.5, 7750.02, 7748.01)
    assert opt_t.mark_iv == pytest.approx(0.6127)  # documented mark_iv 61.27 percent
    assert opt_t.mark == 0.2168 and opt_t.underlying_price == 38992.71
    assert opt_t.greeks == VenueGreeks(0.59621, 0.00002, 141.90146, -13.48784)
    assert feed.played == 8 and feed.skipped == 0


async def test_same_file_same_sequence():
    _, a = await play(FIXTURE, speed=0)
    _, b = await play(FIXTURE, speed=5)
    assert a.encoded() == b.encoded()


async def test_now_ms_follows_the_recorded_clock_not_the_wall():
    feed = ReplayFeed(FIXTURE, speed=0, hold=False)
    seen = []

    class ClockSink(Sink):
        def on_book(self, book):
            seen.append(feed.now_ms())

    await feed.run(ClockSink())
    # books are the last three updates (0-based 5, 6, 7) of a clock stepping 250 ms
    assert seen == [START_MS + 250 * 5, START_MS + 250 * 6, START_MS + 250 * 7]
    assert feed.now_ms() == START_MS + 250 * 7


@pytest.mark.parametrize("speed, gap_s", [(1.0, 0.25), (10.0, 0.025), (0.5, 0.5)])
async def test_speed_scales_the_recorded_gaps(speed, gap_s):
    sleep = FakeSleep()
    await play(FIXTURE, speed=speed, sleep=sleep)
    assert sleep.calls == pytest.approx([gap_s] * 7)  # 8 updates 250 ms apart


async def test_speed_zero_never_sleeps():
    sleep = FakeSleep()
    await play(FIXTURE, speed=0, sleep=sleep)
    assert sleep.calls == []


async def test_hold_keeps_the_market_on_screen_until_cancelled():
    feed = ReplayFeed(FIXTURE, speed=0)
    sink = Sink()
    task = asyncio.ensure_future(feed.run(sink))
    for _ in range(50):
        await asyncio.sleep(0)
    assert feed.finished and not task.done()
    assert "finished: 8 updates" in sink.status[-1].message and sink.status[-1].connected
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


# ------------------------------------------------------------- bad input


def write_lines(path: Path, lines: list[str], *, gz: bool = True) -> Path:
    data = "".join(line + "\n" for line in lines).encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def good_lines() -> list[str]:
    return gzip.decompress(FIXTURE.read_bytes()).decode().splitlines()


async def test_bad_lines_are_logged_and_skipped(tmp_path, caplog):
    lines = good_lines()
    bad = [
        lines[0],
        "{not json",
        json.dumps({"t": 1, "k": "orders", "d": {}}),  # unknown kind
        json.dumps({"t": 2, "k": "book", "d": {"symbol": "X", "ts_ms": 1, "bids": "x",
                                               "asks": []}}),
        json.dumps({"t": 3, "k": "trade", "d": {"symbol": "X"}}),  # fields missing
        json.dumps([1, 2, 3]),
        "",
        *lines[1:],
    ]
    path = write_lines(tmp_path / "bad.jsonl.gz", bad)
    with caplog.at_level(logging.WARNING, logger="cockpit.venues.replay"):
        feed, sink = await play(path)
    assert feed.skipped == 5 and feed.played == 8
    # the first bad line named, the rest in one summary: never one log line each
    said = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(said) == 2
    assert "line 2: not JSON" in said[0] and "4 in the last" in said[1]
    assert not any("Error" in m for m in said)  # reasons in words, not exception names
    assert "5 bad lines skipped" in sink.status[-1].message


async def test_truncated_gzip_ends_the_replay_early_without_raising(tmp_path, caplog):
    blob = gzip.compress(("\n".join(good_lines()) + "\n").encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(blob[: len(blob) - 40])  # recorder killed mid-write
    with caplog.at_level(logging.WARNING, logger="cockpit.venues.replay"):
        feed, _ = await play(path)
    assert 0 < feed.played < 8
    assert any("ends early" in r.getMessage() for r in caplog.records)


async def test_plain_jsonl_is_read_too(tmp_path):
    path = write_lines(tmp_path / "plain.jsonl", good_lines(), gz=False)
    feed, _ = await play(path)
    assert feed.played == 8


@pytest.mark.parametrize(
    "first, words",
    [
        ("", "header"),
        (json.dumps({"format": "something-else", "version": 1}), "header"),
        (json.dumps({"format": "cockpit-recording", "version": 99, "venue": "x",
                     "started_ms": 1}), "upgrade"),
        (json.dumps({"format": "cockpit-recording", "version": 1}), "venue"),
    ],
)
def test_not_a_recording_is_refused_with_a_reason(tmp_path, first, words):
    path = write_lines(tmp_path / "x.gz", [first])
    with pytest.raises(ValueError, match=words):
        ReplayFeed(path)


def test_missing_file_and_bad_speed_name_the_fix(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        ReplayFeed(tmp_path / "nope.gz")
    for speed in (-1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="speed"):
            ReplayFeed(FIXTURE, speed=speed)


# ------------------------------------------------------------- record -> replay


def frozen(a, dtype=float):
    arr = np.array(a, dtype=dtype)
    arr.setflags(write=False)
    return arr


INST = Instrument(symbol="BTC/USDT:USDT", venue="fake", kind="perp", base="BTC", quote="USDT",
                  settle="USDT", linear=True, contract_size=0.001, amount_step=1,
                  price_step=0.1, min_amount=1)
DEEP_BOOK = Book("BTC/USDT:USDT", 1_000, frozen([[100 - i, 1 + i] for i in range(40)]),
                 frozen([[101 + i, 2 + i] for i in range(40)]), seq=9)
NAN_TICKER = Ticker("BTC/USDT:USDT", 1_100, bid=99.0, ask=101.0, last=100.0,
                    mark=float("nan"), index=100.5, funding_rate=0.0001)


class ScriptedFeed(MarketFeed):
    """Pushes a fixed script, one update per clock step, then idles until cancelled."""

    venue = "fake"

    def __init__(self):
        self.t = 5_000

    def now_ms(self):
        return self.t

    async def run(self, sink):
        sink.on_instruments([INST])
        self.t += 100
        sink.on_bars(Bars("BTC/USDT:USDT", 3600, frozen([0, 3_600_000], np.int64),
                          frozen([1, 2]), frozen([2, 3]), frozen([0.5, 1]), frozen([2, 2.5]),
                          frozen([10, 20])))
        self.t += 100
        sink.on_book(DEEP_BOOK)
        self.t += 100
        sink.on_ticker(NAN_TICKER)
        self.t += 100
        sink.on_trade(Trade("BTC/USDT:USDT", 1_200, 100.0, 3.0, "sell", "t1"))
        sink.on_venue_status(VenueStatus("fake", connected=True))
        await asyncio.Event().wait()


async def test_record_then_replay_gives_back_the_same_updates(tmp_path):
    path = tmp_path / "rec.jsonl.gz"
    lines = await record("fake", ["BTC/USDT:USDT"], path, seconds=0.05, feed=ScriptedFeed())
    assert lines == 5
    feed, sink = await play(path)
    assert feed.venue == "fake" and feed.started_ms == 5_000
    kinds = [k for k, _ in sink.events]
    assert kinds == ["instruments", "bars", "book", "ticker", "trade"]
    assert sink.of("instruments")[0] == [INST]
    book = sink.of("book")[0]
    assert book.bids.shape == (BOOK_LEVELS, 2)  # top 25 of 40 kept
    np.testing.assert_array_equal(book.bids, DEEP_BOOK.bids[:25])
    np.testing.assert_array_equal(book.asks, DEEP_BOOK.asks[:25])
    ticker = sink.of("ticker")[0]
    assert math.isnan(ticker.mark)  # a missing mark stays missing, never 0
    assert ticker.funding_rate == 0.0001
    assert feed.now_ms() == 5_400


async def test_record_until_cancelled_leaves_a_readable_file(tmp_path):
    path = tmp_path / "ctrl_c.jsonl.gz"
    task = asyncio.ensure_future(record("fake", ["X"], path, feed=ScriptedFeed()))
    for _ in range(20):
        await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    feed, _ = await play(path)
    assert feed.played == 5


async def test_record_refuses_a_non_positive_duration(tmp_path):
    with pytest.raises(ValueError, match="seconds"):
        await record("fake", [], tmp_path / "x.gz", seconds=0, feed=ScriptedFeed())


def test_header_is_the_documented_shape():
    assert header("okx", ["A"], 7, False) == {
        "format": "cockpit-recording", "version": 1, "venue": "okx", "symbols": ["A"],
        "started_ms": 7, "option_greeks": False}


finite = st.floats(-1e9, 1e9, allow_nan=False)
maybe = st.one_of(st.none(), finite)


@settings(max_examples=40, deadline=None)
@given(bid=finite, ask=finite, mark=st.one_of(finite, st.just(float("nan"))), iv=maybe,
       greeks=st.one_of(st.none(), st.tuples(finite, finite, finite, finite)), ts=st.integers(0, 2**53))
def test_ticker_survives_encode_json_decode(bid, ask, mark, iv, greeks, ts):
    t = Ticker("S", ts, bid, ask, 1.0, mark, 2.0, mark_iv=iv,
               greeks=VenueGreeks(*greeks) if greeks else None)
    back = decode("ticker", json.loads(json.dumps(encode("ticker", t))))
    assert back.greeks == t.greeks and back.mark_iv == t.mark_iv and back.ts_ms == ts
    assert (back.bid, back.ask) == (bid, ask)
    assert back.mark == mark or (math.isnan(mark) and math.isnan(back.mark))


async def test_fixture_replayed_into_the_store_fills_every_market_panel():
    """What ``cockpit --replay FILE`` shows: the store holds instruments, tickers
    (with the option's IV and Greeks), the book, trades and bars, and its snapshot
    clock is the recording's."""
    from cockpit.store import Store

    feed = ReplayFeed(FIXTURE, speed=0, hold=False)
    store = Store(mode="replay", clock=feed.now_ms)
    await feed.run(store)
    snap = store.snapshot()
    assert snap.mode == "replay" and snap.ts_ms == START_MS + 250 * 7
    assert set(snap.instruments) == {PERP, OPTION}
    assert set(snap.tickers) == {PERP, OPTION}
    assert snap.tickers[OPTION].greeks is not None and snap.tickers[OPTION].mark_iv == 0.6127
    assert PERP in snap.books and PERP in snap.bars and snap.trades[PERP]
    # it ends on the documented REST book, 1.75 s old on the recording's clock
    assert snap.books[PERP].bids.tolist()[0] == [7814.0, 35182.0]
    assert snap.age_ms(snap.books[PERP].ts_ms) == 1750
    assert snap.venues["deribit"].connected
    # Deribit's documented websocket book example sits at 5,042, its ticker example at
    # 7,750 (pages written years apart): the Store holds those two books as a 35 % jump
    assert store.rejected == 2 and not store.suspect
