"""Rich styles for the panels' renderers, taken from the active theme.

Renderers are pure functions of (view, palette); the widget builds the palette
from the App's CSS variables (``$profit`` ...) so a theme switch recolours the
numbers too. ``DEFAULT_PALETTE`` (plain ANSI colours) serves tests and any
caller without an App.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.errors import StyleSyntaxError
from rich.style import Style

Palette = Mapping[str, str]

DEFAULT_PALETTE: Palette = {
    "profit": "green",
    "loss": "red",
    "bid": "green",
    "ask": "red",
    "breach": "bold white on red",
    "amber": "yellow",
    "ok": "green",
    "changed": "on grey23",
    "stale": "dim",
    "live": "bold white on red",
    "muted": "dim",
    "header": "bold",
}


def palette_from_variables(variables: Mapping[str, str]) -> dict[str, str]:
    """Map the App's CSS variables (``app.get_css_variables()``) to Rich styles.
    A value Rich cannot parse (a CSS-only colour form) keeps the plain default."""
    wanted = {key: variables[key] for key in ("profit", "loss", "bid", "ask", "amber", "stale")
              if key in variables}
    if "profit" in variables:
        wanted["ok"] = variables["profit"]
    if "changed" in variables:
        wanted["changed"] = f"on {variables['changed']}"
    for key in ("breach", "live"):
        if key in variables:
            wanted[key] = f"bold white on {variables[key]}"
    p = dict(DEFAULT_PALETTE)
    for key, value in wanted.items():
        try:
            Style.parse(value)
        except StyleSyntaxError:
            continue
        p[key] = value
    return p


def style(palette: Palette, *keys: str) -> str:
    """Combine palette entries (missing or empty keys are skipped)."""
    return " ".join(palette[k] for k in keys if k and palette.get(k))
