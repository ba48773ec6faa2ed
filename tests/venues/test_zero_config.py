"""`cockpit --venue NAME --paper` with no config: each venue shows its BTC and ETH
perpetuals and, where it lists options, the nearest live expiries around the money.

Offline: the runtime is built exactly as the CLI builds it (no ``[venues]`` section),
then its feed connects to a ccxt exchange whose HTTP answers come from the venue's
documented shapes (``recorded/*/chain_*.json``, written by
``fixtures/make_chain_fixtures.py``); ccxt parses them for real. The expected symbols
are written out by hand from the fixture's chain: test clock 2026-12-04 07:30 UTC,
BTC at 101,000 and ETH at 3,810; 3 DEC has expired and 4 DEC expires within the hour,
so the two nearest are 5 and 11 DEC; within ±10 % the three strikes nearest the money
are 100k, 105k, 95k (BTC) and 3,800, 3,900, 3,700 (ETH).
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from cockpit.config import Config, VenueConfig
from cockpit.runtime import build_runtime
from cockpit.venues.ccxt_feed import CcxtFeed
from cockpit.venues.defaults import VENUE_DEFAULTS, no_symbols_message
from cockpit.venues.registry import adapter_for
from tests.venues.recorded_http import RECORDED, load, recorded_exchange

NOW_S = datetime(2026, 12, 4, 7, 30, tzinfo=UTC).timestamp()
PRICE = {"BTC": 101_000.0, "ETH": 3_810.0}


def _options(form: str) -> set[str]:
    """The expected options, ``form`` naming one as ccxt does on that venue."""
    near = {"BTC": (95_000, 100_000, 105_000), "ETH": (3_700, 3_800, 3_900)}
    return {form.format(base=b, day=day, strike=k, kind=kind)
            for b, strikes in near.items() for day in ("261205", "261211")
            for k in strikes for kind in "CP"}


def _query(url: str, key: str) -> str:
    return parse_qs(urlsplit(url).query)[key][0]


def _deribit_ticker(url, body):
    name = _query(url, "instrument_name")
    price = PRICE[name.split("-")[0]]
    return {"jsonrpc": "2.0", "result": {
        "instrument_name": name, "last_price": price, "best_bid_price": price - 0.5,
        "best_ask_price": price + 0.5, "mark_price": price, "index_price": price,
        "stats": {"volume": 1.0}, "state": "open", "timestamp": int(NOW_S * 1000)}}


def _okx_ticker(url, body):
    doc = load("okx", "ticker.json")
    inst = _query(url, "instId")
    price = str(PRICE[inst.split("-")[0]])
    doc["data"][0].update(instId=inst, last=price, bidPx=price, askPx=price)
    return doc


def _bybit_ticker(url, body):
    doc = load("bybit", "tickers_inverse.json")
    symbol = _query(url, "symbol")
    price = str(PRICE[symbol[:3]])
    doc["result"].update(category="linear")
    doc["result"]["list"][0].update(symbol=symbol, lastPrice=price, markPrice=price)
    return doc


EMPTY = {"deribit": {"jsonrpc": "2.0", "result": []},
         "okx": {"code": "0", "msg": "", "data": []},
         "bybit": {"retCode": 0, "retMsg": "OK", "result": {"list": []}, "time": 0},
         "binanceusdm": {}}

ROUTES = {
    "deribit": [("public/get_instruments", "chain_instruments.json"),
                ("public/ticker", _deribit_ticker)],
    "okx": [("instType=SWAP", "chain_swap.json"),
            ("instType=OPTION&uly=BTC-USD", "chain_option_btc.json"),
            ("instType=OPTION&uly=ETH-USD", "chain_option_eth.json"),
            ("/market/ticker", _okx_ticker)],
    "bybit": [("instruments-info?category=linear", "chain_linear.json"),
              ("instruments-info?category=inverse", "instruments_inverse.json"),
              ("instruments-info?category=option&baseCoin=BTC", "chain_option_btc.json"),
              ("instruments-info?category=option&baseCoin=ETH", "chain_option_eth.json"),
              ("/v5/market/tickers", _bybit_ticker)],
    "binanceusdm": [("/fapi/v1/exchangeInfo", "chain_exchangeInfo.json")],
}

EXPECTED = {
    "deribit": ({"BTC/USD:BTC", "ETH/USD:ETH"}, _options("{base}/USD:{base}-{day}-{strike}-{kind}")),
    "okx": ({"BTC/USDT:USDT", "ETH/USDT:USDT"}, _options("{base}/USD:{base}-{day}-{strike}-{kind}")),
    "bybit": ({"BTC/USDT:USDT", "ETH/USDT:USDT"}, _options("{base}/USD:USDC-{day}-{strike}-{kind}")),
    # Binance USD-M lists no options; its USDC perp and quarterly are not the defaults
    "binanceusdm": ({"BTC/USDT:USDT", "ETH/USDT:USDT"}, set()),
}


def _args(venue: str, tmp_path, symbols: str | None = None) -> argparse.Namespace:
    return argparse.Namespace(replay=None, venue=venue, live=False, paper=True, symbols=symbols,
                              state=tmp_path / f"paper-{venue}.sqlite", reset=False, speed=1.0)


async def _start(venue: str, tmp_path, config: Config | None = None, symbols=None):
    """The runtime as the CLI builds it, its feed connected to the offline exchange."""
    runtime = build_runtime(_args(venue, tmp_path, symbols), config or Config())
    feed = runtime.feed
    assert isinstance(feed, CcxtFeed)
    exchange, http = recorded_exchange(adapter_for(venue), ROUTES[venue], EMPTY[venue],
                                       credentials=None)
    exchange.enableRateLimit = False
    feed._ex, feed._clock, feed._sink = exchange, lambda: NOW_S, runtime.store
    try:
        await feed._connect()
    finally:
        await exchange.close()
    return runtime, http


@pytest.mark.parametrize("venue", sorted(EXPECTED))
async def test_zero_config_start_shows_the_venues_own_defaults(venue, tmp_path):
    runtime, _ = await _start(venue, tmp_path)
    instruments = runtime.store.snapshot().instruments
    perps, options = EXPECTED[venue]
    shown = set(instruments)
    assert perps <= shown  # both perpetuals
    assert {s for s in shown if instruments[s].kind == "option"} == options
    assert shown == perps | options  # nothing else: no quarterly, no second settle family
    now_ms = NOW_S * 1000
    for s in options:
        inst = instruments[s]
        assert inst.expiry_ms > now_ms + 3_600_000  # none expired, none about to
        assert abs(inst.strike / PRICE[inst.base] - 1) <= 0.10  # within the band
    if options:
        # the nearest live expiry is there, calls and puts alike
        nearest = min(instruments[s].expiry_ms for s in options)
        assert datetime.fromtimestamp(nearest / 1000, UTC) == datetime(2026, 12, 5, 8, tzinfo=UTC)
        assert {instruments[s].option_type for s in options} == {"call", "put"}
    assert all(instruments[s].kind == "perp" for s in perps)


async def test_symbols_flag_replaces_the_defaults(tmp_path):
    runtime, http = await _start("deribit", tmp_path, symbols="BTC/USD:BTC")
    assert set(runtime.store.snapshot().instruments) == {"BTC/USD:BTC"}
    assert http.count("public/ticker") == 0  # no default chosen, no price asked


async def test_symbols_flag_with_plus_adds_to_the_defaults(tmp_path):
    runtime, _ = await _start("deribit", tmp_path, symbols="+BTC/USD:BTC-261225-100000-C")
    shown = set(runtime.store.snapshot().instruments)
    perps, options = EXPECTED["deribit"]
    assert shown == perps | options | {"BTC/USD:BTC-261225-100000-C"}


async def test_config_symbols_replace_the_defaults(tmp_path):
    config = Config(venues={"okx": VenueConfig(symbols=("ETH/USDT:USDT",))})
    runtime, _ = await _start("okx", tmp_path, config=config)
    assert set(runtime.store.snapshot().instruments) == {"ETH/USDT:USDT"}


async def test_config_symbols_with_the_word_defaults_add_to_them(tmp_path):
    config = Config(venues={"binanceusdm": VenueConfig(symbols=("defaults", "BTC/USDC:USDC"))})
    runtime, _ = await _start("binanceusdm", tmp_path, config=config)
    assert set(runtime.store.snapshot().instruments) == {
        "BTC/USDT:USDT", "ETH/USDT:USDT", "BTC/USDC:USDC"}


@pytest.mark.parametrize("venue", sorted(EXPECTED))
async def test_no_symbols_names_real_symbols_of_that_venue(venue, tmp_path):
    """Every configured symbol unlisted: the note gives this venue's own examples, and
    each example is of the form the venue's markets use (its perpetual is listed)."""
    config = Config(venues={venue: VenueConfig(symbols=("NOPE/USDT:USDT",))})
    runtime, _ = await _start(venue, tmp_path, config=config)
    note = runtime.feed._notice
    assert note == f"not listed: NOPE/USDT:USDT; {no_symbols_message(venue)}"
    assert f"[venues.{venue}]" in note
    perps, options = EXPECTED[venue]
    examples = VENUE_DEFAULTS[venue].examples
    assert examples[0] in note and examples[0] in perps
    if options:  # the option example has the shape of that venue's option symbols
        head = examples[1].rsplit("-", 3)[0]
        assert any(o.startswith(head + "-") for o in options), (examples[1], sorted(options)[0])
        assert examples[1] in note


async def test_defaults_without_a_price_still_show_the_perps(tmp_path):
    """The perpetuals' tickers fail: the perps are shown, no options guessed at."""
    routes = [r for r in ROUTES["okx"] if r[0] != "/market/ticker"]
    runtime = build_runtime(_args("okx", tmp_path), Config())
    exchange, _ = recorded_exchange(adapter_for("okx"), routes, EMPTY["okx"], credentials=None)
    feed = runtime.feed
    feed._ex, feed._clock, feed._sink = exchange, lambda: NOW_S, runtime.store
    try:
        await feed._connect()
    finally:
        await exchange.close()
    assert set(runtime.store.snapshot().instruments) == EXPECTED["okx"][0]


def test_fixture_chain_is_the_one_the_expectations_assume():
    """The hand-written expectations above read the chain fixture correctly."""
    doc = json.loads((RECORDED / "deribit" / "chain_instruments.json")
                     .read_text())
    names = {i["instrument_name"] for i in doc["result"]}
    assert {"BTC-3DEC26-100000-C", "BTC-4DEC26-100000-C", "BTC-25DEC26-100000-C"} <= names
    inactive = [i["instrument_name"] for i in doc["result"] if not i["is_active"]]
    assert inactive == ["BTC-5DEC26-101000-C"]  # nearest the money, and never shown
