"""The main screen: one widget per panel, fed views built from the latest snapshot."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer

from cockpit import views
from cockpit.model import Snapshot
from cockpit.views.liquidation_memo import LiquidationMemo
from widgets.depth import DepthPanel
from widgets.event_log import EventLog
from widgets.format import short_symbol
from widgets.greeks import GreeksPanel
from widgets.margin import MarginPanel
from widgets.positions import PositionsPanel
from widgets.status import StatusBar
from widgets.suggestions import SuggestionsPanel
from widgets.volatility import VolatilityPanel

SLOW_PANELS = ("margin", "greeks", "positions", "volatility", "suggestions")

LEFT = (  # the wide tables get the wide column
    (MarginPanel, "margin", "Margin health"),
    (GreeksPanel, "greeks", "Greeks"),
    (PositionsPanel, "positions", "Positions & orders  c cancel · e amend order"),
    (SuggestionsPanel, "suggestions", "Suggestions  a approve · x reject · s style · R approve reducing"),
)
RIGHT = (
    (DepthPanel, "depth", "Depth"),
    (VolatilityPanel, "volatility", "Volatility"),
    (EventLog, "log", "Event log"),
)


class MainScreen(Screen):
    """All panels on one screen (layout in themes/cockpit.tcss)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # the account's liquidation levels, solved again only when they can have moved
        self.liquidation_levels = LiquidationMemo()
        self._solved_ahead = False  # the margin's solve ran a frame ahead of the panel

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Horizontal(id="main"):
            for column, panels in (("left", LEFT), ("right", RIGHT)):
                with Vertical(id=column):
                    for cls, wid, title in panels:
                        w = cls(id=wid)
                        w.border_title = title
                        yield w
        yield Footer()

    def show_market(self, snap: Snapshot, *, forecasts, selected: str | None,
                    underlying: str, suggestion_row, suggestions, config,
                    which: tuple[str, ...] = SLOW_PANELS, depth: bool = True,
                    defer_solve: bool = False) -> tuple[str, ...]:
        """Rebuild the panels from one snapshot: the ladder (unless ``depth`` is False), and of the
        account panels only those named in ``which``. The App rotates through
        them one per frame — a trader cannot read a Greeks table that changes 50
        times a second, and one panel per frame keeps every frame short.

        With ``defer_solve``, a margin panel whose liquidation levels are due to be
        solved again gets only the solve in this frame and is returned, to be shown
        on the next (the solve and the panel were one 10-13 ms frame once a second)."""
        disp, sizing = config.display, config.sizing
        deferred: tuple[str, ...] = ()
        if depth:
            ladder = self.query_one(DepthPanel)
            _show(ladder, views.depth_view(snap, selected, suggestion_row,
                                           stale_after_s=sizing.stale_after_s))
            _title(ladder, f"Depth {short_symbol(selected or '')}".strip())
        one_account = len(snap.accounts) < 2  # several: the levels are the venues' own
        if "margin" in which and defer_solve and one_account and not self._solved_ahead \
                and self.liquidation_levels.due(snap):
            self.liquidation_levels(snap)
            deferred, which = ("margin",), tuple(w for w in which if w != "margin")
        if "margin" in which:
            # shown now even if due again: a market fast enough to make the solve due
            # every frame (--acceleration 3600) would otherwise never see the panel
            self._solved_ahead = False
            levels = self.liquidation_levels(snap) if one_account else None
            _show(self.query_one(MarginPanel),
                  views.margin_view(snap, forecasts, (disp.margin_amber, disp.margin_red),
                                    buffer_sigmas=sizing.liquidation_buffer_sigmas,
                                    liquidations=levels))
        if "greeks" in which:
            _show(self.query_one(GreeksPanel), views.greeks_view(snap, sizing.delta_band_usd))
        if "positions" in which:
            _show(self.query_one(PositionsPanel), views.positions_view(snap))
        if "volatility" in which:
            vol = self.query_one(VolatilityPanel)
            _show(vol, views.vol_view(snap, underlying, forecasts))
            _title(vol, f"Volatility {underlying}  C chain".strip())
        if "suggestions" in which:
            _show(self.query_one(SuggestionsPanel), suggestions)
        if deferred:
            self._solved_ahead = True
        return deferred


def _title(panel, title: str) -> None:
    """Setting a border title refreshes the widget even when it is the same: set it
    only when it changed (measured: demo CPU 34 % -> 26 % at 50 ticks/s)."""
    if panel.border_title != title:
        panel.border_title = title


def _show(panel, view) -> None:
    """Hand a panel its view unless it is the one already shown (no repaint)."""
    if panel.view != view:
        panel.show(view)
