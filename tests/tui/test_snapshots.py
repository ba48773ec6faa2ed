"""Screen snapshots: the main screen and the help screen in each theme.

Fixed seed and start time, the clock and the engine's timer frozen, so the
same code draws the same screen. Regenerate after an intended change with
``pytest tests/tui/test_snapshots.py --snapshot-update`` and review the SVGs.
"""

import pytest

from tests.tui.conftest import make_app, settle

THEMES = ("dark", "light", "high-contrast")


def _frozen_app(theme):
    # one engine run (with GARCH), not the quick EWMA run and its follow-up, whose
    # interleaving with the repaint timer is not the same from run to run
    return make_app(theme=theme, monotonic=lambda: 1000.0, engine_timer=lambda: 0.0,
                    quick_first_run=False)


@pytest.mark.parametrize("theme", THEMES)
def test_main_screen(snap_compare, theme):
    """You should see every panel filled from the demo account: margin health with
    the gauge, Greeks per position and per underlying, the positions, three risk-
    reducing suggestions with the first one's reason spelled out, the ladder of the
    selected suggestion's instrument, the volatility panel and the event log."""
    app = _frozen_app(theme)

    async def run_before(pilot):
        await settle(app, pilot)

    assert snap_compare(app, terminal_size=(160, 48), run_before=run_before)


@pytest.mark.parametrize("theme", THEMES)
def test_help_screen(snap_compare, theme):
    """You should see the help screen listing every key: approve, reject, approve
    reducing, auto-execute, kill switch, help, quit and the command palette."""
    app = _frozen_app(theme)

    async def run_before(pilot):
        await settle(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(160, 48), run_before=run_before)


def test_main_screen_at_120x36(snap_compare):
    """You should see every panel readable on a 120x36 terminal: instrument names whole
    ("BTC 25DEC 102k C", "BTC/USDT perp"), the Greeks' Σ BTC and Σ ETH lines under the
    header, the margin account table beside the summary on unwrapped lines, the
    suggestions' instrument, change and orders columns, and the status bar's clock."""
    app = _frozen_app("dark")

    async def run_before(pilot):
        await settle(app, pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)
