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
from rich.text import Span, Text

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
CUT_FLOOR = 12  # a droppable text column is cut to no less than this before it is dropped


def column_drop(column: Sequence) -> int:
    """A column spec is ``(header, justify)`` or ``(header, justify, drop)``: ``drop``
    0 (the default) is never dropped; when a table is too wide the highest ``drop``
    goes first (as the status bar's segments)."""
    return column[2] if len(column) > 2 else 0


def fit_widths(columns: Sequence, widths: Sequence[int], max_width: int, gap: int = 1,
               ) -> list[int]:
    """Column widths that fit ``max_width`` cells; 0 marks a dropped column.

    In order: droppable columns go, highest ``drop`` first (a text column among
    them is first cut to at least :data:`CUT_FLOOR` if that is enough); then text
    columns are cut, widest first, down to :data:`MIN_TEXT_WIDTH`. Numbers
    (right-justified) are never cut: a number with its last digits missing reads as
    another number.
    """
    out = list(widths)

    def excess() -> int:
        shown = [w for w in out if w]
        return sum(shown) + gap * (len(shown) - 1) - max_width

    droppable = sorted((i for i, c in enumerate(columns) if column_drop(c) > 0),
                       key=lambda i: (-column_drop(columns[i]), -i))
    for i in droppable:
        over = excess()
        if over <= 0:
            return out
        if columns[i][1] != "right" and out[i] - over >= min(CUT_FLOOR, out[i]):
            out[i] -= over
            return out
        out[i] = 0
    text_cols = [i for i, c in enumerate(columns) if c[1] != "right" and out[i]]
    over = excess()
    while over > 0:
        i = max(text_cols, key=lambda k: out[k], default=None)
        if i is None or out[i] <= MIN_TEXT_WIDTH:
            break
        cut = min(over, out[i] - MIN_TEXT_WIDTH)
        out[i] -= cut
        over -= cut
    return out


class FastTable:
    """Columns of pre-styled cells laid out by padding, not by Rich's Table.

    Why: the panels repaint several times a second, and a Rich ``Table``
    measures every cell through the whole render pipeline on each repaint
    (it was most of the event loop's time at 50 updates a second). Here the
    widths are string lengths; a narrow panel drops the least useful columns
    and cuts text columns with an ellipsis (:func:`fit_widths`), never a number.
    """

    def __init__(self, columns: Sequence[tuple], rows: list[list[Text]],
                 header_style: str = "bold", gap: int = 1) -> None:
        self.columns = list(columns)
        self.rows = rows
        self.header_style = header_style
        self.gap = gap
        self.show_header = any(c[0] for c in self.columns)
        self.widths = [
            max([cell_len(c[0]), *(t.cell_len for t in (r[i] for r in rows if i < len(r)))])
            for i, c in enumerate(self.columns)
        ]

    def _fit(self, max_width: int) -> list[int]:
        return fit_widths(self.columns, self.widths, max_width, self.gap)

    def width(self, max_width: int) -> int:
        """Cells the table takes when fitted to ``max_width``."""
        shown = [w for w in self._fit(max_width) if w]
        return sum(shown) + self.gap * (len(shown) - 1)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        total = sum(self.widths) + self.gap * (len(self.widths) - 1)
        return Measurement(min(total, options.max_width), total)

    def _line(self, cells: list[Text], widths: list[int]) -> Text:
        fast = self._padded_line(cells, widths)
        return fast if fast is not None else self._rich_line(cells, widths)

    def _rich_line(self, cells: list[Text], widths: list[int]) -> Text:
        """One line of cells cut, aligned and joined by Rich (any cell)."""
        line = Text(no_wrap=True, overflow="crop", end="")
        first = True
        for i, (width, column) in enumerate(zip(widths, self.columns, strict=False)):
            if not width:
                continue
            cell = cells[i].copy() if i < len(cells) else Text("")
            if cell.cell_len > width:
                cell.truncate(width, overflow="ellipsis")
            cell.align("right" if column[1] == "right" else "left", width)
            if not first:
                line.append(" " * self.gap)
            first = False
            line.append_text(cell)
        return line

    def _padded_line(self, cells: list[Text], widths: list[int]) -> Text | None:
        """``_line`` by string padding, for cells that fit and are one cell a character
        (the same text and spans; None otherwise). Why: Rich's copy, align and
        append per cell were most of a ladder frame."""
        plain: list[str] = []
        spans: list[Span] = []
        pos = 0
        for i, (width, column) in enumerate(zip(widths, self.columns, strict=False)):
            if not width:
                continue
            if plain:
                plain.append(" " * self.gap)
                pos += self.gap
            cell = cells[i] if i < len(cells) else None
            text = cell.plain if cell is not None else ""
            if len(text) > width or (cell is not None and cell.cell_len != len(text)):
                return None
            left = width - len(text) if column[1] == "right" else 0
            plain.append(" " * left + text + " " * (width - len(text) - left))
            if cell is not None:
                if cell.style:
                    spans.append(Span(pos, pos + width, cell.style))
                spans.extend(Span(a + pos + left, b + pos + left, st) for a, b, st in cell.spans)
            pos += width
        return Text("".join(plain), spans=spans, no_wrap=True, overflow="crop", end="")

    def lines(self, max_width: int) -> list[Text]:
        """The table's lines, header first, fitted to ``max_width`` cells."""
        widths = self._fit(max_width)
        lines = []
        if self.show_header:
            lines.append(self._line([Text(c[0], style=self.header_style)
                                     for c in self.columns], widths))
        lines.extend(self._line(r, widths) for r in self.rows)
        return lines

    def to_text(self, max_width: int) -> Text:
        """The whole table as one Text, fitted to ``max_width`` cells (a line that
        still cannot fit is cropped, never wrapped into the next row)."""
        out = Text("\n", no_wrap=True, overflow="crop").join(self.lines(max_width))
        out.no_wrap, out.overflow = True, "crop"
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.to_text(options.max_width)


class Fitted:
    """Text built for the width it is given (``build(width) -> Text``): a line that
    chooses what to show by the room it has. Panels flatten it like a table."""

    def __init__(self, build) -> None:
        self.build = build

    def to_text(self, max_width: int) -> Text:
        return self.build(max_width)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(1, options.max_width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.to_text(options.max_width)


def side_by_side(left: Text, right: Text, gap: int = 2) -> Text:
    """Two blocks of lines next to each other, the left one padded to its widest line."""
    a, b = left.split("\n"), right.split("\n")
    width = max((t.cell_len for t in a), default=0)
    lines = []
    for i in range(max(len(a), len(b))):
        line = a[i].copy() if i < len(a) else Text("")
        line.no_wrap, line.overflow, line.end = True, "crop", ""
        if i < len(b):
            line.pad_right(width - line.cell_len + gap)
            line.append_text(b[i])
        lines.append(line)
    out = Text("\n").join(lines)
    out.no_wrap, out.overflow = True, "crop"
    return out


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
