"""Crafted recordings (issue 14): a 1e300 print, a 90 % drop in one tick, NaN, a crossed
book, an empty side, a stale book, garbage lines, a flood of zero prices and an
expiry, each replayed through the real path (ReplayFeed -> Store -> paper broker, as
``cockpit --replay FILE`` wires them). The account never trades on the bad data,
the order is refused naming why, the log stays a few readable lines, and an expiring
option settles at its intrinsic value."""

from __future__ import annotations

import gzip
import json
import logging
import math
from dataclasses import replace

import pytest

from cockpit.model import Book, OrderRequest, Ticker
from cockpit.paper import OrderRejected, PaperBroker
from cockpit.store import Store
from cockpit.venues.recorder import FORMAT, VERSION, encode
from cockpit.venues.replay import ReplayFeed
from tests.paper.specs import BTC_CALL, BTC_PERP, ETH_PERP

PERP = replace(BTC_PERP, venue="okx")
ETH = replace(ETH_PERP, venue="okx")
CALL = replace(BTC_CALL, venue="okx")
T0 = 1_700_000_000_000
STEP = 250  # ms between recorded updates


def tick(symbol: str, px: float, ts: int, **kw) -> Ticker:
    return Ticker(symbol, ts, px - 0.5, px + 0.5, px, px, kw.pop("index", px), **kw)


def book(symbol: str, bid: float, ask: float, ts: int, size: float = 5.0) -> Book:
    import numpy as np

    bids = np.array([[bid, size], [bid - 1, size]]) if bid else np.empty((0, 2))
    asks = np.array([[ask, size], [ask + 1, size]]) if ask else np.empty((0, 2))
    return Book(symbol, ts, bids, asks)


def write(path, updates, extra_lines=()):
    """updates: [(kind, item)], stamped STEP ms apart from T0; ``extra_lines`` raw text
    appended after them."""
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(json.dumps({"format": FORMAT, "version": VERSION, "venue": "okx",
                            "symbols": [PERP.symbol], "started_ms": T0}) + "\n")
        f.write(json.dumps({"t": T0, "k": "instruments",
                            "d": encode("instruments", [PERP, ETH, CALL])}) + "\n")
        for i, (kind, item) in enumerate(updates):
            t = getattr(item, "ts_ms", T0 + i * STEP)
            f.write(json.dumps({"t": t, "k": kind, "d": encode(kind, item)}) + "\n")
        for line in extra_lines:
            f.write(line + "\n")
    return path


def good_market(n: int = 4, px: float = 60_000.0) -> list:
    out = []
    for i in range(n):
        ts = T0 + i * STEP
        out += [("ticker", tick(PERP.symbol, px, ts)), ("book", book(PERP.symbol, px - 0.5,
                                                                     px + 0.5, ts))]
    return out


async def replay(path, positions=(), balances=None):
    feed = ReplayFeed(path, speed=0, hold=False)
    store = Store(mode="replay", clock=feed.now_ms)
    broker = PaperBroker([PERP, ETH, CALL], clock=feed.now_ms, on_account=store.on_account)
    store.add_market_listener(broker)
    broker.seed(balances or {"USDT": 100_000.0}, list(positions))
    await feed.run(store)
    return feed, store, broker


def market_buy(broker, amount=0.1):
    return broker.place_order(OrderRequest(PERP.symbol, "buy", "market", amount))


def assert_sane(broker, equity_below=1e6):
    acct = broker.account()
    assert math.isfinite(acct.equity_usd) and 0 < acct.equity_usd < equity_below
    assert acct.liquidations == 0


LAST = T0 + 8 * STEP


@pytest.mark.parametrize(("name", "bad", "why"), [
    ("huge 1e300", [("ticker", tick(PERP.symbol, 1e300, LAST)),
                    ("book", book(PERP.symbol, 1e300, 1e300 + 1, LAST))], "above 1e+12"),
    ("90 % drop", [("ticker", tick(PERP.symbol, 6_000.0, LAST)),
                   ("book", book(PERP.symbol, 5_999.5, 6_000.5, LAST))], "jumped 90 %"),
    ("NaN", [("ticker", tick(PERP.symbol, math.nan, LAST)),
             ("book", book(PERP.symbol, math.nan, 60_001.0, LAST))], "nan"),
    ("crossed", [("book", book(PERP.symbol, 60_100.0, 60_000.0, LAST))], "crossed"),
])
async def test_bad_data_is_never_traded_on_and_the_order_says_why(tmp_path, name, bad, why):
    path = write(tmp_path / "rec.jsonl.gz", good_market() + bad)
    feed, store, broker = await replay(path, positions=[(PERP.symbol, 1.0, 60_000.0)])
    assert feed.played == len(good_market()) + len(bad) + 1
    assert store.rejected >= 1 and PERP.symbol in store.suspect
    # the account is valued at the last good mark: no 300-digit equity, no liquidation
    assert_sane(broker)
    assert store.snapshot().tickers[PERP.symbol].mark == 60_000.0
    with pytest.raises(OrderRejected, match="newest market data was refused") as err:
        market_buy(broker)
    assert why in str(err.value).lower() or why in str(err.value)
    assert broker.ledger.storage.fills() == [] and broker.account().fills == ()
    # the venue's status line says so, in the breach colour's prefix
    assert store.snapshot().venues["okx"].message.startswith("SUSPECT BTC/USDT:USDT")


async def test_an_empty_ask_side_refuses_a_buy_naming_the_missing_ask(tmp_path):
    path = write(tmp_path / "rec.jsonl.gz",
                 good_market() + [("book", book(PERP.symbol, 60_000.0, 0, LAST))])
    _, _, broker = await replay(path)
    with pytest.raises(OrderRejected, match="no ask"):
        market_buy(broker)
    assert broker.ledger.storage.fills() == []


async def test_a_book_older_than_the_limit_is_not_filled_from(tmp_path):
    """The BTC feed goes quiet; ETH keeps the recording's clock moving for 20 s."""
    quiet = [("ticker", tick(ETH.symbol, 3_000.0, T0 + 20_000 + i * 1000)) for i in range(3)]
    path = write(tmp_path / "rec.jsonl.gz", good_market() + quiet)
    _, _, broker = await replay(path)
    with pytest.raises(OrderRejected, match=r"book is 2\d s old \(limit 10 s"):
        market_buy(broker)
    assert broker.ledger.storage.fills() == []


async def test_a_confirmed_move_is_taken_as_real(tmp_path):
    """The jump guard holds a print, not a market: a drop that persists for 3 updates
    and 5 s of data time is the new price (and the order fills there)."""
    ts = [LAST + i * 2_500 for i in range(4)]
    moved = [(k, item) for t in ts for k, item in (
        ("ticker", tick(PERP.symbol, 45_000.0, t)), ("book", book(PERP.symbol, 44_999.5,
                                                                  45_000.5, t)))]
    path = write(tmp_path / "rec.jsonl.gz", good_market() + moved)
    _, store, broker = await replay(path)
    assert not store.suspect and store.snapshot().tickers[PERP.symbol].mark == 45_000.0
    order = market_buy(broker)
    assert order.status == "closed" and order.average == pytest.approx(45_000.5)


async def test_garbage_lines_are_counted_and_summarised_not_logged_one_by_one(tmp_path, caplog):
    garbage = ["{not json", "[1, 2, 3]", json.dumps({"t": 1, "k": "book", "d": ["x"]}),
               json.dumps({"t": "soon", "k": "ticker", "d": {}}), "\x00\x01binary",
               json.dumps({"t": 1, "k": "orders", "d": {}})] * 100
    path = write(tmp_path / "rec.jsonl.gz", good_market(), garbage)
    with caplog.at_level(logging.WARNING):
        feed, _, broker = await replay(path)
    assert feed.skipped == 600 and feed.played == len(good_market()) + 1
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) <= 3, lines
    assert any("600" in m or "599" in m for m in lines)
    assert not any("TypeError" in m or "list indices" in m for m in lines)
    assert_sane(broker)


async def test_a_flood_of_zero_prices_is_a_few_lines_and_shows_suspect(tmp_path, caplog):
    import numpy as np

    bad_levels = np.array([[0.0, 1.0], [-5.0, 1.0]])
    flood = [("book", Book(PERP.symbol, LAST + i * 100, bad_levels,
                           np.array([[60_000.5, 1.0]]))) for i in range(1000)]
    path = write(tmp_path / "rec.jsonl.gz", good_market() + flood)
    with caplog.at_level(logging.WARNING):
        _, store, broker = await replay(path)
    assert store.rejected == 1000
    store_lines = [r.getMessage() for r in caplog.records if r.name == "cockpit.store"]
    assert 1 <= len(store_lines) <= 2, store_lines
    assert store.snapshot().venues["okx"].message.startswith("SUSPECT")
    with pytest.raises(OrderRejected, match="refused"):
        market_buy(broker)


async def test_an_expiring_option_settles_at_intrinsic_not_its_time_value_mark(tmp_path):
    """A long call 12 % out of the money: the venue's last mark still says 0.0145 BTC of
    time value, but at expiry it is worth max(S - K, 0) = 0."""
    k = CALL.strike  # 70,000
    spot = k * 0.88
    before = CALL.expiry_ms - 60_000
    updates = [
        ("ticker", tick(PERP.symbol, spot, before)),
        ("ticker", Ticker(CALL.symbol, before, 0.014, 0.015, 0.0145, 0.0145, spot,
                          underlying_price=spot)),
        ("ticker", Ticker(CALL.symbol, CALL.expiry_ms, 0.014, 0.015, 0.0145, 0.0145, spot,
                          underlying_price=spot)),
    ]
    path = write(tmp_path / "rec.jsonl.gz", updates)
    _, _, broker = await replay(path, positions=[(CALL.symbol, 2.0, 0.02)],
                                balances={"BTC": 1.0})
    acct = broker.account()
    assert acct.position(CALL.symbol) is None
    settle = [f for f in broker.ledger.storage.fills() if f.symbol == CALL.symbol]
    assert len(settle) == 1 and settle[0].price == 0.0 and settle[0].side == "sell"
    # paid 2 x 0.02 BTC for options that expired worthless: the whole premium is lost,
    # nothing is credited for the 0.0145 mark (and a worthless expiry costs no fee)
    assert broker.ledger.balances["BTC"] == pytest.approx(1.0 - 2 * 0.02)


async def test_an_in_the_money_expiry_pays_intrinsic_at_the_settlement_price(tmp_path):
    spot = 77_000.0  # call K=70,000: (77,000 - 70,000) / 77,000 = 0.090909 BTC
    updates = [("ticker", tick(PERP.symbol, spot, CALL.expiry_ms - 1000)),
               ("ticker", Ticker(CALL.symbol, CALL.expiry_ms, 0.1, 0.11, 0.105, 0.105, spot,
                                 underlying_price=spot))]
    path = write(tmp_path / "rec.jsonl.gz", updates)
    _, _, broker = await replay(path, positions=[(CALL.symbol, 1.0, 0.05)],
                                balances={"BTC": 1.0})
    fill = next(f for f in broker.ledger.storage.fills() if f.symbol == CALL.symbol)
    assert fill.price == pytest.approx(7_000 / 77_000)


@pytest.mark.parametrize("acceleration", [1.0, 60.0, 1000.0])
def test_the_accelerated_demo_still_fills_every_instrument(acceleration):
    """The staleness limit is data time per wall time: the sim refreshes quiet option
    books every few ticks, which at 60x is a minute of simulated time, not a dead feed."""
    from cockpit.config import Config
    from cockpit.runtime import build_demo
    from cockpit.venues.sim import dispatch

    rt = build_demo(Config(), acceleration=acceleration, state_path=None)
    for _ in range(30):
        dispatch(rt.store, rt.feed.market.step())
    snap = rt.store.snapshot()
    oldest = min(snap.books, key=lambda s: snap.books[s].ts_ms)
    order = rt.broker.place_order(OrderRequest(oldest, "buy", "market", 0.1))
    assert order.status in ("closed", "canceled") and order.filled > 0
