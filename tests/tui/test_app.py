"""The cockpit driven headless on the built-in market: what the trader sees and
what one key does. Expected numbers come from the paper broker and ``sizing``,
not constants."""

import math

from cockpit.model import OrderRequest
from tests.tui.conftest import make_app, settle, step
from widgets.greeks import GreeksPanel
from widgets.margin import MarginPanel
from widgets.positions import PositionsPanel
from widgets.suggestions import SuggestionsPanel

SIZE = (160, 48)


def _table_text(panel) -> str:
    table = panel.table
    return "\n".join(
        " ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)
    )


async def test_panels_show_the_paper_accounts_real_numbers(demo_app):
    app = demo_app
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        acct = app.runtime.broker.account()
        margin = app.main.query_one(MarginPanel)
        assert margin.view.equity_usd == acct.equity_usd
        assert margin.view.maintenance_margin_usd == acct.maintenance_margin_usd
        assert math.isclose(margin.view.margin_ratio, acct.maintenance_margin_usd / acct.equity_usd)
        greeks = app.main.query_one(GreeksPanel).view
        symbols = {r.symbol for r in greeks.rows}
        assert symbols == {p.symbol for p in acct.positions}
        # a linear perp's delta is its size in coin, and in USD at the underlying
        btc = next(r for r in greeks.rows if r.symbol == "BTC/USDT:USDT")
        pos = acct.position("BTC/USDT:USDT")
        assert btc.delta_coin == pos.contracts
        positions = app.main.query_one(PositionsPanel).view
        assert {r.symbol for r in positions.positions} == symbols


async def test_suggestion_appears_and_a_approves_it_and_the_position_changes(demo_app):
    app = demo_app
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        panel = app.main.query_one(SuggestionsPanel)
        assert panel.view.rows, "the demo book must give the engine a resize to propose"
        row = panel.selected()
        assert row is not None and not row.stale
        before = app.runtime.broker.account().position(row.symbol).contracts
        panel.table.focus()
        while app.desk.book.get(row.id).style != "market":  # the option would rest passively
            await pilot.press("s")
        await pilot.press("a")
        await settle(app, pilot)
        after_pos = app.runtime.broker.account().position(row.symbol)
        after = after_pos.contracts if after_pos else 0.0
        assert after != before
        # the move is toward the target, by the planned amount
        assert abs(after - row.target) < abs(before - row.target)
        assert any("approved" in e.text for e in app.desk.log)


async def test_x_rejects_and_removes_the_suggestion(demo_app):
    app = demo_app
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        panel = app.main.query_one(SuggestionsPanel)
        row = panel.selected()
        n = len(panel.view.rows)
        await pilot.press("x")
        await pilot.pause()
        app.repaint_all()
        await pilot.pause()
        assert row.id not in {r.id for r in panel.view.rows}
        assert len(panel.view.rows) == n - 1
        # a fresh run does not bring it straight back
        app.kick_engine("test")
        await settle(app, pilot)
        assert row.symbol not in {r.symbol for r in panel.view.rows}


async def test_stale_suggestion_refuses_approval(demo_app):
    app = demo_app
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        panel = app.main.query_one(SuggestionsPanel)
        row = panel.selected()
        before = app.runtime.broker.account().position(row.symbol).contracts
        # let the data clock run past the suggestion's age limit, without a new run
        max_age = app.config.engine.suggestion_max_age_s
        market = app.runtime.feed.market
        ticks = int((max_age + 5) * market.tick_hz / market.acceleration) + 1
        step(app.runtime, ticks)
        app.repaint_all()
        await pilot.pause()
        row = panel.selected()
        assert row.stale
        await pilot.press("a")
        await settle(app, pilot)
        assert app.runtime.broker.account().position(row.symbol).contracts == before
        assert any("cannot approve" in e.text for e in app.desk.log)


async def test_kill_switch_cancels_orders_and_stops_auto_execute(demo_app):
    app = demo_app
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        broker = app.runtime.broker
        bid = app.store.snapshot().books["BTC/USDT:USDT"].best_bid
        await broker.create_order(OrderRequest("BTC/USDT:USDT", "buy", "limit", 0.01,
                                               price=round(bid * 0.9, 1)))
        assert len(await broker.fetch_open_orders()) == 1
        app.desk.auto_execute = True
        await pilot.press("k")
        await pilot.pause()
        await pilot.press("y")  # confirm (Enter would answer No: the safe default)
        await settle(app, pilot)
        assert await broker.fetch_open_orders() == []
        assert app.desk.auto_execute is False
        assert app.desk.state.value == "reducing"


async def test_auto_execute_sends_only_risk_reducing_orders():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        before = {p.symbol: p.contracts for p in app.runtime.broker.account().positions}
        reducing = {s.symbol for s in app.desk.book if s.reduces_risk}
        increasing = {s.symbol for s in app.desk.book if not s.reduces_risk}
        await pilot.press("A")
        await pilot.pause()
        await pilot.press("y")  # confirm the first switch-on
        await settle(app, pilot)
        assert app.desk.auto_execute
        after = {p.symbol: p.contracts for p in app.runtime.broker.account().positions}
        changed = {s for s in before if after.get(s, 0.0) != before[s]}
        assert changed, "the demo's risk-reducing suggestions were sent"
        assert changed <= reducing
        assert not (changed & increasing)
        for sym in changed:  # every automatic order reduced the position's size
            assert abs(after.get(sym, 0.0)) < abs(before[sym])
        assert any(e.kind == "auto" for e in app.desk.log)


async def test_engine_failure_is_shown_and_old_suggestions_go_stale(demo_app):
    app = demo_app
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        panel = app.main.query_one(SuggestionsPanel)
        assert panel.view.rows and not any(r.stale for r in panel.view.rows)

        def broken(snapshot):
            raise ValueError("forecast cache corrupted")

        app.runner.forecasts = broken  # a failure inside the run, caught by the runner
        app.kick_engine("test")
        await settle(app, pilot)
        rows = panel.view.rows
        assert rows and all(r.stale for r in rows)
        assert all("engine run failed" in r.stale_reason for r in rows)
        assert any(e.kind == "error" and "forecast cache corrupted" in e.text
                   for e in app.desk.log)
        # and a stale suggestion cannot be approved
        before = app.runtime.broker.account().position(rows[0].symbol).contracts
        await pilot.press("a")
        await settle(app, pilot)
        assert app.runtime.broker.account().position(rows[0].symbol).contracts == before


async def test_keymap_from_config_remaps_a_binding():
    from cockpit.config import Config

    app = make_app(Config(keymap={"reject": "d"}))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        panel = app.main.query_one(SuggestionsPanel)
        row = panel.selected()
        await pilot.press("d")
        await pilot.pause()
        app.repaint_all()
        await pilot.pause()
        assert row.id not in {r.id for r in panel.view.rows}
        assert any(e.kind == "rejection" for e in app.desk.log)


async def test_R_approves_every_fresh_risk_reducing_suggestion(demo_app):
    app = demo_app
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        reducing = {s.symbol: s.decision.target for s in app.desk.book if s.reduces_risk}
        passive = {s.symbol for s in app.desk.book if s.style == "passive"}
        assert reducing
        before = {p.symbol: p.contracts for p in app.runtime.broker.account().positions}
        await pilot.press("R")
        await settle(app, pilot)
        after = {p.symbol: p.contracts for p in app.runtime.broker.account().positions}
        resting = {o.symbol: o for o in app.runtime.broker.account().open_orders}
        for sym, target in reducing.items():  # each position moved to (or toward) its target
            if sym in passive:  # an option cut rests at its mark instead of paying the spread
                assert resting[sym].reduce_only and after[sym] == before[sym]
                continue
            assert abs(after.get(sym, 0.0)) < abs(before[sym])
            assert abs(after.get(sym, 0.0) - target) < abs(before[sym] - target)
        assert sum(e.kind == "approval" and e.text.startswith("approved") for e in app.desk.log) \
            == len(reducing)


async def test_command_palette_selects_an_instrument_for_depth_and_volatility(demo_app):
    app = demo_app
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        assert "Instrument: ETH/USDT:USDT" in commands
        assert any(t.startswith("Mode: DEMO") for t in commands)
        commands["Instrument: ETH/USDT:USDT"].callback()
        await pilot.pause()
        app.repaint_all()
        await pilot.pause()
        from widgets.depth import DepthPanel
        from widgets.volatility import VolatilityPanel

        assert app.main.query_one(DepthPanel).view.symbol == "ETH/USDT:USDT"
        assert app.main.query_one(VolatilityPanel).view.underlying == "ETH"


async def test_an_engine_run_never_moves_the_selection_and_the_ticket_follows_the_trader(
        demo_app):
    """The trader selects ETH; engine runs re-order the suggestions (whose top row is
    another instrument) and must not move the depth panel or the ticket off ETH."""
    from widgets.depth import DepthPanel
    from widgets.messages import InstrumentSelected
    from widgets.order_entry import OrderTicket

    app = demo_app
    eth = "ETH/USDT:USDT"
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.post_message(InstrumentSelected(eth))
        await pilot.pause()
        app.main.query_one(SuggestionsPanel).table.focus()  # even with the cursor there
        await pilot.pause()
        tops = set()
        for _ in range(4):
            step(app.runtime, 5)
            app.kick_engine("test")
            await settle(app, pilot)
            rows = app.main.query_one(SuggestionsPanel).view.rows
            tops.add(rows[0].symbol if rows else None)
            assert app.selected == eth
            assert app.main.query_one(DepthPanel).view.symbol == eth
        assert tops - {eth}, "the test needs a top suggestion on another instrument"
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, OrderTicket) and app.screen.symbol == eth
        # the trader's own move onto a suggestion row does select its instrument
        await pilot.press("escape")
        await pilot.pause()
        table = app.main.query_one(SuggestionsPanel).table
        table.focus()
        await pilot.press("down")
        await pilot.pause()
        row = app.main.query_one(SuggestionsPanel).selected()
        assert row is not None and app.selected == row.symbol


async def test_an_engine_failing_from_the_start_says_so_instead_of_inside_its_limits():
    """No suggestion because the engine fails is not "every position is inside its
    limits": the panel names the failure."""
    app = make_app(quick_first_run=False)

    def broken(snapshot):
        raise ValueError("forecast cache corrupted")

    app.runner.forecasts = broken
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        panel = app.main.query_one(SuggestionsPanel)
        assert not panel.view.rows
        assert panel.view.empty_reason.startswith("engine failing: ValueError: forecast cache")
        assert "inside its limits" not in panel.view.empty_reason


async def test_an_unexpected_error_in_the_app_ends_it_with_one_line_not_a_traceback(capfd):
    """Outside --debug the trader sees one line naming the error and the log; the
    traceback goes to the log file only, and a secret in the message is redacted."""
    from functools import partial
    from pathlib import Path

    import pytest

    from cockpit.cli import _crash_line
    from cockpit.keys import install_redaction

    install_redaction(["s3cr3t-key-123"])
    app = make_app()
    app.crash_line = partial(_crash_line, where=Path("/logs/cockpit.log"))

    def boom():
        raise ValueError("venue said no for s3cr3t-key-123")

    with pytest.raises(ValueError):  # the test harness re-raises what ended the app
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            app.call_later(boom)
            await pilot.pause()
            await pilot.pause()
    out = capfd.readouterr()
    text = " ".join((out.out + out.err).split())
    assert app.return_code == 1
    assert "cockpit: unexpected error ValueError: venue said no for" in text
    assert "details in /logs/cockpit.log; run with --debug for the traceback" in text
    assert "Traceback" not in text and "s3cr3t-key-123" not in text


async def test_the_margin_panel_keeps_up_when_its_liquidation_levels_are_due_every_frame():
    """The levels' solve runs a frame ahead of the margin panel; a market so fast that
    the solve is due again every frame (as at --acceleration 3600) must still see the
    panel shown with the latest account, not deferred for ever."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.main.liquidation_levels.refresh_ms = -1  # due on every call
        margin = app.main.query_one(MarginPanel)
        shown, equities = [], []
        for _ in range(24):  # enough frames for the rotation to reach the margin panel often
            step(app.runtime)
            equities.append(app.store.snapshot().account.equity_usd)
            app.repaint()
            await pilot.pause(0.06)  # the account panel is shown half a frame later
            shown.append(margin.view.equity_usd)
        assert len(set(shown)) >= 3, "the margin panel stopped updating"
        assert shown[-1] in equities[-8:], "the panel fell behind the account"
