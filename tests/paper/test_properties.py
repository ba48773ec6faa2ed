"""Hypothesis properties of the paper account over random order sequences.

The cash-flow identity is independent of how the broker averages entries: closing
everything at a mark ``m`` is worth sum_i signed_i x cs x (m - p_i) for linear contracts
and sum_i signed_i x cs x (1/p_i - 1/m) coin for inverse ones, less the fees paid.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.model import OrderRequest
from cockpit.paper import OrderRejected, PaperBroker
from tests.paper.specs import BTC_INVERSE, BTC_PERP, book, ticker

LINEAR = replace(BTC_PERP, min_cost=0.0)
INVERSE = BTC_INVERSE

step = st.tuples(
    st.sampled_from(("buy", "sell")),
    st.integers(1, 3_000),  # amount in steps
    st.integers(-2_000, 2_000),  # price offset in ticks x 10
    st.booleans(),  # reduce_only
)


def run(inst, steps, start_price, mark):
    b = PaperBroker([inst])
    b.seed({inst.settle: 1_000_000.0}, [])
    for i, (side, k, dp, reduce_only) in enumerate(steps):
        price = start_price + dp * inst.price_step * 10
        b.on_book(book(inst.symbol, [[price - inst.price_step, 1e9]], [[price, 1e9]], i)
                  if side == "buy" else
                  book(inst.symbol, [[price, 1e9]], [[price + inst.price_step, 1e9]], i))
        before = b.ledger.position(inst.symbol)
        try:
            b.place_order(OrderRequest(inst.symbol, side, "market", k * inst.amount_step,
                                       reduce_only=reduce_only))
        except OrderRejected:
            assert reduce_only  # only a reduce-only with nothing to reduce is refused
            continue
        after = b.ledger.position(inst.symbol)
        if reduce_only:  # never grows, never flips
            assert abs(after) <= abs(before) + 1e-12
            assert after == 0 or (after > 0) == (before > 0)
    b.on_ticker(ticker(inst.symbol, mark, len(steps) + 1))
    return b


@settings(max_examples=40, deadline=None)
@given(st.lists(step, min_size=1, max_size=25))
def test_linear_position_and_balance_follow_the_fills(steps):
    b = run(LINEAR, steps, 60_000.0, 61_234.5)
    fills = b.ledger.storage.fills()
    signed = [f.amount if f.side == "buy" else -f.amount for f in fills]
    assert b.ledger.position(LINEAR.symbol) == pytest.approx(sum(signed), abs=1e-9)
    fees = sum(f.fee for f in fills)
    realised = sum(b.ledger.storage.realised_pnl().values())
    balance = b.ledger.balances["USDT"]
    assert balance - 1_000_000.0 == pytest.approx(realised - fees, abs=1e-6)
    acct = b.account()
    upnl = sum(p.unrealised_pnl_settle for p in acct.positions)
    mark_to_market = sum(s * (61_234.5 - f.price) for s, f in zip(signed, fills, strict=True))
    assert balance + upnl - 1_000_000.0 == pytest.approx(mark_to_market - fees, abs=1e-6)
    assert acct.equity_usd == pytest.approx(balance + upnl, abs=1e-6)


@settings(max_examples=30, deadline=None)
@given(st.lists(step, min_size=1, max_size=25))
def test_inverse_position_and_balance_follow_the_fills(steps):
    b = run(INVERSE, steps, 50_000.0, 48_765.5)
    fills = b.ledger.storage.fills()
    signed = [f.amount if f.side == "buy" else -f.amount for f in fills]
    assert b.ledger.position(INVERSE.symbol) == pytest.approx(sum(signed), abs=1e-9)
    fees = sum(f.fee for f in fills)
    balance = b.ledger.balances["BTC"]
    upnl = sum(p.unrealised_pnl_settle for p in b.account().positions)
    cs = INVERSE.contract_size
    coin_pnl = sum(s * cs * (1 / f.price - 1 / 48_765.5) for s, f in zip(signed, fills,
                                                                        strict=True))
    assert balance + upnl - 1_000_000.0 == pytest.approx(coin_pnl - fees, abs=1e-9)
