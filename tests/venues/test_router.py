"""The order router of a multi-venue session (``cockpit.venues.router``): each call goes
to the broker of the key's venue, and a live broker hears its venue's own symbols."""

from __future__ import annotations

import pytest

from cockpit.model import Account, Order, OrderRequest
from cockpit.venues.base import Broker
from cockpit.venues.router import NativeBroker, Router


def _order(oid: str, symbol: str) -> Order:
    return Order(oid, "c" + oid, symbol, "buy", "limit", 1.0, 100.0, 0.0, None, "open",
                 False, False, 0)


class Recorder(Broker):
    """A broker that keeps what it was asked and rests what it was sent."""

    def __init__(self, venue: str) -> None:
        self.name, self.calls, self.resting = venue, [], []

    async def create_order(self, request):
        self.calls.append(("create", request.symbol))
        o = _order(f"{self.name}{len(self.resting)}", request.symbol)
        self.resting.append(o)
        return o

    async def cancel_order(self, order_id, symbol=None):
        self.calls.append(("cancel", order_id, symbol))
        (o,) = [o for o in self.resting if o.id == order_id]
        self.resting.remove(o)
        return o

    async def cancel_all_orders(self, symbol=None):
        out, self.resting = self.resting, []
        return out

    async def fetch_open_orders(self, symbol=None):
        return list(self.resting)

    async def fetch_positions(self):
        return []

    async def fetch_balance(self):
        return []

    async def fetch_my_trades(self, since_ms=None):
        return []

    def account(self):
        return Account(self.name, 0, open_orders=tuple(self.resting), equity_usd=1000.0)


async def test_orders_go_to_their_venue_and_cancels_find_their_order():
    okx, sim = Recorder("okx"), Recorder("sim")
    router = Router({"sim": sim, "okx": okx})
    await router.create_order(OrderRequest("BTC/USDT:USDT@okx", "buy", "limit", 1, 100.0))
    await router.create_order(OrderRequest("BTC/USDT:USDT@sim", "buy", "limit", 1, 100.0))
    assert okx.calls == [("create", "BTC/USDT:USDT@okx")]
    assert sim.calls == [("create", "BTC/USDT:USDT@sim")]
    await router.cancel_order("okx0")  # no symbol: the venue holding it is found
    assert okx.calls[-1] == ("cancel", "okx0", None) and len(sim.calls) == 1
    assert router.account().equity_usd == 2000.0
    assert [o.symbol for o in await router.cancel_all_orders()] == ["BTC/USDT:USDT@sim"]


async def test_a_key_of_no_venue_in_the_session_is_one_clear_line():
    router = Router({"sim": Recorder("sim")})
    with pytest.raises(ValueError, match="no venue 'okx' in this session"):
        await router.create_order(OrderRequest("BTC/USDT:USDT@okx", "buy", "market", 1))


async def test_a_live_broker_hears_its_own_symbols_and_answers_in_keys():
    inner = Recorder("okx")
    live = NativeBroker("okx", inner)
    o = await live.create_order(OrderRequest("BTC/USDT:USDT@okx", "buy", "limit", 1, 100.0))
    assert inner.calls == [("create", "BTC/USDT:USDT")]  # the venue's own name
    assert o.symbol == "BTC/USDT:USDT@okx"
    assert [x.symbol for x in live.account().open_orders] == ["BTC/USDT:USDT@okx"]
    await live.cancel_order(o.id, o.symbol)
    assert inner.calls[-1] == ("cancel", o.id, "BTC/USDT:USDT")
