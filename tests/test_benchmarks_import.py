"""Every benchmark still imports against today's code (a renamed module once left
``make bench`` broken with nothing red): importing runs no benchmark."""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.parametrize("path", sorted(BENCH.glob("*.py")), ids=lambda p: p.name)
def test_the_benchmark_imports(path, monkeypatch):
    if path.name == "numba_black76.py":  # the optional compiled yardstick (bench extra)
        pytest.importorskip("numba", reason="numba is in the bench extra only")
    monkeypatch.syspath_prepend(str(BENCH))
    spec = importlib.util.spec_from_file_location(f"_bench_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(spec.name, None)
