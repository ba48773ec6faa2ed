"""Update a DataTable in place from rows of cells, keeping the cursor on the
same row key: no clear()+rebuild on a tick, so nothing flickers and the selection holds.

Given the width it has, the table shows the columns that fit (``widgets.cells.
fit_widths``: the highest ``drop`` goes first, a droppable text column is cut
before it goes), each as wide as its widest cell. Only a change of those widths
(a resize, a number gaining a digit) rebuilds the table, with the cursor put back
on its row without posting a highlight: the trader did not move it.

Why explicit widths: a DataTable that sizes its own columns re-measures them when
idle without repainting its cached header, which then sat at the old widths."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, ColumnKey, RowKey

from widgets.cells import Row, changed_cells, fit_widths, to_text
from widgets.palette import Palette

SCROLLBAR = 1  # kept free for the vertical scrollbar a long table shows
# where textual 8.2.8's DataTable keeps the update count in its cell and row-line
# cache keys (tests/widgets/test_live_table.py fails if that moves)
CELL_KEY_COUNT, ROW_KEY_COUNT = 6, 8


class LiveTable(DataTable):
    """A DataTable whose ``update_cell`` re-renders only that row.

    Textual's own ``update_cell`` bumps a counter that keys every render cache,
    so one changed P&L re-rendered every cell of the table and repainted all of
    it (about a third of a frame's compositor time at 50 updates/s). Here the
    changed row's cached cells, row lines and renderables are dropped on the next
    render and only its region is refreshed. It reads DataTable's private caches:
    textual is pinned (pyproject.toml) and tests/widgets/test_live_table.py
    checks the screen against a plain DataTable given the same updates."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._stale_rows: set[RowKey] = set()
        self._hold_layout = self._layout_held = False

    def refresh(self, *regions, repaint: bool = True, layout: bool = False,
                recompose: bool = False):
        if layout and self._hold_layout:
            self._layout_held, layout = True, False
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    @contextmanager
    def same_rows_same_layout(self) -> Iterator[None]:
        """Rows removed and added inside lay the screen out again only if the row
        count changed: the table is ``height: auto`` and its columns have fixed
        widths, so the same count is the same size. (Each engine run replaces the
        suggestions' rows; the whole-screen layout that followed took 9-13 ms.)"""
        before, self._hold_layout = self.row_count, True
        try:
            yield
        finally:
            self._hold_layout = False
            if self._layout_held:
                self._layout_held = False
                self.refresh(layout=self.row_count != before)

    def update_cell(self, row_key: RowKey | str, column_key: ColumnKey | str, value,
                    *, update_width: bool = False) -> None:
        if update_width:
            super().update_cell(row_key, column_key, value, update_width=True)
            return
        row_key = RowKey(row_key) if isinstance(row_key, str) else row_key
        column_key = ColumnKey(column_key) if isinstance(column_key, str) else column_key
        if row_key not in self._row_locations or column_key not in self._column_locations:
            raise CellDoesNotExist(f"No cell exists for row_key={row_key!r}, "
                                   f"column_key={column_key!r}.")
        self._data[row_key][column_key] = value
        self._stale_rows.add(row_key)
        self.refresh_row(self._row_locations.get(row_key))

    def _evict_stale_rows(self) -> None:
        # Entries of an older update count (rows added or removed since) can never be
        # hit again; they go too, so these scans stay as short as the table.
        stale, self._stale_rows = self._stale_rows, set()
        indexes = {self._row_locations.get(k) for k in stale}
        count = self._update_count
        for cache, at in ((self._cell_render_cache, CELL_KEY_COUNT),
                          (self._row_render_cache, ROW_KEY_COUNT)):
            for key in [k for k in cache.keys() if k[0] in stale or k[at] != count]:
                cache.discard(key)
        for key in [k for k in self._row_renderable_cache.keys()
                    if k[1] in indexes or k[0] != count]:
            self._row_renderable_cache.discard(key)
        self._line_cache.clear()  # keyed by screen line: rebuilt from the row caches kept

    def render_lines(self, crop):
        if self._stale_rows:
            self._evict_stale_rows()
        return super().render_lines(crop)


def setup_columns(table: DataTable, columns: Sequence[tuple],
                  widths: Sequence[int] | None = None) -> None:
    """Add ``(header, justify[, drop])`` columns keyed by their index ("c0", "c1", ...);
    with ``widths``, only those with a width (0: not shown), that wide."""
    for i, column in enumerate(columns):
        if widths is None:
            table.add_column(Text(column[0], justify=column[1]), key=f"c{i}")
        elif widths[i]:
            table.add_column(Text(column[0], justify=column[1]), key=f"c{i}", width=widths[i])


def fit_texts(table: DataTable, texts: dict[str, list[Text]], columns: Sequence[tuple],
              width: int) -> list[int]:
    """Each column's width in ``width`` cells of table (0: not shown); cells of a
    column cut to fit are truncated in ``texts`` (with an ellipsis)."""
    pad = table.cell_padding
    natural = [max([cell_len(c[0]), *(row[i].cell_len for row in texts.values() if i < len(row))])
               for i, c in enumerate(columns)]
    widths = fit_widths(columns, natural, width - 2 * pad - SCROLLBAR, gap=2 * pad)
    for row in texts.values():
        for i, w in enumerate(widths):
            if w and i < len(row) and row[i].cell_len > w:
                row[i].truncate(w, overflow="ellipsis")
    return widths


def _layout(table: DataTable) -> list[tuple[str, int | None]]:
    """The table's columns now: (key, fixed width or None when it sizes itself)."""
    return [(k.value, None if c.auto_width else c.width) for k, c in table.columns.items()]


def row_texts(
    rows: Sequence[Row], columns: Sequence[tuple[str, str]], palette: Palette,
    previous: Sequence[Row] | None,
) -> dict[str, list[Text]]:
    """Styled, justified cell texts per row key (str), changed cells highlighted."""
    changed = changed_cells(rows, previous)
    out = {}
    for r in rows:
        texts = []
        for i, c in enumerate(r.cells):
            t = to_text(c, palette, changed=(r.key, i) in changed, row_style=r.style)
            t.justify = columns[i][1]
            texts.append(t)
        out[str(r.key)] = texts
    return out


def _same(old, new: Text) -> bool:
    """Text equality including the base style (Rich's ``==`` compares only the
    plain text and spans, so a highlight or theme change would be missed)."""
    return (isinstance(old, Text) and old.plain == new.plain and old.style == new.style
            and old.spans == new.spans and old.justify == new.justify)


def sync_table(
    table: DataTable, rows: Sequence[Row], columns: Sequence[tuple],
    palette: Palette, previous: Sequence[Row] | None = None, width: int | None = None,
) -> None:
    """Make ``table`` show ``rows``: remove gone keys, update changed cells with
    ``update_cell``, append new keys; the cursor stays on its row key. With
    ``width`` (cells), only the columns that fit show."""
    texts = row_texts(rows, columns, palette, previous)
    widths = fit_texts(table, texts, columns, width) if width else None
    shown = [i for i in range(len(columns)) if widths is None or widths[i]]
    cursor_key = None
    if table.row_count and table.is_valid_row_index(table.cursor_row):
        cursor_key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    wanted = [(f"c{i}", None if widths is None else widths[i]) for i in shown]
    if _layout(table) != wanted:
        _rebuild(table, texts, columns, widths, shown, cursor_key)
        return
    held = table.same_rows_same_layout() if isinstance(table, LiveTable) else nullcontext()
    with held:
        for key in [k.value for k in table.rows]:
            if key not in texts:
                table.remove_row(key)
        existing = {k.value for k in table.rows}
        for key, cells in texts.items():
            if key in existing:
                for i in shown:
                    if not _same(table.get_cell(key, f"c{i}"), cells[i]):
                        table.update_cell(key, f"c{i}", cells[i])
            else:
                table.add_row(*(cells[i] for i in shown), key=key)
    if cursor_key is not None and cursor_key in texts:
        index = table.get_row_index(cursor_key)
        if index != table.cursor_row:
            table.move_cursor(row=index, animate=False, scroll=False)


def _rebuild(table: DataTable, texts: dict[str, list[Text]], columns: Sequence[tuple],
             widths: Sequence[int] | None, shown: Sequence[int], cursor_key: str | None) -> None:
    """Columns and rows anew; the cursor back on ``cursor_key`` without a highlight
    message (a first fill, with no row to go back to, highlights as usual)."""
    def fill() -> None:
        table.clear(columns=True)
        setup_columns(table, columns, widths)
        for key, cells in texts.items():
            table.add_row(*(cells[i] for i in shown), key=key)
        if cursor_key is not None:
            table.move_cursor(row=table.get_row_index(cursor_key), animate=False)

    if cursor_key is not None and cursor_key in texts:
        with table.prevent(DataTable.RowHighlighted):
            fill()
    else:
        cursor_key = None
        fill()
