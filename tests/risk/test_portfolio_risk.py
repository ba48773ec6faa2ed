"""Portfolio VaR by full revaluation: against a direct computation, the FHS filter's
scale, and the component allocation that keeps a hedge from being cut as a risk."""

from __future__ import annotations

import numpy as np
import pytest

from sizing.account_risk import AccountBook, BookPosition
from sizing.contracts import ContractSpec
from sizing.portfolio_risk import fhs_scenarios, portfolio_var, stress_grid

PERP = ContractSpec("BTC/USDT:USDT", "perp", True, 1.0, base="BTC", settle="USDT",
                    underlying="BTC")
CALL = ContractSpec("BTC/USD:BTC-X-70000-C", "option", False, 1.0, base="BTC", settle="BTC",
                    underlying="BTC", strike=70_000.0, is_call=True)


def _book(*positions, balances=None):
    return AccountBook(balances or {"USDT": 100_000.0}, {"BTC": 60_000.0}, tuple(positions))


def test_var_of_a_perp_is_the_quantile_of_its_revalued_losses():
    rng = np.random.default_rng(3)
    moves = rng.standard_t(4, 3000) * 0.03
    book = _book(BookPosition(PERP, 2.0, 60_000.0, 60_000.0, 60_000.0))
    v = portfolio_var(book, {"BTC": moves}, 0.99)
    losses = -2.0 * 60_000.0 * np.expm1(moves)  # written directly, no sizing code
    assert v.var_usd == pytest.approx(np.sort(losses)[int(np.ceil(0.99 * 3000)) - 1], rel=1e-9)
    k = int(np.ceil(0.99 * 3000))  # Acerbi-Tasche (2002): the 30 beyond VaR, none at it
    assert v.cvar_usd == pytest.approx(np.sort(losses)[k:].mean(), rel=1e-9)
    assert v.scenarios == 3000 and v.var_usd < v.cvar_usd


def test_fhs_rescales_history_to_todays_vol():
    rng = np.random.default_rng(11)
    hourly = np.concatenate([rng.normal(0, 0.004, 1500), rng.normal(0, 0.012, 500)])
    out = fhs_scenarios({"BTC": hourly}, {"BTC": 0.03})["BTC"]
    assert len(out) == 2000 - 24 + 1
    # the calm and the stormy stretch both come out at today's 3 % a day
    assert np.std(out[:1400]) == pytest.approx(0.03, rel=0.15)
    assert np.std(out[-400:]) == pytest.approx(0.03, rel=0.15)


def test_a_covered_call_hedges_the_perp_so_its_component_var_is_negative():
    s, iv, years = 60_000.0, 0.6, 0.25
    from sizing.greeks import black76

    mark = float(black76(s, 70_000.0, years, iv, True).price) / s
    perp = BookPosition(PERP, 1.0, s, s, s)
    call = BookPosition(CALL, -1.0, mark, mark, s, iv, years)
    rng = np.random.default_rng(5)
    moves = {"BTC": rng.normal(0, 0.04, 4000)}
    both = portfolio_var(_book(perp, call), moves)
    alone = portfolio_var(_book(call), moves)
    assert alone.var_usd > 0  # stand-alone, the short call is a risk ...
    assert both.components[CALL.symbol] < 0  # ... beside the perp it lowers the VaR
    assert both.var_usd < portfolio_var(_book(perp), moves).var_usd
    assert sum(both.components.values()) == pytest.approx(both.var_usd)


def test_stress_grid_centre_is_today_and_marks_liquidation():
    book = _book(BookPosition(PERP, 3.0, 60_000.0, 60_000.0, 60_000.0),
                 balances={"USDT": 40_000.0})
    g = stress_grid(book, moves=(-0.3, 0.0, 0.3), vol_shifts=(0.0, 1.0))
    assert g.pnl_usd[1][0] == 0.0
    # -30 %: 3 x 18,000 = 54,000 lost of 40,000: past maintenance
    assert g.pnl_usd[0][0] == pytest.approx(-54_000.0) and g.liquidated[0][0]
    assert g.pnl_usd[2][1] == pytest.approx(54_000.0) and not g.liquidated[2][1]
