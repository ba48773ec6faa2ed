"""Binance USD-M through ccxt's real parsers, fed the documented example responses
(tests/venues/recorded/binanceusdm, from developers.binance.com)."""

from __future__ import annotations

import pytest

from cockpit.venues.binanceusdm import BinanceUsdmAdapter
from cockpit.venues.ccxt_base import (
    to_balances,
    to_book,
    to_instrument,
    to_margin_tiers,
    to_order,
    to_position,
    to_ticker,
)
from sizing.margin import maintenance_margin
from tests.venues.recorded_http import shared_exchange

ROUTES = [
    ("/fapi/v1/exchangeInfo", "exchangeInfo.json"),
    ("/fapi/v1/depth", "depth.json"),
    ("/fapi/v1/ticker/24hr", "ticker_24hr.json"),
    ("/fapi/v1/premiumIndex", "premiumIndex.json"),
    ("/fapi/v3/account", "account_v3.json"),
    ("/fapi/v3/positionRisk", "positionRisk_v3.json"),
    ("/fapi/v1/leverageBracket", "leverageBracket.json"),
    ("POST https://fapi.binance.com/fapi/v1/order", "order_new.json"),
]
BTC = "BTC/USDT:USDT"
ADA = "ADA/USDT:USDT"


@pytest.fixture
def binance():
    adapter = BinanceUsdmAdapter()
    ex, http = shared_exchange(adapter, ROUTES, {})
    return adapter, ex, http


async def test_instrument_steps_and_min_notional(binance):
    adapter, ex, _ = binance
    inst = to_instrument(adapter, ex.market(BTC))
    # LOT_SIZE stepSize/minQty 0.001, PRICE_FILTER tickSize 0.10, MIN_NOTIONAL 100
    assert (inst.kind, inst.linear, inst.contract_size) == ("perp", True, 1.0)
    assert (inst.amount_step, inst.min_amount, inst.price_step) == (0.001, 0.001, 0.1)
    assert inst.min_cost == 100.0 and inst.settle == "USDT"


async def test_order_book(binance):
    adapter, ex, _ = binance
    book = to_book(adapter, await ex.fetch_order_book(BTC), ex.market(BTC))
    assert book.bids.tolist() == [[4.0, 431.0]] and book.asks.tolist() == [[4.000002, 12.0]]
    assert book.seq == 1027024


async def test_ticker_with_mark_index_and_funding(binance):
    adapter, ex, _ = binance
    ticker = await ex.fetch_ticker(BTC)
    funding = await ex.fetch_funding_rate(BTC)
    t = to_ticker(adapter, ticker, ex.market(BTC), funding=funding)
    assert t.last == 4.000002 and t.volume_24h == 8913.3
    assert t.mark == 11793.63104562 and t.index == 11781.8049597
    assert t.funding_rate == 0.00038246 and t.next_funding_ms == 1597392000000
    assert t.mark_iv is None  # perps carry no IV


async def test_ticker_without_mark_or_book_uses_stand_ins_the_store_accepts(binance):
    from cockpit.store import ticker_problem

    adapter, ex, _ = binance
    t = to_ticker(adapter, await ex.fetch_ticker(BTC), ex.market(BTC))
    # the 24hr ticker has no bid/ask and no mark: absent sides 0, mark = last trade
    assert (t.bid, t.ask) == (0.0, 0.0)
    assert t.mark == t.last == 4.000002 and t.index == t.mark
    assert ticker_problem(t) is None


async def test_balances_in_usd(binance):
    _, ex, _ = binance
    bal = {b.currency: b for b in to_balances(await ex.fetch_balance())}
    assert set(bal) == {"USDT", "USDC"}
    assert bal["USDT"].total == pytest.approx(23.72469206)
    assert bal["USDT"].usd_value == bal["USDT"].total  # stablecoins at 1


async def test_position_linear(binance):
    adapter, ex, _ = binance
    (raw,) = [p for p in await ex.fetch_positions() if p["symbol"] == ADA]
    p = to_position(adapter, raw, ex.market(ADA))
    assert p.contracts == 30.0 and p.entry_price == 0.385 and p.mark_price == 0.4104759
    assert p.unrealised_pnl_usd == pytest.approx(0.764277)
    # notional = 30 x 1 x 0.41047590 = 12.314277 (the payload's "notional")
    assert p.notional_usd == pytest.approx(12.314277)
    assert p.initial_margin_usd == pytest.approx(0.61571385)
    assert p.maintenance_margin_usd == pytest.approx(0.0800428)
    assert p.liquidation_price is None  # "0" means none


async def test_leverage_tiers_keep_maintenance_margin_continuous(binance):
    _, ex, _ = binance
    tiers = to_margin_tiers((await ex.fetch_leverage_tiers([BTC]))[BTC])
    assert [t.max_notional for t in tiers] == [10000, 50000]
    assert tiers[0].initial_rate == pytest.approx(1 / 75) and tiers[1].maintenance_rate == 0.01
    assert tiers[1].maintenance_amount == 35
    # at the 10,000 boundary: 10000 x 0.0065 = 65 = 10000 x 0.01 - 35
    below = maintenance_margin(10000.0, tiers)
    above = maintenance_margin(10000.0 + 1e-6, tiers)
    assert below == pytest.approx(65.0) and above == pytest.approx(65.0, abs=1e-6)


async def test_create_order_sends_new_client_order_id(binance):
    adapter, ex, http = binance
    params = adapter.order_params("testOrder", reduce_only=True, post_only=False)
    raw = await ex.create_order(BTC, "limit", "buy", 0.01, 9300.0, params)
    (sent,) = http.params_of("POST https://fapi.binance.com/fapi/v1/order")
    assert sent["newClientOrderId"] == "testOrder"
    assert sent["reduceOnly"] == "true" and sent["quantity"] == "0.01"
    o = to_order(adapter, raw, ex.market(BTC))
    assert (o.id, o.client_order_id, o.status, o.price, o.amount) == (
        "22542179", "testOrder", "open", 9300.0, 0.01)
