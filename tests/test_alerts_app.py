"""Alerts in the running demo cockpit (Pilot): a trading-state change and a margin
crossing show as notifications once; with ``[alerts] webhook_url`` set they reach a
receiver on 127.0.0.1, and a failing webhook is shown once on screen."""

import asyncio

from aiohttp import web
from textual.widgets._toast import Toast

from cockpit.config import AlertsConfig, Config, DisplayConfig
from cockpit.risk_gate import TradingState
from tests.tui.conftest import make_app, settle

SIZE = (160, 48)


def notes(app, title="Alert"):
    return [n for n in app._notifications if n.title == title]


def toasts(app) -> str:
    return "\n".join(str(t.render()) for t in app.screen.query(Toast))


async def test_a_trading_state_change_is_a_notification_seen_once():
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        before = len(notes(app))
        app.desk.lower_state(TradingState.HALTED, "halted by the trader", who="trader")
        await pilot.pause()
        app.repaint()
        app.repaint()  # a second repaint of the same state is no second alert
        await pilot.pause()
        new = notes(app)[before:]
        assert [(n.severity, n.message.split(" at ")[0]) for n in new] == [
            ("error", "trading state HALTED (was ACTIVE): halted by the trader")]
        await pilot.pause()
        assert "trading state HALTED" in toasts(app)


async def test_a_margin_ratio_past_red_alerts_amber_and_red_once_each():
    # thresholds below the demo account's own margin ratio: crossed at the first paint
    app = make_app(Config(display=DisplayConfig(margin_amber=0.001, margin_red=0.002)))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        for _ in range(3):
            app.repaint_all()
            await pilot.pause()
        ratio = app.store.snapshot().account.margin_ratio
        assert ratio > 0.002
        margin = [n for n in notes(app) if n.message.startswith("margin ratio")]
        assert [(n.severity, n.message.split(" at ")[0]) for n in margin] == [
            ("warning", f"margin ratio {ratio:.1%} crossed AMBER (0%)"),
            ("error", f"margin ratio {ratio:.1%} crossed RED (0%)")]
        # the desk moved the state down for the same cause: said once too
        states = [n for n in notes(app) if n.message.startswith("trading state")]
        assert len(states) == 1 and "REDUCING" in states[0].message


async def _receiver(status):
    got: list[dict] = []

    async def handle(request):
        got.append(await request.json())
        return web.Response(status=status[0])

    app = web.Application()
    app.router.add_post("/hook/s3cr3t-path", handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}/hook/s3cr3t-path", got


async def _until(pilot, cond):
    for _ in range(400):  # a guard, not a timing
        if cond():
            return
        await pilot.pause(0.01)
    raise AssertionError("never happened")


async def test_the_webhook_gets_the_chosen_events_and_a_failure_shows_once():
    status = [200]
    runner, url, got = await _receiver(status)
    try:
        cfg = Config(alerts=AlertsConfig(webhook_url=url, events=("trading_state",),
                                         timeout_s=2))
        app = make_app(cfg)
        app.alerts.poster.backoff_s = 0.01
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settle(app, pilot)
            app.desk.lower_state(TradingState.REDUCING, "kill switch", who="kill")
            app.repaint()
            await _until(pilot, lambda: len(got) == 1)
            assert got[0]["kind"] == "trading_state" and got[0]["severity"] == "warning"
            assert got[0]["text"].startswith("trading state REDUCING (was ACTIVE): kill switch")
            status[0] = 503
            app.desk.lower_state(TradingState.HALTED, "halted by the trader", who="trader")
            app.repaint()
            await _until(pilot, lambda: app.alerts.poster.failing)
            failing = notes(app, "Alerts webhook")
            assert len(failing) == 1 and failing[0].severity == "warning"
            assert failing[0].message.startswith("alerts webhook failing: HTTP 503 from "
                                                 "http://127.0.0.1:")
            assert "s3cr3t" not in failing[0].message
            assert len(got) == 5  # the HALTED alert: one try and three retries (503)
    finally:
        await runner.cleanup()
    await asyncio.sleep(0)


async def test_an_execution_ending_in_the_desks_journal_is_a_notification():
    """The desk's executor journals an execution's end through ``desk.note`` (kind
    "execution"); the app's event-log hook turns it into an alert."""
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        app.desk.note("execution", "execution given up: passive sell 0.5/2 "
                      "BTC/USD:BTC-261225-100000-C, avg 0.0235 — given up: timeout", who="key")
        app.desk.note("execution", "execution started: twap buy 1 BTC/USDT:USDT", who="key")
        await pilot.pause()
        (n,) = [n for n in notes(app) if "execution" in n.message]
        assert n.severity == "error"
        assert n.message.startswith("execution given up: passive sell 0.5/2 "
                                    "BTC 25DEC 100k C")


async def test_the_kill_switch_says_it_once_on_screen_and_the_webhook_still_hears_it():
    """The kill's own notice names the state and the cancels; the trading-state alert
    it causes is not a second toast, but it is posted."""
    runner, url, got = await _receiver([200])
    try:
        cfg = Config(alerts=AlertsConfig(webhook_url=url, events=("trading_state",),
                                         timeout_s=2))
        app = make_app(cfg)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settle(app, pilot)
            await pilot.press("k")
            await pilot.pause()
            await pilot.press("y")
            await _until(pilot, lambda: app.desk.state.value == "reducing")
            for _ in range(5):
                app.repaint()
                await pilot.pause(0.02)
            await _until(pilot, lambda: len(got) == 1)
            shown = [n.message for n in app._notifications]
            assert len(notes(app, "Kill switch")) == 1
            assert not any(m.startswith("trading state REDUCING") for m in shown), shown
            assert got[0]["text"].startswith("trading state REDUCING (was ACTIVE): kill switch")
            # a later state change the trader did not just see is shown again
            app.alerts._told.clear()
            app.desk.lower_state(TradingState.HALTED, "halted by the trader", who="trader")
            app.repaint()
            await _until(pilot, lambda: any(n.message.startswith("trading state HALTED")
                                            for n in app._notifications))
    finally:
        await runner.cleanup()
