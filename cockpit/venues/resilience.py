"""What a venue connection needs when the venue misbehaves.

Small, venue-agnostic primitives the ccxt adapters compose:

* :class:`Backoff` - reconnect/retry delays, exponential with jitter and a cap.
* :class:`RateLimiter` - a token bucket, one shared per API key
  (:func:`rate_limiter_for`, keyed by :func:`key_id_for`, a hash, never the key).
* :class:`Watchdog` - notices a stream that has gone silent without raising
  (ccxt.pro streams can stall), so the feed loop resubscribes.
* :class:`BookContinuity` - order-book diff continuity (Deribit
  ``prev_change_id``, OKX ``prevSeqId``, Binance ``pu``) and plain counters.
* :func:`clock_skew_ms` - local clock minus the venue's server clock.

Nothing here imports ccxt or does I/O; clocks and sleeps are injectable so
tests run on a fake clock.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import random
import time
from collections.abc import Awaitable, Callable

__all__ = [
    "Backoff",
    "BookContinuity",
    "RateLimiter",
    "Watchdog",
    "clock_skew_ms",
    "key_id_for",
    "rate_limiter_for",
]


class Backoff:
    """Exponential backoff with jitter and a cap, for reconnects and 429s.

    The n-th delay (n = 0, 1, ...) before jitter is
    ``envelope_n = min(cap_s, base_s * factor**n)``; the delay returned is drawn
    uniformly from ``[envelope_n * (1 - jitter), envelope_n]``. ``jitter=1`` is
    "full jitter", ``jitter=0.5`` "equal jitter", ``jitter=0`` plain exponential.
    Jitter spreads many clients reconnecting after the same outage so they do
    not stampede the venue in lock-step.

    Parameters
    ----------
    base_s : first envelope, seconds (> 0).
    cap_s : largest delay ever returned, seconds (>= base_s).
    factor : growth per attempt (>= 1).
    jitter : fraction of the envelope that is randomised, in [0, 1].
    rng : a ``random.Random`` for reproducible delays (tests); default a fresh one.

    References
    ----------
    M. Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog, 2015.
    """

    def __init__(
        self,
        base_s: float = 0.5,
        cap_s: float = 30.0,
        factor: float = 2.0,
        jitter: float = 0.5,
        rng: random.Random | None = None,
    ) -> None:
        if not (math.isfinite(base_s) and base_s > 0):
            raise ValueError(f"base_s must be a positive number of seconds, got {base_s!r}")
        if not (math.isfinite(cap_s) and cap_s >= base_s):
            raise ValueError(f"cap_s must be >= base_s ({base_s}), got {cap_s!r}")
        if not (math.isfinite(factor) and factor >= 1):
            raise ValueError(f"factor must be >= 1, got {factor!r}")
        if not (0.0 <= jitter <= 1.0):
            raise ValueError(f"jitter must be a fraction in [0, 1], got {jitter!r}")
        self.base_s = base_s
        self.cap_s = cap_s
        self.factor = factor
        self.jitter = jitter
        self.rng = rng or random.Random()
        self.attempts = 0

    def envelope_s(self, attempt: int) -> float:
        """The un-jittered delay for ``attempt`` (0-based), capped at ``cap_s``."""
        # Compare exponents first: factor**attempt overflows a float after ~1000 tries.
        if self.factor > 1 and attempt * math.log(self.factor) > math.log(self.cap_s / self.base_s):
            return self.cap_s
        return min(self.cap_s, self.base_s * self.factor**attempt)

    def next_delay(self) -> float:
        """Seconds to wait before the next attempt; each call counts one attempt."""
        envelope = self.envelope_s(self.attempts)
        self.attempts += 1
        low = envelope * (1.0 - self.jitter)
        return low + (envelope - low) * self.rng.random()

    def reset(self) -> None:
        """Call after a success: the next failure starts again at ``base_s``."""
        self.attempts = 0


class RateLimiter:
    """A token bucket: ``burst`` requests at once, refilling at ``rate_per_s``.

    ``await acquire(cost)`` takes ``cost`` tokens, waiting until the bucket has
    refilled enough. Each caller reserves its tokens the moment it calls (the
    count may go negative: a queue of reservations), then sleeps off its own
    deficit, so callers are served in arrival order and a heavy caller cannot
    starve the others. No lock is held, so one limiter can serve any event loop.
    A cancelled waiter keeps its reservation (errs on the side of fewer requests).

    Share one per API key: venues count requests per key, not per connection
    (see :func:`rate_limiter_for`). ``clock`` (monotonic seconds) and ``sleep``
    are injectable for tests.
    """

    def __init__(
        self,
        rate_per_s: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not (math.isfinite(rate_per_s) and rate_per_s > 0):
            raise ValueError(f"rate_per_s must be a positive request rate, got {rate_per_s!r}")
        if not (math.isfinite(burst) and burst >= 1):
            raise ValueError(f"burst must be >= 1 request, got {burst!r}")
        self.rate_per_s = float(rate_per_s)
        self.burst = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate_per_s)
        self._stamp = now

    def tokens(self) -> float:
        """Tokens available right now; negative while reservations are queued."""
        self._refill()
        return self._tokens

    async def acquire(self, cost: float = 1) -> None:
        if not (math.isfinite(cost) and 0 < cost <= self.burst):
            raise ValueError(f"cost must be in (0, burst={self.burst}], got {cost!r}")
        # No await between reading and taking: atomic on the event loop.
        self._refill()
        self._tokens -= cost
        if self._tokens < 0:
            await self._sleep(-self._tokens / self.rate_per_s)


_LIMITERS: dict[str, RateLimiter] = {}


def key_id_for(api_key: str) -> str:
    """A stable, non-reversible id for an API key (sha256, 16 hex chars), so a
    key can index a registry or a log line without the key itself appearing."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


def rate_limiter_for(key_id: str, rate: float, burst: float) -> RateLimiter:
    """The one limiter shared by every connection using the same API key.

    ``key_id`` must come from :func:`key_id_for` (a hash, never the key: the
    registry outlives the request and may be inspected). The first caller's
    ``rate``/``burst`` win; later callers get the same object.
    """
    if not key_id:
        raise ValueError("key_id must be non-empty: pass key_id_for(api_key)")
    limiter = _LIMITERS.get(key_id)
    if limiter is None:
        limiter = _LIMITERS[key_id] = RateLimiter(rate, burst)
    return limiter


class Watchdog:
    """Notices a silent stream. ``feed()`` on every message received;
    ``expired()`` is True once ``timeout_s`` has passed with none.

    ccxt.pro's ``watch_*`` can wait forever on a connection that stays open but
    stops delivering; the feed loop polls ``expired()`` and resubscribes.
    """

    def __init__(self, timeout_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        if not (math.isfinite(timeout_s) and timeout_s > 0):
            raise ValueError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")
        self.timeout_s = timeout_s
        self._clock = clock
        self._last = clock()
        self.expiries = 0

    def feed(self) -> None:
        self._last = self._clock()

    def silence_s(self) -> float:
        """Seconds since the last message (or since creation/reset)."""
        return self._clock() - self._last

    def expired(self) -> bool:
        return self.silence_s() >= self.timeout_s

    def reset(self) -> None:
        """Call after resubscribing: the new subscription gets a full timeout."""
        self.expiries += 1
        self._last = self._clock()


class BookContinuity:
    """Checks that order-book diffs follow on from each other.

    Deribit (and OKX ``prevSeqId``, Binance USD-M ``pu``) stamp each diff with
    the id of the previous one: ``prev_change_id`` must equal the last applied
    ``change_id``, else a message was lost and the book must be resynced from a
    REST snapshot. ccxt.pro's Deribit handler does not check this, hence here.

    Call :meth:`reset` with the snapshot's id, then :meth:`check` per diff.
    ``gaps`` counts breaks seen; ``in_sync`` is False from a break until reset.
    """

    def __init__(self) -> None:
        self.last_id: int | None = None
        self.in_sync = False
        self.gaps = 0

    def reset(self, change_id: int) -> None:
        """A snapshot with ``change_id`` was applied: diffs continue from it."""
        self.last_id = change_id
        self.in_sync = True

    def _accept(self, ok: bool, change_id: int) -> bool:
        if ok:
            self.last_id = change_id
            return True
        self.gaps += 1
        self.in_sync = False
        return False

    def check(self, prev_change_id: int | None, change_id: int) -> bool:
        """True if this diff continues the book (apply it); False means resync.

        Out of sync (no snapshot yet, or after a break) every diff is refused
        until :meth:`reset`, so a stale book is never patched into a wrong one.
        """
        if not self.in_sync:
            return False
        return self._accept(prev_change_id is not None and prev_change_id == self.last_id, change_id)

    def check_next(self, seq: int) -> bool:
        """The generic counter form: ``seq`` must be exactly last + 1."""
        if not self.in_sync:
            return False
        return self._accept(self.last_id is not None and seq == self.last_id + 1, seq)


def clock_skew_ms(local_ms: int, server_ms: int | None, round_trip_ms: int = 0) -> int | None:
    """Local clock minus the venue's server clock, in ms (positive: we are ahead).

    ``local_ms`` is when the server's reply arrived; the server stamped it about
    half a round trip earlier, so that half is taken off (Cristian's algorithm).
    None when the server time is unknown.

    References
    ----------
    F. Cristian, "Probabilistic clock synchronization", Distributed Computing 3, 1989.
    """
    if server_ms is None:
        return None
    if round_trip_ms < 0:
        raise ValueError(f"round_trip_ms must be >= 0, got {round_trip_ms!r}")
    return int(round(local_ms - round_trip_ms / 2 - server_ms))
