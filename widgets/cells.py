"""Table cells with palette styles and the "just changed" highlight.

A renderer produces rows of ``Cell`` (text + palette keys). Comparing the
formatted text with the previous view's row of the same key marks changed
cells; the next repaint (with this view as the previous) clears the mark, so
no per-cell timer is needed.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text

from widgets.palette import Palette, style


@dataclass(frozen=True, slots=True)
class Cell:
    """Formatted text and the palette keys that style it ("profit", "bid" ...)."""

    text: str
    style: str = ""


@dataclass(frozen=True, slots=True)
class Row:
    key: Hashable
    cells: tuple[Cell, ...]
    style: str = ""  # palette keys for the whole row ("breach", "stale")


def changed_cells(rows: Sequence[Row], previous: Sequence[Row] | None) -> set[tuple[Hashable, int]]:
    """(row key, column index) of cells whose text differs from the previous rows.
    Rows that are new since the previous view are not marked: nothing changed yet."""
    if not previous:
        return set()
    before = {r.key: r.cells for r in previous}
    out = set()
    for r in rows:
        old = before.get(r.key)
        if old is None:
            continue
        for i, c in enumerate(r.cells):
            if i >= len(old) or old[i].text != c.text:
                out.add((r.key, i))
    return out


def to_text(cell: Cell, palette: Palette, *, changed: bool = False, row_style: str = "") -> Text:
    keys = [*row_style.split(), *cell.style.split()]
    if changed:
        keys.append("changed")
    return Text(cell.text, style=style(palette, *keys))


def build_table(
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Row],
    palette: Palette,
    previous: Sequence[Row] | None = None,
    **table_kwargs,
) -> Table:
    """A Rich table from ``(header, justify)`` columns and rows of cells.

    Right-justified (number) columns never shrink below their widest cell: when
    the panel is narrow, text columns are cut with an ellipsis, numbers never.
    """
    table = Table(
        box=None, pad_edge=False, expand=False, show_edge=False, padding=(0, 1, 0, 0),
        header_style=palette.get("header", "bold"), **table_kwargs,
    )
    for i, (header, justify) in enumerate(columns):
        min_width = None
        if justify == "right":
            widths = [len(r.cells[i].text) for r in rows if i < len(r.cells)]
            min_width = max([len(header), *widths])
        table.add_column(header, justify=justify, no_wrap=True, min_width=min_width)
    changed = changed_cells(rows, previous)
    for r in rows:
        table.add_row(
            *(to_text(c, palette, changed=(r.key, i) in changed, row_style=r.style)
              for i, c in enumerate(r.cells))
        )
    return table
