"""Several accounts seen as one: the combined account of a multi-venue session.

Each venue is its own account (its own margin, its own liquidation). The combined
account is what the engine and the headline figures read: money in USD summed
(equity, initial and maintenance margin, unrealised PnL), and every position, order
and fill of every venue, each keeping its venue-qualified symbol
(``cockpit.venues.router``) and its ``Position.venue``. Its margin ratio is
``sum MM / sum equity``: a figure of the whole book, not a liquidation level — each
venue's own ratio is in ``Snapshot.accounts`` and the margin panel shows both.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from cockpit.model import Account

COMBINED = "all"  # the combined account's venue name


def with_mode(account: Account, mode: str) -> Account:
    """The account marked paper or live (``extra["mode"]``) for the margin panel's rows."""
    return dataclasses.replace(account, extra={**account.extra, "mode": mode})


def tag_account(account: Account, venue: str) -> Account:
    """Every position of ``account`` carries ``venue`` (a broker may leave it blank)."""
    if all(p.venue == venue for p in account.positions):
        return account
    return dataclasses.replace(account, positions=tuple(
        p if p.venue == venue else dataclasses.replace(p, venue=venue)
        for p in account.positions))


def combine_accounts(accounts: Mapping[str, Account]) -> Account:
    """The sum of ``accounts`` (venue -> account) as one ``Account`` (venue ``"all"``).

    Balances are listed per venue (same currency on two venues stays two rows:
    they are not fungible between accounts); fills are merged oldest first.
    ``peak_equity_usd`` is left 0: the Store keeps the combined peak.
    """
    items = [tag_account(a, v) for v, a in accounts.items()]
    return Account(
        venue=COMBINED,
        ts_ms=max((a.ts_ms for a in items), default=0),
        balances=tuple(b for a in items for b in a.balances),
        positions=tuple(p for a in items for p in a.positions),
        open_orders=tuple(o for a in items for o in a.open_orders),
        fills=tuple(sorted((f for a in items for f in a.fills), key=lambda f: f.ts_ms)),
        equity_usd=sum(a.equity_usd for a in items),
        initial_margin_usd=sum(a.initial_margin_usd for a in items),
        maintenance_margin_usd=sum(a.maintenance_margin_usd for a in items),
        unrealised_pnl_usd=sum(a.unrealised_pnl_usd for a in items),
        liquidations=sum(a.liquidations for a in items),
        extra={"venues": tuple(accounts),
               "open_order_margin_usd": sum(float(a.extra.get("open_order_margin_usd", 0.0)
                                                  or 0.0) for a in items)},
    )
