"""Liquidation of the cross account, and market data the broker must refuse."""

from __future__ import annotations

import logging
import math
from dataclasses import replace

import numpy as np
import pytest

from cockpit.model import Book, OrderRequest, Ticker
from cockpit.paper import PaperBroker
from tests.paper.specs import BTC_CALL, BTC_PERP, ETH_PERP, T0, book, ticker

# flat 0.5 % MM (the default tier), taker 5 bp
PERP = replace(BTC_PERP, margin_tiers=())
SYM = PERP.symbol


def thin_account():
    """10,000 USDT holding 1 BTC long from 60,000: liquidated below 50,251.26."""
    b = PaperBroker([PERP, ETH_PERP])
    b.seed({"USDT": 10_000.0}, [(SYM, 1.0, 60_000.0)])
    b.on_ticker(ticker(SYM, 60_000.0))
    return b


def test_liquidation_triggers_only_below_maintenance_margin():
    b = thin_account()
    b.on_book(book(SYM, [[59_000.0, 1.0]], [[61_000.0, 1.0]]))
    resting = b.place_order(OrderRequest(SYM, "buy", "limit", 0.01, 55_000.0))
    # at 50,300: equity 10,000 - 9,700 = 300 >= MM 0.005 x 50,300 = 251.5: not yet
    b.on_ticker(ticker(SYM, 50_300.0, T0 + 1))
    acct = b.account()
    assert acct.liquidations == 0 and acct.position(SYM) is not None
    assert acct.equity_usd == pytest.approx(300.0)
    # at 50,200: equity 200 < MM 251: liquidated, closed at the mark
    b.on_ticker(ticker(SYM, 50_200.0, T0 + 2))
    acct = b.account()
    assert acct.liquidations == 1 and acct.positions == ()
    fill = acct.fills[-1]
    assert fill.liquidation and fill.side == "sell" and fill.price == 50_200.0
    assert fill.amount == pytest.approx(1.0)
    # balance = 10,000 + (50,200 - 60,000) - taker fee 50,200 x 0.0005 (25.1) = 174.9
    assert next(x.total for x in acct.balances) == pytest.approx(174.9)
    reason = acct.extra["last_liquidation"]
    assert "equity 200.00 USD < maintenance margin 251.00 USD" in reason
    assert "\n" not in reason
    # open orders are cancelled by the liquidation
    assert acct.open_orders == ()
    assert b.ledger.orders[resting.id].status == "canceled"


def test_liquidation_closes_every_position_of_the_cross_account():
    b = PaperBroker([PERP, ETH_PERP])
    b.seed({"USDT": 10_000.0}, [(SYM, 1.0, 60_000.0), (ETH_PERP.symbol, -10.0, 3_000.0)])
    b.on_ticker(ticker(ETH_PERP.symbol, 3_000.0))
    b.on_ticker(ticker(SYM, 60_000.0))
    assert b.account().liquidations == 0
    b.on_ticker(ticker(SYM, 50_000.0, T0 + 1))  # equity 0 < MM
    acct = b.account()
    assert acct.positions == () and acct.liquidations == 1
    closes = [f for f in acct.fills if f.liquidation]
    assert {(f.symbol, f.side) for f in closes} == {(SYM, "sell"), (ETH_PERP.symbol, "buy")}
    eth = next(f for f in closes if f.symbol == ETH_PERP.symbol)
    assert eth.price == 3_000.0  # at its own last mark


def test_a_listener_sees_one_account_per_ticker_and_none_for_unrelated_symbols():
    seen = []
    b = PaperBroker([PERP, BTC_CALL, ETH_PERP], on_account=seen.append)
    b.seed({"USDT": 10_000.0}, [(SYM, 1.0, 60_000.0)])
    b.on_ticker(ticker(SYM, 60_000.0))
    assert len(seen) == 1 and seen[-1].equity_usd == pytest.approx(10_000.0)
    b.on_ticker(ticker(ETH_PERP.symbol, 3_000.0))  # no ETH held: nothing moved
    b.on_ticker(ticker(BTC_CALL.symbol, 0.02, underlying=60_000.0))
    assert len(seen) == 1
    b.on_ticker(ticker(SYM, 50_000.0, T0 + 1))  # liquidation in the same call: one update
    assert len(seen) == 2 and seen[-1].liquidations == 1


def test_inside_a_batch_the_account_is_revalued_once_at_the_end_and_still_liquidates():
    """One sim step's tickers are one batch: one revaluation at the step's marks, and a
    liquidation those marks imply happens at the batch's end, as it would unbatched."""
    seen = []
    b = PaperBroker([PERP, ETH_PERP], on_account=seen.append)
    b.seed({"USDT": 10_000.0}, [(SYM, 1.0, 60_000.0), (ETH_PERP.symbol, -1.0, 3_000.0)])
    b.on_ticker(ticker(SYM, 60_000.0))
    b.on_ticker(ticker(ETH_PERP.symbol, 3_000.0))
    n = len(seen)
    b.on_batch(True)
    b.on_ticker(ticker(SYM, 59_000.0, T0 + 1))
    b.on_ticker(ticker(ETH_PERP.symbol, 3_100.0, T0 + 1))
    assert len(seen) == n  # nothing said mid-batch
    b.on_batch(False)
    assert len(seen) == n + 1
    # equity by hand: 10,000 + (59,000 - 60,000) x 1 + (3,000 - 3,100) x 1 = 8,900
    assert seen[-1].equity_usd == pytest.approx(8_900.0)
    b.on_batch(True)
    b.on_ticker(ticker(SYM, 50_000.0, T0 + 2))  # equity 10,000 - 10,000 - 100 < MM
    b.on_ticker(ticker(ETH_PERP.symbol, 3_100.0, T0 + 2))
    assert b.ledger.liquidations == 0
    b.on_batch(False)
    assert seen[-1].liquidations == 1 and seen[-1].positions == ()
    b.on_batch(True)
    b.on_batch(False)  # an empty batch says nothing
    assert len(seen) == n + 2


def test_the_store_hands_a_sim_step_to_the_broker_as_one_batch():
    from cockpit.config import Config
    from cockpit.runtime import build_demo
    from cockpit.venues.sim import dispatch

    rt = build_demo(Config(), seed=3, state_path=None)
    seen = []
    rt.broker.on_account = seen.append
    updates = rt.feed.market.step()
    assert sum(isinstance(u, Ticker) for u in updates) > 3  # several held marks move
    dispatch(rt.store, updates)
    assert len(seen) == 1


@pytest.mark.parametrize("bad", [
    dict(mark=math.nan), dict(mark=-1.0), dict(mark=math.inf), dict(index=math.nan),
    dict(index=0.0), dict(bid=-5.0), dict(ask=math.inf),
])
def test_bad_ticker_is_ignored_with_a_logged_reason(bad, caplog):
    b = thin_account()
    good = b.account()
    t = ticker(SYM, 40_000.0, T0 + 1)  # would liquidate if taken
    fields = {k: getattr(t, k) for k in Ticker.__slots__}
    fields.update(bad)
    with caplog.at_level(logging.WARNING, logger="cockpit.paper"):
        b.on_ticker(Ticker(**fields))
    assert b.account().liquidations == 0
    assert b.account().position(SYM).mark_price == good.position(SYM).mark_price == 60_000.0
    assert any("ignored BTC/USDT:USDT" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("bids, asks", [
    ([[math.nan, 1.0]], [[60_010.0, 1.0]]),
    ([[-1.0, 1.0]], [[60_010.0, 1.0]]),
    ([[59_990.0, 1.0]], [[math.inf, 1.0]]),
    ([[59_990.0, -1.0]], [[60_010.0, 1.0]]),
    ([[60_020.0, 1.0]], [[60_010.0, 1.0]]),  # crossed
])
def test_bad_book_is_ignored_and_the_last_good_book_stays(bids, asks, caplog):
    b = thin_account()
    b.on_book(book(SYM, [[59_990.0, 5.0]], [[60_000.0, 5.0]]))
    with caplog.at_level(logging.WARNING, logger="cockpit.paper"):
        b.on_book(Book(SYM, T0 + 1, np.array(bids), np.array(asks)))
    assert caplog.records
    order = b.place_order(OrderRequest(SYM, "buy", "market", 0.01))
    assert order.average == 60_000.0


def test_a_failing_listener_does_not_stop_the_broker(caplog):
    def boom(_account):
        raise RuntimeError("listener bug")

    b = PaperBroker([PERP], on_account=boom)
    b.seed({"USDT": 10_000.0}, [])
    b.on_ticker(ticker(SYM, 60_000.0))
    with caplog.at_level(logging.ERROR, logger="cockpit.paper"):
        order = b.place_order(OrderRequest(SYM, "buy", "market", 0.01))
    assert order.status == "closed"
    assert any("listener failed" in r.getMessage() for r in caplog.records)
