"""Resilience primitives: what keeps a venue connection honest when the venue is not.

Expected values are hand computations written out below, or properties that
must hold for any input (hypothesis).
"""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.venues.resilience import (
    Backoff,
    BookContinuity,
    RateLimiter,
    Watchdog,
    clock_skew_ms,
    key_id_for,
    rate_limiter_for,
)


class FakeClock:
    """Seconds; advanced only by the test or by the fake sleep. Like real sleeps,
    concurrent fake sleeps overlap: each ends at (time it began + its duration)."""

    def __init__(self, t: float = 1000.0) -> None:
        self.t = t
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.t

    async def sleep(self, dt: float) -> None:
        self.sleeps.append(dt)
        wake = self.t + dt
        await asyncio.sleep(0)
        self.t = max(self.t, wake)


# ---------------------------------------------------------------- Backoff


def test_backoff_without_jitter_doubles_from_base_up_to_cap():
    # base 0.5, factor 2: 0.5, 1, 2, 4, 8, 16, then 32 > cap 30 -> 30, 30.
    b = Backoff(base_s=0.5, cap_s=30.0, factor=2.0, jitter=0.0)
    assert [b.next_delay() for _ in range(8)] == [0.5, 1, 2, 4, 8, 16, 30, 30]


def test_backoff_reset_starts_again_at_base():
    b = Backoff(base_s=0.5, jitter=0.0)
    for _ in range(5):
        b.next_delay()
    b.reset()
    assert b.next_delay() == 0.5


def test_backoff_jitter_spreads_clients_apart():
    # Ten clients failing together must not all retry at the same instant.
    firsts = {Backoff(jitter=1.0, rng=random.Random(seed)).next_delay() for seed in range(10)}
    assert len(firsts) == 10


def test_backoff_same_seed_same_delays():
    a = Backoff(rng=random.Random(7))
    b = Backoff(rng=random.Random(7))
    assert [a.next_delay() for _ in range(20)] == [b.next_delay() for _ in range(20)]


def test_backoff_survives_thousands_of_failures():
    # A venue down all weekend: 2**5000 would overflow a float.
    b = Backoff(base_s=0.5, cap_s=30.0, jitter=0.0)
    b.attempts = 5000
    assert b.next_delay() == 30.0


@settings(max_examples=60, deadline=None)
@given(
    base=st.floats(0.01, 5),
    cap_mult=st.floats(1, 100),
    factor=st.floats(1, 4),
    jitter=st.floats(0, 1),
    seed=st.integers(0, 2**32 - 1),
)
def test_backoff_delays_stay_in_jitter_band_under_cap(base, cap_mult, factor, jitter, seed):
    cap = base * cap_mult
    b = Backoff(base_s=base, cap_s=cap, factor=factor, jitter=jitter, rng=random.Random(seed))
    envelope_prev = 0.0
    for n in range(40):
        env = min(cap, base * factor**n)
        d = b.next_delay()
        assert env * (1 - jitter) - 1e-12 <= d <= env + 1e-12
        assert d <= cap + 1e-12
        assert b.envelope_s(n) >= envelope_prev  # never shrinks while failing
        envelope_prev = b.envelope_s(n)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"base_s": 0}, "base_s"),
        ({"base_s": float("nan")}, "base_s"),
        ({"cap_s": 0.1}, "cap_s"),
        ({"factor": 0.5}, "factor"),
        ({"jitter": 1.5}, "jitter"),
    ],
)
def test_backoff_bad_arguments_name_the_argument(kwargs, word):
    with pytest.raises(ValueError, match=word):
        Backoff(**kwargs)


# ---------------------------------------------------------------- RateLimiter


async def test_rate_limiter_allows_a_burst_then_paces_at_the_rate():
    clock = FakeClock()
    lim = RateLimiter(rate_per_s=10, burst=5, clock=clock, sleep=clock.sleep)
    t0 = clock.t
    for _ in range(5):
        await lim.acquire()
    assert clock.t == t0  # the burst goes out at once
    for _ in range(10):
        await lim.acquire()
    # 10 more requests at 10/s after the bucket is empty: 1.0 s of waiting.
    assert clock.t - t0 == pytest.approx(1.0)


async def test_rate_limiter_refills_while_idle_but_not_beyond_burst():
    clock = FakeClock()
    lim = RateLimiter(rate_per_s=2, burst=4, clock=clock, sleep=clock.sleep)
    for _ in range(4):
        await lim.acquire()
    assert lim.tokens() == pytest.approx(0)
    clock.t += 1.0  # 2 tokens back
    assert lim.tokens() == pytest.approx(2)
    clock.t += 100.0
    assert lim.tokens() == pytest.approx(4)


async def test_rate_limiter_cost_counts_weighted_endpoints():
    clock = FakeClock()
    lim = RateLimiter(rate_per_s=5, burst=5, clock=clock, sleep=clock.sleep)
    await lim.acquire(cost=5)
    await lim.acquire(cost=2.5)  # waits 2.5 tokens / 5 per s = 0.5 s
    assert sum(clock.sleeps) == pytest.approx(0.5)


@settings(max_examples=30, deadline=None)
@given(
    rate=st.floats(0.5, 50),
    burst=st.integers(1, 20),
    gaps=st.lists(st.floats(0, 0.5), min_size=1, max_size=60),
)
def test_rate_limiter_never_exceeds_burst_plus_rate_times_window(rate, burst, gaps):
    """Token bucket bound: in any window of length w, at most burst + rate*w go out."""

    async def run() -> list[float]:
        clock = FakeClock()
        lim = RateLimiter(rate_per_s=rate, burst=burst, clock=clock, sleep=clock.sleep)
        stamps = []
        for g in gaps:
            clock.t += g
            await lim.acquire()
            stamps.append(clock.t)
        return stamps

    stamps = asyncio.run(run())
    for i in range(len(stamps)):
        for j in range(i, len(stamps)):
            window = stamps[j] - stamps[i]
            assert j - i + 1 <= burst + rate * window + 1e-6


async def test_rate_limiter_serves_concurrent_callers_in_turn():
    clock = FakeClock()
    lim = RateLimiter(rate_per_s=1, burst=1, clock=clock, sleep=clock.sleep)
    order = []

    async def caller(name):
        await lim.acquire()
        order.append((name, clock.t))

    await asyncio.gather(*(caller(n) for n in "abc"))
    assert [n for n, _ in order] == ["a", "b", "c"]
    assert [t - 1000.0 for _, t in order] == pytest.approx([0, 1, 2])


def test_one_limiter_serves_successive_event_loops():
    # The registry outlives an event loop (a reconnect, a restarted worker): no loop binding.
    clock = FakeClock()
    lim = RateLimiter(rate_per_s=1, burst=1, clock=clock, sleep=clock.sleep)
    asyncio.run(lim.acquire())
    asyncio.run(lim.acquire())
    assert clock.t - 1000.0 == pytest.approx(1.0)


def test_rate_limiter_is_shared_per_key_and_keyed_by_hash():
    key = "SENTINEL-API-KEY-do-not-log"
    kid = key_id_for(key)
    assert key not in kid and "SENTINEL" not in kid
    assert rate_limiter_for(kid, 10, 5) is rate_limiter_for(kid, 99, 99)
    assert rate_limiter_for(kid, 10, 5) is not rate_limiter_for(key_id_for("other"), 10, 5)
    with pytest.raises(ValueError, match="key_id"):
        rate_limiter_for("", 10, 5)


@pytest.mark.parametrize("rate, burst, word", [(0, 5, "rate_per_s"), (1, 0, "burst")])
def test_rate_limiter_bad_arguments(rate, burst, word):
    with pytest.raises(ValueError, match=word):
        RateLimiter(rate, burst)


async def test_rate_limiter_cost_above_burst_is_refused_not_a_deadlock():
    lim = RateLimiter(1, 2)
    with pytest.raises(ValueError, match="cost"):
        await lim.acquire(cost=3)


# ---------------------------------------------------------------- Watchdog


def test_watchdog_expires_after_silence_and_feed_keeps_it_alive():
    clock = FakeClock()
    w = Watchdog(timeout_s=5.0, clock=clock)
    clock.t += 4.9
    assert not w.expired()
    w.feed()
    clock.t += 4.9
    assert not w.expired()  # 4.9 s since the last message, not 9.8
    clock.t += 0.2
    assert w.expired()
    assert w.silence_s() == pytest.approx(5.1)
    w.reset()  # resubscribed
    assert not w.expired() and w.expiries == 1


def test_watchdog_bad_timeout():
    with pytest.raises(ValueError, match="timeout_s"):
        Watchdog(0)


# ---------------------------------------------------------------- BookContinuity


def test_deribit_change_ids_chain_and_a_gap_forces_resync():
    # Deribit book.* notifications: each carries prev_change_id = the previous change_id
    # (docs.deribit.com, "book.{instrument_name}.{interval}").
    c = BookContinuity()
    assert not c.check(100, 101)  # no snapshot yet: refuse
    c.reset(100)
    assert c.check(100, 105)
    assert c.check(105, 106)
    assert not c.check(107, 110)  # 106 -> 107 lost
    assert not c.check(110, 111)  # stays refused until resynced
    assert c.gaps == 1 and not c.in_sync
    c.reset(111)
    assert c.check(111, 112) and c.in_sync


def test_sequence_counter_must_step_by_one():
    c = BookContinuity()
    c.reset(7)
    assert c.check_next(8) and c.check_next(9)
    assert not c.check_next(11)
    assert c.gaps == 1


@settings(max_examples=50, deadline=None)
@given(
    steps=st.lists(st.integers(1, 1000), min_size=2, max_size=40),
    drop=st.one_of(st.none(), st.integers(0, 38)),
)
def test_continuity_detects_a_lost_diff_exactly_when_one_is_lost(steps, drop):
    ids = [0]
    for s in steps:
        ids.append(ids[-1] + s)
    diffs = [(ids[i], ids[i + 1]) for i in range(len(ids) - 1)]
    if drop is not None and drop < len(diffs) - 1:
        del diffs[drop]
        lost = True
    else:
        lost = False
    c = BookContinuity()
    c.reset(ids[0])
    results = [c.check(p, n) for p, n in diffs]
    assert all(results) == (not lost)
    assert c.gaps == (1 if lost else 0)


# ---------------------------------------------------------------- clock skew


def test_clock_skew_takes_half_the_round_trip_off():
    # Reply arrives at local 1_000_500 after a 200 ms round trip; server stamped 1_000_000.
    # Server stamp ~ mid-flight: local at stamp = 1_000_500 - 100 = 1_000_400 -> skew +400.
    assert clock_skew_ms(1_000_500, 1_000_000, round_trip_ms=200) == 400
    assert clock_skew_ms(1_000_000, 1_000_250) == -250  # we are behind the venue
    assert clock_skew_ms(1_000_000, None) is None
    with pytest.raises(ValueError, match="round_trip_ms"):
        clock_skew_ms(1, 1, round_trip_ms=-1)
