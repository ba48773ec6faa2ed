"""Themes: plain dicts with every trading variable, turned into Textual themes;
the stylesheet uses theme variables only (no hex colours)."""

from __future__ import annotations

import re

import pytest
from textual.app import App

import themes
from cockpit import theming


def test_every_theme_defines_every_trading_variable_and_registers():
    app = App()
    names = theming.register_themes(app)
    assert names == ["cockpit-dark", "cockpit-light", "cockpit-high-contrast"]
    for name in names:
        theme = app.get_theme(name)
        assert set(themes.TRADING_VARIABLES) <= set(theme.variables)
    assert app.get_theme("cockpit-light").dark is False
    # profit and loss must differ in every theme, or a sign colour says nothing
    for spec in themes.THEMES.values():
        v = spec["variables"]
        assert v["profit"] != v["loss"] and v["bid"] != v["ask"]


def test_a_theme_missing_a_variable_is_refused_with_its_name():
    spec = dict(themes.DARK, name="broken", variables={"profit": "#00ff00"})
    with pytest.raises(ValueError, match="broken.*loss"):
        theming.build_theme(spec)


def test_stylesheet_has_no_hex_colours_and_uses_the_trading_variables():
    css = theming.CSS_PATH.read_text()
    declarations = re.findall(r":\s*([^;{}]*);", css)
    assert not [d for d in declarations if re.search(r"#[0-9a-fA-F]{3,8}\b", d)]
    for var in ("breach", "amber", "stale", "live"):
        assert f"${var}" in css


@pytest.mark.parametrize(("alias", "name"), [
    ("dark", "cockpit-dark"), ("Light", "cockpit-light"),
    ("high-contrast", "cockpit-high-contrast"),
    ("cockpit-light", "cockpit-light"), ("nord", "nord"), ("neon", None),
])
def test_theme_aliases(alias, name):
    assert theming.theme_name(alias, available=["nord"]) == name


def test_palette_takes_theme_colours_and_survives_unparseable_ones():
    from widgets.palette import DEFAULT_PALETTE, palette_from_variables

    p = palette_from_variables({"profit": "#00ff00", "loss": "not a colour", "live": "#ff0000"})
    assert p["profit"] == "#00ff00" and p["ok"] == "#00ff00"
    assert p["loss"] == DEFAULT_PALETTE["loss"]
    assert p["live"] == "bold white on #ff0000"
