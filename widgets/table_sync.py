"""Update a DataTable in place from rows of cells, keeping the cursor on the
same row key: no clear()+rebuild, so nothing flickers and the selection holds."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from widgets.cells import Row, changed_cells, to_text
from widgets.palette import Palette


def setup_columns(table: DataTable, columns: Sequence[tuple[str, str]]) -> None:
    """Add ``(header, justify)`` columns keyed by their index ("c0", "c1", ...)."""
    for i, column in enumerate(columns):
        table.add_column(Text(column[0], justify=column[1]), key=f"c{i}")


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
    table: DataTable, rows: Sequence[Row], columns: Sequence[tuple[str, str]],
    palette: Palette, previous: Sequence[Row] | None = None,
) -> None:
    """Make ``table`` show ``rows``: remove gone keys, update changed cells with
    ``update_cell``, append new keys; the cursor stays on its row key."""
    texts = row_texts(rows, columns, palette, previous)
    cursor_key = None
    if table.row_count and table.is_valid_row_index(table.cursor_row):
        cursor_key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    for key in [k.value for k in table.rows]:
        if key not in texts:
            table.remove_row(key)
    existing = {k.value for k in table.rows}
    for key, cells in texts.items():
        if key in existing:
            for i, t in enumerate(cells):
                if not _same(table.get_cell(key, f"c{i}"), t):
                    table.update_cell(key, f"c{i}", t)
        else:
            table.add_row(*cells, key=key)
    if cursor_key is not None and cursor_key in texts:
        index = table.get_row_index(cursor_key)
        if index != table.cursor_row:
            table.move_cursor(row=index, animate=False, scroll=False)
