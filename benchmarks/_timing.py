"""Timing helpers shared by the benchmarks: interleaved repetitions so a busy
neighbour on a shared machine slows every contender alike, median and worst of
wall clock and process CPU time, in milliseconds."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable


def interleaved(fns: dict[str, Callable[[], object]], runs: int) -> dict[str, dict]:
    """Run each function once per round, ``runs`` rounds (after one warm-up call each)."""
    for fn in fns.values():
        fn()
    wall: dict[str, list[float]] = {name: [] for name in fns}
    cpu: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall[name].append((time.perf_counter() - w0) * 1e3)
            cpu[name].append((time.process_time() - c0) * 1e3)
    return {name: figures(wall[name], cpu[name]) for name in fns}


def figures(wall: list[float], cpu: list[float] | None = None) -> dict:
    out = {"median_ms": round(statistics.median(wall), 3), "worst_ms": round(max(wall), 3)}
    if cpu:
        out["cpu_median_ms"] = round(statistics.median(cpu), 3)
    return out


def child_cpu_s(pid: int | None) -> float:
    """User + system CPU seconds of a live process (all its threads), from /proc
    (0 if unknown)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, TypeError):
        return 0.0


def garch_shown(app) -> bool:
    """The cockpit's first GARCH-based run is done and shown (not the quick EWMA one)."""
    r = app.desk.last_result
    return r is not None and not r.provisional and not app._engine_busy
