"""Order safety for the live broker, as plain functions: the checks made before an
order is sent, and the verdict on a create that ended ambiguously.

Before sending: side/type/amount/price sane, our client id in a form the venue
accepts, minimum amount, ccxt's precision rounding, minimum cost (reduce-only
closes exempt). Each refusal is one line naming the field and the fix.

After an ambiguous create (timeout, network error): the order was looked up by
client id and not found; :func:`verdict_from_fills` reads the fills and the position
change, because "not found" is never taken as "not placed" on its own.
"""

from __future__ import annotations

import math
import re
import secrets
from typing import TYPE_CHECKING, Any

from cockpit.model import Order, OrderRequest

if TYPE_CHECKING:
    from cockpit.venues.ccxt_base import VenueAdapter

__all__ = [
    "check_client_id",
    "check_request",
    "min_cost_check",
    "new_client_order_id",
    "venue_amount_and_price",
    "verdict_from_fills",
]


def new_client_order_id(now_s: float, max_len: int) -> str:
    """"ck" + ms timestamp (hex) + 64 random bits: alphanumeric, which all four
    venues accept, unique, cut to the venue's maximum length."""
    return ("ck" + format(int(now_s * 1000), "x") + secrets.token_hex(8))[:max_len]


def check_client_id(adapter: VenueAdapter, cid: str) -> None:
    pattern = adapter.client_order_id_pattern
    if not re.fullmatch(pattern, cid):
        raise ValueError(f"client_order_id: {cid!r} is not accepted by {adapter.name} "
                         f"(must match {pattern}); leave it empty to have one generated")


def check_request(request: OrderRequest) -> None:
    if request.side not in ("buy", "sell"):
        raise ValueError(f"side: {request.side!r}; use 'buy' or 'sell'")
    if request.type not in ("market", "limit"):
        raise ValueError(f"type: {request.type!r}; use 'market' or 'limit'")
    if not (math.isfinite(request.amount) and request.amount > 0):
        raise ValueError(f"amount: {request.amount} is not a positive number of contracts")
    if request.type == "limit" and (request.price is None or not request.price > 0):
        raise ValueError(f"price: a limit order on {request.symbol} needs a positive price")


def venue_amount_and_price(exchange: Any, adapter: VenueAdapter, request: OrderRequest,
                           market: dict) -> tuple[float, float | None]:
    """The amount (venue units) and price as ccxt's precision helpers round them;
    ValueError if below the minimum amount or rounded to nothing."""
    from ccxt.base.errors import InvalidOrder

    symbol = request.symbol
    venue_amount = adapter.contracts_to_venue(request.amount, market)
    min_amount = ((market.get("limits") or {}).get("amount") or {}).get("min")
    if min_amount and venue_amount < float(min_amount) * (1 - 1e-9):
        min_contracts = adapter.contracts_from_venue(float(min_amount), market)
        raise ValueError(f"amount: {request.amount} contracts is below {symbol}'s minimum "
                         f"amount {min_contracts:g}; raise the amount")
    try:
        amount = float(exchange.amount_to_precision(symbol, venue_amount))
        price = (float(exchange.price_to_precision(symbol, request.price))
                 if request.price is not None else None)
    except InvalidOrder as exc:
        raise ValueError(f"amount: {request.amount} contracts rounds to zero at {symbol}'s "
                         f"precision; raise the amount ({exc})") from None
    return amount, price


def min_cost_check(request: OrderRequest, market: dict, amount: float,
                   reference_price: float | None) -> None:
    """Refuse an order worth less than the venue's minimum (quote currency); linear
    contracts only; reduce-only closes are exempt (a venue lets you close dust)."""
    min_cost = ((market.get("limits") or {}).get("cost") or {}).get("min")
    if not min_cost or request.reduce_only or not market.get("linear"):
        return
    if reference_price is None:
        return
    value = amount * float(market.get("contractSize") or 1.0) * reference_price
    if value < float(min_cost):
        quote = market.get("quote") or ""
        raise ValueError(
            f"min cost: {request.symbol} order value {value:.2f} {quote} is below the venue "
            f"minimum {float(min_cost):g} {quote}; raise the amount (reduce-only closes are "
            "exempt)"
        )


def verdict_from_fills(adapter: VenueAdapter, request: OrderRequest, market: dict, cid: str,
                       trades: list[dict], since_ms: int, position_before: float | None,
                       position_after: float | None, error: BaseException) -> Order:
    """What happened to an order not found by client id after ``error``.

    Our-side fills since ``since_ms`` (without another client id) or a position that
    moved our way mean it executed (closed, or open if partly); neither means it was
    not placed (``status="rejected"``; resend with the same client id, so a late
    arrival is caught as a duplicate).
    """
    fills = [t for t in trades
             if adapter.client_order_id_of(t) in ("", cid) and t.get("side") == request.side
             and int(t.get("timestamp") or since_ms) >= since_ms]
    filled = sum(adapter.contracts_from_venue(float(t.get("amount") or 0), market) for t in fills)
    sign = 1 if request.side == "buy" else -1
    moved = (position_before is not None and position_after is not None
             and sign * (position_after - position_before) > 1e-12)
    name = type(error).__name__
    common = dict(client_order_id=cid, symbol=request.symbol, side=request.side,
                  type=request.type, amount=request.amount, price=request.price,
                  reduce_only=request.reduce_only, post_only=request.post_only, ts_ms=since_ms)
    if fills or moved:
        done = min(filled, request.amount) if fills else request.amount
        prices = [float(t["price"]) for t in fills if t.get("price")]
        return Order(id=str(fills[0].get("order") or "") if fills else "", filled=done,
                     average=sum(prices) / len(prices) if prices else None,
                     status="closed" if done >= request.amount else "open",
                     reason=f"create ended with {name}; not found by client id but "
                            "fills/position show it executed", **common)
    return Order(id="", filled=0.0, average=None, status="rejected",
                 reason=f"create ended with {name}; no order with client id {cid}, no fills, "
                        "position unchanged: not placed (resend with the same client id)",
                 **common)
