"""The journal: written before the action, durable, never corrupts a file it does not own.

Crash safety is shown on a real process killed with SIGKILL (the process dies between
any two instructions; the OS keeps what was written, so this proves the commit order
and SQLite's recovery, not power-loss durability, which synchronous=FULL is for).
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cockpit.journal import KINDS, ORDER_STATUSES, Journal, JournalError, Record, journal_path
from cockpit.journal_db import APPLICATION_ID, SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[1]
BTC = "BTC/USDT:USDT"


def child_env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def intent(j: Journal, cid: str, exid: str | None = "ex1", ts: int = 1_000, **kw) -> Record:
    args = dict(execution_id=exid, client_order_id=cid, symbol=BTC, side="sell", type="limit",
                amount=2.5, price=90_123.4, reduce_only=True, who="key")
    args.update(kw)
    return j.order_intent(ts, **args)


# -- write-ahead and durability ------------------------------------------------------------

def test_order_intent_is_committed_before_it_returns(tmp_path):
    path = tmp_path / "acct" / "demo.journal.sqlite"
    j = Journal(path)
    rec = intent(j, "ex1-0")
    # A second, independent connection (another process would see the same): the intent
    # is there while the sender has not yet been called.
    other = sqlite3.connect(path)
    row = other.execute("SELECT status, symbol, side, amount, price, reduce_only, execution_id "
                        "FROM orders WHERE client_order_id='ex1-0'").fetchone()
    assert row == ("intent", BTC, "sell", 2.5, 90_123.4, 1, "ex1")
    kinds = other.execute("SELECT seq, kind, client_order_id FROM records").fetchall()
    assert kinds == [(rec.seq, "order", "ex1-0")]
    assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert other.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)
    assert other.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    other.close()
    assert j.durability["synchronous"] == "FULL" and j.durability["journal_mode"] == "wal"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for side in ("-wal", "-shm"):  # SQLite gives them the main file's mode
        p = Path(str(path) + side)
        if p.exists():
            assert stat.S_IMODE(p.stat().st_mode) & 0o077 == 0
    j.close()


def test_an_order_is_never_written_down_twice(tmp_path):
    j = Journal(tmp_path / "a.journal.sqlite")
    intent(j, "ex1-0")
    with pytest.raises(JournalError, match="ex1-0"):
        intent(j, "ex1-0", amount=7.0)
    assert len(j.records()) == 1 and j.order("ex1-0").amount == 2.5


CHILD = textwrap.dedent("""
    import sys
    from cockpit.journal import Journal
    path, start = sys.argv[1], int(sys.argv[2])
    j = Journal(path)
    i = start
    while True:
        cid = f"c{i}"
        j.order_intent(i, execution_id=f"ex{i}", client_order_id=cid, symbol="BTC/USDT:USDT",
                       side="buy", type="market", amount=1.0 + i, price=None,
                       reduce_only=False, who="auto")
        print("intent", cid, flush=True)
        j.order_update(cid, i, status="sent")
        print("sent", cid, flush=True)
        j.fill(i, fill_id=f"f{i}", client_order_id=cid, symbol="BTC/USDT:USDT", side="buy",
               amount=1.0 + i, price=90000.0 + i)
        print("fill", f"f{i}", flush=True)
        r = j.write("info", i, f"note {i}", data={"i": i})
        print("rec", r.seq, i, flush=True)
        i += 1
""")


def test_sigkill_mid_write_loses_nothing_that_was_reported(tmp_path):
    path = tmp_path / "crash.journal.sqlite"
    rng = np.random.default_rng(20261203)
    start, reported = 0, []
    for _round in range(6):  # each round a fresh process reopens the journal the last one left
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(start)],
                                stdout=subprocess.PIPE, text=True, env=child_env())
        stop_after = int(rng.integers(5, 60))  # kill after a random number of lines
        lines = []
        while len(lines) < stop_after:
            line = proc.stdout.readline()
            assert line, "the writer died on its own"
            lines.append(line.split())
        os.kill(proc.pid, signal.SIGKILL)
        lines += [ln.split() for ln in proc.stdout.read().splitlines()]  # still in the pipe
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        reported += lines
        # +2: the kill may land after an intent was committed and before it was
        # printed; that id is in the journal, and reusing it is refused (rightly)
        start = max(int(w[1][1:]) for w in lines if w[0] == "intent") + 2

        j = Journal(path)
        assert j._db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        texts = {r.seq: r.text for r in j.records()}
        for word, ident, *rest in reported:
            if word == "intent":
                assert j.order(ident) is not None
            elif word == "sent":
                assert j.order(ident).status == "sent"
            elif word == "fill":
                assert j.has_fill(ident)
            else:
                assert texts[int(ident)] == f"note {rest[0]}"
        # A fill is never journaled without its record, nor a record half written.
        n_fills = j._db.execute("SELECT COUNT(*) FROM fills").fetchone()[0]
        assert n_fills == len(j.records(kinds=["fill"]))
        j.close()
    assert sum(w[0] == "rec" for w in reported) >= 6


def test_threads_writing_at_once_lose_nothing(tmp_path):
    import threading

    j = Journal(tmp_path / "t.journal.sqlite")

    def worker(w: int) -> None:
        for i in range(40):
            cid = f"w{w}-{i}"
            intent(j, cid, exid=f"ex-w{w}")
            j.order_update(cid, i, status="open")
            j.write("info", i, f"w{w} note {i}", execution_id=f"ex-w{w}")

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seqs = [r.seq for r in j.records()]
    assert len(seqs) == 4 * 40 * 3 == len(set(seqs)) and seqs == sorted(seqs)
    for w in range(4):  # each thread's records in its own order
        notes = [r.text for r in j.records(execution_id=f"ex-w{w}", kinds=["info"])]
        assert notes == [f"w{w} note {i}" for i in range(40)]
    assert all(o.status == "open" for o in j.orders()) and len(j.orders()) == 160


READER = textwrap.dedent("""
    import sys
    from cockpit.journal import Journal
    seen = 0
    for _ in range(30):
        with Journal(sys.argv[1], readonly=True) as r:
            recs = r.records()
        assert [x.seq for x in recs] == sorted(x.seq for x in recs)
        assert all(x.text == f"note {x.data['i']}" for x in recs)
        assert len(recs) >= seen
        seen = len(recs)
    print(seen)
""")


def test_a_reader_process_sees_a_consistent_journal_while_the_cockpit_writes(tmp_path):
    path = tmp_path / "live.journal.sqlite"
    j = Journal(path)
    j.write("info", 0, "note 0", data={"i": 0})
    reader = subprocess.Popen([sys.executable, "-c", READER, str(path)], env=child_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    i = 1
    while reader.poll() is None:
        j.write("info", i, f"note {i}", data={"i": i})
        i += 1
    out, err = reader.communicate()
    assert reader.returncode == 0, err[-2000:]
    assert 1 <= int(out) <= i
    assert len(j.records()) == i  # the writer was never blocked out
    j.close()


def test_a_full_disk_is_a_journal_error_and_nothing_half_written(tmp_path):
    j = Journal(tmp_path / "full.journal.sqlite")
    intent(j, "before")
    pages = j._db.execute("PRAGMA page_count").fetchone()[0]
    j._db.execute(f"PRAGMA max_page_count={pages + 2}")  # SQLite's own size limit: SQLITE_FULL
    with pytest.raises(JournalError, match="cannot write .*full"):
        for i in range(100):
            intent(j, f"c{i}", text="x" * 4_000)
    written = [o.client_order_id for o in j.orders()]
    assert len(j.records()) == len(written)  # every order row has its record, and back
    j._db.execute("PRAGMA max_page_count=1073741823")
    intent(j, "after")  # the journal is still usable
    assert j.order("after").status == "intent"


# -- orders, fills, meta ---------------------------------------------------------------------

def test_fill_is_journaled_once_by_its_id(tmp_path):
    path = tmp_path / "a.journal.sqlite"
    j = Journal(path)
    intent(j, "ex1-0")
    kw = dict(fill_id="T-991", client_order_id="ex1-0", symbol=BTC, side="sell", amount=1.0,
              price=90_100.0, fee=0.9)
    assert j.fill(5_000, **kw) is True
    assert j.fill(5_000, **kw) is False
    j.close()
    j = Journal(path)  # and after a restart
    assert j.fill(6_000, **kw) is False
    fills = j.records(kinds=["fill"])
    assert len(fills) == 1
    assert fills[0].execution_id == "ex1"  # found from the client order id
    assert fills[0].data["fee"] == 0.9 and fills[0].data["fill_id"] == "T-991"
    assert j.filled_amount("ex1-0") == 1.0
    # A fill for an order the journal never saw is still journaled, with no execution.
    assert j.fill(7_000, fill_id="T-992", client_order_id="venue-77", symbol=BTC, side="buy",
                  amount=0.5, price=90_000.0)
    assert j.records(kinds=["fill"])[-1].execution_id is None


def test_order_update_records_only_changes_and_never_moves_back():
    j = Journal(None)
    intent(j, "ex1-0")
    sent = j.order_update("ex1-0", 1_001, status="sent")
    assert sent.kind == "order" and sent.data["previous"] == "intent"
    assert j.order_update("ex1-0", 1_002, status="sent") is None  # nothing new
    opened = j.order_update("ex1-0", 1_003, status="open", venue_order_id="V1")
    assert opened.data["status"] == "open"
    part = j.order_update("ex1-0", 1_004, status="open", filled=1.0, average=90_120.0)
    assert part is not None and part.data["filled"] == 1.0
    assert j.order_update("ex1-0", 1_005, status="open", filled=0.5) is None  # stale, lower
    assert j.order("ex1-0").filled == 1.0
    done = j.order_update("ex1-0", 1_006, status="closed", filled=2.5, average=90_123.0)
    assert done.kind == "order" and done.data["status"] == "closed"
    assert j.order_update("ex1-0", 1_007, status="open") is None  # a stale report after closed
    order = j.order("ex1-0")
    assert (order.status, order.filled, order.average, order.venue_order_id) == (
        "closed", 2.5, 90_123.0, "V1")
    intent(j, "ex1-1")
    cancel = j.order_update("ex1-1", 1_008, status="canceled", reason="kill switch")
    assert cancel.kind == "cancel" and cancel.reason == "kill switch"
    assert [r.kind for r in j.records()] == ["order"] * 6 + ["cancel"]
    with pytest.raises(ValueError, match="status"):
        j.order_update("ex1-1", 1_009, status="filled")


def test_unknown_follows_any_unfinished_status_and_a_final_status_can_be_corrected():
    j = Journal(None)
    intent(j, "a")
    assert j.order_update("a", 1, status="unknown").data["previous"] == "intent"
    assert j.order_update("a", 2, status="open").data["previous"] == "unknown"
    assert j.order_update("a", 3, status="unknown") is not None  # venue unreachable at start
    assert j.order_update("a", 4, status="rejected") is not None
    assert j.order_update("a", 5, status="unknown") is None  # a final status is known
    assert j.order_update("a", 6, status="sent") is None
    fixed = j.order_update("a", 7, status="closed", filled=2.5)  # it had filled after all
    assert fixed.data == {"status": "closed", "previous": "rejected", "filled": 2.5,
                          "average": None, "venue_order_id": None}


def test_a_venue_order_the_journal_never_saw_gets_a_row():
    j = Journal(None)
    rec = j.order_update("manual-1", 2_000, status="open", symbol=BTC, side="buy",
                         type="limit", amount=3.0, price=85_000.0, venue_order_id="V9")
    assert rec is not None and rec.client_order_id == "manual-1" and rec.execution_id is None
    order = j.order("manual-1")
    assert (order.symbol, order.side, order.amount, order.price, order.status) == (
        BTC, "buy", 3.0, 85_000.0, "open")


def test_unfinished_orders_are_the_ones_to_reconcile():
    j = Journal(None)
    for cid, status in [("a", None), ("b", "sent"), ("c", "open"), ("d", "closed"),
                        ("e", "canceled"), ("f", "rejected"), ("g", "unknown")]:
        intent(j, cid)
        if status:
            j.order_update(cid, 1_100, status=status)
    assert [o.client_order_id for o in j.orders()] == list("abcdefg")
    assert [(o.client_order_id, o.status) for o in j.orders(unfinished_only=True)] == [
        ("a", "intent"), ("b", "sent"), ("c", "open"), ("g", "unknown")]


def test_meta_survives_a_restart(tmp_path):
    path = tmp_path / "a.journal.sqlite"
    j = Journal(path)
    assert j.get_meta("trading_state") is None and j.get_meta("x", "dflt") == "dflt"
    j.set_meta("trading_state", "REDUCING")
    j.set_meta("trading_state", "HALTED")
    j.close()
    j = Journal(path)
    assert j.get_meta("trading_state") == "HALTED"


# -- why --------------------------------------------------------------------------------

def test_why_chains_engine_run_to_fills_in_order():
    j = Journal(None)
    j.write("engine_run", 900, "run 7, previous session", data={"engine_seq": 7})
    j.write("engine_run", 1_000, "run 7", data={"engine_seq": 7, "duration_ms": 840})
    j.write("engine_run", 1_001, "run 8", data={"engine_seq": 8})
    j.write("suggestion", 1_002, "other", execution_id="ex2", data={"engine_seq": 8})
    j.write("suggestion", 1_003, "sell 2.5", execution_id="ex1", symbol=BTC,
            data={"engine_seq": 7, "binding_constraint": "var"})
    j.write("engine_run", 1_004, "run 7, a later session", data={"engine_seq": 7})
    j.write("approval", 1_005, "approved", execution_id="ex1", who="key")
    intent(j, "ex1-0", ts=1_006)
    j.write("approval", 1_007, "approved other", execution_id="ex2", who="auto")
    j.order_update("ex1-0", 1_008, status="open")
    j.fill(1_009, fill_id="F1", client_order_id="ex1-0", symbol=BTC, side="sell", amount=2.5,
           price=90_000.0)
    j.order_update("ex1-0", 1_010, status="closed", filled=2.5)
    chain = j.why("ex1")
    assert [(r.kind, r.ts_ms) for r in chain] == [
        ("engine_run", 1_000), ("suggestion", 1_003), ("approval", 1_005), ("order", 1_006),
        ("order", 1_008), ("fill", 1_009), ("order", 1_010)]
    assert [r.seq for r in chain[1:]] == sorted(r.seq for r in chain[1:])
    assert j.why("ex1-0") == chain  # from a client order id
    assert j.why("F1") == chain  # from a fill id
    assert j.why("nothing-like-it") == []
    assert j.execution_ids("ex") == ["ex1", "ex2"]


# -- files that are not ours ------------------------------------------------------------

def _other_apps_db(path: Path, *, app_id: int = 0, wal: bool = False) -> None:
    db = sqlite3.connect(path)
    if app_id:
        db.execute(f"PRAGMA application_id={app_id}")
    if wal:
        db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    db.execute("INSERT INTO notes (body) VALUES ('my only copy')")
    db.commit()
    db.close()


@pytest.mark.parametrize("kind", ["plain", "other-app-id", "wal", "text", "paper-state"])
def test_a_file_that_is_not_a_journal_is_never_written(tmp_path, kind):
    path = tmp_path / "precious.sqlite"
    if kind == "plain":
        _other_apps_db(path)
    elif kind == "other-app-id":
        _other_apps_db(path, app_id=0x0F0F0F0F)
    elif kind == "wal":
        _other_apps_db(path, wal=True)
    elif kind == "text":
        path.write_text("balance: 100000\n" * 20)
    else:  # the paper account's own state file: the journal sits beside it, never in it
        from cockpit.paper.storage import PaperStorage

        PaperStorage(path).close()
    before, listing = digest(path), sorted(os.listdir(tmp_path))
    for readonly in (False, True):
        with pytest.raises(JournalError, match="not a cockpit journal") as err:
            Journal(path, readonly=readonly)
        assert str(path) in str(err.value) and "\n" not in str(err.value)
    assert digest(path) == before
    assert sorted(os.listdir(tmp_path)) == listing  # no -wal, -shm or -journal left behind


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(JournalError, match="is a directory"):
        Journal(tmp_path)
    with pytest.raises(JournalError, match="is a directory"):
        Journal(tmp_path, readonly=True)


def test_a_path_under_a_regular_file_is_refused(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(JournalError, match="not a directory"):
        Journal(tmp_path / "afile" / "a.journal.sqlite")


UNPRIVILEGED = textwrap.dedent("""
    import os, sys
    from cockpit.journal import Journal, JournalError
    if os.geteuid() == 0:  # root ignores permissions: drop to nobody (modules already loaded)
        os.setgid(65534); os.setuid(65534)
    try:
        Journal(sys.argv[1])
        print("OPENED")
    except JournalError as exc:
        print("ERR", exc)
""")


def test_a_read_only_directory_or_someone_elses_journal_is_refused():
    base = Path(tempfile.mkdtemp(prefix="journal-ro-"))
    try:
        base.chmod(0o755)
        ro = base / "ro"
        ro.mkdir(mode=0o555)
        ro.chmod(0o555)
        theirs = base / "theirs.journal.sqlite"
        Journal(theirs).close()  # owner-only: 0600
        for target, expect in [(ro / "a.journal.sqlite", "cannot create"),
                               (theirs, "cannot read")]:
            out = subprocess.run([sys.executable, "-c", UNPRIVILEGED, str(target)],
                                 capture_output=True, text=True, env=child_env(), timeout=60)
            assert out.returncode == 0, out.stderr[-1500:]
            assert out.stdout.startswith("ERR") and expect in out.stdout, out.stdout
        assert os.listdir(ro) == []
    finally:
        subprocess.run(["rm", "-rf", str(base)], check=False)


def test_read_only_opening_creates_nothing(tmp_path):
    path = tmp_path / "demo.journal.sqlite"
    j = Journal(path)
    j.write("info", 1, "hello")
    j.close()
    listing, before = sorted(os.listdir(tmp_path)), digest(path)
    r = Journal(path, readonly=True)
    assert [x.text for x in r.records()] == ["hello"]
    with pytest.raises(JournalError, match="read-only"):
        r.write("info", 2, "no")
    r.close()
    assert sorted(os.listdir(tmp_path)) == listing and digest(path) == before
    with pytest.raises(JournalError, match="no journal at"):
        Journal(tmp_path / "missing.journal.sqlite", readonly=True)


def test_a_journal_from_a_newer_cockpit_is_refused(tmp_path):
    path = tmp_path / "a.journal.sqlite"
    Journal(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(JournalError, match="newer"):
        Journal(path)


# -- record contents ----------------------------------------------------------------------

def test_secrets_are_redacted_from_text_and_reason():
    from cockpit.keys import install_redaction

    secret = "sk-live-Zq83hfT92kdm"
    install_redaction([secret], logger=logging.getLogger("test-journal-redaction"))
    j = Journal(None)
    rec = j.write("error", 1, f"venue said: bad key {secret}", reason=f"auth {secret}")
    stored = j.records()[0]
    assert secret not in stored.text and secret not in stored.reason
    assert "***" in stored.text and stored == rec


def test_kinds_fields_and_data_are_checked_and_made_plain():
    j = Journal(None)
    with pytest.raises(ValueError, match="kind"):
        j.write("trade", 1, "x")
    with pytest.raises(TypeError, match="colour"):
        j.write("info", 1, "x", colour="red")
    rec = j.write("suggestion", 1, "x", amount=np.float64(2.5), data={
        "caps": {"var": np.float64(3.25), "kelly": float("inf"), "margin": float("nan")},
        "inputs": (np.int64(4), True), "target": np.float32(1.5)})
    back = j.records()[0]
    assert back == rec
    assert back.data == {"caps": {"var": 3.25, "kelly": None, "margin": None},
                         "inputs": [4, True], "target": 1.5}
    assert back.amount == 2.5 and isinstance(back.amount, float)
    assert set(back.as_json()) >= {"seq", "ts_ms", "wall_ms", "kind", "text", "execution_id",
                                   "symbol", "client_order_id", "side", "amount", "price",
                                   "who", "reason", "data"}
    with pytest.raises(ValueError, match="fill price"):
        j.fill(1, fill_id="x", client_order_id=None, symbol=BTC, side="buy", amount=1.0,
               price=float("nan"))
    with pytest.raises(ValueError, match="order amount"):
        intent(j, "c-nan", amount=float("inf"))
    assert not j.has_fill("x") and j.order("c-nan") is None
    assert set(KINDS) >= {"engine_run", "suggestion", "approval", "rejection", "auto",
                          "refusal", "state", "order", "cancel", "fill", "funding", "expiry",
                          "liquidation", "kill", "reconcile"}


def test_wall_and_data_time_are_both_kept():
    j = Journal(None, wall_ms=lambda: 1_796_000_000_000)
    rec = j.write("state", 1_700_000_000_000, "REDUCING: drawdown tier 2")
    assert (rec.ts_ms, rec.wall_ms) == (1_700_000_000_000, 1_796_000_000_000)


def test_records_filters_and_tail():
    j = Journal(None)
    for i in range(10):
        j.write("fill" if i % 2 else "info", 1_000 + i, f"r{i}",
                execution_id="ex-a" if i < 5 else "ex-b")
    assert [r.text for r in j.records(since_ms=1_007)] == ["r7", "r8", "r9"]
    assert [r.text for r in j.records(kinds=["fill"], limit=2)] == ["r7", "r9"]
    assert [r.text for r in j.records(execution_id="ex-a", kinds=("info",))] == ["r0", "r2", "r4"]
    assert [r.text for r in j.tail(3)] == ["r7", "r8", "r9"]
    seventh = j.records()[6].seq
    assert [r.text for r in j.records(after_seq=seventh)] == ["r7", "r8", "r9"]
    with pytest.raises(ValueError, match="kind"):
        j.records(kinds=["fills"])


def test_one_journal_file_per_account(tmp_path):
    assert journal_path(mode="demo", venue="sim", state_path=tmp_path / "demo.sqlite",
                        data_dir=tmp_path) == tmp_path / "demo.journal.sqlite"
    assert journal_path(mode="paper", venue="okx", state_path=tmp_path / "paper-okx.sqlite",
                        data_dir=tmp_path) == tmp_path / "paper-okx.journal.sqlite"
    assert journal_path(mode="live", venue="okx", state_path=None,
                        data_dir=tmp_path) == tmp_path / "live-okx.journal.sqlite"
    assert journal_path(mode="replay", venue="replay", state_path=None, data_dir=tmp_path) is None


# -- property: what is written reads back, in order ------------------------------------------

# SQLite stores UTF-8, so no lone surrogates; NUL and every other character are in.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=24)
NUMBER = st.floats(allow_nan=False, allow_infinity=False)
LEAF = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | NUMBER | TEXT
DATA = st.dictionaries(TEXT, st.recursive(LEAF, lambda inner: st.lists(inner, max_size=3)
                                          | st.dictionaries(TEXT, inner, max_size=3),
                                          max_leaves=6), max_size=4)
TS = st.integers(0, 2**53)
CIDS = st.sampled_from(["c0", "c1", "c2", "c3"])
EXIDS = st.none() | st.sampled_from(["ex-a", "ex-b"])
FIELDS = st.fixed_dictionaries({}, optional={
    "execution_id": EXIDS, "symbol": st.sampled_from([BTC, "ETH/USDT:USDT"]),
    "client_order_id": CIDS, "side": st.sampled_from(["buy", "sell"]),
    "amount": st.none() | NUMBER, "price": st.none() | NUMBER,
    "who": st.sampled_from(["key", "auto", "ticket", "kill", "engine", "venue", "start"]),
    "reason": st.none() | TEXT, "data": DATA})
OPS = st.lists(st.one_of(
    st.tuples(st.just("write"), st.sampled_from(KINDS), TS, TEXT, FIELDS),
    st.tuples(st.just("intent"), TS, CIDS, EXIDS, st.sampled_from(["buy", "sell"]),
              st.floats(1e-3, 1e6), st.none() | st.floats(1.0, 1e6), st.booleans()),
    st.tuples(st.just("update"), TS, CIDS, st.sampled_from(ORDER_STATUSES),
              st.none() | st.floats(0.0, 10.0)),
    st.tuples(st.just("fill"), TS, st.sampled_from(["f0", "f1", "f2"]), st.none() | CIDS,
              st.floats(1e-3, 10.0), st.floats(1.0, 1e6)),
), max_size=25)

FORWARD = ["intent", "sent", "open"]
FINISHED = {"closed", "canceled", "rejected"}


def may_move(old: str, new: str) -> bool:
    """The status rules as the trader reads them (stated independently of the code)."""
    if old == "unknown" or old == new:
        return True
    if old in FINISHED:
        return new in FINISHED
    return new == "unknown" or new in FINISHED or FORWARD.index(new) >= FORWARD.index(old)


def apply(j: Journal, ops) -> tuple[list[Record], dict]:
    """Run ``ops``, checking each returned Record against its inputs; the Records written
    and the model's orders {client id: [status, filled, execution id]}."""
    written, orders, fills = [], {}, set()
    for op in ops:
        if op[0] == "write":
            _, kind, ts, text, kw = op
            rec = j.write(kind, ts, text, **kw)
            assert (rec.kind, rec.ts_ms, rec.text) == (kind, ts, text)
            for name, value in kw.items():
                assert getattr(rec, name) == value, name
            written.append(rec)
        elif op[0] == "intent":
            _, ts, cid, exid, side, amount, price, reduce_only = op
            if cid in orders:
                with pytest.raises(JournalError):
                    intent(j, cid, exid, ts, side=side, amount=amount, price=price)
                continue
            written.append(intent(j, cid, exid, ts, side=side, amount=amount, price=price,
                                  reduce_only=reduce_only))
            orders[cid] = ["intent", 0.0, exid]
        elif op[0] == "update":
            _, ts, cid, status, filled = op
            rec = j.order_update(cid, ts, status=status, filled=filled, symbol=BTC, side="buy")
            if cid not in orders:
                orders[cid] = [status, filled or 0.0, None]
                changed = True
            else:
                old = list(orders[cid])
                if may_move(old[0], status):
                    orders[cid][0] = status
                if filled is not None and filled > old[1]:
                    orders[cid][1] = filled
                changed = orders[cid][:2] != old[:2]
            assert (rec is not None) == changed
            if changed:
                assert rec.kind == ("cancel" if orders[cid][0] == "canceled" else "order")
                assert rec.client_order_id == cid and rec.execution_id == orders[cid][2]
                written.append(rec)
        else:
            _, ts, fill_id, cid, amount, price = op
            new = j.fill(ts, fill_id=fill_id, client_order_id=cid, symbol=BTC, side="sell",
                         amount=amount, price=price)
            assert new == (fill_id not in fills)
            if new:
                fills.add(fill_id)
                rec = j.records(limit=1)[0]
                assert (rec.kind, rec.amount, rec.price, rec.client_order_id) == (
                    "fill", amount, price, cid)
                assert rec.execution_id == (orders[cid][2] if cid in orders else None)
                written.append(rec)
    return written, orders


def check_read_back(j: Journal, written: list[Record], orders: dict) -> None:
    assert j.records() == written
    assert [r.seq for r in written] == sorted({r.seq for r in written})
    assert {o.client_order_id: [o.status, o.filled, o.execution_id] for o in j.orders()} == orders
    for exid in ("ex-a", "ex-b"):
        assert j.records(execution_id=exid) == [r for r in written if r.execution_id == exid]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPS)
def test_property_everything_written_reads_back_in_order(ops):
    j = Journal(None)
    written, orders = apply(j, ops)
    check_read_back(j, written, orders)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPS)
def test_property_a_file_journal_reads_back_the_same_after_reopening(ops):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "p.journal.sqlite"
        j = Journal(path)
        written, orders = apply(j, ops)
        j.close()
        j = Journal(path)
        check_read_back(j, written, orders)
        j.close()
