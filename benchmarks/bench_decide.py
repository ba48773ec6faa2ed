"""Benchmark: one full ``sizing.policy.decide`` on the demo account, with forecasts cached
and with a fresh GARCH fit (forecasts fitted now). Prints JSON.

Usage: ``.venv/bin/python benchmarks/bench_decide.py [--runs N] [--seed S]``

Figures are medians over ``--runs`` in milliseconds, on one core. "cached" is
what the engine pays on most runs (forecasts reused until a new hourly bar
closes); "fit_now" adds a warm-started GARCH fit per bar series (as on a new
bar) and "fit_cold" a fit from scratch (the first run). Aim: cached <= 20 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time


def _median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    from cockpit.config import Config
    from cockpit.engine import HOURS_PER_YEAR
    from cockpit.engine_input import log_returns, state_from_snapshot
    from cockpit.runtime import build_demo
    from sizing.policy import PolicySettings, decide
    from sizing.volatility import garch_forecast

    config = Config()
    values = config.sizing.model_dump()
    values["drawdown_tiers"] = tuple(tuple(t) for t in values["drawdown_tiers"])
    settings = PolicySettings(**values)
    rt = build_demo(config, seed=args.seed, state_path=None)
    snapshot = rt.store.snapshot()

    series = {s: log_returns(b, 2000) for s, b in snapshot.bars.items() if len(b)}

    def fit(previous=None):
        return {s: garch_forecast(r, HOURS_PER_YEAR, horizon=24,
                                  previous=(previous or {}).get(s))
                for s, r in series.items()}

    t0 = time.perf_counter()
    cold = fit()  # also pays the arch import once
    first_fit_ms = (time.perf_counter() - t0) * 1e3
    state = state_from_snapshot(snapshot, forecasts=cold)
    decisions = decide(state, settings, forecasts=cold)

    def cached():
        decide(state, settings, forecasts=cold)

    def adapter_and_decide():
        decide(state_from_snapshot(snapshot, forecasts=cold), settings, forecasts=cold)

    def fit_now():
        f = fit(cold)
        decide(state_from_snapshot(snapshot, forecasts=f), settings, forecasts=f)

    def fit_cold():
        f = fit()
        decide(state_from_snapshot(snapshot, forecasts=f), settings, forecasts=f)

    fit_runs = max(3, args.runs // 5)
    out = {
        "benchmark": "sizing.policy.decide on the demo account",
        "instruments": len(state.instruments),
        "decisions": [f"{d.symbol}: {d.kind} {d.binding_constraint}" for d in decisions],
        "garch_series": len(series),
        "garch_models": {s: f.model for s, f in cold.items()},
        "decide_cached_ms": round(_median_ms(cached, args.runs), 2),
        "snapshot_to_decisions_cached_ms": round(_median_ms(adapter_and_decide, args.runs), 2),
        "decide_with_warm_garch_fit_ms": round(_median_ms(fit_now, fit_runs), 1),
        "decide_with_cold_garch_fit_ms": round(_median_ms(fit_cold, fit_runs), 1),
        "first_fit_including_arch_import_ms": round(first_fit_ms, 1),
        "aim_cached_ms": 20.0,
        "runs": args.runs,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    out["summary"] = [
        {"name": "policy decide, demo book, forecasts cached", "work": "1 run", "unit": "ms",
         "median": out["decide_cached_ms"], "worst": None, "baseline": "aim 20 ms",
         "ratio": round(out["decide_cached_ms"] / 20.0, 2)},
    ]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
