"""SimFeed: what it pushes, in which order, and that the demo path stays light."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from cockpit.model import VenueStatus
from cockpit.venues.base import MarketFeed
from cockpit.venues.sim import SimFeed, SimMarket

from .conftest import START_MS


class RecordingSink:
    def __init__(self, stop_after_tickers: int) -> None:
        self.events: list[tuple[str, object]] = []
        self.tickers = 0
        self.stop_after = stop_after_tickers
        self.done = asyncio.Event()

    def _add(self, kind, item):
        self.events.append((kind, item))

    def on_instruments(self, instruments):
        self._add("instruments", instruments)

    def on_ticker(self, ticker):
        self._add("ticker", ticker)
        self.tickers += 1
        if self.tickers >= self.stop_after:
            self.done.set()

    def on_book(self, book):
        self._add("book", book)

    def on_trade(self, trade):
        self._add("trade", trade)

    def on_bars(self, bars):
        self._add("bars", bars)

    def on_venue_status(self, status):
        self._add("status", status)


async def run_feed(feed: SimFeed, sink: RecordingSink) -> None:
    task = asyncio.create_task(feed.run(sink))
    await asyncio.wait_for(sink.done.wait(), timeout=30)  # a safety net, not a speed assert
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


async def test_feed_pushes_instruments_history_status_then_live_updates():
    market = SimMarket(seed=1, tick_hz=200.0, start_ms=START_MS)
    feed = SimFeed(market)
    n_listed = len(market.instruments())
    sink = RecordingSink(stop_after_tickers=n_listed + 40)  # the first quotes plus live ticks
    await run_feed(feed, sink)
    kinds = [k for k, _ in sink.events]
    assert kinds[:4] == ["instruments", "bars", "bars", "status"]
    assert len(sink.events[0][1]) == n_listed
    assert all(len(bars) >= 2000 for k, bars in sink.events[1:3])
    status = sink.events[3][1]
    assert isinstance(status, VenueStatus) and status.venue == "sim" and status.connected
    assert "ticker" in kinds and "book" in kinds
    assert market.now_ms() > START_MS  # it stepped
    assert feed.now_ms() == market.now_ms()


def test_feed_class_flags():
    assert issubclass(SimFeed, MarketFeed)
    assert SimFeed.venue == "sim" and SimFeed.option_greeks is False


def test_feed_builds_its_own_market_from_arguments():
    feed = SimFeed(seed=3, start_ms=START_MS, history_bars=100)
    assert feed.now_ms() == START_MS
    assert len(feed.market.bars()[0]) == 100


def test_the_built_in_market_loads_neither_ccxt_nor_arch():
    code = (
        "import sys, cockpit.venues.sim, cockpit.demo\n"
        "m = cockpit.venues.sim.SimMarket(start_ms=0)\n"
        "cockpit.demo.demo_positions(m)\n"
        "print(sorted(n for n in ('ccxt', 'arch', 'textual') if n in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
