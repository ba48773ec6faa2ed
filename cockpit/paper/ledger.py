"""The paper account's books: balances, positions, orders, fills, funding, and their
persistence. Every change goes through one method that writes it in ONE SQLite
transaction before the in-memory state moves, so memory never runs ahead of disk.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from pathlib import Path

from cockpit.model import Fill, Instrument, Order
from cockpit.paper import accounting as acc
from cockpit.paper.storage import FundingEntry, PaperStorage

__all__ = ["Leg", "Ledger", "updated"]

RECENT_FILLS = 200

# One execution against one order: (order, price, amount, maker) or, for a fill whose
# id and time are given from outside, (order, price, amount, maker, fill_id, ts_ms).
Leg = tuple


def updated(order: Order, **changes) -> Order:
    """A copy of ``order`` with ``changes`` (Order is frozen with slots)."""
    fields = {k: getattr(order, k) for k in Order.__slots__}
    fields.update(changes)
    return Order(**fields)


class Ledger:
    """Balances (settle currency -> total), positions (symbol -> (signed contracts,
    entry)), every order by id, recent fills and funding, loaded from and written to
    ``PaperStorage``. Not thread-safe: the broker serialises calls."""

    def __init__(self, instruments: dict[str, Instrument], path: Path | str | None) -> None:
        self.instruments = instruments
        self.storage = PaperStorage(path)
        state = self.storage.load()
        # specs of symbols we held: fall back on them when the feed no longer lists one
        self.saved_symbols = set(state.instruments)
        for sym, inst in state.instruments.items():
            instruments.setdefault(sym, inst)
        self.balances = state.balances
        self.positions = state.positions
        self.orders = state.orders
        self.by_client = {o.client_order_id: o.id for o in self.orders.values()}
        # open orders by id: every market update asks, so never scan all orders ever
        self.open = {o.id: o for o in self.orders.values() if o.status == "open"}
        meta = state.meta
        self.order_seq = int(meta.get("order_seq", "0"))
        self.fill_seq = int(meta.get("fill_seq", "0"))
        self.peak_equity_usd = float(meta.get("peak_equity_usd", "0"))
        self.liquidations = int(meta.get("liquidations", "0"))
        self.last_liquidation = meta.get("last_liquidation", "")
        self.recent = deque(self.storage.fills(limit=RECENT_FILLS), maxlen=RECENT_FILLS)
        self.realised_pnl: dict[str, float] = dict(self.storage.realised_pnl())
        self.funding_paid: dict[str, float] = {}
        for e in self.storage.funding():
            self.funding_paid[e.currency] = self.funding_paid.get(e.currency, 0.0) + e.payment

    def close(self) -> None:
        self.storage.close()

    # -- reading -------------------------------------------------------------------------

    def position(self, symbol: str) -> float:
        return self.positions.get(symbol, (0.0, 0.0))[0]

    def has_open(self, symbol: str) -> bool:
        return any(o.symbol == symbol for o in self.open.values())

    def resting(self, symbol: str | None = None) -> list[Order]:
        """Open orders: per symbol and side, best price first, then oldest first."""
        out = [o for o in self.open.values() if symbol is None or o.symbol == symbol]

        def priority(o: Order):
            price = o.price or 0.0
            return (o.symbol, o.side, -price if o.side == "buy" else price, o.ts_ms, o.id)

        return sorted(out, key=priority)

    # -- writing -------------------------------------------------------------------------

    def new_order(self, symbol: str, side: str, type_: str, amount: float, price: float | None,
                  reduce_only: bool, post_only: bool, client_id: str, ts_ms: int) -> Order:
        """A fresh open order with the next id (written by the next ``commit``)."""
        self.order_seq += 1
        oid = f"P{self.order_seq:08d}"
        return Order(oid, client_id or f"paper-{oid}", symbol, side, type_, amount, price,
                     0.0, None, "open", reduce_only, post_only, ts_ms)

    def seed(self, balances: Mapping[str, float],
             positions: list[tuple[str, float, float]]) -> bool:
        if not self.storage.is_empty():
            return False
        pos = {s: (float(c), float(e)) for s, c, e in positions if c != 0}
        bal = {c: float(t) for c, t in balances.items()}
        specs = self._unsaved(pos)
        self.storage.write_state(bal, dict(pos), {"seeded": "1"}, specs)
        self.saved_symbols.update(i.symbol for i in specs)
        self.balances.update(bal)
        self.positions.update(pos)
        return True

    def commit(self, legs: list[Leg], orders: list[Order], ts_ms: int, *,
               liquidation: bool = False, reason: str = "",
               meta: dict[str, str] | None = None) -> list[Fill] | None:
        """Book ``legs`` and write the orders they touch plus ``orders`` (final states:
        status, reason) in ONE transaction; memory follows only after COMMIT.

        Returns the new fills, or None when a fill id was already booked (then
        nothing at all changes: the fill is idempotent by id).
        """
        balances: dict[str, float] = {}
        positions: dict[str, tuple[float, float] | None] = {}
        touched = {o.id: o for o in orders}
        fills: list[tuple[Fill, float]] = []
        fill_seq = self.fill_seq
        for leg in legs:
            order, price, amount, maker = leg[:4]
            inst = self.instruments[order.symbol]
            sym, settle = inst.symbol, inst.settle
            held = positions[sym] if sym in positions else self.positions.get(sym)
            contracts, entry = held or (0.0, 0.0)
            contracts, entry, realised = acc.apply_trade(
                inst, contracts, entry, order.side, amount, price)
            fee = acc.fill_fee(inst, amount, price, maker)
            balances[settle] = balances.get(settle, self.balances.get(settle, 0.0)) \
                + realised - fee
            positions[sym] = (contracts, entry) if contracts != 0.0 else None
            if len(leg) > 4:
                fill_id, ts = leg[4], leg[5]
            else:
                fill_seq += 1
                fill_id, ts = f"T{fill_seq:08d}", ts_ms
            fill = Fill(fill_id, order.id, sym, order.side, amount, price, fee, settle, ts,
                        maker, liquidation)
            fills.append((fill, realised))
            cur = touched.get(order.id) or self.orders.get(order.id) or order
            done = cur.filled + amount
            average = ((cur.average or 0.0) * cur.filled + price * amount) / done
            status = "closed" if cur.status == "open" and done >= cur.amount - 1e-12 \
                else cur.status
            touched[order.id] = updated(cur, filled=done, average=average, status=status,
                                        reason=reason or cur.reason)
        # an outside fill for an order we never saw books the fill, not a phantom order
        to_write = [o for o in touched.values() if o.id in self.orders or o.client_order_id]
        meta = dict(meta or {})
        meta.update(order_seq=str(self.order_seq), fill_seq=str(fill_seq),
                    peak_equity_usd=repr(self.peak_equity_usd))
        specs = self._unsaved(s for s, p in positions.items() if p is not None)
        if not self.storage.write_execution(to_write, fills, balances, positions, meta, specs):
            return None
        self.saved_symbols.update(i.symbol for i in specs)
        self.fill_seq = fill_seq
        self.balances.update(balances)
        for sym, pos in positions.items():
            if pos is None:
                self.positions.pop(sym, None)
            else:
                self.positions[sym] = pos
        for o in to_write:
            self.orders[o.id] = o
            self.by_client[o.client_order_id] = o.id
            if o.status == "open":
                self.open[o.id] = o
            else:
                self.open.pop(o.id, None)
        self.recent.extend(f for f, _ in fills)
        for f, realised in fills:
            self.realised_pnl[f.fee_currency] = self.realised_pnl.get(f.fee_currency, 0.0) \
                + realised
        if "liquidations" in meta:
            self.liquidations = int(meta["liquidations"])
            self.last_liquidation = meta.get("last_liquidation", self.last_liquidation)
        return [f for f, _ in fills]

    def _unsaved(self, symbols) -> list[Instrument]:
        return [self.instruments[s] for s in symbols
                if s not in self.saved_symbols and s in self.instruments]

    def book_funding(self, inst: Instrument, funding_ms: int, rate: float,
                     mark: float) -> FundingEntry | None:
        """Charge (or pay) one funding time on the position; None if flat or already booked."""
        contracts = self.position(inst.symbol)
        if contracts == 0.0 or not math.isfinite(mark) or mark <= 0:
            return None
        payment = acc.funding_payment(inst, contracts, mark, rate)
        entry = FundingEntry(inst.symbol, funding_ms, contracts, mark, rate, payment, inst.settle)
        balances = {inst.settle: self.balances.get(inst.settle, 0.0) - payment}
        if not self.storage.write_funding([entry], balances):
            return None  # this funding time was booked before (a restart replayed it)
        self.balances.update(balances)
        self.funding_paid[inst.settle] = self.funding_paid.get(inst.settle, 0.0) + payment
        return entry

    def save_peak(self, peak_equity_usd: float) -> None:
        self.peak_equity_usd = peak_equity_usd
        self.storage.write_state(meta={"peak_equity_usd": repr(peak_equity_usd)})
