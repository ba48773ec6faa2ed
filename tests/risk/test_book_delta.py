"""One delta: the book delta per underlying is what the account makes per USD move
(finite differences of the full revaluation), and per-position deltas are the plain
Black-76 delta a venue's ticker shows."""

from __future__ import annotations

import math

import pytest

from cockpit.engine_input import book_from_snapshot
from sizing.account_risk import revalue
from sizing.book_greeks import book_deltas, position_greeks, venue_theta
from tests.risk.demo_book import YEAR_MS, _ncdf, demo_runtime, equity_and_mm


def test_book_delta_is_the_derivative_of_equity_on_the_demo_book():
    snap = demo_runtime().store.snapshot()
    book = book_from_snapshot(snap)
    deltas = book_deltas(book)
    for und, d in deltas.items():
        h = 1e-4
        up, down = equity_and_mm(snap, {und: 1 + h})[0], equity_and_mm(snap, {und: 1 - h})[0]
        fd = (up - down) / (2 * h * d.price)  # coin per USD of the index, independent
        assert d.total_coin == pytest.approx(fd, rel=2e-3, abs=1e-3), und
        # the same from the cockpit's own revaluation; the perp's delta is per USD of its
        # own mark, which sits a basis (1e-4) off the index the move is measured on
        own = (revalue(book, {und: 1 + h}).equity_usd - revalue(book, {und: 1 - h}).equity_usd)
        assert d.total_coin == pytest.approx(own / (2 * h * d.price), rel=2e-4)
    btc = deltas["BTC"]
    assert btc.coin_equity == pytest.approx(1.5, abs=0.05)  # the collateral (+ small PnL)
    # Deribit's delta_total nets each coin option's coin value out of its delta
    coin_value = sum(p.contracts * p.mark_price for p in snap.account.positions
                     if snap.instruments[p.symbol].kind == "option")
    assert btc.premium_adjustment_coin == pytest.approx(-coin_value, rel=1e-9)


def test_position_delta_is_the_plain_black_delta_of_the_ticker():
    snap = demo_runtime().store.snapshot()
    greeks = {g.symbol: g for g in position_greeks(book_from_snapshot(snap))}
    for p in snap.account.positions:
        inst, t = snap.instruments[p.symbol], snap.tickers[p.symbol]
        if inst.kind != "option":
            assert greeks[p.symbol].delta_coin == pytest.approx(p.contracts * inst.contract_size)
            continue
        years = (inst.expiry_ms - snap.ts_ms) / YEAR_MS
        s = t.underlying_price
        sd = t.mark_iv * math.sqrt(years)
        d1 = math.log(s / inst.strike) / sd + 0.5 * sd
        black = _ncdf(d1) if inst.is_call else _ncdf(d1) - 1.0
        assert greeks[p.symbol].delta_coin == pytest.approx(p.contracts * black, rel=1e-4)


def test_theta_inside_the_last_day_scales_with_the_time_left():
    # Deribit shows theta x days left inside the last day: 7.6 h left = 7.6 / 24 of the rate
    assert venue_theta(-240.0, 7.6 / 24 / 365) == pytest.approx(-240.0 * 7.6 / 24)
    assert venue_theta(-240.0, 3 / 365) == pytest.approx(-240.0)
    assert venue_theta(-240.0, -1.0) == 0.0
