"""Event log: suggestions, approvals, orders, fills and errors, time-stamped
with the data clock and bounded (oldest lines drop off)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog

from cockpit.model.views import LogEntry
from widgets import format as f
from widgets.palette import DEFAULT_PALETTE, Palette, style
from widgets.panel import app_palette

MAX_LINES = 500

_KIND_STYLE = {
    "error": "breach",
    "fill": "profit",
    "approval": "profit",
    "rejection": "muted",
    "auto": "amber",
    "suggestion": "",
    "order": "",
    "info": "muted",
    "refusal": "amber",
    "state": "breach",
    "kill": "breach",
    "liquidation": "breach",
    "cancel": "muted",
    "funding": "muted",
    "expiry": "",
    "reconcile": "amber",
}


def render_entry(entry: LogEntry, palette: Palette = DEFAULT_PALETTE) -> Text:
    """"12:00:01 fill       BTC/USDT perp sell 0.5 @ 60,000" with the kind coloured and
    every instrument named as the panels name it."""
    text = Text(f.clock(entry.ts_ms) + " ", style=style(palette, "muted"))
    text.append(f"{entry.kind:<10} ", style=style(palette, _KIND_STYLE.get(entry.kind, "")))
    text.append(f.symbols_in_text(entry.text))
    return text


class EventLog(RichLog):
    """Bounded, auto-scrolling log. ``add(LogEntry)`` appends one line."""

    BORDER_TITLE = "Event log"

    def __init__(self, *, max_lines: int = MAX_LINES, id: str | None = None,
                 classes: str | None = None) -> None:
        # wrap: the log column is narrow and a reason cut off mid-sentence helps no one
        super().__init__(max_lines=max_lines, wrap=True, markup=False, highlight=False,
                         auto_scroll=True, min_width=20, id=id, classes=classes)

    def add(self, entry: LogEntry) -> None:
        self.write(render_entry(entry, app_palette(self)))
