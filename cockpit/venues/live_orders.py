"""Our orders at a live venue: create, look up, amend, cancel, cancel-all (mixed into
:class:`cockpit.venues.live_broker.CcxtBroker`, which holds the exchange, the rate
limiter, the account and the dead-man switch these methods use).

Orders are the dangerous part, so the rules are strict:

* every order carries OUR client order id in the venue's field (Binance
  ``newClientOrderId``, Bybit ``orderLinkId``, OKX ``clOrdId``, Deribit ``label``);
* amounts and prices go through ccxt's ``amount_to_precision`` /
  ``price_to_precision``; minimum amount and minimum cost are checked before any
  request (reduce-only closes are exempt from the minimum cost);
* an order create is never retried, by ccxt (``maxRetriesOnFailure`` 0) or by us.
  When it times out or fails ambiguously (``RequestTimeout``, ``NetworkError``,
  ``ExchangeNotAvailable``) the order is looked up by client id, then fills and the
  position are checked; "not found" is never read as "not placed" without those;
* a venue's duplicate-client-id error (OKX 51016, Bybit 110072, Binance -4116, all
  ccxt ``InvalidOrder``) means the first one landed: it is resolved to that order;
* any other refusal is raised as ``VenueRefused``, one sentence ("OKX refused:
  insufficient margin (51008)"); the venue's raw reply is logged only;
* cancel-all works on every venue: where ccxt has no ``cancelAllOrders`` (OKX), the
  open orders are listed and cancelled one by one, then listed again; any order still
  open is named in ``CancelIncomplete``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace

from cockpit.model import Order, OrderRequest
from cockpit.venues.ccxt_base import to_order
from cockpit.venues.errors import refusal_sentence
from cockpit.venues.order_safety import (
    check_client_id,
    check_request,
    min_cost_check,
    new_client_order_id,
    venue_amount_and_price,
    verdict_from_fills,
)

log = logging.getLogger("cockpit.venues.live_broker")  # same logger as before the split


class OrderStatusUnknown(Exception):
    """An order create failed ambiguously and the look-up failed too: do not resend
    blindly; the message names the client id to look for on the venue."""


class CancelIncomplete(Exception):
    """Cancel-all left orders open; the message names them. ``cancelled`` holds the
    orders that were cancelled."""

    def __init__(self, message: str, cancelled: list[Order]) -> None:
        super().__init__(message)
        self.cancelled = cancelled


class LiveOrders:
    """The order path of :class:`CcxtBroker`, under this module's rules. It uses the
    broker's ``adapter``, ``venue``, ``live``, ``symbols``, ``_ex``, ``_call``, ``_market``,
    ``now_ms``, ``_clock``, ``_sleep``, ``_lookup_attempts``, ``dead_man``,
    ``_order_session``, ``fetch_positions`` and its ``_open`` / ``_positions`` / ``_ts_ms``."""

    def new_client_order_id(self) -> str:
        return new_client_order_id(self._clock(), self.adapter.client_order_id_max_len)

    async def _reference_price(self, request: OrderRequest) -> float | None:
        if request.price is not None:
            return request.price
        ticker = await self._call("fetch_ticker", request.symbol)
        for key in ("last", "markPrice", "close"):
            value = ticker.get(key)
            if value:
                return float(value)
        return None

    async def _prepare(self, request: OrderRequest, market: dict) -> tuple[float, float | None]:
        """Venue amount and price, rounded by ccxt; raises ValueError before any order."""
        check_request(request)
        amount, price = venue_amount_and_price(self._ex, self.adapter, request, market)
        needs_price = market.get("linear") and not request.reduce_only and (
            ((market.get("limits") or {}).get("cost") or {}).get("min"))
        reference = await self._reference_price(request) if needs_price else None
        min_cost_check(request, market, amount, reference)
        return amount, price

    def _order(self, raw: dict, market: dict, cid: str,
                request: OrderRequest | None = None) -> Order:
        order = to_order(self.adapter, raw, market)
        if not order.client_order_id:
            order = replace(order, client_order_id=cid)
        if request is not None:
            # create acks are often ids only (OKX, Bybit): what we asked for fills the gaps
            order = replace(
                order,
                amount=order.amount or request.amount,
                price=order.price if order.price is not None else request.price,
                side=order.side or request.side, type=order.type or request.type,
                reduce_only=order.reduce_only or request.reduce_only,
                post_only=order.post_only or request.post_only,
                ts_ms=order.ts_ms or self.now_ms(),
            )
        if order.status == "open":
            self._open[order.id] = order
        else:
            self._open.pop(order.id, None)
        self._resting_changed()
        return order

    def _resting_changed(self) -> None:
        if self.dead_man is not None:
            self.dead_man.set_resting(bool(self._open))

    # -- orders --------------------------------------------------------------
    async def create_order(self, request: OrderRequest) -> Order:
        if not self.live:
            raise PermissionError(f"{self.venue}: live trading is off (read-only account); "
                                  "start with --live or set live = true for this venue")
        market = await self._market(request.symbol)
        await self._order_session()
        cid = request.client_order_id or self.new_client_order_id()
        check_client_id(self.adapter, cid)
        amount, price = await self._prepare(request, market)
        params = self.adapter.order_params(cid, request.reduce_only, request.post_only)
        position_before = await self._position_contracts(request.symbol, cached=True)
        sent_ms = self.now_ms()
        from ccxt.base.errors import ExchangeError, InvalidOrder, NetworkError

        try:
            raw = await self._call("create_order", request.symbol, request.type, request.side,
                                   amount, price, params)
        except InvalidOrder as exc:
            if not self.adapter.is_duplicate_id_error(exc):
                raise refusal_sentence(self.venue, exc) from None
            # the venue already holds an order with our id: the first send landed
            log.warning("%s: duplicate client id %s; resolving to the existing order",
                        self.venue, cid)
            found = await self._lookup(request.symbol, cid)
            if found is not None:
                return self._order(found, market, cid, request)
            raise OrderStatusUnknown(
                f"{self.venue}: venue says client id {cid} exists but it cannot be found; "
                "check the venue before resending") from None
        except NetworkError as exc:  # RequestTimeout, ExchangeNotAvailable, DDoSProtection
            log.warning("%s: create %s ended ambiguously (%s); looking it up, not resending",
                        self.venue, cid, type(exc).__name__)
            return await self._resolve_ambiguous(request, market, cid, position_before,
                                                 sent_ms, exc)
        except ExchangeError as exc:  # insufficient margin, bad price ...: the venue said no
            raise refusal_sentence(self.venue, exc) from None
        return self._order(raw, market, cid, request)

    async def _lookup(self, symbol: str, cid: str) -> dict | None:
        """The venue's order with client id ``cid`` (open or done), or None."""
        from ccxt.base.errors import OrderNotFound

        try:
            found = await self.adapter.fetch_by_client_id(self._ex, symbol, cid)
        except OrderNotFound:
            found = None
        if found is None:
            for o in await self._call("fetch_open_orders", symbol):
                if self.adapter.client_order_id_of(o) == cid:
                    return o
        return found

    async def _resolve_ambiguous(self, request: OrderRequest, market: dict, cid: str,
                                 position_before: float | None, sent_ms: int,
                                 exc: Exception) -> Order:
        from ccxt.base.errors import NetworkError

        last_error: Exception = exc
        for attempt in range(self._lookup_attempts):
            try:
                found = await self._lookup(request.symbol, cid)
                if found is not None:
                    return self._order(found, market, cid, request)
                # Not found is not "not placed": look for fills and a position change
                # (2 s of slack: the venue's clock may run behind ours).
                since = sent_ms - 2000
                trades = await self._call("fetch_my_trades", request.symbol, since)
                position_after = await self._position_contracts(request.symbol, cached=False)
                return verdict_from_fills(self.adapter, request, market, cid, trades, since,
                                          position_before, position_after, exc)
            except NetworkError as lookup_error:
                last_error = lookup_error
                await self._sleep(0.5 * 2**attempt)
        raise OrderStatusUnknown(
            f"{self.venue}: order {cid} status unknown after {type(exc).__name__} and "
            f"{self._lookup_attempts} failed look-ups ({type(last_error).__name__}); "
            "do not resend: check the venue for this client id"
        )

    async def _position_contracts(self, symbol: str, *, cached: bool) -> float | None:
        if cached and symbol in self._positions:
            return self._positions[symbol].contracts
        if cached and self._ts_ms:
            return 0.0  # positions known and none in this symbol
        try:
            await self.fetch_positions()
        except Exception as err:  # the order path must not die on a position read
            log.warning("%s: position read failed: %s", self.venue, type(err).__name__)
            return None
        position = self._positions.get(symbol)
        return position.contracts if position is not None else 0.0

    async def cancel_order(self, order_id: str, symbol: str | None = None) -> Order:
        from ccxt.base.errors import ExchangeError, OrderNotFound

        try:
            raw = await self._call("cancel_order", order_id, symbol)
        except OrderNotFound:
            raise
        except ExchangeError as exc:
            raise refusal_sentence(self.venue, exc) from None
        market = await self._market(raw.get("symbol") or symbol)
        order = to_order(self.adapter, raw, market)
        if order.status == "open":  # ccxt often echoes the request only
            order = replace(order, status="canceled")
        self._open.pop(order.id, None)
        self._resting_changed()
        return order

    async def amend_order(self, order_id: str, symbol: str | None = None, *,
                          price: float | None = None, amount: float | None = None) -> Order:
        """ccxt ``edit_order`` on a resting limit (OKX ``amend-order``): the new price and
        the new TOTAL amount, checked and rounded as a create is (a price off the tick is
        refused, not moved); the client id stays. The venue's answer is looked up by
        client id (amend acks are ids only)."""
        from ccxt.base.errors import ExchangeError, OrderNotFound

        if not self.live:
            raise PermissionError(f"{self.venue}: live trading is off (read-only account); "
                                  "start with --live or set live = true for this venue")
        old = self._open.get(order_id)
        symbol = symbol or (old.symbol if old is not None else None)
        if symbol is None:
            raise ValueError(f"symbol: order {order_id} is not among our resting orders; "
                             "give its symbol")
        market = await self._market(symbol)
        old = old or next(
            (o for o in await self.fetch_open_orders(symbol) if o.id == order_id), None)
        if old is None or old.status != "open":
            raise ValueError(f"order {order_id} on {symbol} is not resting any more: "
                             "nothing to amend")
        if old.type != "limit" or old.price is None:
            raise ValueError(f"order {order_id} on {symbol} is a {old.type} order: only a "
                             "resting limit can be amended")
        request = OrderRequest(symbol, old.side, "limit", old.amount if amount is None
                               else amount, old.price if price is None else price,
                               reduce_only=old.reduce_only, post_only=old.post_only,
                               client_order_id=old.client_order_id)
        venue_amount, venue_price = await self._prepare(request, market)
        if venue_price is not None and not math.isclose(venue_price, request.price,
                                                        rel_tol=1e-9):
            raise ValueError(f"price: {request.price:g} is not on {symbol}'s tick; use "
                             f"{venue_price:g}")
        if request.amount <= old.filled + 1e-12:
            raise ValueError(f"amount: {old.filled:g} of {symbol} has already filled; the new "
                             "total must be larger (or cancel the order)")
        try:
            await self._call("edit_order", order_id, symbol, "limit", old.side,
                             venue_amount, venue_price, {})
        except OrderNotFound:
            raise ValueError(f"order {order_id} on {symbol} is not resting any more: "
                             "nothing to amend") from None
        except ExchangeError as exc:
            raise refusal_sentence(self.venue, exc) from None
        found = await self._lookup(symbol, old.client_order_id)
        if found is not None:
            return self._order(found, market, old.client_order_id)
        amended = replace(old, price=request.price, amount=request.amount)
        self._open[amended.id] = amended  # not found by id right now: what we asked for
        return amended

    async def cancel_all_orders(self, symbol: str | None = None) -> list[Order]:
        """Every open order (of ``symbol``) cancelled: in one call where the venue has
        one, else one by one and checked (see module)."""
        if not (getattr(self._ex, "has", None) or {}).get("cancelAllOrders"):
            return await self._cancel_each(symbol)
        symbols = [symbol] if symbol else (self.symbols or [None])
        out: list[Order] = []
        for sym in symbols:
            for raw in await self._call("cancel_all_orders", sym) or []:
                if isinstance(raw, dict) and raw.get("symbol") in self._ex.markets:
                    out.append(to_order(self.adapter, raw, self._ex.market(raw["symbol"])))
        self._open = {k: v for k, v in self._open.items() if symbol and v.symbol != symbol}
        self._resting_changed()
        return out

    async def _cancel_each(self, symbol: str | None) -> list[Order]:
        """List the open orders, cancel each, list again: what is still open is named."""
        from ccxt.base.errors import OrderNotFound

        listed = await self.fetch_open_orders(symbol)
        cancelled: list[Order] = []
        why: dict[str, str] = {}
        for order in listed:
            try:
                cancelled.append(await self.cancel_order(order.id, order.symbol))
            except OrderNotFound:
                continue  # filled or cancelled meanwhile: not open any more
            except Exception as exc:  # one refusal must not stop the other cancels
                why[order.id] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        left = await self.fetch_open_orders(symbol)
        if left:
            names = ", ".join(f"{o.symbol} {o.side} {o.amount:g} (id {o.id})" for o in left[:5])
            reason = next((why[o.id] for o in left if o.id in why), "still listed as open")
            raise CancelIncomplete(
                f"{self.venue}: cancelled {len(cancelled)} of {len(listed)} open orders; "
                f"still open: {names}{' ...' if len(left) > 5 else ''} ({reason}); cancel "
                "them on the venue", cancelled)
        return cancelled

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        symbols = [symbol] if symbol else (self.symbols or [None])
        if symbol is None:
            self._open.clear()  # the venue's list replaces ours (fills, cancels elsewhere)
        out = []
        for sym in symbols:
            for raw in await self._call("fetch_open_orders", sym):
                if raw.get("symbol") in self._ex.markets:
                    out.append(self._order(raw, self._ex.market(raw["symbol"]),
                                           self.adapter.client_order_id_of(raw)))
        return out

    async def fetch_order_by_client_id(self, client_order_id: str, symbol: str) -> Order | None:
        """Looked up at the venue by client id (open or done), as the ambiguous-create
        path does; None when the venue has no such order."""
        if symbol not in self._ex.markets:
            return None
        raw = await self._lookup(symbol, client_order_id)
        return None if raw is None else self._order(raw, self._ex.market(symbol), client_order_id)
