"""The trading session's own state, apart from the screen: suggestions, the
risk gate, auto-execute, the kill switch and the event log entries.

The App delegates here; everything in this module is testable without a UI.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque

from cockpit.config import Config
from cockpit.engine import EngineResult
from cockpit.execution import ExecutionReport, RiskGate
from cockpit.model import Snapshot
from cockpit.model.views import LogEntry
from cockpit.suggestions import Suggestion, SuggestionBook


def policy_settings(config: Config, *, reduce_only: bool = False):
    """``[sizing]`` -> ``sizing.policy.PolicySettings`` (same names, same units)."""
    from sizing.policy import PolicySettings

    fields = {f.name for f in dataclasses.fields(PolicySettings)}
    values = {k: v for k, v in config.sizing.model_dump().items() if k in fields}
    return PolicySettings(**values, reduce_only=reduce_only)


def plan_for(decision, snapshot: Snapshot) -> tuple:
    """The child orders of one decision: a single market order, rounded to the
    venue's precision and minimums (``sizing.orders.plan_change``)."""
    from sizing.orders import OrderRules, plan_change

    inst = snapshot.instruments.get(decision.symbol)
    ticker = snapshot.tickers.get(decision.symbol)
    if inst is None or ticker is None:
        return ()
    rules = OrderRules.of(inst)
    try:
        return plan_change(decision.symbol, decision.current, decision.target, rules, "market",
                           reference_price=ticker.mark)
    except ValueError:
        return ()


def suggestions_from(result: EngineResult, snapshot: Snapshot) -> list[Suggestion]:
    """Every non-hold decision of a run becomes a suggestion stamped with the
    run's data time and the mark it saw."""
    out = []
    for d in result.decisions:
        if d.kind == "hold" or not math.isfinite(d.order) or d.order == 0:
            continue
        ticker = snapshot.tickers.get(d.symbol)
        out.append(Suggestion(
            id=f"{d.symbol}#{result.seq}", symbol=d.symbol, decision=d,
            orders=plan_for(d, snapshot), created_ms=result.snapshot_ts_ms,
            ref_price=float(ticker.mark) if ticker else math.nan,
        ))
    return out


def _news(prev: Suggestion | None, new: Suggestion) -> bool:
    """Log a suggestion when it is new, its reason changed, or its target moved by
    more than a tenth of its order, not on every run's small drift."""
    if prev is None:
        return True
    a, b = prev.decision, new.decision
    if a.binding_constraint != b.binding_constraint or a.kind != b.kind:
        return True
    return abs(b.target - a.target) > 0.1 * max(abs(b.order), 1e-12)


class Session:
    """Suggestions, gate, auto-execute and the log; one per running App."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.book = SuggestionBook()
        eng = config.engine
        self.gate = RiskGate(eng.suggestion_max_age_s, eng.suggestion_max_move_bps,
                             eng.auto_execute_increases)
        self.auto_execute = False
        self.auto_confirmed = False  # the first switch-on each session asks
        self.last_result: EngineResult | None = None
        self.log: deque[LogEntry] = deque(maxlen=500)
        self._sent: set[str] = set()

    # -- engine results ---------------------------------------------------------
    def on_result(self, result: EngineResult, snapshot: Snapshot) -> list[LogEntry]:
        """Take a run's result; returns the log entries it produced."""
        entries: list[LogEntry] = []
        if result.error:
            self.book.mark_failed(result.error)
            entries.append(LogEntry(snapshot.ts_ms, "error", f"engine run failed: {result.error}"))
            self.last_result = dataclasses.replace(result, forecasts=(
                self.last_result.forecasts if self.last_result else {}))
            return entries
        old = {s.symbol: s for s in self.book}
        self.last_result = result
        quiet_ms = int(self.config.engine.suggestion_max_age_s * 1000)
        self.book.replace_all(suggestions_from(result, snapshot), snapshot.ts_ms, quiet_ms)
        for s in self.book:
            if _news(old.get(s.symbol), s):
                entries.append(LogEntry(snapshot.ts_ms, "suggestion", s.decision.reason))
        return entries

    def breakers(self) -> tuple[str, ...]:
        names: list[str] = []
        if self.gate.reduce_only:
            names.append("kill switch: reduce-only")
        if self.last_result:
            for d in self.last_result.decisions:
                for b in getattr(d, "breakers", ()):
                    if b not in names:
                        names.append(b)
        return tuple(names)

    def auto_candidates(self, snapshot: Snapshot) -> list[Suggestion]:
        """Suggestions auto-execute may send now (once each)."""
        if not self.auto_execute:
            return []
        out = []
        for s in self.book:
            if s.id in self._sent:
                continue
            if self.gate.check(s, snapshot, auto=True) is None:
                out.append(s)
        return out

    def mark_sent(self, suggestion_id: str) -> None:
        self._sent.add(suggestion_id)
        self.book.remove(suggestion_id)

    # -- outcome of an order ------------------------------------------------------
    def report_entries(self, report: ExecutionReport, ts_ms: int) -> list[LogEntry]:
        who = "auto" if report.auto else "approval" if report.suggestion_id else "order"
        if report.error and not report.orders:
            return [LogEntry(ts_ms, "error", f"{report.symbol}: not sent — {report.error}")]
        entries = [LogEntry(ts_ms, who, f"{report.symbol}: sent {len(report.orders)} order(s)")]
        for o in report.orders:
            avg = f" @ {o.average:,.4f}" if o.average else ""
            note = f" ({o.reason})" if o.reason else ""
            entries.append(LogEntry(
                ts_ms, "fill" if o.filled else "order",
                f"{o.side} {o.filled:g}/{o.amount:g} {o.symbol} {o.status}{avg}{note}",
            ))
        if report.error:
            entries.append(LogEntry(ts_ms, "error", f"{report.symbol}: {report.error}"))
        return entries
