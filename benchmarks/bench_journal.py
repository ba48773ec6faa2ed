"""The journal's cost: durable writes per second with ``synchronous=FULL`` (what the
cockpit uses) against ``synchronous=NORMAL`` (the baseline, same run, same disk), an
order's whole life (intent, sent, fill, closed: four commits), and the reads the
cockpit makes at start (the event log's tail, ``why``) on a journal of 100,000 records.

Prints one JSON object. Latencies in milliseconds (p50 / p99 over the run). The file
lives in a temporary directory on the disk named in the output ("dir").

    .venv/bin/python benchmarks/bench_journal.py
"""

from __future__ import annotations

import json
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cockpit.journal import Journal

N_WRITES = 400
N_ORDERS = 100
N_BIG = 100_000
BTC = "BTC/USDT:USDT"


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * len(xs)))], 3)


def _writes(j: Journal, n: int) -> dict:
    lat = []
    t_all = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        j.write("suggestion", i, f"sell 2.5 {BTC}", execution_id=f"ex{i}", symbol=BTC,
                data={"engine_seq": i, "binding_constraint": "var",
                      "caps": {"var": 3.2, "kelly": 5.1}, "inputs": {"forecast_vol": 0.62}})
        lat.append((time.perf_counter() - t) * 1e3)
    total = time.perf_counter() - t_all
    return {"writes_per_s": round(n / total, 1), "p50_ms": _pct(lat, 0.5),
            "p99_ms": _pct(lat, 0.99)}


def _orders(j: Journal, n: int) -> dict:
    t0 = time.perf_counter()
    for i in range(n):
        cid = f"bench-{i}"
        j.order_intent(i, execution_id=f"ex{i}", client_order_id=cid, symbol=BTC, side="sell",
                       type="market", amount=2.5, price=None, reduce_only=True, who="auto")
        j.order_update(cid, i, status="sent")
        j.fill(i, fill_id=f"F{i}", client_order_id=cid, symbol=BTC, side="sell", amount=2.5,
               price=90_000.0)
        j.order_update(cid, i, status="closed", filled=2.5, average=90_000.0)
    total = time.perf_counter() - t0
    return {"orders_per_s": round(n / total, 1), "ms_per_order": round(total / n * 1e3, 3)}


def _timed(fn, repeat: int = 20) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return round(statistics.median(times), 3)


def _reads(d: Path) -> dict:
    j = Journal(d / "big.journal.sqlite")
    j._db.execute("PRAGMA synchronous=OFF")  # only to build the big file quickly
    for i in range(N_BIG // 4):
        exid = f"ex-{i:08d}"
        j.write("engine_run", i, "run", data={"engine_seq": i, "duration_ms": 800})
        j.write("suggestion", i, "sell", execution_id=exid, data={"engine_seq": i})
        j.order_intent(i, execution_id=exid, client_order_id=f"{exid}-0", symbol=BTC,
                       side="sell", type="market", amount=1.0, price=None, reduce_only=False,
                       who="auto")
        j.fill(i, fill_id=f"F{i}", client_order_id=f"{exid}-0", symbol=BTC, side="sell",
               amount=1.0, price=90_000.0)
    # As in a real account, all but the last few orders are finished.
    j._db.execute("UPDATE orders SET status='closed', filled=amount WHERE rowid <= ?",
                  (N_BIG // 4 - 5,))
    mid = f"ex-{N_BIG // 8:08d}"
    out = {"records": len(j.records(limit=N_BIG * 2)),
           "tail_200_ms": _timed(lambda: j.tail(200)),
           "why_ms": _timed(lambda: j.why(mid)),
           "why_from_fill_id_ms": _timed(lambda: j.why(f"F{N_BIG // 8}")),
           "fills_last_100_ms": _timed(lambda: j.records(kinds=["fill"], limit=100)),
           "unfinished_5_of_25k_orders_ms": _timed(lambda: j.orders(unfinished_only=True)),
           "file_mb": round((d / "big.journal.sqlite").stat().st_size / 1e6, 1)}
    assert len(j.why(mid)) == 4
    j.close()
    return out


def main() -> None:
    d = Path(tempfile.mkdtemp(prefix="bench-journal-"))
    try:
        full = Journal(d / "full.journal.sqlite")
        assert full.durability["synchronous"] == "FULL"
        normal = Journal(d / "normal.journal.sqlite")
        normal._db.execute("PRAGMA synchronous=NORMAL")  # the baseline only
        result = {
            "benchmark": "journal",
            "python": sys.version.split()[0], "machine": platform.machine(), "dir": str(d.parent),
            "full": _writes(full, N_WRITES), "normal_baseline": _writes(normal, N_WRITES),
            "order_lifecycle_full": _orders(full, N_ORDERS),
            "reads": _reads(d),
        }
        full.close()
        normal.close()
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
