"""Binance USD-M futures through ccxt: linear USDT/USDC perpetuals.

* Amounts are in base coin (contract size 1); IV not applicable (no options here).
* Client order id: ``newClientOrderId`` (<= 36 chars of ``[.A-Z:/a-z0-9_-]``);
  a duplicate id answers code -4116, which ccxt maps to plain ``InvalidOrder``.
* Dead-man switch: ``POST /fapi/v1/countdownCancelAll`` per symbol, a heartbeat the
  venue expects to be refreshed before ``countdownTime`` runs out; 0 cancels it.
* Leverage tiers: ``GET /fapi/v1/leverageBracket`` (ccxt ``fetch_leverage_tiers``),
  including the "cum" maintenance deduction.

References
----------
https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Auto-Cancel-All-Open-Orders
https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code (-4116)
"""

from __future__ import annotations

from typing import Any

from cockpit.venues.ccxt_base import VenueAdapter

__all__ = ["BinanceUsdmAdapter"]


class BinanceUsdmAdapter(VenueAdapter):
    name = "binanceusdm"
    ccxt_id = "binanceusdm"
    websocket_positions = True
    option_greeks = False
    dead_man_switch = True
    client_order_id_field = "newClientOrderId"
    client_order_id_max_len = 36
    client_order_id_pattern = r"[.A-Z:/a-z0-9_-]{1,36}"
    duplicate_id_codes = ("-4116",)

    async def fetch_by_client_id(self, exchange: Any, symbol: str, client_order_id: str):
        from ccxt.base.errors import OrderNotFound

        try:
            return await exchange.fetch_order(
                None, symbol, {"origClientOrderId": client_order_id}
            )
        except OrderNotFound:
            return None

    async def arm_dead_man(self, exchange: Any, timeout_s: float, symbols: list[str]) -> None:
        for symbol in symbols:
            await exchange.fapiPrivatePostCountdownCancelAll(
                {"symbol": exchange.market_id(symbol), "countdownTime": int(timeout_s * 1000)}
            )

    async def disarm_dead_man(self, exchange: Any, symbols: list[str]) -> None:
        for symbol in symbols:
            await exchange.fapiPrivatePostCountdownCancelAll(
                {"symbol": exchange.market_id(symbol), "countdownTime": 0}
            )
