"""Bybit v5 through ccxt: USDT linear perps, inverse contracts, USDC options.

* Amounts are in coin (contract size 1); IV (``markIv``) is a fraction; option prices
  are in USDC; greeks per contract in USD (vega per vol point, theta per day).
* Client order id: ``orderLinkId`` (<= 36 chars); a duplicate answers 110072, mapped
  by ccxt to ``InvalidOrder``. ccxt generates its own id for options when none is
  given; we always give ours.
* Dead-man switch: DCP (``/v5/order/disconnected-cancel-all``) through ccxt
  ``cancel_all_orders_after``. Bybit only fires it while a private websocket is
  subscribed to the ``dcp`` topic, so it is reported live only while that
  subscription task runs on a connected socket (``subscribe_dcp``).

References
----------
https://bybit-exchange.github.io/docs/v5/order/dcp
https://bybit-exchange.github.io/docs/v5/market/tickers (option greeks)
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from cockpit.venues.ccxt_base import VenueAdapter

__all__ = ["BybitAdapter"]

log = logging.getLogger(__name__)


class BybitAdapter(VenueAdapter):
    name = "bybit"
    ccxt_id = "bybit"
    websocket_positions = True
    option_greeks = True
    dead_man_switch = True
    client_order_id_field = "orderLinkId"
    client_order_id_max_len = 36
    client_order_id_pattern = r"[A-Za-z0-9_-]{1,36}"
    duplicate_id_codes = ("110072",)
    # no spot: a derivatives cockpit, and fewer markets to parse at start-up
    ccxt_options = {"fetchMarkets": {"types": ["linear", "inverse", "option"]}}

    def __init__(self) -> None:
        self._dcp_task: asyncio.Task | None = None

    def funding_interval_h(self, market: dict) -> float:
        minutes = (market.get("info") or {}).get("fundingInterval")
        try:
            return float(minutes) / 60.0 if minutes else 8.0
        except (TypeError, ValueError):
            return 8.0

    async def fetch_positions(self, exchange: Any, symbols: list[str]) -> list[dict]:
        # ccxt's bybit fetch_positions refuses more than one symbol per call
        if not symbols:
            return await exchange.fetch_positions(None)
        out: list[dict] = []
        for symbol in symbols:
            out.extend(await exchange.fetch_positions([symbol]))
        return out

    async def fetch_by_client_id(self, exchange: Any, symbol: str, client_order_id: str):
        from ccxt.base.errors import OrderNotFound

        for method in ("fetch_open_order", "fetch_closed_order"):
            try:
                return await getattr(exchange, method)(
                    None, symbol, {"orderLinkId": client_order_id}
                )
            except (OrderNotFound, AttributeError):
                continue
        return None

    async def subscribe_dcp(self, pro_exchange: Any) -> None:
        """Keep a private websocket subscribed to ``dcp`` (runs until cancelled)."""
        url = await pro_exchange.get_url_by_market_type(None, True, "watchPositions", {})
        await pro_exchange.authenticate(url)
        await pro_exchange.watch_topics(url, ["dcp"], ["dcp"], {})

    def start_dcp(self, pro_exchange: Any) -> None:
        if self._dcp_task is None or self._dcp_task.done():
            self._dcp_task = asyncio.ensure_future(self.subscribe_dcp(pro_exchange))
            self._dcp_task.add_done_callback(self._dcp_ended)

    @staticmethod
    def _dcp_ended(task: asyncio.Task) -> None:
        # retrieve the error so it is logged once here, not at garbage collection
        if not task.cancelled() and task.exception() is not None:
            log.warning("bybit: dcp subscription ended (%s); dead-man switch not live",
                        type(task.exception()).__name__)

    def dead_man_live(self) -> bool:
        # Without a live dcp subscription Bybit never fires the switch: never show it armed.
        return self._dcp_task is not None and not self._dcp_task.done()

    async def arm_dead_man(self, exchange: Any, timeout_s: float, symbols: list[str]) -> None:
        await exchange.cancel_all_orders_after(int(timeout_s * 1000))

    async def disarm_dead_man(self, exchange: Any, symbols: list[str]) -> None:
        # DCP has no "off" window (3..300 s); leaving the dcp topic is what disarms it.
        if self._dcp_task is not None:
            self._dcp_task.cancel()
            self._dcp_task = None
