"""``LiveTable`` re-renders only the rows it changed, yet draws exactly what a plain
Textual ``DataTable`` draws after the same updates: the plain table, which drops
every cache on each update, is the reference. Also: replacing rows without
changing their count does not lay the screen out again, and changing the count
does (the table is ``height: auto``); a wrapped text line that grows gets its
new height."""

from __future__ import annotations

import random

from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import DataTable, Static

from widgets.suggestions import _set_text
from widgets.table_sync import LiveTable

COLUMNS = ("sym", "size", "pnl")
CSS = "DataTable { height: auto; max-height: 100%; } Static { height: auto; }"


class Pair(App):
    CSS = CSS

    def compose(self) -> ComposeResult:
        with Vertical():
            yield LiveTable(id="live", cursor_type="row")
            yield DataTable(id="plain", cursor_type="row")
            yield Static("", id="why")


def _screen_lines(table: DataTable) -> list[tuple]:
    """What the table draws: each line's text and styles, as the compositor gets them."""
    region = table.size.region
    return [tuple((s.text, s.style) for s in strip) for strip in table.render_lines(region)]


def _cell(rng: random.Random) -> Text:
    style = rng.choice(["", "bold", "red", "green on grey23"])
    return Text(f"{rng.uniform(-1e4, 1e4):,.2f}", style=style, justify="right")


async def test_live_table_draws_what_a_plain_data_table_draws_after_the_same_updates():
    rng = random.Random(7)
    app = Pair()
    async with app.run_test(size=(80, 30)) as pilot:
        tables = [app.query_one("#live", LiveTable), app.query_one("#plain", DataTable)]
        app.set_focus(None)  # a focused table draws its header in another colour
        for t in tables:
            t.can_focus = False
            for i, c in enumerate(COLUMNS):
                t.add_column(c, key=f"c{i}", width=12)
        keys = [f"r{i}" for i in range(6)]
        for k in keys:
            row = [Text(k), _cell(rng), _cell(rng)]
            for t in tables:
                t.add_row(*row, key=k)
        await pilot.pause()
        for step in range(40):
            op = rng.random()
            if op < 0.7:  # a tick: a few cells change
                for _ in range(rng.randint(1, 4)):
                    k, col, value = rng.choice(keys), f"c{rng.randint(1, 2)}", _cell(rng)
                    for t in tables:
                        t.update_cell(k, col, value)
            elif op < 0.8:  # the cursor moves
                row = rng.randrange(len(keys))
                for t in tables:
                    t.move_cursor(row=row)
            elif op < 0.9 and len(keys) > 2:  # a position closes
                k = keys.pop(rng.randrange(len(keys)))
                for t in tables:
                    t.remove_row(k)
            else:  # one opens
                k = f"n{step}"
                keys.append(k)
                row = [Text(k), _cell(rng), _cell(rng)]
                for t in tables:
                    t.add_row(*row, key=k)
            await pilot.pause()
            live, plain = (_screen_lines(t) for t in tables)
            assert live == plain, f"step {step}: the live table drew something else"
            assert "".join(s[0][0] for s in live[1:] if s)  # rows are on screen


async def test_rows_replaced_one_for_one_do_not_lay_the_screen_out_but_a_new_count_does(
        monkeypatch):
    layouts: list[Widget] = []
    refresh = Widget.refresh

    def spy(self, *regions, **kw):
        if kw.get("layout"):
            layouts.append(self)
        return refresh(self, *regions, **kw)

    app = Pair()
    async with app.run_test(size=(80, 30)) as pilot:
        live = app.query_one("#live", LiveTable)
        live.add_column("sym", key="c0", width=10)
        for k in ("a", "b"):
            live.add_row(Text(k), key=k)
        await pilot.pause()
        assert live.size.height == 3  # header and two rows

        monkeypatch.setattr(Widget, "refresh", spy)
        with live.same_rows_same_layout():
            live.remove_row("a")
            live.add_row(Text("c"), key="c")
        await pilot.pause()
        assert live not in layouts, "a one-for-one swap asked for a new layout"
        rows = ["".join(t for t, _ in line).strip() for line in _screen_lines(live)[1:]]
        assert rows == ["b", "c"]

        with live.same_rows_same_layout():
            live.remove_row("b")
        assert live in layouts, "one row fewer must lay the screen out"
        await pilot.pause()
        assert live.size.height == 2  # header and the one row left
        with live.same_rows_same_layout():
            live.add_row(Text("d"), key="d")
            live.add_row(Text("e"), key="e")
        await pilot.pause()
        assert live.size.height == 4  # the table grew by the rows


async def test_a_why_line_that_wraps_onto_more_lines_gets_the_height_to_show_them():
    app = Pair()
    async with app.run_test(size=(40, 30)) as pilot:
        why = app.query_one("#why", Static)
        _set_text(why, "why: short")
        await pilot.pause()
        assert why.size.height == 1
        _set_text(why, "why: " + "a long reason that wraps " * 4)
        await pilot.pause()
        assert why.size.height >= 3, "the longer reason was cut to its old height"
        _set_text(why, "why: short again")
        await pilot.pause()
        assert why.size.height == 1


async def test_an_update_keeps_the_other_rows_cached_and_drops_dead_entries():
    app = Pair()
    async with app.run_test(size=(80, 30)) as pilot:
        live = app.query_one("#live", LiveTable)
        for i, c in enumerate(COLUMNS):
            live.add_column(c, key=f"c{i}", width=12)
        for k in ("a", "b", "c"):
            live.add_row(Text(k), Text("1"), Text("2"), key=k)
        await pilot.pause()
        live.refresh()  # every row rendered at today's update count
        await pilot.pause()

        def rows_cached() -> set[str]:
            return {k[0].value for k in live._cell_render_cache.keys()
                    if k[0].value and k[6] == live._update_count}

        assert {"a", "b", "c"} <= rows_cached(), "the cache keys moved (textual upgraded?)"
        live.update_cell("a", "c1", Text("9"))
        await pilot.pause()
        assert {"b", "c"} <= rows_cached(), "an update to row a dropped the other rows' cells"
        for step in range(20):  # rows come and go: dead entries do not pile up
            live.remove_row("c")
            live.add_row(Text("c"), Text("1"), Text("2"), key="c")
            live.update_cell("a", "c1", Text(str(step)))
            await pilot.pause()
        counts = {k[6] for k in live._cell_render_cache.keys()}
        assert counts <= {live._update_count}, "entries of older update counts were kept"
        assert len(live._cell_render_cache) <= 4 * len(COLUMNS) * 3
