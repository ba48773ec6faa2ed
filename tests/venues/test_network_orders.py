"""Orders and the dead-man switch over the real network path against the fake OKX on
127.0.0.1: engineer A's CcxtBroker, ccxt's signing/aiohttp/error mapping, our
DeadManSwitch. A lost acknowledgement must lead to a look-up, never a second order.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from cockpit.model import OrderRequest
from cockpit.venues.ccxt_base import build_exchange
from cockpit.venues.deadman import DeadManSwitch
from cockpit.venues.live_broker import CcxtBroker, OrderStatusUnknown
from cockpit.venues.okx import OkxAdapter
from tests.venues.fakevenue import SYMBOL, FakeOkx

CREDS = SimpleNamespace(api_key="fake-key", secret="fake-secret", password="fake-pass")
CLIENT_TIMEOUT_MS = 800


@pytest.fixture
async def srv():
    server = FakeOkx(seed=7)
    await server.start()
    yield server
    await server.close()


def okx_broker(srv: FakeOkx) -> CcxtBroker:
    exchange = build_exchange(OkxAdapter(), srv.cfg(), CREDS)
    exchange.enableRateLimit = False
    exchange.timeout = CLIENT_TIMEOUT_MS  # ccxt's per-request timeout, ms
    return CcxtBroker(OkxAdapter(), srv.cfg(), CREDS, exchange=exchange)


def limit_buy(cid: str = "") -> OrderRequest:
    return OrderRequest(SYMBOL, "buy", "limit", 1.0, price=39000.0, client_order_id=cid)


async def test_1000_submits_with_30pct_lost_acks_make_0_duplicates(srv):
    srv.ack_loss = 0.30
    srv.ack_delay_s = 2 * CLIENT_TIMEOUT_MS / 1000  # held past the client's timeout
    broker = okx_broker(srv)
    try:
        in_flight = asyncio.Semaphore(50)  # up to 50 submits in flight at once

        async def submit():
            async with in_flight:
                return await broker.create_order(limit_buy())

        results = await asyncio.gather(*(submit() for _ in range(1000)), return_exceptions=True)
    finally:
        await broker._ex.close()
    # On a loaded machine a look-up can time out too, three times over: the broker then
    # says "status unknown, do not resend" (OrderStatusUnknown) - safe, and must be rare.
    unknown = [r for r in results if isinstance(r, OrderStatusUnknown)]
    orders = [r for r in results if not isinstance(r, OrderStatusUnknown)]
    assert all(not isinstance(r, BaseException) for r in orders), orders
    assert len(unknown) <= 10
    # Each client id reached the venue at most once: nothing was re-sent, so nothing
    # can be duplicated. (Under load a few POSTs may time out before the server sees
    # them; those are ambiguous too, looked up, and correctly reported "not placed".)
    assert srv.duplicate_posts == 0
    assert srv.order_posts == len(srv.orders) >= 990
    # about 30% of acknowledgements were lost (seeded), each resolved by a look-up
    assert 250 <= srv.lost_acks <= 350
    lookups = sum(1 for m, p in srv.requests if m == "GET" and p == "/api/v5/trade/order")
    assert lookups >= srv.lost_acks
    # every submit came back as exactly what the venue holds for its client id
    assert len({o.client_order_id for o in orders}) == len(orders)
    for o in orders:
        held = srv.orders.get(o.client_order_id)
        if held is None:
            assert o.status == "rejected" and "not placed" in o.reason
        else:
            assert o.id == held["ordId"] and o.status == "open"
    # every order the venue holds was reported open, or is one of the "unknown" few
    n_open = sum(o.status == "open" for o in orders)
    assert n_open <= len(srv.orders) <= n_open + len(unknown)


async def test_resending_a_landed_client_id_resolves_to_the_first_order(srv):
    broker = okx_broker(srv)
    try:
        first = await broker.create_order(limit_buy("ck0000000001"))
        again = await broker.create_order(limit_buy("ck0000000001"))  # e.g. a user retry
    finally:
        await broker._ex.close()
    assert srv.duplicate_posts == 1 and len(srv.orders) == 1  # venue refused it: 51016
    assert again.id == first.id and again.client_order_id == "ck0000000001"


class FakeClock:
    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def __call__(self) -> float:
        return self.t

    async def sleep(self, dt: float) -> None:
        self.t += dt
        await asyncio.sleep(0.001)  # real network calls need the loop to turn


async def test_okx_dead_man_refreshes_every_quarter_timeout_and_disarms_on_clean_exit(srv):
    broker = okx_broker(srv)
    clock = FakeClock()
    arm_times: list[float] = []

    async def arm(timeout_s: float) -> None:
        await broker.arm_dead_man(timeout_s)
        arm_times.append(clock.t)

    switch = DeadManSwitch("okx", 60.0, arm, broker.disarm_dead_man, clock, clock.sleep)
    try:
        switch.set_resting(True)
        task = asyncio.ensure_future(switch.run())
        for _ in range(2000):  # bounded
            if len(arm_times) >= 5:
                break
            await asyncio.sleep(0.005)
        assert switch.status() is not None and switch.status().startswith("armed 60s")
        await switch.close()
        await asyncio.wait_for(task, 5)
    finally:
        await broker._ex.close()
    gaps = [b - a for a, b in zip(arm_times, arm_times[1:], strict=False)]
    assert gaps[:4] == pytest.approx([15.0] * 4)  # 60 s timeout / 4
    sent = [timeout for _, timeout in srv.cancel_all_after]
    # OKX cancel-all-after takes seconds: 60 on every refresh, then 0 (off) once, at exit
    assert set(sent[:-1]) == {"60"} and sent[-1] == "0"
    assert switch.status() is None


async def test_crash_does_not_disarm_the_venue_timer(srv):
    broker = okx_broker(srv)
    clock = FakeClock()
    switch = DeadManSwitch("okx", 60.0, broker.arm_dead_man, broker.disarm_dead_man, clock,
                           clock.sleep)
    try:
        switch.set_resting(True)
        task = asyncio.ensure_future(switch.run())
        for _ in range(2000):
            if srv.cancel_all_after:
                break
            await asyncio.sleep(0.005)
        task.cancel()  # the cockpit dies: no clean exit
        await asyncio.gather(task, return_exceptions=True)
    finally:
        await broker._ex.close()
    assert srv.cancel_all_after and all(t != "0" for _, t in srv.cancel_all_after)


async def test_broker_arms_once_an_order_rests_refreshes_and_disarms_on_clean_exit(srv):
    """Engineer A's CcxtBroker with its built-in switch, end to end over HTTP. The
    switch task runs alone (not under broker.run's account poll) so the fake clock
    is moved by the switch's own sleeps only."""
    clock = FakeClock()
    srv.clock = clock
    exchange = build_exchange(OkxAdapter(), srv.cfg(), CREDS)
    exchange.enableRateLimit = False
    broker = CcxtBroker(OkxAdapter(), srv.cfg(), CREDS, exchange=exchange, clock=clock,
                        sleep=clock.sleep, dead_man_timeout_s=40.0)
    switch = asyncio.ensure_future(broker.dead_man.run())
    try:
        for _ in range(50):
            await asyncio.sleep(0.002)
        assert srv.cancel_all_after == []  # nothing rests: nothing armed
        assert broker.dead_man_status() is None
        await broker.create_order(limit_buy())  # rests: the broker tells the switch
        for _ in range(2000):  # bounded
            if len(srv.cancel_all_after) >= 4:
                break
            await asyncio.sleep(0.002)
        status = broker.dead_man_status()
        assert status is not None and status.startswith("armed 40s, refreshed ")
    finally:
        switch.cancel()  # a crash: cancelling alone leaves the venue switch armed
        await asyncio.gather(switch, return_exceptions=True)
        assert all(t != "0" for _, t in srv.cancel_all_after)
        await broker.aclose(disarm_dead_man=True)  # the clean exit, choosing to leave it
    first_post = srv.requests.index(("POST", "/api/v5/trade/batch-orders"))
    first_arm = srv.requests.index(("POST", "/api/v5/trade/cancel-all-after"))
    assert first_arm > first_post  # armed only once an order rested
    arms = [t for t, timeout in srv.cancel_all_after if timeout == "40"]
    gaps = [b - a for a, b in zip(arms, arms[1:], strict=False)]
    assert gaps[:3] == pytest.approx([10.0] * 3)  # 40 s / 4, on the broker's clock
    assert srv.cancel_all_after[-1][1] == "0"  # disarmed once, at the clean exit
    assert sum(1 for _, t in srv.cancel_all_after if t == "0") == 1
