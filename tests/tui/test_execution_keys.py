"""Execution keys on the demo: ``s`` switches the selected suggestion's style before
approving, the table shows the style and why, and ``c`` on the orders table cancels
a resting order (the whole execution when it is one of its children)."""

from tests.tui.conftest import make_app, settle
from widgets.positions import PositionsPanel
from widgets.suggestions import SuggestionsPanel

SIZE = (160, 48)


async def test_s_switches_the_selected_suggestions_style_before_it_is_approved():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        panel = app.main.query_one(SuggestionsPanel)
        panel.table.focus()
        row = panel.selected()
        assert row.style == "passive" and "spread" in row.style_why  # the demo's short call
        assert str(panel.table.get_row_at(0)[3]).startswith("passive buy")
        why = str(panel.query_one("#suggestions-why").render())
        assert "passive: spread" in why and "expected slippage" in why
        seen = []
        for _ in range(3):
            await pilot.press("s")
            await pilot.pause()
            seen.append(panel.selected().style)
        assert seen == ["twap", "ladder", "market"]
        assert app.desk.book.get(row.id).style == "market"
        before = app.runtime.broker.account().position(row.symbol).contracts
        await pilot.press("a")
        await settle(app, pilot)
        after = app.runtime.broker.account().position(row.symbol).contracts
        assert abs(after - row.target) < abs(before - row.target)  # crossed at market
        ex = app.desk.executor.executions[row.id]
        assert ex.style == "market" and ex.state == "done"


async def test_c_on_the_orders_table_cancels_the_resting_execution():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        panel = app.main.query_one(SuggestionsPanel)
        panel.table.focus()
        row = panel.selected()
        await pilot.press("a")  # passive: a limit rests at the mark
        await settle(app, pilot)
        assert len(app.runtime.broker.account().open_orders) == 1
        exec_line = str(panel.query_one("#suggestions-working").render())
        planned = abs(row.target - app.runtime.broker.account().position(row.symbol).contracts)
        assert f"passive buy 0/{planned:.2g}" in exec_line and "working" in exec_line
        await pilot.press("c")  # the orders table has no focus: nothing is cancelled
        await settle(app, pilot)
        assert len(app.runtime.broker.account().open_orders) == 1
        orders = app.main.query_one(PositionsPanel).query_one("#orders-table")
        orders.focus()
        await pilot.pause()
        await pilot.press("c")
        await settle(app, pilot)
        assert app.runtime.broker.account().open_orders == ()
        ex = app.desk.executor.executions[row.id]
        assert ex.state == "cancelled" and "trader" in ex.note
        assert app.desk.journal.records(kinds=["cancel"])


async def test_e_on_the_orders_table_amends_the_resting_limit():
    """A limit rests (the ticket); `e` on its row opens the amend screen prefilled;
    a new price typed in and Enter: the same order rests at the new price."""
    from textual.widgets import Input

    from cockpit.model import OrderRequest
    from widgets.amend import AmendScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await app.desk.reconcile()
        eth = "ETH/USDT:USDT"
        price = round(app.store.snapshot().books[eth].best_bid * 0.99, 2)
        report = await app.desk.send_ticket(OrderRequest(eth, "buy", "limit", 1.0, price=price))
        (order,) = report.orders
        await settle(app, pilot)
        orders = app.main.query_one(PositionsPanel).query_one("#orders-table")
        orders.focus()
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, AmendScreen)
        field = app.screen.query_one("#amend-price", Input)
        assert float(field.value) == order.price  # prefilled with what rests
        new = round(price * 0.995, 2)
        field.value = f"{new:,}"  # thousands separators are accepted
        await pilot.press("enter")
        await settle(app, pilot)
        await app.workers.wait_for_complete()
        await pilot.pause()
        (now,) = app.runtime.broker.account().open_orders
        assert now.id == order.id and now.price == new
