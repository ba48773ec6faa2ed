"""The alerts webhook poster against a real HTTP receiver on 127.0.0.1 (aiohttp):
delivery and its JSON, retries with backoff then one report, a slow receiver that
never holds the event loop, 4xx not retried, the rate limit and de-duplication."""

import asyncio

import pytest
from aiohttp import web

from cockpit.alerts import Alert
from cockpit.alerts_webhook import WebhookPoster, check_webhook_url, safe_url

T0 = 1_795_420_800_000  # 2026-11-23 08:00:00 UTC
TOKEN = "T0KEN-9f8e7d6c"


class Receiver:
    """A webhook receiver: answers ``status`` (or waits forever when ``hang``)."""

    def __init__(self) -> None:
        self.status = 200
        self.hang = False
        self.got: list[dict] = []
        self.headers: list[dict] = []
        self.arrived = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        self.got.append(await request.json())
        self.headers.append(dict(request.headers))
        self.arrived.set()
        if self.hang:
            await asyncio.Event().wait()  # never answers; cancelled at shutdown
        return web.Response(status=self.status, text="ok" if self.status < 300 else "no")


@pytest.fixture
async def receiver():
    r = Receiver()
    app = web.Application()
    app.router.add_post(f"/hook/{TOKEN}", r.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    r.url = f"http://127.0.0.1:{port}/hook/{TOKEN}"
    yield r
    await runner.cleanup()


def alert(key="margin_red", text="margin ratio 85.3% crossed RED (80%)"):
    return Alert("margin_red", "error", text, T0, key)


class Poster:
    """A poster running as a task, with its status lines and backoff sleeps recorded."""

    def __init__(self, url, **kw) -> None:
        self.status: list[tuple[bool, str]] = []
        self.sleeps: list[float] = []
        self.now = 0.0
        kw.setdefault("backoff_s", 0.01)
        self.p = WebhookPoster(url, on_status=lambda ok, line: self.status.append((ok, line)),
                               clock=lambda: self.now, sleep=self._sleep, **kw)

    async def _sleep(self, s: float) -> None:
        self.sleeps.append(s)
        await asyncio.sleep(0)

    async def __aenter__(self):
        self.task = asyncio.create_task(self.p.run())
        return self

    async def __aexit__(self, *exc):
        self.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.task

    async def settled(self, n: int) -> None:
        """Wait until ``n`` alerts were delivered or given up (a guard, not a timing)."""
        for _ in range(2000):
            if self.p.delivered + self.p.dropped["undelivered"] >= n:
                return
            await asyncio.sleep(0.005)
        raise AssertionError(f"only {self.p.delivered} delivered of {n}")


async def test_an_alert_is_posted_as_json_with_the_alert_only(receiver):
    async with Poster(receiver.url) as ps:
        assert ps.p.post(alert()) is True
        await ps.settled(1)
    assert receiver.got == [{"source": "cockpit", "kind": "margin_red", "severity": "error",
                             "text": "margin ratio 85.3% crossed RED (80%)",
                             "time": "2026-11-23 08:00:00 UTC", "ts_ms": T0}]
    assert receiver.headers[0]["Content-Type"] == "application/json"
    assert ps.status == [] and ps.sleeps == []


async def test_a_failing_receiver_is_retried_with_backoff_then_reported_once(receiver):
    receiver.status = 500
    async with Poster(receiver.url, retries=3, backoff_s=0.01) as ps:
        ps.p.post(alert("a"))
        await ps.settled(1)
        assert len(receiver.got) == 4  # one try and three retries
        assert ps.sleeps == pytest.approx([0.01, 0.02, 0.04])  # doubling backoff
        assert len(ps.status) == 1
        ok, line = ps.status[0]
        assert not ok
        assert line.startswith("alerts webhook failing: HTTP 500 from http://127.0.0.1:")
        assert line.endswith("next alerts stay on screen only until it answers")
        assert TOKEN not in line and "/hook" not in line  # the URL's token never shown
        # while it fails: later alerts are tried once each and not reported again
        ps.p.post(alert("b"))
        ps.p.post(alert("c"))
        await ps.settled(3)
        assert len(receiver.got) == 6 and len(ps.status) == 1
        # it answers again: delivered, and said so once
        receiver.status = 200
        ps.p.post(alert("d"))
        await ps.settled(4)
        assert ps.p.delivered == 1
        assert [ok for ok, _ in ps.status] == [False, True]
        assert TOKEN not in ps.status[1][1]
        receiver.status = 500  # failing again after recovering is reported again
        ps.p.post(alert("e"))
        await ps.settled(5)
        assert [ok for ok, _ in ps.status] == [False, True, False]


async def test_a_4xx_is_not_retried(receiver):
    receiver.status = 404
    async with Poster(receiver.url, retries=3) as ps:
        ps.p.post(alert())
        await ps.settled(1)
    assert len(receiver.got) == 1 and ps.sleeps == []
    assert "HTTP 404" in ps.status[0][1]


async def test_a_slow_receiver_times_out_and_the_event_loop_keeps_ticking(receiver):
    receiver.hang = True
    ticks = 0

    async def heartbeat():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    beat = asyncio.create_task(heartbeat())
    async with Poster(receiver.url, timeout_s=0.3, retries=0) as ps:
        # post() only queues: it returns before the request is even made
        assert ps.p.post(alert()) is True
        assert receiver.got == []
        await receiver.arrived.wait()
        at_arrival = ticks
        await ps.settled(1)
        # the loop ran the heartbeat while the receiver sat on the request
        assert ticks > at_arrival
    beat.cancel()
    ok, line = ps.status[0]
    assert not ok and "no answer from http://127.0.0.1:" in line and "within 0.3 s" in line
    assert TOKEN not in line


async def test_an_unreachable_receiver_is_reported_without_its_token():
    # a port nothing listens on (bound then closed)
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    async with Poster(f"http://127.0.0.1:{port}/hook/{TOKEN}", retries=1) as ps:
        ps.p.post(alert())
        await ps.settled(1)
    assert len(ps.status) == 1 and "cannot reach http://127.0.0.1:" in ps.status[0][1]
    assert TOKEN not in ps.status[0][1] and ps.sleeps == [0.01]


async def test_rate_limit_per_rolling_minute(receiver):
    async with Poster(receiver.url, max_per_minute=3) as ps:
        sent = [ps.p.post(alert(f"k{i}")) for i in range(5)]
        assert sent == [True, True, True, False, False]
        ps.now = 59.0
        assert ps.p.post(alert("k5")) is False  # still inside the minute
        ps.now = 60.0
        assert ps.p.post(alert("k6")) is True  # the first three left the window
        await ps.settled(4)
    assert [g["text"] for g in receiver.got] == [alert().text] * 4
    assert ps.p.dropped["rate limit"] == 3


async def test_the_same_alert_within_the_window_is_posted_once(receiver):
    async with Poster(receiver.url, dedup_window_s=300) as ps:
        assert ps.p.post(alert("margin_red")) is True
        ps.now = 299.0
        assert ps.p.post(alert("margin_red")) is False
        assert ps.p.post(alert("liquidation:x")) is True  # another key passes
        ps.now = 600.0
        assert ps.p.post(alert("margin_red")) is True  # outside the window again
        await ps.settled(3)
    assert len(receiver.got) == 3 and ps.p.dropped["duplicate"] == 1


def test_urls_are_shown_by_scheme_and_host_only_and_checked():
    assert safe_url(f"https://hooks.example.com/services/{TOKEN}?k=v") == \
        "https://hooks.example.com"
    assert safe_url(f"http://user:{TOKEN}@127.0.0.1:8080/x") == "http://127.0.0.1:8080"
    assert check_webhook_url("https://hooks.example.com/x") is None
    assert "https://" in check_webhook_url("hooks.example.com/x")
    assert "host" in check_webhook_url("https:///x")
    assert TOKEN not in (check_webhook_url(f"ftp://h/{TOKEN}") or "")
