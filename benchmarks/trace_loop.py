"""Where the event loop's time goes: the cockpit headless on the built-in market,
each loop callback timed and named (a Textual timer by its callback, a worker by
its work), and each panel's ``show`` and view builder timed. Prints JSON, the
biggest share first. A profile for the notes, not a benchmark (``make bench``
does not run it).

    .venv/bin/python benchmarks/trace_loop.py [--tick-hz 10] [--seconds 10] [--refit]
                                              [--drop depth,margin,...]

``--refit`` refits GARCH every second in the forecast process, as bench_app does;
``--drop`` leaves panels out (what a panel costs, compositor passes included).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from asyncio import events
from collections import defaultdict

from cockpit import views
from cockpit.app import CockpitApp
from cockpit.config import Config
from cockpit.runtime import build_demo
from cockpit.screen import SLOW_PANELS, MainScreen
from widgets.depth import DepthPanel
from widgets.greeks import GreeksPanel
from widgets.margin import MarginPanel
from widgets.positions import PositionsPanel
from widgets.status import StatusBar
from widgets.suggestions import SuggestionsPanel
from widgets.volatility import VolatilityPanel

CALLS: dict[str, list[float]] = defaultdict(list)
_on = False
_names: dict[object, str] = {}


def _name(callback) -> str:
    owner = getattr(callback, "__self__", None)
    if owner in _names:
        return _names[owner]
    if isinstance(owner, asyncio.Task):
        coro = owner.get_coro()
        name = getattr(coro, "__qualname__", str(coro))
        me = getattr(getattr(coro, "cr_frame", None), "f_locals", {}).get("self")
        inner = getattr(me, "_callback", None) or getattr(me, "_work", None)
        if inner is not None:
            name += " -> " + getattr(inner, "__qualname__", type(inner).__name__)
        _names[owner] = name
        return name
    return getattr(callback, "__qualname__", type(callback).__name__)


def _install_loop_timer() -> None:
    run = events.Handle._run

    def timed(handle):
        if not _on:
            return run(handle)
        t0 = time.perf_counter()
        try:
            return run(handle)
        finally:
            CALLS["loop: " + _name(handle._callback)].append(time.perf_counter() - t0)

    events.Handle._run = timed


def _timed(owner, attr: str, label: str) -> None:
    fn = getattr(owner, attr)

    def wrapper(*args, **kwargs):
        if not _on:
            return fn(*args, **kwargs)
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            CALLS[label].append(time.perf_counter() - t0)

    setattr(owner, attr, wrapper)


def _drop(panels: set[str]) -> None:
    show = MainScreen.show_market

    def without(self, snap, *, which=SLOW_PANELS, depth=True, **kw):
        return show(self, snap, which=tuple(w for w in which if w not in panels),
                    depth=depth and "depth" not in panels, **kw)

    MainScreen.show_market = without


async def trace(tick_hz: float, seconds: float, refit: bool) -> dict:
    global _on
    runtime = build_demo(Config(), seed=7, tick_hz=tick_hz, state_path=None)
    app = CockpitApp(runtime, engine_interval_s=1.0 if refit else 3600.0,
                     remember_theme=False, forecast_process=True)
    if refit:
        run = app.runner.run

        def run_refit(snap):
            app.runner._fitted_at.clear()
            return run(snap)

        app.runner.run = run_refit
    async with app.run_test(size=(160, 48)):
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 30:  # steady state: after the first GARCH run
            r = app.desk.last_result
            if r is not None and not r.provisional and not app._engine_busy:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(1.0)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        _on = True
        await asyncio.sleep(seconds)
        _on = False
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    app.runner.close()
    rows = []
    for label, d in sorted(CALLS.items(), key=lambda kv: -sum(kv[1])):
        ms = sorted(x * 1e3 for x in d)
        rows.append({"what": label, "share_of_a_core_pct": round(100 * sum(d) / wall, 2),
                     "n": len(ms), "p50_ms": round(statistics.median(ms), 2),
                     "p99_ms": round(ms[min(len(ms) - 1, int(0.99 * len(ms)))], 2),
                     "max_ms": round(ms[-1], 2)})
    return {"tick_hz": tick_hz, "seconds": round(wall, 1), "refit": refit,
            "process_cpu_pct_of_a_core": round(100 * cpu / wall, 1), "rows": rows[:30]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tick-hz", type=float, default=10.0)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--refit", action="store_true")
    ap.add_argument("--drop", default="")
    args = ap.parse_args()
    _install_loop_timer()
    for cls in (DepthPanel, MarginPanel, GreeksPanel, PositionsPanel, SuggestionsPanel,
                VolatilityPanel, StatusBar):
        _timed(cls, "show", f"{cls.__name__}.show")
    for name in ("depth_view", "margin_view", "greeks_view", "positions_view", "vol_view",
                 "suggestions_view"):
        _timed(views, name, f"views.{name}")
    if args.drop:
        _drop(set(args.drop.split(",")))
    print(json.dumps(asyncio.run(trace(args.tick_hz, args.seconds, args.refit)), indent=1))


if __name__ == "__main__":
    main()
