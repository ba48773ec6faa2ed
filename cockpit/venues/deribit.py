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
* Dead-man switch: ``private/enable_cancel_on_disconnect``. Over REST only the
  ``account`` scope is allowed, so it is armed account-wide: when the account's
  sessions drop, Deribit cancels its open orders.

References
----------
https://docs.deribit.com/#public-get_order_book, #public-ticker, #private-get_positions,
#private-buy, #private-enable_cancel_on_disconnect
"""

from __future__ import annotations

from typing import Any

from cockpit.venues.ccxt_base import VenueAdapter

__all__ = ["DeribitAdapter"]


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

    async def arm_dead_man(self, exchange: Any, timeout_s: float, symbols: list[str]) -> None:
        await exchange.privateGetEnableCancelOnDisconnect({"scope": "account"})

    async def disarm_dead_man(self, exchange: Any, symbols: list[str]) -> None:
        await exchange.privateGetDisableCancelOnDisconnect({"scope": "account"})
