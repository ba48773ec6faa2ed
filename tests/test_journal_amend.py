"""The journal after an amend (issue 11): the orders row shows the order as it now
rests (its new price and total amount), the amend is kept as an event with what it
changed from and to, later records of the order carry the new figures, and
``cockpit journal`` prints them."""

import numpy as np
import pytest

from cockpit import journal_cmd
from cockpit.journal import Journal
from cockpit.model import Book, OrderRequest
from tests.test_desk import make, ready

ETH = "ETH/USDT:USDT"


async def amended(tmp_path):
    rt, desk = make(state_path=tmp_path / "demo.sqlite")
    await ready(rt, desk)
    price = round(rt.store.snapshot().books[ETH].best_bid * 0.98, 2)
    report = await desk.send_ticket(OrderRequest(ETH, "buy", "limit", 1.0, price=price))
    (order,) = report.orders
    new_price = round(price * 1.01, 2)  # nearer the market, still below the bid
    line = await desk.amend_order(order, price=new_price, amount=2.0)
    assert line.startswith("amended: buy 2")
    return rt, desk, order, new_price


async def test_the_orders_row_shows_the_amended_price_and_amount(tmp_path):
    rt, desk, order, new_price = await amended(tmp_path)
    row = desk.journal.order(order.client_order_id)
    assert (row.price, row.amount, row.status) == (pytest.approx(new_price), 2.0, "open")
    assert row.venue_order_id == order.id
    # the amend is an event of its own, with the figures it replaced: the desk's intent
    # (written before it asked the venue), then the venue's answer
    intent, event = [r for r in desk.journal.records(kinds=["order"]) if "amend" in r.data]
    assert intent.text.startswith("amend buy ETH/USDT:USDT 1 @") and intent.who == "trader"
    assert intent.seq < event.seq and event.who == "venue"
    assert event.data["amend"] == {"from_price": pytest.approx(order.price),
                                   "to_price": pytest.approx(new_price),
                                   "from_amount": 1.0, "to_amount": 2.0}
    assert (event.price, event.amount) == (pytest.approx(new_price), 2.0)
    assert event.client_order_id == order.client_order_id
    # and the journal's order story keeps the original intent too
    chain = desk.journal.why(order.client_order_id)
    assert [r.price for r in chain if r.kind == "order"][0] == pytest.approx(order.price)


async def test_a_fill_after_an_amend_is_journaled_against_the_amended_order(tmp_path):
    rt, desk, order, new_price = await amended(tmp_path)
    snap = rt.store.snapshot()
    ask = round(new_price - 0.5, 2)  # the ask comes down through the amended bid
    rt.broker.on_book(Book(ETH, snap.ts_ms, np.array([[ask - 0.01, 100.0]]),
                           np.array([[ask, 100.0]]), snap.books[ETH].seq + 1))
    desk.sync_account()
    fills = [r for r in desk.journal.records(kinds=["fill"])
             if r.client_order_id == order.client_order_id]
    assert sum(r.amount for r in fills) == pytest.approx(2.0)  # the amended total
    assert all(r.price == pytest.approx(new_price) for r in fills)


async def test_cockpit_journal_prints_the_order_as_it_now_rests(tmp_path, capsys):
    rt, desk, order, new_price = await amended(tmp_path)
    path = desk.journal.path
    assert isinstance(desk.journal, Journal) and path is not None
    rt.broker.close()
    desk.journal.close()
    assert journal_cmd.run(["--account", str(path), "--kind", "order"]) == 0
    out = capsys.readouterr().out.splitlines()
    amend_line = next(line for line in out if " amended buy " in line)
    assert f"ETH/USDT:USDT buy 2 @ {new_price:,.2f}" in amend_line
    assert journal_cmd.run(["why", order.client_order_id, "--account", str(path)]) == 0
    why = capsys.readouterr().out
    assert f"buy 2 @ {new_price:,.2f}  open  (was 1 @ {order.price:,.10g})" in why
