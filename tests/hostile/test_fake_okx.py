"""Misbehaving venue (issue 14), against the local fake OKX on 127.0.0.1 over the real
network path (ccxt, ccxt.pro websockets, our feed, the Store, the paper broker):

* no paper fill from a stale, crossed, ask-less or jumped book: the order is refused
  naming why and the venue's status line says SUSPECT;
* a flood of malformed pushes is a couple of log lines, not one per push;
* the kill switch cancels every resting order on a venue without cancel-all (OKX),
  and names the one the venue would not cancel;
* a venue refusal reads as one sentence.
"""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import pytest

from cockpit.model import OrderRequest
from cockpit.paper import OrderRejected, PaperBroker
from cockpit.store import Store
from cockpit.venues.ccxt_base import build_exchange
from cockpit.venues.ccxt_feed import CcxtFeed
from cockpit.venues.errors import VenueRefused
from cockpit.venues.live_broker import CancelIncomplete, CcxtBroker
from cockpit.venues.okx import OkxAdapter
from tests.venues.fakevenue import SYMBOL, FakeOkx

CREDS = SimpleNamespace(api_key="fake-key", secret="fake-secret", password="fake-pass")
BOUND_S = 8.0  # most we wait for a condition: a hang fails instead of blocking


async def until(cond, bound_s: float = BOUND_S) -> bool:
    for _ in range(int(bound_s / 0.01)):
        if cond():
            return True
        await asyncio.sleep(0.01)
    return cond()


@pytest.fixture
async def srv():
    server = FakeOkx(seed=3)
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def paper(srv):
    """The fake OKX's public feed -> Store -> paper broker (max book age 1 s)."""
    exchange = build_exchange(OkxAdapter(), srv.cfg(), None, pro=True)
    exchange.enableRateLimit = False
    feed = CcxtFeed(OkxAdapter(), srv.cfg(), exchange=exchange, poll_s=0.01, watchdog_s=60.0,
                    history_bars=3, extras_s=3600)
    store = Store(mode="paper", clock=feed.now_ms)
    broker = PaperBroker(clock=feed.now_ms, on_account=store.on_account, max_book_age_s=1.0)
    store.add_market_listener(broker)
    broker.seed({"USDT": 100_000.0}, [])
    task = asyncio.ensure_future(feed.run(store))
    assert await until(lambda: SYMBOL in broker.market.books)
    yield SimpleNamespace(srv=srv, store=store, broker=broker)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def buy(broker):
    return broker.place_order(OrderRequest(SYMBOL, "buy", "market", 1.0))


async def test_a_fresh_book_fills(paper):
    order = buy(paper.broker)
    assert order.status == "closed" and order.filled == 1.0


async def test_no_fill_from_a_book_gone_stale(paper):
    paper.srv.paused = True  # connected, silent
    await asyncio.sleep(1.5)
    with pytest.raises(OrderRejected, match=r"book is \d+ s old \(limit 1 s"):
        buy(paper.broker)
    assert paper.broker.ledger.storage.fills() == []
    paper.srv.paused = False
    assert await until(lambda: _fills_ok(paper.broker))


def _fills_ok(broker) -> bool:
    try:
        return buy(broker).status == "closed"
    except OrderRejected:
        return False


@pytest.mark.parametrize(("knob", "why"), [("cross_books", "crossed"),
                                           ("empty_asks", "no ask")])
async def test_no_fill_from_a_crossed_or_ask_less_book(paper, knob, why):
    setattr(paper.srv, knob, True)
    if knob == "cross_books":
        assert await until(lambda: SYMBOL in paper.store.suspect)
        assert paper.store.snapshot().venues["okx"].message.startswith("SUSPECT")
    else:
        assert await until(lambda: not len(paper.broker.market.books[SYMBOL].asks))
    with pytest.raises(OrderRejected, match=why):
        buy(paper.broker)
    assert paper.broker.ledger.storage.fills() == []


async def test_no_fill_after_a_90_pct_jump_in_one_tick(paper):
    paper.srv._price *= 0.1
    assert await until(lambda: "jumped" in paper.store.suspect.get(SYMBOL, ""))
    with pytest.raises(OrderRejected, match="jumped 90 %"):
        buy(paper.broker)
    assert paper.broker.ledger.storage.fills() == []


async def test_a_flood_of_bad_book_levels_is_summarised_not_logged_per_book(paper, caplog,
                                                                          monkeypatch):
    """Zero and negative price levels in every book, a hundred books a second: the
    levels are dropped, the books still used, and the log says so once (then once a
    minute), where it used to say it ten times a second."""
    from cockpit.market_checks import RejectionTally
    from cockpit.venues import ccxt_convert

    # the tally is per process: a fresh one, as at start-up
    monkeypatch.setattr(ccxt_convert, "DROPPED", RejectionTally(ccxt_convert.log))
    with caplog.at_level(logging.WARNING):
        paper.srv.zero_levels = True
        start = paper.srv.pushes
        assert await until(lambda: paper.srv.pushes - start > 200)
    said = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert len(said) == 1 and "book levels dropped" in said[0], said
    assert buy(paper.broker).status == "closed"  # the good levels still trade


def okx_broker(srv: FakeOkx) -> CcxtBroker:
    exchange = build_exchange(OkxAdapter(), srv.cfg(), CREDS)
    exchange.enableRateLimit = False
    return CcxtBroker(OkxAdapter(), srv.cfg(), CREDS, exchange=exchange, dead_man_timeout_s=0)


async def test_kill_switch_cancels_every_resting_order_without_cancel_all(srv):
    broker = okx_broker(srv)
    try:
        assert not broker._ex.has.get("cancelAllOrders")  # ccxt has none for OKX
        for px in (39_000.0, 38_500.0, 38_000.0):
            await broker.create_order(OrderRequest(SYMBOL, "buy", "limit", 1.0, price=px))
        assert sum(o["state"] == "live" for o in srv.orders.values()) == 3
        cancelled = await broker.cancel_all_orders()
        assert len(cancelled) == 3 and all(o.status == "canceled" for o in cancelled)
        assert all(o["state"] == "canceled" for o in srv.orders.values())
        assert srv.cancel_posts == 3
        assert await broker.fetch_open_orders() == []
    finally:
        await broker._ex.close()


async def test_kill_switch_names_the_order_the_venue_would_not_cancel(srv):
    broker = okx_broker(srv)
    try:
        for px in (39_000.0, 38_500.0):
            await broker.create_order(OrderRequest(SYMBOL, "buy", "limit", 1.0, price=px))
        stuck = next(iter(srv.orders.values()))["ordId"]
        srv.uncancellable = {stuck}
        with pytest.raises(CancelIncomplete) as err:
            await broker.cancel_all_orders()
        text = str(err.value)
        assert f"id {stuck}" in text and "cancelled 1 of 2" in text and "\n" not in text
        assert len(err.value.cancelled) == 1
    finally:
        await broker._ex.close()


async def test_a_refusal_reads_as_one_sentence(srv, caplog):
    srv.refuse_orders = [("51008", "Order failed. Insufficient USDT margin in account")]
    broker = okx_broker(srv)
    try:
        with caplog.at_level(logging.WARNING), pytest.raises(VenueRefused) as err:
            await broker.create_order(OrderRequest(SYMBOL, "buy", "limit", 1.0, price=39_000.0))
    finally:
        await broker._ex.close()
    assert str(err.value) == "OKX refused: insufficient margin (51008)"
    assert any('"sCode"' in r.getMessage() for r in caplog.records)  # raw JSON: log only


async def test_quit_leaves_the_dead_man_armed_while_our_orders_rest(srv):
    """A plain quit with an order resting stops refreshing but never disarms: the venue
    cancels the order when its timer runs out. Disarming is the trader's explicit
    choice (``disarm_dead_man=True``)."""
    exchange = build_exchange(OkxAdapter(), srv.cfg(), CREDS)
    exchange.enableRateLimit = False
    broker = CcxtBroker(OkxAdapter(), srv.cfg(), CREDS, exchange=exchange,
                        dead_man_timeout_s=60.0)
    await broker.create_order(OrderRequest(SYMBOL, "buy", "limit", 1.0, price=39_000.0))
    assert await broker.dead_man.step() == 15.0  # armed, refresh in a quarter of 60 s
    assert broker.resting_orders()
    await broker.aclose()
    assert [t for _, t in srv.cancel_all_after] == ["60"]  # never "0"
