"""The what-if against an independent revaluation: the order is really filled on a paper
broker and the account after it is compared with what ``what_if`` foresaw; leverage and
delta after come from the broker's own positions and the Greeks panel's builder.
"""

from __future__ import annotations

import math
from types import MappingProxyType

import pytest

from cockpit.views.greeks import greeks_view
from cockpit.whatif import what_if
from tests.gate_demo import (
    ACTIVE,
    BTC,
    ETH,
    FLAT_OPTION,
    LONG_CALL,
    SHORT_CALL,
    SHORT_PUT,
    SNAP,
    demo,
    gate,
    independent_gross_leverage,
    lim,
    mkt,
    with_ticker,
)

# ---------------------------------------------------------------- the what-if against a real fill

FILLS = [mkt(BTC, "buy", 0.5), mkt(BTC, "buy", 20.0), mkt(BTC, "sell", 2.0),
         mkt(ETH, "buy", 39.0), mkt(ETH, "sell", 50.0), mkt(SHORT_CALL, "buy", 5.0),
         mkt(SHORT_PUT, "sell", 1.0), mkt(FLAT_OPTION, "buy", 2.0), mkt(LONG_CALL, "sell", 2.0)]


@pytest.mark.parametrize("order", FILLS, ids=[f"{o.side} {o.amount:g} {o.symbol}" for o in FILLS])
def test_what_if_matches_the_paper_broker_filling_the_order(order):
    """Tolerance: the what-if prices the fill by walking the same book with the same fee
    and margin functions the broker books with, so only float summation order differs
    (1e-9 relative). The one deliberate difference, a fill better than mark not counted
    as a gain, does not arise: a market order pays the spread."""
    rt = demo()
    before = rt.store.snapshot()
    w = what_if(order, before)
    filled = rt.broker.place_order(order)
    assert filled.filled == pytest.approx(order.amount)
    after = rt.store.snapshot()
    acct = after.account
    pos = acct.position(order.symbol)
    assert w.position_after == pytest.approx(pos.contracts if pos else 0.0, abs=1e-9)
    assert w.equity_usd == pytest.approx(acct.equity_usd, rel=1e-9)
    assert w.maintenance_margin_usd == pytest.approx(acct.maintenance_margin_usd, rel=1e-9)
    assert w.initial_margin_usd == pytest.approx(acct.initial_margin_usd, rel=1e-9)
    assert w.margin_ratio_after == pytest.approx(acct.margin_ratio, rel=1e-9)
    assert w.price == pytest.approx(filled.average, rel=1e-12)
    assert w.gross_leverage_after == pytest.approx(independent_gross_leverage(after), rel=1e-9)
    und = next(t for t in greeks_view(after).totals
               if t.underlying == order.symbol[:3] and t.symbol.startswith("Σ"))
    # the book delta counts coin equity; the what-if leaves out that a coin-settled
    # fill's fee and spread (paid in BTC) lower it a little: within 0.2 %
    assert w.delta_usd_after == pytest.approx(und.delta_usd, rel=2e-3, abs=1e-6)
    assert w.margin_ratio_before == pytest.approx(before.account.margin_ratio, rel=1e-12)
    assert w.gross_leverage_before == pytest.approx(independent_gross_leverage(before), rel=1e-9)


def test_what_if_is_nan_without_a_price_and_never_a_silent_zero():
    snap = with_ticker(SNAP, FLAT_OPTION, mark=math.nan)
    w = what_if(mkt(FLAT_OPTION, "buy", 1.0), snap)
    assert w.position_after == 1.0
    assert math.isnan(w.margin_ratio_after) and math.isnan(w.gross_leverage_after)
    reason = gate().check(lim(FLAT_OPTION, "buy", 1.0, 0.01), snap, ACTIVE, now_s=0.0)
    assert reason is not None and "max_data_age_s" in reason


# ---------------------------------------------------------------- inverse perps and venue Greeks

def paper_account():
    """A paper broker with a coin-settled inverse perp (Deribit BTC-PERPETUAL: 10 USD
    contracts) and a short call whose ticker carries the venue's Greeks."""
    from cockpit.model import Snapshot, Ticker, VenueGreeks
    from cockpit.paper import PaperBroker
    from tests.paper.specs import ALL, BTC_CALL, BTC_INVERSE, BTC_PERP, T0, book, ticker

    b = PaperBroker(ALL, clock=lambda: T0)
    b.seed({"USDT": 50_000.0, "BTC": 2.0},
           [(BTC_INVERSE.symbol, -3_000.0, 61_000.0), (BTC_CALL.symbol, -2.0, 0.05)])
    tickers = {
        BTC_PERP.symbol: ticker(BTC_PERP.symbol, 60_000.0, spread=5.0),
        BTC_INVERSE.symbol: ticker(BTC_INVERSE.symbol, 60_010.0, index=60_000.0, spread=2.5),
        BTC_CALL.symbol: Ticker(BTC_CALL.symbol, T0, 0.044, 0.046, 0.045, 0.045, 60_000.0,
                                mark_iv=0.6, underlying_price=60_000.0,
                                greeks=VenueGreeks(0.31, 0.00002, 80.0, -60.0)),
    }
    books = {
        BTC_PERP.symbol: book(BTC_PERP.symbol, [[59_995, 5], [59_990, 5]],
                              [[60_005, 5], [60_010, 5]]),
        BTC_INVERSE.symbol: book(BTC_INVERSE.symbol, [[60_007.5, 2_000], [60_005, 9_000]],
                                 [[60_012.5, 2_000], [60_015, 9_000]]),
        BTC_CALL.symbol: book(BTC_CALL.symbol, [[0.044, 3], [0.0435, 5]],
                              [[0.046, 3], [0.0465, 5]]),
    }
    for t in tickers.values():
        b.on_ticker(t)
    for bk in books.values():
        b.on_book(bk)

    def snapshot():
        return Snapshot(T0, 1, "paper", MappingProxyType({i.symbol: i for i in ALL}),
                        MappingProxyType(tickers), MappingProxyType(b.market.books),
                        account=b.account())
    return b, snapshot


@pytest.mark.parametrize("side, amount, symbol", [
    ("buy", 4_000.0, "BTC/USD:BTC"), ("sell", 500.0, "BTC/USD:BTC"),
    ("buy", 2.0, "BTC/USD:BTC-261225-70000-C"), ("sell", 3.0, "BTC/USD:BTC-261225-70000-C"),
])
def test_what_if_matches_the_broker_for_inverse_perps_and_venue_greeks(side, amount, symbol):
    broker, snapshot = paper_account()
    before = snapshot()
    order = mkt(symbol, side, amount)
    w = what_if(order, before)
    broker.place_order(order)
    after = snapshot()
    acct = after.account
    pos = acct.position(symbol)
    assert w.position_after == pytest.approx(pos.contracts if pos else 0.0, abs=1e-9)
    assert w.equity_usd == pytest.approx(acct.equity_usd, rel=1e-9)
    assert w.maintenance_margin_usd == pytest.approx(acct.maintenance_margin_usd, rel=1e-9)
    assert w.margin_ratio_after == pytest.approx(acct.margin_ratio, rel=1e-9)
    # delta: the Greeks panel's builder reads the venue's delta; inverse perp = -face USD
    total = next(t for t in greeks_view(after).totals
                 if t.underlying == "BTC" and t.symbol.startswith("Σ"))
    # the panel reads the venue's published delta; the what-if revalues the book by
    # Black-76 at the mark's implied vol (sizing.book_greeks): within 2 %
    assert w.delta_usd_after == pytest.approx(total.delta_usd, rel=2e-2)
    # the order's notional: inverse contracts are 10 USD each; options x the underlying
    expected = amount * 10.0 if symbol == "BTC/USD:BTC" else amount * 60_000.0
    assert w.notional_usd == pytest.approx(expected)
