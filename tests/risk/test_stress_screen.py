"""The stress screen: the grid on screen with liquidation cells marked, VaR with each
position's component beside its stand-alone figure, and funding; one screen away."""

from __future__ import annotations

import pytest
from rich.console import Console

from cockpit import views
from tests.risk.demo_book import demo_runtime, equity_and_mm
from tests.tui.conftest import make_app, settle
from widgets.stress import StressScreen, render_stress


def _text(renderable) -> str:
    console = Console(width=160, record=True)
    console.print(renderable)
    return console.export_text()


def test_stress_view_marks_liquidation_where_an_independent_revaluation_does():
    snap = demo_runtime().store.snapshot()
    view = views.stress_view(snap)
    j = view.vol_shifts.index(0.0)
    for i, move in enumerate(view.moves):
        eq, mm = equity_and_mm(snap, {"BTC": 1 + move, "ETH": 1 + move})
        assert view.liquidated[i][j] == (eq <= mm), move
        assert view.pnl_usd[i][j] == pytest.approx(eq - snap.account.equity_usd,
                                                   abs=0.002 * snap.account.equity_usd)
    assert any(view.liquidated[0])  # -30 % takes the demo book past maintenance
    out = _text(render_stress(view))
    assert "LIQ" in out and "IV +100%" in out and "IV -50%" in out
    assert "CVaR" in out and "filtered historical" in out
    # a hedge is shown as one: negative component, positive stand-alone
    hedges = [(n, c, a) for n, c, a in view.components if c < 0]
    assert hedges and all(a > 0 for _, _, a in hedges) and "hedges the book" in out
    assert sum(c for _, c, _ in view.components) == pytest.approx(view.var_usd)
    funding = {r.symbol: r for r in view.funding}
    assert set(funding) == {"BTC/USDT:USDT", "ETH/USDT:USDT"}
    btc = funding["BTC/USDT:USDT"]
    pos = snap.account.position("BTC/USDT:USDT")
    t = snap.tickers["BTC/USDT:USDT"]  # longs pay a positive rate on the notional at mark
    assert btc.payment_usd == pytest.approx(pos.contracts * t.mark * t.funding_rate)
    assert btc.next_ms == t.next_funding_ms and "Funding" in out


async def test_the_stress_screen_opens_over_the_cockpit_and_closes_with_escape():
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(app, pilot)
        await pilot.press("S")  # the trader's key, from the main screen
        await pilot.pause()
        assert isinstance(app.screen, StressScreen)
        from rich.console import Console

        console = Console(width=160, record=True, file=__import__("io").StringIO())
        console.print(render_stress(app.screen.view))
        body = console.export_text()
        assert "Stress" in body and "VaR" in body and "nan" not in body.lower()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, StressScreen)
