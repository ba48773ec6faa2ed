"""Child process for the desk's crash test: the headless desk trading on the demo's
paper account until the parent kills it with SIGKILL.

    python tests/desk/crash_child.py STATE_PATH SEED [--check-only] [--die-at=MARKER:N]
    python tests/desk/crash_child.py --zygote

One run: build the demo runtime on ``STATE_PATH`` (market seed 7), build a
:class:`cockpit.desk.Desk` (no Textual), ``await desk.reconcile()``, check the two
databases against each other (:func:`check`, after reconciliation), print ``CHECK ok``
(or ``CHECK FAIL why``), then trade: order tickets (market and limit, BTC and ETH
perps, sides alternating so positions stay small), engine-free approvals of one or
two child orders, and now and then a cancel-all, stepping the sim market between
actions so resting limits fill later. Every step it completes prints one flushed
marker line (one ``write``), so the last line the parent finds after the kill names
the last step done:

    INTENT cid           the journal holds the order's intent (durable)
    SENT cid             the broker is being called
    ACK cid status filled   the broker answered (its order and fills are committed)
    JOURNALED cid status    the journal holds the broker's answer
    FILL fill_id cid part|full   a resting order filled (partly or fully) in a market step
    FILLJ fill_id        the journal holds that fill
    ROWFILLED cid status the journal's order row follows that fill
    CANCELLED n          a cancel-all went through (broker and journal)
    STEP n               a market step and its fills are journaled

``--die-at=INTENT:3`` makes the run SIGKILL itself right after its third ``INTENT``
marker: the windows between two markers are microseconds wide at places, too narrow
for a kill from outside to land in reliably. ``--check-only`` stops after the check.

``--zygote`` imports everything once, then reads ``RUN STATE SEED MARKER_FILE`` lines
on stdin and forks one run per line, its markers going to ``MARKER_FILE``; it prints
``PID n`` at once and ``EXIT n code`` when that run has died. Each run is a new process
that opens the files afresh: only the imported code is shared, which takes the ~2 s
of imports out of each restart.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import signal
import sqlite3
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script: the project first on the path
    sys.path.insert(0, str(ROOT))

from cockpit.config import Config, RiskConfig  # noqa: E402
from cockpit.desk import Desk  # noqa: E402
from cockpit.execution import new_execution_id  # noqa: E402
from cockpit.model import OrderRequest  # noqa: E402
from cockpit.runtime import build_demo  # noqa: E402
from cockpit.suggestions import Suggestion  # noqa: E402
from cockpit.venues.sim import dispatch  # noqa: E402
from sizing.orders import PlannedOrder  # noqa: E402
from sizing.policy_types import Decision  # noqa: E402

MARKET_SEED = 7
BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
# contracts: small (>= the venue minimum: 0.001 BTC / 0.01 ETH and 100 USDT) and now and then
# bigger than a typical print, so a resting limit fills in parts
SMALL = {BTC: (0.002, 0.02), ETH: (0.04, 0.5)}
BIG = {BTC: (0.1, 0.4), ETH: (3.0, 10.0)}
# The gate's rate limits guard a runaway loop; this loop is one on purpose.
CONFIG = Config(risk=RiskConfig(max_orders_per_second=100_000, max_orders_per_minute=1_000_000))
FINAL_OR_OPEN = ("open", "closed", "canceled", "rejected")


DIE_AT: dict[str, int] = {}  # marker -> count left: the run SIGKILLs itself right after it


def mark(*parts) -> None:
    sys.stdout.write(" ".join(str(p) for p in parts) + "\n")
    sys.stdout.flush()  # one write(2) per line: a SIGKILL cannot leave half a marker
    kind = str(parts[0])
    if kind in DIE_AT:
        DIE_AT[kind] -= 1
        if DIE_AT[kind] == 0:  # a window too narrow to hit from outside (intent -> send)
            os.kill(os.getpid(), signal.SIGKILL)


def seed_path(state_path: Path) -> Path:
    return Path(str(state_path) + ".seed.json")


def journal_file(state_path: Path) -> Path:
    return Path(state_path).with_suffix(".journal.sqlite")


# -- the check, on the files, with its own connections ------------------------------------

def _ro(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def check(state_path: Path) -> list[str]:
    """What disagrees between the journal, the broker's orders and fills and the
    positions (empty: all agree). Reads the SQLite files directly, not through the
    code under test; positions are checked against the seeded ones (``.seed.json``)
    plus the signed sum of the broker's fills."""
    problems: list[str] = []
    seeded = json.loads(seed_path(state_path).read_text())
    broker, journal = _ro(Path(state_path)), _ro(journal_file(state_path))
    try:
        for name, db in (("broker", broker), ("journal", journal)):
            result = db.execute("PRAGMA integrity_check").fetchall()
            if result != [("ok",)]:
                problems.append(f"{name} integrity_check: {result[:3]}")
        b_orders = {r[0]: r for r in broker.execute(
            "SELECT id, client_order_id, symbol, side, amount, filled, status FROM orders")}
        b_fills = {r[0]: r for r in broker.execute(
            "SELECT id, order_id, symbol, side, amount, price FROM fills")}
        positions = dict(broker.execute("SELECT symbol, contracts FROM positions").fetchall())
        j_orders = {r[0]: r for r in journal.execute(
            "SELECT client_order_id, status, filled, symbol, side, amount FROM orders")}
        j_fills = {r[0]: r for r in journal.execute(
            "SELECT fill_id, client_order_id, symbol, side, amount, price FROM fills")}
        fill_records = Counter(r[0] for r in journal.execute(
            "SELECT json_extract(data, '$.fill_id') FROM records WHERE kind = 'fill'"))
    finally:
        broker.close()
        journal.close()

    cids = Counter(o[1] for o in b_orders.values() if o[1])
    problems += [f"client id {c} twice at the broker" for c, n in cids.items() if n > 1]
    b_by_cid = {o[1]: o for o in b_orders.values() if o[1]}
    for cid in b_by_cid:
        if cid.startswith("ck") and cid not in j_orders:
            problems.append(f"broker order {cid} is not in the journal")

    for fid in b_fills.keys() - j_fills.keys():
        problems.append(f"broker fill {fid} not in the journal")
    for fid in j_fills.keys() - b_fills.keys():
        problems.append(f"journal fill {fid} not at the broker")
    for fid, n in fill_records.items():
        if n != 1:
            problems.append(f"fill {fid} journaled {n} times")
    if sum(fill_records.values()) != len(j_fills):
        problems.append(f"{sum(fill_records.values())} fill records for {len(j_fills)} fills")
    for fid in b_fills.keys() & j_fills.keys():
        _, order_id, sym, side, amount, price = b_fills[fid]
        _, j_cid, j_sym, j_side, j_amount, j_price = j_fills[fid]
        cid = b_orders[order_id][1] if order_id in b_orders else None
        if (j_cid or None) != (cid or None) or (j_sym, j_side) != (sym, side) or \
                not math.isclose(j_amount, amount) or not math.isclose(j_price, price):
            problems.append(f"fill {fid}: journal {j_fills[fid][1:]} != broker "
                            f"{(cid, sym, side, amount, price)}")

    for cid, (_, status, filled, *_rest) in j_orders.items():
        if status not in FINAL_OR_OPEN:
            problems.append(f"journal order {cid} left {status!r} after reconcile")
        b = b_by_cid.get(cid)
        if b is None:
            if status != "rejected" or filled:
                problems.append(f"journal order {cid} {status} filled {filled}: "
                                "the broker has no such order")
        elif status != b[6] or not math.isclose(filled, b[5], abs_tol=1e-12):
            problems.append(f"journal order {cid} {status} filled {filled} != broker "
                            f"{b[6]} filled {b[5]}")
    j_filled = Counter()
    for _, cid, *_rest, amount, _price in j_fills.values():
        j_filled[cid] += amount
    for cid, (_, _status, filled, *_rest) in j_orders.items():
        if not math.isclose(j_filled.get(cid, 0.0), filled, abs_tol=1e-9):
            problems.append(f"journal order {cid} filled {filled} but its journaled fills "
                            f"sum to {j_filled.get(cid, 0.0)}")
    b_filled = Counter()
    for _, order_id, _sym, _side, amount, _price in b_fills.values():
        b_filled[order_id] += amount
    for oid, o in b_orders.items():
        if not math.isclose(b_filled.get(oid, 0.0), o[5], abs_tol=1e-9):
            problems.append(f"broker order {oid} filled {o[5]} != its fills {b_filled[oid]}")

    expected = Counter(seeded)
    for _, _oid, sym, side, amount, _price in b_fills.values():
        expected[sym] += amount if side == "buy" else -amount
    for sym in set(expected) | set(positions):
        if not math.isclose(positions.get(sym, 0.0), expected.get(sym, 0.0), abs_tol=1e-9):
            problems.append(f"position {sym} {positions.get(sym, 0.0)} != seed + fills "
                            f"{expected.get(sym, 0.0)}")
    return problems


def prepare(state_path: Path) -> dict[str, float]:
    """Open (seed) the demo account once and write its seeded positions beside it."""
    rt = build_demo(CONFIG, seed=MARKET_SEED, state_path=Path(state_path))
    seeded = {s: c for s, (c, _entry) in rt.broker.ledger.positions.items()}
    rt.broker.close()
    rt.journal.close()
    seed_path(state_path).write_text(json.dumps(seeded))
    return seeded


# -- the run -------------------------------------------------------------------------------

class MarkingBroker:
    """The paper broker, with a marker either side of ``create_order``."""

    def __init__(self, broker) -> None:
        self._broker = broker

    def __getattr__(self, name):
        return getattr(self._broker, name)

    async def create_order(self, request: OrderRequest):
        mark("SENT", request.client_order_id)
        order = await self._broker.create_order(request)
        mark("ACK", request.client_order_id, order.status, order.filled)
        return order


def mark_journal(journal) -> None:
    """A marker after each journal write the crash test classifies kills by."""
    intent, update, fill = journal.order_intent, journal.order_update, journal.fill

    def order_intent(*a, **kw):
        record = intent(*a, **kw)
        mark("INTENT", kw["client_order_id"])
        return record

    def order_update(cid, *a, **kw):
        record = update(cid, *a, **kw)
        # after a fill the order's row follows it (desk_sync); else the broker's answer
        mark("ROWFILLED" if kw.get("reason") == "filled" else "JOURNALED", cid,
             kw.get("status"))
        return record

    def journal_fill(*a, **kw):
        new = fill(*a, **kw)
        if new:
            mark("FILLJ", kw["fill_id"])
        return new

    journal.order_intent, journal.order_update, journal.fill = order_intent, order_update, \
        journal_fill


def _amount(rng: random.Random, sym: str, big: bool) -> float:
    lo, hi = (BIG if big else SMALL)[sym]
    step = 0.001 if sym == BTC else 0.01
    return round(round(rng.uniform(lo, hi) / step) * step, 3)


def _limit_price(rng: random.Random, snap, sym: str, side: str) -> float:
    """At the touch, a tick or two behind it, or through it (fills at once as taker)."""
    t = snap.tickers[sym]
    step = snap.instruments[sym].price_step
    ticks = rng.choice((-1, 0, 0, 1, 2))  # -1: crosses the spread
    price = (t.bid - ticks * step) if side == "buy" else (t.ask + ticks * step)
    if ticks == -1:
        price = t.ask if side == "buy" else t.bid
    return round(price, 2)


def _suggestion(rng: random.Random, snap, sym: str, side: str) -> Suggestion:
    """An engine-free suggestion of one or two child orders (what a run would make)."""
    current = snap.account.position(sym).contracts if snap.account.position(sym) else 0.0
    children = []
    for _ in range(rng.choice((1, 2))):
        kind = rng.choice(("market", "limit"))
        price = _limit_price(rng, snap, sym, side) if kind == "limit" else None
        children.append(PlannedOrder(sym, side, kind, _amount(rng, sym, False), price, False))
    total = sum(o.amount for o in children) * (1 if side == "buy" else -1)
    d = Decision(sym, "sim", "resize", current, current + total, total, "crash test",
                 f"crash test: {side} {abs(total):g} {sym}", reduces_risk=False)
    return Suggestion(new_execution_id(), sym, d, tuple(children), snap.ts_ms,
                      snap.tickers[sym].mark, engine_seq=-1)


async def trade(desk: Desk, rt, rng: random.Random) -> None:
    market = rt.feed.market
    broker = rt.broker
    seen = {f.id for f in broker.ledger.storage.fills(limit=200)}
    sides = {BTC: rng.choice(("buy", "sell")), ETH: rng.choice(("buy", "sell"))}
    for i in range(1_000_000):
        dispatch(rt.store, market.step())
        for f in broker.ledger.storage.fills(limit=20):
            if f.id not in seen:
                seen.add(f.id)
                o = broker.ledger.orders.get(f.order_id)
                mark("FILL", f.id, o.client_order_id if o else "-",
                     "full" if o is not None and o.status == "closed" else "part")
        desk.sync_account()
        mark("STEP", i)
        sym = rng.choice((BTC, ETH))
        side = sides[sym] = "sell" if sides[sym] == "buy" else "buy"
        snap = rt.store.snapshot()
        roll = rng.random()
        if roll < 0.04 and len(snap.account.open_orders) > 3:
            cancelled, _ = await desk.cancel_all(who="trader")
            desk.sync_account()
            mark("CANCELLED", len(cancelled))
        elif roll < 0.25:
            s = _suggestion(rng, snap, sym, side)
            desk.book.replace_all([s], snap.ts_ms, 0)
            await desk.approve(s.id)
        else:
            kind = "limit" if rng.random() < 0.5 else "market"
            price = _limit_price(rng, snap, sym, side) if kind == "limit" else None
            amount = _amount(rng, sym, kind == "limit" and rng.random() < 0.3)
            await desk.send_ticket(OrderRequest(sym, side, kind, amount, price))
        seen.update(f.id for f in broker.ledger.storage.fills(limit=20))


async def run(state_path: Path, seed: int, flags: list[str]) -> int:
    check_only = "--check-only" in flags
    rt = build_demo(CONFIG, seed=MARKET_SEED, state_path=Path(state_path))
    mark("READY")
    mark_journal(rt.journal)
    desk = Desk(CONFIG, rt.store, MarkingBroker(rt.broker), rt.journal)
    ok = await desk.reconcile()
    mark("RECONCILED", int(ok), desk.state.value)
    problems = check(state_path) if ok else ["the paper broker did not answer reconcile"]
    mark("CHECK", "ok" if not problems else "FAIL " + " | ".join(problems)[:4000])
    if problems or check_only:
        return 3 if problems else 0
    mark("GO")
    for flag in flags:
        if flag.startswith("--die-at="):  # --die-at=INTENT:3: killed after the 3rd INTENT
            kind, n = flag.removeprefix("--die-at=").split(":")
            DIE_AT[kind] = int(n)
    await trade(desk, rt, random.Random(seed))
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--zygote"]:
        return zygote()
    return asyncio.run(run(Path(argv[0]), int(argv[1]), argv[2:]))


def zygote() -> int:
    for line in sys.stdin:
        parts = line.split()
        if not parts or parts[0] != "RUN":
            continue
        state, seed, marker, *flags = parts[1:]
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:  # the run: markers to its own file, never back into this loop
            code = 1
            try:
                fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(fd, 1)
                os.close(fd)
                code = main([state, seed, *flags])
            finally:
                sys.stdout.flush()
                os._exit(code)
        print("PID", pid, flush=True)
        _, status = os.waitpid(pid, 0)
        print("EXIT", pid, os.waitstatus_to_exitcode(status), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
