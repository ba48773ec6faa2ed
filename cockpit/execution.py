"""From approval to broker: one function, with the risk gate in front of it.

Every order the cockpit sends — a key press or auto-execution — goes through
:func:`execute`. Client order ids are derived from the suggestion id, so
approving the same suggestion twice can never send it twice (the broker
answers a known client id with the order it already has).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, replace

from cockpit.model import Order, OrderRequest, Snapshot
from cockpit.suggestions import Suggestion, stale_reason
from cockpit.venues.base import Broker

log = logging.getLogger("cockpit.execution")


@dataclass(frozen=True, slots=True)
class ExecutionReport:
    suggestion_id: str
    symbol: str
    orders: tuple[Order, ...] = ()
    error: str | None = None
    auto: bool = False

    @property
    def filled(self) -> float:
        return sum(o.filled for o in self.orders)


@dataclass
class RiskGate:
    """Pre-trade checks. ``reduce_only`` is set by the kill switch (and by a
    tripped breaker in the policy); ``allow_auto_increases`` comes from config."""

    max_age_s: float = 30.0
    max_move_bps: float = 50.0
    allow_auto_increases: bool = False
    reduce_only: bool = False

    def check(self, s: Suggestion, snapshot: Snapshot, *, auto: bool) -> str | None:
        """Why ``s`` may not be sent now, or None."""
        if reason := stale_reason(s, snapshot, self.max_age_s, self.max_move_bps):
            return f"stale: {reason}"
        if not s.orders:
            return "nothing to send: the planned order is below the venue's minimum"
        if self.reduce_only and not s.reduces_risk:
            return "reduce-only (kill switch): only risk-reducing orders may be sent"
        if auto and not s.reduces_risk and not self.allow_auto_increases:
            return "auto-execute sends only risk-reducing orders; approve increases with a key"
        return None


def client_order_id(suggestion_id: str, index: int) -> str:
    """Short, venue-safe (alphanumeric, <= 32 chars) and stable per suggestion."""
    digest = hashlib.sha1(suggestion_id.encode()).hexdigest()[:24]
    return f"ck{digest}{index:02d}"


def requests_for(s: Suggestion) -> list[OrderRequest]:
    return [
        OrderRequest(
            symbol=o.symbol, side=o.side, type=o.type, amount=float(o.amount),
            price=None if o.price is None else float(o.price),
            reduce_only=bool(o.reduce_only), post_only=bool(getattr(o, "post_only", False)),
            client_order_id=client_order_id(s.id, i),
        )
        for i, o in enumerate(s.orders)
    ]


async def execute(
    s: Suggestion, broker: Broker, snapshot: Snapshot, gate: RiskGate, *, auto: bool = False
) -> ExecutionReport:
    """Gate, then send the suggestion's planned orders in order; stop at the first error."""
    if reason := gate.check(s, snapshot, auto=auto):
        return ExecutionReport(s.id, s.symbol, error=reason, auto=auto)
    sent: list[Order] = []
    for req in requests_for(s):
        try:
            sent.append(await broker.create_order(req))
        except Exception as exc:  # a venue error is one line on screen, never a crash
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            log.warning("order for %s refused: %s", req.symbol, msg)
            return ExecutionReport(s.id, s.symbol, tuple(sent), msg, auto)
    return ExecutionReport(s.id, s.symbol, tuple(sent), None, auto)


async def send_order(
    request: OrderRequest, broker: Broker, snapshot: Snapshot, gate: RiskGate
) -> ExecutionReport:
    """The trader's own order (the order ticket), through the same gate: under the
    kill switch only reduce-only orders pass. The venue's minimums and precision
    are the broker's to enforce; its refusal comes back as one line."""
    if gate.reduce_only and not request.reduce_only:
        return ExecutionReport("", request.symbol, error="reduce-only (kill switch): tick "
                               "reduce-only, or restart the cockpit to trade again")
    if request.symbol not in snapshot.instruments:
        return ExecutionReport("", request.symbol, error=f"{request.symbol}: unknown instrument")
    req = replace(request, client_order_id=request.client_order_id
                  or f"ckm{uuid.uuid4().hex[:26]}")
    try:
        order = await broker.create_order(req)
    except Exception as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        log.warning("manual order for %s refused: %s", req.symbol, msg)
        return ExecutionReport("", req.symbol, error=msg)
    return ExecutionReport("", req.symbol, (order,))
