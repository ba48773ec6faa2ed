"""Amending a resting limit through ccxt ``edit_order`` against the fake OKX on
127.0.0.1: the body OKX documents for POST /api/v5/trade/amend-order (instId, ordId,
newSz, newPx as strings), the client id kept, and the venue's refusals as one line."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from cockpit.model import OrderRequest
from cockpit.venues.ccxt_base import build_exchange
from cockpit.venues.live_broker import CcxtBroker
from cockpit.venues.okx import OkxAdapter
from tests.venues.fakevenue import INST_ID, RECORDED, SYMBOL, FakeOkx

CREDS = SimpleNamespace(api_key="fake-key", secret="fake-secret", password="fake-pass")


@pytest.fixture
async def srv():
    server = FakeOkx(seed=3)
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def broker(srv):
    exchange = build_exchange(OkxAdapter(), srv.cfg(), CREDS)
    exchange.enableRateLimit = False
    b = CcxtBroker(OkxAdapter(), srv.cfg(), CREDS, exchange=exchange)
    yield b
    await b._ex.close()


def _spec() -> dict:
    data = json.loads((RECORDED / "instruments_swap.json").read_text())["data"]
    return next(i for i in data if i["instId"] == INST_ID)


async def test_amend_sends_okx_body_and_keeps_client_id(srv, broker):
    order = await broker.create_order(OrderRequest(SYMBOL, "buy", "limit", 1.0, 39000.0,
                                                   client_order_id="ckamend00001"))
    sz_sent = srv.orders["ckamend00001"]["sz"]
    amended = await broker.amend_order(order.id, SYMBOL, price=39050.5, amount=2.0)
    [body] = srv.amend_bodies
    assert body["instId"] == INST_ID and body["ordId"] == order.id
    # OKX sizes are in contracts of ctVal coin: 2 of ours are twice what 1 was sent as
    assert float(body["newSz"]) == pytest.approx(2 * float(sz_sent))
    assert body["newPx"] == "39050.5"
    held = srv.orders["ckamend00001"]
    assert (held["px"], held["state"]) == ("39050.5", "live")
    assert amended.id == order.id and amended.client_order_id == "ckamend00001"
    assert amended.price == pytest.approx(39050.5)
    assert amended.amount == pytest.approx(2.0) and amended.status == "open"
    assert [o.price for o in broker.resting_orders()] == [pytest.approx(39050.5)]


async def test_amend_price_only_sends_the_same_size(srv, broker):
    order = await broker.create_order(OrderRequest(SYMBOL, "buy", "limit", 1.0, 39000.0,
                                                   client_order_id="ckamend00002"))
    await broker.amend_order(order.id, SYMBOL, price=38990.0)
    [body] = srv.amend_bodies
    assert body["newSz"] == srv.orders["ckamend00002"]["sz"] and body["newPx"] == "38990"


async def test_price_off_the_tick_is_refused_before_any_request(srv, broker):
    tick = float(_spec()["tickSz"])
    order = await broker.create_order(OrderRequest(SYMBOL, "buy", "limit", 1.0, 39000.0))
    with pytest.raises(ValueError) as err:
        await broker.amend_order(order.id, SYMBOL, price=39000.0 + tick / 3)
    assert "not on" in str(err.value) and "tick" in str(err.value)
    assert "\n" not in str(err.value) and srv.amend_bodies == []


async def test_an_order_gone_at_the_venue_is_refused_in_one_line(srv, broker):
    order = await broker.create_order(OrderRequest(SYMBOL, "buy", "limit", 1.0, 39000.0,
                                                   client_order_id="ckamend00003"))
    srv.orders["ckamend00003"]["state"] = "filled"  # filled at the venue meanwhile
    with pytest.raises(ValueError) as err:
        await broker.amend_order(order.id, SYMBOL, price=39010.0)
    assert "not resting any more" in str(err.value) and "\n" not in str(err.value)
    assert len(srv.amend_bodies) == 1  # asked once, the venue said 51503
