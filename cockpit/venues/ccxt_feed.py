"""Public market data from a real venue through ccxt.pro, with REST as the fallback.

What :class:`CcxtFeed` pushes into the sink, in order: instruments (with leverage
tiers where the venue publishes them), hourly bars (>= ``history_bars`` when the
venue has that much), then live books, tickers (merged with funding rates and, for
options, marks/IV/venue Greeks) and trades, plus a :class:`VenueStatus` with data
age, the retrying flag and clock skew.

When the venue misbehaves:

* connecting fails (no network): status "disconnected, retrying", exponential
  backoff with jitter, never a traceback;
* a stream errors: backoff and resubscribe; if websockets are unsupported or keep
  failing, that stream polls REST instead;
* a stream goes silent (ccxt.pro can stall without raising): the watchdog notices
  and the stream is resubscribed;
* Deribit book diffs are checked for ``prev_change_id`` continuity (ccxt.pro does
  not); on a gap the diff is dropped and the book resynced from a REST snapshot;
* a malformed payload is logged and skipped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from cockpit.model import Ticker, VenueStatus
from cockpit.venues.base import MarketFeed, MarketSink
from cockpit.venues.ccxt_base import (
    VenueAdapter,
    build_exchange,
    greeks_in_ticker,
    market_kind,
    to_bars,
    to_book,
    to_instrument,
    to_margin_tiers,
    to_ticker,
    to_trade,
)
from cockpit.venues.ccxt_convert import DROPPED
from cockpit.venues.defaults import no_symbols_message, resolve_symbols
from cockpit.venues.deribit import install_change_id_check

__all__ = ["CcxtFeed", "install_change_id_check"]  # the latter lives in deribit.py

log = logging.getLogger(__name__)

HOUR_MS = 3_600_000
_WATCH = {"book": "watch_order_book", "ticker": "watch_ticker", "trades": "watch_trades"}
_FETCH = {"book": "fetch_order_book", "ticker": "fetch_ticker", "trades": "fetch_trades"}
_HAS_WATCH = {"book": "watchOrderBook", "ticker": "watchTicker", "trades": "watchTrades"}
_UNWATCH = {"book": "un_watch_order_book", "ticker": "un_watch_ticker",
            "trades": "un_watch_trades"}


class CcxtFeed(MarketFeed):
    """A venue's public data for ``cfg.symbols``; ``exchange`` may be injected (tests)."""

    websocket = True

    def __init__(self, adapter: VenueAdapter, cfg: Any, *, clock: Callable[[], float] | None = None,
                 exchange: Any = None, use_websocket: bool = True, poll_s: float = 2.0,
                 watchdog_s: float = 30.0, history_bars: int = 2000, extras_s: float = 30.0,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.adapter = adapter
        self.venue = adapter.name
        self.option_greeks = adapter.option_greeks
        self.websocket = use_websocket
        self.cfg = cfg
        # empty: the venue's defaults, chosen at connect (cockpit.venues.defaults)
        self.symbols = list(getattr(cfg, "symbols", ()) or ())
        self.defaults_note = ""  # what the defaults chose, once connected
        self._clock = clock
        self._ex = exchange
        self.use_websocket = use_websocket
        self.poll_s = poll_s
        self.watchdog_s = watchdog_s
        self.history_bars = history_bars
        self.extras_s = extras_s
        self._sleep = sleep
        self._sink: MarketSink | None = None
        # set by the app in live mode (e.g. to the dead-man switch's status) so the
        # venue line shows "armed 60s, refreshed 12:01:05 UTC"
        self.dead_man_status: Callable[[], str | None] | None = None
        self._last_data_ms = 0
        self._skew_ms: int | None = None
        self._connected = False
        self._retrying = False
        self._message = ""
        self._notice = ""  # a lasting note for the venue line (unlisted symbols ...)
        self._status_sent: tuple = ((), 0)
        self._tickers: dict[str, dict] = {}
        self._funding: dict[str, dict] = {}
        self._greeks: dict[str, dict] = {}
        self._continuity: dict = {}
        self._resync: set[str] = set()
        self._trade_ids: dict[str, deque] = {}

    def now_ms(self) -> int:
        if self._clock is not None:
            return int(self._clock() * 1000)
        return int(time.time() * 1000)

    # -- status ----------------------------------------------------------------
    def _status(self, *, force: bool = False) -> None:
        """Push VenueStatus when health changed, or data time moved on >= 1 s
        (a burst of ticks is one status, not hundreds)."""
        if self._sink is None:
            return
        dead_man = self.dead_man_status() if self.dead_man_status is not None else None
        state = (self._connected, self._retrying, self._message, self._skew_ms, dead_man)
        sent_state, sent_data_ms = self._status_sent
        if not force and state == sent_state and self._last_data_ms - sent_data_ms < 1000:
            return
        self._status_sent = (state, self._last_data_ms)
        self._sink.on_venue_status(VenueStatus(
            venue=self.venue, connected=self._connected, last_data_ms=self._last_data_ms,
            message=self._message, clock_skew_ms=self._skew_ms, retrying=self._retrying,
            dead_man=dead_man,
        ))

    def _trouble(self, what: str, exc: BaseException) -> None:
        # type and first line only: ccxt messages can be long; never a traceback on screen
        text = str(exc).splitlines()[0][:120] if str(exc) else ""
        self._retrying = True
        self._message = f"{what}: {type(exc).__name__} {text}".strip()
        self._status(force=True)

    # -- lifecycle ---------------------------------------------------------------
    async def run(self, sink: MarketSink) -> None:
        from cockpit.venues.resilience import Backoff

        self._sink = sink
        self._message = "connecting"
        self._status(force=True)
        tasks: list[asyncio.Future] = []
        try:
            backoff = Backoff()
            while True:
                try:
                    await self._connect()
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # no network, venue down, bad config: keep trying
                    self._connected = False
                    self._trouble("connect", exc)
                    await self._sleep(backoff.next_delay())
            self._connected, self._retrying, self._message = True, False, self._notice
            self._status(force=True)
            tasks = [asyncio.ensure_future(self._stream(kind, s))
                     for s in self.symbols for kind in ("book", "ticker", "trades")]
            tasks.append(asyncio.ensure_future(self._extras()))
            tasks.append(asyncio.ensure_future(self._all_history()))
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self._ex is not None:
                try:
                    await self._ex.close()
                except Exception:  # closing a dead connection must not mask cancellation
                    pass

    async def _connect(self) -> None:
        if self._ex is None:
            # importing ccxt takes seconds: do it off the event loop so the screen stays live
            import importlib

            await asyncio.to_thread(importlib.import_module,
                                    "ccxt.pro" if self.use_websocket else "ccxt.async_support")
            self._ex = build_exchange(self.adapter, self.cfg, None, pro=self.use_websocket)
        if (self.adapter.book_continuity == "change_id" and self.use_websocket
                and not self._continuity and hasattr(self._ex, "handle_order_book")):
            self._continuity = install_change_id_check(self._ex, self._resync.add)
        await self._ex.load_markets()
        # no symbols configured (or the word "defaults"): the venue's own, from its markets
        self.symbols, self.defaults_note = await resolve_symbols(
            self.venue, self._ex, self.symbols, self.now_ms())
        unknown = [s for s in self.symbols if s not in self._ex.markets]
        if unknown:
            log.warning("%s: symbols not listed, skipped: %s", self.venue, ", ".join(unknown))
            self._notice = f"not listed: {', '.join(unknown)}"
        self.symbols = [s for s in self.symbols if s in self._ex.markets]
        if not self.symbols:
            self._notice = "; ".join(filter(None, (self._notice, no_symbols_message(self.venue))))
        await self._clock_skew()
        self._sink.on_instruments([to_instrument(self.adapter, self._ex.market(s),
                                                 await self._tiers(s)) for s in self.symbols])

    async def _all_history(self) -> None:
        """Hourly history for the vol models, after the live streams have started
        (options skipped: the models use the underlying's bars)."""
        for symbol in self.symbols:
            if self._ex.market(symbol).get("option"):
                continue
            try:
                await self._history(symbol)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("%s %s: history unavailable: %s", self.venue, symbol, exc)

    async def _tiers(self, symbol: str) -> tuple:
        market = self._ex.market(symbol)
        if market.get("option") or not self._ex.has.get("fetchLeverageTiers"):
            return ()
        try:
            tiers = await self._ex.fetch_leverage_tiers([symbol])
            return to_margin_tiers(tiers.get(symbol) or [])
        except Exception as exc:  # tiers are a nicety; margin falls back to flat rates
            log.info("%s %s: no leverage tiers (%s)", self.venue, symbol, type(exc).__name__)
            return ()

    async def _clock_skew(self) -> None:
        if not self._ex.has.get("fetchTime"):
            return
        from cockpit.venues.resilience import clock_skew_ms

        try:
            sent = self.now_ms()
            server = await self._ex.fetch_time()
            arrived = self.now_ms()
            self._skew_ms = clock_skew_ms(arrived, server, arrived - sent)
        except Exception as exc:
            log.info("%s: server time unavailable (%s)", self.venue, type(exc).__name__)

    async def _history(self, symbol: str) -> None:
        """Hourly bars, paging forward from ``history_bars`` hours ago to now."""
        limit = 1000
        since = self.now_ms() - self.history_bars * HOUR_MS
        rows: list[list] = []
        for _ in range(3 + self.history_bars // 100):  # bounded even if the venue pages oddly
            batch = await self._ex.fetch_ohlcv(symbol, "1h", since, limit)
            if not batch:
                break
            rows.extend(batch)
            nxt = int(batch[-1][0]) + HOUR_MS
            if nxt <= since or nxt > self.now_ms():
                break
            since = nxt
        if rows:
            self._sink.on_bars(to_bars(symbol, rows, 3600))

    # -- streams -----------------------------------------------------------------
    async def _stream(self, kind: str, symbol: str) -> None:
        from cockpit.venues.resilience import Backoff, Watchdog

        backoff = Backoff()
        watchdog = Watchdog(self.watchdog_s)
        use_ws = self.use_websocket and bool(self._ex.has.get(_HAS_WATCH[kind]))
        failures = 0
        fell_back, rest_polls = False, 0  # REST after a failing stream; retried later
        while True:
            try:
                if symbol in self._resync and kind == "book":
                    await self._resync_book(symbol)
                if use_ws:
                    data = await asyncio.wait_for(getattr(self._ex, _WATCH[kind])(symbol),
                                                  timeout=self.watchdog_s)
                else:
                    data = await getattr(self._ex, _FETCH[kind])(symbol)
                watchdog.feed()
                backoff.reset()
                failures = 0
                if self._retrying:
                    self._retrying, self._message = False, self._notice
                self._connected = True
                self._push(kind, symbol, data)
                if not use_ws:
                    await self._sleep(self.poll_s)
                    rest_polls += 1
                    if fell_back and rest_polls >= 150:  # ~5 min at 2 s: try the stream again
                        use_ws, fell_back, rest_polls = True, False, 0
            except asyncio.CancelledError:
                raise
            except TimeoutError:
                # silent stream: ccxt.pro did not raise, the watchdog noticed
                self._trouble(f"{symbol} {kind} silent {self.watchdog_s:g}s, resubscribing",
                              TimeoutError())
                watchdog.reset()
                await self._unwatch(kind, symbol)
            except Exception as exc:
                from ccxt.base.errors import BadResponse, InvalidNonce, NotSupported

                if isinstance(exc, NotSupported):
                    use_ws = False
                    continue
                if isinstance(exc, InvalidNonce) and kind == "book":
                    # ccxt.pro saw a checksum/sequence break (OKX, Bybit, Binance): resubscribe
                    log.warning("%s %s: book out of sequence (%s); resubscribing", self.venue,
                                symbol, type(exc).__name__)
                    await self._unwatch(kind, symbol)
                    await self._sleep(backoff.next_delay())
                    continue
                if isinstance(exc, BadResponse | KeyError | TypeError | ValueError | IndexError):
                    DROPPED.add(f"{self.venue} malformed {kind} payloads skipped", symbol,
                                "the payload does not parse")
                    await self._sleep(self.poll_s)
                    continue
                failures += 1
                limited = self.adapter.is_rate_limited(exc)
                self._trouble(f"{symbol} {kind}{' rate limited, backing off' if limited else ''}",
                              exc)
                if use_ws and failures >= 5:
                    log.warning("%s %s %s: websocket keeps failing; polling REST", self.venue,
                                symbol, kind)
                    use_ws, fell_back, rest_polls = False, True, 0
                await self._sleep(backoff.next_delay())

    async def _unwatch(self, kind: str, symbol: str) -> None:
        method = getattr(self._ex, _UNWATCH[kind], None)
        try:
            if method is not None:
                await method(symbol)
                return
        except Exception as exc:
            log.info("%s: unwatch %s failed (%s); closing sockets", self.venue, kind, exc)
        for client in list(getattr(self._ex, "clients", {}).values()):
            try:
                await client.close()
            except Exception:
                pass

    async def _resync_book(self, symbol: str) -> None:
        ob = await self._ex.fetch_order_book(symbol)
        stored = self._ex.counted_order_book()
        for side in ("bids", "asks"):
            for price, amount, *_ in ob.get(side) or []:
                stored[side].storeArray([price, amount, 1])
        stored["symbol"] = symbol
        stored["timestamp"] = ob.get("timestamp")
        self._ex.orderbooks[symbol] = stored
        if symbol in self._continuity and ob.get("nonce") is not None:
            self._continuity[symbol].reset(int(ob["nonce"]))
        self._resync.discard(symbol)
        self._push("book", symbol, ob)

    def _push(self, kind: str, symbol: str, data: Any) -> None:
        """Convert and hand to the sink; a malformed payload is logged and skipped."""
        try:
            market = self._ex.market(symbol)
            if kind == "book":
                if symbol in self._resync:
                    return  # out of sync: never show a patched-wrong book
                book = to_book(self.adapter, data, market)
                self._sink.on_book(book)
                self._seen(book.ts_ms)
            elif kind == "ticker":
                self._tickers[symbol] = data
                ticker = self._ticker(symbol)
                self._sink.on_ticker(ticker)
                self._seen(ticker.ts_ms)
            else:
                # REST polls return the same recent prints again: pass each one once
                seen = self._trade_ids.setdefault(symbol, deque(maxlen=1000))
                for t in data[-50:]:
                    trade = to_trade(self.adapter, t, market)
                    key = trade.id or f"{trade.ts_ms}:{trade.price}:{trade.amount}"
                    if key in seen:
                        continue
                    seen.append(key)
                    self._sink.on_trade(trade)
                    self._seen(trade.ts_ms)
        except Exception:
            DROPPED.add(f"{self.venue} malformed {kind} payloads skipped", symbol,
                        "the payload does not parse")
        self._status()

    def _seen(self, ts_ms: int) -> None:
        if ts_ms and ts_ms > self._last_data_ms:
            self._last_data_ms = ts_ms

    def _ticker(self, symbol: str) -> Ticker:
        raw = self._tickers.get(symbol) or {}
        market = self._ex.market(symbol)
        # the stream's own Greeks are fresher than the polled ones when the venue sends them
        greeks = greeks_in_ticker(self._ex, raw, market) or self._greeks.get(symbol)
        return to_ticker(self.adapter, raw, market, greeks=greeks,
                         funding=self._funding.get(symbol))

    async def _extras(self) -> None:
        """Funding rates and marks (perps, futures) and venue Greeks (options), polled;
        clock skew refreshed every tenth round."""
        rounds = 0
        while True:
            for symbol in self.symbols:
                kind = market_kind(self._ex.market(symbol))
                try:
                    if kind in ("perp", "future"):
                        extra: dict = {}
                        if kind == "perp" and self._ex.has.get("fetchFundingRate"):
                            extra = dict(await self._ex.fetch_funding_rate(symbol))
                        if not extra.get("markPrice") and self._ex.has.get("fetchMarkPrice"):
                            # OKX tickers carry no mark, nor does its funding structure
                            marked = await self._ex.fetch_mark_price(symbol)
                            extra["markPrice"] = marked.get("markPrice")
                            extra["indexPrice"] = extra.get("indexPrice") or marked.get(
                                "indexPrice")
                        if not extra:
                            continue
                        self._funding[symbol] = extra
                    elif kind == "option" and self._ex.has.get("fetchGreeks"):
                        self._greeks[symbol] = await self._ex.fetch_greeks(symbol)
                    else:
                        continue
                    if symbol in self._tickers:
                        self._sink.on_ticker(self._ticker(symbol))
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.info("%s %s: extras unavailable (%s)", self.venue, symbol,
                             type(exc).__name__)
            rounds += 1
            if rounds % 10 == 0:
                await self._clock_skew()
            await self._sleep(self.extras_s)
