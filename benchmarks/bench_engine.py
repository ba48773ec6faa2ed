"""One engine cycle (``EngineRunner.run``: snapshot -> state -> policy -> decisions)
on a book holding every option the built-in market lists, plus both perps.

Prints one JSON object. Three figures, interleaved over rounds: forecasts cached
(most runs), a GARCH refit of every bar series in the engine's thread (as on a
new hourly bar), and the same refit in the forecast process. Baseline in the
same run: the cached cycle on the demo's own five-position book.

The built-in market lists 170 options and the paper account takes a position in
each one it has a usable quote for (134 on seed 7): the sim has no 200 to hold,
so ``options_in_book`` says how many were held in this run.

    .venv/bin/python benchmarks/bench_engine.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import json
import os
from functools import partial

from _timing import interleaved

from cockpit.config import Config
from cockpit.desk import policy_settings
from cockpit.engine import EngineRunner
from cockpit.runtime import _paper_broker, build_demo
from cockpit.store import Store
from cockpit.venues.sim import SimFeed, SimMarket, dispatch


def big_book_snapshot(config: Config):
    """The demo's market with a position in every listed option and both perps."""
    market = SimMarket(seed=7, start_ms=1_795_000_000_000)
    feed = SimFeed(market)
    store = Store(mode="demo", clock=feed.now_ms)
    broker = _paper_broker(store, feed, None, market.instruments())
    store.on_instruments(market.instruments())
    for bars in market.bars():
        store.on_bars(bars)
    dispatch(store, market.full_update())
    positions = []
    for i, inst in enumerate(market.instruments()):
        mark = market.ticker(inst.symbol).mark
        if inst.is_option:
            positions.append((inst.symbol, 0.1 if i % 2 else -0.1, mark))
        else:
            positions.append((inst.symbol, 0.01 if inst.base == "BTC" else -0.1, mark))
    broker.seed({"USDT": 2_000_000.0, "BTC": 20.0}, positions)
    store.on_account(broker.account())
    snapshot = store.snapshot()
    held = sum(1 for p in snapshot.account.positions if p.symbol.endswith(("-C", "-P")))
    return snapshot, held


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    config = Config()
    snapshot, n_options = big_book_snapshot(config)
    demo = build_demo(config, seed=7, state_path=None).store.snapshot()
    settings = partial(policy_settings, config)
    cached = EngineRunner(settings)
    thread = EngineRunner(settings)
    process = EngineRunner(settings, forecast_process=True)
    small = EngineRunner(settings)
    for runner in (cached, thread, process):
        first = runner.run(snapshot)  # imports arch, fits cold, starts the child
        assert first.error is None, first.error
    small.run(demo)

    def refit(runner):
        runner._fitted_at.clear()  # as if a new bar had closed on every series
        result = runner.run(snapshot)
        assert result.refits >= 1 and result.error is None

    try:
        timed = interleaved({
            "cached": lambda: cached.run(snapshot),
            "refit_in_thread": lambda: refit(thread),
            "refit_in_process": lambda: refit(process),
            "baseline_demo_book_cached": lambda: small.run(demo),
        }, runs=args.rounds)
    finally:
        process.close()
    decisions = len(cached.run(snapshot).decisions)
    base = timed["baseline_demo_book_cached"]["median_ms"]
    print(json.dumps({
        "benchmark": "engine_cycle",
        "options_in_book": n_options,
        "positions": len(snapshot.account.positions) if snapshot.account else None,
        "decisions": decisions,
        **timed,
        "ratio_cached_to_demo_book": round(timed["cached"]["median_ms"] / base, 1),
        "note": "refit_in_process is wall time the engine thread waits, holding no GIL; "
                "cpu_median_ms there is this process only (the child fits)",
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "summary": [
            {"name": f"engine cycle, {n_options} options, {label}", "work": "1 run", "unit": "ms",
             "median": timed[key]["median_ms"], "worst": timed[key]["worst_ms"],
             "baseline": "demo book cached",
             "ratio": round(timed[key]["median_ms"] / base, 1)}
            for key, label in (("cached", "forecasts cached"),
                               ("refit_in_thread", "GARCH refit in thread"),
                               ("refit_in_process", "GARCH refit in process"))
        ],
    }, indent=2))


if __name__ == "__main__":
    main()
