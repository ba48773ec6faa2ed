"""The margin panel of a session of several venues: each venue's own account and
their sum, and each account's liquidation levels solved on that account alone.

A venue liquidates its own account: an OKX short does not lend margin to a Deribit
option book. So the levels and each position's distance to liquidation come from
revaluing the position's own account (``solve_liquidations`` on a snapshot holding
that account only); the Σ row adds the USD figures (``cockpit.accounts``), and its
margin ratio is the whole book's MM / equity, not a liquidation level.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace

from cockpit.model import Account, Snapshot
from cockpit.model.views import VenueAccountRow


def _level(ratio: float, amber: float, red: float) -> str:
    if ratio != ratio:
        return "unknown"
    return "red" if ratio >= red else "amber" if ratio >= amber else "ok"


def _row(venue: str, a: Account, amber: float, red: float, *, total: bool = False):
    ratio = a.margin_ratio if math.isfinite(a.equity_usd) else math.nan
    return VenueAccountRow(venue, "" if total else str(a.extra.get("mode", "")), a.equity_usd,
                           a.available_usd, a.initial_margin_usd, a.maintenance_margin_usd,
                           ratio, _level(ratio, amber, red), is_total=total)


def venue_rows(snapshot: Snapshot, thresholds: tuple[float, float]) -> tuple:
    """One row per venue's account, in the session's order, then "Σ" (the sum)."""
    amber, red = thresholds
    rows = [_row(v, a, amber, red) for v, a in snapshot.accounts.items()]
    if snapshot.account is not None:
        rows.append(_row("Σ", snapshot.account, amber, red, total=True))
    return tuple(rows)


def venue_parts(snapshot: Snapshot, forecasts: Mapping | None, buffer_sigmas: float):
    """(account levels, position rows) with each venue's account solved alone; the
    levels are named "VENUE UNDERLYING" ("okx BTC", "sim all")."""
    from cockpit.views.margin import _account_rows, _margin_row, solve_liquidations

    levels, rows = [], []
    for venue, acct in snapshot.accounts.items():
        alone = replace(snapshot, account=acct, accounts={venue: acct})
        liq = solve_liquidations(alone)
        levels += [replace(r, underlying=f"{venue} {r.underlying}")
                   for r in _account_rows(alone, liq, forecasts, buffer_sigmas)]
        rows += [_margin_row(alone, p, forecasts, liq) for p in acct.positions if p.contracts]
    return levels, rows
