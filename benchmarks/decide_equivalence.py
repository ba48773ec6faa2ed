"""Do two versions of ``sizing`` decide the same? Dump, then compare, every field.

A speed change to the engine must not change a decision. Dump ``decide``'s full
output (sizes, binding constraints, reasons, caps, inputs, what-ifs) and the
account-risk views (liquidation levels, stress grid, VaR) on the demo account
for several seeds and settings, once per version, then compare:

    cd /work/main && PYTHONPATH=$PWD .venv/bin/python benchmarks/decide_equivalence.py dump /tmp/old.pkl
    cd <branch>  && PYTHONPATH=$PWD .venv/bin/python benchmarks/decide_equivalence.py dump /tmp/new.pkl
    .venv/bin/python benchmarks/decide_equivalence.py compare /tmp/old.pkl /tmp/new.pkl

The demo market starts at a fixed ``start_ms`` so both dumps see the same book.
``compare`` prints the largest relative difference of any float and every
mismatch beyond ``--rtol``; strings, sizes' signs and kinds must match exactly.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import pickle
import sys

START_MS = 1_796_000_000_000
VARIANTS = ({}, {"var_limit": 0.02}, {"var_limit": 0.2}, {"liquidation_buffer_sigmas": 8.0},
            {"target_vol": 1.5, "max_leverage": 10.0, "var_limit": 0.5},
            {"margin_ratio_cap": 0.05}, {"delta_band_usd": 1000.0},
            {"liquidation_buffer_sigmas": 25.0, "var_limit": 0.5, "margin_ratio_cap": 1.0},
            {"liquidation_buffer_sigmas": 14.0}, {"var_alpha": 0.95, "var_limit": 0.01})


def _plain(x):
    import numpy as np

    if dataclasses.is_dataclass(x):
        return {f.name: _plain(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return type(x)(_plain(v) for v in x)
    if isinstance(x, np.ndarray):
        return ("ndarray", x.tolist())
    if isinstance(x, np.generic):
        return x.item()
    return x


def dump(path: str, seeds: list[int]) -> None:
    from cockpit.config import Config
    from cockpit.engine import HOURS_PER_YEAR
    from cockpit.engine_input import log_returns, state_from_snapshot
    from cockpit.runtime import build_demo
    from sizing import account_risk as ar
    from sizing import portfolio_risk as pr
    from sizing.policy import PolicySettings, decide
    from sizing.volatility import garch_forecast

    config = Config()
    values = config.sizing.model_dump()
    values["drawdown_tiers"] = tuple(tuple(t) for t in values["drawdown_tiers"])
    out = {}
    for seed in seeds:
        snap = build_demo(config, seed=seed, state_path=None, start_ms=START_MS).store.snapshot()
        fc = {s: garch_forecast(log_returns(b, 2000), HOURS_PER_YEAR, horizon=24)
              for s, b in snap.bars.items() if len(b)}
        state = state_from_snapshot(snap, forecasts=fc)
        for i, v in enumerate(VARIANTS):
            out[(seed, "decide", i)] = _plain(decide(state, PolicySettings(**{**values, **v}), fc))
        book = state.book
        returns = {i.group: i.log_returns for i in state.instruments}
        scenarios = pr.fhs_scenarios(returns, {g: 0.03 for g in returns})
        out[(seed, "levels")] = _plain(ar.account_liquidations(book))
        out[(seed, "joint")] = _plain(ar.joint_liquidation(book))
        out[(seed, "stress")] = _plain(pr.stress_grid(book))
        out[(seed, "var")] = _plain(pr.portfolio_var(book, scenarios, 0.99))
        # an option whose implied vol is unknown: NaN must travel the same way
        pos = list(book.positions)
        k = next((j for j, p in enumerate(pos) if p.is_option), None)
        if k is not None:
            pos[k] = dataclasses.replace(pos[k], implied_vol=math.nan)
            nan_state = dataclasses.replace(
                state, book=dataclasses.replace(book, positions=tuple(pos)))
            out[(seed, "nan_iv")] = _plain(decide(nan_state, PolicySettings(**values), fc))
    with open(path, "wb") as f:
        pickle.dump(out, f)
    print(f"{len(out)} cases -> {path}")


def compare(path_a: str, path_b: str, rtol: float) -> int:
    with open(path_a, "rb") as f:
        a = pickle.load(f)
    with open(path_b, "rb") as f:
        b = pickle.load(f)
    worst, bad = 0.0, []

    def walk(x, y, where):
        nonlocal worst
        if isinstance(x, float) and isinstance(y, float):
            if x == y or (math.isnan(x) and math.isnan(y)):
                return
            r = abs(x - y) / max(abs(x), abs(y), 1e-300)
            worst = max(worst, r)
            if r > rtol:
                bad.append((where, x, y))
        elif type(x) is not type(y):
            bad.append((where, x, y))
        elif isinstance(x, dict):
            if list(x) != list(y):
                bad.append((where, list(x), list(y)))
            else:
                for key in x:
                    walk(x[key], y[key], (*where, key))
        elif isinstance(x, list | tuple):
            if len(x) != len(y):
                bad.append((where, len(x), len(y)))
            else:
                for i, (u, v) in enumerate(zip(x, y, strict=True)):
                    walk(u, v, (*where, i))
        elif x != y:
            bad.append((where, x, y))

    if a.keys() != b.keys():
        print("different cases:", sorted(set(a) ^ set(b), key=str))
        return 1
    for key in a:
        walk(a[key], b[key], (key,))
    print(f"{len(a)} cases, largest relative difference {worst:.3g}, "
          f"{len(bad)} mismatches beyond {rtol:g}")
    for m in bad[:20]:
        print("  ", *m)
    return 1 if bad else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out")
    d.add_argument("--seeds", default="1,2,3,7,42")
    c = sub.add_parser("compare")
    c.add_argument("a")
    c.add_argument("b")
    c.add_argument("--rtol", type=float, default=1e-12)
    args = ap.parse_args()
    if args.cmd == "dump":
        dump(args.out, [int(s) for s in args.seeds.split(",")])
        return 0
    return compare(args.a, args.b, args.rtol)


if __name__ == "__main__":
    sys.exit(main())
