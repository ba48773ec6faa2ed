"""Several venues in one session: symbol keys, per-venue sinks and the order router.

Symbol identity
---------------
Two venues can list the same ccxt symbol (``BTC/USDT:USDT`` on Binance, Bybit, OKX
and the built-in market). In a session of several venues every key in the Store is
venue-qualified, always: ``BTC/USDT:USDT@okx``, ``BTC/USD:BTC-261225-100000-C@sim``
(:func:`qualify`). Always, not only where two venues collide: a key must not change
when a venue is added or when its instruments arrive in another order, because the
paper accounts and journals keep positions and orders under it. A single-venue
session keeps bare ccxt symbols exactly as before (its keys, journal and state file
are untouched by this module).

Conversion happens at the venue boundary and nowhere else:

* :class:`QualifyingSink` sits between one venue's feed and the Store;
* :class:`VenueListener` hands one venue's paper broker only its own market data
  (keys stay qualified: a multi-venue paper account keeps qualified keys in its
  state file, which is its own, ``--state`` ``-VENUE``);
* :class:`NativeBroker` wraps a live (ccxt) broker: requests leave with the venue's
  own symbol, everything that comes back is qualified again;
* :class:`Router` is the one ``Broker`` the desk talks to: each call goes to the
  broker of the key's venue. The desk's gate and journal are routed the same way
  (``cockpit.venue_gates``, ``cockpit.journal_router``).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping

from cockpit.accounts import combine_accounts, tag_account, with_mode
from cockpit.model import Account, Fill, Order, OrderRequest, Position
from cockpit.venues.base import Broker

SEP = "@"


def qualify(symbol: str, venue: str) -> str:
    """The Store key of ``symbol`` on ``venue`` in a multi-venue session."""
    return symbol if symbol.endswith(SEP + venue) else f"{symbol}{SEP}{venue}"


def split_key(key: str) -> tuple[str, str]:
    """(ccxt symbol, venue) of a key; venue ``""`` for a bare symbol."""
    symbol, sep, venue = key.rpartition(SEP)
    return (symbol, venue) if sep else (key, "")


def venue_of(key: str) -> str:
    return split_key(key)[1]


def native(key: str) -> str:
    return split_key(key)[0]


def _q(item, venue: str):
    return dataclasses.replace(item, symbol=qualify(item.symbol, venue))


def qualify_order(o: Order, venue: str) -> Order:
    return _q(o, venue)


def qualify_account(account: Account, venue: str) -> Account:
    """The account with every symbol qualified and every position tagged with ``venue``."""
    account = dataclasses.replace(
        account, venue=venue,
        positions=tuple(_q(p, venue) for p in account.positions),
        open_orders=tuple(_q(o, venue) for o in account.open_orders),
        fills=tuple(_q(f, venue) for f in account.fills))
    return tag_account(account, venue)


class QualifyingSink:
    """One venue's feed -> the shared Store: every symbol qualified, every instrument
    and status named after the venue."""

    def __init__(self, venue: str, sink) -> None:
        self.venue = venue
        self.sink = sink

    def on_instruments(self, instruments) -> None:
        self.sink.on_instruments([dataclasses.replace(i, symbol=qualify(i.symbol, self.venue),
                                                      venue=self.venue) for i in instruments])

    def on_ticker(self, ticker) -> None:
        self.sink.on_ticker(_q(ticker, self.venue))

    def on_book(self, book) -> None:
        self.sink.on_book(_q(book, self.venue))

    def on_trade(self, trade) -> None:
        self.sink.on_trade(_q(trade, self.venue))

    def on_bars(self, bars) -> None:
        self.sink.on_bars(_q(bars, self.venue))

    def on_venue_status(self, status) -> None:
        self.sink.on_venue_status(dataclasses.replace(status, venue=self.venue))

    def on_account(self, account: Account) -> None:  # a live broker's run() pushes here
        self.sink.on_account(with_mode(qualify_account(account, self.venue), "live"))


class VenueListener:
    """The Store's accepted market data for one venue only, to that venue's paper broker."""

    def __init__(self, venue: str, listener) -> None:
        self.venue = venue
        self.listener = listener

    def _mine(self, symbol: str) -> bool:
        return venue_of(symbol) == self.venue

    def on_instruments(self, instruments) -> None:
        mine = [i for i in instruments if self._mine(i.symbol)]
        if mine:
            self.listener.on_instruments(mine)

    def _pass(self, method: str, item) -> None:
        if self._mine(item.symbol):
            getattr(self.listener, method)(item)

    def on_ticker(self, ticker) -> None:
        self._pass("on_ticker", ticker)

    def on_book(self, book) -> None:
        self._pass("on_book", book)

    def on_trade(self, trade) -> None:
        self._pass("on_trade", trade)

    def on_data_suspect(self, item: tuple[str, str | None]) -> None:
        if self._mine(item[0]):
            self.listener.on_data_suspect(item)


class NativeBroker(Broker):
    """A live venue broker spoken to in qualified keys (see the module docstring)."""

    def __init__(self, venue: str, inner: Broker) -> None:
        self.venue_name = venue
        self.inner = inner
        self.paper = inner.paper
        self.dead_man_switch = inner.dead_man_switch
        self.websocket_positions = inner.websocket_positions

    def __getattr__(self, name: str):  # dead_man_status and other read-only extras
        return getattr(self.inner, name)

    def _o(self, o: Order) -> Order:
        return qualify_order(o, self.venue_name)

    async def create_order(self, request: OrderRequest) -> Order:
        return self._o(await self.inner.create_order(
            dataclasses.replace(request, symbol=native(request.symbol))))

    async def cancel_order(self, order_id: str, symbol: str | None = None) -> Order:
        return self._o(await self.inner.cancel_order(order_id, symbol and native(symbol)))

    async def cancel_all_orders(self, symbol: str | None = None) -> list[Order]:
        return [self._o(o) for o in await self.inner.cancel_all_orders(symbol and native(symbol))]

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        return [self._o(o) for o in await self.inner.fetch_open_orders(symbol and native(symbol))]

    async def fetch_positions(self) -> list[Position]:
        return [dataclasses.replace(p, symbol=qualify(p.symbol, self.venue_name),
                                    venue=self.venue_name)
                for p in await self.inner.fetch_positions()]

    async def fetch_balance(self):
        return await self.inner.fetch_balance()

    async def fetch_my_trades(self, since_ms: int | None = None) -> list[Fill]:
        return [_q(f, self.venue_name) for f in await self.inner.fetch_my_trades(since_ms)]

    async def fetch_order_by_client_id(self, client_order_id: str, symbol: str) -> Order | None:
        o = await self.inner.fetch_order_by_client_id(client_order_id, native(symbol))
        return None if o is None else self._o(o)

    async def amend_order(self, order_id: str, symbol: str | None = None, *,
                          price: float | None = None, amount: float | None = None) -> Order:
        return self._o(await self.inner.amend_order(order_id, symbol and native(symbol),
                                                    price=price, amount=amount))

    def account(self) -> Account:
        return qualify_account(self.inner.account(), self.venue_name)

    def resting_orders(self) -> list[Order]:
        return [self._o(o) for o in self.inner.resting_orders()]

    async def run(self, sink, **kw) -> None:
        run = getattr(self.inner, "run", None)
        if run is not None:
            await run(QualifyingSink(self.venue_name, sink), **kw)

    def close(self) -> None:
        self.inner.close()

    async def aclose(self, *, disarm_dead_man: bool | None = None) -> None:
        await self.inner.aclose(disarm_dead_man=disarm_dead_man)


class Router(Broker):
    """The desk's one broker in a multi-venue session: each order goes to the broker
    of its key's venue (``BTC/USDT:USDT@okx`` -> the OKX account). ``brokers`` maps
    venue -> a broker speaking qualified keys (a paper broker or a :class:`NativeBroker`)."""

    def __init__(self, brokers: Mapping[str, Broker]) -> None:
        self.brokers = dict(brokers)
        self.paper = all(b.paper for b in self.brokers.values())
        self.dead_man_switch = any(b.dead_man_switch for b in self.brokers.values())

    def broker_for(self, key: str) -> Broker:
        venue = venue_of(key)
        try:
            return self.brokers[venue]
        except KeyError:
            known = ", ".join(sorted(self.brokers))
            raise ValueError(f"symbol {key!r}: no venue {venue!r} in this session "
                             f"(venues: {known}); give SYMBOL@VENUE") from None

    async def create_order(self, request: OrderRequest) -> Order:
        return await self.broker_for(request.symbol).create_order(request)

    async def _find(self, order_id: str) -> Broker | None:
        for b in self.brokers.values():
            if any(o.id == order_id for o in b.resting_orders()):
                return b
        return None

    async def cancel_order(self, order_id: str, symbol: str | None = None) -> Order:
        b = self.broker_for(symbol) if symbol else await self._find(order_id)
        if b is None:
            raise ValueError(f"order {order_id}: not resting on any venue of this session")
        return await b.cancel_order(order_id, symbol)

    async def amend_order(self, order_id: str, symbol: str | None = None, *,
                          price: float | None = None, amount: float | None = None) -> Order:
        b = self.broker_for(symbol) if symbol else await self._find(order_id)
        if b is None:
            raise ValueError(f"order {order_id}: not resting on any venue of this session")
        return await b.amend_order(order_id, symbol, price=price, amount=amount)

    async def _each(self, method: str, *args) -> list:
        """Call every venue; one venue failing fails the whole (the caller checks)."""
        out: list = []
        for b in self.brokers.values():
            out.extend(await getattr(b, method)(*args))
        return out

    async def cancel_all_orders(self, symbol: str | None = None) -> list[Order]:
        if symbol:
            return await self.broker_for(symbol).cancel_all_orders(symbol)
        return await self._each("cancel_all_orders")

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        if symbol:
            return await self.broker_for(symbol).fetch_open_orders(symbol)
        return await self._each("fetch_open_orders")

    async def fetch_positions(self) -> list[Position]:
        return await self._each("fetch_positions")

    async def fetch_balance(self):
        return await self._each("fetch_balance")

    async def fetch_my_trades(self, since_ms: int | None = None) -> list[Fill]:
        fills = await self._each("fetch_my_trades", since_ms)
        return sorted(fills, key=lambda f: f.ts_ms)

    async def fetch_order_by_client_id(self, client_order_id: str, symbol: str) -> Order | None:
        return await self.broker_for(symbol).fetch_order_by_client_id(client_order_id, symbol)

    def accounts(self) -> dict[str, Account]:
        return {venue: b.account() for venue, b in self.brokers.items()}

    def account(self) -> Account:
        return combine_accounts(self.accounts())

    def resting_orders(self) -> list[Order]:
        return [o for b in self.brokers.values() for o in b.resting_orders()]

    async def run(self, sink, **kw) -> None:
        """Each live venue's account poll (and dead-man switch); paper brokers have none."""
        runs = [b.run(sink, **kw) for b in self.brokers.values() if hasattr(b, "run")]
        if runs:
            await asyncio.gather(*runs)

    def close(self) -> None:
        for b in self.brokers.values():
            b.close()

    async def aclose(self, *, disarm_dead_man: bool | None = None) -> None:
        for b in self.brokers.values():
            await b.aclose(disarm_dead_man=disarm_dead_man)
