"""The journals of a multi-venue session, seen by the desk as one (DESIGN.md: each order
goes through its own venue's journal).

Each venue keeps its own journal file (beside its paper state file, or
``live-VENUE.journal.sqlite`` for a live account). :class:`JournalRouter` writes each
record where it belongs:

* a record naming a symbol goes to the journal of that key's venue
  (``BTC/USDT:USDT@okx`` -> the OKX account's journal);
* one naming only a client order id or an execution id goes to the journal that
  already holds that order or execution;
* a session-wide record (trading state, kill switch, auto-execute, engine runs,
  notes) goes to every journal, so each account's journal alone tells its story.

Reads merge the journals (oldest first, a session-wide record once). Meta (the
combined peak equity) lives in the first venue's journal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cockpit.journal import Journal
from cockpit.venues.router import venue_of


class JournalRouter:
    def __init__(self, journals: Mapping[str, Journal]) -> None:
        if not journals:
            raise ValueError("a journal router needs at least one venue's journal")
        self.journals = dict(journals)
        self.primary = next(iter(self.journals.values()))
        self.path = self.primary.path

    # -- where a record goes ------------------------------------------------------
    def journal_for(self, symbol: str = "", client_order_id: str | None = None,
                    execution_id: str | None = None) -> list[Journal]:
        if symbol and (j := self.journals.get(venue_of(symbol))) is not None:
            return [j]
        if client_order_id:
            for j in self.journals.values():
                if j.order(client_order_id) is not None:
                    return [j]
        if execution_id:
            for j in self.journals.values():
                if j.records(execution_id=execution_id, limit=1):
                    return [j]
        return list(self.journals.values())

    def write(self, kind: str, ts_ms: int, text: str, **fields: Any):
        out = None
        for j in self.journal_for(fields.get("symbol") or "", fields.get("client_order_id"),
                                  fields.get("execution_id")):
            out = j.write(kind, ts_ms, text, **fields)
        return out

    def order_intent(self, ts_ms: int, *, symbol: str, **kw: Any):
        j = self.journals.get(venue_of(symbol))
        if j is None:
            raise ValueError(f"{symbol}: no venue of this session trades it (SYMBOL@VENUE)")
        return j.order_intent(ts_ms, symbol=symbol, **kw)

    def order_update(self, client_order_id: str, ts_ms: int, **kw: Any):
        for j in self.journals.values():
            if j.order(client_order_id) is not None:
                return j.order_update(client_order_id, ts_ms, **kw)
        j = self.journals.get(venue_of(kw.get("symbol") or "")) or self.primary
        return j.order_update(client_order_id, ts_ms, **kw)

    def fill(self, ts_ms: int, *, symbol: str, **kw: Any) -> bool:
        j = self.journals.get(venue_of(symbol)) or self.primary
        return j.fill(ts_ms, symbol=symbol, **kw)

    def set_meta(self, key: str, value: str) -> None:
        self.primary.set_meta(key, value)

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        return self.primary.get_meta(key, default)

    # -- reads ----------------------------------------------------------------------
    def _merge(self, lists) -> list:
        seen, out = set(), []
        for r in sorted((r for rs in lists for r in rs), key=lambda r: (r.wall_ms, r.ts_ms)):
            key = (r.kind, r.ts_ms, r.text)
            if key not in seen:
                seen.add(key)
                out.append(r)
        return out

    def records(self, *, limit: int | None = None, **kw: Any) -> list:
        out = self._merge(j.records(limit=limit, **kw) for j in self.journals.values())
        return out[-limit:] if limit is not None else out

    def tail(self, n: int) -> list:
        return self.records(limit=n)

    def orders(self, *, unfinished_only: bool = False) -> list:
        return [o for j in self.journals.values() for o in j.orders(unfinished_only=unfinished_only)]

    def order(self, client_order_id: str):
        for j in self.journals.values():
            if (o := j.order(client_order_id)) is not None:
                return o
        return None

    def has_fill(self, fill_id: str) -> bool:
        return any(j.has_fill(fill_id) for j in self.journals.values())

    def filled_amount(self, client_order_id: str) -> float:
        for j in self.journals.values():
            if j.order(client_order_id) is not None:
                return j.filled_amount(client_order_id)
        return 0.0

    def execution_ids(self, prefix: str) -> list[str]:
        return sorted({e for j in self.journals.values() for e in j.execution_ids(prefix)})

    def why(self, ident: str) -> list:
        return self._merge(j.why(ident) for j in self.journals.values())

    def close(self) -> None:
        for j in self.journals.values():
            j.close()
