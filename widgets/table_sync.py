"""Update a DataTable in place from rows of cells, keeping the cursor on the
same row key: no clear()+rebuild, so nothing flickers and the selection holds.

Given the width it has, the table shows the columns that fit (``widgets.cells.
fit_widths``: the highest ``drop`` goes first, a droppable text column is cut
before it goes); only a change in which columns show rebuilds the table."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

from widgets.cells import Row, changed_cells, fit_widths, to_text
from widgets.palette import Palette

SCROLLBAR = 1  # kept free for the vertical scrollbar a long table shows


def setup_columns(table: DataTable, columns: Sequence[tuple], shown: Sequence[int] | None = None,
                  ) -> None:
    """Add ``(header, justify[, drop])`` columns keyed by their index ("c0", "c1", ...);
    with ``shown``, only those indices."""
    for i, column in enumerate(columns):
        if shown is None or i in shown:
            table.add_column(Text(column[0], justify=column[1]), key=f"c{i}")


def fit_texts(table: DataTable, texts: dict[str, list[Text]], columns: Sequence[tuple],
              width: int) -> list[int]:
    """The column indices that show in ``width`` cells; cells of a column cut to fit
    are truncated in ``texts`` (with an ellipsis)."""
    pad = table.cell_padding
    natural = [max([cell_len(c[0]), *(row[i].cell_len for row in texts.values() if i < len(row))])
               for i, c in enumerate(columns)]
    widths = fit_widths(columns, natural, width - 2 * pad - SCROLLBAR, gap=2 * pad)
    for row in texts.values():
        for i, w in enumerate(widths):
            if w and i < len(row) and row[i].cell_len > w:
                row[i].truncate(w, overflow="ellipsis")
    return [i for i, w in enumerate(widths) if w]


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
    shown = fit_texts(table, texts, columns, width) if width else list(range(len(columns)))
    cursor_key = None
    if table.row_count and table.is_valid_row_index(table.cursor_row):
        cursor_key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    if [k.value for k in table.columns] != [f"c{i}" for i in shown]:
        table.clear(columns=True)
        setup_columns(table, columns, shown)
    for key in [k.value for k in table.rows]:
        if key not in texts:
            table.remove_row(key)
    existing = {k.value for k in table.rows}
    for key, cells in texts.items():
        if key in existing:
            for i in shown:
                if not _same(table.get_cell(key, f"c{i}"), cells[i]):
                    # the column follows its content (grows, or shrinks back)
                    table.update_cell(key, f"c{i}", cells[i], update_width=True)
        else:
            table.add_row(*(cells[i] for i in shown), key=key)
    if cursor_key is not None and cursor_key in texts:
        index = table.get_row_index(cursor_key)
        if index != table.cursor_row:
            table.move_cursor(row=index, animate=False, scroll=False)
