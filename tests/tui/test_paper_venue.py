"""`cockpit --venue deribit --paper` with no network: the cockpit starts, shows the
venue as disconnected and retrying (no traceback), and still answers keys.
The venue's URLs point at a closed port on 127.0.0.1, so nothing leaves the machine."""

import argparse
import socket

from cockpit.app import CockpitApp
from cockpit.config import Config, VenueConfig
from cockpit.runtime import build_runtime
from widgets.status import StatusBar


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the socket is


async def test_paper_on_unreachable_venue_shows_retrying_and_stays_responsive(tmp_path):
    port = _closed_port()
    config = Config(venues={"deribit": VenueConfig(
        symbols=("BTC/USD:BTC",), rest_url=f"http://127.0.0.1:{port}",
        ws_url=f"ws://127.0.0.1:{port}/ws/api/v2")})
    args = argparse.Namespace(replay=None, venue="deribit", live=False, paper=True,
                              state=tmp_path / "paper.sqlite", reset=False, speed=1.0)
    runtime = build_runtime(args, config)
    assert runtime.mode == "paper"
    app = CockpitApp(runtime, engine_interval_s=3600.0, remember_theme=False)
    async with app.run_test(size=(160, 48)) as pilot:
        status = None
        for _ in range(300):
            await pilot.pause(0.05)
            venue = app.store.snapshot().venues.get("deribit")
            if venue is not None and venue.retrying:
                status = venue
                break
        assert status is not None and not status.connected
        assert "deribit.com" not in status.message  # it really tried the local URL
        bar = app.main.query_one(StatusBar)
        app.repaint_all()
        await pilot.pause()
        assert bar.view.mode == "paper"
        assert any(v.venue == "deribit" and v.retrying for v in bar.view.venues)
        # the paper account is there, funded, and the keys still work
        assert app.store.snapshot().account.equity_usd == 100_000.0
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "HelpScreen"
        await pilot.press("escape")
