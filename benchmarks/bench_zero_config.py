"""What a zero-config venue start costs. Prints JSON.

Figures: the time to choose the defaults from a Deribit-sized market list (BTC and
ETH, 12 expiries x 60 strikes x call/put = 2,880 options beside the perpetuals), and
per venue the HTTP requests its feed makes to connect with no symbols configured
(against the offline recorded fixtures of ``tests/venues/test_zero_config.py``: one
market load, the perpetuals' two tickers, server time, leverage tiers) and how many
instruments it then shows (at most 26).

    .venv/bin/python benchmarks/bench_zero_config.py [--runs 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._timing import interleaved  # noqa: E402
from cockpit.venues.defaults import choose_defaults  # noqa: E402

DAY = 86_400_000
NOW = 1_796_369_400_000  # 2026-12-04 07:30 UTC


def deribit_sized_markets() -> dict[str, dict]:
    markets = {}
    for base, atm, step in (("BTC", 100_000, 1_000), ("ETH", 3_800, 50)):
        markets[f"{base}/USD:{base}"] = {"swap": True, "option": False, "active": True,
                                         "base": base, "settle": base}
        for e in range(12):
            expiry = NOW + (e + 1) * DAY
            for i in range(-30, 30):
                for kind in ("call", "put"):
                    k = atm + i * step
                    markets[f"{base}/USD:{base}-{e}-{k}-{kind[0].upper()}"] = {
                        "swap": False, "option": True, "active": True, "base": base,
                        "settle": base, "expiry": expiry, "strike": float(k),
                        "optionType": kind}
    return markets


async def connect_requests(venue: str) -> dict:
    from cockpit.venues.ccxt_feed import CcxtFeed
    from cockpit.venues.registry import adapter_for
    from tests.venues import test_zero_config as zc
    from tests.venues.recorded_http import recorded_exchange

    class Sink:
        instruments: list = []

        def on_instruments(self, instruments):
            self.instruments = list(instruments)

        def __getattr__(self, name):
            return lambda *a, **k: None

    sink = Sink()
    feed = CcxtFeed(adapter_for(venue), argparse.Namespace(symbols=()), clock=lambda: zc.NOW_S)
    exchange, http = recorded_exchange(adapter_for(venue), zc.ROUTES[venue], zc.EMPTY[venue],
                                       credentials=None)
    exchange.enableRateLimit = False
    feed._ex, feed._sink = exchange, sink
    try:
        await feed._connect()
    finally:
        await exchange.close()
    return {"requests": len(http.requests), "instruments": len(sink.instruments),
            "options": sum(1 for i in sink.instruments if i.kind == "option")}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=50)
    args = p.parse_args()
    markets = deribit_sized_markets()
    prices = {"BTC": 100_400.0, "ETH": 3_810.0}
    timing = interleaved({"choose": lambda: choose_defaults("deribit", markets, prices, NOW)},
                         args.runs)["choose"]
    chosen = choose_defaults("deribit", markets, prices, NOW)
    venues = {v: asyncio.run(connect_requests(v))
              for v in ("deribit", "okx", "bybit", "binanceusdm")}
    print(json.dumps({
        "benchmark": "zero_config_defaults",
        "markets": len(markets), "chosen": len(chosen), "choose_defaults": timing,
        "connect_with_no_symbols": venues,
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "summary": [
            {"name": f"choose defaults from {len(markets):,} markets", "work": "1 start",
             "unit": "ms", "median": timing["median_ms"], "worst": timing["worst_ms"],
             "baseline": None, "ratio": None},
        ],
    }, indent=2))


if __name__ == "__main__":
    main()
