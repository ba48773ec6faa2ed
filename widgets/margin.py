"""Margin health panel: account margin, the margin-ratio gauge and each
position's distance to liquidation (worst one marked)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from cockpit.model.views import (
    AccountLiquidationRow,
    MarginView,
    PositionMarginRow,
    VenueAccountRow,
)
from widgets import format as f
from widgets.cells import Cell, FastTable, Fitted, Row, build_table, column_drop, side_by_side
from widgets.palette import DEFAULT_PALETTE, Palette, style
from widgets.panel import Panel

GAUGE_WIDTH = 30

# (header, justify, drop): a narrow panel drops the highest ``drop`` first
POSITION_COLUMNS = (
    ("", "left"),
    ("Instrument", "left"),
    ("Side", "left", 3),  # the size's sign says it too
    ("Size", "right"),
    ("Price", "right"),  # the mark; an option's row shows its underlying (see its note)
    ("Liq price", "right"),
    ("Dist", "right"),
    ("Dist σ/d", "right"),
    ("Time to liq", "right", 4),
    ("Note", "left", 5),
)


# the expected times go first, then the price now, then the distances in σ/d (the
# row turns red inside the buffer either way); the levels and their moves stay
ACCOUNT_COLUMNS = (
    ("Account liq", "left"),
    ("Now", "right", 5),
    ("↓ at", "right"),
    ("Move", "right", 1),
    ("σ/d", "right", 3),
    ("Time", "right", 6),
    ("↑ at", "right"),
    ("Move", "right", 2),
    ("σ/d", "right", 4),
    ("Time", "right", 7),
)
ACCOUNT_GAP = 2  # between the summary and the account table beside it
MIN_GAUGE_WIDTH = 16


def account_rows(view: MarginView) -> list[Row]:
    """One row per underlying (and "all together"): where the whole account liquidates
    going down and going up; red when either is inside the liquidation buffer."""
    by: dict[str, dict[str, AccountLiquidationRow]] = {}
    for r in view.account_levels:
        by.setdefault(r.underlying, {})[r.direction] = r
    rows = []
    for und, sides in by.items():
        down, up = sides.get("down"), sides.get("up")
        first = down or up
        joint = und == "all" or und.endswith(" all")  # "okx all": one venue of several
        cells = [Cell(und.replace("all", "all together") if joint else und),
                 Cell("×1" if joint else f.num(first.price_now, first.price_decimals))]
        for r in (down, up):
            cells += _side_cells(r, joint)
        breach = any(r is not None and r.inside_buffer for r in (down, up))
        rows.append(Row(und, tuple(cells), "breach" if breach else ""))
    return rows


def _side_cells(r: AccountLiquidationRow | None, joint: bool) -> list[Cell]:
    if r is None or r.liquidation_price is None:
        return [Cell("none", "muted"), Cell(""), Cell(""), Cell("")]
    price = f"×{f.num(r.liquidation_price, 3)}" if joint else \
        f.num(r.liquidation_price, r.price_decimals)
    return [Cell(price), Cell(f.pct(r.move_pct, 1, sign=True)), Cell(f.sigmas(r.distance_sigmas)),
            Cell(f.duration_days(r.expected_days))]


VENUE_COLUMNS = (
    ("Account", "left"),
    ("Equity", "right"),
    ("Avail", "right"),
    ("IM", "right"),
    ("MM", "right"),
    ("Ratio", "right"),
)

_LEVEL_CLASS = {"ok": "ok", "amber": "amber", "red": "breach", "unknown": "muted"}


def venue_account_rows(view: MarginView) -> list[Row]:
    """Several venues: each venue's own account (its margin ratio is the one its venue
    liquidates on), then the Σ total of the whole book."""
    return [Row(r.venue, _venue_cells(r), "header" if r.is_total else "")
            for r in view.venues]


def _venue_cells(r: VenueAccountRow) -> tuple[Cell, ...]:
    name = "Σ total" if r.is_total else r.venue + (f" ({r.mode})" if r.mode else "")
    return (Cell(name), Cell(f.usd(r.equity_usd)),
            Cell(f.usd(r.available_usd), "loss" if r.available_usd < 0 else ""),
            Cell(f.usd(r.initial_margin_usd)), Cell(f.usd(r.maintenance_margin_usd)),
            Cell(f.pct(r.margin_ratio, 1), _LEVEL_CLASS.get(r.level, "")))


def summary_rows(view: MarginView) -> list[Row]:
    dd = None if view.drawdown is None else -view.drawdown
    return [
        Row("equity", (Cell("Equity"), Cell(f.usd(view.equity_usd)),
                       Cell("Avail"), Cell(f.usd(view.available_usd),
                                             "loss" if view.available_usd < 0 else ""))),
        Row("margin", (Cell("IM"), Cell(f.usd(view.initial_margin_usd)),
                       Cell("MM" + (" (venue)" if view.margin_source else "")),
                       Cell(f.usd(view.maintenance_margin_usd)))),
        Row("pnl", (Cell("uPnL"), Cell(f.usd(view.unrealised_pnl_usd, sign=True),
                                       f.sign_class(view.unrealised_pnl_usd)),
                    Cell("Drawdown"), Cell(f.pct(dd, 1), f.sign_class(dd)))),
    ]


def position_rows(view: MarginView) -> list[Row]:
    rows = []
    for r in view.rows:
        rows.append(Row(r.symbol, _position_cells(r),
                        "breach" if r.inside_buffer else "header" if r.worst else ""))
    return rows


def _position_cells(r: PositionMarginRow) -> tuple[Cell, ...]:
    return (
        Cell("▶" if r.worst else "", "amber"),
        Cell(f.short_symbol(r.symbol)),
        Cell(r.side, "profit" if r.side == "long" else "loss" if r.side == "short" else ""),
        Cell(f.num(r.contracts, r.amount_decimals, sign=True)),
        Cell(f.num(r.mark, r.price_decimals)),
        Cell(f.num(r.liquidation_price, r.price_decimals)),
        Cell(f.pct(r.distance_pct, 1)),
        Cell(f.sigmas(r.distance_sigmas)),
        Cell(f.duration_days(r.expected_days)),
        Cell(r.note, "muted"),
    )


def gauge_text(view: MarginView, palette: Palette, width: int = GAUGE_WIDTH,
               extras: int = 2) -> Text:
    """"Margin ratio  23.4% [█████▏    ┊     ┊  ] amber 50% red 80%".

    The bar and the number take the level's colour; ┊ marks the amber and red
    thresholds where the bar has not reached them yet.
    """
    bar_style = {"ok": "ok", "amber": "amber", "red": "loss", "unknown": "muted"}[view.level]
    number_style = {"ok": "ok", "amber": "amber", "red": "breach", "unknown": "muted"}[view.level]
    ratio = view.margin_ratio
    text = Text("Margin ratio ")
    text.append(f.pct(ratio, 1).rjust(7), style=style(palette, number_style))
    text.append(" [")
    cells = list(f.bar(ratio, width))
    marks = {min(int(view.amber_ratio * width), width - 1): "amber",
             min(int(view.red_ratio * width), width - 1): "loss"}
    for i, ch in enumerate(cells):
        if ch == " " and i in marks:
            text.append("┊", style=style(palette, marks[i]))
        else:
            text.append(ch, style=style(palette, bar_style))
    text.append("] ")
    notes = [f" · liq buffer {view.buffer_sigmas:g}σ/d",
             " · options at sticky-strike IV" if view.account_levels else ""]
    text.append(f"amber {f.pct(view.amber_ratio, 0)} red {f.pct(view.red_ratio, 0)}"
                + "".join(notes[:extras]), style=style(palette, "muted"))
    return text


def gauge_line(view: MarginView, palette: Palette, max_width: int) -> Text:
    """The gauge on one line of ``max_width``: the bar shrinks (to
    ``MIN_GAUGE_WIDTH``) before the notes after the thresholds are left out."""
    for extras in (2, 1, 0):
        text = gauge_text(view, palette, GAUGE_WIDTH, extras)
        # the bar is the only part whose length follows its width, one cell a cell:
        # the widest bar that fits is found in one step (trying each width in turn
        # built the gauge up to 45 times a repaint)
        width = GAUGE_WIDTH - max(text.cell_len - max_width, 0)
        if width == GAUGE_WIDTH:
            return text
        if width >= MIN_GAUGE_WIDTH:
            return gauge_text(view, palette, width, extras)
    return gauge_text(view, palette, MIN_GAUGE_WIDTH, 0)


def top_block(summary: FastTable, levels: FastTable | None, max_width: int) -> Text:
    """The summary with the account table beside it when the account table's levels
    and moves fit there (it drops its other columns to fit); else under it."""
    left = summary.to_text(max_width)
    if levels is None:
        return left
    room = max_width - summary.width(max_width) - ACCOUNT_GAP
    essential = [c for c in ACCOUNT_COLUMNS if column_drop(c) <= 2]
    need = sum(w for w, c in zip(levels.widths, ACCOUNT_COLUMNS, strict=True)
               if column_drop(c) <= 2) + levels.gap * (len(essential) - 1)
    if room >= need:
        return side_by_side(left, levels.to_text(room), ACCOUNT_GAP)
    return Text("\n").join([left, levels.to_text(max_width)])


def render_margin(
    view: MarginView, palette: Palette = DEFAULT_PALETTE, previous: MarginView | None = None
) -> RenderableType:
    """The whole panel as one Rich renderable (pure: no App needed)."""
    prev_summary = summary_rows(previous) if previous else None
    summary = build_table([("", "left"), ("", "right"), ("", "left"), ("", "right")],
                          summary_rows(view), palette, prev_summary, show_header=False)
    levels = None
    if view.account_levels:  # beside the summary: the panel is short, the column is wide
        prev_acct = account_rows(previous) if previous else None
        levels = build_table(ACCOUNT_COLUMNS, account_rows(view), palette, prev_acct)
    parts: list[RenderableType] = [Fitted(lambda w: top_block(summary, levels, w))]
    if view.venues:
        prev_venues = venue_account_rows(previous) if previous else None
        parts.append(build_table(VENUE_COLUMNS, venue_account_rows(view), palette, prev_venues))
    parts.append(Fitted(lambda w: gauge_line(view, palette, w)))
    if view.empty_reason and not view.rows:
        parts.append(Text(view.empty_reason, style=style(palette, "muted")))
    else:
        prev_rows = position_rows(previous) if previous else None
        parts.append(build_table(POSITION_COLUMNS, position_rows(view), palette, prev_rows))
        if view.worst_symbol:
            parts.append(Text(f"closest to liquidation: {f.short_symbol(view.worst_symbol)}",
                              style=style(palette, "amber")))
        if view.revaluation_note:
            parts.append(Text(view.revaluation_note, style=style(palette, "muted")))
    return Group(*parts)


class MarginPanel(Panel):
    """Margin health. ``show(MarginView)``; classes -amber / -breach follow the gauge."""

    BORDER_TITLE = "Margin health"

    placeholder = "waiting for the first account update"

    def state_classes(self, view: MarginView) -> dict[str, bool]:
        return {"-amber": view.level == "amber", "-breach": view.level == "red"}

    def render_view(self, view, palette, previous):
        return render_margin(view, palette, previous)


__all__ = ["MarginPanel", "account_rows", "gauge_line", "gauge_text", "position_rows",
           "render_margin", "summary_rows", "top_block", "venue_account_rows"]
