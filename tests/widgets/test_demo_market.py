"""Builders on realistic data: the built-in market's demo account, and market
data with holes in it (NaN, inf, missing tickers) that must never crash a panel."""

from __future__ import annotations

import io
import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from cockpit import views
from tests.widgets.factory import BTC_PERP, Position, option, snapshot, ticker
from tests.widgets.test_builders import black76_call
from widgets.depth import render_depth
from widgets.greeks import render_greeks
from widgets.margin import render_margin
from widgets.positions import position_rows


@pytest.fixture(scope="module")
def demo_snapshot():
    runtime = pytest.importorskip("cockpit.runtime")
    from cockpit.config import Config
    from cockpit.model import Bars, Book, Ticker, Trade

    sink_for = {Ticker: "on_ticker", Book: "on_book", Trade: "on_trade", Bars: "on_bars"}

    def push(updates):
        for u in updates:
            getattr(rt.store, sink_for[type(u)])(u)

    rt = runtime.build_demo(Config(), seed=11)
    market = rt.feed.market
    push(market.full_update())
    for _ in range(3):
        push(market.step())
    snap = rt.store.snapshot()
    return replace(snap, account=rt.broker.account())


def test_demo_greeks_match_black76_and_margin_matches_the_account(demo_snapshot):
    snap = demo_snapshot
    acct = snap.account
    margin = views.margin_view(snap, {s: 0.6 for s in snap.bars})
    assert margin.equity_usd == acct.equity_usd
    assert margin.margin_ratio == pytest.approx(acct.maintenance_margin_usd / acct.equity_usd)
    assert {r.symbol for r in margin.rows} == {p.symbol for p in acct.positions if p.contracts}
    assert margin.worst_symbol  # the perps have liquidation prices and a forecast

    greeks = views.greeks_view(snap, 25_000.0)
    calls = 0
    for row in greeks.rows:
        inst = snap.instruments[row.symbol]
        if not inst.is_option or not inst.is_call or row.source != "model":
            continue
        t = snap.tickers[row.symbol]
        years = (inst.expiry_ms - snap.ts_ms) / (365 * 86_400_000)
        g = black76_call(t.underlying_price, inst.strike, years, t.mark_iv)
        qty = row.contracts * inst.contract_size
        unit = g["delta"]  # the plain Black delta, as Deribit's ticker shows it
        assert row.delta_coin == pytest.approx(qty * unit, rel=1e-9)
        assert row.vega_usd == pytest.approx(qty * g["vega"], rel=1e-9)
        calls += 1
    assert calls >= 1  # the demo holds calls (short strangle leg, long call)
    btc = next(t for t in greeks.totals if t.underlying == "BTC" and t.is_total)
    lines = [t for t in greeks.totals if t.underlying == "BTC" and not t.is_total]
    assert {t.symbol for t in lines} == {"premium adj BTC", "BTC coin equity"}
    assert btc.delta_usd == pytest.approx(math.fsum(
        r.delta_usd for r in [*greeks.rows, *lines]
        if r.underlying == "BTC" and r.delta_usd is not None))

    depth = views.depth_view(snap, BTC_PERP.symbol)
    assert len(depth.bids) == 10 and len(depth.asks) == 10
    assert depth.best_bid < depth.best_ask and depth.spread_bps > 0
    vol = views.vol_view(snap, "BTC", None)
    assert vol.realised_vol is not None and 0.05 < vol.realised_vol < 3.0
    assert vol.atm_iv is not None and vol.atm_symbol
    assert views.positions_view(snap).positions


BAD = st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -1.0, None])


@settings(max_examples=40, deadline=None)
@given(mark=BAD, iv=BAD, und=BAD, liq=BAD, vol=BAD)
def test_holes_in_market_data_give_reasons_not_crashes(mark, iv, und, liq, vol):
    opt = option(70_000.0, 0.25)
    snap = snapshot(
        instruments=[BTC_PERP, opt],
        tickers=[ticker(BTC_PERP.symbol, 60_000.0 if mark is None else mark),
                 ticker(opt.symbol, 0.01, iv=iv, underlying=und)],
        positions=[Position(BTC_PERP.symbol, 1.0, 60_000.0,
                            liquidation_price=None if liq is None else liq),
                   Position(opt.symbol, -1.0, 0.01)],
    )
    forecasts = {BTC_PERP.symbol: vol} if vol is not None else None
    margin = views.margin_view(snap, forecasts)
    greeks = views.greeks_view(snap, 1_000.0)
    for row in greeks.rows + greeks.totals:
        values = [row.delta_coin, row.delta_usd, row.gamma_coin, row.vega_usd, row.theta_usd]
        if any(v is None for v in values) and not row.is_total:
            assert row.note  # a missing number always says why
        assert all(v is None or not math.isnan(v) for v in values)
    for row in margin.rows:
        if row.distance_sigmas is None:
            assert row.note or row.distance_pct is None
    positions = views.positions_view(snap)
    depth = views.depth_view(snap, BTC_PERP.symbol)
    # and every panel renders whatever came out
    console = Console(width=160, file=io.StringIO())
    for renderable in (render_margin(margin), render_greeks(greeks), render_depth(depth)):
        console.print(renderable)
    position_rows(positions)


@st.composite
def books(draw):
    mid = draw(st.floats(1.0, 1e5))
    half_spread = draw(st.floats(1e-6, 0.01)) * mid
    n_b, n_a = draw(st.integers(1, 30)), draw(st.integers(1, 30))
    steps_b = draw(st.lists(st.floats(1e-5, 0.01), min_size=n_b, max_size=n_b))
    steps_a = draw(st.lists(st.floats(1e-5, 0.01), min_size=n_a, max_size=n_a))
    sizes = st.floats(0.001, 100.0)
    bids, p = [], mid - half_spread
    for s in steps_b:
        bids.append([p, draw(sizes)])
        p -= s * mid
    asks, p = [], mid + half_spread
    for s in steps_a:
        asks.append([p, draw(sizes)])
        p += s * mid
    return bids, asks


@settings(max_examples=40, deadline=None)
@given(books())
def test_depth_view_invariants(book_levels):
    from tests.widgets.factory import book

    bids, asks = book_levels
    snap = snapshot(instruments=[BTC_PERP], books=[book(BTC_PERP.symbol, bids, asks)])
    v = views.depth_view(snap, BTC_PERP.symbol, levels=10)
    for side, levels in ((v.bids, bids), (v.asks, asks)):
        assert len(side) == min(10, len(levels))
        running = 0.0
        for lv, (price, amount) in zip(side, levels, strict=False):
            running += amount
            assert (lv.price, lv.amount) == (price, amount)
            assert lv.cumulative == pytest.approx(running)
    bid, ask = bids[0][0], asks[0][0]
    assert v.spread_bps == pytest.approx((ask - bid) / ((ask + bid) / 2) * 1e4)
    band = {b.bps: b for b in v.bands}
    assert band[10.0].bid_amount <= band[50.0].bid_amount <= band[100.0].bid_amount
    assert band[10.0].ask_amount <= band[50.0].ask_amount <= band[100.0].ask_amount
    assert band[100.0].bid_amount <= sum(a for _, a in bids) + 1e-9
