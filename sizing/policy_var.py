"""The VaR limit on the whole book: full-revaluation VaR with component allocation.

With the account book (``PortfolioState.book``) the policy measures the 1-day VaR of
the whole account by filtered historical simulation (``sizing.portfolio_risk``) and
applies ``var_limit`` x equity to that, not to each position alone:

* Inside the limit, a position with a positive component VaR ``c_i`` may grow
  until the headroom is used at its marginal rate, ``|n_i| + (L - VaR) / (c_i / |n_i|)``;
  a flat one, or a hedge (``c_i <= 0``), at its stand-alone VaR per contract (growing
  a hedge past the point where it offsets would turn it into a risk).
* Past the limit, every position with ``c_i > 0`` is scaled by the same factor
  ``f = (L - sum of negative components) / sum of positive components`` (VaR is
  homogeneous of degree one in the sizes, Euler: VaR = sum c_i), repeated on the
  scaled book because options make VaR non-linear, so the book lands on the limit
  and a hedge is never cut for its stand-alone risk.

References
----------
Tasche, D. (2000), "Conditional expectation as quantile derivative".
Litterman, R. (1996), "Hot Spots and Hedges", J. Portfolio Management.
"""

from __future__ import annotations

import math

INF = math.inf


def _scales(book, scenarios, alpha, var, limit, live, values, rounds: int = 4,
            ) -> dict[str, float]:
    """Per-symbol size factors that bring the book's VaR to ``limit`` (when over it).

    One Euler step scales the positive components by a common factor; options make
    VaR non-linear in size, so the step is repeated on the scaled book (a few
    rounds; each revalues the whole book over the same scenarios, the options' values
    ``values`` at them computed once: they do not depend on the sizes).
    """
    from sizing.account_risk import resized
    from sizing.policy_liquidation import book_position

    scale: dict[str, float] = {}
    by_symbol = {d.inst.symbol: d.inst for d in live}
    for _ in range(rounds):
        if var.var_usd <= limit * 1.01:
            break
        positive = sum(c for c in var.components.values() if c > 0)
        negative = sum(c for c in var.components.values() if c <= 0)
        if positive <= 0:
            break
        factor = max((limit - negative) / positive, 0.0)
        for sym, c in var.components.items():
            inst = by_symbol.get(sym)
            if c > 0 and inst is not None and inst.contracts:
                scale[sym] = scale.get(sym, 1.0) * factor
                book = resized(book, book_position(book, inst), inst.contracts * scale[sym])
        from sizing.portfolio_risk import portfolio_var

        var = portfolio_var(book, scenarios, alpha, values)
        if not math.isfinite(var.var_usd):
            break
    return scale


def apply(drafts, state, s) -> None:
    """Replace each draft's stand-alone ``var`` cap by its share of the portfolio limit."""
    from sizing.policy_exposure import daily_sigma
    from sizing.portfolio_risk import fhs_scenarios, portfolio_var, scenario_option_values

    live = [d for d in drafts if not d.nan]
    if not live or state.book is None:
        return
    returns, sigma = {}, {}
    for d in live:
        g = d.inst.group
        if len(d.inst.log_returns) > len(returns.get(g, ())):
            returns[g] = d.inst.log_returns
            sigma[g] = daily_sigma(d.vol)
    scenarios = fhs_scenarios(returns, sigma)
    if not scenarios:
        return
    values = scenario_option_values(state.book, scenarios)
    var = portfolio_var(state.book, scenarios, s.var_alpha, values)
    if not math.isfinite(var.var_usd):
        return
    limit = s.var_limit * state.equity_usd
    comps = var.components
    scale = _scales(state.book, scenarios, s.var_alpha, var, limit, live, values)
    headroom = limit - var.var_usd
    for d in live:
        cur = abs(d.inst.contracts)
        c = comps.get(d.inst.symbol, 0.0)
        per = d.var_pc.get(d.direction, 0.0)  # stand-alone VaR per contract
        if c > 0 and cur > 0:
            cap = cur * scale.get(d.inst.symbol, 1.0) if headroom < 0 else \
                cur + headroom / (c / cur)
        elif headroom < 0:
            cap = cur  # a hedge (or flat): never cut for VaR, no add past the limit
        else:
            cap = cur + headroom / per if per > 0 else INF
        d.caps["var"] = max(cap, 0.0)
        d.inputs.update(portfolio_var_usd=var.var_usd, portfolio_cvar_usd=var.cvar_usd,
                        component_var_usd=c, var_scenarios=var.scenarios,
                        var_method=var.method, var_limit_usd=limit,
                        risk_share=c / var.var_usd if var.var_usd > 0 else math.nan)
        if "drawdown" in d.caps and not d.inputs.get("drawdown_reduce_only"):
            dd_scale = d.inputs.get("drawdown_scale", 1.0)
            d.caps["drawdown"] = dd_scale * min(d.caps["vol_target"], d.caps.get("kelly", INF),
                                             d.caps["var"])
