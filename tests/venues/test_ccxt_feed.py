"""CcxtFeed offline: REST polling through ccxt's real parsers against recorded
responses, the no-network start, malformed payloads, and the Deribit book
continuity check on the documented notification examples."""

from __future__ import annotations

import asyncio
import copy
from types import SimpleNamespace

import ccxt.async_support as ccxt
import ccxt.pro as ccxtpro
import numpy as np
import pytest

from cockpit.venues.binanceusdm import BinanceUsdmAdapter
from cockpit.venues.ccxt_feed import CcxtFeed, install_change_id_check
from tests.venues import test_parse_binanceusdm as binance_rec
from tests.venues import test_parse_deribit as deribit_rec
from tests.venues.recorded_http import RecordedHttp, load, shared_exchange

FEED_ROUTES = [
    ("/fapi/v1/klines", "klines.json"),
    ("/fapi/v1/aggTrades", "aggTrades.json"),
    ("/fapi/v1/time", "time.json"),
    *binance_rec.ROUTES,
]


class Sink:
    def __init__(self):
        self.instruments, self.tickers, self.books, self.trades = [], [], [], []
        self.bars, self.status = [], []

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


async def no_sleep(_s):
    await asyncio.sleep(0)


async def run_until(feed, sink, done, max_steps=2000):
    """Run the feed until ``done(sink)``; a bounded number of loop steps, not a timer."""
    task = asyncio.ensure_future(feed.run(sink))
    for _ in range(max_steps):
        await asyncio.sleep(0)
        if done(sink) or task.done():
            break
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert not task.done() or task.cancelled() or task.exception() is None


def binance_feed(routes):
    ex, http = shared_exchange(BinanceUsdmAdapter(), routes, [])
    cfg = SimpleNamespace(symbols=(binance_rec.BTC, "NOPE/USDT:USDT"))
    feed = CcxtFeed(BinanceUsdmAdapter(), cfg, exchange=ex, use_websocket=False,
                    history_bars=3, sleep=no_sleep, clock=lambda: 1499040000.0 + 3 * 3600)
    return feed, http


async def test_rest_polling_pushes_instruments_bars_book_ticker_trades():
    feed, http = binance_feed(FEED_ROUTES)
    sink = Sink()
    await run_until(feed, sink, lambda s: s.books and http.count("aggTrades") >= 3 and any(
        t.funding_rate is not None for t in s.tickers))
    (inst,) = sink.instruments  # the unlisted symbol is skipped, not fatal
    assert inst.symbol == binance_rec.BTC and [t.max_notional for t in inst.margin_tiers] == [
        10000, 50000]
    (bars,) = sink.bars
    assert bars.ts_ms.tolist() == [1499040000000] and bars.close.tolist() == [0.015771]
    assert sink.books[-1].bids.tolist() == [[4.0, 431.0]]
    assert sink.trades[-1].price == 0.01633102 and sink.trades[-1].side == "sell"  # maker buyer
    assert len(sink.trades) == 1  # polled again and again, the one print is passed once
    merged = [t for t in sink.tickers if t.funding_rate is not None][-1]
    assert merged.mark == 11793.63104562 and merged.funding_rate == 0.00038246
    assert sink.status[-1].connected and sink.status[-1].last_data_ms >= 1589436922959
    assert sink.status[-1].clock_skew_ms is not None
    assert "not listed: NOPE/USDT:USDT" in sink.status[-1].message  # said, not fatal


async def test_malformed_book_is_skipped_and_the_feed_carries_on():
    bad = ("/fapi/v1/depth", {"lastUpdateId": 1, "bids": [["not-a-price"]], "asks": 7})
    feed, _ = binance_feed([bad, *FEED_ROUTES])
    sink = Sink()
    await run_until(feed, sink, lambda s: len(s.tickers) >= 3 and s.trades)
    assert sink.tickers and sink.trades  # the other streams kept going


async def test_no_network_reports_disconnected_and_retrying_without_raising():
    adapter = BinanceUsdmAdapter()
    http = RecordedHttp("binanceusdm", [], ccxt.NetworkError("no route to host"))
    ex = ccxt.binanceusdm({"enableRateLimit": False})
    http.exchange, ex.fetch = ex, http.fetch
    feed = CcxtFeed(adapter, SimpleNamespace(symbols=(binance_rec.BTC,)), exchange=ex,
                    use_websocket=False, sleep=no_sleep)
    sink = Sink()
    await run_until(feed, sink, lambda s: len(s.status) >= 3)
    last = sink.status[-1]
    assert (last.connected, last.retrying) == (False, True)
    assert "NetworkError" in last.message


# -- Deribit: prev_change_id continuity (ccxt.pro does not check it) ----------------


class Client:
    def __init__(self):
        self.resolved = []

    def resolve(self, result, message_hash):
        self.resolved.append(message_hash)


@pytest.fixture
def deribit_pro():
    ex = ccxtpro.deribit({"enableRateLimit": False})
    rest, _ = shared_exchange(deribit_rec.DeribitAdapter(), deribit_rec.ROUTES,
                              {"jsonrpc": "2.0", "result": []})
    ex.set_markets(rest.markets, rest.currencies)
    return ex


def change(prev, cid, bids=()):
    snapshot, diff = load("deribit", "book_notifications.json")
    msg = copy.deepcopy(diff)
    msg["params"]["data"].update(prev_change_id=prev, change_id=cid, bids=list(bids), asks=[])
    return msg


def test_documented_snapshot_then_change_applies(deribit_pro):
    gaps = []
    continuity = install_change_id_check(deribit_pro, gaps.append)
    snapshot, diff = load("deribit", "book_notifications.json")
    client = Client()
    deribit_pro.handle_order_book(client, snapshot)
    deribit_pro.handle_order_book(client, diff)  # deletes both documented bids
    book = deribit_pro.orderbooks[deribit_rec.PERP]
    assert list(book["bids"]) == [] and [a[0] for a in book["asks"]] == [5042.64, 5043.3]
    assert gaps == [] and continuity[deribit_rec.PERP].last_id == 297218


def test_gap_drops_the_diff_and_asks_for_resync(deribit_pro):
    gaps = []
    continuity = install_change_id_check(deribit_pro, gaps.append)
    snapshot, _ = load("deribit", "book_notifications.json")
    client = Client()
    deribit_pro.handle_order_book(client, snapshot)
    # message 297218 lost: 297219 says prev 297218, the book last saw 297217
    deribit_pro.handle_order_book(client, change(297218, 297219, [["new", 6000.0, 10]]))
    book = deribit_pro.orderbooks[deribit_rec.PERP]
    assert 6000.0 not in [b[0] for b in book["bids"]]  # not patched into a wrong book
    assert gaps == [deribit_rec.PERP] and not continuity[deribit_rec.PERP].in_sync
    # further diffs stay refused (and no duplicate resync requests) until a reset
    deribit_pro.handle_order_book(client, change(297219, 297220, [["new", 6001.0, 10]]))
    assert gaps == [deribit_rec.PERP]
    # resolved twice: the snapshot, then the gap wakes the watcher so the feed resyncs now
    assert client.resolved == ["book|BTC/USD:BTC|100ms"] * 2
    continuity[deribit_rec.PERP].reset(297230)  # REST snapshot at 297230
    deribit_pro.handle_order_book(client, change(297225, 297229))  # older: skipped quietly
    # straddles the snapshot: (297228, 297232] holds absolute amounts as of 297232
    deribit_pro.handle_order_book(client, change(297228, 297232, [["new", 5000.0, 10]]))
    deribit_pro.handle_order_book(client, change(297232, 297233, [["new", 4999.5, 20]]))
    bids = [b[0] for b in deribit_pro.orderbooks[deribit_rec.PERP]["bids"]]
    assert 5000.0 in bids and 4999.5 in bids
    assert gaps == [deribit_rec.PERP] and continuity[deribit_rec.PERP].last_id == 297233


async def test_okx_mark_is_polled_and_merged_into_the_ticker():
    from cockpit.venues.okx import OkxAdapter
    from tests.venues import test_parse_okx as okx_rec

    routes = [("/public/mark-price", "mark_price.json"),
              ("/public/funding-rate", "funding_rate.json"), *okx_rec.ROUTES]
    ex, _ = shared_exchange(OkxAdapter(), routes, okx_rec.EMPTY)
    feed = CcxtFeed(OkxAdapter(), SimpleNamespace(symbols=(okx_rec.LINEAR,)), exchange=ex,
                    use_websocket=False, history_bars=3, sleep=no_sleep)
    sink = Sink()
    await run_until(feed, sink, lambda s: any(t.funding_rate is not None for t in s.tickers))
    t = [t for t in sink.tickers if t.funding_rate is not None][-1]
    assert t.mark == 200.0  # documented markPx, not the book mid
    assert t.funding_rate == pytest.approx(0.000079238688534)


def test_bad_bars_are_dropped_not_the_history():
    from cockpit.venues.ccxt_convert import to_bars

    rows = [[3_600_000, 2, 3, 1, 2.5, 10], [0, 1, 2, 0.5, 1.5, 5],
            [7_200_000, None, 3, 1, 2, 1], [10_800_000, 2.5, 2.6, 2.4, 2.5]]
    bars = to_bars("X", rows, 3600)
    assert bars.ts_ms.tolist() == [0, 3_600_000, 10_800_000]  # sorted, the None row gone
    assert bars.close.tolist() == [1.5, 2.5, 2.5]
    assert np.isnan(bars.volume[-1])  # a missing volume stays NaN, never 0


def test_bad_book_levels_are_dropped_not_the_book():
    from cockpit.store import book_problem
    from cockpit.venues.ccxt_convert import to_book
    from cockpit.venues.deribit import DeribitAdapter

    market = {"symbol": "BTC/USD:BTC", "inverse": True, "option": False, "contractSize": 10.0}
    ob = {"bids": [[7814, 351820], ["x", 5], [7813, -1]], "asks": [[7814.5, 11880], [0, 3]],
          "timestamp": 1, "nonce": 2}
    book = to_book(DeribitAdapter(), ob, market)
    assert book.bids.tolist() == [[7814.0, 35182.0]] and book.asks.tolist() == [[7814.5, 1188.0]]
    assert book_problem(book) is None


async def test_failing_stream_falls_back_to_rest_polling():
    from tests.venues.recorded_http import recorded_exchange

    ex, http = recorded_exchange(BinanceUsdmAdapter(), FEED_ROUTES, [])
    ex.enableRateLimit = False
    attempts = []

    async def broken_stream(symbol, *args):
        attempts.append(symbol)
        raise ccxt.NetworkError("socket closed")

    ex.has = {**ex.has, "watchOrderBook": True, "watchTicker": True, "watchTrades": True}
    ex.watch_order_book = ex.watch_ticker = ex.watch_trades = broken_stream
    feed = CcxtFeed(BinanceUsdmAdapter(), SimpleNamespace(symbols=(binance_rec.BTC,)),
                    exchange=ex, use_websocket=True, history_bars=3, sleep=no_sleep)
    sink = Sink()
    await run_until(feed, sink, lambda s: s.books and s.trades)
    assert len(attempts) >= 15  # 5 tries per stream before falling back
    assert http.count("/fapi/v1/depth") >= 1 and sink.books[-1].bids.tolist() == [[4.0, 431.0]]
