"""Executions and their ids: what an approved suggestion (or a ticket) becomes.

An execution id is unique across restarts, sessions and accounts: the wall
clock in ms (hex) and 40 random bits, never a counter that restarts. A child
order's client id is ``"ck" + execution id + two-digit index``: alphanumeric and
at most 23 characters, which Deribit (label), Binance (newClientOrderId), Bybit
(orderLinkId) and OKX (clOrdId, 32 max) all accept. The same execution sent
twice carries the same client ids, so the broker answers the second with the
order it already has. Sending is the desk's (``cockpit.desk``), behind the gate.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass

from cockpit.model import Order, OrderRequest

__all__ = ["ExecutionReport", "client_order_id", "new_execution_id", "requests_for",
           "venue_error_line"]

_CID = re.compile(r"ck([0-9a-f]{19,})(\d\d)")


@dataclass(frozen=True, slots=True)
class ExecutionReport:
    """What became of one execution: the orders sent (in order), and the one-line
    reason it stopped early, if it did (``refused`` when the gate or a staleness
    rule said no before anything was sent)."""

    execution_id: str
    symbol: str
    orders: tuple[Order, ...] = ()
    error: str | None = None
    who: str = "key"
    refused: bool = False

    @property
    def filled(self) -> float:
        return sum(o.filled for o in self.orders)


def new_execution_id(now_s: float | None = None) -> str:
    """19 hex characters: 11 of wall-clock ms, 8 random."""
    ms = int((time.time() if now_s is None else now_s) * 1000)
    return f"{ms:011x}{secrets.token_hex(4)}"


def client_order_id(execution_id: str, index: int) -> str:
    return f"ck{execution_id}{index:02d}"


def execution_of(cid: str) -> str | None:
    """The execution id inside one of our client ids, or None (not ours)."""
    m = _CID.fullmatch(cid or "")
    return m.group(1) if m else None


def requests_for(execution_id: str, planned) -> list[OrderRequest]:
    """The planned child orders (``sizing.orders.PlannedOrder``) as broker requests."""
    return [
        OrderRequest(
            symbol=o.symbol, side=o.side, type=o.type, amount=float(o.amount),
            price=None if o.price is None else float(o.price),
            reduce_only=bool(o.reduce_only), post_only=bool(getattr(o, "post_only", False)),
            client_order_id=client_order_id(execution_id, i),
        )
        for i, o in enumerate(planned)
    ]


def venue_error_line(exc: BaseException) -> str:
    """One line for the trader from a broker's exception (its first line, or its type)."""
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
