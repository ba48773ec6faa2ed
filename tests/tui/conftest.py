"""A deterministic demo cockpit for Pilot tests: fixed seed and start time, in-memory
paper account, no real-time feed (tests step the market themselves)."""

import pytest

from cockpit.app import CockpitApp
from cockpit.config import Config
from cockpit.runtime import build_demo
from cockpit.venues.sim import dispatch

START_MS = 1_795_435_200_000  # 2026-11-23 12:00:00 UTC


def step(runtime, n=1):
    market = runtime.feed.market
    for _ in range(n):
        dispatch(runtime.store, market.step())


def make_app(config=None, **kw):
    runtime = build_demo(config or Config(), seed=7, start_ms=START_MS, state_path=None)
    kw.setdefault("start_feed", False)
    kw.setdefault("engine_interval_s", 3600.0)  # runs only when the test asks
    kw.setdefault("remember_theme", False)
    kw.setdefault("forecast_process", False)  # one child per test app is slow; tested on its own
    return CockpitApp(runtime, **kw)


async def settle(app, pilot):
    """Let the engine thread finish and its message be handled, then repaint."""
    for _ in range(50):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not app._engine_busy and not app._engine_pending:
            break
    app.repaint_all()
    await pilot.pause()


@pytest.fixture
def demo_app():
    return make_app()
