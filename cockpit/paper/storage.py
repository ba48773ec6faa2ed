"""SQLite persistence of the paper account (standard library ``sqlite3``).

One writer connection, WAL journal, ``synchronous=FULL``: a transaction that has
returned from COMMIT survives ``kill -9`` and power loss. Each execution (an
order's update, its fills, the balances and positions they move) is written in
ONE transaction; fill ids are UNIQUE, so re-applying a fill is refused as a
whole and nothing is booked twice. ``path=None`` keeps everything in memory.

A file is written only once it is known to be ours (:func:`account_file_problem`):
a cockpit account carries ``PRAGMA application_id`` = :data:`APPLICATION_ID`, read
from the file's header bytes before SQLite ever opens it for writing; a file without
one is taken only if it holds exactly our tables (an account from before the id) or
no table at all. One cockpit per account: an ``fcntl`` lock on ``ACCOUNT.lock``
beside it is held for the life of the connection, and a second opener is told the
holder's pid (:class:`AccountInUse`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cockpit.model import Fill, Instrument, MarginTier, Order

__all__ = [
    "APPLICATION_ID",
    "AccountInUse",
    "FundingEntry",
    "LoadedState",
    "PaperStorage",
    "StateFileError",
    "account_file_problem",
    "delete_account",
]

APPLICATION_ID = 0x436B5061  # "CkPa": PRAGMA application_id of a cockpit paper account
_SQLITE_MAGIC = b"SQLite format 3\x00"
_OUR_TABLES = frozenset({"meta", "balances", "positions", "orders", "fills", "instruments",
                         "funding"})


class StateFileError(ValueError):
    """The account file cannot be used; the message is the one line to show."""


class AccountInUse(StateFileError):
    """Another process holds the account's lock."""


def _header(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(100)


def _tables(path: Path) -> set[str]:
    """Table names, read through an immutable connection (no -wal/-shm created)."""
    uri = f"{path.resolve().as_uri()}?immutable=1"
    db = sqlite3.connect(uri, uri=True)
    try:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    finally:
        db.close()
    return {r[0] for r in rows} - {"sqlite_sequence"}


def _writable_mode(path: Path) -> bool:
    """Write permission by the mode bits AND the OS (root passes ``os.access`` for a
    file its owner made read-only; we still honour the owner's choice)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & stat.S_IWUSR) and os.access(path, os.W_OK)


def account_file_problem(path: Path | str, flag: str = "--state") -> str | None:
    """Why ``path`` cannot hold a paper account, or None. Reads, never writes.

    Refused: a directory; a path under a file; a directory that cannot be written
    (SQLite's -wal and the lock file live beside the account); a read-only file; a
    file that is not SQLite; another program's SQLite database. The advice never
    suggests ``--reset`` for a file that exists (it would delete an account).
    """
    p = Path(path)
    where = f"{flag} {p}"
    for parent in p.parents:  # a path under a file: "account.sqlite/x.sqlite"
        if parent.exists():
            if not parent.is_dir():
                return f"{where}: {parent} is a file, not a directory; choose another path"
            if not _writable_mode(parent):
                return (f"{where}: directory {parent} is not writable (the account keeps "
                        f"its journal beside it); chmod u+w {parent} or choose another path")
            break
    if not p.exists():
        return None
    if p.is_dir():
        return f"{where}: is a directory; give a file path such as {p / 'account.sqlite'}"
    if not p.is_file():
        return f"{where}: not a regular file; give the path of an account file"
    if not _writable_mode(p):
        return (f"{where}: the file is read-only; chmod u+w {p}, or copy it and pass the "
                "copy to look at it")
    try:
        head = _header(p)
    except OSError as exc:
        return f"{where}: cannot read it ({exc.strerror}); check its permissions"
    if not head:
        return None  # an empty file: SQLite starts a new database in it
    if not head.startswith(_SQLITE_MAGIC) or len(head) < 100:
        return (f"{where}: not a cockpit account (not a SQLite file); it was left "
                "untouched: give another path")
    app_id = int.from_bytes(head[68:72], "big")
    if app_id == APPLICATION_ID:
        return None
    if app_id != 0:
        return (f"{where}: a database of another program (application id {app_id:#x}), "
                "not a cockpit account; it was left untouched: give another path")
    try:
        tables = _tables(p)
    except sqlite3.DatabaseError as exc:
        return (f"{where}: not a readable cockpit account ({exc}); it was left untouched: "
                "give another path")
    if tables and tables != _OUR_TABLES:
        shown = ", ".join(sorted(tables)[:4]) + (", ..." if len(tables) > 4 else "")
        return (f"{where}: a database of another program (tables {shown}), not a cockpit "
                "account; it was left untouched: give another path")
    return None


class _AccountLock:
    """An exclusive ``fcntl.flock`` on ``ACCOUNT.lock`` holding the owner's pid."""

    def __init__(self, path: Path) -> None:
        import fcntl

        self.path = Path(str(path) + ".lock")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise AccountInUse(
                f"account {path} is in use by another cockpit (pid {holder}); close that "
                "one first, or give this one another --state") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS balances (currency TEXT PRIMARY KEY, total REAL NOT NULL);
CREATE TABLE IF NOT EXISTS positions (
    symbol TEXT PRIMARY KEY, contracts REAL NOT NULL, entry_price REAL NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY, client_order_id TEXT NOT NULL UNIQUE, symbol TEXT NOT NULL,
    side TEXT NOT NULL, type TEXT NOT NULL, amount REAL NOT NULL, price REAL,
    filled REAL NOT NULL, average REAL, status TEXT NOT NULL, reduce_only INTEGER NOT NULL,
    post_only INTEGER NOT NULL, ts_ms INTEGER NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS fills (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, order_id TEXT NOT NULL,
    symbol TEXT NOT NULL, side TEXT NOT NULL, amount REAL NOT NULL, price REAL NOT NULL,
    fee REAL NOT NULL, fee_currency TEXT NOT NULL, ts_ms INTEGER NOT NULL,
    maker INTEGER NOT NULL, liquidation INTEGER NOT NULL, realised_pnl REAL NOT NULL);
CREATE TABLE IF NOT EXISTS instruments (symbol TEXT PRIMARY KEY, spec TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS funding (
    symbol TEXT NOT NULL, funding_ms INTEGER NOT NULL, contracts REAL NOT NULL,
    mark REAL NOT NULL, rate REAL NOT NULL, payment REAL NOT NULL, currency TEXT NOT NULL,
    UNIQUE (symbol, funding_ms));
"""

_ORDER_COLS = (
    "id, client_order_id, symbol, side, type, amount, price, filled, average, status,"
    " reduce_only, post_only, ts_ms, reason"
)
_FILL_COLS = "id, order_id, symbol, side, amount, price, fee, fee_currency, ts_ms, maker, liquidation"


@dataclass(frozen=True, slots=True)
class FundingEntry:
    """One funding payment: ``payment`` is what the position paid (negative = received)."""

    symbol: str
    funding_ms: int
    contracts: float
    mark: float
    rate: float
    payment: float
    currency: str


@dataclass(slots=True)
class LoadedState:
    balances: dict[str, float] = field(default_factory=dict)
    positions: dict[str, tuple[float, float]] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    instruments: dict[str, Instrument] = field(default_factory=dict)


def _order_row(o: Order) -> tuple:
    return (o.id, o.client_order_id, o.symbol, o.side, o.type, o.amount, o.price, o.filled,
            o.average, o.status, int(o.reduce_only), int(o.post_only), o.ts_ms, o.reason)


def _order_from_row(r: tuple) -> Order:
    return Order(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9],
                 bool(r[10]), bool(r[11]), r[12], r[13])


def instrument_to_json(inst: Instrument) -> str:
    return json.dumps(asdict(inst))


def instrument_from_json(text: str) -> Instrument:
    spec = json.loads(text)
    spec["margin_tiers"] = tuple(MarginTier(**t) for t in spec.get("margin_tiers", ()))
    return Instrument(**spec)


def _fill_from_row(r: tuple) -> Fill:
    return Fill(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], bool(r[9]), bool(r[10]))


def delete_account(path: Path | str) -> None:
    """``--reset``: delete the account at ``path`` and its journal files, only when it
    IS a cockpit account (never another program's database a mistyped path names)
    and no cockpit holds it."""
    p = Path(path)
    if problem := account_file_problem(p, "--reset --state"):
        raise StateFileError(problem)
    if not p.exists():
        return
    lock = _AccountLock(p)
    try:
        for suffix in ("", "-wal", "-shm"):
            Path(str(p) + suffix).unlink(missing_ok=True)
    finally:
        lock.release()


class PaperStorage:
    """The paper account's tables behind one connection (thread-shareable, caller serialises).

    Raises :class:`StateFileError` (one line) when ``path`` cannot hold an account
    (see :func:`account_file_problem`) and :class:`AccountInUse` while another process
    holds it; in both cases the file is left as it was.
    """

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._lock: _AccountLock | None = None
        if self.path is not None:
            problem = account_file_problem(self.path)
            if problem:
                raise StateFileError(problem)
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            except OSError as exc:
                raise StateFileError(f"--state {self.path}: cannot create its directory "
                                     f"({exc.strerror}); choose another path") from None
            self._lock = _AccountLock(self.path)
        target = str(self.path) if self.path is not None else ":memory:"
        # isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves.
        self._db = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        try:
            existing = self.path is not None and self.path.exists() and self.path.stat().st_size > 0
            # read before any write: a damaged file is refused as it is, not "repaired"
            if existing and self._db.execute("PRAGMA quick_check(1)").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("quick_check failed: the file is damaged")
            # the id first, while the journal is still a rollback one: it lands in the
            # main file's header, where account_file_problem reads it
            self._db.execute(f"PRAGMA application_id={APPLICATION_ID}")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StateFileError(f"--state {self.path}: cannot open the account ({exc}); "
                                 "it was left as it was: check the disk and the file") from None

    def close(self) -> None:
        self._db.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # -- reading ------------------------------------------------------------------------

    def load(self) -> LoadedState:
        st = LoadedState()
        db = self._db
        st.balances = {c: t for c, t in db.execute("SELECT currency, total FROM balances")}
        st.positions = {
            s: (c, e) for s, c, e in db.execute("SELECT symbol, contracts, entry_price FROM positions")
        }
        st.orders = {
            r[0]: _order_from_row(r) for r in db.execute(f"SELECT {_ORDER_COLS} FROM orders")
        }
        st.meta = {k: v for k, v in db.execute("SELECT key, value FROM meta")}
        for sym, spec in db.execute("SELECT symbol, spec FROM instruments"):
            try:
                st.instruments[sym] = instrument_from_json(spec)
            except (TypeError, ValueError):  # a spec from an older layout: the feed's wins
                continue
        return st

    def is_empty(self) -> bool:
        """True for an account that was never seeded nor traded (peak equity alone
        does not count: a mark update may have saved it before the seed)."""
        for table in ("balances", "positions", "orders", "fills", "funding"):
            if self._db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():
                return False
        return self._db.execute("SELECT 1 FROM meta WHERE key = 'seeded'").fetchone() is None

    def fills(self, since_ms: int | None = None, limit: int | None = None) -> list[Fill]:
        """Fills oldest first; ``limit`` keeps the most recent ones."""
        sql = f"SELECT {_FILL_COLS} FROM fills"
        args: tuple = ()
        if since_ms is not None:
            sql += " WHERE ts_ms >= ?"
            args = (since_ms,)
        if limit is not None:
            rows = self._db.execute(sql + f" ORDER BY seq DESC LIMIT {int(limit)}", args)
            return [_fill_from_row(r) for r in rows][::-1]
        return [_fill_from_row(r) for r in self._db.execute(sql + " ORDER BY seq", args)]

    def realised_pnl(self) -> dict[str, float]:
        """Realised PnL per fee currency summed over all fills (audit figure)."""
        rows = self._db.execute("SELECT fee_currency, SUM(realised_pnl) FROM fills GROUP BY 1")
        return {c: s for c, s in rows}

    def funding(self) -> list[FundingEntry]:
        rows = self._db.execute(
            "SELECT symbol, funding_ms, contracts, mark, rate, payment, currency FROM funding"
            " ORDER BY funding_ms, symbol"
        )
        return [FundingEntry(*r) for r in rows]

    def has_fill(self, fill_id: str) -> bool:
        return self._db.execute("SELECT 1 FROM fills WHERE id = ?", (fill_id,)).fetchone() is not None

    # -- writing: every public method is one transaction ---------------------------------

    def _write(self, statements: list[tuple[str, tuple]]) -> bool:
        """Run ``statements`` in one transaction; False (and nothing written) on a
        UNIQUE violation, i.e. a fill or funding entry that was already booked."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for sql, args in statements:
                db.execute(sql, args)
        except sqlite3.IntegrityError:
            db.execute("ROLLBACK")
            return False
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return True

    @staticmethod
    def _state_statements(
        balances: dict[str, float], positions: dict[str, tuple[float, float] | None],
        meta: dict[str, str], instruments: list[Instrument] = (),
    ) -> list[tuple[str, tuple]]:
        out: list[tuple[str, tuple]] = [
            ("INSERT OR REPLACE INTO instruments VALUES (?, ?)",
             (i.symbol, instrument_to_json(i)))
            for i in instruments
        ]
        for cur, total in balances.items():
            out.append(("INSERT OR REPLACE INTO balances VALUES (?, ?)", (cur, total)))
        for sym, pos in positions.items():
            if pos is None:
                out.append(("DELETE FROM positions WHERE symbol = ?", (sym,)))
            else:
                out.append(("INSERT OR REPLACE INTO positions VALUES (?, ?, ?)", (sym, *pos)))
        for key, value in meta.items():
            out.append(("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value)))
        return out

    def write_execution(
        self,
        orders: list[Order],
        fills: list[tuple[Fill, float]],
        balances: dict[str, float],
        positions: dict[str, tuple[float, float] | None],
        meta: dict[str, str] | None = None,
        instruments: list[Instrument] = (),
    ) -> bool:
        """Orders (inserted or updated), fills with their realised PnL, and the balances
        and positions they leave, in ONE transaction. False if any fill id exists.
        ``instruments`` keeps the spec of newly held symbols, so a position outlives its
        instrument's listing (an expired option after a restart)."""
        stmts: list[tuple[str, tuple]] = [
            (f"INSERT OR REPLACE INTO orders ({_ORDER_COLS}) VALUES ({', '.join('?' * 14)})",
             _order_row(o))
            for o in orders
        ]
        for f, realised in fills:
            stmts.append((
                f"INSERT INTO fills ({_FILL_COLS}, realised_pnl) VALUES ({', '.join('?' * 12)})",
                (f.id, f.order_id, f.symbol, f.side, f.amount, f.price, f.fee, f.fee_currency,
                 f.ts_ms, int(f.maker), int(f.liquidation), realised),
            ))
        stmts += self._state_statements(balances, positions, meta or {}, instruments)
        return self._write(stmts)

    def write_funding(self, entries: list[FundingEntry], balances: dict[str, float]) -> bool:
        """Funding entries and the balances they move, in one transaction (once per time)."""
        stmts = [
            ("INSERT INTO funding VALUES (?, ?, ?, ?, ?, ?, ?)",
             (e.symbol, e.funding_ms, e.contracts, e.mark, e.rate, e.payment, e.currency))
            for e in entries
        ]
        return self._write(stmts + self._state_statements(balances, {}, {}))

    def write_state(
        self,
        balances: dict[str, float] | None = None,
        positions: dict[str, tuple[float, float] | None] | None = None,
        meta: dict[str, str] | None = None,
        instruments: list[Instrument] = (),
    ) -> None:
        self._write(self._state_statements(balances or {}, positions or {}, meta or {},
                                           instruments))
