"""Base of the Static-rendered panels: keep the view, re-render on change, redraw
only the lines that changed.

``show(view)`` stores the view (the old one becomes ``previous`` for the
changed-cell highlight), sets the state classes and repaints once. A theme
switch repaints with the new palette. ``render_view`` is the pure renderer.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.content import Content
from textual.geometry import Region
from textual.strip import Strip
from textual.visual import Visual
from textual.widgets import Static

from widgets.cells import FastTable, Fitted
from widgets.palette import DEFAULT_PALETTE, Palette, palette_from_variables

_CACHE: dict[tuple[int, str], Palette] = {}


def app_palette(widget) -> Palette:
    """The palette of the widget's App in its current theme (cached per theme)."""
    try:
        app = widget.app
    except Exception:  # not mounted: plain colours
        return DEFAULT_PALETTE
    key = (id(app), app.theme)
    if key not in _CACHE:
        _CACHE[key] = palette_from_variables(app.get_css_variables())
    return _CACHE[key]


class Panel(Static):
    """A panel that renders a view dataclass through a pure function."""

    placeholder = "waiting for data"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes)
        self.view: Any = None
        self.previous: Any = None

    def on_mount(self) -> None:
        self.watch(self.app, "theme", self._theme_changed, init=False)
        self._repaint()

    def _theme_changed(self, _theme: str) -> None:
        self._repaint()

    @property
    def palette(self) -> Palette:
        return app_palette(self)

    def show(self, view: Any) -> None:
        """Display ``view``; cells that differ from the last view are highlighted
        until the next ``show``. An unchanged view with nothing highlighted is a no-op."""
        if view == self.view and self.previous == self.view:
            return
        self.previous, self.view = self.view, view
        for name, on in self.state_classes(view).items():
            self.set_class(on, name)
        if self.is_mounted:
            self._repaint()

    def state_classes(self, view: Any) -> dict[str, bool]:
        """Dash-prefixed CSS state classes for ``view`` ("-breach", "-stale" ...)."""
        return {}

    def render_view(self, view: Any, palette: Palette, previous: Any) -> RenderableType:
        raise NotImplementedError

    def on_resize(self) -> None:
        self._repaint()  # tables are fitted to the width

    # -- line-by-line repaint ---------------------------------------------------------
    # A panel draws its own lines (Textual's line API) and repaints only the lines
    # whose text or styles changed since the last frame: on a moving market most of
    # a panel's lines are the same from one frame to the next.
    _keys: list | None = None  # per logical line: (plain text, spans, style); None: not in use
    _texts: list[Text] = []
    _strips: list[list[Strip] | None] = []  # per logical line, its rendered strips (lazily)
    _rows: list[tuple[int, int]] = []  # content row -> (logical line, strip within it)
    _base_style = None  # the visual style the strips were rendered with

    def _repaint(self) -> None:
        width = self.size.width
        text = None
        if self.view is not None and width > 0 and self.is_mounted:
            text = _lines(self.render_view(self.view, self.palette, self.previous), width)
        if text is None:  # placeholder, not laid out yet, or not plain text: the Static way
            self._keys = None
            self._repaint_static()
            return
        lines = text
        keys = [(ln.plain, tuple(ln.spans), str(ln.style), width) for ln in lines]
        old_keys, old_strips = self._keys, self._strips
        style = self.visual_style
        same_frame = old_keys is not None and len(old_keys) == len(keys) and (
            self._base_style == style
        )
        self._texts, self._keys, self._base_style = lines, keys, style
        if not same_frame:
            self._strips = [None] * len(lines)
            self._relayout()
            return
        changed = {i for i, (a, b) in enumerate(zip(old_keys, keys, strict=True)) if a != b}
        self._strips = [None if i in changed else st for i, st in enumerate(old_strips)]
        for i in changed:
            self._line_strips(i)
        if any(len(self._strips[i]) != len(old_strips[i] or ()) for i in changed):
            self._relayout()  # a wrapped line grew or shrank: everything below moves
            return
        rows = [y for y, (i, _) in enumerate(self._rows) if i in changed]
        if rows:
            self.refresh(*(Region(0, y, width, 1) for y in rows))

    def _line_strips(self, i: int) -> list[Strip]:
        strips = self._strips[i]
        if strips is None:
            line, width = self._texts[i], self._keys[i][3]
            if line.cell_len <= width and "\t" not in line.plain:
                # One row: Rich's segments under the panel's base style. Textual's
                # Visual path draws the same cells at several times the cost, and on
                # a moving book nearly every ladder line changes every tick.
                strip = Strip(line_segments(line, self.app.console), line.cell_len)
                strips = [strip.apply_style(self._base_style.rich_style)]
            else:  # a line that wraps: Textual's own wrapping
                content = Content.from_rich_text(line)
                strips = Visual.to_strips(self, content, width, None, self._base_style)
            self._strips[i] = strips
        return strips

    def _relayout(self) -> None:
        """Map content rows to lines and repaint all; a layout pass only when the
        row count changed and the panel's height follows its content."""
        before = len(self._rows)
        self._rows = [(i, j) for i in range(len(self._strips))
                      for j in range(len(self._line_strips(i)))]
        height = self.styles.height
        self.refresh(layout=len(self._rows) != before and (height is None or height.is_auto))

    @property
    def content(self):
        """What the panel shows (the drawn lines as one ``Text`` when drawn line by line)."""
        return Text("\n").join(self._texts) if self._keys is not None else super().content

    @content.setter
    def content(self, value) -> None:
        self._keys = None
        self.update(value)

    def render(self):
        if self._keys is not None:
            return Content.from_rich_text(self.content)
        return super().render()

    def get_content_height(self, container, viewport, width: int) -> int:
        if self._keys is None:
            return super().get_content_height(container, viewport, width)
        return len(self._rows)

    def render_line(self, y: int) -> Strip:
        if self._keys is None:
            return super().render_line(y)
        if self._base_style != self.visual_style:  # theme or state class changed the base
            self._repaint()
        if y < len(self._rows):
            i, j = self._rows[y]
            return self._line_strips(i)[j]
        return Strip.blank(self.size.width, self.visual_style.rich_style)

    def _repaint_static(self) -> None:
        # Panels have a fixed size in the stylesheet, so new content never needs a
        # layout pass of the whole screen (which would re-render every widget).
        if self.view is None:
            self.update(self.placeholder, layout=False)
            return
        renderable = self.render_view(self.view, self.palette, self.previous)
        self.update(as_content(renderable, self.content_size.width), layout=False)


def line_segments(line: Text, console) -> list[Segment]:
    """``Segment.simplify(line.render(console))``: the same segments, built straight from
    the spans when they do not overlap (every table line), several times faster than
    Rich's general span stack; anything else goes Rich's way."""
    text, spans = line.plain, line.spans
    if text and spans:
        get_style = console.get_style
        base = get_style(line.style, default=Style.null())
        out: list[Segment] = []
        pos = 0
        for span in sorted(spans, key=_start):
            start, end, st = span
            if start < pos or end > len(text):  # overlapping or out of range
                break
            if start > pos:
                out.append(Segment(text[pos:start], base))
            if end > start:
                out.append(Segment(text[start:end], base + get_style(st, default=Style.null())))
            pos = max(pos, end)
        else:
            if pos < len(text):
                out.append(Segment(text[pos:], base))
            return _merged(out)
    return list(Segment.simplify(line.render(console)))


def _start(span) -> int:
    return span.start


def _merged(segments: list[Segment]) -> list[Segment]:
    """Neighbours of one style as one segment (what ``Segment.simplify`` does)."""
    out = segments[:1]
    for seg in segments[1:]:
        last = out[-1]
        if seg.style == last.style:
            out[-1] = Segment(last.text + seg.text, last.style)
        else:
            out.append(seg)
    return out


def _flatten(renderable, width: int) -> Text | None:
    if isinstance(renderable, Text):
        return renderable
    if isinstance(renderable, FastTable | Fitted):
        return renderable.to_text(width)
    if isinstance(renderable, Group):
        parts = [_flatten(r, width) for r in renderable.renderables]
        if all(p is not None for p in parts):
            return Text("\n").join(parts)
    return None


def _lines(renderable, width: int) -> list[Text] | None:
    """``_flatten(renderable, width)`` split into its lines; a table's lines are taken
    as built rather than joined into one Text and split again."""
    if isinstance(renderable, FastTable):
        return renderable.lines(width)
    if isinstance(renderable, Group):
        parts = [_lines(r, width) for r in renderable.renderables]
        if all(p is not None for p in parts):
            return [line for p in parts for line in p]
        return None
    text = _flatten(renderable, width)
    if text is None:
        return None
    # joined as a Group's parts always were: a part's base style becomes a span
    return Text("\n").join([text]).split("\n", allow_blank=True)


def as_content(renderable: RenderableType, width: int) -> RenderableType | Content:
    """Text-only panels become Textual ``Content``, which Textual draws straight to
    strips; Rich renderables go through Rich's render pipeline on every repaint
    (several times a second for the ladder). Anything else is returned as is."""
    if width <= 0:
        return renderable
    text = _flatten(renderable, width)
    return renderable if text is None else Content.from_rich_text(text)
