"""A fake OKX on 127.0.0.1: REST v5 and the v5 websocket, with knobs to misbehave.

Point a ccxt ``okx`` exchange at it (``rest_url`` / ``ws_url`` of the venue config,
i.e. ``exchange.urls['api']``) and the full network path runs: aiohttp client,
signing, ccxt's error mapping and parsing, ccxt.pro's websocket client. Payload
shapes follow the OKX v5 documentation (https://www.okx.com/docs-v5/en/); the
instruments are engineer A's recording of the documented SWAP example.

The server binds 127.0.0.1 on an ephemeral port and nothing else. Knobs:

* ``reject_429``: the next N ``market/ticker`` requests answer HTTP 429 with
  OKX's body ``{"code": "50011", "msg": "Too Many Requests"}``.
* ``ack_loss`` / ``ack_delay_s``: an order POST is applied, then for that fraction
  of orders the acknowledgement is lost: half the time the connection is cut,
  half the time the reply is held ``ack_delay_s`` (past the client's timeout).
  A second POST of a known ``clOrdId`` is refused with 51016, as OKX does.
* ``drop_after``: the first websocket connection is closed by the server after
  that many pushes.
* ``silent_subscriptions``: the first N ``tickers`` subscriptions are
  acknowledged but never pushed to (a stalled stream).
* ``malformed_pushes``: ``{push number: raw text}`` (1-based, per ``tickers``
  subscription): that push sends the raw text instead of a ticker.
* ``plain_429``: answer 429 with a plain-text body (no OKX code), the case ccxt
  maps to ``ExchangeNotAvailable``.
* ``paused``: while True, every stream stays connected but sends nothing (a feed
  silent for 22 s); ``cross_books``: books come with the bids above the asks;
  ``empty_asks``: books come with no asks; ``zero_levels``: each book carries a level
  priced 0 and one priced -5 (a venue's bad levels); set ``_price`` to make the market jump.
* ``chain``: list the markets of ``recorded/okx/chain_*.json`` (BTC and ETH USDT swaps,
  BTC-USD and ETH-USD option chains) instead of the documented SWAP example alone.
* ``uncancellable``: order ids whose ``cancel-order`` OKX refuses (sCode 51400); OKX
  has no cancel-all endpoint (ccxt ``has['cancelAllOrders']`` is False), so a kill
  switch must cancel order by order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from pathlib import Path

from aiohttp import WSMsgType, web

RECORDED = Path(__file__).parent / "recorded" / "okx"
INST_ID = "BTC-USDT-SWAP"
SYMBOL = "BTC/USDT:USDT"


def ok(data: list) -> web.Response:
    return web.json_response({"code": "0", "msg": "", "data": data})


def _ms() -> int:
    return int(time.time() * 1000)


class FakeOkx:
    def __init__(self, *, seed: int = 0, push_s: float = 0.01) -> None:
        self.rng = random.Random(seed)
        self.push_s = push_s
        # knobs
        self.reject_429 = 0
        self.ack_loss = 0.0
        self.ack_delay_s = 0.5
        self.drop_after: int | None = None
        self.silent_subscriptions = 0
        self.malformed_pushes: dict[int, str] = {}
        self.plain_429 = False
        # [(sCode, sMsg), ...]: refuse every order, taking the refusals in turn
        self.refuse_orders: list[tuple[str, str]] = []
        self.uncancellable: set[str] = set()
        self.chain = False
        self.paused = False
        self.cross_books = False
        self.empty_asks = False
        self.zero_levels = False
        self.cancel_posts = 0
        self.amend_bodies: list[dict] = []  # every amend-order body, as received
        # what happened
        self.requests: list[tuple[str, str]] = []
        self.seen_api_keys: set[str] = set()  # OK-ACCESS-KEY headers received
        self.orders: dict[str, dict] = {}  # clOrdId -> order, in OKX's order-details shape
        self.order_posts = 0
        self.duplicate_posts = 0
        self.lost_acks = 0
        self.ticker_429s = 0
        self.ws_connections = 0
        self.subscriptions: list[tuple[str, str]] = []  # (channel, instId)
        self.pushes = 0
        self.clock = time.monotonic  # stamps cancel_all_after (a test may set a fake clock)
        self.cancel_all_after: list[tuple[float, str]] = []  # (self.clock(), timeOut s)
        self._price = 40000.0
        self._tasks: set[asyncio.Task] = set()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ------------------------------------------------------------
    async def start(self) -> FakeOkx:
        app = web.Application()
        app.router.add_get("/ws/v5/{kind}", self.ws)
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

    async def __aenter__(self) -> FakeOkx:
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.close()

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def cfg(self, **extra):
        """A venue config (the attributes ``cockpit.config.VenueConfig`` has)."""
        from types import SimpleNamespace

        base = dict(symbols=(SYMBOL,), sandbox=False, rest_url=self.rest_url,
                    ws_url=self.ws_url, live=True)
        base.update(extra)
        return SimpleNamespace(**base)

    # -- REST -----------------------------------------------------------------
    async def rest(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.requests.append((request.method, path))
        if "OK-ACCESS-KEY" in request.headers:
            self.seen_api_keys.add(request.headers["OK-ACCESS-KEY"])
        q = request.query
        if path == "/api/v5/public/instruments":
            if self.chain and q.get("instType") in ("SWAP", "OPTION"):
                uly = q.get("uly", "").split("-")[0].lower()
                name = "chain_swap.json" if q["instType"] == "SWAP" else f"chain_option_{uly}.json"
                return ok(json.loads((RECORDED / name).read_text())["data"])
            if q.get("instType") != "SWAP":
                return ok([])
            data = json.loads((RECORDED / "instruments_swap.json").read_text())["data"]
            return ok(data)
        if path == "/api/v5/public/time":
            return ok([{"ts": str(_ms())}])
        if path == "/api/v5/market/ticker":
            if self.reject_429 > 0:
                self.reject_429 -= 1
                self.ticker_429s += 1
                if self.plain_429:
                    return web.Response(status=429, text="Too Many Requests")
                return web.json_response({"msg": "Too Many Requests", "code": "50011"},
                                         status=429)
            return ok([self._ticker(q.get("instId", INST_ID))])
        if path == "/api/v5/market/books":
            return ok([self._book()])
        if path == "/api/v5/market/trades":
            return ok([self._trade(q.get("instId", INST_ID))])
        if path in ("/api/v5/market/candles", "/api/v5/market/history-candles"):
            return ok(self._candles())
        if path in ("/api/v5/trade/batch-orders", "/api/v5/trade/order") and request.method == "POST":
            return await self._place(request)
        if path == "/api/v5/trade/order":
            order = self.orders.get(q.get("clOrdId", "")) or next(
                (o for o in self.orders.values() if o["ordId"] == q.get("ordId")), None)
            if order is None:
                return web.json_response({"code": "51603", "msg": "Order does not exist",
                                          "data": []})
            return ok([order])
        if path == "/api/v5/trade/cancel-order" and request.method == "POST":
            return await self._cancel(request)
        if path == "/api/v5/trade/amend-order" and request.method == "POST":
            return await self._amend(request)
        if path == "/api/v5/trade/orders-pending":
            return ok([o for o in self.orders.values() if o["state"] == "live"])
        if path == "/api/v5/trade/cancel-all-after":
            body = await request.json()
            self.cancel_all_after.append((self.clock(), str(body.get("timeOut"))))
            trigger = "0" if str(body.get("timeOut")) == "0" else str(
                _ms() + 1000 * int(body.get("timeOut")))
            return ok([{"triggerTime": trigger, "tag": "", "ts": str(_ms())}])
        if path == "/api/v5/account/balance":  # a funded account: 10,000 USDT
            bal = "10000"
            return ok([{"totalEq": bal, "uTime": str(_ms()), "details": [
                {"ccy": "USDT", "eq": bal, "cashBal": bal, "availBal": bal, "frozenBal": "0",
                 "availEq": bal, "eqUsd": bal, "uTime": str(_ms())}]}])
        return ok([])  # positions, fills, funding ...: nothing there

    async def _place(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        items = body if isinstance(body, list) else [body]
        replies = []
        lose = False
        for item in items:
            self.order_posts += 1
            cid = item.get("clOrdId", "")
            if self.refuse_orders:
                code, text = self.refuse_orders[(self.order_posts - 1) % len(self.refuse_orders)]
                # "{api_key}": a venue that echoes the caller's key back in its error
                text = text.replace("{api_key}", request.headers.get("OK-ACCESS-KEY", ""))
                replies.append({"clOrdId": cid, "ordId": "", "sCode": code, "sMsg": text,
                                "tag": "", "ts": str(_ms())})
                continue
            if cid and cid in self.orders:
                self.duplicate_posts += 1
                replies.append({"clOrdId": cid, "ordId": "", "sCode": "51016",
                                "sMsg": "Duplicated clOrdId", "tag": "", "ts": str(_ms())})
                continue
            ord_id = str(312269865356374016 + len(self.orders))
            now = str(_ms())
            self.orders[cid or ord_id] = {
                "accFillSz": "0", "avgPx": "", "cTime": now, "category": "normal",
                "clOrdId": cid, "fee": "0", "feeCcy": "USDT", "fillPx": "", "fillSz": "0",
                "instId": item.get("instId", INST_ID), "instType": "SWAP", "lever": "5",
                "ordId": ord_id, "ordType": item.get("ordType", "limit"), "pnl": "0",
                "posSide": "net", "px": item.get("px", ""), "reduceOnly": "false",
                "side": item.get("side", "buy"), "state": "live", "sz": item.get("sz", "1"),
                "tag": "", "tdMode": item.get("tdMode", "cross"), "uTime": now,
            }
            replies.append({"clOrdId": cid, "ordId": ord_id, "tag": "", "ts": now,
                            "sCode": "0", "sMsg": ""})
            lose = lose or self.rng.random() < self.ack_loss
        failed = any(r["sCode"] != "0" for r in replies)
        payload = {"code": "1" if failed else "0", "msg": "Operation failed." if failed else "",
                   "data": replies}
        if lose:  # the order is in the book; the trader never hears so
            self.lost_acks += 1
            if self.rng.random() < 0.5:
                request.transport.close()  # connection cut mid-reply
                return web.Response(status=500)
            await asyncio.sleep(self.ack_delay_s)  # reply arrives after the client gave up
        return web.json_response(payload)

    async def _cancel(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.cancel_posts += 1
        order = next((o for o in self.orders.values() if o["ordId"] == body.get("ordId")
                      or (body.get("clOrdId") and o["clOrdId"] == body.get("clOrdId"))), None)
        if order is None or order["state"] != "live" or order["ordId"] in self.uncancellable:
            code, text = ("51400", "Order cancellation failed as the order has been filled, "
                          "canceled or does not exist")
            return web.json_response({"code": "1", "msg": "Operation failed.", "data": [
                {"clOrdId": body.get("clOrdId", ""), "ordId": body.get("ordId", ""),
                 "sCode": code, "sMsg": text}]})
        order["state"] = "canceled"
        return ok([{"clOrdId": order["clOrdId"], "ordId": order["ordId"], "sCode": "0",
                    "sMsg": ""}])

    async def _amend(self, request: web.Request) -> web.StreamResponse:
        """POST /api/v5/trade/amend-order as OKX v5 documents it: ordId or clOrdId, and
        newSz (the new TOTAL size, filled part included) and/or newPx; the reply names
        the order only (ordId, clOrdId, reqId, sCode, sMsg). 51503: the order has
        filled, been cancelled or does not exist."""
        body = await request.json()
        self.amend_bodies.append(body)
        order = next((o for o in self.orders.values() if o["ordId"] == body.get("ordId")
                      or (body.get("clOrdId") and o["clOrdId"] == body.get("clOrdId"))), None)
        if order is None or order["state"] not in ("live", "partially_filled"):
            return web.json_response({"code": "1", "msg": "Operation failed.", "data": [
                {"clOrdId": body.get("clOrdId", ""), "ordId": body.get("ordId", ""),
                 "reqId": body.get("reqId", ""), "sCode": "51503",
                 "sMsg": "Order modification failed as the order has been filled, "
                         "canceled or does not exist"}]})
        if "newSz" in body:
            order["sz"] = body["newSz"]
        if "newPx" in body:
            order["px"] = body["newPx"]
        order["uTime"] = str(_ms())
        return ok([{"clOrdId": order["clOrdId"], "ordId": order["ordId"],
                    "reqId": body.get("reqId", ""), "ts": order["uTime"], "sCode": "0",
                    "sMsg": ""}])

    # -- payloads (OKX v5 documented shapes) ----------------------------------
    def _ticker(self, inst_id: str) -> dict:
        self._price += 0.5
        px = f"{self._price:.1f}"
        return {"instType": "SWAP", "instId": inst_id, "last": px, "lastSz": "1",
                "askPx": f"{self._price + 0.1:.1f}", "askSz": "11", "bidPx": px, "bidSz": "5",
                "open24h": "39000", "high24h": "41000", "low24h": "38000", "volCcy24h": "2222",
                "vol24h": "222200", "sodUtc0": "39500", "sodUtc8": "39600", "ts": str(_ms())}

    def _book(self, seq: int = 1, prev: int = -1) -> dict:
        p = self._price
        asks = [[f"{p + 0.1 * (i + 1):.1f}", str(10 + i), "0", "1"] for i in range(3)]
        bids = [[f"{p - 0.1 * i:.1f}", str(5 + i), "0", "1"] for i in range(3)]
        if self.cross_books:  # bids 100-200 above the asks
            bids = [[f"{p + 100 + 50 * (2 - i):.1f}", "5", "0", "1"] for i in range(3)]
        if self.zero_levels:
            bids += [["0", "5", "0", "1"], ["-5", "1", "0", "1"]]
        return {"asks": [] if self.empty_asks else asks, "bids": bids,
                "ts": str(_ms()), "seqId": seq, "prevSeqId": prev}

    def _trade(self, inst_id: str) -> dict:
        return {"instId": inst_id, "tradeId": str(self.pushes + 1), "px": f"{self._price:.1f}",
                "sz": "1", "side": "buy", "ts": str(_ms()), "count": "1"}

    def _candles(self) -> list:
        hour = 3_600_000
        start = (_ms() // hour - 3) * hour
        return [[str(start + k * hour), "40000", "40100", "39900", "40050", "10", "0.1", "4005",
                 "1"] for k in reversed(range(3))]  # OKX returns newest first

    # -- websocket ------------------------------------------------------------
    async def ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.ws_connections += 1
        conn = self.ws_connections
        pushers: dict[str, asyncio.Task] = {}
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                if msg.data == "ping":
                    await ws.send_str("pong")
                    continue
                try:
                    req = json.loads(msg.data)
                except ValueError:
                    continue
                for arg in req.get("args") or []:
                    key = json.dumps(arg, sort_keys=True)
                    if req.get("op") == "subscribe":
                        self.subscriptions.append((arg.get("channel"), arg.get("instId")))
                        await ws.send_json({"event": "subscribe", "arg": arg, "connId": "f0"})
                        nth = sum(1 for c, _ in self.subscriptions if c == arg.get("channel"))
                        task = asyncio.ensure_future(self._push(ws, conn, arg, nth))
                        self._tasks.add(task)
                        task.add_done_callback(self._tasks.discard)
                        pushers[key] = task
                    elif req.get("op") == "unsubscribe":
                        if key in pushers:
                            pushers.pop(key).cancel()
                        await ws.send_json({"event": "unsubscribe", "arg": arg, "connId": "f0"})
                    elif req.get("op") == "login":
                        await ws.send_json({"event": "login", "code": "0", "msg": ""})
        finally:
            for t in pushers.values():
                t.cancel()
        return ws

    async def _push(self, ws: web.WebSocketResponse, conn: int, arg: dict, nth: int) -> None:
        channel, inst_id = arg.get("channel"), arg.get("instId", INST_ID)
        if channel == "tickers" and nth <= self.silent_subscriptions:
            return  # acknowledged, then nothing: a stalled stream
        count = 0
        seq = 0
        with contextlib.suppress(ConnectionError, RuntimeError):
            while not ws.closed:
                if self.paused:
                    await asyncio.sleep(self.push_s)
                    continue
                count += 1
                self.pushes += 1
                if channel == "tickers":
                    if count in self.malformed_pushes:
                        await ws.send_str(self.malformed_pushes[count])
                    else:
                        await ws.send_json({"arg": arg, "data": [self._ticker(inst_id)]})
                elif channel.startswith("books"):
                    seq += 1
                    # each push a full snapshot: the price moves, so no stale levels linger
                    await ws.send_json({"arg": arg, "action": "snapshot",
                                        "data": [self._book(seq, -1)]})
                elif channel == "trades":
                    await ws.send_json({"arg": arg, "data": [self._trade(inst_id)]})
                else:
                    return  # private channels: nothing to say
                if conn == 1 and self.drop_after is not None and self.pushes >= self.drop_after:
                    # drop while the client waits on its next message (a watch is pending)
                    await asyncio.sleep(0.05)
                    await ws.close()
                    return
                await asyncio.sleep(self.push_s)
