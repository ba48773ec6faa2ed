"""``e`` on the orders table: the ticket opens prefilled with the resting limit in
amend mode; Enter sends the amend and the same order rests at the new price."""

import pytest
from textual.widgets import Input, Select

from tests.tui.conftest import make_app, settle
from widgets.order_entry import OrderTicket
from widgets.positions import PositionsPanel

SIZE = (160, 48)
BTC = "BTC/USDT:USDT"


async def test_e_on_the_orders_table_amends_the_resting_limit_to_the_new_price():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        snap = app.store.snapshot()
        step = snap.instruments[BTC].price_step
        price = round(snap.tickers[BTC].mark * 0.98 / step) * step  # 2 % under: rests
        app.selected = BTC
        await pilot.press("o")
        await pilot.pause()
        ticket = app.screen
        assert isinstance(ticket, OrderTicket)
        ticket.query_one("#ticket-type", Select).value = "limit"
        ticket.query_one("#ticket-price", Input).value = f"{price:.10g}"
        await pilot.press(*"0.1", "enter")  # review
        await pilot.pause()
        await pilot.press("y")  # send
        await settle(app, pilot)
        [order] = app.runtime.broker.account().open_orders
        assert order.price == pytest.approx(price) and order.amount == 0.1

        await pilot.press("e")  # the orders table has no focus: no ticket
        await pilot.pause()
        assert not isinstance(app.screen, OrderTicket)
        app.main.query_one(PositionsPanel).query_one("#orders-table").focus()
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        ticket = app.screen
        assert isinstance(ticket, OrderTicket) and ticket.amend is not None
        assert ticket.query_one("#ticket-side", Select).value == "buy"
        assert float(ticket.query_one("#ticket-amount", Input).value) == 0.1
        assert float(ticket.query_one("#ticket-price", Input).value) == pytest.approx(price)
        new_price = price + 20 * step
        box = ticket.query_one("#ticket-price", Input)
        box.focus()
        box.value = ""
        await pilot.press(*f"{new_price:.10g}", "enter")  # Enter sends the amend
        await settle(app, pilot)
        assert not isinstance(app.screen, OrderTicket)
        [amended] = app.runtime.broker.account().open_orders
        assert (amended.id, amended.client_order_id) == (order.id, order.client_order_id)
        assert amended.price == pytest.approx(new_price) and amended.amount == 0.1
        assert any(e.text.startswith("amended ") for e in app.desk.log)
