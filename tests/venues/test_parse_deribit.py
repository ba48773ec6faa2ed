"""Deribit through ccxt's real parsers, fed the documented example responses.

Every expected number is read off the recorded payload (tests/venues/recorded/deribit,
copied from docs.deribit.com examples) and converted by hand in the test.
"""

from __future__ import annotations

import math

import pytest

from cockpit.venues.ccxt_base import (
    greeks_in_ticker,
    to_balances,
    to_book,
    to_instrument,
    to_order,
    to_position,
    to_ticker,
)
from cockpit.venues.deribit import DeribitAdapter
from tests.venues.recorded_http import shared_exchange

ROUTES = [
    ("public/get_currencies", "get_currencies.json"),
    ("public/get_instruments", "get_instruments.json"),
    ("public/get_order_book", "get_order_book.json"),
    ("public/ticker", "ticker_option.json"),
    ("private/get_account_summaries", "get_account_summaries.json"),
    ("private/get_positions", "get_positions.json"),
    ("private/buy", "buy.json"),
]
PERP = "BTC/USD:BTC"
OPTION = "BTC/USD:BTC-240927-40000-C"


@pytest.fixture
def deribit():
    adapter = DeribitAdapter()
    ex, http = shared_exchange(adapter, ROUTES, {"jsonrpc": "2.0", "result": []})
    return adapter, ex, http


async def test_instruments_in_contracts(deribit):
    adapter, ex, _ = deribit
    perp = to_instrument(adapter, ex.market(PERP))
    # contract_size 10 USD, min_trade_amount 10 USD -> 1 contract; inverse, coin-settled
    assert (perp.kind, perp.linear, perp.contract_size) == ("perp", False, 10.0)
    assert perp.min_amount == 1.0 and perp.amount_step == 1.0 and perp.price_step == 0.5
    assert perp.settle == "BTC" and perp.taker_fee == 0.0005
    opt = to_instrument(adapter, ex.market(OPTION))
    assert (opt.kind, opt.strike, opt.option_type) == ("option", 40000.0, "call")
    assert opt.expiry_ms == 1727424000000 and opt.min_amount == 0.1  # option amounts in BTC


async def test_order_book_usd_amounts_become_contracts(deribit):
    adapter, ex, _ = deribit
    ob = await ex.fetch_order_book(PERP)
    book = to_book(adapter, ob, ex.market(PERP))
    # documented bids [7814, 351820 USD] ... / 10 USD per contract
    assert book.bids.tolist() == [[7814, 35182], [7813.5, 20749], [7813, 3216]]
    assert book.asks.tolist() == [[7814.5, 1188], [7815, 1810], [7815.5, 264]]
    assert book.seq == 17538025952 and book.ts_ms == 1583781354740
    assert not book.bids.flags.writeable


async def test_option_ticker_iv_percent_to_fraction_and_greeks(deribit):
    adapter, ex, _ = deribit
    market = ex.market(OPTION)
    ticker = await ex.fetch_ticker(OPTION)
    greeks = await ex.fetch_greeks(OPTION)
    t = to_ticker(adapter, ticker, market, greeks=greeks)
    assert t.mark_iv == pytest.approx(0.6127)  # documented mark_iv 61.27 (percent)
    assert t.mark == 0.2168  # BTC per BTC of underlying, as quoted
    assert t.underlying_price == 38992.71
    assert (t.bid, t.ask, t.last) == (0.214, 0.219, 0.215)
    assert t.greeks.delta == 0.59621 and t.greeks.vega == 141.90146
    assert t.greeks.theta == -13.48784 and t.greeks.gamma == 0.00002
    # the option's USD mark: coin price x underlying
    assert t.mark * t.underlying_price == pytest.approx(0.2168 * 38992.71)


async def test_balance_in_coin_with_usd_value(deribit):
    _, ex, _ = deribit
    bal = to_balances(await ex.fetch_balance(), {"BTC": 7466.79})
    assert len(bal) == 1 and bal[0].currency == "BTC"
    assert bal[0].total == 0.00062359  # documented equity
    assert bal[0].usd_value == pytest.approx(0.00062359 * 7466.79)


async def test_balance_without_price_is_nan_not_zero(deribit):
    _, ex, _ = deribit
    bal = to_balances(await ex.fetch_balance())
    assert math.isnan(bal[0].usd_value)


async def test_position_usd_size_to_contracts_and_coin_margins_to_usd(deribit):
    adapter, ex, _ = deribit
    (raw,) = await ex.fetch_positions()
    p = to_position(adapter, raw, ex.market(raw["symbol"]))
    assert p.symbol == PERP
    assert p.contracts == 5.0  # size 50 USD / 10 USD per contract, direction buy
    assert p.notional_usd == 50.0
    assert p.entry_price == 7440.18 and p.mark_price == 7476.65
    # margins are BTC in the payload; valued at the payload's index_price 7466.79
    assert p.initial_margin_usd == pytest.approx(0.000197283 * 7466.79)
    assert p.maintenance_margin_usd == pytest.approx(0.000143783 * 7466.79)
    assert p.liquidation_price == 1.74
    # ccxt's margin "percentage" is x100 (2.95 for 2.95 %); we never use it, and our USD
    # margin over USD notional gives the fraction: 0.000197283 BTC / 0.006687487 BTC
    assert raw["initialMarginPercentage"] == pytest.approx(100 * 0.000197283 / 0.006687487)
    assert p.initial_margin_usd / p.notional_usd == pytest.approx(0.000197283 / 0.006687487,
                                                                  rel=0.01)


async def test_create_order_sends_our_label_and_usd_amount(deribit):
    adapter, ex, http = deribit
    market = ex.market("ETH/USD:ETH")
    params = adapter.order_params("market0000234", reduce_only=False, post_only=False)
    raw = await ex.create_order("ETH/USD:ETH", "market", "buy",
                                adapter.contracts_to_venue(40, market), None, params)
    (sent,) = http.params_of("private/buy")
    assert sent["label"] == "market0000234"
    assert float(sent["amount"]) == 40.0  # ETH-PERPETUAL contract_size 1 USD
    order = to_order(adapter, raw, market)
    assert order.client_order_id == "market0000234"
    assert (order.id, order.status, order.filled, order.average) == ("ETH-349249", "closed", 40.0, 143.81)


async def test_greeks_read_from_the_ticker_payload_itself(deribit):
    adapter, ex, _ = deribit
    market = ex.market(OPTION)
    ticker = await ex.fetch_ticker(OPTION)
    t = to_ticker(adapter, ticker, market, greeks=greeks_in_ticker(ex, ticker, market))
    assert t.mark_iv == pytest.approx(0.6127) and t.greeks.delta == 0.59621
    assert greeks_in_ticker(ex, await ex.fetch_ticker(PERP), ex.market(PERP)) is None
