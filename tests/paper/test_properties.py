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

from cockpit.model import OrderRequest, Trade
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


action = st.one_of(
    st.tuples(st.just("book"), st.integers(-50, 50), st.sampled_from((0.0, 0.3, 5.0)),
              st.sampled_from((1.0, 1.0, 1.0, float("nan"), -1.0))),
    st.tuples(st.just("ticker"), st.integers(-50, 50), st.sampled_from((None, 0.0001, -0.0002)),
              st.sampled_from((1.0, 1.0, float("nan"), float("inf")))),
    st.tuples(st.just("trade"), st.integers(-50, 50), st.floats(0.001, 3.0), st.just(1.0)),
    st.tuples(st.sampled_from(("market", "limit", "post")), st.integers(-20, 20),
              st.integers(1, 2_000), st.sampled_from(("buy", "sell"))),
    st.tuples(st.just("cancel"), st.integers(0, 5), st.just(0), st.just(0)),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(action, min_size=1, max_size=40))
def test_any_mix_of_market_data_and_orders_keeps_the_books_consistent(actions):
    """Never raises anything but OrderRejected, whatever the feed sends; afterwards the
    position is the signed sum of fills, each order's filled amount is the sum of its
    fills, open orders have something left, and the balance moved by exactly realised
    PnL - fees - funding."""
    inst, sym = LINEAR, LINEAR.symbol
    b = PaperBroker([inst])
    b.seed({"USDT": 1_000_000.0}, [])
    b.on_book(book(sym, [[59_999.5, 5.0]], [[60_000.5, 5.0]], 0))
    b.on_ticker(ticker(sym, 60_000.0, 0, funding_rate=0.0001, next_funding_ms=2))
    for ts, (kind, a, x, y) in enumerate(actions, start=1):
        px = 60_000.0 + a * 10.0
        if kind == "book":
            b.on_book(book(sym, [[px - 0.5, x * y], [px - 5, 50.0]],
                           [[px + 0.5, x], [px + 5, 50.0]], ts))
        elif kind == "ticker":
            b.on_ticker(ticker(sym, px * y, ts, funding_rate=x, next_funding_ms=ts + 3))
        elif kind == "trade":
            b.on_trade(Trade(sym, ts, px, x, "sell"))
        elif kind == "cancel":
            resting = b.ledger.resting()
            if resting:
                b.cancel(resting[a % len(resting)].id)
        else:
            req = OrderRequest(sym, y, "market" if kind == "market" else "limit",
                               x * inst.amount_step, None if kind == "market" else px,
                               post_only=kind == "post")
            try:
                b.place_order(req)
            except OrderRejected:
                pass
    fills = b.ledger.storage.fills()
    signed = sum(f.amount if f.side == "buy" else -f.amount for f in fills)
    assert b.ledger.position(sym) == pytest.approx(signed, abs=1e-9)
    for order in b.ledger.orders.values():
        mine = sum(f.amount for f in fills if f.order_id == order.id)
        assert order.filled == pytest.approx(mine, abs=1e-9)
        assert order.filled <= order.amount + 1e-9
        if order.status == "open":
            assert order.remaining > 1e-12 and order.type == "limit"
    realised = sum(b.ledger.storage.realised_pnl().values())
    funding = sum(e.payment for e in b.funding_ledger())
    fees = sum(f.fee for f in fills)
    assert b.ledger.balances["USDT"] - 1_000_000.0 == pytest.approx(
        realised - fees - funding, abs=1e-6)
