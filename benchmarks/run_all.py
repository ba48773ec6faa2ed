"""Run every ``benchmarks/bench_*.py`` in its own process, print each one's JSON,
then one summary table of their ``summary`` rows: name, work size, median and
worst, the baseline measured in the same run and the ratio to it.

    .venv/bin/python benchmarks/run_all.py [bench_greeks bench_broker ...]
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def main(names: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        scripts = [s for s in scripts if s.stem in names]
    rows, failed = [], []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
        print(proc.stdout, end="", flush=True)
        if proc.returncode != 0:
            failed.append(script.name)
            print(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed")
            continue
        try:
            rows += json.loads(proc.stdout).get("summary", [])
        except json.JSONDecodeError:
            failed.append(script.name)
    header = ("what", "work", "unit", "median", "worst", "baseline (same run)", "ratio")
    table = [header] + [
        (r["name"], r["work"], r.get("unit", "ms"), _cell(r.get("median")),
         _cell(r.get("worst")), r.get("baseline", "-"), _cell(r.get("ratio")))
        for r in rows
    ]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    print()
    for j, row in enumerate(table):
        print(" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
        if j == 0:
            print("-+-".join("-" * w for w in widths))
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
