"""Liquidity depth panel: price ladder with cumulative sizes and bars, spread,
depth within N bps of mid, and the selected suggestion's slippage.

Like every panel it repaints only the lines whose text or styles changed since
the last frame (``widgets.panel.Panel``): the ladder is the busiest panel
(measured: ~12 ms of compositor time per frame when redrawn whole, most rows
unchanged between ticks).
"""

from __future__ import annotations

from functools import lru_cache

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.text import Text

from cockpit.model.views import DepthView, LadderLevel
from widgets import format as f
from widgets.cells import Cell, Row, build_table
from widgets.palette import DEFAULT_PALETTE, Palette, style
from widgets.panel import Panel

BAR_WIDTH = 16
MIN_BAR_WIDTH = 4
COLUMNS = (("Price", "right"), ("Size", "right"), ("Cum", "right"), ("Depth", "left"))


def ladder_rows(view: DepthView, bar_width: int = BAR_WIDTH) -> list[Row]:
    """Asks from the worst shown down to the best, a spread line, then bids from
    the best down: the spread sits in the middle as on a trading ladder."""
    return list(_ladder_rows(view, bar_width))


@lru_cache(maxsize=8)
def _ladder_rows(view: DepthView, bar_width: int) -> tuple[Row, ...]:
    # Cached: each frame formats its view once and compares with the previous
    # frame's rows, formatted the frame before. The bars are added to the numbers'
    # rows (formatted once a view, whatever the width: the panel measures them
    # before it knows how wide the bars can be).
    numbers = _number_rows(view)
    if not bar_width:
        return numbers
    deepest = max([lv.cumulative for lv in view.bids + view.asks] or [0.0])
    levels = (*reversed(view.asks), None, *view.bids)  # None: the spread line
    return tuple(
        r if lv is None else Row(r.key, (*r.cells[:3], Cell(
            f.bar(lv.cumulative / deepest if deepest > 0 else 0.0, bar_width), r.key[0])))
        for r, lv in zip(numbers, levels, strict=True)
    )


@lru_cache(maxsize=8)
def _number_rows(view: DepthView) -> tuple[Row, ...]:
    def row(side: str, lv: LadderLevel) -> Row:
        return Row(
            (side, lv.price),
            (
                Cell(f.num(lv.price, view.price_decimals), side),
                Cell(f.num(lv.amount, view.amount_decimals)),
                Cell(f.num(lv.cumulative, view.amount_decimals)),
                Cell("", side),
            ),
        )

    asks = [row("ask", lv) for lv in reversed(view.asks)]
    bids = [row("bid", lv) for lv in view.bids]
    spread = Row("spread", (Cell(f.num(view.spread, view.price_decimals), "muted"),
                            Cell("spread", "muted"), Cell(f.bps(view.spread_bps), "muted"),
                            Cell("")))
    return (*asks, spread, *bids)


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
    if max_width:  # the numbers' columns as wide as their widest cell, one apart
        rows = _ladder_rows(view, 0)
        numbers = sum(max(cell_len(header), *(cell_len(r.cells[i].text) for r in rows))
                      for i, (header, _) in enumerate(COLUMNS[:3])) + 2
        bar_width = max(MIN_BAR_WIDTH, min(bar_width, max_width - numbers - 1))
    prev = _ladder_rows(previous, bar_width) if previous and previous.symbol == view.symbol \
        else None
    table = build_table(COLUMNS, _ladder_rows(view, bar_width), palette, prev)
    return Group(title, table, info_text(view, palette))


class DepthPanel(Panel):
    """Depth ladder. ``show(DepthView)``; class -stale when the book is old."""

    BORDER_TITLE = "Liquidity depth"

    placeholder = "select an instrument to see its book"

    def state_classes(self, view: DepthView) -> dict[str, bool]:
        return {"-stale": view.stale}

    def render_view(self, view, palette, previous):
        return render_depth(view, palette, previous, max_width=self.content_size.width or None)
