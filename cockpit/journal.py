"""The journal: what happened and why, written down before it is done (DESIGN.md).

One SQLite file per account (WAL, ``synchronous=FULL``: every :meth:`Journal.write`
is on disk when it returns). An order's row exists before the order is sent
(:meth:`Journal.order_intent`), so after a crash reconciliation knows every order
that may have reached the venue. Fills are journaled once each, by the venue's fill id.

Each record carries two times: ``ts_ms``, the market's clock (data time, what the
trader sees on screen; accelerated in the demo, the recording's in a replay), and
``wall_ms``, the wall clock when it was written.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cockpit.journal_db import JournalError, connect_readonly, connect_writable
from cockpit.journal_query import (
    COLUMNS,
    KINDS,
    ORDER_COLUMNS,
    ORDER_STATUSES,
    UNFINISHED,
    JournalOrder,
    JournalReader,
    Record,
)
from cockpit.keys import redact

__all__ = ["FINAL", "KINDS", "ORDER_STATUSES", "UNFINISHED", "Journal", "JournalError",
           "JournalOrder", "Record", "journal_path"]

FINAL = ("closed", "canceled", "rejected")
_LADDER = {"intent": 1, "sent": 2, "open": 3, "closed": 4, "canceled": 4, "rejected": 4}
_OPTIONAL = frozenset(COLUMNS[5:])


def _accepts(old: str, new: str) -> bool:
    """Whether an order in status ``old`` may move to ``new``. A status never moves back
    down intent -> sent -> open -> final (an "open" report after "closed" is stale);
    "unknown" (the venue could not say) may follow any unfinished status, and anything may
    follow it; a final status may still be corrected to another (rejected, then found filled)."""
    if old == "unknown" or new == old:
        return True
    if old in FINAL:
        return new in FINAL
    return new == "unknown" or _LADDER[new] >= _LADDER[old]


def _wall_now() -> int:
    return time.time_ns() // 1_000_000


def _number(x: Any) -> float | None:
    """A finite float or None: SQLite and strict JSON have no NaN."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _finite(name: str, x: Any) -> float:
    """``x`` as a float, or ValueError naming it: an order or fill needs a real number."""
    value = float(x)
    if not math.isfinite(value):
        raise ValueError(f"journal {name} {x!r}: must be a finite number")
    return value


def _plain(x: Any) -> Any:
    """``x`` as JSON-able plain data: numpy scalars unwrapped, tuples as lists,
    non-finite floats as None, anything else unknown as its ``str``."""
    if isinstance(x, Mapping):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple | set | frozenset):
        return [_plain(v) for v in x]
    if x is None or isinstance(x, str | int):  # bool is an int
        return x
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    item = getattr(x, "item", None)  # numpy scalar
    if callable(item):
        return _plain(item())
    return str(x)


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:,.10g}"


class Journal(JournalReader):
    """The account's journal. ``path=None``: in memory (a replay with no state file).

    ``readonly=True`` opens an existing file without creating or changing anything
    (``cockpit journal``). Thread-safe: one lock serialises every call.
    Raises :class:`JournalError` (one line) for a file that is not a cockpit journal,
    a directory, or a path that cannot be written; such a file is never written to.
    """

    def __init__(self, path: Path | str | None, *, wall_ms: Callable[[], int] | None = None,
                 readonly: bool = False) -> None:
        self.path = Path(path) if path is not None else None
        self.readonly = readonly
        self._wall = wall_ms or _wall_now
        self._lock = threading.RLock()
        if readonly:
            if self.path is None:
                raise JournalError("a read-only journal needs a file path")
            self._db = connect_readonly(self.path)
        else:
            self._db = connect_writable(self.path)

    # -- writing ---------------------------------------------------------------------------

    def _insert(self, kind: str, ts_ms: int, text: str, fields_: Mapping[str, Any]) -> Record:
        """INSERT one record inside the caller's transaction; the Record as it reads back."""
        if kind not in KINDS:
            raise ValueError(f"journal kind {kind!r}: use one of {', '.join(KINDS)}")
        unknown = set(fields_) - _OPTIONAL
        if unknown:
            raise TypeError(f"journal record has no field {sorted(unknown)[0]!r}")
        values = {name: fields_.get(name) for name in COLUMNS[5:]}
        values["amount"] = _number(values["amount"])
        values["price"] = _number(values["price"])
        if values["reason"] is not None:
            values["reason"] = redact(str(values["reason"]))
        data = _plain(values["data"] or {})
        values["data"] = json.dumps(data, separators=(",", ":"), allow_nan=False)
        row = (int(ts_ms), int(self._wall()), kind, redact(str(text)), *values.values())
        cur = self._db.execute(
            f"INSERT INTO records ({', '.join(COLUMNS[1:])}) VALUES ({', '.join('?' * 13)})", row)
        return Record(cur.lastrowid, *row[:12], data=data)

    def _transaction(self, work: Callable[[], Any]) -> Any:
        """Run ``work`` in one durable transaction. A failure of the file itself (disk
        full, I/O error) rolls back and raises :class:`JournalError`: nothing of it is
        written, so a caller that writes ahead must not act."""
        if self.readonly:
            raise JournalError(f"journal {self.path} is open read-only")
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    result = work()
                    db.execute("COMMIT")  # synchronous=FULL: on disk before we return
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise JournalError(f"journal {self.path}: cannot write ({exc}); nothing was "
                                   "recorded: check the disk") from None
            return result

    def write(self, kind: str, ts_ms: int, text: str, **fields_: Any) -> Record:
        """Append one record (``fields_``: Record's optional fields). ``text`` and ``reason``
        are redacted of known secrets. Durable when it returns. Unknown kind: ValueError."""
        return self._transaction(lambda: self._insert(kind, ts_ms, text, fields_))

    def order_intent(self, ts_ms: int, *, execution_id: str | None, client_order_id: str,
                     symbol: str, side: str, type: str, amount: float, price: float | None,
                     reduce_only: bool, who: str, text: str = "") -> Record:
        """Write the order down BEFORE it is sent: an orders row in status ``intent`` and an
        ``order`` record, in one durable transaction. A client order id the journal already
        holds raises :class:`JournalError` (the caller must not send it)."""
        amount = _finite("order amount", amount)
        text = text or (f"intent {side} {_fmt(amount)} {symbol} {type}"
                        + (f" @ {_fmt(price)}" if price is not None else "")
                        + (" reduce-only" if reduce_only else "") + f" ({client_order_id})")

        def work() -> Record:
            if self._order_row(client_order_id) is not None:
                raise JournalError(f"client order id {client_order_id} is already in journal "
                                   f"{self.path}; an order is never sent twice")
            self._db.execute(
                f"INSERT INTO orders ({ORDER_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (client_order_id, execution_id, symbol, side, type, float(amount),
                 _number(price), int(bool(reduce_only)), "intent", None, 0.0, None, int(ts_ms),
                 who))
            return self._insert("order", ts_ms, text, dict(
                execution_id=execution_id, symbol=symbol, client_order_id=client_order_id,
                side=side, amount=amount, price=price, who=who,
                data={"status": "intent", "type": type, "reduce_only": bool(reduce_only)}))

        return self._transaction(work)

    def order_update(self, client_order_id: str, ts_ms: int, *, status: str,
                     venue_order_id: str | None = None, filled: float | None = None,
                     average: float | None = None, reason: str = "", symbol: str = "",
                     side: str = "", type: str = "", amount: float | None = None,
                     price: float | None = None, reduce_only: bool = False,
                     execution_id: str | None = None, who: str = "venue") -> Record | None:
        """What the venue (or reconciliation) says of an order. Writes a record (kind
        ``cancel`` for status ``canceled``, else ``order``) only when the status or the filled
        amount changed; returns None otherwise. A status never moves back (see
        :func:`_accepts`: ``open`` after ``closed`` is a stale report, ignored) and ``filled``
        never decreases.

        An unknown client id (a venue order the journal never saw) creates its row from the
        keywords given (``symbol``, ``side``, ``type``, ``amount``, ...)."""
        if status not in ORDER_STATUSES:
            raise ValueError(f"order status {status!r}: use one of {', '.join(ORDER_STATUSES)}")

        def work() -> Record | None:
            old = self._order_row(client_order_id)
            if old is None:
                order = JournalOrder(client_order_id, execution_id, symbol, side, type,
                                     float(amount if amount is not None else filled or 0.0),
                                     _number(price), bool(reduce_only), status, venue_order_id,
                                     float(filled or 0.0), _number(average), int(ts_ms), who)
                self._db.execute(
                    f"INSERT INTO orders ({ORDER_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (order.client_order_id, order.execution_id, order.symbol, order.side,
                     order.type, order.amount, order.price, int(order.reduce_only), order.status,
                     order.venue_order_id, order.filled, order.average, order.ts_ms, order.who))
                previous = None
            else:
                previous = old.status
                new_status = status if _accepts(old.status, status) else old.status
                new_filled = max(old.filled, float(filled)) if filled is not None else old.filled
                changed = new_status != old.status or new_filled != old.filled
                order = JournalOrder(
                    old.client_order_id, old.execution_id, old.symbol, old.side, old.type,
                    old.amount, old.price, old.reduce_only, new_status,
                    venue_order_id or old.venue_order_id, new_filled,
                    _number(average) if average is not None else old.average, old.ts_ms, old.who)
                self._db.execute(
                    "UPDATE orders SET status=?, venue_order_id=?, filled=?, average=? "
                    "WHERE client_order_id=?",
                    (order.status, order.venue_order_id, order.filled, order.average,
                     client_order_id))
                if not changed:
                    return None
            kind = "cancel" if order.status == "canceled" else "order"
            text = (f"{order.status} {order.side} {_fmt(order.amount)} {order.symbol}"
                    + (f" filled {_fmt(order.filled)}" if order.filled else "")
                    + (f" avg {_fmt(order.average)}" if order.average is not None else "")
                    + f" ({client_order_id})" + (f": {reason}" if reason else ""))
            return self._insert(kind, ts_ms, text, dict(
                execution_id=order.execution_id, symbol=order.symbol or None,
                client_order_id=client_order_id, side=order.side or None, amount=order.amount,
                price=order.price, who=who, reason=reason or None,
                data={"status": order.status, "previous": previous, "filled": order.filled,
                      "average": order.average, "venue_order_id": order.venue_order_id}))

        return self._transaction(work)

    def order_amended(self, client_order_id: str, ts_ms: int, *, price: float | None,
                      amount: float, status: str = "open", who: str = "venue",
                      text: str = "") -> Record | None:
        """A resting order amended at the venue: its orders row takes the new ``price`` and
        total ``amount`` (so every later record and ``cockpit journal`` show it as it now
        rests), and an ``order`` record keeps the change (``data["amend"]``: from and to).
        None, and nothing written, for a client id the journal does not hold."""
        amount = _finite("order amount", amount)

        def work() -> Record | None:
            old = self._order_row(client_order_id)
            if old is None:
                return None
            new_status = status if _accepts(old.status, status) else old.status
            self._db.execute("UPDATE orders SET price=?, amount=?, status=? "
                             "WHERE client_order_id=?",
                             (_number(price), float(amount), new_status, client_order_id))
            change = {"from_price": old.price, "to_price": _number(price),
                      "from_amount": old.amount, "to_amount": float(amount)}
            line = text or (f"amended {old.side} {old.symbol} {_fmt(old.amount)} @ "
                            f"{_fmt(old.price)} -> {_fmt(amount)} @ {_fmt(price)}"
                            f" ({client_order_id})")
            return self._insert("order", ts_ms, line, dict(
                execution_id=old.execution_id, symbol=old.symbol,
                client_order_id=client_order_id, side=old.side, amount=amount, price=price,
                who=who, data={"status": new_status, "previous": old.status,
                               "filled": old.filled, "average": old.average,
                               "venue_order_id": old.venue_order_id, "amend": change}))

        return self._transaction(work)

    def fill(self, ts_ms: int, *, fill_id: str, client_order_id: str | None, symbol: str,
             side: str, amount: float, price: float, fee: float | None = None,
             execution_id: str | None = None, text: str = "") -> bool:
        """Journal one fill, once: False (and no record) when ``fill_id`` is already here.
        ``execution_id`` defaults to the one of the order ``client_order_id``."""
        amount, price = _finite("fill amount", amount), _finite("fill price", price)

        def work() -> bool:
            if self._db.execute("SELECT 1 FROM fills WHERE fill_id=?", (fill_id,)).fetchone():
                return False
            exid = execution_id
            if exid is None and client_order_id is not None:
                order = self._order_row(client_order_id)
                exid = order.execution_id if order is not None else None
            line = text or (f"fill {side} {_fmt(amount)} {symbol} @ {_fmt(price)}"
                            + (f" fee {_fmt(fee)}" if fee is not None else "")
                            + (f" ({client_order_id})" if client_order_id else ""))
            rec = self._insert("fill", ts_ms, line, dict(
                execution_id=exid, symbol=symbol, client_order_id=client_order_id, side=side,
                amount=amount, price=price, who="venue",
                data={"fill_id": fill_id, "fee": _number(fee)}))
            self._db.execute(
                "INSERT INTO fills (fill_id, client_order_id, execution_id, symbol, side, amount,"
                " price, fee, ts_ms, seq) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (fill_id, client_order_id, exid, symbol, side, float(amount), float(price),
                 _number(fee), int(ts_ms), rec.seq))
            return True

        return self._transaction(work)

    def set_meta(self, key: str, value: str) -> None:
        """Persist one string (e.g. the account's trading state), durably."""
        self._transaction(lambda: self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value", (key, str(value))))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def journal_path(*, mode: str, venue: str, state_path: Path | None,
                 data_dir: Path) -> Path | None:
    """The journal file of an account: beside its paper state file
    (``demo.sqlite`` -> ``demo.journal.sqlite``); ``live-VENUE.journal.sqlite`` in the data
    directory for a live account; None (in memory) for a replay or demo with no state file."""
    if state_path is not None:
        return Path(state_path).with_suffix(".journal.sqlite")
    if mode == "live":
        return Path(data_dir) / f"live-{venue}.journal.sqlite"
    return None
