"""The demo cockpit at 120x36 (and 160x48), read off the screen as the compositor
draws it: every instrument named in full, the Greeks' Σ lines, the margin panel's
account table on unwrapped lines, the suggestions' key columns, and a status bar
that keeps the trading state and the clock with breakers listed."""

from __future__ import annotations

import re

import pytest

from cockpit.risk_gate import TradingState
from tests.tui.conftest import make_app, settle
from widgets.greeks import GreeksPanel
from widgets.margin import MarginPanel
from widgets.positions import PositionsPanel
from widgets.status import StatusBar
from widgets.suggestions import SuggestionsPanel

SMALL, LARGE = (120, 36), (160, 48)
# the demo book (tests/tui/conftest.py start time), named by hand
DEMO_NAMES = {
    "BTC/USDT:USDT": "BTC/USDT perp",
    "ETH/USDT:USDT": "ETH/USDT perp",
    "BTC/USD:BTC-261225-102000-C": "BTC 25DEC 102k C",
    "BTC/USD:BTC-261225-78000-P": "BTC 25DEC 78k P",
    "BTC/USD:BTC-270326-100000-C": "BTC 26MAR 100k C",
}
GREEKS = ("Δ coin", "Δ $", "Γ coin/$", "Γ P&L 1%", "Vega coin", "Vega $", "Θ coin/d", "Θ $/d")
CLOCK = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")


def screen_lines(app) -> list[str]:
    """The screen's text, line by line, as the compositor renders it."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def panel_lines(app, widget) -> list[str]:
    """What is on screen inside ``widget``'s border (its content region)."""
    r = widget.content_region
    return [line[r.x:r.right] for line in screen_lines(app)[r.y:r.bottom]]


def cell(header_line: str, row: str, header: str) -> str:
    """The right-aligned number under ``header``: it ends where the header ends."""
    end = header_line.index(header) + len(header)
    return row[:end].split()[-1]


def number(text: str) -> float:
    return float(text.replace(",", "").replace("$", ""))


async def _demo(pilot, app):
    await settle(app, pilot)
    # the demo market must still hold the book the names above were written for
    assert {p.symbol for p in app.store.snapshot().account.positions} == set(DEMO_NAMES)


async def test_at_120x36_every_panel_names_its_instruments_in_full():
    app = make_app(quick_first_run=False)
    async with app.run_test(size=SMALL) as pilot:
        await _demo(pilot, app)
        screen = "\n".join(screen_lines(app))
        assert not re.search(r"\b(nan|inf)\b", screen, re.IGNORECASE)
        assert not re.search(r"(BTC|ETH)[^ ]*…", screen), "an instrument name was cut"
        margin = "\n".join(panel_lines(app, app.main.query_one(MarginPanel)))
        positions = "\n".join(panel_lines(app, app.main.query_one(PositionsPanel)))
        for name in DEMO_NAMES.values():
            assert name in margin
        # the positions panel is five lines high: the first four positions show whole
        shown = [n for n in DEMO_NAMES.values() if n in positions]
        assert len(shown) >= 4
        assert "Depth BTC/USDT perp" in screen


async def test_at_120x36_the_greeks_totals_are_on_screen_and_add_up():
    app = make_app(quick_first_run=False)
    async with app.run_test(size=SMALL) as pilot:
        await _demo(pilot, app)
        panel = app.main.query_one(GreeksPanel)
        lines = panel_lines(app, panel)
        header = next((ln for ln in lines if "Instrument" in ln), "")
        assert "Δ $" in header, "the Greeks table's header is not on screen"
        totals = {ln.split()[1]: ln for ln in lines if ln.startswith("Σ ")}
        assert set(totals) == {"BTC", "ETH"}
        view = panel.view
        for und, line in totals.items():
            parts = [r.delta_usd for r in view.rows + view.totals
                     if r.underlying == und and not r.is_total]
            # each part is printed to the dollar: the total is their sum within that rounding
            assert number(cell(header, line, "Δ $")) == pytest.approx(sum(parts),
                                                                        abs=len(parts))
        # no row wraps: each Σ line holds a number under every Greek the header shows
        shown = [h for h in GREEKS if h in header]
        assert {"Δ coin", "Δ $", "Γ P&L 1%", "Vega $", "Θ $/d"} <= set(shown)
        for line in totals.values():
            assert len(line.split()[3:]) == len(shown)


async def test_at_120x36_the_margin_account_table_sits_beside_the_summary_unwrapped():
    app = make_app(quick_first_run=False)
    async with app.run_test(size=SMALL) as pilot:
        await _demo(pilot, app)
        lines = panel_lines(app, app.main.query_one(MarginPanel))
        assert "Equity" in lines[0] and "Account liq" in lines[0]
        assert "↓ at" in lines[0] and "↑ at" in lines[0]
        (joint,) = [ln for ln in lines if "all together" in ln]
        # the whole account's liquidation both ways, on its one line
        assert re.search(r"×0\.\d{3} .*×\d\.\d{3}", joint)
        assert any(ln.lstrip().startswith("Margin ratio") and "amber" in ln for ln in lines)


async def _suggestion_columns(size) -> tuple[list[str], list[str]]:
    app = make_app(quick_first_run=False)
    async with app.run_test(size=size) as pilot:
        await _demo(pilot, app)
        panel = app.main.query_one(SuggestionsPanel)
        table_rows = panel_lines(app, panel.table)
        headers = [str(c.label) for c in panel.table.columns.values()]
        return headers, table_rows


async def test_suggestions_keep_their_key_columns_and_drop_the_least_useful_first():
    small, rows = await _suggestion_columns(SMALL)
    for key in ("Instrument", "Now → Target", "Orders"):
        assert key in small and key in rows[0]
    assert all("…" not in ln for ln in rows)  # nothing shown is cut
    names = {n for n in DEMO_NAMES.values() if any(n in ln for ln in rows)}
    assert names, "no suggestion shows its instrument"
    large, _ = await _suggestion_columns(LARGE)
    assert set(small) <= set(large)
    # the reason is in full in the why line under the table: its column goes first
    assert "Reason" not in large and "MR→" in large


async def test_at_120_columns_the_status_bar_keeps_state_and_clock_with_breakers_listed():
    app = make_app(quick_first_run=False)
    breakers = ("stale data 12.3s > 10s", "vol spike 2.4x (12 vs 168 bars)",
                "vol spike 2.9x (12 vs 168 bars)")
    app._breakers = lambda: breakers  # as the policy would report them
    async with app.run_test(size=SMALL) as pilot:
        await settle(app, pilot)
        app.desk.lower_state(TradingState.REDUCING,
                             "margin ratio 81.2% ≥ 80% ([display] margin_red)")
        app.repaint_all()
        await pilot.pause()
        (line,) = panel_lines(app, app.main.query_one(StatusBar))
        assert "REDUCING" in line and CLOCK.search(line)
        assert "breakers stale data 12.3s > 10s" in line  # cut at the end, not dropped
        assert line.rstrip().endswith("UTC")
