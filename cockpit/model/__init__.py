"""Plain, immutable data types shared by the whole app (see DESIGN.md "The model").

Venue payloads are converted into these at the venue boundary and nowhere else.
Symbols are ccxt's unified form (``BTC/USDT:USDT``, ``BTC/USD:BTC-261225-100000-C``).
Widgets may import this package and nothing else of ``cockpit``.
"""

from cockpit.model.account import Account, Balance, Fill, Order, OrderRequest, Position
from cockpit.model.market import (
    Bars,
    Book,
    Instrument,
    MarginTier,
    Ticker,
    Trade,
    VenueGreeks,
    VenueStatus,
)
from cockpit.model.snapshot import Snapshot

__all__ = [
    "Account",
    "Balance",
    "Bars",
    "Book",
    "Fill",
    "Instrument",
    "MarginTier",
    "Order",
    "OrderRequest",
    "Position",
    "Snapshot",
    "Ticker",
    "Trade",
    "VenueGreeks",
    "VenueStatus",
]
