"""Table cells with palette styles and the "just changed" highlight.

A renderer produces rows of ``Cell`` (text + palette keys). Comparing the
formatted text with the previous view's row of the same key marks changed
cells; the next repaint (with this view as the previous) clears the mark, so
no per-cell timer is needed.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
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


MIN_TEXT_WIDTH = 4  # a text column is never cut narrower than this


class FastTable:
    """Columns of pre-styled cells laid out by padding, not by Rich's Table.

    Why: the panels repaint several times a second, and a Rich ``Table``
    measures every cell through the whole render pipeline on each repaint
    (it was most of the event loop's time at 50 updates a second). Here the
    widths are string lengths; a narrow panel cuts text columns with an
    ellipsis, widest first, and never cuts a number.
    """

    def __init__(self, columns: Sequence[tuple[str, str]], rows: list[list[Text]],
                 header_style: str = "bold", gap: int = 1) -> None:
        self.columns = list(columns)
        self.rows = rows
        self.header_style = header_style
        self.gap = gap
        self.show_header = any(h for h, _ in self.columns)
        self.widths = [
            max([cell_len(h), *(t.cell_len for t in (r[i] for r in rows if i < len(r)))])
            for i, (h, _) in enumerate(self.columns)
        ]

    def _fit(self, max_width: int) -> list[int]:
        widths = list(self.widths)
        excess = sum(widths) + self.gap * (len(widths) - 1) - max_width
        text_cols = [i for i, (_, j) in enumerate(self.columns) if j != "right"]
        while excess > 0:
            i = max(text_cols, key=lambda k: widths[k], default=None)
            if i is None or widths[i] <= MIN_TEXT_WIDTH:
                break
            cut = min(excess, widths[i] - MIN_TEXT_WIDTH)
            widths[i] -= cut
            excess -= cut
        return widths

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        total = sum(self.widths) + self.gap * (len(self.widths) - 1)
        return Measurement(min(total, options.max_width), total)

    def _line(self, cells: list[Text], widths: list[int]) -> Text:
        line = Text(no_wrap=True, overflow="crop", end="")
        for i, (width, (_, justify)) in enumerate(zip(widths, self.columns, strict=False)):
            cell = cells[i].copy() if i < len(cells) else Text("")
            if cell.cell_len > width:
                cell.truncate(width, overflow="ellipsis")
            cell.align("right" if justify == "right" else "left", width)
            if i:
                line.append(" " * self.gap)
            line.append_text(cell)
        return line

    def to_text(self, max_width: int) -> Text:
        """The whole table as one Text, fitted to ``max_width`` cells."""
        widths = self._fit(max_width)
        lines = []
        if self.show_header:
            lines.append(self._line([Text(h, style=self.header_style) for h, _ in self.columns],
                                    widths))
        lines.extend(self._line(r, widths) for r in self.rows)
        return Text("\n").join(lines)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.to_text(options.max_width)


def build_table(
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Row],
    palette: Palette,
    previous: Sequence[Row] | None = None,
    **table_kwargs,
) -> FastTable:
    """A table from ``(header, justify)`` columns and rows of cells.

    Right-justified (number) columns never shrink below their widest cell: when
    the panel is narrow, text columns are cut with an ellipsis, numbers never.
    ``show_header=False`` hides the header row.
    """
    changed = changed_cells(rows, previous)
    body = [
        [to_text(c, palette, changed=(r.key, i) in changed, row_style=r.style)
         for i, c in enumerate(r.cells)]
        for r in rows
    ]
    table = FastTable(columns, body, header_style=palette.get("header", "bold"))
    if table_kwargs.get("show_header") is False:
        table.show_header = False
    return table
