"""Suggestions: the engine's decisions as the trader sees and approves them.

A suggestion is a non-"hold" ``sizing.policy.Decision`` stamped with the data
time of the run that produced it and the mark it saw. It goes stale when it
is older than ``max_age_s`` (wall seconds: data time over the market's time
scale, so ``--acceleration`` does not age it faster) or the mark moved more
than ``max_move_bps`` since; a stale suggestion cannot be approved until the
engine refreshes it. When a run fails, the previous suggestions are kept on
screen but marked stale, never silently treated as current.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from cockpit.model import Snapshot


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One proposal. ``decision`` is a ``sizing.policy.Decision``; ``orders`` the
    planned child orders (``sizing.orders.PlannedOrder``)."""

    id: str
    symbol: str
    decision: object
    orders: tuple
    created_ms: int
    ref_price: float
    engine_error: str | None = None  # set when a later run failed
    engine_seq: int = -1  # the engine run that made it (ties it to that run in the journal)
    style: str = "market"  # how it will be worked (cockpit.execution_style)
    style_why: str = ""  # "passive: spread 1,058 bp > 20 bp budget"
    slippage_bps: float = math.nan  # expected, against mid (an option's mark), market style
    slippage_usd: float = math.nan

    @property
    def reduces_risk(self) -> bool:
        return bool(getattr(self.decision, "reduces_risk", False))


def mark_price(snapshot: Snapshot, symbol: str) -> float:
    t = snapshot.tickers.get(symbol)
    return float(t.mark) if t is not None else math.nan


def stale_reason(s: Suggestion, snapshot: Snapshot, max_age_s: float, max_move_bps: float) -> str | None:
    """Why ``s`` may not be approved now, or None when it is fresh."""
    if s.engine_error:
        return f"engine run failed ({s.engine_error}); wait for a fresh run"
    age_s = snapshot.wall_age_s(s.created_ms)
    if age_s > max_age_s:
        return f"{age_s:.0f}s old (limit {max_age_s:.0f}s); wait for a fresh run"
    now = mark_price(snapshot, s.symbol)
    if not (math.isfinite(now) and math.isfinite(s.ref_price) and s.ref_price > 0):
        return "no current mark price"
    move_bps = abs(now / s.ref_price - 1.0) * 1e4
    if move_bps > max_move_bps:
        return f"price moved {move_bps:.0f} bps since (limit {max_move_bps:.0f}); wait for a fresh run"
    return None


class SuggestionBook:
    """The current suggestions, replaced wholesale by each engine run."""

    def __init__(self) -> None:
        self._items: dict[str, Suggestion] = {}
        self._rejected: dict[str, int] = {}  # symbol -> data time (ms) it was rejected

    def __iter__(self):
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def get(self, suggestion_id: str) -> Suggestion | None:
        return self._items.get(suggestion_id)

    def replace_all(self, suggestions: list[Suggestion], now_ms: int, quiet_ms: int) -> None:
        """A fresh run: its suggestions replace the old ones. A symbol the trader
        rejected stays quiet for ``quiet_ms`` of data time, so "x" is not undone
        by the next run a few seconds later."""
        self._rejected = {k: t for k, t in self._rejected.items() if now_ms - t < quiet_ms}
        self._items = {s.id: s for s in suggestions if s.symbol not in self._rejected}

    def mark_failed(self, error: str) -> None:
        self._items = {k: replace(s, engine_error=error) for k, s in self._items.items()}

    def remove(self, suggestion_id: str) -> Suggestion | None:
        return self._items.pop(suggestion_id, None)

    def reject(self, suggestion_id: str, now_ms: int) -> Suggestion | None:
        s = self._items.pop(suggestion_id, None)
        if s is not None:
            self._rejected[s.symbol] = now_ms
        return s

    def clear_rejections(self) -> None:
        self._rejected.clear()
