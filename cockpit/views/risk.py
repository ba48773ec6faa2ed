"""The account's true risk as plain data: positions with their contract terms and Greeks,
liquidation levels, portfolio VaR/CVaR and the stress grid (``cockpit size --json``'s
``account`` object, and the numbers of the stress screen).

Everything is computed by ``sizing`` on the account book that
``cockpit.engine_input.book_from_snapshot`` builds (the same the margin panel
uses), so a script can check it against its own revaluation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from cockpit.model import Snapshot
from cockpit.views.common import bars_symbol, forecast_for

__all__ = ["account_report", "var_inputs"]


def var_inputs(snapshot: Snapshot, forecasts: Mapping | None, underlyings) -> tuple[dict, dict]:
    """(hourly log returns, forecast daily sigma) per underlying, from the bars that track
    it and the engine's forecast (else the returns' own standard deviation)."""
    from cockpit.engine_input import log_returns

    returns, sigma = {}, {}
    for und in underlyings:
        sym = bars_symbol(snapshot, und)
        if not sym:
            continue
        returns[und] = log_returns(snapshot.bars.get(sym))
        vol, _ = forecast_for(forecasts, sym, und)
        if vol is not None:
            sigma[und] = vol / math.sqrt(365.0)
    return returns, sigma


def _level(lv) -> dict | None:
    if lv is None:
        return None
    return {"price": lv.price, "move_pct": lv.move_pct, "equity_usd": lv.equity_usd,
            "maintenance_margin_usd": lv.maintenance_margin_usd}


def account_report(snapshot: Snapshot, forecasts: Mapping | None = None,
                   alpha: float = 0.99) -> dict | None:
    """The ``account`` object of ``cockpit size --json`` (None without an account).

    Keys: ``balances`` (coin -> amount), ``equity_usd``, ``maintenance_margin_usd``,
    ``positions`` (contract terms, marks, IV and Greeks with ``delta_convention``),
    ``book_delta`` per underlying, ``liquidation`` (underlying -> down/up level or
    null within +-95 %; "all" = every underlying together, prices as ratios),
    ``var`` (USD, 1 day, ``alpha``) and ``stress`` (moves x IV shifts).
    """
    from cockpit.engine_input import book_from_snapshot
    from sizing.account_risk import JOINT, account_liquidations, joint_liquidation
    from sizing.book_greeks import DELTA_CONVENTION, book_deltas, position_greeks
    from sizing.portfolio_risk import fhs_scenarios, portfolio_var, stress_grid

    acct = snapshot.account
    book = book_from_snapshot(snapshot)
    if acct is None or book is None:
        return None
    greeks = position_greeks(book)
    positions = []
    for p, g in zip(book.positions, greeks, strict=True):
        c = p.contract
        row = {"symbol": c.symbol, "kind": c.kind, "contracts": p.contracts,
               "contract_size": c.contract_size, "linear": bool(c.linear),
               "entry_price": p.entry_price, "mark_price": p.mark_price,
               "underlying": p.underlying, "underlying_price": p.underlying_price,
               "settle": c.settle}
        if p.is_option:
            row.update(strike=c.strike, expiry_ms=c.expiry_ms, is_call=bool(c.is_call),
                       implied_vol=p.implied_vol, years=p.years)
        else:
            row["margin_tiers"] = [{"max_notional": t.max_notional,
                                    "maintenance_rate": t.maintenance_rate,
                                    "maintenance_amount": t.maintenance_amount}
                                   for t in c.margin_tiers]
        row["greeks"] = {"delta_coin": g.delta_coin, "delta_usd": g.delta_usd,
                         "premium_adjustment_coin": g.premium_adjustment_coin,
                         "gamma_coin_per_usd": g.gamma_coin, "vega_usd_per_vol_point":
                         g.vega_usd, "theta_usd_per_day": g.theta_usd,
                         "convention": "plain Black-76 delta (venue ticker); theta x time "
                                       "left inside the last day" if p.is_option else
                                       "coin size of the contract"}
        positions.append(row)
    levels = account_liquidations(book)
    liquidation = {u: {"price_now": lv.price, "down": _level(lv.down), "up": _level(lv.up)}
                   for u, lv in levels.items()}
    if len(levels) > 1:
        joint = joint_liquidation(book)
        liquidation[JOINT] = {"price_now": 1.0, "down": _level(joint.down),
                              "up": _level(joint.up)}
    returns, sigma = var_inputs(snapshot, forecasts, book.underlyings())
    var = portfolio_var(book, fhs_scenarios(returns, sigma), alpha)
    grid = stress_grid(book)
    return {
        "balances": {b.currency: b.total for b in acct.balances},
        "prices_usd": dict(book.prices_usd),
        "equity_usd": acct.equity_usd,
        "maintenance_margin_usd": acct.maintenance_margin_usd,
        "initial_margin_usd": acct.initial_margin_usd,
        "revaluation": "perps and coin at the new price; options Black-76 at today's "
                       "implied vol (sticky strike); margin recomputed at each price",
        "positions": positions,
        "delta_convention": DELTA_CONVENTION,
        "book_delta": {u: {"price": d.price, "options_coin": d.options_coin,
                           "perps_coin": d.perps_coin,
                           "premium_adjustment_coin": d.premium_adjustment_coin,
                           "coin_equity": d.coin_equity, "delta_total_coin": d.delta_total_coin,
                           "total_coin": d.total_coin, "total_usd": d.total_usd}
                       for u, d in book_deltas(book, greeks).items()},
        "liquidation": liquidation,
        "var": {"var_usd": var.var_usd, "cvar_usd": var.cvar_usd, "alpha": var.alpha,
                "horizon_days": 1, "method": var.method, "scenarios": var.scenarios,
                "component_var_usd": dict(var.components),
                "component_cvar_usd": dict(var.components_cvar)},
        "stress": {"moves": list(grid.moves), "vol_shifts": list(grid.vol_shifts),
                   "vol_shift_kind": "relative: implied vol x (1 + shift)",
                   "pnl_usd": [list(r) for r in grid.pnl_usd],
                   "margin_ratio": [list(r) for r in grid.margin_ratio],
                   "liquidated": [list(r) for r in grid.liquidated]},
    }
