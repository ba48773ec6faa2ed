"""Deribit through ccxt: inverse BTC/ETH futures and coin-settled options.

Quirks normalised here (checked in ccxt 4.5.90):

* Futures and perpetual amounts (order, position ``size``, book levels, trades) are
  in USD; one contract is ``contract_size`` USD (10 for BTC), so contracts = USD / 10.
  Option amounts are in coin (contract size 1).
* ``mark_iv`` / ``bid_iv`` / ``ask_iv`` are in percent (65.0 means 0.65).
* Option prices are in BTC (or ETH); ``underlying_price`` is the USD forward.
* ccxt's margin percentages are x100; we use the raw margins (coin), never the rates.
* ccxt.pro has no ``watch_positions`` for Deribit: positions are polled.
* ccxt.pro applies book diffs without checking ``prev_change_id``; the feed checks
  continuity itself (``book_continuity = "change_id"``) and resyncs from REST.
* Client order id: Deribit has no unique client id; we put ours in ``label``
  (<= 64 chars) and look orders up with ``private/get_order_state_by_label``.
* Dead-man switch: ``private/enable_cancel_on_disconnect`` protects only orders
  created on the same websocket connection, and ccxt places Deribit orders over
  REST. So the live broker opens one authenticated websocket session
  (:class:`DeribitWsSession`), routes ccxt's ``private/buy`` / ``private/sell``
  through it (ccxt still builds the request and parses the answer) and enables
  cancel-on-disconnect there (scope ``connection``). The switch is shown live only
  while that session is connected; without it orders go over REST, unprotected,
  and the switch is not shown armed.

References
----------
https://docs.deribit.com/#public-get_order_book, #public-ticker, #private-get_positions,
#private-buy, #private-enable_cancel_on_disconnect
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from cockpit.venues.ccxt_base import VenueAdapter

__all__ = ["DeribitAdapter", "DeribitWsSession", "install_change_id_check"]

log = logging.getLogger(__name__)


def _usd_sized(market: dict) -> bool:
    return bool(market.get("inverse")) and not market.get("option")


class DeribitAdapter(VenueAdapter):
    name = "deribit"
    ccxt_id = "deribit"
    websocket_positions = False
    option_greeks = True
    dead_man_switch = True
    client_order_id_field = "label"
    client_order_id_max_len = 64
    client_order_id_pattern = r"[\x21-\x7e]{1,64}"
    iv_in_percent = True
    book_continuity = "change_id"

    def contracts_from_venue(self, amount: float, market: dict) -> float:
        if _usd_sized(market):
            return amount / float(market.get("contractSize") or 1.0)
        return amount

    def contracts_to_venue(self, contracts: float, market: dict) -> float:
        if _usd_sized(market):
            return contracts * float(market.get("contractSize") or 1.0)
        return contracts

    def index_price(self, info: dict) -> float | None:
        value = info.get("index_price")
        return float(value) if value not in (None, "") else None

    def client_order_id_of(self, order: dict) -> str:
        info = order.get("info") or {}
        return order.get("clientOrderId") or info.get("label") or ""

    def order_params(self, client_order_id: str, reduce_only: bool, post_only: bool) -> dict:
        params: dict = {"label": client_order_id}
        if reduce_only:
            params["reduceOnly"] = True
        if post_only:
            params["postOnly"] = True
        return params

    async def fetch_by_client_id(self, exchange: Any, symbol: str, client_order_id: str):
        market = exchange.market(symbol)
        response = await exchange.privateGetGetOrderStateByLabel(
            {"currency": market["baseId"], "label": client_order_id}
        )
        orders = exchange.parse_orders(response.get("result") or [], market)
        return orders[0] if orders else None

    def __init__(self) -> None:
        self.session: DeribitWsSession | None = None

    async def attach_ws(self, exchange: Any, pro_exchange: Any) -> None:
        """Open the order session and send ``exchange``'s order creates through it."""
        session = DeribitWsSession(pro_exchange)
        await session.open()
        self.session = session
        session.route(exchange)

    async def arm_dead_man(self, exchange: Any, timeout_s: float, symbols: list[str]) -> None:
        # timeout_s does not apply: Deribit cancels the moment the connection drops
        if self.session is None or not self.session.connected:
            raise ConnectionError("deribit: no websocket order session; "
                                  "cancel-on-disconnect cannot cover REST orders")
        await self.session.call("private/enable_cancel_on_disconnect", {"scope": "connection"})

    async def disarm_dead_man(self, exchange: Any, symbols: list[str]) -> None:
        if self.session is not None and self.session.connected:
            await self.session.call("private/disable_cancel_on_disconnect",
                                    {"scope": "connection"})

    def dead_man_live(self) -> bool:
        return self.session is not None and self.session.connected


def install_change_id_check(exchange: Any, on_gap: Callable[[str], None]) -> dict:
    """Wrap a ccxt.pro Deribit exchange's book handler with a continuity check.

    A snapshot resets the chain. A diff covers (``prev_change_id``, ``change_id``]
    and carries absolute level amounts, so it applies whenever
    ``prev_change_id <= last < change_id`` (normally ``prev == last``; after a REST
    resync at ``last`` a diff may straddle it). A diff already contained
    (``change_id <= last``) is skipped. A diff with ``prev_change_id > last`` means
    messages were lost: it is dropped, the book is marked out of sync, the waiting
    watcher is woken and ``on_gap(symbol)`` asks the caller to resync from REST
    (then ``continuity[symbol].reset(change_id)``). Returns the per-symbol
    :class:`~cockpit.venues.resilience.BookContinuity` map.

    References
    ----------
    https://docs.deribit.com/#book-instrument_name-interval ("prev_change_id")
    """
    from cockpit.venues.resilience import BookContinuity

    continuity: dict[str, BookContinuity] = {}
    original = exchange.handle_order_book

    def checked(client: Any, message: dict) -> None:
        params = message.get("params") or {}
        data = params.get("data") or {}
        symbol = exchange.safe_symbol(data.get("instrument_name"))
        change_id, prev = data.get("change_id"), data.get("prev_change_id")
        book = continuity.setdefault(symbol, BookContinuity())
        if change_id is None or (prev is None and data.get("type") != "change"):
            # a snapshot, or a full book from the grouped-depth channel: no chain to check
            exchange.orderbooks.pop(symbol, None)
            if change_id is not None:
                book.reset(int(change_id))
            return original(client, message)
        change_id = int(change_id)
        last = book.last_id
        if book.in_sync and last is not None and change_id <= last:
            return None  # already in the book (e.g. older than a REST resync)
        if book.in_sync and last is not None and prev is not None and int(prev) < last:
            book.reset(change_id)  # straddles a REST snapshot: absolute amounts, safe
            return original(client, message)
        was_in_sync = book.in_sync
        if book.check(prev, change_id):
            return original(client, message)
        if was_in_sync:
            log.warning("deribit %s: book gap (prev_change_id %s, last %s): resync",
                        symbol, prev, last)
            on_gap(symbol)
            stored = exchange.orderbooks.get(symbol)
            parts = str(params.get("channel") or "").split(".")
            descriptor = ".".join(parts[2:])
            if stored is not None:  # wake the watcher so the feed resyncs now
                client.resolve(stored, f"book|{symbol}|{descriptor}")
        return None

    exchange.handle_order_book = checked
    return continuity


class DeribitWsSession:
    """JSON-RPC over one authenticated ccxt.pro Deribit websocket connection.

    ccxt.pro's Deribit client only handles subscriptions and ``public/auth``; this
    wraps its message handler so an answer carrying our request ``id`` resolves our
    call (or rejects it with ccxt's own error mapping).
    """

    NUMERIC = ("amount", "price", "trigger_price", "max_show", "contracts")

    def __init__(self, pro_exchange: Any) -> None:
        self.pro = pro_exchange
        self.url = pro_exchange.urls["api"]["ws"]
        original = pro_exchange.handle_message

        def handle(client: Any, message: Any) -> Any:
            rid = message.get("id") if isinstance(message, dict) else None
            key = f"rpc:{rid}"
            if rid is not None and key in client.futures:
                if message.get("error") is not None:
                    try:
                        pro_exchange.handle_errors(200, "", self.url, "WS", {},
                                                   pro_exchange.json(message), message, {}, "")
                        error: Exception = ConnectionError(f"deribit: {message['error']}")
                    except Exception as exc:  # ccxt's mapping of the venue's error code
                        error = exc
                    client.reject(error, key)
                else:
                    client.resolve(message, key)
                return None
            return original(client, message)

        pro_exchange.handle_message = handle  # before the client exists, so it is used

    async def open(self) -> None:
        await self.pro.authenticate()

    @property
    def connected(self) -> bool:
        client = (getattr(self.pro, "clients", None) or {}).get(self.url)
        return client is not None and not client.closed()

    async def call(self, method: str, params: dict) -> dict:
        """Send one private JSON-RPC call on the session; returns the venue's message."""
        rid = self.pro.request_id()
        key = f"rpc:{rid}"
        body = {k: (float(v) if k in self.NUMERIC and isinstance(v, str) else v)
                for k, v in params.items()}
        request = {"jsonrpc": "2.0", "id": rid, "method": method, "params": body}
        if not self.connected:
            await self.open()  # a new connection must authenticate before private calls
        try:
            return await self.pro.watch(self.url, key, request, key)
        finally:
            client = self.pro.clients.get(self.url)
            if client is not None:
                client.subscriptions.pop(key, None)

    def route(self, exchange: Any) -> None:
        """ccxt keeps building and parsing ``exchange``'s creates; only the transport
        changes, so cancel-on-disconnect covers the orders we create."""

        async def buy(params: dict | None = None) -> dict:
            return await self.call("private/buy", params or {})

        async def sell(params: dict | None = None) -> dict:
            return await self.call("private/sell", params or {})

        exchange.privateGetBuy = buy
        exchange.privateGetSell = sell
