"""Option expiry, settled funding rates, the liquidation price as a round trip, and
the broker driven by the built-in market (cockpit.venues.sim)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.model import Book, Ticker, Trade
from cockpit.paper import PaperBroker
from cockpit.paper.broker import EXPIRY_GRACE_MS
from tests.paper.specs import BTC_CALL, BTC_INVERSE, BTC_PERP, BTC_PUT, BTC_TIERS, ticker

EXPIRY = BTC_CALL.expiry_ms


def test_option_settles_at_the_venue_settlement_print():
    b = PaperBroker([BTC_PERP, BTC_CALL])
    b.seed({"BTC": 1.0}, [(BTC_CALL.symbol, -2.0, 0.05)])
    b.on_ticker(ticker(BTC_PERP.symbol, 80_000.0, EXPIRY - 60_000))
    b.on_ticker(ticker(BTC_CALL.symbol, 0.13, EXPIRY - 60_000, underlying=80_000.0))
    assert b.account().position(BTC_CALL.symbol) is not None
    # settlement print: (80,500 - 70,000) / 80,500 = 0.130435 BTC per contract
    value = (80_500 - 70_000) / 80_500
    b.on_ticker(ticker(BTC_CALL.symbol, value, EXPIRY, underlying=80_500.0))
    acct = b.account()
    assert acct.position(BTC_CALL.symbol) is None
    fill = acct.fills[-1]
    assert (fill.side, fill.amount, fill.price, fill.maker) == ("buy", 2.0, value, True)
    assert "expired: settled at" in b.ledger.orders[fill.order_id].reason
    # short 2 from 0.05 to 0.130435: -2 x 0.080435 = -0.16087 BTC; fee capped by 0.0003
    btc = b.ledger.balances["BTC"]
    assert btc == pytest.approx(1.0 - 2 * (value - 0.05) - 2 * 0.0003)


def test_option_without_a_settlement_print_settles_at_intrinsic_after_a_grace():
    b = PaperBroker([BTC_PERP, BTC_PUT])
    b.seed({"BTC": 1.0}, [(BTC_PUT.symbol, 3.0, 0.01)])
    b.on_ticker(ticker(BTC_PUT.symbol, 0.02, EXPIRY - 1_000, underlying=55_000.0))
    b.on_ticker(ticker(BTC_PERP.symbol, 55_000.0, EXPIRY + 1_000))
    assert b.account().position(BTC_PUT.symbol) is not None  # the print may still come
    b.on_ticker(ticker(BTC_PERP.symbol, 54_000.0, EXPIRY + EXPIRY_GRACE_MS))
    assert b.account().position(BTC_PUT.symbol) is None
    # put K=58,000 at S=54,000: (58,000 - 54,000) / 54,000 = 0.074074 BTC per contract
    fill = b.account().fills[-1]
    assert fill.price == pytest.approx(4_000 / 54_000)
    assert "intrinsic at index 54000" in b.ledger.orders[fill.order_id].reason


def test_a_ticker_at_the_funding_time_carries_the_settled_rate():
    perp = replace(BTC_PERP, taker_fee=0.0)
    b = PaperBroker([perp])
    b.seed({"USDT": 10_000.0}, [(perp.symbol, 1.0, 60_000.0)])
    due = 1_790_006_400_000
    b.on_ticker(ticker(perp.symbol, 60_000.0, due - 5, funding_rate=0.0001,
                       next_funding_ms=due))
    b.on_ticker(ticker(perp.symbol, 60_000.0, due, funding_rate=0.0003,
                       next_funding_ms=due + 8 * 3_600_000))
    (entry,) = b.funding_ledger()
    assert entry.rate == 0.0003 and entry.payment == pytest.approx(18.0)  # 60,000 x 3 bp


@settings(max_examples=25, deadline=None)
@given(
    contracts=st.floats(0.05, 8.0).map(lambda x: round(x, 3)),
    short=st.booleans(),
    usdt=st.floats(5_000.0, 200_000.0),
    btc=st.floats(0.0, 1.0),
    inverse=st.booleans(),
)
def test_at_the_liquidation_price_equity_equals_maintenance_margin(contracts, short, usdt,
                                                                   btc, inverse):
    """Round trip: move the mark (and index) to just short of the reported liquidation
    price and the rebuilt account has equity == MM to float precision; a hair beyond
    it, the broker liquidates."""
    inst = BTC_INVERSE if inverse else BTC_PERP
    size = contracts * (6_000 if inverse else 1.0)  # inverse: USD contracts of 10
    signed = -size if short else size
    b = PaperBroker([inst])
    b.seed({"USDT": usdt, "BTC": btc}, [(inst.symbol, signed, 60_000.0)])
    b.on_ticker(ticker(inst.symbol, 60_000.0, 1))
    start = b.account()
    surplus_now = start.equity_usd - start.maintenance_margin_usd
    liq = start.position(inst.symbol).liquidation_price
    if liq is None:
        return
    if liq == 60_000.0:  # already past it: the broker liquidated at once
        assert b.account().liquidations == 1
        return
    b.on_ticker(ticker(inst.symbol, liq * (1 + (-1e-9 if short else 1e-9)), 2))
    acct = b.account()
    assert acct.liquidations == 0
    # surplus = equity - MM is (piecewise) linear in the mark, so 1e-9 of the price away
    # from the root it is about surplus_now x 1e-9 x liq / |mark - liq|
    surplus = acct.equity_usd - acct.maintenance_margin_usd
    assert 0 <= surplus <= surplus_now * 1e-8 * liq / abs(60_000.0 - liq) + 1e-9
    b.on_ticker(ticker(inst.symbol, liq * (1 + (1e-6 if short else -1e-6)), 3))
    assert b.account().liquidations == 1


def test_tiered_liquidation_price_uses_the_maintenance_amount():
    # long 2 BTC from 60,000 with 8,000 USDT: notional 2m stays in tier 2 (50k-600k),
    # equity(m) = 8,000 + 2 (m - 60,000); MM(m) = 0.005 x 2m - 50 (maintenance amount)
    # 8,000 + 2m - 120,000 = 0.01 m - 50  ->  1.99 m = 111,950  ->  m = 56,256.28...
    b = PaperBroker([BTC_PERP])
    b.seed({"USDT": 8_000.0}, [(BTC_PERP.symbol, 2.0, 60_000.0)])
    b.on_ticker(ticker(BTC_PERP.symbol, 60_000.0))
    assert BTC_TIERS[1].maintenance_amount == 50.0
    assert b.account().position(BTC_PERP.symbol).liquidation_price == pytest.approx(
        111_950 / 1.99, rel=1e-9)


def test_the_demo_account_on_the_built_in_market_through_a_funding_time_and_an_expiry():
    sim = pytest.importorskip("cockpit.venues.sim")
    # Friday 27 Nov 2026, 07:58 UTC: an option expiry and a funding time at 08:00
    eight = int(dt.datetime(2026, 11, 27, 8, tzinfo=dt.UTC).timestamp() * 1000)
    market = sim.SimMarket(seed=11, tick_hz=10, acceleration=60, start_ms=eight - 120_000,
                           history_bars=48)
    insts = market.instruments()
    b = PaperBroker(insts, clock=market.now_ms)
    btc_perp = next(i for i in insts if i.kind == "perp" and i.base == "BTC")
    eth_perp = next(i for i in insts if i.kind == "perp" and i.base == "ETH")
    expiring = [i for i in insts if i.is_option and i.expiry_ms == eight]
    assert expiring, "the sim lists the 08:00 expiry"
    index = market.index_price("BTC")
    otm_call = min((i for i in expiring if i.is_call and i.strike > index * 1.02),
                   key=lambda i: i.strike)
    itm_put = min((i for i in expiring if not i.is_call and i.strike > index * 1.02),
                  key=lambda i: i.strike)
    for u in market.full_update():
        (b.on_ticker if isinstance(u, Ticker) else b.on_book)(u)
    assert b.seed({"USDT": 100_000.0, "BTC": 1.0}, [
        (btc_perp.symbol, 1.0, market.ticker(btc_perp.symbol).mark),
        (eth_perp.symbol, -10.0, market.ticker(eth_perp.symbol).mark),
        (otm_call.symbol, -1.0, market.ticker(otm_call.symbol).mark),
        (itm_put.symbol, 2.0, market.ticker(itm_put.symbol).mark),
    ])
    settled_rates, settlement = {}, {}
    while market.now_ms() < eight + EXPIRY_GRACE_MS + 60_000:
        for u in market.step():
            if isinstance(u, Ticker):
                if u.ts_ms == eight and u.funding_rate is not None:
                    settled_rates[u.symbol] = (u.funding_rate, u.mark)
                if u.ts_ms >= eight and u.symbol == itm_put.symbol:
                    settlement[u.symbol] = u.mark
                b.on_ticker(u)
            elif isinstance(u, Book):
                b.on_book(u)
            elif isinstance(u, Trade):
                b.on_trade(u)
    paid = {e.symbol: e for e in b.funding_ledger()}
    assert set(paid) == {btc_perp.symbol, eth_perp.symbol}
    for sym, contracts in ((btc_perp.symbol, 1.0), (eth_perp.symbol, -10.0)):
        rate, mark = settled_rates[sym]
        assert paid[sym].funding_ms == eight
        # longs pay shorts: payment = contracts x cs x mark x rate
        assert paid[sym].payment == pytest.approx(contracts * mark * rate)
    acct = b.account()
    # both options expired and were settled: the worthless call at 0 (the sim prints no
    # settlement for it; intrinsic after the grace), the put at its settlement print
    assert {p.symbol for p in acct.positions} == {btc_perp.symbol, eth_perp.symbol}
    closes = {f.symbol: f for f in b.ledger.storage.fills()}
    assert closes[otm_call.symbol].price == 0.0 and closes[otm_call.symbol].side == "buy"
    put_close = closes[itm_put.symbol]
    assert put_close.side == "sell" and put_close.amount == 2.0
    if itm_put.symbol in settlement:
        assert put_close.price == pytest.approx(settlement[itm_put.symbol])
    assert put_close.price > 0
    assert math.isfinite(acct.equity_usd)
    assert acct.liquidations == 0
