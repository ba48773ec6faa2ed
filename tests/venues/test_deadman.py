"""Dead-man switch cadence on a fake clock: armed while orders rest, refreshed at a
quarter of the timeout, disarmed only on a clean exit, Bybit shown armed only while
its dcp subscription is live."""

from __future__ import annotations

import asyncio

import pytest

from cockpit.venues.deadman import DeadManSwitch

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC (date -u -d @1700000000)


class FakeVenue:
    """Records arm/disarm calls on the fake clock; can be told to fail."""

    def __init__(self, clock) -> None:
        self.clock = clock
        self.arms: list[tuple[float, float]] = []  # (clock time, timeout_s)
        self.disarms: list[float] = []
        self.fail_from: float | None = None
        self.dcp_live = True

    async def arm(self, timeout_s: float) -> None:
        if self.fail_from is not None and self.clock.t >= self.fail_from:
            raise ConnectionError("venue unreachable")
        self.arms.append((self.clock.t, timeout_s))

    async def disarm(self) -> None:
        self.disarms.append(self.clock.t)


class FakeClock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> float:
        return self.t

    async def sleep(self, dt: float) -> None:
        self.t += dt
        await asyncio.sleep(0)


async def run_until(clock: FakeClock, switch: DeadManSwitch, until: float) -> asyncio.Task:
    task = asyncio.ensure_future(switch.run())
    for _ in range(100_000):  # bounded: the fake sleep moves time on every yield
        if clock.t >= until:
            break
        await asyncio.sleep(0)
    return task


def make(timeout_s=60.0, **kw):
    clock = FakeClock()
    venue = FakeVenue(clock)
    switch = DeadManSwitch("okx", timeout_s, venue.arm, venue.disarm, clock, clock.sleep, **kw)
    return clock, venue, switch


async def test_refreshes_at_a_quarter_of_the_timeout_while_orders_rest():
    clock, venue, switch = make(60.0)
    switch.set_resting(True)
    task = await run_until(clock, switch, T0 + 300)
    times = [t - T0 for t, _ in venue.arms]
    # 60 s timeout -> refresh every 15 s: 0, 15, 30, ..., 285 s (and 300 s once due).
    assert times[:20] == pytest.approx([15.0 * k for k in range(20)])
    assert len(times) <= 21
    assert all(timeout == 60.0 for _, timeout in venue.arms)
    assert venue.disarms == []
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_status_shows_timeout_and_last_refresh_in_utc():
    clock, venue, switch = make(60.0)
    assert switch.status() is None  # nothing armed yet
    switch.set_resting(True)
    await switch.step()
    assert switch.status() == "armed 60s, refreshed 22:13:20 UTC"
    clock.t += 15
    await switch.step()
    assert switch.status() == "armed 60s, refreshed 22:13:35 UTC"


async def test_not_armed_until_orders_rest():
    clock, venue, switch = make(60.0)
    task = await run_until(clock, switch, T0)  # starts, waits for resting orders
    for _ in range(50):
        await asyncio.sleep(0)
    assert venue.arms == [] and switch.status() is None
    rested_at = clock.t
    switch.set_resting(True)
    for _ in range(50):
        await asyncio.sleep(0)
    assert venue.arms[0][0] == rested_at  # armed as soon as an order rests
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_crash_leaves_it_armed_and_the_venue_timer_fires():
    clock, venue, switch = make(60.0)
    switch.set_resting(True)
    task = await run_until(clock, switch, T0 + 40)
    task.cancel()  # the process dies: no clean exit
    await asyncio.gather(task, return_exceptions=True)
    assert venue.disarms == []
    last = venue.arms[-1][0]
    clock.t = last + 59
    assert switch.status() is not None  # the venue timer is still running
    clock.t = last + 60
    assert switch.status() is None  # it has fired; the orders are gone


async def test_clean_exit_disarms_once():
    clock, venue, switch = make(60.0)
    switch.set_resting(True)
    task = await run_until(clock, switch, T0 + 20)
    await switch.close()
    await asyncio.wait_for(task, 1.0)
    assert venue.disarms == [clock.t]
    assert switch.status() is None
    n = len(venue.arms)
    assert await switch.step() == float("inf") and len(venue.arms) == n  # no refresh after exit


async def test_clean_exit_without_ever_arming_sends_nothing():
    _, venue, switch = make(60.0)
    await switch.close()
    assert venue.disarms == [] and venue.arms == []


async def test_bybit_shown_armed_only_while_dcp_subscription_is_live():
    clock = FakeClock()
    venue = FakeVenue(clock)
    switch = DeadManSwitch("bybit", 40.0, venue.arm, venue.disarm, clock, clock.sleep,
                           ready=lambda: venue.dcp_live)
    switch.set_resting(True)
    await switch.step()
    assert switch.status() == "armed 40s, refreshed 22:13:20 UTC"
    venue.dcp_live = False  # private websocket dropped: Bybit would not fire
    assert switch.status() is None
    venue.dcp_live = True
    assert switch.status() is not None


async def test_failed_refreshes_are_retried_and_it_shows_unarmed_once_the_timer_ran_out():
    clock, venue, switch = make(60.0)
    switch.set_resting(True)
    assert await switch.step() == 15.0
    venue.fail_from = T0 + 1
    for k in range(1, 4):  # refreshes at +15, +30, +45 fail; the +0 arm still covers us
        clock.t = T0 + 15 * k
        assert await switch.step() == 15.0
        assert switch.failures == k
        assert switch.status() is not None
    assert "ConnectionError" in switch.last_error
    clock.t = T0 + 60
    assert switch.status() is None
    venue.fail_from = None
    await switch.step()
    assert switch.status() == "armed 60s, refreshed 22:14:20 UTC"


def test_bad_timeout_names_the_argument():
    async def noop(*_):
        return None

    with pytest.raises(ValueError, match="timeout_s"):
        DeadManSwitch("okx", 0, noop, noop)


async def test_bybit_adapter_dcp_subscription_gates_the_status():
    """With engineer A's Bybit adapter: armed only while its private 'dcp' websocket
    subscription runs; when that socket drops, the status says not armed at once."""
    from cockpit.venues.bybit import BybitAdapter

    class FakeBybitPro:  # the ccxt.pro calls subscribe_dcp makes
        def __init__(self):
            self.dropped = asyncio.Event()
            self.topics = []

        async def get_url_by_market_type(self, *args):
            return "wss://stream.bybit.invalid/v5/private"

        async def authenticate(self, url):
            return None

        async def watch_topics(self, url, hashes, topics, params):
            self.topics.append(tuple(topics))
            await self.dropped.wait()  # subscribed until the socket goes
            raise ConnectionError("private socket closed")

    adapter = BybitAdapter()
    clock = FakeClock()
    venue = FakeVenue(clock)
    switch = DeadManSwitch("bybit", 40.0, venue.arm, venue.disarm, clock, clock.sleep,
                           ready=adapter.dead_man_live)
    switch.set_resting(True)
    await switch.step()
    assert switch.armed and switch.status() is None  # REST arm alone does not count
    pro = FakeBybitPro()
    adapter.start_dcp(pro)
    for _ in range(10):
        await asyncio.sleep(0)
    assert pro.topics == [("dcp",)]
    assert switch.status() == "armed 40s, refreshed 22:13:20 UTC"
    pro.dropped.set()
    for _ in range(10):
        await asyncio.sleep(0)
    assert switch.status() is None
