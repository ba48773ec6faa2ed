"""A demo session in which the trader pressed `a` and quit: `cockpit journal --json`
shows the suggestion (binding constraint, inputs), the approval, the order and its
fills tied by one execution id, and `cockpit journal why` prints that chain. The
next start shows the previous session's lines in the event log."""

import json
import os
import subprocess
import sys
from pathlib import Path

from cockpit.app import CockpitApp
from cockpit.config import Config
from cockpit.runtime import build_demo
from tests.tui.conftest import START_MS, settle
from widgets.event_log import EventLog

ROOT = Path(__file__).resolve().parents[2]


def _journal(state: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "cockpit", "journal", *args, "--state",
                           str(state)], capture_output=True, text=True, env=env, timeout=60)


async def test_approve_quit_then_the_journal_tells_the_whole_story(tmp_path):
    state = tmp_path / "demo.sqlite"
    market = Config.model_validate({"execution": {"default_style": "market"}})  # fills at once
    runtime = build_demo(market, seed=7, start_ms=START_MS, state_path=state)
    app = CockpitApp(runtime, start_feed=False, engine_interval_s=3600.0, remember_theme=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        await pilot.press("a")
        await settle(app, pilot)
        await pilot.press("q")  # nothing rests, auto is off, not live: quits at once
        await pilot.pause()
    out = _journal(state, "--json")
    assert out.returncode == 0, out.stderr
    records = [json.loads(line) for line in out.stdout.splitlines()]
    approval = next(r for r in records if r["kind"] == "approval")
    eid = approval["execution_id"]
    chain = [r for r in records if r.get("execution_id") == eid]
    kinds = [r["kind"] for r in chain]
    assert kinds[0] == "suggestion" and "approval" in kinds and "fill" in kinds
    suggestion = chain[0]
    assert suggestion["data"]["binding_constraint"] and suggestion["data"]["inputs"]
    orders = [r for r in chain if r["kind"] == "order"]
    fills = [r for r in chain if r["kind"] == "fill"]
    assert orders and all(r["client_order_id"].startswith("ck" + eid) for r in orders + fills)
    assert all(r["side"] and r["amount"] > 0 and r["price"] > 0 for r in fills)
    assert sum(r["amount"] for r in fills) > 0
    why = _journal(state, "why", eid)
    assert why.returncode == 0, why.stderr
    for word in ("engine run", "suggestion", "binding", "approval", "order", "fill"):
        assert word in why.stdout, why.stdout
    # the next start shows the previous session's history in the event log
    runtime2 = build_demo(Config(), seed=7, start_ms=START_MS, state_path=state)
    app2 = CockpitApp(runtime2, start_feed=False, engine_interval_s=3600.0, remember_theme=False)
    async with app2.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert any(e.kind == "approval" for e in app2.desk.log)
        assert app2.main.query_one(EventLog) is not None
        await pilot.press("q")
