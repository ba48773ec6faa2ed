"""The live broker: a trader's own account on a real venue through ccxt's private API.

Here: the connection and its rate limit, the account as the venue reports it
(positions, balances, fills, the venue's own margin), the dead-man switch and the
lifecycle. The order path, where the strict rules are, is
:mod:`cockpit.venues.live_orders` (mixed into :class:`CcxtBroker`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from cockpit.model import Account, Balance, Fill, Order, Position
from cockpit.venues.base import Broker
from cockpit.venues.ccxt_base import (
    USD_LIKE,
    VenueAdapter,
    build_exchange,
    to_balances,
    to_fill,
    to_position,
)
from cockpit.venues.live_orders import CancelIncomplete, LiveOrders, OrderStatusUnknown

__all__ = ["CancelIncomplete", "CcxtBroker", "OrderStatusUnknown"]

log = logging.getLogger(__name__)

# venues whose ccxt balance "total" already includes unrealised PnL (equity)
_TOTAL_IS_EQUITY = {"deribit", "okx", "binanceusdm"}


class CcxtBroker(LiveOrders, Broker):
    """Broker over a venue's private API. ``exchange`` may be injected (tests)."""

    paper = False

    def __init__(self, adapter: VenueAdapter, cfg: Any, credentials: Any, *,
                 exchange: Any = None, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 lookup_attempts: int = 3, live: bool | None = None,
                 dead_man_timeout_s: float = 60.0) -> None:
        self.adapter = adapter
        self.venue = adapter.name
        self.websocket_positions = adapter.websocket_positions
        self.dead_man_switch = adapter.dead_man_switch
        self.client_order_id_field = adapter.client_order_id_field
        # make_broker is called after the --live / config opt-in and passes live=True;
        # otherwise the config decides, and without an opt-in the account is read-only.
        self.live = bool(getattr(cfg, "live", False)) if live is None else live
        self.symbols = list(getattr(cfg, "symbols", ()) or ())
        self._ex = exchange if exchange is not None else build_exchange(adapter, cfg, credentials)
        self._cfg = cfg
        self._credentials = credentials
        self._pro: Any = None
        if credentials is not None and hasattr(credentials, "secrets"):
            from cockpit.keys import install_redaction

            install_redaction(credentials)  # ccxt logs request headers at DEBUG
        self._clock = clock
        self._sleep = sleep
        self._lookup_attempts = max(1, lookup_attempts)
        self._limiter = None
        key_id = getattr(credentials, "key_id", "") if credentials is not None else ""
        if key_id:
            from cockpit.venues.resilience import rate_limiter_for

            rate = 1000.0 / max(float(getattr(self._ex, "rateLimit", 50) or 50), 1.0)
            self._limiter = rate_limiter_for(key_id, rate, max(rate, 5.0))
        self._positions: dict[str, Position] = {}
        self._balances: list[Balance] = []
        self._venue_margin: tuple[float, float] | None = None  # (IM, MM) USD, account-level
        self._open: dict[str, Order] = {}
        self._fills: deque[Fill] = deque(maxlen=500)
        self._ts_ms = 0
        self.dead_man = None
        if self.live and adapter.dead_man_switch and dead_man_timeout_s > 0:
            from cockpit.venues.deadman import DeadManSwitch

            # ready: Bybit fires only with its dcp subscription, Deribit only for
            # orders created on its websocket session
            self.dead_man = DeadManSwitch(
                adapter.name, dead_man_timeout_s, self.arm_dead_man, self.disarm_dead_man,
                clock=clock, sleep=sleep, ready=self.dead_man_live,
            )
        self._session_tried_s = -math.inf

    # -- helpers -----------------------------------------------------------
    def now_ms(self) -> int:
        return int(self._clock() * 1000)

    async def _call(self, method: str, *args: Any) -> Any:
        if self._limiter is not None:
            await self._limiter.acquire()
        return await getattr(self._ex, method)(*args)

    async def _market(self, symbol: str) -> dict:
        if not self._ex.markets:
            await self._ex.load_markets()
        if symbol not in self._ex.markets:
            raise ValueError(f"symbol: {symbol!r} is not listed on {self.venue}; "
                             "use ccxt's unified form, e.g. BTC/USDT:USDT")
        return self._ex.market(symbol)

    async def fetch_positions(self) -> list[Position]:
        if not self._ex.markets:
            await self._ex.load_markets()
        if self._limiter is not None:
            await self._limiter.acquire(max(1, len(self.symbols)))
        raws = await self.adapter.fetch_positions(self._ex, self.symbols)
        positions = []
        for raw in raws:
            symbol = raw.get("symbol")
            if symbol not in (self._ex.markets or {}):
                log.warning("%s: position in unknown market %r skipped", self.venue, symbol)
                continue
            p = to_position(self.adapter, raw, self._ex.market(symbol))
            if p.contracts != 0:
                positions.append(p)
        self._positions = {p.symbol: p for p in positions}
        self._ts_ms = self.now_ms()
        return positions

    async def fetch_balance(self) -> list[Balance]:
        raw = await self._call("fetch_balance")
        coins = [c for c, v in (raw.get("total") or {}).items() if v and c not in USD_LIKE]
        prices = {}
        for coin in coins:
            price = await self._usd_price(coin)
            if price is not None:
                prices[coin] = price
        self._balances = to_balances(raw, prices)
        from cockpit.venues.account_margin import account_margin_usd

        self._venue_margin = account_margin_usd(self.venue, raw.get("info"), prices)
        return self._balances

    async def _usd_price(self, coin: str) -> float | None:
        for p in self._positions.values():
            if p.symbol.startswith(f"{coin}/USD:") and math.isfinite(p.mark_price):
                return p.mark_price
        for symbol in (f"{coin}/USD:{coin}", f"{coin}/USDT:USDT", f"{coin}/USDC:USDC"):
            if symbol in (self._ex.markets or {}):
                ticker = await self._call("fetch_ticker", symbol)
                price = ticker.get("markPrice") or ticker.get("last")
                return float(price) if price else None
        return None

    async def fetch_my_trades(self, since_ms: int | None = None) -> list[Fill]:
        fills = []
        for sym in self.symbols or [None]:
            for raw in await self._call("fetch_my_trades", sym, since_ms):
                if raw.get("symbol") in self._ex.markets:
                    fills.append(to_fill(self.adapter, raw, self._ex.market(raw["symbol"])))
        known = {f.id for f in self._fills}
        self._fills.extend(f for f in sorted(fills, key=lambda f: f.ts_ms) if f.id not in known)
        return fills

    async def refresh(self) -> Account:
        """Poll positions, balances, open orders and new fills (Deribit has no position
        stream); fills from the last one seen, or the last 24 h at first."""
        await self.fetch_positions()
        await self.fetch_balance()
        await self.fetch_open_orders()
        since = self._fills[-1].ts_ms if self._fills else self.now_ms() - 86_400_000
        await self.fetch_my_trades(since)
        return self.account()

    def account(self) -> Account:
        positions = tuple(self._positions.values())
        upnl = sum(p.unrealised_pnl_usd for p in positions)
        wallet = sum(b.usd_value for b in self._balances)
        equity = wallet if self.venue in _TOTAL_IS_EQUITY else wallet + upnl
        # The venue's account-level figure holds open-order margin and its offsets;
        # the positions' sum is a floor: never show less than either.
        im = sum(p.initial_margin_usd for p in positions)
        mm = sum(p.maintenance_margin_usd for p in positions)
        venue_im, venue_mm = self._venue_margin or (0.0, 0.0)
        return Account(
            venue=self.venue,
            ts_ms=self._ts_ms,
            balances=tuple(self._balances),
            positions=positions,
            open_orders=tuple(self._open.values()),
            fills=tuple(self._fills)[-200:],
            equity_usd=equity,
            initial_margin_usd=max(im, venue_im),
            maintenance_margin_usd=max(mm, venue_mm),
            unrealised_pnl_usd=upnl,
        )

    # -- dead-man switch -----------------------------------------------------
    async def arm_dead_man(self, timeout_s: float) -> None:
        """Arm (or refresh) the venue's switch: resting orders are cancelled if we go
        silent for ``timeout_s``. Bybit also needs its private ``dcp`` subscription."""
        if not self.adapter.dead_man_switch:
            raise NotImplementedError(f"{self.venue}: no dead-man switch")
        if self.adapter.name == "bybit":
            if self._pro is None:
                self._pro = build_exchange(self.adapter, self._cfg, self._credentials, pro=True)
            self.adapter.start_dcp(self._pro)
        await self._order_session()
        await self.adapter.arm_dead_man(self._ex, timeout_s, self.symbols)

    async def _order_session(self) -> None:
        """Deribit: open the websocket session orders are created on (so
        cancel-on-disconnect covers them); at most one attempt a minute. Without
        it orders still go out over REST, and the switch is not shown live."""
        attach = getattr(self.adapter, "attach_ws", None)
        if attach is None or not self.live or self.adapter.dead_man_live():
            return
        now = self._clock()
        if now - self._session_tried_s < 60.0:
            return
        self._session_tried_s = now
        try:
            if self._pro is None:
                self._pro = build_exchange(self.adapter, self._cfg, self._credentials, pro=True)
            await attach(self._ex, self._pro)
        except Exception as exc:
            log.warning("%s: websocket order session unavailable (%s); orders over REST, "
                        "dead-man switch not live", self.venue, type(exc).__name__)

    async def disarm_dead_man(self) -> None:
        """Disarm on a clean exit only (a crash leaves it armed, which is the point)."""
        await self.adapter.disarm_dead_man(self._ex, self.symbols)

    def dead_man_live(self) -> bool:
        """Whether the venue would fire the switch now (Bybit: dcp subscription up)."""
        return self.adapter.dead_man_live()

    # -- lifecycle -----------------------------------------------------------
    async def run(self, sink: Any, *, poll_s: float = 5.0) -> None:
        """Poll balances, positions and open orders into ``sink.on_account`` until
        cancelled (Deribit has no position stream; one loop serves all venues), and
        keep the dead-man switch armed while orders rest. Errors are logged with
        backoff, never raised."""
        from cockpit.venues.resilience import Backoff

        switch = asyncio.ensure_future(self.dead_man.run()) if self.dead_man else None
        backoff = Backoff()
        try:
            while True:
                try:
                    sink.on_account(await self.refresh())
                    backoff.reset()
                    await self._sleep(poll_s)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("%s: account poll failed: %s", self.venue, type(exc).__name__)
                    await self._sleep(backoff.next_delay())
        finally:
            if switch is not None:
                switch.cancel()  # cancelling leaves the venue switch armed: only close() disarms

    def dead_man_status(self) -> str | None:
        """"armed 60s, refreshed 12:01:05 UTC" while the venue would fire, else None."""
        return self.dead_man.status() if self.dead_man is not None else None

    def resting_orders(self) -> list[Order]:
        """Our orders the venue holds open, as last seen (no request)."""
        return list(self._open.values())

    async def aclose(self, *, disarm_dead_man: bool | None = None) -> None:
        """Clean exit, then close connections. ``disarm_dead_man=None`` (a plain
        close) disarms the dead-man switch only when no order of ours rests, so no
        order outlives the session by accident; True is the trader choosing to leave
        orders resting; False leaves the venue timer to cancel them."""
        if self.dead_man is not None:
            resting = bool(self._open)
            disarm = (not resting) if disarm_dead_man is None else disarm_dead_man
            if resting and not disarm:
                log.warning("%s: %d order(s) rest; the dead-man switch is left armed and "
                            "cancels them within %gs", self.venue, len(self._open),
                            self.dead_man.timeout_s)
            await self.dead_man.close(disarm=disarm)
        await self._ex.close()
        if self._pro is not None:
            await self._pro.close()

    def close(self) -> None:
        """Synchronous close (the app calls it on unmount): schedules :meth:`aclose`."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self.aclose())
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
