"""The paper account survives restarts and kill -9: SQLite, one transaction per fill."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cockpit.model import Fill, OrderRequest
from cockpit.paper import PaperBroker
from tests.paper.specs import ALL, BTC_CALL, BTC_PERP, T0, book, ticker

SYM = BTC_PERP.symbol
ROOT = Path(__file__).resolve().parents[2]


def account_state(b: PaperBroker):
    """What must come back identical after a restart."""
    acct = b.account()
    return (
        acct.balances,
        tuple((p.symbol, p.contracts, p.entry_price) for p in acct.positions),
        acct.open_orders,
        tuple(b.ledger.storage.fills()),
        tuple(b.funding_ledger()),
        acct.liquidations,
    )


def busy_account(path: Path) -> PaperBroker:
    b = PaperBroker(ALL, state_path=path)
    assert b.seed({"USDT": 50_000.0, "BTC": 1.0}, [(BTC_CALL.symbol, -2.0, 0.03)])
    b.on_ticker(ticker(SYM, 60_000.0, funding_rate=0.0001, next_funding_ms=T0 + 10))
    b.on_book(book(SYM, [[59_999.0, 0.4], [59_990.0, 5.0]], [[60_001.0, 0.3], [60_010.0, 5.0]]))
    b.place_order(OrderRequest(SYM, "buy", "market", 1.2))
    b.place_order(OrderRequest(SYM, "sell", "market", 0.5, client_order_id="mine-1"))
    b.place_order(OrderRequest(SYM, "sell", "limit", 0.3, 60_500.0))
    b.place_order(OrderRequest(SYM, "buy", "limit", 0.2, 59_000.0, post_only=True))
    b.on_ticker(ticker(SYM, 60_100.0, T0 + 10, funding_rate=0.0001))  # funding booked
    return b


def test_restart_restores_the_account_exactly(tmp_path):
    path = tmp_path / "paper.sqlite"
    first = busy_account(path)
    before = account_state(first)
    assert len(before[2]) == 2 and len(before[3]) == 4 and len(before[4]) == 1
    first.close()

    again = PaperBroker(ALL, state_path=path)
    again.on_ticker(ticker(SYM, 60_100.0, T0 + 10))
    assert account_state(again) == before
    # the same client id after the restart is the same order, never a second one
    dup = again.place_order(OrderRequest(SYM, "sell", "market", 3.0, client_order_id="mine-1"))
    assert dup.amount == pytest.approx(0.5) and len(again.ledger.storage.fills()) == 4
    # a restart never re-seeds, and new ids continue after the old ones
    assert not again.seed({"USDT": 1.0}, [])
    new = again.place_order(OrderRequest(SYM, "buy", "limit", 0.01, 59_000.0))
    assert new.id not in {o.id for o in before[2]} and new.id > max(o.id for o in before[2])
    again.close()


def test_a_fill_id_is_booked_once():
    b = PaperBroker([BTC_PERP])
    b.seed({"USDT": 10_000.0}, [])
    fill = Fill("venue-777", "ord-1", SYM, "buy", 0.1, 60_000.0, 3.0, "USDT", T0)
    assert b.apply_fill(fill)
    after_once = account_state(b)
    assert not b.apply_fill(fill)
    assert account_state(b) == after_once
    assert b.ledger.position(SYM) == pytest.approx(0.1)
    # the fee charged is the broker's own (taker 5 bp of 6,000 = 3.0 USDT)
    assert b.account().balances[0].total == pytest.approx(10_000.0 - 3.0)


def test_the_database_is_wal_with_full_sync(tmp_path):
    path = tmp_path / "p.sqlite"
    b = PaperBroker([BTC_PERP], state_path=path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # synchronous is per connection: read the broker's own (2 = FULL)
    assert b.ledger.storage._db.execute("PRAGMA synchronous").fetchone()[0] == 2
    db.close()
    b.close()


def replay_realised(fills: list[Fill]) -> tuple[float, float]:
    """Independent average-cost book of linear fills: (position, realised PnL) in USDT."""
    pos = entry = realised = 0.0
    for f in fills:
        signed = f.amount if f.side == "buy" else -f.amount
        if pos == 0 or (pos > 0) == (signed > 0):
            entry = (abs(pos) * entry + f.amount * f.price) / (abs(pos) + f.amount)
            pos += signed
            continue
        closed = min(abs(pos), f.amount)
        realised += closed * (f.price - entry) * (1 if pos > 0 else -1)
        pos += signed
        if abs(pos) < 1e-12:
            pos = 0.0
        elif (pos > 0) != (pos - signed > 0):
            entry = f.price
    return pos, realised


@pytest.mark.parametrize("seed, acks_before_kill", [(1, 40), (2, 97)])
def test_kill_9_mid_run_loses_no_acknowledged_order_or_fill_and_books_none_twice(
        tmp_path, seed, acks_before_kill):
    path = tmp_path / "crash.sqlite"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.paper.crash_child", str(path), str(seed)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    acked: dict[str, list[str]] = {}
    reported_fills: set[str] = set()
    try:
        assert child.stdout.readline().strip() == "READY"
        while len(acked) < acks_before_kill:
            line = child.stdout.readline()
            assert line, "child died before the kill"
            kind, first, *rest = line.split()
            if kind == "ACK":
                acked[first] = rest
                reported_fills.update(rest)
            else:
                reported_fills.add(first)
        os.kill(child.pid, signal.SIGKILL)  # mid-loop: usually inside a transaction
        child.wait()
        # The child ran on while we read: lines it printed before the kill are still
        # in the pipe, and they are acknowledgements too.
        for line in child.stdout.read().splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "ACK":
                acked[parts[1]] = parts[2:]
                reported_fills.update(parts[2:])
            elif len(parts) >= 2:
                reported_fills.add(parts[1])
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    b = PaperBroker([BTC_PERP], state_path=path)
    fills = b.ledger.storage.fills()
    ids = [f.id for f in fills]
    assert len(ids) == len(set(ids))
    assert reported_fills <= set(ids), "an acknowledged fill was lost"
    for order_id in acked:  # every acknowledged order, resting or filled, is there
        assert b.ledger.orders[order_id].status in ("open", "closed")
    assert any(b.ledger.orders[o].type == "limit" for o in acked)
    assert all(o.type == "limit" for o in b.ledger.orders.values() if o.status == "open")
    # at most the one order in flight at the kill can exist without its ACK line
    assert len(set(b.ledger.orders) - set(acked)) <= 1
    # an order's filled amount is the sum of its booked fills
    for order in b.ledger.orders.values():
        booked = sum(f.amount for f in fills if f.order_id == order.id)
        assert order.filled == pytest.approx(booked, abs=1e-9)
    position, realised = replay_realised(fills)
    assert b.ledger.position(SYM) == pytest.approx(position, abs=1e-9)
    fees = sum(f.fee for f in fills)
    usdt = b.ledger.balances["USDT"]
    assert usdt == pytest.approx(1_000_000.0 + realised - fees, abs=1e-6)
    b.close()


def test_a_position_outlives_its_instrument_listing_across_a_restart(tmp_path):
    from cockpit.paper.broker import EXPIRY_GRACE_MS
    from tests.paper.specs import BTC_PUT

    path = tmp_path / "expiry.sqlite"
    first = PaperBroker([BTC_PERP, BTC_PUT], state_path=path)
    first.seed({"BTC": 1.0}, [(BTC_PUT.symbol, 2.0, 0.01)])
    first.close()
    # the feed after the restart no longer lists the (expired) option
    again = PaperBroker([BTC_PERP], state_path=path)
    assert again.instrument(BTC_PUT.symbol) == BTC_PUT
    expiry = BTC_PUT.expiry_ms
    again.on_ticker(ticker(SYM, 50_000.0, expiry + EXPIRY_GRACE_MS))
    acct = again.account()
    assert acct.position(BTC_PUT.symbol) is None
    # put K=58,000 at S=50,000: 2 x (8,000 / 50,000 - 0.01) = 0.30 BTC realised
    fill = acct.fills[-1]
    assert fill.price == pytest.approx(0.16)
    fee = 2 * min(0.0003, 0.125 * 0.16)
    assert again.ledger.balances["BTC"] == pytest.approx(1.0 + 0.30 - fee)
    again.close()


def test_a_restart_never_charges_a_funding_time_twice_and_keeps_the_peak(tmp_path):
    path = tmp_path / "funding.sqlite"
    due = T0 + 60_000
    first = PaperBroker([BTC_PERP], state_path=path)
    first.seed({"USDT": 10_000.0}, [(SYM, 1.0, 60_000.0)])
    first.on_ticker(ticker(SYM, 70_000.0, due - 1, funding_rate=0.0001, next_funding_ms=due))
    first.on_ticker(ticker(SYM, 60_000.0, due, funding_rate=0.0001))
    peak = first.account().peak_equity_usd
    assert peak == pytest.approx(20_000.0)  # 10,000 + 1 x (70,000 - 60,000)
    first.close()
    # the feed replays the same funding time after the restart
    again = PaperBroker([BTC_PERP], state_path=path)
    again.on_ticker(ticker(SYM, 60_000.0, due - 1, funding_rate=0.0001, next_funding_ms=due))
    again.on_ticker(ticker(SYM, 60_000.0, due, funding_rate=0.0001))
    (entry,) = again.funding_ledger()
    assert entry.payment == pytest.approx(6.0)  # 1 x 60,000 x 0.0001, once
    assert again.ledger.balances["USDT"] == pytest.approx(10_000.0 - 6.0)
    assert again.account().peak_equity_usd == pytest.approx(peak)
    again.close()


def test_a_state_file_that_is_not_sqlite_is_a_one_line_error(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a database, just the trader's notes\n" * 50)
    with pytest.raises(ValueError, match="not a cockpit account") as err:
        PaperBroker([BTC_PERP], state_path=path)
    # never "--reset": that advice deletes whatever the path names
    assert "\n" not in str(err.value) and "--reset" not in str(err.value)
    assert path.read_text().startswith("not a database")  # left untouched
