"""The order ticket: the trader's own order, reviewed, then sent through the same
gate as the engine's; a bad field or an order below the venue's minimum is one
line and nothing is sent."""

from cockpit.model import OrderRequest
from tests.tui.conftest import make_app, settle
from widgets.order_entry import OrderTicket, parse_ticket

SIZE = (160, 48)
BTC = "BTC/USDT:USDT"


def test_parse_ticket_names_the_bad_field():
    assert parse_ticket(BTC, "buy", "market", "0.5", "", False) == OrderRequest(
        BTC, "buy", "market", 0.5, None)
    assert parse_ticket(BTC, "sell", "limit", "1", "91,000.5", True) == OrderRequest(
        BTC, "sell", "limit", 1.0, 91000.5, reduce_only=True)
    assert parse_ticket(BTC, "buy", "market", "abc", "", False).startswith("amount:")
    assert parse_ticket(BTC, "buy", "market", "-1", "", False).startswith("amount:")
    assert parse_ticket(BTC, "buy", "market", "nan", "", False).startswith("amount:")
    assert parse_ticket(BTC, "buy", "limit", "1", "", False).startswith("price:")


async def _ticket(app, pilot, amount: str):
    app.selected = BTC
    await pilot.press("o")
    await pilot.pause()
    assert isinstance(app.screen, OrderTicket)
    await pilot.press(*amount)
    await pilot.press("enter")  # review
    await pilot.pause()


async def test_ticket_buys_after_review_and_the_position_grows():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        before = app.runtime.broker.account().position(BTC).contracts
        await _ticket(app, pilot, "0.25")
        await pilot.press("y")  # the review's Send
        await settle(app, pilot)
        after = app.runtime.broker.account().position(BTC).contracts
        assert abs(after - (before + 0.25)) < 1e-9
        assert any(e.kind == "fill" and BTC in e.text for e in app.desk.log)


async def test_ticket_below_the_minimum_is_refused_in_one_line():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        before = app.runtime.broker.account().position(BTC).contracts
        await _ticket(app, pilot, "0.0001")
        await pilot.press("y")
        await settle(app, pilot)
        assert app.runtime.broker.account().position(BTC).contracts == before
        errors = [e.text for e in app.desk.log if e.kind == "error"]
        assert errors and "minimum" in errors[-1] and "\n" not in errors[-1]


async def test_kill_switch_refuses_a_ticket_that_is_not_reduce_only():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await app.desk.kill()
        before = app.runtime.broker.account().position(BTC).contracts
        await _ticket(app, pilot, "0.25")  # a buy adds to the BTC long: not reducing
        await pilot.press("y")
        await settle(app, pilot)
        assert app.runtime.broker.account().position(BTC).contracts == before
        refusals = [e.text for e in app.desk.log if e.kind == "refusal"]
        assert refusals and "REDUCING" in refusals[-1] and "trading state" in refusals[-1]


async def test_escape_cancels_the_ticket_and_nothing_is_sent():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        n = len(app.runtime.broker.account().fills)
        app.selected = BTC
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, OrderTicket)
        assert len(app.runtime.broker.account().fills) == n
