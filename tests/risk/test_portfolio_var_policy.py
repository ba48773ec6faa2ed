"""The VaR limit applies to the whole book: cuts go by component VaR, so a hedge is not
cut for its stand-alone risk, and the cut book lands near the limit by full revaluation."""

from __future__ import annotations

import pytest

from cockpit.desk import policy_settings
from cockpit.engine import EngineRunner
from cockpit.engine_input import state_from_snapshot
from sizing.account_risk import resized
from sizing.policy import decide
from sizing.policy_liquidation import book_position
from sizing.portfolio_risk import fhs_scenarios, portfolio_var
from tests.risk.demo_book import demo_runtime


def test_demo_var_cuts_go_by_component_and_spare_the_hedges():
    rt = demo_runtime()
    settings = policy_settings(rt.config)
    snap = rt.store.snapshot()
    forecasts, _ = EngineRunner(settings).forecasts(snap)
    state = state_from_snapshot(snap, forecasts=forecasts)
    decisions = {d.symbol: d for d in decide(state, settings, forecasts)}
    limit = settings.var_limit * state.equity_usd
    some = next(iter(decisions.values()))
    assert some.inputs["portfolio_var_usd"] > limit  # the demo book is over its VaR limit
    assert some.inputs["var_scenarios"] > 1000
    hedges = [d for d in decisions.values() if d.inputs.get("component_var_usd", 0) < 0]
    assert hedges  # the short call and the ETH short offset the BTC longs
    for d in hedges:
        # its stand-alone VaR may exceed the limit, but it is not cut for it
        assert d.caps["var"] >= abs(d.current)
        assert not (d.binding_constraint == "var" and abs(d.target) < abs(d.current))
    # scale every position with a positive component by the allocation's factor and the
    # book, revalued over the same scenarios, lands near the limit
    book = state.book
    for d in decisions.values():
        if d.inputs.get("component_var_usd", 0) > 0:
            inst = next(i for i in state.instruments if i.symbol == d.symbol)
            book = resized(book, book_position(book, inst),
                           d.current * d.caps["var"] / abs(d.current))
    returns = {i.group: i.log_returns for i in state.instruments if len(i.log_returns)}
    sigma = {g: next(d.inputs["forecast_vol"] for d in decisions.values()
                     if d.symbol.startswith(g)) / 365 ** 0.5 for g in returns}
    after = portfolio_var(book, fhs_scenarios(returns, sigma), settings.var_alpha)
    assert after.var_usd == pytest.approx(limit, rel=0.15)
    assert "hedges it" in next(d.reason for d in hedges if d.binding_constraint == "var") \
        or all(d.binding_constraint != "var" for d in hedges)
