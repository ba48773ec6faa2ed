"""The stress screen: the account's P&L and margin ratio under every (move, IV shift),
liquidated cells marked; portfolio VaR/CVaR with each position's component; funding."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from cockpit.model.views import StressView
from widgets import format as f
from widgets.palette import DEFAULT_PALETTE, Palette, style


def grid_table(view: StressView, palette: Palette) -> Table:
    """Rows: moves; columns: IV shifts; cell "-$12.3k 45%" (P&L, margin ratio), LIQ in red."""
    table = Table(title="Stress: every underlying moved together × implied vol shifted "
                        "(full revaluation, IV × (1 + shift))", title_justify="left")
    table.add_column("Move", justify="right")
    for v in view.vol_shifts:
        table.add_column(f"IV {f.pct(v, 0, sign=True)}", justify="right")
    for i, move in enumerate(view.moves):
        cells = []
        for j in range(len(view.vol_shifts)):
            pnl, ratio = view.pnl_usd[i][j], view.margin_ratio[i][j]
            cell = Text(f.compact_usd(pnl, sign=True), style=style(palette, f.sign_class(pnl)))
            if view.liquidated[i][j]:
                cell.append(" LIQ", style=style(palette, "breach"))
            else:
                cell.append(f" {f.pct(ratio, 0)}", style=style(palette, "muted"))
            cells.append(cell)
        table.add_row(f.pct(move, 0, sign=True), *cells)
    return table


def var_text(view: StressView, palette: Palette) -> RenderableType:
    head = Text(f"Portfolio 1-day VaR{view.alpha:.0%} ")
    head.append(f.usd(view.var_usd), style=style(palette, "loss"))
    head.append("  CVaR ")
    head.append(f.usd(view.cvar_usd), style=style(palette, "loss"))
    head.append(f"  ({view.method})", style=style(palette, "muted"))
    table = Table(show_edge=False, box=None, padding=(0, 2))
    for name, justify in (("Position", "left"), ("Component VaR", "right"),
                          ("Stand-alone VaR", "right"), ("", "left")):
        table.add_column(name, justify=justify)
    for name, comp, alone in view.components:
        note = "hedges the book" if comp < 0 else ""
        table.add_row(f.short_symbol(name), Text(f.usd(comp, sign=True),
                                                 style=style(palette, f.sign_class(-comp))),
                      f.usd(alone), Text(note, style=style(palette, "muted")))
    return Group(head, table)


def funding_table(view: StressView, palette: Palette) -> Table:
    table = Table(title="Funding", title_justify="left", show_edge=False, box=None,
                  padding=(0, 2))
    for name in ("Perp", "Rate", "Next", "Pays at this rate", "Paid so far"):
        table.add_column(name, justify="left" if name == "Perp" else "right")
    for r in view.funding:
        paid = "—" if r.paid_so_far is None else f"{r.paid_so_far:+,.2f} {r.paid_currency}"
        table.add_row(f.short_symbol(r.symbol), f.pct(r.rate, 4, sign=True),
                      f.clock(r.next_ms), f.usd(r.payment_usd, 2, sign=True), paid)
    return table


def render_stress(view: StressView, palette: Palette = DEFAULT_PALETTE) -> RenderableType:
    if view.empty_reason and not view.pnl_usd:
        parts: list[RenderableType] = [Text(view.empty_reason, style=style(palette, "muted"))]
    else:
        parts = [grid_table(view, palette), Text(""), var_text(view, palette)]
    if view.funding:
        parts += [Text(""), funding_table(view, palette)]
    return Group(*parts)


class StressScreen(Screen[None]):
    """One key away from the main screen; ``escape`` goes back. Built with its view."""

    BINDINGS = [Binding("escape,q", "close", "Back", id="stress.close")]

    def __init__(self, view: StressView, palette: Palette = DEFAULT_PALETTE) -> None:
        super().__init__()
        self.view = view
        self.palette = palette

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="stress"):
            yield Static(render_stress(self.view, self.palette), id="stress-body")
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)


__all__ = ["StressScreen", "funding_table", "grid_table", "render_stress", "var_text"]
