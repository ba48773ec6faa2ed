"""Paper broker market orders per second, each walking 25 levels of a 50-level book.

Prints one JSON object. A round is a buy that takes the first 25 asks and a sell
that takes the first 25 bids (the position goes back to flat, so margin never
binds), with the book re-sent before each order as a feed would. Two journals:
in memory and a SQLite file in write-ahead mode (what ``--state`` uses).
Baseline in the same run: ``walk_levels`` alone on the same book, i.e. the
matching without the ledger, the margin check and the account revaluation.

    .venv/bin/python benchmarks/bench_broker.py [--orders 400]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import numpy as np
from _timing import figures

from cockpit.model import Book, OrderRequest, Ticker
from cockpit.paper import PaperBroker
from cockpit.paper.matching import walk_levels
from cockpit.venues.sim import SimMarket

LEVELS = 50
WALKED = 25


def _book(symbol: str, mid: float, step: float, seq: int) -> Book:
    prices = np.arange(1, LEVELS + 1) * step
    amounts = np.full(LEVELS, 0.4)
    bids = np.column_stack([mid - prices, amounts])
    asks = np.column_stack([mid + prices, amounts])
    return Book(symbol, seq, bids, asks, seq)


def _run(state_path, orders: int) -> dict:
    market = SimMarket(seed=5, start_ms=1_795_000_000_000, history_bars=100)
    perp = next(i for i in market.instruments() if i.symbol == "BTC/USDT:USDT")
    clock = [1_795_000_000_000]
    broker = PaperBroker(market.instruments(), state_path=state_path, clock=lambda: clock[0])
    broker.seed({"USDT": 10_000_000.0}, [])
    mid = 90_000.0
    broker.on_ticker(Ticker(perp.symbol, clock[0], mid - 0.5, mid + 0.5, mid, mid, mid))
    amount = 0.4 * WALKED
    times = []
    for i in range(orders):
        clock[0] += 10
        broker.on_book(_book(perp.symbol, mid, 0.5, clock[0]))
        side = "buy" if i % 2 == 0 else "sell"
        t0 = time.perf_counter()
        order = broker.place_order(OrderRequest(perp.symbol, side, "market", amount))
        times.append((time.perf_counter() - t0) * 1e3)
        assert order.status == "closed", order
    broker.close()
    out = figures(times)
    out["orders_per_s"] = round(1e3 / out["median_ms"], 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=400)
    args = ap.parse_args()
    levels = _book("X", 90_000.0, 0.5, 0).asks
    walk_times = []
    for _ in range(2000):
        t0 = time.perf_counter()
        walk_levels(levels, 0.4 * WALKED, None, "buy")
        walk_times.append((time.perf_counter() - t0) * 1e3)
    in_memory = _run(None, args.orders)
    with tempfile.TemporaryDirectory() as tmp:
        on_disk = _run(os.path.join(tmp, "paper.sqlite"), args.orders)
    walk = figures(walk_times)
    print(json.dumps({
        "benchmark": "paper_broker_market_orders",
        "book_levels": LEVELS, "levels_walked": WALKED, "orders": args.orders,
        "in_memory_journal": in_memory,
        "sqlite_file_journal": on_disk,
        "baseline_walk_levels_only": walk,
        "ratio_to_baseline_in_memory": round(in_memory["median_ms"] / walk["median_ms"], 1),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "summary": [
            {"name": "paper market order, 25 of 50 levels (memory)", "work": "1 order", "unit": "ms",
             "median": in_memory["median_ms"], "worst": in_memory["worst_ms"],
             "baseline": "walk_levels", "ratio": round(in_memory["median_ms"]
                                                       / walk["median_ms"], 1)},
            {"name": "paper market order, 25 of 50 levels (sqlite file)", "work": "1 order", "unit": "ms",
             "median": on_disk["median_ms"], "worst": on_disk["worst_ms"],
             "baseline": "walk_levels", "ratio": round(on_disk["median_ms"]
                                                       / walk["median_ms"], 1)},
        ],
    }, indent=2))


if __name__ == "__main__":
    main()
