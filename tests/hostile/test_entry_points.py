"""Issue 14's done-when, first part: every bad config, flag and file of ``cases.CASES``
run through the real entry point (``python -m cockpit ...``) in a subprocess, with its
own XDG directories, and for each:

* exit code 2;
* exactly one line on stderr, naming the field (``case.expect``) and a fix;
* no "Traceback" anywhere, no secret anywhere;
* every file that existed before the run byte-for-byte unchanged (another program's
  database, a read-only account, the trader's notes);
* no screen drawn: validation happens before the App is built (nothing on stdout).

The subprocesses run 3 at a time; start-up is cheap because nothing heavy is imported
before the input is judged.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.hostile.cases import CASES, Case

ROOT = Path(__file__).resolve().parents[2]
# words that say what to do; each refusal carries at least one
FIX_WORDS = ("use ", "give", "choose", "fix", "remove", "check", "chmod", "close", "drop",
             "create", "set ", "see ", "save", "move", "wait", "add ", "run ")


def _snapshot(d: Path) -> dict[Path, str]:
    out = {}
    for p in d.rglob("*"):
        if p.is_file() and not p.is_symlink():
            out[p] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _env(d: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.endswith(("_API_KEY", "_SECRET", "_PASSWORD")) and not k.startswith("XDG_")}
    xdg = d.parent / f"{d.name}-xdg"
    env.update(PYTHONPATH=str(ROOT), XDG_CONFIG_HOME=str(xdg / "config"),
               XDG_DATA_HOME=str(xdg / "data"), XDG_STATE_HOME=str(xdg / "state"),
               XDG_CACHE_HOME=str(xdg / "cache"), TERM="dumb")
    return env


def _run(case: Case, d: Path) -> tuple[Case, subprocess.CompletedProcess | None, dict, dict]:
    if case.setup is not None:
        case.setup(d)
    before = _snapshot(d)
    argv = [a.replace("{d}", str(d)) for a in case.argv]
    try:
        out = subprocess.run([sys.executable, "-m", "cockpit", *argv], capture_output=True,
                             text=True, timeout=90, env=_env(d), cwd=d, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:  # a UI started: the input got past validation
        out = None
    after = _snapshot(d)
    for p in [d, *d.rglob("*")]:  # let tmp_path clean up read-only corners
        if p.is_dir() and not p.is_symlink():
            os.chmod(p, 0o755)
    return case, out, before, after


def test_every_bad_input_is_one_line_exit_2_and_touches_nothing(tmp_path):
    assert len(CASES) >= 100
    assert len({c.name for c in CASES}) == len(CASES)
    dirs = []
    for i in range(len(CASES)):
        d = tmp_path / f"case{i:03d}"
        d.mkdir()
        dirs.append(d)
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(_run, CASES, dirs))
    failures = []
    for case, out, before, after in results:
        if out is None:
            failures.append(f"{case.name}: no exit within 90 s (a UI started?)")
            continue
        lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
        problems = []
        if out.returncode != 2:
            problems.append(f"exit {out.returncode}")
        if len(lines) != 1:
            problems.append(f"{len(lines)} stderr lines")
        text = out.stderr + out.stdout
        if "Traceback" in text:
            problems.append("traceback")
        if "afresh" in text or "with --reset" in text:  # that advice deletes an account
            problems.append("suggests --reset")
        if out.stdout.strip():
            problems.append("stdout not empty")
        if lines and case.expect not in lines[0]:
            problems.append(f"does not name {case.expect!r}")
        if lines and not any(w in lines[0].lower() for w in FIX_WORDS):
            problems.append("no fix given")
        for s in case.secrets:
            if s in text:
                problems.append("SECRET PRINTED")
        changed = [p.name for p, h in before.items() if after.get(p) != h]
        if changed:
            problems.append(f"changed {changed}")
        if problems:
            failures.append(f"{case.name}: {', '.join(problems)} | {lines[:2]}")
    assert not failures, f"{len(failures)} of {len(CASES)} cases fail:\n" + "\n".join(failures)
