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


CLIP_FLOOR = 16  # a free-text piece is cut to no fewer cells than this before it goes


def _segments(view: StatusView, palette: Palette) -> list[tuple[int, Text, bool]]:
    """(priority, piece, clippable) in screen order; 0 is never dropped. When the bar
    is too narrow the highest numbers go first — a clippable piece (the breakers,
    the trading reason, a venue's message) is first cut to the room left — so the
    trading state, each venue's data age and the clock are the last things on screen."""
    out: list[tuple[int, Text, bool]] = []

    def seg(priority: int, *parts: tuple[str, str | None], clippable: bool = False) -> None:
        t = Text()
        for s, cls in parts:
            t.append(s, style=style(palette, cls) if cls else "")
        out.append((priority, t, clippable))

    mode = view.mode.upper()
    seg(0, (f" {mode} ", "live" if mode == "LIVE" else "header"))
    state = view.trading_state.upper()
    seg(0, (f" {state}", "ok" if state == "ACTIVE" else "breach"))
    if view.trading_reason and state != "ACTIVE":
        seg(3, (f": {clip(view.trading_reason, 40)}", "amber"), clippable=True)
    for v in view.venues:
        if v.connected:
            old = v.age_s is not None and v.age_s > view.stale_after_s
            seg(0, (f"  {v.venue} ● {f.age(v.age_s)}", "stale" if old else "ok"))
        else:
            seg(0, (f"  {v.venue} ○ {'retrying' if v.retrying else 'disconnected'}", "breach"))
        if v.message:
            suspect = v.message.startswith("SUSPECT")
            seg(2 if suspect else 6, (f" {clip(v.message, VENUE_MESSAGE_CHARS)}",
                                      "breach" if suspect else "muted"), clippable=True)
        if v.dead_man:
            seg(5, (f" dms {v.dead_man}", "muted"))
    if view.engine_state == "failed":
        seg(1, ("  │ engine ", None),
            (f"FAILED {clip(view.engine_error, ENGINE_ERROR_CHARS)}", "breach"))
    elif view.engine_last_run_ms is None:
        seg(4, ("  │ engine ", None), (view.engine_state, "muted"))
    else:
        dur = "" if view.engine_duration_ms is None else f" {view.engine_duration_ms:.0f}ms"
        seg(4, ("  │ engine ", None),
            (f"{view.engine_state} {f.clock(view.engine_last_run_ms)}{dur}", None))
    if view.engine_next_run_s is not None:
        seg(7, (f" next {f.age(view.engine_next_run_s)}", "muted"))
    seg(1 if view.auto_execute else 5, ("  │ auto ", None),
        ("ON" if view.auto_execute else "OFF", "amber" if view.auto_execute else "muted"))
    if view.breakers:
        seg(1, ("  │ breakers ", None), (" · ".join(view.breakers), "breach"), clippable=True)
    else:
        seg(6, ("  │ breakers ", None), ("none", "muted"))
    seg(0, (f"  │ {f.clock(view.clock_ms, with_date=True)} UTC", None))
    return out


def render_status(view: StatusView, palette: Palette = DEFAULT_PALETTE, previous=None,
                  width: int | None = None) -> Text:
    """The bar's line; with ``width``, the least needed pieces are dropped until it
    fits (see :func:`_segments`), and what still overflows is cut at the end."""
    segments = _segments(view, palette)
    if width is not None and width > 0:
        for level in range(7, 0, -1):
            over = sum(len(t) for _, t, _ in segments) - width
            if over <= 0:
                break
            cut = next((t for p, t, c in reversed(segments)
                        if p == level and c and len(t) - over >= CLIP_FLOOR), None)
            if cut is not None:
                cut.truncate(len(cut) - over - 1)
                cut.append("…", style=cut.spans[-1].style if cut.spans else "")
                break
            segments = [s for s in segments if s[0] < level]
    text = Text()
    for _, t, _ in segments:
        text.append_text(t)
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
        return render_status(view, palette, previous, width=self.content_size.width or None)
