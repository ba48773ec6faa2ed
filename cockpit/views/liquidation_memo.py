"""The margin panel's account liquidation levels, solved again only when they can
have moved by more than the panel shows.

Solving every underlying's level (and the joint move) revalues the whole book
some thirty times, ~10 ms on the demo account; the panel repaints a few times a
second. What the levels depend on: the positions, the balances, the account's
calibration (a venue's own equity and maintenance margin), each option's implied
vol and time to expiry, and, for one underlying's level, the other underlyings'
prices. What they do not depend on: the underlying's own price today, since a
perp or coin is revalued at the scenario price itself and options are held at
their implied vol (sticky strike). So between solves the level's price is kept
and its distance is measured from today's price; a fill, a funding payment, a
balance change or ``refresh_ms`` of market time solves again.

The joint row ("all", every underlying moving by one fraction) is a ratio to the
prices at the solve and is shown as solved until the next one.
"""

from __future__ import annotations

import math
from dataclasses import replace

from cockpit.model import Snapshot

REFRESH_MS = 1_000  # market time between solves of an unchanged book


class LiquidationMemo:
    """``solve_liquidations`` for a stream of snapshots of one account."""

    def __init__(self, refresh_ms: int = REFRESH_MS) -> None:
        self.refresh_ms = refresh_ms
        self.solves = 0
        self._last: tuple | None = None  # (key, ts_ms, levels)

    def due(self, snapshot: Snapshot) -> bool:
        """Whether the next call for this snapshot solves (rather than rebases)."""
        return self._due(_book_key(snapshot), snapshot.ts_ms)

    def _due(self, key: tuple | None, ts_ms: int) -> bool:
        last = self._last
        return not (last is not None and last[0] == key and 0 <= ts_ms - last[1] < self.refresh_ms)

    def __call__(self, snapshot: Snapshot) -> dict:
        from cockpit.views.margin import solve_liquidations

        key = _book_key(snapshot)
        if not self._due(key, snapshot.ts_ms):
            return _rebased(self._last[2], snapshot)
        levels = solve_liquidations(snapshot)
        self.solves += 1
        self._last = (key, snapshot.ts_ms, levels)
        return levels


def _book_key(snapshot: Snapshot) -> tuple | None:
    acct = snapshot.account
    if acct is None:
        return None
    return (acct.venue,
            tuple((p.symbol, p.contracts, p.entry_price) for p in acct.positions),
            tuple((b.currency, b.total) for b in acct.balances),
            # a live venue's figures are the calibration the solver holds fixed
            acct.liquidations, bool(acct.extra.get("account_margin_from_venue")))


def _rebased(levels: dict, snapshot: Snapshot) -> dict:
    """The same liquidation prices, their moves measured from today's prices."""
    from cockpit.engine_input import price_usd_from

    price = price_usd_from(snapshot)
    out = {}
    for und, lv in levels.items():
        now = price(und) if und != "all" else math.nan
        if not (math.isfinite(now) and now > 0):
            out[und] = lv
            continue
        out[und] = replace(lv, price=now, down=_moved(lv.down, now), up=_moved(lv.up, now))
    return out


def _moved(level, now: float):
    if level is None:
        return None
    return replace(level, move_pct=level.price / now - 1.0)
