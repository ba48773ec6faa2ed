"""The risk gate's cost per order on the demo account. Prints JSON.

Figures: microseconds per ``RiskGate.check`` (median of repeats) for a perp market
order, an option limit, a verified close, and a first check on a new snapshot (the
coin prices and option deltas are computed once per snapshot, then reused).

    .venv/bin/python benchmarks/bench_risk_gate.py [--n 2000]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time

from cockpit.config import Config
from cockpit.model import OrderRequest
from cockpit.risk_gate import RiskGate, TradingState
from cockpit.runtime import build_demo


def per_call_us(fn, n: int, repeats: int = 5) -> float:
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        runs.append((time.perf_counter() - t) / n * 1e6)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    n = ap.parse_args().n
    cfg = Config()
    snap = build_demo(cfg, seed=7, state_path=None, start_ms=1_795_435_200_000).store.snapshot()
    gate = RiskGate(cfg.risk, cfg.sizing)
    option = next(p.symbol for p in snap.account.positions
                  if snap.instruments[p.symbol].is_option and p.contracts < 0)
    btc = "BTC/USDT:USDT"
    held = snap.account.position(btc).contracts
    orders = {
        "perp_market_buy": OrderRequest(btc, "buy", "market", 0.5),
        "option_limit_buy": OrderRequest(option, "buy", "limit", 1.0,
                                         snap.tickers[option].mark),
        "perp_close_reducing": OrderRequest(btc, "sell", "market", held),
    }
    out = {name: round(per_call_us(lambda o=o: gate.check(o, snap, TradingState.REDUCING,
                                                           now_s=0.0), n), 1)
           for name, o in orders.items()}
    fresh = [dataclasses.replace(snap, seq=snap.seq + i + 1) for i in range(200)]
    t = time.perf_counter()
    for s in fresh:
        gate.check(orders["perp_market_buy"], s, TradingState.ACTIVE, now_s=0.0)
    out["first_check_on_a_new_snapshot"] = round((time.perf_counter() - t) / len(fresh) * 1e6, 1)
    print(json.dumps({"unit": "us_per_check", "positions": len(snap.account.positions), **out}))


if __name__ == "__main__":
    main()
