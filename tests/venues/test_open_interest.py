"""Open interest reaches the chain from the venues that publish it in their ticker
(Deribit ``open_interest``, Bybit ``openInterest``), read off the documented example
payloads (tests/venues/recorded); a venue without it gives None, shown as "—"."""

from __future__ import annotations

from cockpit.venues.ccxt_base import greeks_in_ticker, to_ticker
from tests.venues import test_parse_bybit as bybit
from tests.venues import test_parse_deribit as deribit
from tests.venues.recorded_http import shared_exchange


async def test_deribit_option_open_interest_in_contracts():
    adapter = deribit.DeribitAdapter()
    ex, _ = shared_exchange(adapter, deribit.ROUTES, {"jsonrpc": "2.0", "result": []})
    market = ex.market(deribit.OPTION)
    ticker = await ex.fetch_ticker(deribit.OPTION)
    t = to_ticker(adapter, ticker, market, greeks=greeks_in_ticker(ex, ticker, market))
    assert t.open_interest == 368.8  # BTC options: 1 contract = 1 BTC


async def test_bybit_option_open_interest_in_contracts():
    adapter = bybit.BybitAdapter()
    ex, _ = shared_exchange(adapter, bybit.ROUTES, bybit.EMPTY)
    market = ex.market(bybit.OPTION)
    t = to_ticker(adapter, await ex.fetch_ticker(bybit.OPTION), market,
                  greeks=await ex.fetch_greeks(bybit.OPTION))
    assert t.open_interest == 19.67


def test_a_ticker_without_open_interest_gives_none():
    adapter = deribit.DeribitAdapter()
    market = {"symbol": "BTC/USD:BTC-240927-40000-C", "option": True, "contractSize": 1.0}
    raw = {"bid": 0.2, "ask": 0.21, "markPrice": 0.205, "timestamp": 1, "info": {}}
    assert to_ticker(adapter, raw, market).open_interest is None
