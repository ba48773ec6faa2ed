"""Posting alerts to a webhook, off the UI's event loop's critical path.

:meth:`WebhookPoster.post` only puts the alert in a queue and returns; :meth:`run`
(an asyncio task: the App runs it as a worker) sends them with ``httpx.AsyncClient``,
so a slow or dead receiver never holds a repaint or a key press.

Each alert is POSTed as JSON (:meth:`cockpit.alerts.Alert.payload`) with a timeout
(``[alerts] timeout_s``, connect and read). A timeout, a connection error, HTTP 429 or
5xx is retried ``retries`` times after ``backoff_s x 2^k`` seconds (k = 0, 1, ...);
any other 4xx is not (the URL or the receiver is wrong: retrying will not fix it).
At most ``max_per_minute`` alerts are posted in any rolling 60 s (the rest stay on
screen only), and an alert whose key was posted in the last ``dedup_window_s`` is not
posted again.

When an alert cannot be delivered, ``on_status(False, line)`` is called ONCE; later
alerts are tried once each (no retries) until one is answered, and then
``on_status(True, line)`` says it recovered. The URL may carry a token in its path or
query: lines and errors show its scheme and host only (:func:`safe_url`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import httpx

__all__ = ["WebhookPoster", "check_webhook_url", "safe_url"]

log = logging.getLogger("cockpit.alerts")


def safe_url(url: str) -> str:
    """``https://hooks.example.com/T0/B1/secret?x=1`` -> ``https://hooks.example.com``."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme or '?'}://{host}{port}"


def check_webhook_url(url: str) -> str | None:
    """Why ``url`` cannot be posted to, or None (never repeats the URL: it may hold a token)."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return "not a URL; use https://host/path"
    if parts.scheme not in ("http", "https"):
        return "must start with https:// (or http:// for a local receiver)"
    if not parts.hostname:
        return "has no host; use https://host/path"
    return None


class WebhookPoster:
    """Delivers alerts to one webhook. ``clock`` (monotonic seconds) and ``sleep`` are
    injectable so tests see the backoff without waiting on it."""

    def __init__(self, url: str, *, timeout_s: float = 5.0, max_per_minute: int = 10,
                 dedup_window_s: float = 300.0, retries: int = 3, backoff_s: float = 1.0,
                 on_status: Callable[[bool, str], None] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.max_per_minute = max_per_minute
        self.dedup_window_s = dedup_window_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.on_status = on_status
        self.clock = clock
        self.sleep = sleep
        self.failing = False
        self.delivered = 0
        self.dropped = {"duplicate": 0, "rate limit": 0, "undelivered": 0}
        self._queue: asyncio.Queue | None = None
        self._pending: deque = deque()  # posted before run() made the queue
        self._posted: deque[float] = deque()  # when each alert was queued (rate limit)
        self._keys: dict[str, float] = {}  # alert key -> when last queued (dedup)

    @classmethod
    def from_config(cls, cfg, **kw) -> WebhookPoster:
        """From ``[alerts]``."""
        return cls(cfg.webhook_url, timeout_s=cfg.timeout_s, max_per_minute=cfg.max_per_minute,
                   dedup_window_s=cfg.dedup_window_s, **kw)

    @property
    def where(self) -> str:
        return safe_url(self.url)

    # -- the UI's side: never waits -------------------------------------------------------
    def post(self, alert) -> bool:
        """Queue ``alert`` for delivery; False when it is a duplicate or over the rate
        limit (it stays on screen only). Returns at once."""
        now = self.clock()
        last = self._keys.get(alert.key)
        if last is not None and now - last < self.dedup_window_s:
            self.dropped["duplicate"] += 1
            return False
        while self._posted and now - self._posted[0] >= 60.0:
            self._posted.popleft()
        if len(self._posted) >= self.max_per_minute:
            self.dropped["rate limit"] += 1
            return False
        self._posted.append(now)
        self._keys[alert.key] = now
        if len(self._keys) > 1000:  # forget keys outside the window
            self._keys = {k: t for k, t in self._keys.items() if now - t < self.dedup_window_s}
        if self._queue is None:
            self._pending.append(alert)
        else:
            self._queue.put_nowait(alert)
        return True

    # -- the sender's side ----------------------------------------------------------------
    async def run(self) -> None:
        """Deliver queued alerts, one at a time, until cancelled."""
        self._queue = asyncio.Queue()
        while self._pending:
            self._queue.put_nowait(self._pending.popleft())
        timeout = httpx.Timeout(self.timeout_s)
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            while True:
                alert = await self._queue.get()
                await self.deliver(client, alert)

    async def deliver(self, client: httpx.AsyncClient, alert) -> bool:
        """POST one alert, retrying what may pass on a second try; True when answered 2xx."""
        tries = 1 if self.failing else 1 + self.retries
        reason = ""
        for k in range(tries):
            if k:
                await self.sleep(self.backoff_s * 2 ** (k - 1))
            reason, retry = await self._try(client, alert)
            if not reason:
                self.delivered += 1
                if self.failing:
                    self.failing = False
                    self._status(True, f"alerts webhook {self.where} answers again; "
                                       "alerts are posted again")
                return True
            if not retry:
                break
        self.dropped["undelivered"] += 1
        log.info("alert not delivered to %s: %s", self.where, reason)
        if not self.failing:
            self.failing = True
            self._status(False, f"alerts webhook failing: {reason}; next alerts stay on "
                                "screen only until it answers")
        return False

    async def _try(self, client: httpx.AsyncClient, alert) -> tuple[str, bool]:
        """("", False) when delivered, else (reason, worth retrying)."""
        try:
            r = await client.post(self.url, json=alert.payload())
        except httpx.TimeoutException:
            return f"no answer from {self.where} within {self.timeout_s:g} s", True
        except httpx.TransportError as exc:
            return f"cannot reach {self.where} ({type(exc).__name__})", True
        except Exception as exc:  # a bad URL or payload: one line, the loop goes on
            return f"cannot post to {self.where} ({type(exc).__name__})", False
        if 200 <= r.status_code < 300:
            return "", False
        retry = r.status_code == 429 or r.status_code >= 500
        return f"HTTP {r.status_code} from {self.where}", retry

    def _status(self, ok: bool, line: str) -> None:
        if self.on_status is not None:
            try:
                self.on_status(ok, line)
            except Exception as exc:  # the screen going away must not stop delivery
                log.info("alerts status not shown: %s", exc)
