"""DESIGN.md: widgets render plain data; they import textual, rich and the plain
types of cockpit.model only (no venue, no store, no sizing maths)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import widgets

ALLOWED = ("textual", "rich", "cockpit.model", "widgets")


def test_widgets_import_only_textual_rich_and_the_model():
    bad = []
    for path in Path(widgets.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top == "__future__":
                    continue
                if not any(name == a or name.startswith(a + ".") for a in ALLOWED):
                    bad.append(f"{path.name}: {name}")
    assert bad == []


def test_themes_import_nothing():
    import themes

    tree = ast.parse(Path(themes.__file__).read_text())
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
