"""Done-when of issue 10: at the liquidation levels the cockpit reports, an independent
revaluation of the demo book finds equity equal to maintenance margin (within 0.5 %
of equity), down and up, for the seeded book and for the book after R."""

from __future__ import annotations

import pytest

from cockpit import views
from tests.risk.demo_book import after_R, demo_runtime, equity_and_mm


def _check_levels(snap):
    equity_now = snap.account.equity_usd
    view = views.margin_view(snap)
    levels = [r for r in view.account_levels if r.underlying != "all"]
    assert {r.underlying for r in levels} == {"BTC", "ETH"}
    found = 0
    for r in levels:
        if r.liquidation_price is None:  # none within +-95 %: the surplus stays positive
            for step in range(1, 20):
                k = 1 + (0.05 * step if r.direction == "up" else -0.0475 * step)
                eq, mm = equity_and_mm(snap, {r.underlying: k})
                assert eq > mm, (r.underlying, r.direction, k)
            continue
        found += 1
        k = r.liquidation_price / r.price_now
        eq, mm = equity_and_mm(snap, {r.underlying: k})
        assert abs(eq - mm) <= 0.005 * equity_now, (r.underlying, r.direction, eq, mm)
        # and the nearest: half-way there the account is still above maintenance
        eq_half, mm_half = equity_and_mm(snap, {r.underlying: 1 + (k - 1) / 2})
        assert eq_half > mm_half
        assert r.equity_usd == pytest.approx(eq, rel=0.005)
    return found, view


def test_the_demo_book_liquidates_where_an_independent_revaluation_says():
    rt = demo_runtime()
    snap = rt.store.snapshot()
    found, view = _check_levels(snap)
    assert found >= 1
    btc_down = next(r for r in view.account_levels if (r.underlying, r.direction)
                    == ("BTC", "down"))
    # the options and the coin collateral bring it far nearer than the perp alone (-41 %)
    assert -0.35 < btc_down.move_pct < -0.15
    perp = next(r for r in view.rows if r.symbol == "BTC/USDT:USDT")
    assert perp.liquidation_price == pytest.approx(
        snap.tickers["BTC/USDT:USDT"].mark * (1 + btc_down.move_pct), rel=1e-9)


def test_after_R_the_short_options_still_liquidate_the_account_both_ways():
    rt = demo_runtime()
    assert after_R(rt) >= 1
    snap = rt.store.snapshot()
    found, view = _check_levels(snap)
    btc = {r.direction: r for r in view.account_levels if r.underlying == "BTC"}
    assert btc["down"].liquidation_price is not None
    # the short strangle is still on: the account's own level, not "no liquidation price"
    assert found >= 1


def test_a_suggestions_liquidation_what_if_is_what_the_panel_shows_after_approval():
    """The policy's what-if (Liq σ→) and the liquidation-buffer cap use the account solver:
    approve the BTC perp's suggestion and the margin panel shows the sigmas it promised."""
    from cockpit.desk import policy_settings
    from cockpit.engine import EngineRunner
    from cockpit.engine_input import state_from_snapshot
    from cockpit.model import OrderRequest
    from sizing.policy import decide

    rt = demo_runtime()
    settings = policy_settings(rt.config)
    snap = rt.store.snapshot()
    forecasts, _ = EngineRunner(settings).forecasts(snap)
    state = state_from_snapshot(snap, forecasts=forecasts)
    decisions = {d.symbol: d for d in decide(state, settings, forecasts)}
    before = views.margin_view(snap, forecasts)
    perp = decisions["BTC/USDT:USDT"]
    row = next(r for r in before.rows if r.symbol == perp.symbol)
    assert perp.inputs["liquidation_sigmas"] == pytest.approx(row.distance_sigmas, rel=1e-6)
    assert perp.caps["liquidation_buffer"] > 0
    inst = snap.instruments[perp.symbol]
    amount = round(abs(perp.order) // inst.amount_step * inst.amount_step, 6)
    rt.broker.place_order(OrderRequest(perp.symbol, "sell" if perp.order < 0 else "buy",
                                       "market", amount))
    rt.store.on_account(rt.broker.account())
    after = views.margin_view(rt.store.snapshot(), forecasts)
    shown = next(r for r in after.rows if r.symbol == perp.symbol).distance_sigmas
    assert shown == pytest.approx(perp.after.liquidation_sigmas, rel=0.02)



def _tick(rt, n: int) -> None:
    """``n`` nominal ticks of the demo market (a tenth of a second each) into the store."""
    from cockpit.venues.sim import dispatch

    for _ in range(n):
        dispatch(rt.store, rt.feed.market.step())


def test_the_panel_keeps_a_level_between_solves_only_while_it_is_still_true():
    """The margin panel solves the levels again only on a book change or a second of
    market time (cockpit.views.liquidation_memo); a level kept across ticks must
    still be where an independent revaluation of the moved market finds it."""
    from cockpit.views.liquidation_memo import LiquidationMemo

    rt = demo_runtime()
    memo = LiquidationMemo()
    before = rt.store.snapshot()
    memo(before)
    _tick(rt, 5)
    snap = rt.store.snapshot()
    assert snap.ts_ms - before.ts_ms == 500
    perp = "BTC/USDT:USDT"
    assert snap.tickers[perp].index != before.tickers[perp].index  # the market moved
    view = views.margin_view(snap, liquidations=memo(snap))
    assert memo.solves == 1  # kept
    checked = 0
    for r in view.account_levels:
        if r.underlying == "all" or r.liquidation_price is None:
            continue
        coin_perp = next(i for i in snap.instruments.values()
                         if i.kind == "perp" and i.base == r.underlying)
        assert r.price_now == pytest.approx(snap.tickers[coin_perp.symbol].index, rel=1e-12)
        k = r.liquidation_price / r.price_now
        assert r.move_pct == pytest.approx(k - 1, rel=1e-12)
        eq, mm = equity_and_mm(snap, {r.underlying: k})
        assert abs(eq - mm) <= 0.005 * snap.account.equity_usd, (r.underlying, r.direction)
        checked += 1
    assert checked >= 1
    _tick(rt, 5)  # a second after the solve: solved again
    memo(rt.store.snapshot())
    assert memo.solves == 2
    assert after_R(rt) >= 1  # fills change the book: solved at once, as a fresh solve
    snap = rt.store.snapshot()
    assert views.margin_view(snap, liquidations=memo(snap)) == views.margin_view(snap)
    assert memo.solves == 3
