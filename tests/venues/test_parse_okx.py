"""OKX through ccxt's real parsers, fed the documented example responses
(tests/venues/recorded/okx, from www.okx.com/docs-v5)."""

from __future__ import annotations

import ccxt.async_support as ccxt
import pytest

from cockpit.venues.ccxt_base import (
    to_balances,
    to_book,
    to_instrument,
    to_order,
    to_position,
    to_ticker,
)
from cockpit.venues.okx import OkxAdapter
from tests.venues.recorded_http import shared_exchange

ROUTES = [
    ("instType=SWAP", "instruments_swap.json"),
    ("instType=FUTURES", "instruments_futures.json"),
    ("instType=OPTION&uly=BTC-USD", "instruments_option.json"),
    ("/market/books", "books.json"),
    ("/market/ticker", "ticker.json"),
    ("/public/opt-summary", "opt_summary.json"),
    ("/account/positions", "positions.json"),
    ("/account/balance", "balance.json"),
    ("POST https://www.okx.com/api/v5/trade/batch-orders", "order.json"),
]
EMPTY = {"code": "0", "msg": "", "data": []}
LINEAR = "BTC/USDT:USDT"
INVERSE = "BTC/USD:BTC"
OPTION = "BTC/USD:BTC-240329-32000-C"
FUTURE = "ETH/USD:ETH-210430"


@pytest.fixture
def venue():
    adapter = OkxAdapter()
    ex, http = shared_exchange(adapter, ROUTES, EMPTY)
    return adapter, ex, http


async def test_instruments(venue):
    adapter, ex, _ = venue
    lin = to_instrument(adapter, ex.market(LINEAR))
    assert (lin.kind, lin.linear, lin.contract_size, lin.min_amount) == ("perp", True, 0.01, 1.0)
    inv = to_instrument(adapter, ex.market(INVERSE))
    assert (inv.linear, inv.contract_size, inv.settle) == (False, 100.0, "BTC")
    opt = to_instrument(adapter, ex.market(OPTION))
    # ctVal 1 x ctMult 0.01: one option contract is 0.01 BTC (ccxt alone would say 1)
    assert opt.contract_size == pytest.approx(0.01)
    assert (opt.strike, opt.option_type, opt.price_step) == (32000.0, "call", 0.0005)


async def test_order_book(venue):
    adapter, ex, _ = venue
    book = to_book(adapter, await ex.fetch_order_book(LINEAR), ex.market(LINEAR))
    assert book.bids.tolist() == [[41006.3, 0.30178218]]
    assert book.asks.tolist() == [[41006.8, 0.60038921]]
    assert book.ts_ms == 1629966436396


async def test_ticker(venue):
    adapter, ex, _ = venue
    t = to_ticker(adapter, await ex.fetch_ticker(INVERSE), ex.market(INVERSE))
    assert (t.bid, t.ask, t.last, t.ts_ms) == (8888.88, 9999.99, 9999.99, 1597026383085)
    # OKX tickers carry no mark: until a mark-price poll, the book mid stands in
    assert t.mark == pytest.approx((8888.88 + 9999.99) / 2) and t.index == t.mark


async def test_option_greeks_iv_fraction_and_bs_greeks_per_contract(venue):
    adapter, ex, _ = venue
    market = ex.market(OPTION)
    greeks = await ex.fetch_greeks(OPTION)
    t = to_ticker(adapter, {"symbol": OPTION}, market, greeks=greeks)
    assert t.mark_iv == pytest.approx(0.5916253554539876)  # markVol is already a fraction
    # Black-Scholes set (USD) x 0.01 BTC per contract
    assert t.greeks.delta == pytest.approx(0.7325502184143025 * 0.01)
    assert t.greeks.vega == pytest.approx(74.44022302387287 * 0.01)
    assert t.greeks.theta == pytest.approx(-18.52354631567909 * 0.01)
    assert t.greeks.gamma == pytest.approx(0.000024139685826358558 * 0.01)


async def test_inverse_future_position(venue):
    adapter, ex, _ = venue
    (raw,) = await ex.fetch_positions()
    p = to_position(adapter, raw, ex.market(FUTURE))
    assert p.symbol == FUTURE and p.contracts == 1.0  # pos "1", posSide long
    assert p.notional_usd == 10.0  # 1 contract x ctVal 10 USD
    assert p.entry_price == 2566.31 and p.mark_price == 2353.849
    assert p.unrealised_pnl_settle == pytest.approx(-0.0000009932766034)  # ETH
    assert p.unrealised_pnl_usd == pytest.approx(-0.0000009932766034 * 2566.13)  # at idxPx
    assert p.liquidation_price == pytest.approx(2352.8496681818233)


async def test_balance(venue):
    _, ex, _ = venue
    (b,) = to_balances(await ex.fetch_balance())
    assert b.currency == "USDT" and b.total == pytest.approx(4992.890093622894)  # eq


async def test_create_order_sends_cl_ord_id(venue):
    adapter, ex, http = venue
    params = adapter.order_params("oktswap6", reduce_only=False, post_only=True)
    raw = await ex.create_order(LINEAR, "limit", "buy", 2, 25000, params)
    (sent,) = http.params_of("POST https://www.okx.com/api/v5/trade/batch-orders")
    assert sent["clOrdId"] == "oktswap6" and sent["ordType"] == "post_only"
    assert (sent["sz"], sent["px"]) == ("2", "25000")
    o = to_order(adapter, raw, ex.market(LINEAR))
    assert (o.id, o.client_order_id) == ("312269865356374016", "oktswap6")


async def test_duplicate_client_id_is_ccxt_invalid_order_we_recognise():
    adapter = OkxAdapter()
    dup = ("POST https://www.okx.com/api/v5/trade/batch-orders", "order_duplicate.json")
    ex, _ = shared_exchange(adapter, [dup, *ROUTES], EMPTY)
    with pytest.raises(ccxt.InvalidOrder) as err:
        await ex.create_order(LINEAR, "limit", "buy", 2, 25000,
                              adapter.order_params("oktswap6", False, False))
    assert adapter.is_duplicate_id_error(err.value)
    assert not adapter.is_duplicate_id_error(ccxt.InvalidOrder("okx 51008 insufficient"))
