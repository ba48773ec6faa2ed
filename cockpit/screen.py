"""The main screen: one widget per panel, fed views built from the latest snapshot."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid
from textual.screen import Screen
from textual.widgets import Footer

from cockpit import views
from cockpit.model import Snapshot
from widgets.depth import DepthPanel
from widgets.event_log import EventLog
from widgets.greeks import GreeksPanel
from widgets.margin import MarginPanel
from widgets.positions import PositionsPanel
from widgets.status import StatusBar
from widgets.suggestions import SuggestionsPanel
from widgets.volatility import VolatilityPanel

PANELS = (
    (MarginPanel, "margin", "Margin health"),
    (DepthPanel, "depth", "Depth"),
    (GreeksPanel, "greeks", "Greeks"),
    (VolatilityPanel, "volatility", "Volatility"),
    (PositionsPanel, "positions", "Positions & orders"),
    (EventLog, "log", "Event log"),
    (SuggestionsPanel, "suggestions", "Suggestions"),
)


class MainScreen(Screen):
    """All panels on one screen (layout in themes/cockpit.tcss)."""

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Grid(id="main"):
            for cls, wid, title in PANELS:
                w = cls(id=wid)
                w.border_title = title
                yield w
        yield Footer()

    def show_market(self, snap: Snapshot, *, forecasts, selected: str | None,
                    underlying: str, suggestion_row, config) -> None:
        """Rebuild the market- and account-driven panels from one snapshot."""
        disp, sizing = config.display, config.sizing
        self.query_one(MarginPanel).show(
            views.margin_view(snap, forecasts, (disp.margin_amber, disp.margin_red)))
        self.query_one(GreeksPanel).show(views.greeks_view(snap, sizing.delta_band_usd))
        self.query_one(DepthPanel).show(views.depth_view(
            snap, selected, suggestion_row, stale_after_s=sizing.stale_after_s))
        self.query_one(PositionsPanel).show(views.positions_view(snap))
        self.query_one(VolatilityPanel).show(views.vol_view(snap, underlying, forecasts))
        self.query_one(DepthPanel).border_title = f"Depth {selected or ''}".strip()
        self.query_one(VolatilityPanel).border_title = f"Volatility {underlying}".strip()
