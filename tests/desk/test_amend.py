"""Desk.amend_order on the demo's paper account: the amended order passes the risk
gate as it would be after the amend, the journal has the intent before the broker is
asked and the result after, the client id stays, and refusals are one line."""

from __future__ import annotations

import pytest

from cockpit.model import OrderRequest
from tests.test_desk import BTC, make, mark, ready


async def resting_buy(amount=0.1, off=0.02):
    rt, desk = make()
    await ready(rt, desk)
    inst = rt.store.snapshot().instruments[BTC]
    price = round(mark(rt, BTC) * (1 - off) / inst.price_step) * inst.price_step
    report = await desk.send_ticket(OrderRequest(BTC, "buy", "limit", amount, price=price))
    [order] = report.orders
    assert order.status == "open", order
    return rt, desk, order, inst


async def test_amend_moves_the_resting_order_and_journals_intent_then_result():
    rt, desk, order, inst = await resting_buy()
    new_price = order.price + 10 * inst.price_step
    report = await desk.amend_order(order.id, BTC, price=new_price, amount=0.2)
    assert report.error is None
    [resting] = rt.broker.account().open_orders
    assert (resting.id, resting.client_order_id) == (order.id, order.client_order_id)
    assert resting.price == pytest.approx(new_price) and resting.amount == pytest.approx(0.2)
    texts = [r.text for r in desk.journal.records()
             if r.client_order_id == order.client_order_id]
    intent = next(i for i, t in enumerate(texts) if t.startswith("amend intent:"))
    done = next(i for i, t in enumerate(texts) if t.startswith("amended "))
    assert intent < done


async def test_price_off_the_tick_is_refused_in_one_line_and_the_order_stays():
    rt, desk, order, inst = await resting_buy()
    report = await desk.amend_order(order.id, BTC, price=order.price + inst.price_step / 3)
    assert report.error and "tick" in report.error and "\n" not in report.error
    assert not report.orders
    [resting] = rt.broker.account().open_orders
    assert resting.price == order.price
    assert desk.journal.records(kinds=["error", "refusal"])[-1].reason == report.error


async def test_below_the_minimum_is_refused():
    rt, desk, order, inst = await resting_buy()
    report = await desk.amend_order(order.id, BTC, amount=inst.min_amount / 2)
    assert report.error and "minimum" in report.error and "\n" not in report.error


async def test_an_amend_the_gate_refuses_never_reaches_the_broker():
    rt, desk, order, inst = await resting_buy()
    # 30 BTC at 2 % under the market: the leverage limit refuses a fresh order like it
    report = await desk.amend_order(order.id, BTC, amount=30.0)
    assert report.refused and ("max_leverage" in report.error or "[risk]" in report.error)
    [resting] = rt.broker.account().open_orders
    assert resting.amount == pytest.approx(order.amount)
    assert not any(r.text.startswith("amend intent:") for r in desk.journal.records())


async def test_an_order_no_longer_resting_is_refused():
    rt, desk, order, inst = await resting_buy()
    await desk.cancel_order(order.id, BTC)
    desk.sync_account()
    report = await desk.amend_order(order.id, BTC, price=order.price + inst.price_step)
    assert report.refused and "not resting any more" in report.error
