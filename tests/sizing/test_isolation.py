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

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {"textual", "rich", "ccxt", "httpx", "cockpit", "widgets", "asyncio", "sqlite3"}

_PROBE = """
import importlib, json, pkgutil, sys
import sizing
names = sorted(m.name for m in pkgutil.iter_modules(sizing.__path__))
for name in names:
    importlib.import_module("sizing." + name)
print(json.dumps({"submodules": names, "loaded": sorted({m.split(".")[0] for m in sys.modules})}))
"""

_LIGHT = """
import json, sys
import sizing, sizing.greeks, sizing.volatility, sizing.kelly, sizing.allocation
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def _run(code: str):
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_every_sizing_module_loads_no_app_module():
    result = _run(_PROBE)
    assert {"greeks", "volatility", "kelly", "allocation"} <= set(result["submodules"])
    assert FORBIDDEN.isdisjoint(result["loaded"]), FORBIDDEN & set(result["loaded"])


def test_arch_loads_only_when_a_garch_fit_is_asked_for():
    # arch costs over a second to import; the package and these modules must not pay it.
    loaded = _run(_LIGHT)
    assert "arch" not in loaded and "pandas" not in loaded
