"""The live broker's order safety, offline: ccxt's real request building and parsing,
HTTP answered from recorded venue responses (see recorded_http)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import ccxt.async_support as ccxt
import pytest

from cockpit.keys import Credentials
from cockpit.model import OrderRequest
from cockpit.venues.binanceusdm import BinanceUsdmAdapter
from cockpit.venues.bybit import BybitAdapter
from cockpit.venues.deribit import DeribitAdapter
from cockpit.venues.live_broker import CcxtBroker, OrderStatusUnknown
from cockpit.venues.okx import OkxAdapter
from tests.venues import test_parse_binanceusdm as binance_rec
from tests.venues import test_parse_bybit as bybit_rec
from tests.venues import test_parse_deribit as deribit_rec
from tests.venues import test_parse_okx as okx_rec
from tests.venues.recorded_http import shared_exchange

OKX_CREATE = "POST https://www.okx.com/api/v5/trade/batch-orders"
OKX_LOOKUP = "GET https://www.okx.com/api/v5/trade/order?"
NO_POSITIONS = ("/account/positions", okx_rec.EMPTY)


def cfg(symbols, live=True):
    return SimpleNamespace(live=live, symbols=tuple(symbols), sandbox=False, rest_url="", ws_url="")


async def no_sleep(_s):
    await asyncio.sleep(0)  # yield, so polling loops under test cannot starve the loop


class NoWebsocket:
    """A ccxt.pro stand-in that cannot connect: Deribit orders then go over REST."""

    urls = {"api": {"ws": "wss://offline.invalid"}}
    clients: dict = {}

    def handle_message(self, client, message):
        return None

    async def authenticate(self):
        raise ConnectionError("offline test")


def broker_for(adapter, routes, default, symbols, *, live=True, credentials=None):
    ex, http = shared_exchange(adapter, routes, default)
    broker = CcxtBroker(adapter, cfg(symbols, live), credentials, exchange=ex,
                        clock=lambda: 1_700_000_000.0, sleep=no_sleep)
    broker._pro = NoWebsocket()  # never a real socket from a test
    return broker, http


def okx_broker(*routes):
    return broker_for(OkxAdapter(), [*routes, NO_POSITIONS, *okx_rec.ROUTES], okx_rec.EMPTY,
                      [okx_rec.LINEAR])


BUY_2 = OrderRequest(okx_rec.LINEAR, "buy", "limit", 2, 25000.0, client_order_id="oktswap6")


# -- our client id in the venue's own field --------------------------------------


@pytest.mark.parametrize("venue", ["okx", "bybit", "binanceusdm", "deribit"])
async def test_client_order_id_sent_in_venue_field(venue):
    if venue == "okx":
        broker, http = okx_broker()
        request, needle, field = BUY_2, OKX_CREATE, "clOrdId"
    elif venue == "bybit":
        broker, http = broker_for(BybitAdapter(), bybit_rec.ROUTES, bybit_rec.EMPTY,
                                  [bybit_rec.LINEAR])
        request = OrderRequest(bybit_rec.LINEAR, "sell", "limit", 0.01, 70000.0,
                               reduce_only=True, client_order_id="spot-test-postonly")
        needle, field = "POST https://api.bybit.com/v5/order/create", "orderLinkId"
    elif venue == "binanceusdm":
        broker, http = broker_for(BinanceUsdmAdapter(), binance_rec.ROUTES, {},
                                  [binance_rec.BTC])
        request = OrderRequest(binance_rec.BTC, "buy", "limit", 0.011, 9300.0,
                               client_order_id="testOrder")
        needle, field = "POST https://fapi.binance.com/fapi/v1/order", "newClientOrderId"
    else:
        broker, http = broker_for(DeribitAdapter(), deribit_rec.ROUTES,
                                  {"jsonrpc": "2.0", "result": []}, ["ETH/USD:ETH"])
        request = OrderRequest("ETH/USD:ETH", "buy", "market", 40, client_order_id="market0000234")
        needle, field = "private/buy", "label"
    order = await broker.create_order(request)
    (sent,) = http.params_of(needle)
    assert sent[field] == request.client_order_id
    assert order.client_order_id == request.client_order_id
    # acks that carry ids only (OKX, Bybit) are completed from the request; the
    # recorded Binance ack echoes its own origQty 0.010, which wins
    assert (order.symbol, order.side) == (request.symbol, request.side)
    assert order.amount == (0.01 if venue == "binanceusdm" else request.amount)


async def test_generated_client_id_is_ours_and_fits_every_venue():
    broker, http = okx_broker()
    await broker.create_order(OrderRequest(okx_rec.LINEAR, "buy", "limit", 2, 25000.0))
    (sent,) = http.params_of(OKX_CREATE)
    cid = sent["clOrdId"]
    assert cid.startswith("ck") and cid.isalnum() and len(cid) <= 32


async def test_deribit_contracts_sent_as_usd():
    broker, http = broker_for(DeribitAdapter(), deribit_rec.ROUTES,
                              {"jsonrpc": "2.0", "result": []}, [deribit_rec.PERP])
    await broker.create_order(OrderRequest(deribit_rec.PERP, "buy", "market", 5))
    (sent,) = http.params_of("private/buy")
    assert float(sent["amount"]) == 50.0  # 5 contracts x 10 USD


# -- ambiguous creates: look up, never resend --------------------------------------


async def test_timeout_then_lookup_finds_order_and_does_not_resend():
    broker, http = okx_broker((OKX_CREATE, ccxt.RequestTimeout("okx timed out")),
                              (OKX_LOOKUP, "order_details.json"))
    order = await broker.create_order(BUY_2)
    assert http.count(OKX_CREATE) == 1
    assert http.params_of(OKX_LOOKUP)[0]["clOrdId"] == "oktswap6"
    assert (order.id, order.client_order_id, order.status) == ("312269865356374016", "oktswap6",
                                                               "open")


@pytest.mark.parametrize("error", [ccxt.NetworkError("reset"), ccxt.ExchangeNotAvailable("429")])
async def test_other_ambiguous_errors_are_looked_up(error):
    broker, http = okx_broker((OKX_CREATE, error), (OKX_LOOKUP, "order_details.json"))
    order = await broker.create_order(BUY_2)
    assert http.count(OKX_CREATE) == 1 and order.status == "open"


async def test_not_found_checks_fills_and_position_before_calling_it_not_placed():
    broker, http = okx_broker((OKX_CREATE, ccxt.RequestTimeout("t")),
                              (OKX_LOOKUP, "order_not_found.json"))
    order = await broker.create_order(BUY_2)
    assert http.count(OKX_CREATE) == 1
    assert http.count("/trade/fills") == 1 and http.count("/account/positions") >= 2
    assert order.status == "rejected" and "not placed" in order.reason
    assert "oktswap6" in order.reason


async def test_not_found_but_filled_is_reported_filled():
    broker, http = okx_broker((OKX_CREATE, ccxt.RequestTimeout("t")),
                              (OKX_LOOKUP, "order_not_found.json"), ("/trade/fills", "fills.json"))
    order = await broker.create_order(BUY_2)
    assert http.count(OKX_CREATE) == 1
    assert (order.status, order.filled, order.average) == ("closed", 2.0, 25000.0)


async def test_failed_lookups_raise_status_unknown_and_never_resend():
    broker, http = okx_broker((OKX_CREATE, ccxt.RequestTimeout("t")),
                              (OKX_LOOKUP, ccxt.RequestTimeout("t")))
    with pytest.raises(OrderStatusUnknown, match="do not resend"):
        await broker.create_order(BUY_2)
    assert http.count(OKX_CREATE) == 1 and http.count(OKX_LOOKUP) == 3


@pytest.mark.parametrize("venue", ["okx", "bybit"])
async def test_duplicate_id_resolves_to_the_first_order(venue):
    if venue == "okx":
        broker, http = okx_broker((OKX_CREATE, "order_duplicate.json"),
                                  (OKX_LOOKUP, "order_details.json"))
        order = await broker.create_order(BUY_2)
        assert order.id == "312269865356374016" and http.count(OKX_CREATE) == 1
    else:
        detail = {"retCode": 0, "retMsg": "OK", "result": {"list": [
            {"orderId": "1321003749386327552", "orderLinkId": "spot-test-postonly",
             "symbol": "BTCUSDT", "side": "Sell", "orderType": "Limit", "price": "70000",
             "qty": "0.01", "cumExecQty": "0", "orderStatus": "New", "createdTime": "1672211918471",
             "updatedTime": "1672211918471", "timeInForce": "PostOnly", "reduceOnly": True}]},
            "retExtInfo": {}, "time": 1672211918471}
        broker, http = broker_for(
            BybitAdapter(),
            [("POST https://api.bybit.com/v5/order/create", "order_duplicate.json"),
             ("/v5/order/realtime", detail), *bybit_rec.ROUTES],
            bybit_rec.EMPTY, [bybit_rec.LINEAR])
        request = OrderRequest(bybit_rec.LINEAR, "sell", "limit", 0.01, 70000.0,
                               client_order_id="spot-test-postonly")
        order = await broker.create_order(request)
        assert order.id == "1321003749386327552" and order.status == "open"
        assert http.count("POST https://api.bybit.com/v5/order/create") == 1


# -- refused before anything is sent ----------------------------------------------


def binance_broker(live=True):
    return broker_for(BinanceUsdmAdapter(), binance_rec.ROUTES, {}, [binance_rec.BTC], live=live)


async def test_below_min_amount_refused_before_sending():
    broker, http = binance_broker()
    with pytest.raises(ValueError, match=r"^amount: .*minimum amount 0.001"):
        await broker.create_order(OrderRequest(binance_rec.BTC, "buy", "limit", 0.0005, 9300.0))
    assert http.requests == []


async def test_below_min_cost_refused_but_reduce_only_close_exempt():
    broker, http = binance_broker()
    # 0.001 BTC x 9300 = 9.30 USDT < MIN_NOTIONAL 100
    with pytest.raises(ValueError, match=r"^min cost: .*9.30 USDT.*minimum 100"):
        await broker.create_order(OrderRequest(binance_rec.BTC, "buy", "limit", 0.001, 9300.0))
    assert http.requests == []
    await broker.create_order(OrderRequest(binance_rec.BTC, "sell", "limit", 0.001, 9300.0,
                                           reduce_only=True))
    assert http.count("POST https://fapi.binance.com/fapi/v1/order") == 1


async def test_amount_and_price_rounded_by_ccxt_precision():
    broker, http = binance_broker()
    await broker.create_order(OrderRequest(binance_rec.BTC, "buy", "limit", 0.0119, 9300.04))
    (sent,) = http.params_of("POST https://fapi.binance.com/fapi/v1/order")
    assert (sent["quantity"], sent["price"]) == ("0.011", "9300")  # step 0.001, tick 0.10


async def test_read_only_account_refuses_orders():
    broker, http = binance_broker(live=False)
    with pytest.raises(PermissionError, match="--live"):
        await broker.create_order(OrderRequest(binance_rec.BTC, "buy", "limit", 0.02, 9300.0))
    assert http.requests == []


@pytest.mark.parametrize("bad", ["has space", "x" * 40, "semi;colon"])
async def test_bad_client_id_refused(bad):
    broker, http = okx_broker()
    with pytest.raises(ValueError, match="^client_order_id"):
        await broker.create_order(OrderRequest(okx_rec.LINEAR, "buy", "limit", 2, 25000.0,
                                               client_order_id=bad))
    assert http.count(OKX_CREATE) == 0


async def test_account_view_from_positions_and_balances():
    creds = Credentials("binanceusdm", "test-key-000", "test-secret-000")
    broker, _ = broker_for(BinanceUsdmAdapter(), [("/fapi/v1/userTrades", "userTrades.json"),
                                                  *binance_rec.ROUTES], {},
                           [binance_rec.BTC, binance_rec.ADA], credentials=creds)
    broker._clock = lambda: 1569514978.02 + 3600  # an hour after the documented trade
    account = await broker.refresh()
    fill = account.fills[-1]  # the documented trade, once (both symbols' polls return it)
    assert len(account.fills) == 1
    assert (fill.symbol, fill.side, fill.amount, fill.price) == (binance_rec.BTC, "sell", 0.002,
                                                                 7819.01)
    assert (fill.fee, fill.fee_currency, fill.order_id) == (-0.0781901, "USDT", "25851813")
    (p,) = account.positions
    assert p.symbol == binance_rec.ADA and p.contracts == 30
    # USDT 23.72469206 + USDC 103.12345678 (marginBalance, upnl already inside)
    assert account.equity_usd == pytest.approx(23.72469206 + 103.12345678)
    assert account.maintenance_margin_usd == pytest.approx(0.0800428)


async def test_run_polls_the_account_into_the_sink_and_close_is_sync():
    broker, _ = broker_for(BinanceUsdmAdapter(), binance_rec.ROUTES, {}, [binance_rec.ADA])
    accounts = []
    sink = SimpleNamespace(on_account=accounts.append)
    task = asyncio.ensure_future(broker.run(sink, poll_s=0))
    for _ in range(200):
        await asyncio.sleep(0)
        if accounts:
            break
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert accounts and accounts[0].venue == "binanceusdm"
    assert accounts[0].positions[0].symbol == binance_rec.ADA
    broker.close()  # the app calls close() without awaiting: no warning, no error
    await asyncio.sleep(0)


def test_make_broker_is_live_after_opt_in_and_read_only_on_request():
    from cockpit.venues.registry import make_broker
    from tests.venues.recorded_http import FAKE_CREDENTIALS

    assert make_broker("okx", cfg([], live=False), FAKE_CREDENTIALS).live is True
    assert make_broker("okx", cfg([], live=True), FAKE_CREDENTIALS, live=False).live is False


async def test_bybit_positions_one_symbol_per_request():
    broker, http = broker_for(BybitAdapter(), bybit_rec.ROUTES, bybit_rec.EMPTY,
                              [bybit_rec.LINEAR, bybit_rec.INVERSE])
    (p,) = await broker.fetch_positions()  # ccxt refuses a list of two for bybit
    assert p.symbol == bybit_rec.INVERSE and p.contracts == -300
    assert [q["symbol"] for q in http.params_of("/v5/position/list")] == ["BTCUSDT", "BTCUSD"]


def test_okx_429_reads_as_rate_limit():
    okx = OkxAdapter()
    assert okx.is_rate_limited(ccxt.ExchangeNotAvailable('okx 429 {"msg":"Too Many Requests"}'))
    assert okx.is_rate_limited(ccxt.RateLimitExceeded("okx 50011"))
    assert not okx.is_rate_limited(ccxt.ExchangeNotAvailable("okx 503 maintenance"))


async def test_binance_timeout_looked_up_by_orig_client_order_id():
    create = "POST https://fapi.binance.com/fapi/v1/order"
    lookup = "GET https://fapi.binance.com/fapi/v1/order?"
    broker, http = broker_for(BinanceUsdmAdapter(),
                              [(create, ccxt.RequestTimeout("t")), (lookup, "order_new.json"),
                               *binance_rec.ROUTES], {}, [binance_rec.BTC])
    order = await broker.create_order(OrderRequest(binance_rec.BTC, "buy", "limit", 0.011, 9300.0,
                                                   client_order_id="testOrder"))
    assert http.count(create) == 1
    assert http.params_of(lookup)[0]["origClientOrderId"] == "testOrder"
    assert (order.id, order.status) == ("22542179", "open")


async def test_bybit_timeout_looked_up_by_order_link_id():
    create = "POST https://api.bybit.com/v5/order/create"
    detail = {"retCode": 0, "retMsg": "OK", "result": {"list": [
        {"orderId": "1321003749386327552", "orderLinkId": "spot-test-postonly",
         "symbol": "BTCUSDT", "side": "Sell", "orderType": "Limit", "price": "70000",
         "qty": "0.01", "cumExecQty": "0", "orderStatus": "New", "createdTime": "1672211918471",
         "updatedTime": "1672211918471", "timeInForce": "PostOnly", "reduceOnly": True}]},
        "retExtInfo": {}, "time": 1672211918471}
    broker, http = broker_for(BybitAdapter(),
                              [(create, ccxt.RequestTimeout("t")), ("/v5/order/realtime", detail),
                               *bybit_rec.ROUTES], bybit_rec.EMPTY, [bybit_rec.LINEAR])
    order = await broker.create_order(OrderRequest(bybit_rec.LINEAR, "sell", "limit", 0.01,
                                                   70000.0, client_order_id="spot-test-postonly"))
    assert http.count(create) == 1
    assert http.params_of("/v5/order/realtime")[0]["orderLinkId"] == "spot-test-postonly"
    assert (order.id, order.status) == ("1321003749386327552", "open")


async def test_deribit_timeout_looked_up_by_label():
    # docs.deribit.com private/get_order_state_by_label example response
    state = {"jsonrpc": "2.0", "id": 4316, "result": [{
        "time_in_force": "good_til_cancelled", "reduce_only": False, "price": 118.94,
        "post_only": False, "order_type": "limit", "order_state": "filled", "order_id": "ETH-331562",
        "max_show": 37, "last_update_timestamp": 1550219810944, "label": "fooBar",
        "is_rebalance": False, "is_liquidation": False, "instrument_name": "ETH-PERPETUAL",
        "filled_amount": 37, "direction": "sell", "creation_timestamp": 1550219749176,
        "average_price": 118.94, "api": False, "amount": 37}]}
    broker, http = broker_for(DeribitAdapter(),
                              [("private/sell", ccxt.RequestTimeout("t")),
                               ("get_order_state_by_label", state), *deribit_rec.ROUTES],
                              {"jsonrpc": "2.0", "result": []}, ["ETH/USD:ETH"])
    order = await broker.create_order(OrderRequest("ETH/USD:ETH", "sell", "limit", 37, 118.94,
                                                   client_order_id="fooBar"))
    assert http.count("private/sell") == 1
    assert http.params_of("get_order_state_by_label")[0] == {"currency": "ETH", "label": "fooBar"}
    assert (order.id, order.status, order.filled, order.client_order_id) == (
        "ETH-331562", "closed", 37.0, "fooBar")


async def test_a_cross_accounts_margin_is_the_venues_account_level_figure():
    """OKX's documented balance reply holds imr 8.57068529 and mmr 0.3428274116 USD for
    the account (open-order margin included): with no position, the account shows
    them, not the positions' sum of 0."""
    broker, _ = okx_broker()
    account = await broker.refresh()
    assert account.positions == ()
    assert account.initial_margin_usd == pytest.approx(8.57068529)
    assert account.maintenance_margin_usd == pytest.approx(0.3428274116)


def test_deribit_account_margin_is_per_coin_at_its_usd_price():
    from cockpit.venues.account_margin import account_margin_usd

    info = {"result": {"summaries": [
        {"currency": "BTC", "initial_margin": 0.02, "maintenance_margin": 0.015},
        {"currency": "ETH", "initial_margin": 0, "maintenance_margin": 0},
        {"currency": "USDC", "initial_margin": 100.0, "maintenance_margin": 50.0},
    ]}}
    im, mm = account_margin_usd("deribit", info, {"BTC": 90_000.0})
    assert (im, mm) == pytest.approx((0.02 * 90_000 + 100.0, 0.015 * 90_000 + 50.0))
    # a coin with margin but no price: no figure, rather than a wrong one
    assert account_margin_usd("deribit", info, {}) is None
    assert account_margin_usd("okx", {"data": [{"imr": "", "mmr": ""}]}, {}) is None
