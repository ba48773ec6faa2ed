"""Reading the journal: its record and order types, and every query (records, orders,
the ``why`` chain). :class:`cockpit.journal.Journal` adds the writing."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

KINDS = ("engine_run", "suggestion", "approval", "rejection", "auto", "refusal", "state", "order",
         "cancel", "fill", "execution", "funding", "expiry", "liquidation", "kill", "reconcile", "info", "error")
ORDER_STATUSES = ("intent", "sent", "open", "closed", "canceled", "rejected", "unknown")
UNFINISHED = ("intent", "sent", "open", "unknown")
COLUMNS = ("seq", "ts_ms", "wall_ms", "kind", "text", "execution_id", "symbol", "client_order_id",
            "side", "amount", "price", "who", "reason", "data")
ORDER_COLUMNS = ("client_order_id, execution_id, symbol, side, type, amount, price, reduce_only, "
               "status, venue_order_id, filled, average, ts_ms, who")


@dataclass(frozen=True, slots=True)
class Record:
    """One journal line. ``ts_ms``: data time (market clock), ``wall_ms``: when written (ms)."""

    seq: int
    ts_ms: int
    wall_ms: int
    kind: str
    text: str
    execution_id: str | None = None
    symbol: str | None = None
    client_order_id: str | None = None
    side: str | None = None
    amount: float | None = None
    price: float | None = None
    who: str | None = None  # key | auto | ticket | kill | engine | venue | start | trader
    reason: str | None = None  # a refusal's reason, naming the config key
    data: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict:
        """Every field by name (None as null), ``data`` as a plain dict."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["data"] = dict(self.data)
        return out


@dataclass(frozen=True, slots=True)
class JournalOrder:
    """The journal's view of one order. ``status``: one of :data:`ORDER_STATUSES`;
    ``filled`` in contracts, ``average`` the venue's average fill price."""

    client_order_id: str
    execution_id: str | None
    symbol: str
    side: str
    type: str
    amount: float
    price: float | None
    reduce_only: bool
    status: str
    venue_order_id: str | None
    filled: float
    average: float | None
    ts_ms: int
    who: str | None

    @property
    def unfinished(self) -> bool:
        return self.status in UNFINISHED

def _record(row: tuple) -> Record:
    return Record(*row[:13], data=json.loads(row[13]))


def _order(row: tuple) -> JournalOrder:
    r = list(row)
    r[7] = bool(r[7])
    return JournalOrder(*r)


class JournalReader:
    """The queries, over ``self._db`` under ``self._lock`` (set by the subclass)."""

    _db: sqlite3.Connection
    _lock: threading.RLock

    def _query(self, sql: str, args: Iterable[Any] = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    def _order_row(self, client_order_id: str) -> JournalOrder | None:
        rows = self._query(f"SELECT {ORDER_COLUMNS} FROM orders WHERE client_order_id=?",
                           (client_order_id,))
        return _order(rows[0]) if rows else None

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key=?", (key,))
        return rows[0][0] if rows else default

    def records(self, *, since_ms: int | None = None, kinds: Iterable[str] | None = None,
                execution_id: str | None = None, limit: int | None = None,
                after_seq: int | None = None) -> list[Record]:
        """Records oldest first. ``since_ms`` compares with data time (``ts_ms``);
        ``after_seq``: only records written after that one (to follow the journal);
        ``limit`` keeps the newest ``limit`` of those that match."""
        where, args = [], []
        if after_seq is not None:
            where.append("seq > ?")
            args.append(int(after_seq))
        if since_ms is not None:
            where.append("ts_ms >= ?")
            args.append(int(since_ms))
        if kinds is not None:
            kinds = list(kinds)
            bad = [k for k in kinds if k not in KINDS]
            if bad:
                raise ValueError(f"journal kind {bad[0]!r}: use one of {', '.join(KINDS)}")
            where.append(f"kind IN ({', '.join('?' * len(kinds))})")
            args.extend(kinds)
        if execution_id is not None:
            where.append("execution_id = ?")
            args.append(execution_id)
        sql = f"SELECT {', '.join(COLUMNS)} FROM records"
        if where:
            sql += " WHERE " + " AND ".join(where)
        if limit is not None:
            rows = self._query(sql + " ORDER BY seq DESC LIMIT ?", [*args, max(0, int(limit))])
            return [_record(r) for r in reversed(rows)]
        return [_record(r) for r in self._query(sql + " ORDER BY seq", args)]

    def tail(self, n: int) -> list[Record]:
        """The newest ``n`` records, oldest first (the event log at start)."""
        return self.records(limit=n)

    def orders(self, *, unfinished_only: bool = False) -> list[JournalOrder]:
        """Every order the journal knows, in the order first written; ``unfinished_only``:
        those in intent, sent, open or unknown (what reconciliation must ask about)."""
        sql = f"SELECT {ORDER_COLUMNS} FROM orders"
        if unfinished_only:
            sql += f" WHERE status IN ({', '.join(repr(s) for s in UNFINISHED)})"
        return [_order(r) for r in self._query(sql + " ORDER BY rowid")]

    def order(self, client_order_id: str) -> JournalOrder | None:
        return self._order_row(client_order_id)

    def has_fill(self, fill_id: str) -> bool:
        return bool(self._query("SELECT 1 FROM fills WHERE fill_id=?", (fill_id,)))

    def filled_amount(self, client_order_id: str) -> float:
        """The sum of journaled fills of one order (contracts)."""
        rows = self._query("SELECT COALESCE(SUM(amount), 0) FROM fills WHERE client_order_id=?",
                           (client_order_id,))
        return float(rows[0][0])

    def execution_ids(self, prefix: str) -> list[str]:
        """Execution ids starting with ``prefix`` (for ids shortened on screen)."""
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self._query("SELECT DISTINCT execution_id FROM records WHERE execution_id "
                           "LIKE ? ESCAPE '\\' ORDER BY execution_id", (pattern,))
        return [r[0] for r in rows]

    def why(self, ident: str) -> list[Record]:
        """The chain behind an execution id, a client order id or a fill id, oldest first:
        the engine run that produced the suggestion (its ``data["engine_seq"]``, the latest
        such run before the suggestion), then every record of the execution and of its
        orders. ``[]`` when the journal has never seen ``ident``."""
        cols = ", ".join(COLUMNS)
        exid, cid = ident, None
        if not self._query("SELECT 1 FROM records WHERE execution_id=? LIMIT 1", (ident,)):
            exid = None
            fill = self._query("SELECT client_order_id, execution_id FROM fills WHERE fill_id=?",
                               (ident,))
            cid, exid = fill[0] if fill else (ident, None)
            order = self._order_row(cid) if cid else None
            if order is not None:
                exid = exid or order.execution_id
            elif not fill:
                return []
        if exid is None:  # an order with no execution (one the venue had that we never sent)
            rows = self._query(f"SELECT {cols} FROM records WHERE client_order_id=? "
                               "ORDER BY seq", (cid,))
            return [_record(r) for r in rows]
        chain = [_record(r) for r in self._query(
            f"SELECT {cols} FROM records WHERE execution_id=? OR client_order_id IN "
            "(SELECT client_order_id FROM orders WHERE execution_id=?) ORDER BY seq",
            (exid, exid))]
        suggestion = next((r for r in chain if r.kind == "suggestion"
                           and r.data.get("engine_seq") is not None), None)
        if suggestion is not None:
            run = self._query(
                f"SELECT {cols} FROM records WHERE kind='engine_run' AND seq < ? AND "
                "json_extract(data, '$.engine_seq') = ? ORDER BY seq DESC LIMIT 1",
                (suggestion.seq, suggestion.data["engine_seq"]))
            if run:
                chain.insert(0, _record(run[0]))
        return chain

    @property
    def durability(self) -> dict[str, Any]:
        """The settings the write-ahead promise rests on, as SQLite reports them."""
        names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
        with self._lock:
            sync = self._db.execute("PRAGMA synchronous").fetchone()[0]
            return {"journal_mode": self._db.execute("PRAGMA journal_mode").fetchone()[0],
                    "synchronous": names.get(sync, str(sync)),
                    "application_id": self._db.execute("PRAGMA application_id").fetchone()[0],
                    "user_version": self._db.execute("PRAGMA user_version").fetchone()[0]}
