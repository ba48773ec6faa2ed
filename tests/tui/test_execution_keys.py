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
        assert str(panel.table.get_row_at(0)[3]).startswith("passive: buy")
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
