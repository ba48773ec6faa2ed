"""`sizing` is a pure library: importing all of it loads nothing of the app.

DESIGN.md: sizing imports numpy, scipy, arch and the standard library, never
textual, rich, ccxt, httpx, asyncio or sqlite, and knows nothing of cockpit or
widgets. Checked in a fresh interpreter, since this test process has loaded them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {"textual", "rich", "ccxt", "httpx", "cockpit", "widgets", "asyncio", "sqlite3"}

# One interpreter, two snapshots: after the light modules, then after every submodule.
_PROBE = """
import importlib, json, pkgutil, sys
def top():
    return sorted({m.split(".")[0] for m in sys.modules})
import sizing, sizing.greeks, sizing.volatility, sizing.kelly, sizing.allocation
light = top()
names = sorted(m.name for m in pkgutil.iter_modules(sizing.__path__))
for name in names:
    importlib.import_module("sizing." + name)
print(json.dumps({"light": light, "submodules": names, "all": top()}))
"""


@pytest.fixture(scope="module")
def probe():
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_every_sizing_module_loads_no_app_module(probe):
    assert {"greeks", "volatility", "kelly", "allocation"} <= set(probe["submodules"])
    assert FORBIDDEN.isdisjoint(probe["all"]), FORBIDDEN & set(probe["all"])


def test_arch_loads_only_when_a_garch_fit_is_asked_for(probe):
    # arch (and the pandas it pulls in) costs over a second to import; the package and
    # the Greeks / vol / Kelly / allocation modules must not pay it up front.
    assert "arch" not in probe["light"] and "pandas" not in probe["light"]
