"""Turn the plain theme dicts in ``themes`` into Textual ``Theme`` objects.

The trading variables (``profit``, ``loss``, ``bid``, ``ask``, ``breach``,
``amber``, ``changed``, ``stale``, ``live``) become CSS variables, used as
``$profit`` in ``themes/cockpit.tcss`` and read by the panels through
``widgets.palette``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual.app import App
from textual.theme import Theme

import themes

CSS_PATH = Path(themes.__file__).with_name("cockpit.tcss")
DEFAULT_THEME = themes.DEFAULT_THEME

_BASE_KEYS = (
    "primary", "secondary", "warning", "error", "success", "accent",
    "foreground", "background", "surface", "panel",
)


def build_theme(spec: dict) -> Theme:
    """One ``themes`` dict -> ``Theme``; a missing trading variable is an error
    (a panel would otherwise fall back to an unreadable default)."""
    missing = [v for v in themes.TRADING_VARIABLES if v not in spec.get("variables", {})]
    if missing:
        raise ValueError(f"theme {spec.get('name')!r}: variables missing {missing}; add them")
    return Theme(
        name=spec["name"],
        dark=spec.get("dark", True),
        variables=dict(spec["variables"]),
        **{k: spec[k] for k in _BASE_KEYS if k in spec},
    )


def cockpit_themes() -> list[Theme]:
    return [build_theme(spec) for spec in themes.THEMES.values()]


def register_themes(app: App) -> list[str]:
    """Register the cockpit themes on ``app``; returns their names (dark first)."""
    names = []
    for theme in cockpit_themes():
        app.register_theme(theme)
        names.append(theme.name)
    return names


def theme_variable_defaults() -> dict[str, str]:
    """Fallback values of the trading variables for themes that do not define
    them (Textual's built-in themes). Return this from
    ``App.get_theme_variable_defaults`` so that switching to any theme from
    the command palette still parses ``cockpit.tcss``."""
    return dict(themes.THEMES[DEFAULT_THEME]["variables"])


ALIASES = {
    "dark": "cockpit-dark",
    "light": "cockpit-light",
    "high-contrast": "cockpit-high-contrast",
    "high_contrast": "cockpit-high-contrast",
    "hc": "cockpit-high-contrast",
}


def theme_name(name: str, available: Iterable[str] = ()) -> str | None:
    """The registered theme a trader means by ``name`` ("dark", "light",
    "high-contrast", or any full theme name in ``available``); None if unknown."""
    key = name.strip().lower()
    if key in ALIASES:
        return ALIASES[key]
    if key in themes.THEMES or key in set(available):
        return key
    return None
