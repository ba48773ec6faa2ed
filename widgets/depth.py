"""Liquidity depth panel: price ladder with cumulative sizes and bars, spread,
depth within N bps of mid, and the selected suggestion's slippage.

The panel draws its own lines (Textual's line API) and repaints only the lines
whose text or styles changed since the last frame: the ladder is the busiest
panel (measured: ~12 ms of compositor time per frame when redrawn whole, most
rows unchanged between ticks).
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.content import Content
from textual.geometry import Region
from textual.strip import Strip
from textual.visual import Visual

from cockpit.model.views import DepthView, LadderLevel
from widgets import format as f
from widgets.cells import Cell, Row, build_table
from widgets.palette import DEFAULT_PALETTE, Palette, style
from widgets.panel import Panel, _flatten

BAR_WIDTH = 16
MIN_BAR_WIDTH = 4
COLUMNS = (("Price", "right"), ("Size", "right"), ("Cum", "right"), ("Depth", "left"))


def ladder_rows(view: DepthView, bar_width: int = BAR_WIDTH) -> list[Row]:
    """Asks from the worst shown down to the best, a spread line, then bids from
    the best down: the spread sits in the middle as on a trading ladder."""
    deepest = max([lv.cumulative for lv in view.bids + view.asks] or [0.0])

    def row(side: str, lv: LadderLevel) -> Row:
        frac = lv.cumulative / deepest if deepest > 0 else 0.0
        return Row(
            (side, lv.price),
            (
                Cell(f.num(lv.price, view.price_decimals), side),
                Cell(f.num(lv.amount, view.amount_decimals)),
                Cell(f.num(lv.cumulative, view.amount_decimals)),
                Cell(f.bar(frac, bar_width), side),
            ),
        )

    asks = [row("ask", lv) for lv in reversed(view.asks)]
    bids = [row("bid", lv) for lv in view.bids]
    spread = Row("spread", (Cell(f.num(view.spread, view.price_decimals), "muted"),
                            Cell("spread", "muted"), Cell(f.bps(view.spread_bps), "muted"),
                            Cell("")))
    return asks + [spread] + bids


def title_text(view: DepthView, palette: Palette) -> Text:
    """Instrument and book age (stale-styled when old)."""
    title = Text(f.short_symbol(view.symbol) if view.symbol else "no instrument selected",
                 style=style(palette, "header"))
    if view.age_s is not None:
        title.append(f"  book age {f.age(view.age_s)}",
                     style=style(palette, "stale" if view.stale else "muted"))
    return title


def info_text(view: DepthView, palette: Palette) -> Text:
    """Depth bands on one line ("±10bp 1.2/0.8": bid/ask contracts) and the
    selected suggestion's book walk."""
    text = Text()
    for i, band in enumerate(view.bands):
        text.append(("  " if i else "") + f"±{band.bps:g}bp ")
        text.append(f.num(band.bid_amount, view.amount_decimals), style=style(palette, "bid"))
        text.append("/")
        text.append(f.num(band.ask_amount, view.amount_decimals), style=style(palette, "ask"))
    if view.suggestion_text:
        text.append(("\n" if view.bands else "") + f"{view.suggestion_text}: ")
        if view.suggestion_slippage_bps is None:
            text.append(f"{f.MISSING} {view.suggestion_note}", style=style(palette, "muted"))
        else:
            best = "best ask" if view.suggestion_side == "buy" else "best bid"
            text.append(f"walks the book {f.bps(view.suggestion_slippage_bps)} vs {best}")
            if view.suggestion_note:
                text.append(f" ({view.suggestion_note})", style=style(palette, "amber"))
    return text


def render_depth(
    view: DepthView, palette: Palette = DEFAULT_PALETTE, previous: DepthView | None = None,
    bar_width: int = BAR_WIDTH, max_width: int | None = None,
) -> RenderableType:
    """The ladder; with ``max_width`` the bars shrink to the room the numbers leave
    (down to ``MIN_BAR_WIDTH``) rather than being cut."""
    title = title_text(view, palette)
    if view.empty_reason:
        return Group(title, Text(view.empty_reason, style=style(palette, "muted")))
    if max_width:
        numbers = build_table(COLUMNS[:3], ladder_rows(view, 0), palette)
        bar_width = max(MIN_BAR_WIDTH, min(bar_width, max_width - numbers.width(10**6) - 1))
    prev = ladder_rows(previous, bar_width) if previous and previous.symbol == view.symbol else None
    table = build_table(COLUMNS, ladder_rows(view, bar_width), palette, prev)
    return Group(title, table, info_text(view, palette))


class DepthPanel(Panel):
    """Depth ladder. ``show(DepthView)``; class -stale when the book is old."""

    BORDER_TITLE = "Liquidity depth"

    placeholder = "select an instrument to see its book"

    def state_classes(self, view: DepthView) -> dict[str, bool]:
        return {"-stale": view.stale}

    def render_view(self, view, palette, previous):
        return render_depth(view, palette, previous, max_width=self.content_size.width or None)

    # -- line-by-line repaint ---------------------------------------------------------
    _keys: list | None = None  # per logical line: (plain text, spans, style); None: not in use
    _texts: list[Text] = []
    _strips: list[list[Strip] | None] = []  # per logical line, its rendered strips (lazily)
    _rows: list[tuple[int, int]] = []  # content row -> (logical line, strip within it)
    _base_style = None  # the visual style the strips were rendered with

    def _repaint(self) -> None:
        width = self.size.width
        text = None
        if self.view is not None and width > 0 and self.is_mounted:
            text = _flatten(self.render_view(self.view, self.palette, self.previous), width)
        if text is None:  # placeholder, not laid out yet, or not plain text: the Static way
            self._keys = None
            super()._repaint()
            return
        lines = text.split("\n", allow_blank=True)
        keys = [(ln.plain, tuple(ln.spans), str(ln.style), width) for ln in lines]
        old_keys, old_strips = self._keys, self._strips
        style = self.visual_style
        same_frame = old_keys is not None and len(old_keys) == len(keys) and (
            self._base_style == style
        )
        self._texts, self._keys, self._base_style = lines, keys, style
        if not same_frame:
            self._strips = [None] * len(lines)
            self._relayout()
            return
        changed = {i for i, (a, b) in enumerate(zip(old_keys, keys, strict=True)) if a != b}
        self._strips = [None if i in changed else st for i, st in enumerate(old_strips)]
        for i in changed:
            self._line_strips(i)
        if any(len(self._strips[i]) != len(old_strips[i] or ()) for i in changed):
            self._relayout()  # a wrapped line grew or shrank: everything below moves
            return
        rows = [y for y, (i, _) in enumerate(self._rows) if i in changed]
        if rows:
            self.refresh(*(Region(0, y, width, 1) for y in rows))

    def _line_strips(self, i: int) -> list[Strip]:
        strips = self._strips[i]
        if strips is None:
            line, width = self._texts[i], self._keys[i][3]
            if line.cell_len <= width and "\t" not in line.plain:
                # One row: Rich's segments under the panel's base style. Textual's
                # Visual path draws the same cells at several times the cost, and on
                # a moving book nearly every ladder line changes every tick.
                strip = Strip(list(line.render(self.app.console)), line.cell_len)
                strips = [strip.apply_style(self._base_style.rich_style)]
            else:  # a line that wraps: Textual's own wrapping
                content = Content.from_rich_text(line)
                strips = Visual.to_strips(self, content, width, None, self._base_style)
            self._strips[i] = strips
        return strips

    def _relayout(self) -> None:
        """Map content rows to lines and repaint all; a layout pass only when the
        row count changed and the panel's height follows its content."""
        before = len(self._rows)
        self._rows = [(i, j) for i in range(len(self._strips))
                      for j in range(len(self._line_strips(i)))]
        height = self.styles.height
        self.refresh(layout=len(self._rows) != before and (height is None or height.is_auto))

    def get_content_height(self, container, viewport, width: int) -> int:
        if self._keys is None:
            return super().get_content_height(container, viewport, width)
        return len(self._rows)

    def render_line(self, y: int) -> Strip:
        if self._keys is None:
            return super().render_line(y)
        if self._base_style != self.visual_style:  # theme or state class changed the base
            self._repaint()
        if y < len(self._rows):
            i, j = self._rows[y]
            return self._line_strips(i)[j]
        return Strip.blank(self.size.width, self.visual_style.rich_style)
