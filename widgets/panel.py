"""Base of the Static-rendered panels: keep the view, re-render on change.

``show(view)`` stores the view (the old one becomes ``previous`` for the
changed-cell highlight), sets the state classes and repaints once. A theme
switch repaints with the new palette. ``render_view`` is the pure renderer.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual.content import Content
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

    def _repaint(self) -> None:
        # Panels have a fixed size in the stylesheet, so new content never needs a
        # layout pass of the whole screen (which would re-render every widget).
        if self.view is None:
            self.update(self.placeholder, layout=False)
            return
        renderable = self.render_view(self.view, self.palette, self.previous)
        self.update(as_content(renderable, self.content_size.width), layout=False)


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


def as_content(renderable: RenderableType, width: int) -> RenderableType | Content:
    """Text-only panels become Textual ``Content``, which Textual draws straight to
    strips; Rich renderables go through Rich's render pipeline on every repaint
    (several times a second for the ladder). Anything else is returned as is."""
    if width <= 0:
        return renderable
    text = _flatten(renderable, width)
    return renderable if text is None else Content.from_rich_text(text)
