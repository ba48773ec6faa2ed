"""Volatility panel: realised vol, the engine's forecast (and its model), ATM
implied vol, and sparklines of recent price and realised vol."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from cockpit.model.views import VolView
from widgets import format as f
from widgets.cells import Cell, Row, build_table
from widgets.palette import DEFAULT_PALETTE, Palette, style
from widgets.panel import Panel

SPARK_WIDTH = 48
COLUMNS = (("", "left"), ("Vol", "right"), ("", "left"))


def vol_rows(view: VolView) -> list[Row]:
    window = f"{view.realised_window}h" if view.realised_window else ""
    return [
        Row("realised", (Cell(f"Realised {window}".strip()), Cell(f.pct(view.realised_vol)),
                         Cell(view.realised_note or (f"Yang-Zhang {f.pct(view.range_vol)}"
                                                     if view.range_vol is not None else ""),
                              "muted"))),
        Row("forecast", (Cell("Forecast"), Cell(f.pct(view.forecast_vol)),
                         Cell(view.model or view.forecast_note, "muted"))),
        Row("atm", (Cell("ATM IV"), Cell(f.pct(view.atm_iv)),
                    Cell(f.short_symbol(view.atm_symbol) or view.atm_note, "muted"))),
    ]


def render_vol(
    view: VolView, palette: Palette = DEFAULT_PALETTE, previous: VolView | None = None,
    spark_width: int = SPARK_WIDTH,
) -> RenderableType:
    title = Text(f"{view.underlying} {f.short_symbol(view.symbol)}".strip(), style=style(palette, "header"))
    if view.empty_reason:
        return Group(title, Text(view.empty_reason, style=style(palette, "muted")))
    same = previous is not None and previous.underlying == view.underlying
    table = build_table(COLUMNS, vol_rows(view), palette,
                        vol_rows(previous) if same else None, show_header=False)
    parts: list[RenderableType] = [title, table]
    if view.price_history:
        line = Text("price ")
        line.append(f.sparkline(view.price_history, spark_width), style=style(palette, "bid"))
        parts.append(line)
    if view.vol_history:
        line = Text("vol   ")
        line.append(f.sparkline(view.vol_history, spark_width), style=style(palette, "amber"))
        parts.append(line)
    return Group(*parts)


class VolatilityPanel(Panel):
    """Volatility of the selected underlying. ``show(VolView)``."""

    BORDER_TITLE = "Volatility"

    placeholder = "waiting for the first engine run"

    def render_view(self, view, palette, previous):
        # sparklines fill the panel's width after the 6-character label
        width = self.content_size.width - 6 if self.content_size.width > 16 else SPARK_WIDTH
        return render_vol(view, palette, previous, spark_width=width)

    def on_resize(self) -> None:
        self._repaint()
