"""Cockpit themes as plain data (no imports; ``cockpit.theming`` turns them
into Textual ``Theme`` objects).

Each theme gives Textual's base colours plus the trading variables the
stylesheet and the panels use: ``profit``, ``loss``, ``bid``, ``ask``,
``breach`` (limits crossed, LIVE mode), ``amber`` (warning band of a gauge),
``changed`` (background of a value that just changed), ``stale`` (text of
out-of-date data), ``live`` (background of the LIVE mode badge).

The high-contrast theme keeps profit/loss distinguishable without hue
(blue/orange for the common red-green deficiency) at maximum luminance contrast.
"""

DARK = {
    "name": "cockpit-dark",
    "dark": True,
    "primary": "#4c9be8",
    "secondary": "#8a7fd6",
    "accent": "#f0b429",
    "warning": "#f0b429",
    "error": "#ef4f4f",
    "success": "#2fbf71",
    "foreground": "#d8dee9",
    "background": "#0f1419",
    "surface": "#161c24",
    "panel": "#1e2630",
    "variables": {
        "profit": "#2fbf71",
        "loss": "#ef4f4f",
        "bid": "#2fbf71",
        "ask": "#ef4f4f",
        "breach": "#e02424",
        "amber": "#f0b429",
        "changed": "#2b3a4d",
        "stale": "#7b8594",
        "live": "#b91c1c",
    },
}

LIGHT = {
    "name": "cockpit-light",
    "dark": False,
    "primary": "#1d5fa8",
    "secondary": "#5b4fb8",
    "accent": "#b7791f",
    "warning": "#b7791f",
    "error": "#c81e1e",
    "success": "#1a7f48",
    "foreground": "#1f2933",
    "background": "#f7f9fb",
    "surface": "#ffffff",
    "panel": "#e9eef3",
    "variables": {
        "profit": "#1a7f48",
        "loss": "#c81e1e",
        "bid": "#1a7f48",
        "ask": "#c81e1e",
        "breach": "#c81e1e",
        "amber": "#b7791f",
        "changed": "#dbe7f5",
        "stale": "#8a94a3",
        "live": "#c81e1e",
    },
}

HIGH_CONTRAST = {
    "name": "cockpit-high-contrast",
    "dark": True,
    "primary": "#ffffff",
    "secondary": "#ffff00",
    "accent": "#ffff00",
    "warning": "#ffff00",
    "error": "#ff8c00",
    "success": "#3fa9ff",
    "foreground": "#ffffff",
    "background": "#000000",
    "surface": "#000000",
    "panel": "#1a1a1a",
    "variables": {
        "profit": "#3fa9ff",
        "loss": "#ff8c00",
        "bid": "#3fa9ff",
        "ask": "#ff8c00",
        "breach": "#ff0000",
        "amber": "#ffff00",
        "changed": "#404040",
        "stale": "#a0a0a0",
        "live": "#ff0000",
    },
}

THEMES = {t["name"]: t for t in (DARK, LIGHT, HIGH_CONTRAST)}
DEFAULT_THEME = DARK["name"]
TRADING_VARIABLES = tuple(DARK["variables"])
