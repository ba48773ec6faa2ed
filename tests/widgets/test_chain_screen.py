"""The chain screen on plain views (no cockpit App): switching underlyings and
expiries, the empty chain's one line, and the smile plot's geometry."""

from __future__ import annotations

from textual.app import App
from textual.widgets import DataTable, Static

from cockpit.model.views import ChainExpiry, ChainQuote, ChainStrikeRow, ChainView
from widgets.chain import STRIKE_COLUMN, ChainScreen, render_smile


def _quote(symbol, iv):
    return ChainQuote(symbol, 0.01, 0.012, 0.011, 1000.0, iv, 0.5)


def _expiry(und, expiry_ms, strikes, forward, ivs):
    rows = tuple(ChainStrikeRow(k, _quote(f"{und}-{expiry_ms}-{k:g}-C", iv),
                                _quote(f"{und}-{expiry_ms}-{k:g}-P", iv))
                 for k, iv in zip(strikes, ivs, strict=True))
    return ChainExpiry(expiry_ms, f"E{expiry_ms}", 7.0, forward, rows,
                       tuple(zip(strikes, ivs, strict=True)), ivs[len(ivs) // 2])


PAIRS = (("deribit", "BTC"), ("deribit", "ETH"))
CHAINS = {
    "BTC": ChainView("BTC", "deribit", (
        _expiry("BTC", 1, (80_000, 90_000, 100_000), 90_500, (0.6, 0.5, 0.55)),
        _expiry("BTC", 2, (70_000, 90_000, 110_000, 130_000), 91_000, (0.7, 0.52, 0.5, 0.6)),
    ), PAIRS),
    "ETH": ChainView("ETH", "deribit", (
        _expiry("ETH", 1, (2_500, 3_000, 3_500), 3_010, (0.8, 0.7, 0.75)),
    ), PAIRS),
}


class Host(App):
    def __init__(self, source, **kw):
        super().__init__()
        self.source, self.kw, self.picked = source, kw, "unset"

    def on_mount(self):
        self.push_screen(ChainScreen(self.source, **self.kw),
                         lambda got: setattr(self, "picked", got))


def _source(venue, underlying):
    return CHAINS.get(underlying or "BTC", CHAINS["BTC"])


async def test_u_switches_underlying_and_brackets_walk_the_expiries():
    app = Host(_source, venue="deribit", underlying="BTC")
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        screen = app.screen
        table = screen.query_one(DataTable)
        assert table.row_count == 3 + 1  # three strikes and the forward's line
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert screen.expiry_index == 1 and table.row_count == 4 + 1
        await pilot.press("right_square_bracket")  # wraps to the first
        await pilot.pause()
        assert screen.expiry_index == 0
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert screen.expiry_index == 1
        await pilot.press("u")
        await pilot.pause()
        assert (screen.underlying, screen.expiry_index, table.row_count) == ("ETH", 0, 4)
        assert screen.cursor_quote().symbol == "ETH-1-3500-C"  # first strike above 3,010
        await pilot.press("right", "right", "enter")  # onto the put side
        await pilot.pause()
        assert app.picked == ("ETH-1-3500-P", False)


async def test_o_picks_and_asks_for_the_ticket_escape_picks_nothing():
    app = Host(_source)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        assert app.picked == ("BTC-1-100000-C", True)
    app = Host(_source)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.picked is None


async def test_an_empty_chain_says_why_and_enter_picks_nothing():
    empty = ChainView("", "", empty_reason="no options listed on the venue(s) in use")
    app = Host(lambda venue, underlying: empty)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        tabs = app.screen.query_one("#chain-tabs", Static)
        assert "no options listed" in str(tabs.render())
        await pilot.press("enter", "o")
        await pilot.pause()
        assert app.picked == "unset" and isinstance(app.screen, ChainScreen)


async def test_the_cursor_starts_on_the_selected_option_in_its_expiry():
    app = Host(_source, underlying="BTC", selected="BTC-2-70000-P")
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert screen.expiry_index == 1 and screen.cursor_quote().symbol == "BTC-2-70000-P"
        assert screen.query_one(DataTable).cursor_column > STRIKE_COLUMN


def test_smile_puts_each_point_in_its_cell_and_the_forward_on_its_column():
    e = _expiry("BTC", 1, (80_000, 90_000, 100_000), 90_000, (0.6, 0.5, 0.7))
    lines = render_smile([e], 0, width=47, height=12).plain.split("\n")
    plot = [line[7:] for line in lines[:10]]  # 10 plot rows after the 7-cell IV labels
    # strikes 80k, 90k, 100k -> columns 0, 20, 39 of 40; IV 70 % top row, 50 % bottom
    assert plot[0][39] == "●" and plot[9][20] == "●"
    assert plot[round(9 - (0.6 - 0.5) / 0.2 * 9)][0] == "●"
    assert all(row[20] in "│●" for row in plot)  # the forward
    assert lines[0].startswith("  70% ┤") and lines[9].startswith("  50% ┤")
    assert "no implied vols" in render_smile([], 0, 40, 10).plain
