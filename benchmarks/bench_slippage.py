"""Realised slippage against mid of option cuts on the built-in market: market style
against passive style, with the fill rate and the time to fill (market time).

Prints one JSON object. A cut buys back ``--amount`` of the demo's short
102,000 call (the engine's first option cut) on a fresh demo account, through
the desk's one send path (``Desk.send_ticket``: risk gate, journal, paper broker).
Cut ``i`` runs on the market seeded ``i``, once per style, so the styles meet
the same prices. Three are compared: market, passive with the default
``[execution]`` settings, and passive allowed 200 bp steps every 10 s up to 600 bp
from arrival (the setting that filled most before the market had option takers).
``--passive KEY=VALUE`` overrides a default ``[execution]`` setting of the
"passive" variant. The market is stepped (one tick = 0.1 s x ``--acceleration`` of
market time), nothing sleeps; a passive cut runs until it is done or gives up
(``[execution] passive_timeout_s``).

Passive limits fill from the market's option takers (``cockpit.sim.flow``) behind
the estimated queue (``cockpit.paper.queue``), or when the book crosses them.

* slippage, bp of the arrival mid (best bid + best ask) / 2 just before the send:
  (VWAP of the fills - mid) / mid x 1e4 for a buy, positive = paid above mid; over
  the filled part only (an unfilled cut has none);
* vs expected (passive): realised slippage against the arrival mark (what the
  execution records) minus the expected figure the suggestion row shows (the
  first limit against the mark), and the share of filled cuts within one tick;
* fill rate: contracts filled / contracts asked, and the share of cuts filled whole;
* time to fill: market seconds from the send until the cut is filled whole (a cut
  given up has none; a market cut fills on the send, 0 s).

    .venv/bin/python benchmarks/bench_slippage.py [--cuts 200] [--amount 2.5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time

from cockpit.config import Config
from cockpit.desk import Desk
from cockpit.execution_style import expected_for_style, plan_for_style
from cockpit.model import OrderRequest
from cockpit.runtime import build_demo
from cockpit.venues.sim import dispatch

CALL = "BTC/USD:BTC-261225-102000-C"
START_MS = 1_795_435_200_000  # 2026-11-23 08:00 UTC, as the desk tests
MAX_TICKS = 400  # bounded: the passive timeout ends a cut long before
PASSIVE_KEYS = ("passive_step_bps", "passive_step_s", "max_worse_bps", "passive_timeout_s")


def _mid(rt) -> float:
    book = rt.store.snapshot().books[CALL]
    return (float(book.bids[0, 0]) + float(book.asks[0, 0])) / 2


def _bps(average: float, mid: float) -> float:
    return (average - mid) / mid * 1e4  # a buy: above mid is worse


# the styles compared: the default [execution] settings, and a passive cut allowed to
# step faster and further (200 bp every 10 s, up to 600 bp from the arrival price)
VARIANTS = {
    "market": ("market", {}),
    "passive": ("passive", {}),
    "passive_600bp": ("passive", {"passive_step_bps": 200, "passive_step_s": 10,
                                  "max_worse_bps": 600}),
}


async def _cut(seed: int, variant: str, amount: float, acceleration: float) -> dict:
    style, execution = VARIANTS[variant]
    config = Config.model_validate({"execution": execution})
    rt = build_demo(config, seed=seed, start_ms=START_MS, acceleration=acceleration)
    desk = Desk(config, rt.store, rt.broker, rt.journal)
    assert await desk.reconcile()
    mid, t0 = _mid(rt), rt.store.snapshot().ts_ms
    snap0 = rt.store.snapshot()
    held = snap0.account.position(CALL).contracts  # the demo is short this call
    orders = plan_for_style(CALL, held, held + amount, snap0, style, config.execution)
    expected, _, _ = expected_for_style(snap0, CALL, "buy", amount, style, orders,
                                        config.execution)
    report = await desk.send_ticket(OrderRequest(CALL, "buy", "market", amount), style=style)
    if report.error:
        return {"filled": 0.0, "error": report.error}
    if style == "market":
        (order,) = report.orders
        return {"filled": order.filled, "average": order.average, "mid": mid,
                "fill_s": 0.0 if order.filled >= amount - 1e-9 else None}
    ex = desk.executor.executions[report.execution_id]
    fill_s = None
    for _ in range(MAX_TICKS):
        if ex.finished:
            break
        dispatch(rt.store, rt.feed.market.step())
        await desk.step_executions()
        if fill_s is None and ex.filled >= amount - 1e-9:
            fill_s = (rt.store.snapshot().ts_ms - t0) / 1e3
    tick_bps = ex.tick / ex.arrival_price * 1e4
    return {"filled": ex.filled, "average": ex.average, "mid": mid, "fill_s": fill_s,
            "state": ex.state, "vs_expected_bps": None if ex.slippage_bps is None
            else ex.slippage_bps - expected, "tick_bps": tick_bps}


def _pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * len(xs)))], 2)


def _summary(cuts: list[dict], amount: float) -> dict:
    slip = [_bps(c["average"], c["mid"]) for c in cuts if c.get("average")]
    fills = [c["fill_s"] for c in cuts if c.get("fill_s") is not None]
    out = {
        "cuts": len(cuts),
        "slippage_vs_mid_bps": {
            "mean": round(statistics.fmean(slip), 1) if slip else None,
            "median": round(statistics.median(slip), 1) if slip else None,
            "p90": _pct(slip, 0.9), "worst": round(max(slip), 1) if slip else None,
        },
        "fill_rate": round(sum(c["filled"] for c in cuts) / (amount * len(cuts)), 3),
        "filled_whole": round(sum(c.get("fill_s") is not None for c in cuts) / len(cuts), 3),
        "refused": sum("error" in c for c in cuts),
        "time_to_fill_market_s": {
            "median": round(statistics.median(fills), 1) if fills else None,
            "p90": _pct(fills, 0.9), "worst": round(max(fills), 1) if fills else None,
        },
        "ended": {s: sum(c.get("state") == s for c in cuts)
                  for s in sorted({c["state"] for c in cuts if "state" in c})},
    }
    gaps = [c for c in cuts if c.get("vs_expected_bps") is not None]
    if gaps:
        diffs = [c["vs_expected_bps"] for c in gaps]
        out["realised_minus_expected_bps"] = {
            "median": round(statistics.median(diffs), 1), "p90": _pct(diffs, 0.9),
            "within_one_tick": round(sum(abs(c["vs_expected_bps"]) <= c["tick_bps"] + 1e-6
                                         for c in gaps) / len(gaps), 3),
            "tick_bps_median": round(statistics.median(c["tick_bps"] for c in gaps), 1),
        }
    return out


async def _run(cuts: int, amount: float, acceleration: float) -> dict:
    return {v: [await _cut(seed, v, amount, acceleration) for seed in range(cuts)]
            for v in VARIANTS}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cuts", type=int, default=200)
    ap.add_argument("--amount", type=float, default=2.5, help="contracts bought back per cut")
    ap.add_argument("--acceleration", type=float, default=60.0)
    ap.add_argument("--passive", action="append", default=[], metavar="KEY=VALUE",
                    help="override an [execution] setting of the passive variant")
    args = ap.parse_args()
    for item in args.passive:
        key, _, value = item.partition("=")
        VARIANTS["passive"][1][key] = float(value)
    w0 = time.perf_counter()
    runs = asyncio.run(_run(args.cuts, args.amount, args.acceleration))
    market, passive, wide = (_summary(runs[v], args.amount) for v in VARIANTS)
    m_slip = market["slippage_vs_mid_bps"]["median"]
    p_slip = passive["slippage_vs_mid_bps"]["median"]
    print(json.dumps({
        "benchmark": "option_cut_slippage_market_vs_passive",
        "instrument": CALL, "amount": args.amount, "acceleration": args.acceleration,
        "settings": {v: {k: getattr(Config.model_validate({"execution": e}).execution, k)
                         for k in PASSIVE_KEYS} for v, (_, e) in VARIANTS.items()
                     if v != "market"},
        "market": market, "passive": passive, "passive_600bp": wide,
        "wall_s": round(time.perf_counter() - w0, 1),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "summary": [
            {"name": "option cut slippage vs mid, market style", "work": f"{args.cuts} cuts",
             "unit": "bp", "median": m_slip, "worst": market["slippage_vs_mid_bps"]["worst"]},
            {"name": "option cut slippage vs mid, passive (default settings)",
             "work": f"{args.cuts} cuts", "unit": "bp", "median": p_slip,
             "worst": passive["slippage_vs_mid_bps"]["worst"], "baseline": "market style",
             "ratio": round(p_slip / m_slip, 2) if m_slip and p_slip is not None else None},
            {"name": "option cut fill rate, passive (default) / passive 600 bp / market",
             "work": f"{args.cuts} cuts", "unit": "share",
             "median": f"{passive['fill_rate']:g} / {wide['fill_rate']:g} / "
                       f"{market['fill_rate']:g}", "worst": None},
            {"name": "passive (default) cut time to fill (market time)",
             "work": f"{args.cuts} cuts", "unit": "s",
             "median": passive["time_to_fill_market_s"]["median"],
             "worst": passive["time_to_fill_market_s"]["worst"]},
        ],
    }, indent=2))


if __name__ == "__main__":
    main()
