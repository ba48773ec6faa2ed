"""The one trading state of an account: what moves it down, what keeps it down.

ACTIVE (every order) > REDUCING (only orders the what-if verifies as reducing) >
HALTED (no orders; cancels always pass). The state is persisted in the account's
journal and restored at start.

Automatic moves go down, never up: a tripped breaker (stale data, vol spike), the
drawdown tier whose scale is 0, a margin ratio past ``[display] margin_red``, or a
liquidation. Only the trader moves the state up, and only once the cause has
cleared with a margin (hysteresis: the drawdown and the margin ratio must fall to
:data:`HYSTERESIS` of their thresholds), so the next run does not trip it again.
"""

from __future__ import annotations

from cockpit.config import Config
from cockpit.model import Snapshot
from cockpit.risk_gate import TradingState

HYSTERESIS = 0.9  # a threshold clears at 90 % of its trip level
_RANK = {TradingState.HALTED: 0, TradingState.REDUCING: 1, TradingState.ACTIVE: 2}
_TRIPS = ("stale data", "vol spike")  # policy breakers that move the state


def lower_of(a: TradingState, b: TradingState) -> TradingState:
    return a if _RANK[a] <= _RANK[b] else b


class StateKeeper:
    """The persisted state and its automatic triggers."""

    def __init__(self, config: Config, journal) -> None:
        self.config = config
        self.journal = journal
        saved = journal.get_meta("trading_state")
        try:
            self.state = TradingState(saved) if saved else TradingState.ACTIVE
        except ValueError:  # an unknown value: the safe side
            self.state = TradingState.REDUCING
        self.reason = journal.get_meta("trading_reason") or ""
        self._liquidations: int | None = None

    def _save(self) -> None:
        self.journal.set_meta("trading_state", self.state.value)
        self.journal.set_meta("trading_reason", self.reason)

    def lower(self, to: TradingState, reason: str) -> bool:
        if _RANK[to] >= _RANK[self.state]:
            return False
        self.state, self.reason = to, reason
        self._save()
        return True

    def raise_to(self, to: TradingState) -> bool:
        if _RANK[to] <= _RANK[self.state]:
            return False
        self.state, self.reason = to, ""
        self._save()
        return True

    # -- causes ------------------------------------------------------------------------
    def _reduce_only_drawdown(self) -> float | None:
        tiers = [dd for dd, scale in self.config.sizing.drawdown_tiers if scale == 0]
        return min(tiers) if tiers else None

    def _causes(self, snapshot: Snapshot, result, level: float) -> list[str]:
        """Conditions that hold the state down; thresholds scaled by ``level``
        (1 to trip, :data:`HYSTERESIS` to clear)."""
        out: list[str] = []
        acct = snapshot.account
        if acct is not None and acct.equity_usd == acct.equity_usd:  # not NaN
            peak = acct.peak_equity_usd
            limit = self._reduce_only_drawdown()
            if limit is not None and peak > 0:
                dd = 1.0 - acct.equity_usd / peak
                if dd >= limit * level:
                    out.append(f"drawdown {dd:.1%} ≥ {limit * level:.1%} "
                               "([sizing] drawdown_tiers reduce-only tier)")
            red = self.config.display.margin_red
            ratio = acct.margin_ratio
            if ratio >= red * level:
                out.append(f"margin ratio {ratio:.1%} ≥ {red * level:.0%} ([display] margin_red)")
        if result is not None and not result.error:
            for d in result.decisions:
                for b in getattr(d, "breakers", ()):
                    if b.startswith(_TRIPS) and f"breaker: {b}" not in out:
                        out.append(f"breaker: {b}")
        return out

    def triggers(self, snapshot: Snapshot, result) -> list[tuple[TradingState, str]]:
        """Automatic moves down after a run."""
        moves = [(TradingState.REDUCING, c) for c in self._causes(snapshot, result, 1.0)]
        acct = snapshot.account
        if acct is not None:
            if self._liquidations is not None and acct.liquidations > self._liquidations:
                last = acct.extra.get("last_liquidation", "") if acct.extra else ""
                moves.append((TradingState.REDUCING, f"liquidation {last}".strip()))
            self._liquidations = acct.liquidations
        return moves

    def blockers(self, snapshot: Snapshot, result, to: TradingState) -> list[str]:
        """What still holds the state below ``to`` (only ACTIVE needs the causes cleared)."""
        if to != TradingState.ACTIVE:
            return []
        return self._causes(snapshot, result, HYSTERESIS)
