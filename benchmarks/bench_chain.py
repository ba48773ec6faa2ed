"""The option chain screen's work per repaint: building the chain view from a snapshot
(quotes, IV, Black-76 deltas, the smile) and formatting its rows and smile plot.
Prints JSON, milliseconds (median and worst, wall and process CPU).

Two chains: the built-in market's (134 options, 4 expiries) and a Deribit-sized
one (the same expiries, 804 options: every strike cloned at five nearby strikes),
half of them without a mark IV so the inversion (``sizing.greeks.implied_vol``)
runs too. The chain screen repaints at most 4 times a second
(``cockpit.chain_screen.CHAIN_REFRESH_HZ``) and only when the store changed.

    .venv/bin/python benchmarks/bench_chain.py [--runs 30]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from types import MappingProxyType

from _timing import interleaved

from cockpit.config import Config
from cockpit.runtime import build_demo
from cockpit.venues.sim import dispatch
from cockpit.views.chain import chain_view
from widgets.chain import chain_rows, render_smile

START_MS = 1_795_435_200_000


def demo_snapshot():
    runtime = build_demo(Config(), seed=7, start_ms=START_MS, state_path=None)
    dispatch(runtime.store, runtime.feed.market.step())
    return runtime.store.snapshot()


def deribit_sized(snap, clones: int = 5):
    """Every option cloned at ``clones`` nearby strikes; odd clones lose their mark IV."""
    instruments, tickers = dict(snap.instruments), dict(snap.tickers)
    for inst in [i for i in snap.instruments.values() if i.is_option]:
        t = snap.tickers[inst.symbol]
        for j in range(1, clones + 1):
            sym = f"{inst.symbol}-{j}"
            instruments[sym] = replace(inst, symbol=sym, strike=inst.strike + 100.0 * j)
            tickers[sym] = replace(t, symbol=sym, mark_iv=None if j % 2 else t.mark_iv)
    return replace(snap, instruments=MappingProxyType(instruments),
                   tickers=MappingProxyType(tickers))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    demo = demo_snapshot()
    big = deribit_sized(demo)
    views = {"demo": chain_view(demo), "deribit_sized": chain_view(big)}

    def draw(view):  # the screen formats the expiry it shows, and the smile of all
        chain_rows(view.expiries[0])
        render_smile(view.expiries, 0, 156, 20)

    out = {
        "options": {"demo": sum(i.is_option for i in demo.instruments.values()),
                    "deribit_sized": sum(i.is_option for i in big.instruments.values())},
        "build_view": interleaved({"demo": lambda: chain_view(demo),
                                   "deribit_sized": lambda: chain_view(big)}, runs),
        "format_one_expiry_and_smile": interleaved({k: (lambda v=v: draw(v))
                                              for k, v in views.items()}, runs),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
