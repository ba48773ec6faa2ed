"""Amending a resting limit (issue 11) on the paper broker, through the desk's gate and
journal: the same order (id and client id) at its new price and amount, fills at the
new price only, and refusals in one line that keep the order as it was."""

import pytest

from cockpit.model import OrderRequest
from tests.test_desk import make, position, ready

ETH = "ETH/USDT:USDT"


async def resting_buy(rt, desk, amount=1.0, below=0.99):
    price = round(rt.store.snapshot().books[ETH].best_bid * below, 2)
    report = await desk.send_ticket(OrderRequest(ETH, "buy", "limit", amount, price=price))
    (order,) = report.orders
    assert order.status == "open"
    return order


async def test_an_amend_moves_a_resting_limit_and_keeps_its_ids_and_journal():
    rt, desk = make()
    await ready(rt, desk)
    order = await resting_buy(rt, desk)
    new_price = round(order.price * 0.995, 2)
    line = await desk.amend_order(order, price=new_price, amount=2.0)
    assert line.startswith("amended: buy 2")
    (now,) = rt.broker.account().open_orders
    assert (now.id, now.client_order_id) == (order.id, order.client_order_id)
    assert now.price == pytest.approx(new_price) and now.amount == pytest.approx(2.0)
    texts = [r.text for r in desk.journal.records(kinds=["order"])]
    assert any(t.startswith("amend buy ETH/USDT:USDT 1 @") for t in texts)  # before sending
    assert any(t.startswith("amended buy ETH/USDT:USDT 2 @") for t in texts)  # the venue's


async def test_an_amended_limit_fills_at_its_new_price_not_the_old_one():
    import numpy as np

    from cockpit.model import Book

    rt, desk = make()
    await ready(rt, desk)
    order = await resting_buy(rt, desk, below=0.98)
    new_price = round(order.price * 1.01, 2)  # nearer the market, still below the bid
    await desk.amend_order(order, price=new_price)
    before = position(rt, ETH)
    snap = rt.store.snapshot()
    # the ask comes down between the two prices: only the amended order is crossed
    ask = round((order.price + new_price) / 2, 2)
    rt.broker.on_book(Book(ETH, snap.ts_ms, np.array([[ask - 0.01, 100.0]]),
                           np.array([[ask, 100.0]]), snap.books[ETH].seq + 1))
    assert position(rt, ETH) == pytest.approx(before + 1.0)
    fill = rt.broker.account().fills[-1]
    assert fill.order_id == order.id and fill.price <= new_price


@pytest.mark.parametrize("change, words", [
    ({"amount": 0.0}, "must be a positive number"),  # the gate's words
    ({"price": 1e9}, "[risk] price_band_bps"),
    ({"amount": 0.0001}, "minimum"),
])
async def test_a_refused_amend_is_one_line_and_the_order_stays_as_it_was(change, words):
    rt, desk = make()
    await ready(rt, desk)
    order = await resting_buy(rt, desk)
    line = await desk.amend_order(order, **change)
    assert line.startswith(("not amended: ", "refused: ")) and "\n" not in line
    assert words in line
    (now,) = rt.broker.account().open_orders
    assert (now.price, now.amount) == (order.price, order.amount)


async def test_the_gate_judges_an_amend_like_a_new_order():
    rt, desk = make()
    await ready(rt, desk)
    order = await resting_buy(rt, desk)
    line = await desk.amend_order(order, amount=5_000.0)  # $15M of ETH: far past leverage
    assert line.startswith("refused: ") and "[risk] max_order_notional_usd" in line
    (now,) = rt.broker.account().open_orders
    assert now.amount == order.amount


async def test_a_paper_amend_across_the_book_is_refused_not_filled():
    """The paper broker never turns an amend into a taker: a buy moved up to the ask
    is refused, naming what to do, and rests where it was."""
    from cockpit.paper.matching import OrderRejected

    rt, desk = make()
    await ready(rt, desk)
    order = await resting_buy(rt, desk)
    ask = rt.store.snapshot().books[ETH].best_ask
    with pytest.raises(OrderRejected, match="would trade at once"):
        rt.broker.amend(order.id, price=ask)
    with pytest.raises(OrderRejected, match="already filled"):
        rt.broker.amend(order.id, amount=0.0)
    (now,) = rt.broker.account().open_orders
    assert (now.price, now.amount, now.status) == (order.price, order.amount, "open")
