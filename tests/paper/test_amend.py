"""Amending a resting limit on the paper broker: the order changes in place (same id,
same client id), fills later at its new price, survives a restart, counts what has
filled, and every refusal is one line naming the field. Book and spec from tests/paper/specs.py (BTC perp: tick 0.1, step 0.001)."""

from __future__ import annotations

import asyncio

import pytest

from cockpit.model import OrderRequest, Trade
from cockpit.paper import OrderRejected, PaperBroker
from tests.paper.specs import BTC_PERP, T0, book

SYM = BTC_PERP.symbol
ASKS = [[60_000.0, 0.5], [60_010.0, 1.0]]
BIDS = [[59_990.0, 0.3], [59_980.0, 0.5]]


def rest_buy(broker: PaperBroker, price=59_900.0, amount=0.5, cid="amend-test-1"):
    broker.on_book(book(SYM, BIDS, ASKS))
    order = broker.place_order(OrderRequest(SYM, "buy", "limit", amount, price,
                                            client_order_id=cid))
    assert order.status == "open" and order.filled == 0
    return order


def test_amend_changes_price_and_amount_and_keeps_ids(broker):
    order = rest_buy(broker)
    amended = asyncio.run(broker.amend_order(order.id, SYM, price=59_950.0, amount=0.8))
    assert (amended.id, amended.client_order_id) == (order.id, "amend-test-1")
    assert (amended.price, amended.amount, amended.status) == (59_950.0, 0.8, "open")
    [resting] = broker.account().open_orders
    assert (resting.id, resting.price, resting.amount) == (order.id, 59_950.0, 0.8)
    assert broker.ledger.by_client["amend-test-1"] == order.id


def test_amended_order_fills_at_its_new_price_not_the_old(broker):
    order = rest_buy(broker)
    broker.amend(order.id, price=59_950.0)
    # a sell printing at 59,920 is strictly below 59,950 (fills a buy there) but above
    # the old 59,900 (would not have filled it)
    broker.on_trade(Trade(SYM, T0 + 1, 59_920.0, 2.0, "sell"))
    [fill] = [f for f in broker.account().fills if f.order_id == order.id]
    assert (fill.price, fill.amount, fill.maker) == (59_950.0, 0.5, True)
    assert broker.ledger.orders[order.id].status == "closed"


def test_amend_survives_a_restart(tmp_path):
    from tests.paper.specs import ALL, ticker

    path = tmp_path / "paper.db"
    b = PaperBroker(ALL, state_path=path)
    b.seed({"USDT": 100_000.0}, [])
    b.on_ticker(ticker(SYM, 60_000.0))
    order = rest_buy(b)
    b.amend(order.id, amount=0.7)
    b.close()
    again = PaperBroker(ALL, state_path=path)
    kept = again.ledger.orders[order.id]
    assert (kept.amount, kept.price, kept.client_order_id) == (0.7, 59_900.0, "amend-test-1")
    again.close()


def test_partly_filled_amend_counts_the_filled_part(broker):
    order = rest_buy(broker, amount=1.0)
    broker.on_trade(Trade(SYM, T0 + 1, 59_850.0, 0.4, "sell"))  # fills 0.4 of 1.0
    assert broker.ledger.orders[order.id].filled == pytest.approx(0.4)
    amended = broker.amend(order.id, amount=0.6)  # total 0.6: 0.2 left to fill
    assert amended.remaining == pytest.approx(0.2) and amended.status == "open"
    with pytest.raises(OrderRejected, match="must exceed the 0.4 already filled"):
        broker.amend(order.id, amount=0.3)


@pytest.mark.parametrize(("kw", "words"), [
    ({"amount": 0.0005}, "below BTC/USDT:USDT minimum"),
    ({"amount": 0.001}, "cost 59.9 USDT below"),  # 0.001 x 59,900 < min cost 100
    ({"price": 60_000.0}, "would trade at once (it crosses the book)"),
    ({"price": -1.0}, "give a positive price"),
])
def test_refusals_are_one_line_naming_the_field(broker, kw, words):
    order = rest_buy(broker)
    with pytest.raises(OrderRejected) as err:
        broker.amend(order.id, **kw)
    assert words in str(err.value) and "\n" not in str(err.value)
    assert broker.ledger.orders[order.id].price == 59_900.0  # nothing changed


def test_an_order_no_longer_resting_is_refused(broker):
    order = rest_buy(broker)
    broker.cancel(order.id)
    with pytest.raises(OrderRejected, match="is canceled, not a resting limit"):
        broker.amend(order.id, price=59_950.0)
