"""Bybit v5 through ccxt's real parsers, fed the documented example responses
(tests/venues/recorded/bybit, from bybit-exchange.github.io/docs/v5)."""

from __future__ import annotations

import ccxt.async_support as ccxt
import pytest

from cockpit.venues.bybit import BybitAdapter
from cockpit.venues.ccxt_base import (
    greeks_in_ticker,
    to_balances,
    to_book,
    to_instrument,
    to_order,
    to_position,
    to_ticker,
)
from tests.venues.recorded_http import shared_exchange

EMPTY = {"retCode": 0, "retMsg": "OK", "result": {"list": []}, "retExtInfo": {}, "time": 1}
ROUTES = [
    ("status=PreLaunch", EMPTY),
    ("instruments-info?category=linear", "instruments_linear.json"),
    ("instruments-info?category=inverse", "instruments_inverse.json"),
    ("instruments-info?category=option&baseCoin=BTC", "instruments_option.json"),
    ("/v5/market/orderbook", "orderbook.json"),
    ("/v5/market/tickers?symbol=BTCUSD&", "tickers_inverse.json"),
    ("/v5/market/tickers?symbol=BTC-26JAN24-39000-C", "tickers_option.json"),
    ("/v5/user/query-api", "query_api.json"),
    ("/v5/account/info", "account_info.json"),
    ("/v5/account/wallet-balance", "wallet_balance.json"),
    ("/v5/position/list", "position_list.json"),
    ("POST https://api.bybit.com/v5/order/create", "order_create.json"),
]
LINEAR = "BTC/USDT:USDT"
INVERSE = "BTC/USD:BTC"
OPTION = "BTC/USD:USDC-240126-39000-C"


@pytest.fixture
def venue():
    adapter = BybitAdapter()
    ex, http = shared_exchange(adapter, ROUTES, EMPTY)
    return adapter, ex, http


async def test_instruments(venue):
    adapter, ex, _ = venue
    lin = to_instrument(adapter, ex.market(LINEAR))
    assert (lin.kind, lin.linear, lin.amount_step, lin.min_amount, lin.price_step) == (
        "perp", True, 0.001, 0.001, 0.1)
    assert lin.min_cost == 5.0  # minNotionalValue
    assert lin.funding_interval_h == 8.0  # fundingInterval 480 minutes
    inv = to_instrument(adapter, ex.market(INVERSE))
    assert (inv.linear, inv.contract_size, inv.settle, inv.min_amount) == (False, 1.0, "BTC", 1.0)
    opt = to_instrument(adapter, ex.market(OPTION))
    assert (opt.kind, opt.strike, opt.option_type, opt.settle) == ("option", 39000.0, "call", "USDC")
    assert opt.expiry_ms == 1706256000000 and opt.min_amount == 0.01


async def test_order_book(venue):
    adapter, ex, _ = venue
    book = to_book(adapter, await ex.fetch_order_book(LINEAR), ex.market(LINEAR))
    assert book.bids.tolist() == [[65485.47, 47.081829]]
    assert book.asks.tolist() == [[65557.7, 16.606555]]
    assert book.ts_ms == 1716863719031


async def test_inverse_ticker_mark_index_funding(venue):
    adapter, ex, _ = venue
    raw = await ex.fetch_ticker(INVERSE)
    t = to_ticker(adapter, raw, ex.market(INVERSE), funding=await ex.fetch_funding_rate(INVERSE))
    assert (t.bid, t.ask, t.last) == (16596.0, 16597.5, 16597.0)
    assert (t.mark, t.index) == (16596.0, 16598.54)
    assert t.funding_rate == -0.001034 and t.next_funding_ms == 1672387200000


async def test_option_ticker_iv_fraction_and_usd_greeks(venue):
    adapter, ex, _ = venue
    market = ex.market(OPTION)
    t = to_ticker(adapter, await ex.fetch_ticker(OPTION), market,
                  greeks=await ex.fetch_greeks(OPTION))
    assert t.mark_iv == 0.5577  # markIv is already a fraction: unchanged
    assert t.mark == 3273.02263032  # USDC-settled: priced in USD(C)
    assert t.underlying_price == 37649.67254894
    assert (t.greeks.delta, t.greeks.gamma) == (0.49640971, 0.00004131)
    assert (t.greeks.vega, t.greeks.theta) == (69.08651675, -24.9443226)


async def test_unified_balance(venue):
    _, ex, _ = venue
    bal = to_balances(await ex.fetch_balance())
    # the BTC entry is all zeros and is left out; USDC walletBalance/equity 0.30894676
    assert [b.currency for b in bal] == ["USDC"]
    assert bal[0].total == pytest.approx(0.30894676) and bal[0].usd_value == bal[0].total


async def test_inverse_short_position(venue):
    adapter, ex, _ = venue
    (raw,) = await ex.fetch_positions([INVERSE])
    p = to_position(adapter, raw, ex.market(INVERSE))
    assert p.contracts == -300.0  # side Sell, size 300 one-USD contracts
    assert p.notional_usd == 300.0
    assert p.entry_price == pytest.approx(27464.50441675) and p.mark_price == 28224.5
    # unrealised PnL is BTC; valued at the mark of the inverse contract (USD per BTC)
    assert p.unrealised_pnl_settle == pytest.approx(-0.00029413)
    assert p.unrealised_pnl_usd == pytest.approx(-0.00029413 * 28224.5)
    assert p.liquidation_price is None  # liqPrice "" (none)


async def test_create_order_sends_order_link_id(venue):
    adapter, ex, http = venue
    params = adapter.order_params("spot-test-postonly", reduce_only=True, post_only=True)
    raw = await ex.create_order(LINEAR, "limit", "sell", 0.01, 70000, params)
    (sent,) = http.params_of("POST https://api.bybit.com/v5/order/create")
    assert sent["orderLinkId"] == "spot-test-postonly"
    assert sent["reduceOnly"] is True and sent["timeInForce"] == "PostOnly"
    o = to_order(adapter, raw, ex.market(LINEAR))
    assert (o.id, o.client_order_id) == ("1321003749386327552", "spot-test-postonly")


async def test_option_order_carries_our_id_not_ccxts(venue):
    adapter, ex, http = venue
    await ex.create_order(OPTION, "limit", "buy", 0.01, 3205,
                          adapter.order_params("ck0001option", False, False))
    (sent,) = http.params_of("POST https://api.bybit.com/v5/order/create")
    assert sent["orderLinkId"] == "ck0001option"  # ccxt would otherwise invent one


async def test_duplicate_order_link_id(venue):
    adapter, ex, _ = venue
    dup = ("POST https://api.bybit.com/v5/order/create", "order_duplicate.json")
    ex, _ = shared_exchange(adapter, [dup, *ROUTES], EMPTY)
    with pytest.raises(ccxt.InvalidOrder) as err:
        await ex.create_order(LINEAR, "limit", "buy", 0.01, 60000,
                              adapter.order_params("spot-test-postonly", False, False))
    assert adapter.is_duplicate_id_error(err.value)


async def test_greeks_read_from_the_option_ticker_payload(venue):
    adapter, ex, _ = venue
    market = ex.market(OPTION)
    ticker = await ex.fetch_ticker(OPTION)
    t = to_ticker(adapter, ticker, market, greeks=greeks_in_ticker(ex, ticker, market))
    assert t.mark_iv == 0.5577 and t.greeks.vega == 69.08651675
