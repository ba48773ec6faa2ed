"""A fake Deribit on 127.0.0.1: the public REST v2 calls and the JSON-RPC websocket,
with a book whose diffs can be lost on the way (to test ``prev_change_id`` resync).

Shapes follow docs.deribit.com: ``book.{instrument}.100ms`` notifications carry
``change_id`` and ``prev_change_id`` (a snapshot first, then changes);
``public/get_order_book`` returns the full current book with its ``change_id``.
Markets come from engineer A's recordings of the documented examples. Amounts on
BTC-PERPETUAL are USD (10 USD a contract), as on Deribit.

Knobs: ``lose_change_ids`` - diffs with these change ids are applied to the
server's book but never sent (a message lost in transit); ``paused`` - no more
diffs (the book holds still, so a client's copy can be compared with it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path

from aiohttp import WSMsgType, web

RECORDED = Path(__file__).parent / "recorded" / "deribit"
INSTRUMENT = "BTC-PERPETUAL"
SYMBOL = "BTC/USD:BTC"


def _ms() -> int:
    return int(time.time() * 1000)


def rpc(result, id_=None) -> dict:
    out = {"jsonrpc": "2.0", "result": result, "usIn": 0, "usOut": 0, "usDiff": 0,
           "testnet": False}
    if id_ is not None:
        out["id"] = id_
    return out


class FakeDeribit:
    def __init__(self, *, push_s: float = 0.01) -> None:
        self.push_s = push_s
        self.lose_change_ids: set[int] = set()
        self.paused = False
        self.requests: list[str] = []
        self.sent_change_ids: list[int] = []
        self.subscriptions: list[str] = []
        # the server's book, USD amounts by price; change ids count from 1000
        self.bids: dict[float, float] = {5000.0: 1000.0, 4999.5: 2000.0}
        self.asks: dict[float, float] = {5000.5: 1500.0, 5001.0: 2500.0}
        self.change_id = 1000
        self._step = 0
        self._tasks: set[asyncio.Task] = set()
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> FakeDeribit:
        app = web.Application()
        app.router.add_get("/ws/api/v2", self.ws)
        app.router.add_route("*", "/{tail:.*}", self.rest)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()

    def cfg(self):
        from types import SimpleNamespace

        return SimpleNamespace(symbols=(SYMBOL,), sandbox=False, live=False,
                               rest_url=f"http://127.0.0.1:{self.port}",
                               ws_url=f"ws://127.0.0.1:{self.port}")

    def book_contracts(self) -> tuple[list[list[float]], list[list[float]]]:
        """The server's book now, best first, amounts in contracts (USD / 10)."""
        bids = [[p, a / 10] for p, a in sorted(self.bids.items(), reverse=True)]
        asks = [[p, a / 10] for p, a in sorted(self.asks.items())]
        return bids, asks

    # -- REST -----------------------------------------------------------------
    async def rest(self, request: web.Request) -> web.Response:
        method = request.path.rsplit("/api/v2/", 1)[-1]
        self.requests.append(method)
        if method in ("public/get_currencies", "public/get_instruments"):
            name = method.split("/")[1] + ".json"
            body = json.loads((RECORDED / name).read_text())
            body.pop("_source", None)
            return web.json_response(body)
        if method == "public/get_time":
            return web.json_response(rpc(_ms()))
        if method == "public/get_order_book":
            return web.json_response(rpc(self._rest_book()))
        if method == "public/ticker":
            return web.json_response(rpc(self._ticker()))
        return web.json_response(rpc([]))

    def _rest_book(self) -> dict:
        bids = [[p, a] for p, a in sorted(self.bids.items(), reverse=True)]
        asks = [[p, a] for p, a in sorted(self.asks.items())]
        return {"timestamp": _ms(), "state": "open", "instrument_name": INSTRUMENT,
                "change_id": self.change_id, "bids": bids, "asks": asks,
                "best_bid_price": bids[0][0], "best_ask_price": asks[0][0],
                "mark_price": 5000.25, "index_price": 5000.1, "last_price": 5000.5,
                "stats": {"volume": 1.0, "low": 4900.0, "high": 5100.0}}

    def _ticker(self) -> dict:
        return {"timestamp": _ms(), "instrument_name": INSTRUMENT, "state": "open",
                "best_bid_price": max(self.bids), "best_bid_amount": 1000.0,
                "best_ask_price": min(self.asks), "best_ask_amount": 1500.0,
                "mark_price": 5000.25, "index_price": 5000.1, "last_price": 5000.5,
                "funding_8h": 0.0000026, "current_funding": 0,
                "stats": {"volume": 1.0, "low": 4900.0, "high": 5100.0}}

    # -- websocket (JSON-RPC) -------------------------------------------------
    async def ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                req = json.loads(msg.data)
                if req.get("method") == "public/subscribe":
                    channels = req["params"]["channels"]
                    await ws.send_json(rpc(channels, req.get("id")))
                    for channel in channels:
                        self.subscriptions.append(channel)
                        task = asyncio.ensure_future(self._push(ws, channel))
                        self._tasks.add(task)
                        task.add_done_callback(self._tasks.discard)
                elif "id" in req:
                    await ws.send_json(rpc("ok", req["id"]))
        except ValueError:
            await ws.close()  # not JSON-RPC: hang up, as a venue would
        return ws

    def _diff(self) -> dict:
        """The next change to the server's book: a new bid level below the others,
        or a size change at the top; applied here whether or not it is delivered."""
        self._step += 1
        prev = self.change_id
        self.change_id += 1
        if self._step % 2:
            price = 4990.0 - self._step  # a fresh level only this diff mentions
            self.bids[price] = 10.0 * self._step
            bids = [["new", price, 10.0 * self._step]]
        else:
            self.bids[5000.0] = 1000.0 + self._step
            bids = [["change", 5000.0, 1000.0 + self._step]]
        return {"type": "change", "timestamp": _ms(), "instrument_name": INSTRUMENT,
                "prev_change_id": prev, "change_id": self.change_id, "bids": bids, "asks": []}

    async def _push(self, ws: web.WebSocketResponse, channel: str) -> None:
        kind = channel.split(".")[0]
        with contextlib.suppress(ConnectionError, RuntimeError):
            if kind == "book":
                snap = {"type": "snapshot", "timestamp": _ms(), "instrument_name": INSTRUMENT,
                        "change_id": self.change_id,
                        "bids": [["new", p, a] for p, a in self.bids.items()],
                        "asks": [["new", p, a] for p, a in self.asks.items()]}
                await self._send(ws, channel, snap)
                self.sent_change_ids.append(self.change_id)
            while not ws.closed:
                await asyncio.sleep(self.push_s)
                if self.paused:
                    continue
                if kind == "book":
                    diff = self._diff()
                    if diff["change_id"] in self.lose_change_ids:
                        continue  # lost in transit
                    await self._send(ws, channel, diff)
                    self.sent_change_ids.append(diff["change_id"])
                elif kind == "ticker":
                    await self._send(ws, channel, self._ticker())
                else:
                    return  # trades and others: quiet

    @staticmethod
    async def _send(ws: web.WebSocketResponse, channel: str, data) -> None:
        await ws.send_json({"jsonrpc": "2.0", "method": "subscription",
                            "params": {"channel": channel, "data": data}})
