"""An execution's state as plain data: its plan, its children and its progress.

Kept apart from the :class:`cockpit.executions.Executor` that works it, so the
journal's copy (:meth:`Execution.record`) and a restart's rebuild
(:meth:`Execution.from_record`) are one small readable thing. Realised slippage is
``side x (average - arrival) / arrival x 10,000`` bps (positive = worse than the
arrival reference: the book's mid, or an option's mark).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

__all__ = ["EPS", "FINISHED", "STATES", "Child", "Execution"]

STATES = ("working", "part filled", "done", "given up", "cancelled")
FINISHED = ("done", "given up", "cancelled")
EPS = 1e-9


@dataclass(slots=True)
class Child:
    """One child order as last seen at the broker (amounts in contracts)."""

    index: int
    client_order_id: str
    order_id: str
    side: str
    amount: float
    price: float | None
    filled: float = 0.0
    average: float | None = None
    status: str = "open"
    sent_ms: int = 0  # market clock


@dataclass(slots=True)
class Execution:
    """One execution's plan and progress. ``target`` is the signed position it works
    toward; ``planned`` the contracts it means to trade; times are market ms."""

    id: str
    symbol: str
    side: str
    style: str
    planned: float
    target: float
    arrival_price: float
    arrival_kind: str  # "mid" or "mark"
    started_ms: int
    deadline_ms: int
    tick: float
    amount_step: float
    min_amount: float = 0.0
    slices: int = 1
    interval_ms: int = 0
    step_ms: int = 0
    step_bps: float = 0.0
    max_worse_bps: float = 0.0
    expected_slippage_bps: float | None = None
    who: str = "key"
    plan: list = field(default_factory=list)  # [side, type, amount, price, reduce_only]
    children: list[Child] = field(default_factory=list)
    state: str = "working"
    note: str = ""
    slices_sent: int = 0
    next_index: int = 0  # of the next child's client id (two digits: at most 100 children)

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def filled(self) -> float:
        return math.fsum(c.filled for c in self.children)

    @property
    def average(self) -> float | None:
        done = [(c.filled, c.average) for c in self.children if c.filled > 0 and c.average]
        qty = math.fsum(q for q, _ in done)
        return math.fsum(q * p for q, p in done) / qty if qty > 0 else None

    @property
    def slippage_bps(self) -> float | None:
        """Realised, against the arrival reference; positive = worse."""
        avg = self.average
        if avg is None or not self.arrival_price > 0:
            return None
        sign = 1.0 if self.side == "buy" else -1.0
        return sign * (avg - self.arrival_price) / self.arrival_price * 1e4

    def time_left_s(self, now_ms: int) -> float:
        return max(self.deadline_ms - now_ms, 0) / 1000.0

    def progress(self, now_ms: int) -> str:
        """"passive buy 1.2/2.5 @ 0.0235, +4.1 bp vs arrival mid, 80 s left — working"."""
        avg = self.average
        slip = self.slippage_bps
        parts = [f"{self.style} {self.side} {self.filled:g}/{self.planned:g} {self.symbol}"]
        if avg is not None:
            parts.append(f"avg {avg:,.6g}")
        if slip is not None:
            expected = self.expected_slippage_bps
            parts.append(f"{slip:+.1f} bp vs arrival {self.arrival_kind}" + (
                f" (expected {expected:+.1f})" if expected is not None
                and math.isfinite(expected) else ""))
        if not self.finished:
            parts.append(f"{self.time_left_s(now_ms):.0f} s left")
        return ", ".join(parts) + f" — {self.state}" + (f": {self.note}" if self.note else "")

    def record(self) -> dict:
        """The journal's copy (plain data), with the figures derived from the fills."""
        data = asdict(self)
        data.update(filled=self.filled, average=self.average, slippage_bps=self.slippage_bps)
        return data

    @classmethod
    def from_record(cls, data: dict) -> Execution:
        names = {f.name for f in fields(cls)}
        kept = {k: v for k, v in data.items() if k in names}
        kept["children"] = [Child(**c) for c in data.get("children", [])]
        return cls(**kept)
