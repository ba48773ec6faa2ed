"""Dead-man switches: the venue cancels our resting orders if we go quiet.

If the cockpit crashes, the laptop sleeps or the network drops while orders
rest, a venue-side timer cancels them. The switch is armed when live orders
rest and refreshed at a quarter of its timeout, so three refreshes in a row
can fail before it fires. It is disarmed only on a clean exit (:meth:`close`):
a crash, a kill or a cancelled task leaves it armed, which is the point.

The per-venue arm/disarm calls live in the adapters (OKX and Bybit
``cancel_all_orders_after``, Binance USD-M ``countdownCancelAll`` per symbol,
Deribit ``enable_cancel_on_disconnect``); this module only keeps the cadence
and says, per venue, whether the switch is armed and when it was refreshed.

Bybit's DCP fires only while a private websocket subscribes to ``dcp``; pass
``ready`` (True while that subscription is live) and the status shows the
switch armed only then.

References
----------
https://www.okx.com/docs-v5/en/#order-book-trading-trade-post-cancel-all-after
https://bybit-exchange.github.io/docs/v5/order/dcp
https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Auto-Cancel-All-Open-Orders
https://docs.deribit.com/#private-enable_cancel_on_disconnect
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

__all__ = ["DeadManSwitch"]

log = logging.getLogger(__name__)


class DeadManSwitch:
    """Keeps one venue's dead-man switch armed while live orders rest.

    Parameters
    ----------
    venue : venue name, for logs and status.
    timeout_s : the venue-side timer, seconds (> 0); refreshed every ``timeout_s / 4``.
    arm : ``async arm(timeout_s)`` - (re)starts the venue timer; also the refresh.
    disarm : ``async disarm()`` - switches the venue timer off (clean exit only).
    clock : wall clock in seconds since the epoch (``time.time``); injectable for tests.
    sleep : ``async sleep(seconds)``; injectable for tests.
    ready : optional ``ready() -> bool``; False means the venue would not fire
        even if armed (Bybit without its ``dcp`` subscription).

    Usage: the broker calls :meth:`set_resting` after each order change, runs
    :meth:`run` as a task, and awaits :meth:`close` on a clean exit; the app shows
    :meth:`status` as ``VenueStatus.dead_man``. Once armed, the switch is kept
    armed (refreshed) until :meth:`close` even when the book empties: a timer that
    lapsed whenever no order rested would be off just as the next one lands.
    """

    def __init__(
        self,
        venue: str,
        timeout_s: float,
        arm: Callable[[float], Awaitable[object]],
        disarm: Callable[[], Awaitable[object]],
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        *,
        ready: Callable[[], bool] | None = None,
    ) -> None:
        if not (math.isfinite(timeout_s) and timeout_s > 0):
            raise ValueError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")
        self.venue = venue
        self.timeout_s = timeout_s
        self._arm = arm
        self._disarm = disarm
        self._clock = clock
        self._sleep = sleep
        self._ready = ready
        self.resting = False
        self.armed = False  # the venue accepted our last arm/refresh and we have not disarmed
        self.last_refresh_s: float | None = None  # clock time of the last accepted arm/refresh
        self.refreshes = 0  # accepted arm/refresh calls
        self.failures = 0  # arm/refresh calls the venue refused or that failed
        self.last_error = ""
        self._next_due: float | None = None  # clock time of the next arm/refresh
        self._closed = False
        self._wake = asyncio.Event()

    @property
    def refresh_s(self) -> float:
        return self.timeout_s / 4

    def set_resting(self, resting: bool) -> None:
        """Tell the switch whether live orders rest now; arming happens on the next step."""
        self.resting = bool(resting)
        if not self.armed:
            self._next_due = self._clock() if self.resting else None
            self._wake.set()

    async def step(self) -> float:
        """Arm or refresh if due; returns seconds until the next step is due.

        Never raises on a venue error: the failure is logged and counted, and
        retried a quarter-timeout later (the previous arm still covers us until
        it runs out).
        """
        if self._closed:
            return math.inf
        now = self._clock()
        if self._next_due is None:
            if not self.resting:
                return math.inf  # nothing rests: wait for set_resting
            self._next_due = now
        if now < self._next_due - 1e-9:
            return self._next_due - now
        try:
            await self._arm(self.timeout_s)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.failures += 1
            first_line = str(exc).splitlines()[0][:120] if str(exc) else ""
            self.last_error = f"{type(exc).__name__}: {first_line}".rstrip(": ")
            self._next_due = self._clock() + self.refresh_s
            log.warning("%s dead-man switch: arm/refresh failed (%s)", self.venue, self.last_error)
            return self.refresh_s
        self.armed = True
        self.refreshes += 1
        self.last_refresh_s = self._clock()
        self.last_error = ""
        self._next_due = self.last_refresh_s + self.refresh_s
        return self.refresh_s

    async def run(self) -> None:
        """Step, then sleep until the next step is due or orders start resting.

        Runs until :meth:`close`; cancelling the task leaves the switch armed.
        """
        while not self._closed:
            wait_s = await self.step()
            if self._closed:
                break
            self._wake.clear()
            if math.isinf(wait_s):
                await self._wake.wait()
                continue
            sleeper = asyncio.ensure_future(self._sleep(wait_s))
            waker = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for t in (sleeper, waker):
                    t.cancel()

    async def close(self, *, disarm: bool = True) -> None:
        """Clean exit: stop refreshing and disarm the venue timer (if armed).
        ``disarm=False`` stops refreshing only: the venue's timer runs out and cancels
        what rests (a quit with orders of ours still at the venue)."""
        self._closed = True
        self._wake.set()
        if not self.armed or not disarm:
            return
        try:
            await self._disarm()
            self.armed = False
        except Exception as exc:
            # The timer is still running at the venue and fires on its own: say so.
            self.last_error = f"disarm failed: {type(exc).__name__}"
            log.warning("%s dead-man switch: %s; it fires in <= %gs", self.venue,
                        self.last_error, self.timeout_s)

    def is_live(self) -> bool:
        """True while the venue would cancel our orders if we vanished now."""
        if not self.armed or self.last_refresh_s is None:
            return False
        if self._clock() - self.last_refresh_s >= self.timeout_s:
            return False  # refreshes failed for a whole timeout: it has fired
        return self._ready is None or bool(self._ready())

    def status(self) -> str | None:
        """``"armed 60s, refreshed 12:01:05 UTC"`` while live, else None."""
        if not self.is_live():
            return None
        at = datetime.fromtimestamp(self.last_refresh_s, tz=UTC).strftime("%H:%M:%S")
        return f"armed {self.timeout_s:g}s, refreshed {at} UTC"
