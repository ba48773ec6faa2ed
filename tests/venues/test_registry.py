"""Registry, adapter flags, exchange construction and dead-man switch requests (offline)."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.model import OrderRequest
from cockpit.venues.base import Broker, MarketFeed
from cockpit.venues.bybit import BybitAdapter
from cockpit.venues.ccxt_base import _rebase, build_exchange
from cockpit.venues.live_broker import CcxtBroker
from cockpit.venues.registry import VENUES, adapter_for, make_broker, make_feed
from tests.venues import test_parse_binanceusdm as binance_rec
from tests.venues import test_parse_deribit as deribit_rec
from tests.venues import test_parse_okx as okx_rec
from tests.venues.recorded_http import FAKE_CREDENTIALS, load, shared_exchange


def cfg(**kw):
    base = dict(symbols=(), sandbox=False, rest_url="", ws_url="", live=False)
    base.update(kw)
    return SimpleNamespace(**base)


def test_registry_import_does_not_load_ccxt():
    code = ("import sys, cockpit.venues.registry as r; "
            "assert not any(m == 'ccxt' or m.startswith('ccxt.') for m in sys.modules), 'ccxt'; "
            "print(sorted(r.VENUES))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "deribit" in out.stdout


@pytest.mark.parametrize(("name", "field", "ws_positions", "greeks"), [
    ("deribit", "label", False, True),
    ("binanceusdm", "newClientOrderId", True, False),
    ("bybit", "orderLinkId", True, True),
    ("okx", "clOrdId", True, True),
])
def test_feature_flags(name, field, ws_positions, greeks):
    cls = VENUES[name]
    assert cls.client_order_id_field == field
    assert cls.websocket_positions is ws_positions and cls.option_greeks is greeks
    assert cls.dead_man_switch is True


def test_unknown_venue_names_the_choices():
    with pytest.raises(ValueError, match="venue: unknown 'ftx'; use one of binanceusdm, bybit"):
        adapter_for("ftx")


def test_make_feed_and_broker_types():
    feed = make_feed("okx", cfg(symbols=("BTC/USDT:USDT",)))
    assert isinstance(feed, MarketFeed) and feed.venue == "okx" and feed.option_greeks
    broker = make_broker("deribit", cfg(live=True), FAKE_CREDENTIALS)
    assert isinstance(broker, Broker) and not broker.paper and broker.client_order_id_field == "label"


@pytest.mark.parametrize("name", sorted(VENUES))
def test_exchange_is_built_safe(name):
    ex = build_exchange(adapter_for(name), cfg(), FAKE_CREDENTIALS)
    assert ex.verbose is False and ex.enableRateLimit is True
    assert ex.options["maxRetriesOnFailure"] == 0  # an order create is never retried by ccxt


def test_rest_and_ws_overrides_keep_paths():
    ex = build_exchange(adapter_for("binanceusdm"),
                        cfg(rest_url="http://127.0.0.1:8081", ws_url="ws://127.0.0.1:8082"),
                        pro=True)
    assert ex.urls["api"]["fapiPublic"] == "http://127.0.0.1:8081/fapi/v1"
    ws = ex.urls["api"]["ws"]
    assert all(u.startswith("ws://127.0.0.1:8082") for u in ws.values() if isinstance(u, str))
    okx = build_exchange(adapter_for("okx"), cfg(rest_url="http://127.0.0.1:9"), pro=True)
    assert okx.urls["api"]["rest"] == "http://127.0.0.1:9"


def test_sandbox_uses_the_venue_testnet():
    ex = build_exchange(adapter_for("deribit"), cfg(sandbox=True))
    assert ex.urls["api"]["rest"] == "https://test.deribit.com"


# -- dead-man switch requests, as sent ------------------------------------------------


async def test_okx_cancel_all_after():
    # response: www.okx.com/docs-v5 "Cancel All After" example
    answer = {"code": "0", "msg": "", "data": [{"triggerTime": "1587971460", "tag": "",
                                                  "ts": "1587971400"}]}
    ex, http = shared_exchange(adapter_for("okx"), [("cancel-all-after", answer),
                                                    *okx_rec.ROUTES], okx_rec.EMPTY)
    broker = CcxtBroker(adapter_for("okx"), cfg(live=True), None, exchange=ex)
    await broker.arm_dead_man(60)
    await broker.disarm_dead_man()
    assert [p["timeOut"] for p in http.params_of("cancel-all-after")] == [60, 0]  # seconds


async def test_binance_countdown_per_symbol():
    # response: developers.binance.com "Auto-Cancel All Open Orders" example
    answer = {"symbol": "BTCUSDT", "countdownTime": "100000"}
    ex, http = shared_exchange(adapter_for("binanceusdm"), [("countdownCancelAll", answer),
                                                            *binance_rec.ROUTES], {})
    broker = CcxtBroker(adapter_for("binanceusdm"),
                        cfg(live=True, symbols=(binance_rec.BTC, binance_rec.ADA)), None,
                        exchange=ex)
    await broker.arm_dead_man(120)
    sent = http.params_of("countdownCancelAll")
    assert [(p["symbol"], p["countdownTime"]) for p in sent] == [("BTCUSDT", "120000"),
                                                                 ("ADAUSDT", "120000")]


class FakeDeribitWs:
    """Stands in for ccxt.pro deribit: one websocket answering JSON-RPC from the
    documented examples (private/buy, enable/disable_cancel_on_disconnect "ok")."""

    def __init__(self):
        self.urls = {"api": {"ws": "wss://deribit.test/ws/api/v2"}}
        self.clients = {}
        self.sent = []
        self.auths = 0
        self._id = 0

    def handle_message(self, client, message):
        return None

    async def authenticate(self):
        self.auths += 1
        self.clients[self.urls["api"]["ws"]] = SimpleNamespace(
            closed=lambda: False, subscriptions={}, futures={})

    def request_id(self):
        self._id += 1
        return self._id

    async def watch(self, url, key, request, subscribe_key):
        self.sent.append(request)
        if request["method"] in ("private/buy", "private/sell"):
            result = load("deribit", "buy.json")["result"]
        else:
            result = "ok"
        return {"jsonrpc": "2.0", "id": request["id"], "result": result}


async def test_deribit_orders_and_cancel_on_disconnect_share_one_websocket():
    ex, http = shared_exchange(adapter_for("deribit"), deribit_rec.ROUTES,
                               {"jsonrpc": "2.0", "result": []})
    broker = CcxtBroker(adapter_for("deribit"), cfg(live=True), None, exchange=ex,
                        clock=lambda: 1_700_000_000.0, dead_man_timeout_s=60)
    ws = broker._pro = FakeDeribitWs()
    order = await broker.create_order(OrderRequest("ETH/USD:ETH", "buy", "market", 40,
                                                   client_order_id="market0000234"))
    # ccxt built the request and parsed the answer; only the transport is the websocket
    assert http.count("private/buy") == 0 and ws.auths == 1
    (buy,) = [m for m in ws.sent if m["method"] == "private/buy"]
    assert buy["params"]["label"] == "market0000234" and buy["params"]["amount"] == 40.0
    assert (order.id, order.status, order.filled) == ("ETH-349249", "closed", 40.0)
    assert broker.dead_man_live()
    await broker.arm_dead_man(60)
    await broker.disarm_dead_man()
    methods = [m["method"] for m in ws.sent]
    assert methods[-2:] == ["private/enable_cancel_on_disconnect",
                            "private/disable_cancel_on_disconnect"]
    assert all(m["params"].get("scope", "connection") == "connection" for m in ws.sent[1:])


async def test_deribit_without_websocket_session_is_not_shown_armed():
    ex, http = shared_exchange(adapter_for("deribit"), deribit_rec.ROUTES,
                               {"jsonrpc": "2.0", "result": []})
    broker = CcxtBroker(adapter_for("deribit"), cfg(live=True), None, exchange=ex)

    class Down(FakeDeribitWs):
        async def authenticate(self):
            raise ConnectionError("no route")

    broker._pro = Down()
    await broker.create_order(OrderRequest("ETH/USD:ETH", "buy", "market", 40))
    assert http.count("private/buy") == 1  # REST still works
    assert not broker.dead_man_live()
    with pytest.raises(ConnectionError, match="cannot cover REST orders"):
        await broker.arm_dead_man(60)


def test_deribit_ws_answers_resolve_by_id_and_errors_map_through_ccxt():
    import ccxt.pro as ccxtpro

    from cockpit.venues.deribit import DeribitWsSession

    pro = ccxtpro.deribit()
    DeribitWsSession(pro)
    outcomes = []
    client = SimpleNamespace(futures={"rpc:7": 1, "rpc:8": 1},
                             resolve=lambda m, k: outcomes.append((k, "ok", m["result"])),
                             reject=lambda e, k: outcomes.append((k, type(e).__name__, None)))
    pro.handle_message(client, {"jsonrpc": "2.0", "id": 7, "result": "ok"})
    # docs.deribit.com error codes: 10009 not_enough_funds
    pro.handle_message(client, {"jsonrpc": "2.0", "id": 8,
                                "error": {"code": 10009, "message": "not_enough_funds"}})
    assert outcomes == [("rpc:7", "ok", "ok"), ("rpc:8", "InsufficientFunds", None)]


class FakePro:
    """Stands in for ccxt.pro bybit: the dcp subscription runs until ``drop``."""

    def __init__(self):
        import asyncio

        self.dropped = asyncio.Event()
        self.fail = False

    async def get_url_by_market_type(self, *_a):
        return "wss://private"

    async def authenticate(self, _url):
        if self.fail:
            raise ConnectionError("auth refused")

    async def watch_topics(self, _url, _hashes, topics, _params):
        assert topics == ["dcp"]
        await self.dropped.wait()
        raise ConnectionError("socket closed")


async def test_bybit_shown_armed_only_while_dcp_subscription_lives():
    import asyncio

    adapter = BybitAdapter()
    pro = FakePro()
    assert not adapter.dead_man_live()
    adapter.start_dcp(pro)
    await asyncio.sleep(0)
    assert adapter.dead_man_live()
    pro.dropped.set()  # the private socket drops: Bybit would no longer fire the switch
    for _ in range(5):
        await asyncio.sleep(0)
    assert not adapter.dead_man_live()
    pro.fail, pro.dropped = True, asyncio.Event()
    adapter.start_dcp(pro)
    for _ in range(5):
        await asyncio.sleep(0)
    assert not adapter.dead_man_live()


async def test_resting_order_arms_the_switch_and_clean_close_disarms():
    answer = {"code": "0", "msg": "", "data": [{"triggerTime": "1587971460", "tag": "",
                                                  "ts": "1587971400"}]}
    ex, http = shared_exchange(adapter_for("okx"), [("cancel-all-after", answer),
                                                    ("/account/positions", okx_rec.EMPTY),
                                                    *okx_rec.ROUTES], okx_rec.EMPTY)
    broker = CcxtBroker(adapter_for("okx"), cfg(live=True, symbols=(okx_rec.LINEAR,)), None,
                        exchange=ex, clock=lambda: 1_700_000_000.0, dead_man_timeout_s=60)
    assert await broker.dead_man.step() == float("inf")  # nothing rests: not armed
    assert broker.dead_man_status() is None
    order = await broker.create_order(OrderRequest(okx_rec.LINEAR, "buy", "limit", 2, 25000.0))
    assert order.status == "open"
    assert await broker.dead_man.step() == 15.0  # refresh at a quarter of 60 s
    assert broker.dead_man_status() == "armed 60s, refreshed 22:13:20 UTC"
    await broker.aclose(disarm_dead_man=True)  # clean exit, the trader leaving the order
    assert [p["timeOut"] for p in http.params_of("cancel-all-after")] == [60, 0]


MARKETS = [
    {"inverse": True, "option": False, "contractSize": 10.0},  # Deribit BTC perp: 10 USD
    {"inverse": True, "option": False, "contractSize": 1.0},
    {"inverse": False, "linear": True, "option": False, "contractSize": 0.01},
    {"inverse": False, "option": True, "contractSize": 1.0},
]


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(sorted(VENUES)), market=st.sampled_from(MARKETS),
       contracts=st.floats(min_value=1e-6, max_value=1e9))
def test_contracts_round_trip_through_venue_units(name, market, contracts):
    adapter = adapter_for(name)
    back = adapter.contracts_from_venue(adapter.contracts_to_venue(contracts, market), market)
    assert back == pytest.approx(contracts, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(path=st.from_regex(r"(/[a-z0-9_]{1,8}){0,4}", fullmatch=True),
       host=st.sampled_from(["https://fapi.binance.com", "wss://ws.okx.com:443", "https://{hostname}"]),
       base=st.sampled_from(["http://127.0.0.1:8080", "ws://127.0.0.1:9/"]))
def test_url_override_keeps_the_path(path, host, base):
    assert _rebase(host + path, base) == base.rstrip("/") + path
