"""Each panel mounted in a tiny App: it renders its view, state classes follow
the data, tables update in place with the cursor held on its row key, messages
go up, the themes all parse the stylesheet, and the modal screens answer."""

from __future__ import annotations

import io
from dataclasses import replace

from rich.console import Console
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer

import themes
from cockpit.model.views import (
    DepthView,
    GreeksView,
    LadderLevel,
    LogEntry,
    MarginView,
    PositionRow,
    PositionsView,
    StatusView,
    SuggestionRow,
    SuggestionsView,
    VolView,
)
from cockpit.theming import CSS_PATH, register_themes, theme_variable_defaults
from widgets.confirm import ConfirmScreen
from widgets.depth import DepthPanel
from widgets.event_log import EventLog
from widgets.greeks import GreeksPanel
from widgets.help import HelpScreen
from widgets.margin import MarginPanel
from widgets.messages import (
    InstrumentSelected,
    SuggestionApproved,
    SuggestionRefused,
    SuggestionSelected,
)
from widgets.panel import app_palette
from widgets.positions import PositionsPanel
from widgets.status import StatusBar
from widgets.suggestions import SuggestionsPanel
from widgets.volatility import VolatilityPanel


class PanelsApp(App):
    """You should see every cockpit panel in the layout of themes/cockpit.tcss."""

    CSS_PATH = CSS_PATH
    BINDINGS = [
        Binding("a", "noop", "Approve", id="approve"),
        Binding("x", "noop", "Reject", id="reject"),
        Binding("k", "noop", "Kill switch", id="kill"),
    ]

    def __init__(self) -> None:
        super().__init__()
        register_themes(self)
        self.theme = "cockpit-dark"
        self.messages: list = []

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return theme_variable_defaults()

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield MarginPanel(id="margin")
                yield GreeksPanel(id="greeks")
                yield PositionsPanel(id="positions")
                yield SuggestionsPanel(id="suggestions")
            with Vertical(id="right"):
                yield DepthPanel(id="depth")
                yield VolatilityPanel(id="volatility")
                yield EventLog(id="log")
        yield Footer()

    def action_noop(self) -> None:
        pass

    def on_instrument_selected(self, m: InstrumentSelected) -> None:
        self.messages.append(("instrument", m.symbol))

    def on_suggestion_selected(self, m: SuggestionSelected) -> None:
        self.messages.append(("selected", m.suggestion_id))

    def on_suggestion_approved(self, m: SuggestionApproved) -> None:
        self.messages.append(("approved", m.suggestion_id))

    def on_suggestion_refused(self, m: SuggestionRefused) -> None:
        self.messages.append(("refused", m.suggestion_id, m.reason))


class BareApp(App):
    """An empty screen for the modal screens: they do not need the panels."""

    CSS_PATH = CSS_PATH
    BINDINGS = PanelsApp.BINDINGS

    def __init__(self) -> None:
        super().__init__()
        register_themes(self)
        self.theme = "cockpit-high-contrast"

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return theme_variable_defaults()

    def action_noop(self) -> None:
        pass


def _plain(renderable) -> str:
    console = Console(width=160, color_system=None, file=io.StringIO())
    with console.capture() as cap:
        console.print(renderable)
    return cap.get()


def _pos(symbol, mark=100.0):
    return PositionRow(symbol, "long", 1.0, 100.0, mark, 0.0, 1.0)


async def _positions_abc(app, pilot) -> tuple[PositionsPanel, DataTable]:
    """The positions panel showing A, B and C (mark 100), painted; and its table."""
    panel = app.query_one(PositionsPanel)
    panel.show(PositionsView((_pos("A"), _pos("B"), _pos("C"))))
    await pilot.pause()
    return panel, panel.query_one("#positions-table", DataTable)


def _sugg(sid, stale=False):
    return SuggestionRow(sid, "BTC/USDT:USDT", 2.0, 1.0, "sell 1", "vol_target", 1.0, 0.1, 5.0,
                         "cut", stale=stale, stale_reason="40s old" if stale else "",
                         order_side="sell", order_amount=1.0)


async def test_static_panels_render_views_and_state_classes():
    app = PanelsApp()
    async with app.run_test(size=(160, 48)) as pilot:
        margin = app.query_one(MarginPanel)
        assert "waiting for the first account update" in str(margin.render())
        margin.show(MarginView(1e4, 5e3, 5e3, 9e3, 0.9, 0.5, 0.8, 0.0, None))
        status = app.query_one(StatusBar)
        status.show(StatusView("live", 0))
        greeks = app.query_one(GreeksPanel)
        greeks.show(GreeksView(empty_reason="no options in this account"))
        depth = app.query_one(DepthPanel)
        depth.show(DepthView("BTC/USDT:USDT", bids=(LadderLevel(1.0, 1.0, 1.0),), age_s=30.0,
                             stale=True))
        app.query_one(VolatilityPanel).show(VolView("BTC", empty_reason="no price history"))
        app.query_one(EventLog).add(LogEntry(0, "error", "engine failed"))
        await pilot.pause()
        assert margin.has_class("-breach") and not margin.has_class("-amber")
        assert status.has_class("-live")
        assert depth.has_class("-stale")
        margin.show(MarginView(1e4, 5e3, 5e3, 1e3, 0.1, 0.5, 0.8, 0.0, None))
        status.show(StatusView("demo", 0))
        await pilot.pause()
        assert not margin.has_class("-breach") and not status.has_class("-live")
        # LIVE paints the status bar with the theme's $live colour
        status.show(StatusView("live", 0))
        await pilot.pause()
        live_bg = status.styles.background
        assert live_bg.hex.lower() == app.get_css_variables()["live"].lower()
        # every theme (ours and a built-in one) parses the stylesheet and repaints
        # (cockpit-high-contrast is exercised by BareApp below)
        for theme in ("cockpit-light", "textual-dark"):
            app.theme = theme
            await pilot.pause()
            assert "no options in this account" in _plain(greeks.content)


async def test_positions_update_in_place_and_cursor_stays_on_its_row():
    app = PanelsApp()
    async with app.run_test(size=(160, 48)) as pilot:
        panel, table = await _positions_abc(app, pilot)
        assert table.row_count == 3
        assert not any(m[0] == "instrument" for m in app.messages)  # filling is not selecting
        table.focus()
        table.move_cursor(row=2)  # on C
        await pilot.pause()
        assert ("instrument", "C") in app.messages
        # A closes and B's mark moves: C keeps the cursor, B is updated in place
        panel.show(PositionsView((_pos("B", 101.0), _pos("C"))))
        await pilot.pause()
        assert table.row_count == 2
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        assert key == "C"
        mark_b = table.get_cell("B", "c4")
        assert "101.00" in str(mark_b)
        changed = app_palette(panel)["changed"]
        assert changed in str(mark_b.style)  # the value that moved is highlighted ...
        assert changed not in str(table.get_cell("C", "c4").style)  # ... and only that one
        panel.show(PositionsView((_pos("B", 101.0), _pos("C"))))
        await pilot.pause()
        assert changed not in str(table.get_cell("B", "c4").style)  # next repaint clears it
        # a theme switch recolours the cells in place ("long" is profit-coloured)
        app.theme = "cockpit-light"
        await pilot.pause()
        light_profit = themes.LIGHT["variables"]["profit"]
        assert str(table.get_cell("B", "c1").style) == light_profit
        await pilot.press("up")
        await pilot.pause()
        assert app.messages[-1] == ("instrument", "B")


async def test_a_width_change_rebuilds_the_table_without_moving_the_selection():
    app = PanelsApp()
    async with app.run_test(size=(160, 48)) as pilot:
        panel, table = await _positions_abc(app, pilot)
        table.focus()
        table.move_cursor(row=2)  # the trader is on C
        await pilot.pause()
        before = len(app.messages)
        # B's mark gains three digits: the Mark column widens, the table is rebuilt
        panel.show(PositionsView((_pos("A"), _pos("B", 100_000.0), _pos("C"))))
        await pilot.pause()
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        assert key == "C"
        assert app.messages[before:] == []  # nothing was selected: the trader did not move
        # the header sits over its column: "Mark" ends where the widest mark ends
        r = table.content_region
        lines = [s.text[r.x:r.right] for s in app.screen._compositor.render_strips()]
        header = next(ln for ln in lines[r.y:r.bottom] if "Instrument" in ln)
        row_b = next(ln for ln in lines[r.y:r.bottom] if "100,000.00" in ln)
        assert header.index("Mark") + len("Mark") == row_b.index("100,000.00") + len("100,000.00")


async def test_suggestions_approve_fresh_refuse_stale():
    app = PanelsApp()
    async with app.run_test(size=(160, 48)) as pilot:
        panel = app.query_one(SuggestionsPanel)
        panel.show(SuggestionsView((_sugg("fresh"), _sugg("old", stale=True))))
        await pilot.pause()
        assert panel.has_class("-stale")
        table = panel.table
        table.focus()
        table.move_cursor(row=0)
        await pilot.pause()
        assert panel.approve_selected()
        table.move_cursor(row=1)
        await pilot.pause()
        assert ("selected", "old") in app.messages
        assert not panel.approve_selected()
        await pilot.pause()
        assert ("approved", "fresh") in app.messages
        assert ("refused", "old", "stale: 40s old") in app.messages
        assert ("approved", "old") not in app.messages
        # a new engine run re-issues ids: the cursor follows the instrument
        other = replace(_sugg("x1"), symbol="ETH/USDT:USDT")
        panel.show(SuggestionsView((other, _sugg("fresh2"), _sugg("old2", stale=True))))
        await pilot.pause()
        table.move_cursor(row=1)  # fresh2: BTC
        await pilot.pause()
        panel.show(SuggestionsView((_sugg("fresh3"), replace(_sugg("x2"), symbol="ETH/USDT:USDT"))))
        await pilot.pause()
        assert panel.selected().id == "fresh3"
        panel.show(SuggestionsView())
        await pilot.pause()
        assert table.row_count == 0 and not panel.has_class("-stale")
        assert panel.selected() is None and not panel.approve_selected()


async def test_confirm_screen_returns_bool():
    app = BareApp()
    async with app.run_test(size=(120, 36)) as pilot:
        answers = []
        app.push_screen(ConfirmScreen("Kill switch?"), answers.append)
        await pilot.pause()
        await pilot.press("enter")  # focus starts on "No": Enter must not confirm
        await pilot.pause()
        app.push_screen(ConfirmScreen("Auto-execute ON?"), answers.append)
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        app.push_screen(ConfirmScreen("Again?"), answers.append)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert answers == [False, True, False]


async def test_help_screen_lists_the_apps_keys_with_ids():
    app = BareApp()
    async with app.run_test(size=(120, 36)) as pilot:
        help_screen = HelpScreen.for_app(app)
        listed = {desc: (key, bid) for key, desc, bid in help_screen.keys}
        assert listed["Approve"] == ("a", "approve")
        assert listed["Kill switch"] == ("k", "kill")
        ids = [bid for _key, _desc, bid in help_screen.keys]
        assert ids[:3] == ["approve", "reject", "kill"]  # the cockpit's keys lead
        app.push_screen(help_screen)
        await pilot.pause()
        assert app.screen is help_screen
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is not help_screen
