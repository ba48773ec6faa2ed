"""Deribit book continuity over the wire: a diff lost in transit is caught by its
``prev_change_id`` (engineer A's check around ccxt.pro, our BookContinuity) and the
book is resynced from REST, ending identical to the venue's; plain ccxt.pro, which
does not check, keeps the wrong book. Fake Deribit on 127.0.0.1 only."""

from __future__ import annotations

import asyncio
import logging

import ccxt.pro as ccxtpro
import pytest

from cockpit.venues.ccxt_feed import CcxtFeed
from cockpit.venues.deribit import DeribitAdapter
from tests.venues.fakevenue_deribit import SYMBOL, FakeDeribit
from tests.venues.test_network_feed import Sink, SleepSpy, stop, until

LOST = 1003  # a diff adding the bid level 4987.0 x 30 USD (3 contracts)
LOST_LEVEL = [4987.0, 3.0]


@pytest.fixture
async def srv():
    server = FakeDeribit()
    server.lose_change_ids = {LOST}
    await server.start()
    yield server
    await server.close()


async def test_lost_diff_is_detected_and_the_book_resynced_from_rest(srv, caplog):
    # the feed builds its exchange from the config (rest_url/ws_url), as the CLI does,
    # which is where A's prev_change_id check is installed
    feed = CcxtFeed(DeribitAdapter(), srv.cfg(), use_websocket=True, watchdog_s=30,
                    history_bars=3, extras_s=3600, sleep=SleepSpy())
    sink = Sink()
    with caplog.at_level(logging.WARNING):
        task = asyncio.ensure_future(feed.run(sink))
        try:
            assert await until(lambda: max(srv.sent_change_ids, default=0) > LOST + 6)
            assert await until(lambda: "public/get_order_book" in srv.requests)
            srv.paused = True  # hold the book still and compare
            assert await until(lambda: sink.books and [
                b.tolist() for b in (sink.books[-1].bids, sink.books[-1].asks)
            ] == list(srv.book_contracts()))
        finally:
            await stop(task)
    assert LOST not in srv.sent_change_ids
    assert LOST_LEVEL in sink.books[-1].bids.tolist()  # the lost level is back
    assert srv.requests.count("public/get_order_book") == 1  # one resync, not a storm
    assert any("book gap" in r.getMessage() for r in caplog.records)


async def test_plain_ccxt_pro_keeps_a_wrong_book_after_a_lost_diff(srv):
    """The quirk the check exists for (ccxt 4.5.90): diffs are applied without looking
    at prev_change_id, so the lost level never appears."""
    exchange = ccxtpro.deribit({"enableRateLimit": False})
    exchange.urls["api"] = {"rest": f"http://127.0.0.1:{srv.port}",
                            "ws": f"ws://127.0.0.1:{srv.port}/ws/api/v2"}
    try:
        for _ in range(500):  # bounded
            book = await asyncio.wait_for(exchange.watch_order_book(SYMBOL), 5)
            if max(srv.sent_change_ids, default=0) > LOST + 6:
                break
        assert 4987.0 in dict(srv.bids)
        assert 4987.0 not in [row[0] for row in book["bids"]]
    finally:
        await exchange.close()
