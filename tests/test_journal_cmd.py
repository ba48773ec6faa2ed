"""``cockpit journal`` as the trader runs it: a real process, a real journal file in the
user data directory (XDG_DATA_HOME), read-only, and one clean line for every bad flag."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cockpit.journal import KINDS, Journal

ROOT = Path(__file__).resolve().parents[1]
BTC = "BTC/USDT:USDT"
EXID = "ex-20261203-a1b2c3d4"
CID = f"{EXID}-0"
HOUR = 3_600_000


def cockpit(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_DATA_HOME": str(home),
           "XDG_CONFIG_HOME": str(home / "config")}
    return subprocess.run([sys.executable, "-m", "cockpit", "journal", *args], env=env,
                          capture_output=True, text=True, timeout=120, cwd=home)


def fill_journal(path: Path, now_ms: int, label: str = "demo") -> None:
    """Three hours ago: a refusal. Ten minutes ago: one execution from engine run to fill."""
    j = Journal(path)
    t0, t = now_ms - 3 * HOUR, now_ms - 600_000
    j.write("refusal", t0, f"{label}: ticket buy 20 refused", symbol=BTC, side="buy", amount=20,
            who="ticket", reason="[risk] max_order_notional_usd 250,000 < 1,800,000")
    j.write("engine_run", t, "engine run 7", data={
        "engine_seq": 7, "duration_ms": 840, "refits": 3, "forecasts": {BTC: 0.6213}})
    j.write("suggestion", t + 1_000, "sell 2.5: gross leverage above 3x", execution_id=EXID,
            symbol=BTC, side="sell", amount=2.5, data={
                "engine_seq": 7, "binding_constraint": "max_leverage", "current": 4.0,
                "target": 1.5, "caps": {"kelly": 5.1, "max_leverage": 1.5},
                "inputs": {"forecast_vol": 0.6213}, "reason": "leverage 4.1x > 3x"})
    j.write("approval", t + 2_000, "approved", execution_id=EXID, who="key")
    j.order_intent(t + 3_000, execution_id=EXID, client_order_id=CID, symbol=BTC, side="sell",
                   type="limit", amount=2.5, price=90_100.0, reduce_only=True, who="key")
    j.order_update(CID, t + 3_100, status="open", venue_order_id="V1")
    j.fill(t + 3_200, fill_id="F1", client_order_id=CID, symbol=BTC, side="sell", amount=2.5,
           price=90_123.4, fee=11.27)
    j.order_update(CID, t + 3_300, status="closed", filled=2.5, average=90_123.4)
    j.close()


@pytest.fixture
def home(tmp_path) -> Path:
    """A user data directory holding the demo account's journal."""
    fill_journal(tmp_path / "cockpit" / "demo.journal.sqlite", int(time.time() * 1000))
    return tmp_path


def json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def test_json_lines_carry_what_a_script_needs(home):
    out = cockpit(home, "--json")
    assert out.returncode == 0, out.stderr
    rows = json_lines(out.stdout)
    assert [r["kind"] for r in rows] == ["refusal", "engine_run", "suggestion", "approval",
                                         "order", "order", "fill", "order"]
    for r in rows:
        assert {"ts_ms", "kind", "execution_id", "symbol", "client_order_id", "side", "amount",
                "price"} <= set(r)
        assert r["kind"] in KINDS and isinstance(r["ts_ms"], int)
    fill = rows[6]
    assert (fill["execution_id"], fill["client_order_id"], fill["side"], fill["amount"],
            fill["price"]) == (EXID, CID, "sell", 2.5, 90_123.4)
    assert rows[0]["reason"].startswith("[risk] max_order_notional_usd")
    assert {r["execution_id"] for r in rows[2:]} == {EXID}
    assert rows[2]["data"]["binding_constraint"] == "max_leverage"


def test_readable_lines_show_utc_times_not_epoch_ms(home):
    out = cockpit(home)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 8
    for line in lines:
        assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC  ", line), line
        assert not re.search(r"\b1\d{12}\b", line), line  # no raw epoch milliseconds
    assert "BTC/USDT:USDT sell 2.5 @ 90,123.4" in lines[6] and "fill" in lines[6]


def test_csv_has_a_header_and_one_row_per_record(home):
    out = cockpit(home, "--csv", "--kind", "fill,order")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [r["kind"] for r in rows] == ["order", "order", "fill", "order"]
    assert rows[2]["amount"] == "2.5" and rows[2]["price"] == "90123.4"
    assert rows[0]["client_order_id"] == CID and json.loads(rows[0]["data"])["status"] == "intent"
    assert rows[0]["time_utc"].endswith(" UTC")


def test_kind_filter_repeatable_and_comma_separated(home):
    out = cockpit(home, "--json", "--kind", "fill", "--kind", "refusal,approval")
    assert [r["kind"] for r in json_lines(out.stdout)] == ["refusal", "approval", "fill"]


def test_since_relative_and_iso(home):
    recent = json_lines(cockpit(home, "--json", "--since", "1h").stdout)
    assert len(recent) == 7 and "refusal" not in {r["kind"] for r in recent}
    assert len(json_lines(cockpit(home, "--json", "--since", "4h").stdout)) == 8
    two_hours_ago = datetime.fromtimestamp(time.time() - 7_200, UTC).strftime("%Y-%m-%dT%H:%M")
    assert len(json_lines(cockpit(home, "--json", "--since", two_hours_ago).stdout)) == 7
    assert json_lines(cockpit(home, "--json", "--since", "2099-01-01").stdout) == []


def test_execution_and_limit(home):
    rows = json_lines(cockpit(home, "--json", "--execution", EXID, "--limit", "2").stdout)
    assert [r["kind"] for r in rows] == ["fill", "order"] and rows[1]["data"]["status"] == "closed"
    shown = json_lines(cockpit(home, "--json", "--execution", EXID[:13] + "…").stdout)
    assert len(shown) == 6 and {r["execution_id"] for r in shown} == {EXID}


def test_a_venue_message_with_newlines_and_escapes_stays_one_line(tmp_path):
    with Journal(tmp_path / "cockpit" / "demo.journal.sqlite") as j:
        j.write("error", 1_796_000_000_000, "venue said:\n  \x1b[31mInsufficient margin\x1b[0m\r")
    out = cockpit(tmp_path)
    assert out.returncode == 0 and len(out.stdout.splitlines()) == 1
    assert "\x1b" not in out.stdout and "Insufficient margin" in out.stdout
    assert json_lines(cockpit(tmp_path, "--json").stdout)[0]["text"].startswith("venue said:\n")


def test_why_prints_the_chain_readably(home):
    out = cockpit(home, "why", EXID)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    marks = ["engine run #7", "840 ms", "suggestion", "4 → 1.5", "max_leverage", "kelly 5.1",
             "approval by key", f"order   {CID}", "open", "fill", "90,123.4", "fee 11.27",
             "closed"]
    at = [text.index(m) for m in marks]
    assert at == sorted(at), text  # engine run, suggestion, approval, orders, fill, in order
    assert "ticket buy 20" not in text  # another execution's record stays out
    assert not re.search(r"\b1\d{12}\b", text)


def test_why_json_prefix_and_unknown(home):
    rows = json_lines(cockpit(home, "why", CID, "--json").stdout)
    assert [r["kind"] for r in rows] == ["engine_run", "suggestion", "approval", "order",
                                         "order", "fill", "order"]
    shown = EXID[:13] + "…"  # as the readable listing shortens it
    assert cockpit(home, "why", shown, "--json").stdout == cockpit(home, "why", EXID,
                                                                   "--json").stdout
    out = cockpit(home, "why", "ex-nothing")
    assert out.returncode == 1 and out.stdout == "" and "ex-nothing" in out.stderr


def _digests(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_reading_creates_and_changes_nothing(home, tmp_path_factory):
    before = _digests(home)
    for args in (["--json"], ["why", EXID], ["--csv"]):
        assert cockpit(home, *args).returncode == 0
    assert _digests(home) == before
    empty = tmp_path_factory.mktemp("empty-home")
    out = cockpit(empty)
    assert out.returncode == 2 and "no journal at" in out.stderr
    assert str(empty / "cockpit" / "demo.journal.sqlite") in out.stderr
    assert list(empty.iterdir()) == []  # not even the data directory


def test_the_flags_choose_the_same_account_as_the_cockpit(tmp_path):
    now = int(time.time() * 1000)
    data = tmp_path / "cockpit"
    fill_journal(data / "paper-okx.journal.sqlite", now, "paper okx")
    fill_journal(data / "live-okx.journal.sqlite", now, "live okx")
    fill_journal(tmp_path / "mine.journal.sqlite", now, "my state")
    config = tmp_path / "live.toml"
    config.write_text("[venues.okx]\nlive = true\n")

    def first_text(*args):
        out = cockpit(tmp_path, "--json", "--kind", "refusal", *args)
        assert out.returncode == 0, out.stderr
        return json_lines(out.stdout)[0]["text"].split(":")[0]

    assert first_text("--venue", "okx") == "paper okx"
    assert first_text("--venue", "okx", "--live") == "live okx"
    assert first_text("--venue", "okx", "--config", str(config)) == "live okx"
    assert first_text("--venue", "okx", "--config", str(config), "--paper") == "paper okx"
    assert first_text("--state", str(tmp_path / "mine.sqlite")) == "my state"
    assert first_text("--replay", "rec.jsonl", "--state", str(tmp_path / "mine.sqlite")) == (
        "my state")
    assert first_text("--account", str(data / "live-okx.journal.sqlite")) == "live okx"


def _foreign(tmp_path: Path) -> Path:
    p = tmp_path / "other.sqlite"
    db = sqlite3.connect(p)
    db.execute("CREATE TABLE notes (body TEXT)")
    db.commit()
    db.close()
    return p


BAD = [
    (["--since", "yesterday"], "--since"),
    (["--since", "15x"], "--since"),
    (["--kind", "trades"], "--kind"),
    (["--kind", "fill,bogus"], "--kind"),
    (["--limit", "0"], "--limit"),
    (["--limit", "ten"], "--limit"),
    (["--json", "--csv"], "--csv"),
    (["--live"], "--live"),
    (["--live", "--paper", "--venue", "okx"], "--live"),
    (["--venue", "kraken"], "--venue"),
    (["--replay", "rec.jsonl"], "--replay"),
    (["--account", "{tmp}"], "is a directory"),
    (["--account", "{foreign}"], "not a cockpit journal"),
    (["--account", "{tmp}/missing.journal.sqlite"], "no journal at"),
    (["--account", "{tmp}/x.journal.sqlite", "--state", "s.sqlite"], "--account"),
    (["--config", "{tmp}/missing.toml"], "config"),
    (["why"], "ID"),
    (["--bogus-flag"], "--bogus-flag"),
]


@pytest.mark.parametrize("args,names", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_each_bad_flag_is_one_line_and_exit_2(home, tmp_path, args, names):
    foreign = _foreign(tmp_path)
    before = foreign.read_bytes()
    args = [a.format(tmp=tmp_path, foreign=foreign) for a in args]
    out = cockpit(home, *args)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr and out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert out.stderr.startswith("cockpit journal: ") and names in out.stderr, out.stderr
    assert foreign.read_bytes() == before


def test_help_exits_0(home):
    for args in (["--help"], ["why", "--help"]):
        out = cockpit(home, *args)
        assert out.returncode == 0 and "usage: cockpit journal" in out.stdout


def test_the_app_command_mentions_journal():
    from cockpit.cli import build_parser

    assert "cockpit journal" in build_parser().format_help()
