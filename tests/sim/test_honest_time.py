"""Honest time: the built-in market advances by the wall clock times the
acceleration, so late ticks do not slow it, and when it cannot keep up (a
stalled loop) it says by how much. The wall clock is injected: no timing here."""

from __future__ import annotations

import pytest

from cockpit.model import Bars
from cockpit.venues.sim import MAX_STEP_S, SimFeed, SimMarket

from .conftest import START_MS

HOUR_MS = 3_600_000


class FakeWall:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def feed_at(acceleration: float, tick_hz: float = 10.0) -> tuple[SimFeed, FakeWall]:
    wall = FakeWall()
    market = SimMarket(seed=2, tick_hz=tick_hz, acceleration=acceleration, start_ms=START_MS,
                       history_bars=100)
    return SimFeed(market, wall=wall), wall


def test_late_ticks_still_move_the_market_at_the_requested_rate():
    feed, wall = feed_at(3600.0)  # nominal tick: 0.1 s wall = 6 simulated minutes
    feed.timed_step()  # the first step is one nominal tick
    start = feed.now_ms()
    for _ in range(20):  # the loop only manages a tick every 0.5 s
        wall.now += 0.5
        feed.timed_step()
    assert feed.now_ms() - start == 10 * HOUR_MS  # 10 simulated hours in 10 s
    assert feed.achieved_acceleration == pytest.approx(3600.0)
    assert feed.speed_ratio == pytest.approx(1.0) and not feed.running_slow


def test_hour_closes_inside_long_timed_steps_each_publish_bars():
    feed, wall = feed_at(3600.0)
    feed.timed_step()
    start = feed.now_ms()
    closed = []
    for _ in range(3):  # 54 simulated minutes a step
        wall.now += 0.9
        closed += [u for u in feed.timed_step() if isinstance(u, Bars)]
    hours_crossed = feed.now_ms() // HOUR_MS - start // HOUR_MS
    assert hours_crossed >= 2
    assert len(closed) == 2 * hours_crossed  # BTC and ETH, once per hour crossed
    assert all(b.ts_ms[-1] % HOUR_MS == 0 for b in closed)


def test_a_stalled_loop_makes_the_market_slow_and_says_by_how_much():
    feed, wall = feed_at(3600.0)
    feed.timed_step()
    before = feed.now_ms()
    wall.now += 10.0  # the event loop was blocked for 10 s
    feed.timed_step()
    assert feed.now_ms() - before == MAX_STEP_S * 3600 * 1000  # not 10 simulated hours at once
    assert feed.speed_ratio == pytest.approx(MAX_STEP_S / 10.0)
    assert feed.achieved_acceleration == pytest.approx(3600.0 * MAX_STEP_S / 10.0)
    assert feed.running_slow
    ratio = MAX_STEP_S / 10.0  # the status bar's venue line says so, with both rates
    assert feed.status_note() == (f"RUNNING SLOW: {3600 * ratio:,.0f}x of 3,600x asked "
                                  f"({ratio:.0%})")
    for _ in range(60):  # back to normal for more than the measuring window
        wall.now += 0.1
        feed.timed_step()
    assert feed.speed_ratio == pytest.approx(1.0) and not feed.running_slow
    assert feed.status_note() == "simulated market"


def test_rate_is_unknown_until_a_second_has_passed():
    feed, wall = feed_at(1.0)
    feed.timed_step()
    wall.now += 0.5
    feed.timed_step()
    assert feed.achieved_acceleration is None and feed.speed_ratio is None
    assert not feed.running_slow


def test_sub_millisecond_steps_add_up_and_default_ticks_continue_from_there():
    market = SimMarket(seed=2, tick_hz=10.0, acceleration=1.0, start_ms=START_MS,
                       history_bars=100)
    for _ in range(1000):
        market.step(0.0004)  # 0.4 ms each: the clock must not stall at 0 nor round up
    assert market.now_ms() == START_MS + 400
    market.step()  # a default tick is 0.1 s from where the market is, not from start
    assert market.now_ms() == START_MS + 500
    with pytest.raises(ValueError, match="sim_seconds"):
        market.step(-1.0)
