"""Greeks panel: per position and per underlying, in coin and USD, with the
source of each line (venue-published or model) and the portfolio delta band."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from cockpit.model.views import GreeksRow, GreeksView
from widgets import format as f
from widgets.cells import Cell, Row, build_table
from widgets.palette import DEFAULT_PALETTE, Palette, style
from widgets.panel import Panel

# (header, justify, drop): as the panel narrows the note goes first, then the coin
# columns of gamma, vega and theta (their USD columns stay: they add up across
# underlyings), then the source; the instrument and both deltas always stay
COLUMNS = (
    ("Instrument", "left"),
    ("Src", "left", 4),
    ("Δ coin", "right"),
    ("Δ $", "right"),
    ("Γ coin/$", "right", 5),
    ("Γ P&L 1%", "right"),
    ("Vega coin", "right", 6),
    ("Vega $", "right"),
    ("Θ coin/d", "right", 7),
    ("Θ $/d", "right"),
    ("Note", "left", 8),
)


def _signed(x: float | None, decimals: int) -> Cell:
    return Cell(f.num(x, decimals, sign=True), f.sign_class(x))


def greeks_cells(r: GreeksRow) -> tuple[Cell, ...]:
    return (
        Cell(f.short_symbol(r.symbol), "header" if r.is_total else ""),
        Cell(r.source, "muted"),
        _signed(r.delta_coin, 4),
        _signed(r.delta_usd, 0),
        _signed(r.gamma_coin, 6),
        _signed(r.gamma_usd, 0),
        _signed(r.vega_coin, 4),
        _signed(r.vega_usd, 0),
        _signed(r.theta_coin, 5),
        _signed(r.theta_usd, 0),
        Cell(r.note, "muted"),
    )


def greeks_rows(view: GreeksView) -> list[Row]:
    """The Σ lines per underlying first, then each position, then the book lines
    (premium adjustment, coin equity: delta only) that the Σ adds: the totals are
    what the trader hedges, and a short panel must not scroll them out of sight."""
    rows = [Row(("total", r.symbol), greeks_cells(r)) for r in view.totals if r.is_total]
    rows += [Row(r.symbol, greeks_cells(r)) for r in view.rows]
    rows += [Row(("total", r.symbol), greeks_cells(r)) for r in view.totals if not r.is_total]
    return rows


def band_text(view: GreeksView, palette: Palette) -> Text:
    """"Book Δ +$312k · BTC options +$49k vs band ±$25k OUT; perps +$375k, coin +$135k
    your view · ETH ..." — the band's number is the policy's (options + hedge perps)."""
    text = Text("Book Δ ")
    d = view.portfolio_delta_usd
    text.append(f.compact_usd(d, sign=True), style=style(palette, f.sign_class(d)))
    if view.delta_band_usd is None:
        text.append("  (no delta band configured)", style=style(palette, "muted"))
        return text
    for b in view.bands:
        covered = "options" + (" + hedge" if b.hedge_perps_usd else "")
        text.append(f" · {b.underlying} {covered} {f.compact_usd(b.covered_usd, sign=True)}"
                    f" vs band ±{f.compact_usd(b.band_usd)} ")
        if b.outside:
            text.append("OUT", style=style(palette, "breach"))
        else:
            text.append("in", style=style(palette, "muted"))
        view_parts = [f"perps {f.compact_usd(b.view_perps_usd, sign=True)}"
                      if b.view_perps_usd else "",
                      f"coin {f.compact_usd(b.coin_usd, sign=True)}" if b.coin_usd else ""]
        view_parts = [p for p in view_parts if p]
        if view_parts:
            text.append("; " + ", ".join(view_parts) + " your view",
                        style=style(palette, "muted"))
    return text


def render_greeks(
    view: GreeksView, palette: Palette = DEFAULT_PALETTE, previous: GreeksView | None = None
) -> RenderableType:
    if not view.rows:
        return Text(view.empty_reason or "no positions", style=style(palette, "muted"))
    prev = greeks_rows(previous) if previous else None
    table = build_table(COLUMNS, greeks_rows(view), palette, prev)
    # the band line first: it is what the trader acts on, and the table may be cut
    parts = [band_text(view, palette), table]
    if view.delta_convention:
        parts.append(Text("Δ: " + view.delta_convention, style=style(palette, "muted")))
    if view.note:
        parts.append(Text(view.note, style=style(palette, "muted")))
    return Group(*parts)


class GreeksPanel(Panel):
    """Greeks. ``show(GreeksView)``; class -breach when delta is outside its band."""

    BORDER_TITLE = "Greeks"

    placeholder = "waiting for positions"

    def state_classes(self, view: GreeksView) -> dict[str, bool]:
        return {"-breach": view.breach}

    def render_view(self, view, palette, previous):
        return render_greeks(view, palette, previous)
