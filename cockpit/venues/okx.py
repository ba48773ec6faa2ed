"""OKX through ccxt: USDT and coin-margined swaps, futures and BTC/ETH options.

* Amounts are contracts (ccxt keeps OKX's ``sz``); one contract is ``ctVal x ctMult``
  (ccxt's ``contractSize`` is ``ctVal`` alone, wrong for options where ctMult is 0.01).
* IV (``markVol``) is already a fraction.
* Option greeks: OKX publishes price-adjusted greeks in coin (``delta``, ``vega`` ...)
  and Black-Scholes greeks in USD (``deltaBS``, ``gammaBS``, ``thetaBS`` per day,
  ``vegaBS`` per vol point), both per 1 coin of underlying. We take the BS set, the
  Deribit convention, scaled to one contract by ``contract_size``.
* HTTP 429 comes out of ccxt as ``ExchangeNotAvailable``: treated as a rate limit.
* Client order id: ``clOrdId`` (<= 32 alphanumerics); a duplicate answers 51016,
  mapped by ccxt to ``InvalidOrder``.
* Dead-man switch: ``cancel-all-after`` via ccxt ``cancel_all_orders_after``
  (timeout 10..120 s, 0 disarms).

References
----------
https://www.okx.com/docs-v5/en/#public-data-rest-api-get-option-market-data
https://www.okx.com/docs-v5/en/#order-book-trading-trade-post-cancel-all-after
"""

from __future__ import annotations

from typing import Any

from cockpit.model import VenueGreeks
from cockpit.venues.ccxt_base import VenueAdapter, _opt

__all__ = ["OkxAdapter"]


class OkxAdapter(VenueAdapter):
    name = "okx"
    ccxt_id = "okx"
    websocket_positions = True
    option_greeks = True
    dead_man_switch = True
    client_order_id_field = "clOrdId"
    client_order_id_max_len = 32
    client_order_id_pattern = r"[A-Za-z0-9]{1,32}"
    duplicate_id_codes = ("51016",)
    # no spot: a derivatives cockpit, and fewer markets to parse at start-up
    ccxt_options = {"fetchMarkets": {"types": ["future", "swap", "option"]}}

    def contract_size(self, market: dict) -> float:
        # ccxt takes ctVal alone; a contract is ctVal x ctMult (options: 1 x 0.01 BTC).
        info = market.get("info") or {}
        ct_val = _opt(info.get("ctVal"))
        ct_mult = _opt(info.get("ctMult"))
        if ct_val is None:
            return super().contract_size(market)
        return ct_val * (ct_mult if ct_mult is not None else 1.0)

    def venue_greeks(self, greeks: dict, market: dict) -> VenueGreeks | None:
        info = greeks.get("info") or {}
        size = self.contract_size(market)
        d, g, v, t = (_opt(info.get(k)) for k in ("deltaBS", "gammaBS", "vegaBS", "thetaBS"))
        if d is None:
            return super().venue_greeks(greeks, market)
        nan = float("nan")
        return VenueGreeks(
            delta=d * size,
            gamma=(g if g is not None else nan) * size,
            vega=(v if v is not None else nan) * size,
            theta=(t if t is not None else nan) * size,
        )

    def is_rate_limited(self, exc: BaseException) -> bool:
        # ccxt raises OKX's HTTP 429 as ExchangeNotAvailable: read it as a rate limit
        from ccxt.base.errors import ExchangeNotAvailable

        return super().is_rate_limited(exc) or (
            isinstance(exc, ExchangeNotAvailable) and "429" in str(exc))

    def index_price(self, info: dict) -> float | None:
        return _opt(info.get("idxPx"))

    async def fetch_by_client_id(self, exchange: Any, symbol: str, client_order_id: str):
        from ccxt.base.errors import OrderNotFound

        try:
            return await exchange.fetch_order(None, symbol, {"clOrdId": client_order_id})
        except OrderNotFound:
            return None

    async def arm_dead_man(self, exchange: Any, timeout_s: float, symbols: list[str]) -> None:
        await exchange.cancel_all_orders_after(int(timeout_s * 1000))

    async def disarm_dead_man(self, exchange: Any, symbols: list[str]) -> None:
        await exchange.cancel_all_orders_after(0)
