"""The public feed over the real network path against a fake OKX on 127.0.0.1:
ccxt's aiohttp client and ccxt.pro websockets, engineer A's CcxtFeed, our resilience
primitives. Every loop here is bounded and stops by itself; no other address is used.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random

import ccxt.async_support as ccxt
import pytest

from cockpit.venues.ccxt_base import build_exchange
from cockpit.venues.ccxt_feed import CcxtFeed
from cockpit.venues.okx import OkxAdapter
from cockpit.venues.resilience import Backoff, Watchdog
from tests.venues.fakevenue import INST_ID, SYMBOL, FakeOkx

BOUND_S = 8.0  # upper bound on waiting for a condition; a hang fails instead of blocking


class Sink:
    def __init__(self):
        self.tickers, self.books, self.trades, self.status = [], [], [], []
        self.instruments, self.bars = [], []

    def on_instruments(self, instruments):
        self.instruments.extend(instruments)

    def on_ticker(self, ticker):
        self.tickers.append(ticker)

    def on_book(self, book):
        self.books.append(book)

    def on_trade(self, trade):
        self.trades.append(trade)

    def on_bars(self, bars):
        self.bars.append(bars)

    def on_venue_status(self, status):
        self.status.append(status)


async def until(cond, bound_s: float = BOUND_S) -> bool:
    for _ in range(int(bound_s / 0.01)):
        if cond():
            return True
        await asyncio.sleep(0.01)
    return cond()


class SleepSpy:
    """Records every delay the feed asks for; waits at most 20 ms of it."""

    def __init__(self):
        self.asked: list[float] = []

    async def __call__(self, s: float) -> None:
        self.asked.append(s)
        await asyncio.sleep(min(s, 0.02))


def okx_feed(srv: FakeOkx, *, websocket=True, watchdog_s=5.0, poll_s=0.01):
    exchange = build_exchange(OkxAdapter(), srv.cfg(), None, pro=websocket)
    exchange.enableRateLimit = False  # the fake venue has no limits to respect
    sleep = SleepSpy()
    feed = CcxtFeed(OkxAdapter(), srv.cfg(), exchange=exchange, use_websocket=websocket,
                    poll_s=poll_s, watchdog_s=watchdog_s, history_bars=3, extras_s=3600,
                    sleep=sleep)
    return feed, sleep, exchange


async def stop(task: asyncio.Task) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
async def srv():
    server = FakeOkx(seed=1)
    await server.start()
    yield server
    await server.close()


async def test_urls_point_at_the_local_server_only(srv):
    feed, _, exchange = okx_feed(srv)
    hosts = {v.split("/")[2] for v in exchange.urls["api"].values()}
    assert hosts == {f"127.0.0.1:{srv.port}"}
    await exchange.close()


async def test_feed_streams_books_tickers_trades_over_websocket(srv):
    feed, _, _ = okx_feed(srv)
    sink = Sink()
    task = asyncio.ensure_future(feed.run(sink))
    try:
        assert await until(lambda: len(sink.tickers) >= 3 and sink.books and sink.trades)
        assert [i.symbol for i in sink.instruments] == [SYMBOL]
        assert sink.bars and set(sink.bars[0].close.tolist()) == {40050.0}  # hourly history
        assert sink.books[-1].best_bid < sink.books[-1].best_ask
        assert {c for c, _ in srv.subscriptions} >= {"tickers", "trades"}
        assert sink.status[-1].connected
    finally:
        await stop(task)


async def test_reconnects_after_the_server_drops_the_socket(srv):
    srv.drop_after = 15  # the first connection is cut after 15 pushes
    feed, sleep, _ = okx_feed(srv)
    sink = Sink()
    task = asyncio.ensure_future(feed.run(sink))
    try:
        assert await until(lambda: srv.ws_connections >= 2 and len(sink.tickers) >= 20)
        # the drop was noticed and reported, then the feed recovered on a new connection
        assert any(s.retrying for s in sink.status)
        assert await until(lambda: not sink.status[-1].retrying)
        assert sum(1 for c, _ in srv.subscriptions if c == "tickers") >= 2
        n = len(sink.tickers)
        assert await until(lambda: len(sink.tickers) > n + 5)  # and keeps streaming
        assert not task.done()
    finally:
        await stop(task)


async def test_silent_stream_is_caught_by_the_watchdog_and_resubscribed(srv):
    srv.silent_subscriptions = 1  # first tickers subscription: acknowledged, then nothing
    feed, _, _ = okx_feed(srv, watchdog_s=0.3)
    sink = Sink()
    task = asyncio.ensure_future(feed.run(sink))
    try:
        assert await until(lambda: len(sink.tickers) >= 3)
        assert sum(1 for c, _ in srv.subscriptions if c == "tickers") >= 2
        assert any("silent" in s.message for s in sink.status)
        assert sink.books and sink.trades  # the other streams never stalled
    finally:
        await stop(task)


def test_watchdog_decides_from_silence_not_from_errors():
    # the primitive the feed loop uses: a stalled stream raises nothing, only silence grows
    t = [0.0]
    w = Watchdog(0.3, clock=lambda: t[0])
    t[0] = 0.29
    assert not w.expired()
    t[0] = 0.31
    assert w.expired()


async def test_malformed_payloads_are_skipped_and_the_feed_stays_up(srv, caplog):
    broken_json = '{"arg": {"channel": "tickers", "instId": "' + INST_ID + '"}, "data": [{"inst'
    wrong_types = json.dumps({"arg": {"channel": "tickers", "instId": INST_ID},
                              "data": [{"instId": INST_ID, "last": {"oops": 1}, "ts": "soon"}]})
    not_a_list = json.dumps({"arg": {"channel": "tickers", "instId": INST_ID}, "data": 7})
    srv.malformed_pushes = {3: broken_json, 5: wrong_types, 7: not_a_list, 9: "\x00\xff"}
    feed, _, _ = okx_feed(srv)
    sink = Sink()
    task = asyncio.ensure_future(feed.run(sink))
    try:
        with caplog.at_level(logging.WARNING):
            assert await until(lambda: len(sink.tickers) >= 15)
        assert not task.done()
        good = [t for t in sink.tickers if t.last == t.last]  # not NaN
        assert len(good) >= 10
        assert all(t.bid <= t.ask for t in good)
    finally:
        await stop(task)


@pytest.mark.parametrize("plain", [False, True], ids=["okx-50011-body", "plain-429"])
async def test_429_backs_off_with_growing_jittered_capped_delays(srv, plain):
    srv.reject_429 = 8
    srv.plain_429 = plain
    feed, sleep, _ = okx_feed(srv, websocket=False, poll_s=0.001)
    sink = Sink()
    task = asyncio.ensure_future(feed.run(sink))
    try:
        assert await until(lambda: srv.ticker_429s == 8 and sink.tickers)
        backoffs = [s for s in sleep.asked if s not in (0.001, 3600)]
        assert len(backoffs) == 8
        # Backoff() defaults: envelope 0.5 * 2**n capped at 30 s, equal jitter (half random)
        envelopes = [min(30.0, 0.5 * 2**n) for n in range(8)]
        for d, env in zip(backoffs, envelopes, strict=True):
            assert env / 2 <= d <= env
        assert max(backoffs) <= 30.0
        assert backoffs != envelopes  # jittered, not lock-step
        assert any(s.retrying for s in sink.status)
        assert await until(lambda: not sink.status[-1].retrying)  # recovered after the 429s
    finally:
        await stop(task)


async def test_okx_429_maps_to_a_network_error_class_we_back_off_on(srv):
    """ccxt 4.5.90: OKX's documented 429 body (code 50011) -> RateLimitExceeded; a bare
    429 -> ExchangeNotAvailable. Both are NetworkError: retried with backoff, never fatal."""
    exchange = build_exchange(OkxAdapter(), srv.cfg(), None)
    exchange.enableRateLimit = False
    try:
        await exchange.load_markets()
        seen = []
        for plain in (False, True):
            srv.reject_429, srv.plain_429 = 1, plain
            with pytest.raises(ccxt.NetworkError) as err:
                await exchange.fetch_ticker(SYMBOL)
            seen.append(type(err.value))
        assert seen == [ccxt.RateLimitExceeded, ccxt.ExchangeNotAvailable]
        # and the loop a caller writes with our Backoff gets through
        srv.reject_429 = 5
        backoff = Backoff(base_s=0.01, cap_s=0.04, rng=random.Random(3))
        delays = []
        for _ in range(10):  # bounded
            try:
                ticker = await exchange.fetch_ticker(SYMBOL)
                break
            except ccxt.NetworkError:
                delays.append(backoff.next_delay())
                await asyncio.sleep(delays[-1])
        assert ticker["symbol"] == SYMBOL and len(delays) == 5
        assert max(delays) <= 0.04
    finally:
        await exchange.close()


async def test_record_a_live_feed_then_replay_it_deterministically(srv, tmp_path):
    """``cockpit record`` against the fake venue, then ``--replay`` of that file, twice."""
    from cockpit.venues.recorder import encode, record
    from cockpit.venues.replay import ReplayFeed

    feed, _, _ = okx_feed(srv)
    path = tmp_path / "okx.jsonl.gz"
    lines = await record("okx", [SYMBOL], path, seconds=0.6, feed=feed)
    assert lines >= 10

    async def replay():
        sink = Sink()
        rf = ReplayFeed(path, speed=0, hold=False)
        await rf.run(sink)
        return rf, sink

    rf, a = await replay()
    _, b = await replay()
    assert rf.venue == "okx" and rf.symbols == [SYMBOL] and rf.skipped == 0
    assert [i.symbol for i in a.instruments] == [SYMBOL] and a.bars
    assert a.tickers and a.books and a.trades
    assert [encode("ticker", t) for t in a.tickers] == [encode("ticker", t) for t in b.tickers]
    assert [encode("book", x) for x in a.books] == [encode("book", x) for x in b.books]
