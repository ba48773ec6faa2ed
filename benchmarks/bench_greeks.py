"""Black-76 Greeks and implied vol for 100,000 options against vollib's scalar functions.

Prints one JSON object. Times are medians over several runs, in milliseconds per
100,000 options, both wall clock and process CPU time (CPU is the fairer figure on
a shared machine). vollib is timed on 1,000 options and scaled x100 in the same run.
One core: numpy's elementwise ufuncs are single-threaded; BLAS threads are pinned.

    .venv/bin/python benchmarks/bench_greeks.py
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from _timing import interleaved  # noqa: E402

from sizing.greeks import black76, implied_vol  # noqa: E402

N = 100_000
N_BASELINE = 1_000


def _chain(n, seed=0):
    """A crypto-like book: strikes +-60 % around the forward, 1 day .. 2 years, 20 .. 150 % vol."""
    rng = np.random.default_rng(seed)
    forward = 60_000.0
    strike = forward * np.exp(rng.uniform(-0.6, 0.6, n))
    years = np.exp(rng.uniform(np.log(1 / 365), np.log(2), n))
    vol = rng.uniform(0.2, 1.5, n)
    is_call = rng.random(n) < 0.5
    return forward, strike, years, vol, is_call


def _median_ms(fn, runs):
    wall, cpu = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - w0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return statistics.median(wall), statistics.median(cpu)


def _numba_yardstick(f, k, t, v, c) -> dict | None:
    """Our Greeks and a numba loop of the same formulas, interleaved (None without numba)."""
    try:
        from numba_black76 import black76_loop
    except ImportError:
        return None
    compiled = black76_loop(f, k, t, v, c)  # compiles once, outside the timing
    ours = black76(f, k, t, v, c)
    agree = max(float(np.max(np.abs(compiled[i] - getattr(ours, name)) / f))
                for i, name in enumerate(("price", "delta", "gamma", "vega", "theta", "rho")))
    timed = interleaved({"ours": lambda: black76(f, k, t, v, c),
                         "numba": lambda: black76_loop(f, k, t, v, c)}, runs=21)
    return {"numba_loop": timed["numba"], "ours": timed["ours"],
            "ours_over_numba": round(timed["ours"]["median_ms"] / timed["numba"]["median_ms"], 2),
            "max_difference_over_forward": agree, "aim_ratio": 1.3}


def main():
    f, k, t, v, c = _chain(N)
    price = black76(f, k, t, v, c).price
    # Yardstick for a shared machine: one scipy ndtr over 100k doubles (Greeks need two).
    from scipy.special import ndtr

    ref_wall, ref_cpu = _median_ms(lambda: ndtr(np.log(k / f)), runs=11)
    greeks_wall, greeks_cpu = _median_ms(lambda: black76(f, k, t, v, c), runs=21)
    iv_wall, iv_cpu = _median_ms(lambda: implied_vol(price, f, k, t, c), runs=11)
    yardstick = _numba_yardstick(f, k, t, v, c)

    iv = implied_vol(price, f, k, t, c)
    reprice_err = float(np.max(np.abs(black76(f, k, t, iv, c).price - price)) / f)
    determined = black76(f, k, t, v, c).vega * 100 >= 1e-3 * f
    vol_err = float(np.max(np.abs(iv - v)[determined]))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from vollib.black import black as vl_black
        from vollib.black.greeks import analytical as vl
        from vollib.black.implied_volatility import implied_volatility as vl_iv
    fb, kb, tb, vb, cb = _chain(N_BASELINE, seed=1)
    flags = ["c" if x else "p" for x in cb]
    pb = [vl_black(fl, fb, kk, tt, 0.0, vv) for fl, kk, tt, vv in zip(flags, kb, tb, vb, strict=True)]

    def vollib_greeks():
        for fl, kk, tt, vv in zip(flags, kb, tb, vb, strict=True):
            args = (fl, fb, kk, tt, 0.0, vv)
            vl_black(*args), vl.delta(*args), vl.gamma(*args)
            vl.vega(*args), vl.theta(*args), vl.rho(*args)

    def vollib_iv():
        for p, fl, kk, tt in zip(pb, flags, kb, tb, strict=True):
            vl_iv(p, fb, kk, 0.0, tt, fl)

    scale = N / N_BASELINE
    vg_wall, vg_cpu = _median_ms(vollib_greeks, runs=3)
    vi_wall, vi_cpu = _median_ms(vollib_iv, runs=3)
    print(json.dumps({
        "benchmark": "greeks_and_implied_vol",
        "options": N,
        "machine": {"python": platform.python_version(), "numpy": np.__version__,
                    "cpus": os.cpu_count(), "load_avg_1m": os.getloadavg()[0]},
        "yardstick_scipy_ndtr_100k_ms": {"wall": round(ref_wall, 2), "cpu": round(ref_cpu, 2)},
        "black76_greeks_ms": {"wall": round(greeks_wall, 2), "cpu": round(greeks_cpu, 2)},
        "implied_vol_ms": {"wall": round(iv_wall, 2), "cpu": round(iv_cpu, 2)},
        "implied_vol_accuracy": {"max_reprice_error_over_forward": reprice_err,
                                 "max_vol_error_where_vega_ge_0.1pct": vol_err},
        "numba_yardstick_greeks": yardstick or "numba not installed: pip install -e '.[bench]'",
        "vollib_scalar_baseline_ms_scaled_to_100k": {
            "greeks": {"wall": round(vg_wall * scale, 1), "cpu": round(vg_cpu * scale, 1)},
            "implied_vol": {"wall": round(vi_wall * scale, 1), "cpu": round(vi_cpu * scale, 1)},
        },
        "speedup_cpu": {"greeks": round(vg_cpu * scale / greeks_cpu, 1),
                        "implied_vol": round(vi_cpu * scale / iv_cpu, 1)},
        "aim_ms": {"greeks": "within 1.3x of the numba loop", "implied_vol": 40},
        "summary": [
            {"name": "Black-76 price + 5 Greeks", "work": f"{N:,} options", "unit": "ms",
             "median": (yardstick or {}).get("ours", {}).get("median_ms", round(greeks_wall, 2)),
             "worst": (yardstick or {}).get("ours", {}).get("worst_ms"),
             "baseline": "numba loop" if yardstick else "vollib (scaled)",
             "ratio": yardstick["ours_over_numba"] if yardstick
             else round(greeks_cpu / (vg_cpu * scale), 4)},
            {"name": "implied vol (reprice <= 1e-10 F)", "work": f"{N:,} options", "unit": "ms",
             "median": round(iv_wall, 2), "worst": None, "baseline": "vollib LBR (scaled)",
             "ratio": round(iv_cpu / (vi_cpu * scale), 4)},
        ],
    }, indent=2))


if __name__ == "__main__":
    main()
