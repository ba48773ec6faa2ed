"""Golden test on the demo book: the paper broker, the policy and the panels read one
book of contract maths. Where the copies used to disagree this fixes the winner:
maintenance margin is the broker's (Deribit's rules, the venue's tiers), delta is the
plain Black delta per position and Deribit's delta_total per underlying, and the
expected values come from the published rules (tests/risk/demo_book.py), not from sizing."""

from __future__ import annotations

import pytest

from cockpit import views
from cockpit.engine_input import state_from_snapshot
from sizing.policy_exposure import exposure, maintenance_usd
from tests.risk.demo_book import demo_runtime, equity_and_mm


def test_margin_delta_and_equity_agree_across_broker_policy_and_panels():
    rt = demo_runtime()
    snap = rt.store.snapshot()
    acct = snap.account
    state = state_from_snapshot(snap)
    # the published rules, revalued at today's prices: the broker's figures
    eq, mm = equity_and_mm(snap, {})
    assert acct.equity_usd == pytest.approx(eq, rel=1e-6)
    assert acct.maintenance_margin_usd == pytest.approx(mm, rel=1e-4)
    greeks = {r.symbol: r for r in views.greeks_view(snap, 25_000.0).rows}
    held = 0
    for inst in state.instruments:
        pos = acct.position(inst.symbol)
        if pos is None or not pos.contracts:
            continue
        held += 1
        # margin: the policy's = the broker's
        assert maintenance_usd(inst, inst.contracts) == pytest.approx(
            pos.maintenance_margin_usd, rel=1e-9), inst.symbol
        # delta: the policy's per contract = the panel's (plain Black, venue convention)
        expo = exposure(inst)
        assert inst.contracts * expo.delta_usd == pytest.approx(
            greeks[inst.symbol].delta_usd, rel=1e-6), inst.symbol
        if inst.kind == "option":  # the book's: net of the coin value, as delta_total
            coin_value = inst.contracts * inst.contract_size * pos.mark_price
            assert inst.contracts * expo.book_delta_usd == pytest.approx(
                greeks[inst.symbol].delta_usd - coin_value * inst.underlying_price, rel=1e-3)
    assert held == len([p for p in acct.positions if p.contracts])


def test_one_step_rule():
    from sizing import policy, policy_hedge
    from sizing.contracts import on_grid, round_down, round_toward

    assert policy._round_toward is round_toward and policy_hedge._on_grid is on_grid
    assert round_toward(0.6589, 1.0, 0.001) == pytest.approx(0.658)  # a cut ends under the cap
    assert round_toward(1.2341, 1.0, 0.001) == pytest.approx(1.234)  # adds round down
    assert round_down(-0.0199, 0.01) == -0.01 and on_grid(0.6589999, 0.001) == 0.659


def test_option_leverage_is_delta_notional_over_equity():
    import math

    from tests.risk.demo_book import YEAR_MS, _ncdf

    snap = demo_runtime().store.snapshot()
    acct = snap.account
    for p in acct.positions:
        inst, t = snap.instruments[p.symbol], snap.tickers[p.symbol]
        if inst.kind != "option":
            continue
        years = (inst.expiry_ms - snap.ts_ms) / YEAR_MS
        sd = t.mark_iv * math.sqrt(years)
        d1 = math.log(t.underlying_price / inst.strike) / sd + 0.5 * sd
        delta = _ncdf(d1) if inst.is_call else _ncdf(d1) - 1.0
        notional = abs(p.contracts * delta) * t.underlying_price
        assert p.notional_usd == pytest.approx(notional, rel=1e-4)
        assert p.leverage == pytest.approx(notional / acct.equity_usd, rel=1e-4)
        assert p.leverage > 0.1  # 5 short calls on ~$450k of BTC, not "0.02x"
