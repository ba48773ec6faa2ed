"""The stress screen's numbers: the grid (moves x IV shifts), portfolio VaR/CVaR with
each position's component and stand-alone VaR, and each perp's funding."""

from __future__ import annotations

from collections.abc import Mapping

from cockpit.model import Snapshot
from cockpit.model.views import FundingRow, StressView
from cockpit.views.common import _finite

MS_PER_HOUR = 3_600_000


def funding_rows(snapshot: Snapshot) -> tuple[FundingRow, ...]:
    """Each held perpetual's funding rate, next time and payment at that rate (USD)."""
    from sizing.contracts import funding_payment

    acct = snapshot.account
    if acct is None:
        return ()
    paid = acct.extra.get("funding_paid", {}) or {}
    rows = []
    for p in acct.positions:
        inst = snapshot.instruments.get(p.symbol)
        t = snapshot.tickers.get(p.symbol)
        if inst is None or inst.kind != "perp" or not p.contracts:
            continue
        rate = t.funding_rate if t is not None else None
        pay = None
        if rate is not None and t is not None and _finite(t.mark) and t.mark > 0:
            settle_usd = 1.0 if inst.linear else t.index
            pay = funding_payment(inst, p.contracts, t.mark, rate) * settle_usd
        rows.append(FundingRow(p.symbol, rate, t.next_funding_ms if t else None,
                               inst.funding_interval_h, pay, paid.get(inst.settle),
                               inst.settle))
    return tuple(rows)


def stress_view(snapshot: Snapshot, forecasts: Mapping | None = None,
                alpha: float = 0.99) -> StressView:
    """The whole account under the stress grid and its 1-day VaR/CVaR at ``alpha``."""
    from cockpit.engine_input import book_from_snapshot
    from cockpit.views.risk import var_inputs
    from sizing.account_risk import revalue
    from sizing.portfolio_risk import fhs_scenarios, portfolio_var, stress_grid

    book = book_from_snapshot(snapshot)
    if book is None:
        return StressView(empty_reason="waiting for the first account update")
    funding = funding_rows(snapshot)
    if not book.positions:
        return StressView(funding=funding, empty_reason="no open positions")
    if not _finite(revalue(book).equity_usd):
        return StressView(funding=funding,
                          empty_reason="a price or an implied vol is missing: cannot revalue")
    grid = stress_grid(book)
    returns, sigma = var_inputs(snapshot, forecasts, book.underlyings())
    scenarios = fhs_scenarios(returns, sigma)
    var = portfolio_var(book, scenarios, alpha)
    from dataclasses import replace

    alone = {}
    bare = replace(book, positions=(), balances={}, fixed_equity_usd=0.0, fixed_mm_usd=0.0)
    for p in book.positions:  # stand-alone VaR: what each would be cut for on its own
        alone[p.contract.symbol] = portfolio_var(replace(bare, positions=(p,)), scenarios,
                                                 alpha).var_usd
    for coin, amount in book.balances.items():
        if f"{coin} balance" in var.components:
            alone[f"{coin} balance"] = portfolio_var(replace(bare, balances={coin: amount}),
                                                     scenarios, alpha).var_usd
    comps = sorted(((k, v, alone.get(k, v)) for k, v in var.components.items()),
                   key=lambda kv: -abs(kv[1]))
    return StressView(
        moves=grid.moves, vol_shifts=grid.vol_shifts, pnl_usd=grid.pnl_usd,
        margin_ratio=grid.margin_ratio, liquidated=grid.liquidated,
        equity_usd=revalue(book).equity_usd, var_usd=var.var_usd, cvar_usd=var.cvar_usd,
        alpha=alpha, scenarios=var.scenarios, method=var.method, components=tuple(comps),
        funding=funding,
    )
