"""One risk gate per venue (DESIGN.md: each order goes through its own venue's gate).

The desk asks one object, as in a single-venue session; :class:`VenueGates` hands the
order to the gate of its key's venue (``cockpit.venues.router.venue_of``), shown a
snapshot whose ``account`` is that venue's own account and the orders resting there.
So leverage, margin and reduce-only are judged on the account that will carry the
order, and each venue's rolling notional and order rate are its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from cockpit.model import Order, OrderRequest, Snapshot
from cockpit.risk_gate import RiskGate, TradingState
from cockpit.venues.router import venue_of


class VenueGates:
    def __init__(self, risk, sizing, venues: Iterable[str], *, time_scale: float = 1.0) -> None:
        self.gates = {v: RiskGate(risk, sizing, time_scale=time_scale) for v in venues}

    def gate_for(self, order: OrderRequest) -> RiskGate | None:
        return self.gates.get(venue_of(order.symbol))

    @staticmethod
    def venue_view(snapshot: Snapshot, venue: str) -> Snapshot:
        """The snapshot as one venue's gate sees it: that venue's account only."""
        return dataclasses.replace(snapshot, account=snapshot.accounts.get(venue))

    @staticmethod
    def _resting(snapshot: Snapshot, resting: Sequence[Order] | None, venue: str):
        orders = resting if resting is not None else (
            snapshot.account.open_orders if snapshot.account else ())
        return tuple(o for o in orders if venue_of(o.symbol) == venue)

    def check(self, order: OrderRequest, snapshot: Snapshot, state: TradingState, *,
              resting: Sequence[Order] | None = None, now_s: float | None = None) -> str | None:
        gate = self.gate_for(order)
        venue = venue_of(order.symbol)
        if gate is None:
            return (f"{order.symbol}: no venue {venue!r} in this session; pick a listed "
                    "instrument (SYMBOL@VENUE)")
        return gate.check(order, self.venue_view(snapshot, venue), state,
                          resting=self._resting(snapshot, resting, venue), now_s=now_s)

    def record_sent(self, order: OrderRequest, snapshot: Snapshot, now_s: float | None = None,
                    *, resting: Sequence[Order] | None = None) -> None:
        gate = self.gate_for(order)
        if gate is not None:
            venue = venue_of(order.symbol)
            gate.record_sent(order, self.venue_view(snapshot, venue), now_s,
                             resting=self._resting(snapshot, resting, venue))

    def notional_sent_usd(self, window_s: float, now_s: float | None = None) -> float:
        return sum(g.notional_sent_usd(window_s, now_s) for g in self.gates.values())

    def orders_sent(self, window_s: float, now_s: float | None = None) -> int:
        return sum(g.orders_sent(window_s, now_s) for g in self.gates.values())
