"""Status bar: mode (LIVE unmistakable), venue connection and data age, engine
state, auto-execute, tripped breakers and the data clock (a frozen clock shows).

The bar is one line, so free text is bounded: a venue's message is cut to
``VENUE_MESSAGE_CHARS`` and an engine error to ``ENGINE_ERROR_CHARS`` (the whole
text is in the event log), so the trading state, the data clock and every venue's
age always stay on screen."""

from __future__ import annotations

from rich.text import Text

from cockpit.model.views import StatusView
from widgets import format as f
from widgets.palette import DEFAULT_PALETTE, Palette, style
from widgets.panel import Panel

VENUE_MESSAGE_CHARS = 28
ENGINE_ERROR_CHARS = 40


def clip(text: str, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters (an ellipsis marks the cut)."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def render_status(view: StatusView, palette: Palette = DEFAULT_PALETTE, previous=None) -> Text:
    mode = view.mode.upper()
    text = Text()
    text.append(f" {mode} ", style=style(palette, "live" if mode == "LIVE" else "header"))
    state = view.trading_state.upper()
    text.append(f" {state}", style=style(palette, "ok" if state == "ACTIVE" else "breach"))
    if view.trading_reason and state != "ACTIVE":
        reason = view.trading_reason
        text.append(f": {reason if len(reason) <= 40 else reason[:39] + '…'}",
                    style=style(palette, "amber"))
    for v in view.venues:
        text.append("  ")
        if v.connected:
            old = v.age_s is not None and v.age_s > view.stale_after_s
            text.append(f"{v.venue} ● {f.age(v.age_s)}",
                        style=style(palette, "stale" if old else "ok"))
        else:
            state = "retrying" if v.retrying else "disconnected"
            text.append(f"{v.venue} ○ {state}", style=style(palette, "breach"))
        if v.message:
            suspect = v.message.startswith("SUSPECT")
            text.append(f" {clip(v.message, VENUE_MESSAGE_CHARS)}",
                        style=style(palette, "breach" if suspect else "muted"))
        if v.dead_man:
            text.append(f" dms {v.dead_man}", style=style(palette, "muted"))
    text.append("  │ engine ")
    if view.engine_state == "failed":
        text.append(f"FAILED {clip(view.engine_error, ENGINE_ERROR_CHARS)}",
                    style=style(palette, "breach"))
    elif view.engine_last_run_ms is None:
        text.append(view.engine_state, style=style(palette, "muted"))
    else:
        dur = "" if view.engine_duration_ms is None else f" {view.engine_duration_ms:.0f}ms"
        text.append(f"{view.engine_state} {f.clock(view.engine_last_run_ms)}{dur}")
    if view.engine_next_run_s is not None:
        text.append(f" next {f.age(view.engine_next_run_s)}", style=style(palette, "muted"))
    text.append("  │ auto ")
    text.append("ON" if view.auto_execute else "OFF",
                style=style(palette, "amber" if view.auto_execute else "muted"))
    text.append("  │ breakers ")
    if view.breakers:
        text.append(" ".join(view.breakers), style=style(palette, "breach"))
    else:
        text.append("none", style=style(palette, "muted"))
    text.append(f"  │ {f.clock(view.clock_ms, with_date=True)} UTC")
    return text


class StatusBar(Panel):
    """One-line status bar. ``show(StatusView)``; classes -live, -replay, -breach."""

    placeholder = "starting…"

    def state_classes(self, view: StatusView) -> dict[str, bool]:
        return {
            "-live": view.mode == "live",
            "-replay": view.mode == "replay",
            "-breach": bool(view.breakers) or view.engine_state == "failed"
            or view.trading_state != "active",
        }

    def render_view(self, view, palette, previous):
        return render_status(view, palette, previous)
