"""The journal's SQLite file: its schema, and opening it without ever writing to a
file that is not ours (standard library ``sqlite3``).

A journal is recognised by its header before SQLite touches the file: bytes 0-15
are ``"SQLite format 3\\0"``, bytes 68-71 the application id (big-endian), bytes
60-63 the user version (the schema version), bytes 40-43 the schema cookie, which
is 0 only while the file has never held a table. (SQLite file format, section 1.3,
https://www.sqlite.org/fileformat.html#the_database_header.)
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

APPLICATION_ID = 0x436B4A6C  # "CkJl": a cockpit journal (PRAGMA application_id)
SCHEMA_VERSION = 1  # PRAGMA user_version

SCHEMA = """
CREATE TABLE records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ms INTEGER NOT NULL,
    wall_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    execution_id TEXT, symbol TEXT, client_order_id TEXT, side TEXT,
    amount REAL, price REAL, who TEXT, reason TEXT,
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX records_execution ON records(execution_id) WHERE execution_id IS NOT NULL;
CREATE INDEX records_client ON records(client_order_id) WHERE client_order_id IS NOT NULL;
CREATE INDEX records_ts ON records(ts_ms);
CREATE INDEX records_kind ON records(kind, seq);
CREATE TABLE orders (
    client_order_id TEXT PRIMARY KEY,
    execution_id TEXT,
    symbol TEXT NOT NULL, side TEXT NOT NULL, type TEXT NOT NULL,
    amount REAL NOT NULL, price REAL, reduce_only INTEGER NOT NULL,
    status TEXT NOT NULL, venue_order_id TEXT,
    filled REAL NOT NULL DEFAULT 0, average REAL,
    ts_ms INTEGER NOT NULL, who TEXT
);
CREATE INDEX orders_execution ON orders(execution_id);
CREATE INDEX orders_status ON orders(status);
CREATE TABLE fills (
    fill_id TEXT PRIMARY KEY,
    client_order_id TEXT, execution_id TEXT,
    symbol TEXT NOT NULL, side TEXT NOT NULL, amount REAL NOT NULL, price REAL NOT NULL,
    fee REAL, ts_ms INTEGER NOT NULL,
    seq INTEGER NOT NULL REFERENCES records(seq)
);
CREATE INDEX fills_client ON fills(client_order_id);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_MAGIC = b"SQLite format 3\x00"
_OURS = {"records", "orders", "fills", "meta", "sqlite_sequence"}


class JournalError(Exception):
    """One line for the trader: names the file and the fix."""


def _header(path: Path) -> bytes | None:
    """The file's first 100 bytes; ``b""`` for an empty file, None when it is absent."""
    try:
        with open(path, "rb") as f:
            return f.read(100)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise JournalError(f"journal {path} is a directory; give a file path") from None
    except NotADirectoryError:
        raise JournalError(f"journal {path}: a parent of it is a file, not a directory; "
                           "choose another path") from None
    except OSError as exc:
        raise JournalError(f"journal {path}: cannot read it ({exc.strerror}); "
                           "check its permissions") from None


def check_header(path: Path) -> str:
    """``"absent"``, ``"new"`` (empty: may be initialised) or ``"ours"``; raises
    :class:`JournalError` for anything else, having written nothing."""
    if path.is_dir():
        raise JournalError(f"journal {path} is a directory; give a file path")
    head = _header(path)
    if head is None:
        return "absent"
    if head == b"":
        return "new"
    foreign = (f"journal {path} is not a cockpit journal; it is left untouched: "
               "move it aside, or point --state/--account at another file")
    if len(head) < 100 or not head.startswith(_MAGIC):
        raise JournalError(foreign + " (not an SQLite file)")
    app_id = int.from_bytes(head[68:72], "big", signed=True)
    version = int.from_bytes(head[60:64], "big", signed=True)
    cookie = int.from_bytes(head[40:44], "big")
    if app_id == APPLICATION_ID:
        if version > SCHEMA_VERSION:
            raise JournalError(f"journal {path} has schema {version}, newer than this cockpit "
                               f"({SCHEMA_VERSION}); upgrade cockpit to read it")
        return "ours"
    wal = Path(str(path) + "-wal")
    if app_id == 0 and cookie == 0 and not (wal.exists() and wal.stat().st_size > 0):
        return "new"  # an SQLite file that never held a table
    raise JournalError(foreign)


def _create_private(path: Path) -> None:
    """Create the parent directory (0700 when we make it) and an empty file with mode 0600,
    so SQLite's -wal and -shm files inherit owner-only permissions."""
    try:
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
    except FileExistsError:
        return  # another process created it first; check_header runs again
    except OSError as exc:
        raise JournalError(f"journal {path}: cannot create it ({exc.strerror}); "
                           "choose a writable directory with --state") from None


def connect_writable(path: Path | None) -> sqlite3.Connection:
    """A connection to a new or existing journal, schema in place, WAL and synchronous=FULL."""
    if path is None:
        db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        _initialise(db)
        return db
    state = check_header(path)
    if state == "absent":
        _create_private(path)
        state = check_header(path)
    if not os.access(path, os.R_OK | os.W_OK) or not os.access(path.parent, os.W_OK):
        raise JournalError(f"journal {path}: not writable; fix its permissions "
                           f"(chmod 600 {path}) or choose another file")
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise JournalError(f"journal {path}: cannot open it ({exc}); check the path") from None
    try:
        db.execute("PRAGMA busy_timeout=5000")
        _initialise(db, path)
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            raise JournalError(f"journal {path}: the file system refused WAL mode ({mode}); "
                               "put the journal on a local disk")
        db.execute("PRAGMA synchronous=FULL")
    except sqlite3.Error as exc:
        db.close()
        raise JournalError(f"journal {path}: {exc}; check the disk and the file") from None
    except JournalError:
        db.close()
        raise
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        os.chmod(path, 0o600)  # our own journal only: check_header said so
    return db


def _initialise(db: sqlite3.Connection, path: Path | None = None) -> None:
    """Create the schema in an empty file, or check an existing one is ours, under one lock."""
    db.execute("BEGIN IMMEDIATE")
    try:
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if app_id == 0 and not tables:
            db.execute(f"PRAGMA application_id={APPLICATION_ID}")
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
        elif app_id != APPLICATION_ID or not {"records", "orders", "fills", "meta"} <= tables:
            raise JournalError(f"journal {path} is not a cockpit journal; it is left untouched: "
                               "move it aside, or point --state/--account at another file")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def connect_readonly(path: Path) -> sqlite3.Connection:
    """Open an existing journal read-only, creating nothing: with no -wal file beside it
    (the cockpit closed cleanly) it is opened ``immutable``, so SQLite makes no -shm/-wal."""
    state = check_header(path)
    if state == "absent":
        raise JournalError(f"no journal at {path} yet")
    if state == "new":
        raise JournalError(f"journal {path} is empty: not a cockpit journal yet")
    uri = path.absolute().as_uri() + "?mode=ro"
    if not Path(str(path) + "-wal").exists():
        uri += "&immutable=1"
    try:
        db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.Error as exc:
        raise JournalError(f"journal {path}: cannot read it ({exc}); check the file") from None
    if not tables <= _OURS or "records" not in tables:
        db.close()
        raise JournalError(f"journal {path} is not a cockpit journal; pass a *.journal.sqlite file")
    return db
