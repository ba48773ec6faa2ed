"""Offline ccxt: an exchange object whose HTTP layer answers from recorded JSON.

Only ``exchange.fetch`` (url, method, headers, body -> decoded JSON) is replaced;
signing, request building, ccxt's error mapping (``handle_errors``, called here as
the real ``fetch`` does) and all parsing above it are ccxt's own.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cockpit.venues.ccxt_base import VenueAdapter, build_exchange

RECORDED = Path(__file__).parent / "recorded"

FAKE_CREDENTIALS = SimpleNamespace(api_key="test-key-000", secret="test-secret-000",
                                   password="test-pass-000")


def load(venue: str, name: str) -> Any:
    """A recorded body; list bodies are stored as {"_source": ..., "_list": [...]}."""
    data = json.loads((RECORDED / venue / name).read_text())
    if isinstance(data, dict) and "_list" in data:
        return data["_list"]
    return data


class RecordedHttp:
    """Answers requests from ``routes``: (needle, response) pairs, first match wins.

    ``needle`` is a substring of "METHOD url" (e.g. "POST /api/v5/trade/order"); a
    response is a JSON value, a recorded file name ("x.json"), an exception
    instance to raise, or a callable(url, body) returning one of those.
    Every request is kept in ``requests`` as (method, url, params) where params
    merges the query string and the JSON/form body.
    """

    def __init__(self, venue: str, routes: list[tuple[str, Any]], default: Any) -> None:
        self.venue = venue
        self.routes = list(routes)
        self.default = default
        self.requests: list[tuple[str, str, dict]] = []
        self.exchange: Any = None

    def count(self, needle: str) -> int:
        return sum(1 for m, u, _ in self.requests if needle in f"{m} {u}")

    def params_of(self, needle: str) -> list[dict]:
        return [p for m, u, p in self.requests if needle in f"{m} {u}"]

    @staticmethod
    def _params(url: str, body: Any) -> dict:
        params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        if body:
            try:
                decoded = json.loads(body)
                if isinstance(decoded, list) and len(decoded) == 1:
                    decoded = decoded[0]  # OKX places single orders through batch-orders
                if isinstance(decoded, dict):
                    params.update(decoded)
            except (TypeError, ValueError):
                params.update({k: v[0] for k, v in parse_qs(body).items()})
        return params

    async def fetch(self, url, method="GET", headers=None, body=None):
        self.requests.append((method, url, self._params(url, body)))
        key = f"{method} {url}"
        response = self.default
        for needle, answer in self.routes:
            if needle in key:
                response = answer
                break
        if callable(response) and not isinstance(response, BaseException):
            response = response(url, body)
        if isinstance(response, BaseException):
            raise response
        if isinstance(response, str) and response.endswith(".json"):
            response = load(self.venue, response)
        text = json.dumps(response)
        # what ccxt's real fetch does with every response: venue error codes -> ccxt errors
        self.exchange.handle_errors(200, "OK", url, method, {}, text, response, headers, body)
        return response


def recorded_exchange(adapter: VenueAdapter, routes: list[tuple[str, Any]], default: Any,
                      *, credentials: Any = FAKE_CREDENTIALS, cfg: Any = None
                      ) -> tuple[Any, RecordedHttp]:
    exchange = build_exchange(adapter, cfg, credentials)
    http = RecordedHttp(adapter.name, routes, default)
    http.exchange = exchange
    exchange.fetch = http.fetch
    exchange.timeout_on_exit = 0  # close() would otherwise sleep 250 ms
    return exchange, http


Route = tuple[str, Any]
Responder = Callable[[str, Any], Any]


_CACHE: dict[str, tuple[Any, RecordedHttp]] = {}


def shared_exchange(adapter: VenueAdapter, routes: list[tuple[str, Any]], default: Any
                    ) -> tuple[Any, RecordedHttp]:
    """One exchange per venue with markets loaded from the recordings, reused across
    tests (building a ccxt exchange costs ~0.5 s). Each
    use gets fresh routes, an empty request log and is re-bound to the running loop."""
    if adapter.name not in _CACHE:
        exchange, http = recorded_exchange(adapter, routes, default)
        exchange.enableRateLimit = False  # no throttling sleeps against recordings
        # callable from sync fixtures and from inside a running test loop alike
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, exchange.load_markets()).result()
        _CACHE[adapter.name] = (exchange, http)
    exchange, http = _CACHE[adapter.name]
    http.routes, http.default, http.requests = list(routes), default, []
    # ccxt binds its throttler to the first loop it meets; each test has its own loop
    exchange.asyncio_loop = None
    exchange.throttler.loop = None
    exchange.closed_by_user = False  # a test may have closed it through a broker
    for name in [n for n in vars(exchange) if n.startswith(("private", "handle_"))]:
        delattr(exchange, name)  # per-instance overrides a test installed (e.g. order routing)
    return exchange, http
