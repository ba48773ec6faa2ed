"""The two axes of DESIGN.md: where prices come from (MarketFeed) and who fills
orders (Broker). Every venue adapter, the built-in market and the paper broker
implement these; the app asks the class flags, never guesses.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Protocol

from cockpit.model import (
    Account,
    Balance,
    Bars,
    Book,
    Fill,
    Instrument,
    Order,
    OrderRequest,
    Position,
    Ticker,
    Trade,
    VenueStatus,
)


class MarketSink(Protocol):
    """Where a feed pushes its updates (the Store, or a fan-out to Store + paper broker).

    Every method is synchronous and cheap; it is called on the event loop.
    """

    def on_instruments(self, instruments: list[Instrument]) -> None: ...
    def on_ticker(self, ticker: Ticker) -> None: ...
    def on_book(self, book: Book) -> None: ...
    def on_trade(self, trade: Trade) -> None: ...
    def on_bars(self, bars: Bars) -> None: ...
    def on_venue_status(self, status: VenueStatus) -> None: ...


class AccountSink(Protocol):
    """Where a broker pushes account changes (the Store)."""

    def on_account(self, account: Account) -> None: ...


class MarketFeed(ABC):
    """A source of public market data for one venue."""

    venue: ClassVar[str] = ""
    websocket: ClassVar[bool] = False  # streams (True) or polls REST (False)
    option_greeks: ClassVar[bool] = False  # venue publishes per-option Greeks

    @abstractmethod
    async def run(self, sink: MarketSink) -> None:
        """Push instruments, history (bars) and then live updates into ``sink``
        until cancelled. Must never raise on bad venue data: log, skip, carry on."""

    def now_ms(self) -> int:
        """The feed's clock (wall clock for real venues, simulated for the demo)."""
        import time

        return int(time.time() * 1000)


class Broker(ABC):
    """Who fills orders: the paper broker or a venue's private API (ccxt-shaped)."""

    venue: ClassVar[str] = ""
    paper: ClassVar[bool] = True
    websocket_positions: ClassVar[bool] = False
    dead_man_switch: ClassVar[bool] = False
    client_order_id_field: ClassVar[str] = "clientOrderId"

    @abstractmethod
    async def create_order(self, request: OrderRequest) -> Order: ...

    @abstractmethod
    async def cancel_order(self, order_id: str, symbol: str | None = None) -> Order: ...

    @abstractmethod
    async def cancel_all_orders(self, symbol: str | None = None) -> list[Order]: ...

    @abstractmethod
    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]: ...

    @abstractmethod
    async def fetch_positions(self) -> list[Position]: ...

    @abstractmethod
    async def fetch_balance(self) -> list[Balance]: ...

    @abstractmethod
    async def fetch_my_trades(self, since_ms: int | None = None) -> list[Fill]: ...

    @abstractmethod
    def account(self) -> Account:
        """The latest account view (cheap; no I/O)."""

    def close(self) -> None:
        """Release what the broker holds (files, connections); no I/O to the venue."""
        return None

    async def aclose(self, *, disarm_dead_man: bool | None = None) -> None:
        """Clean exit. A venue with a dead-man switch disarms it when
        ``disarm_dead_man`` is True, leaves it armed (the venue then cancels our
        resting orders) when False, and by default disarms only when none rest."""
        self.close()

    async def fetch_order_by_client_id(self, client_order_id: str, symbol: str) -> Order | None:
        """The broker's order with our client id, open or done; None when the broker
        has no such order. A broker that cannot look orders up by client id raises
        NotImplementedError (reconciliation then says the order's fate is unknown)."""
        raise NotImplementedError

    async def amend_order(self, order_id: str, symbol: str | None = None, *,
                          price: float | None = None, amount: float | None = None) -> Order:
        """Change a resting limit's price and/or total amount, keeping its ids."""
        raise NotImplementedError("this broker cannot amend orders yet: cancel the order "
                                  "(c) and send a new one")

    def resting_orders(self) -> list[Order]:
        """Our orders open at the venue, as last seen (no request): what a quit would
        leave behind."""
        return list(self.account().open_orders)
