"""Market data types: instruments, tickers, books, trades, bars, venue status.

Units
-----
* Perpetual prices are USD(T) per coin.
* Option prices (``Ticker.mark`` etc. for ``kind == "option"``) are in the
  *settle coin* per 1 coin of underlying, as Deribit quotes them
  (0.0125 BTC); ``Ticker.underlying_price`` is the USD forward/underlying
  used to price them, so USD price = coin price x underlying_price.
* Amounts are in contracts; ``Instrument.contract_size`` converts to coin
  (linear perps and coin-settled options) or USD (inverse futures).
* Timestamps are integer milliseconds since the Unix epoch, set by the
  source of the data (exchange or simulated clock), never by the reader.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sizing.margin import MarginTier

__all__ = [
    "Bars",
    "Book",
    "Instrument",
    "MarginTier",
    "Ticker",
    "Trade",
    "VenueGreeks",
    "VenueStatus",
]


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable market, after ccxt's unified ``market`` structure.

    kind: ``"perp"``, ``"future"`` or ``"option"``. ``linear`` is True when
    PnL and margin are in the quote currency (USDT perps); coin-settled
    (inverse) contracts and Deribit options have ``linear=False``.
    ``amount_step`` / ``price_step`` are the venue's precision as tick sizes;
    ``min_cost`` is in the quote currency (0 when the venue has none).
    Fees are fractions of notional (0.0002 = 2 bp; negative = rebate).
    """

    symbol: str
    venue: str
    kind: str
    base: str
    quote: str
    settle: str
    linear: bool
    contract_size: float
    amount_step: float
    price_step: float
    min_amount: float
    min_cost: float = 0.0
    maker_fee: float = 0.0002
    taker_fee: float = 0.0005
    strike: float | None = None
    expiry_ms: int | None = None
    option_type: str | None = None  # "call" | "put"
    underlying: str = ""  # the index it follows, e.g. "BTC"
    margin_tiers: tuple[MarginTier, ...] = ()
    funding_interval_h: float = 8.0

    @property
    def is_option(self) -> bool:
        return self.kind == "option"

    @property
    def is_call(self) -> bool:
        return self.option_type == "call"


@dataclass(frozen=True, slots=True)
class VenueGreeks:
    """Greeks as a venue publishes them for one contract (Deribit convention).

    delta in coin per contract, gamma in coin per USD, vega in USD per vol
    point (0.01), theta in USD per calendar day.
    """

    delta: float
    gamma: float
    vega: float
    theta: float


@dataclass(frozen=True, slots=True)
class Ticker:
    """Top of book and reference prices for one instrument (see module units).

    ``funding_rate`` is per funding interval (fraction); ``mark_iv`` is the
    annualised implied vol as a fraction (0.55), never percent.
    ``volume_24h`` is in base coin; ``open_interest`` in contracts, None where
    the venue's ticker does not carry it.
    """

    symbol: str
    ts_ms: int
    bid: float
    ask: float
    last: float
    mark: float
    index: float
    funding_rate: float | None = None
    next_funding_ms: int | None = None
    mark_iv: float | None = None
    underlying_price: float | None = None
    greeks: VenueGreeks | None = None
    volume_24h: float | None = None
    open_interest: float | None = None

    @property
    def mid(self) -> float:
        return 0.5 * (self.bid + self.ask)


@dataclass(frozen=True, slots=True)
class Book:
    """An order book: ``bids`` and ``asks`` are (N, 2) float arrays of
    ``[price, amount]``, best first, amounts in contracts. Read-only arrays."""

    symbol: str
    ts_ms: int
    bids: np.ndarray
    asks: np.ndarray
    seq: int = 0

    @property
    def best_bid(self) -> float:
        return float(self.bids[0, 0]) if len(self.bids) else float("nan")

    @property
    def best_ask(self) -> float:
        return float(self.asks[0, 0]) if len(self.asks) else float("nan")

    @property
    def mid(self) -> float:
        return 0.5 * (self.best_bid + self.best_ask)


@dataclass(frozen=True, slots=True)
class Trade:
    """One public trade print. ``side`` is the taker's side ("buy"/"sell")."""

    symbol: str
    ts_ms: int
    price: float
    amount: float
    side: str
    id: str = ""


@dataclass(frozen=True, slots=True)
class Bars:
    """OHLCV history for one symbol as read-only numpy arrays, oldest first.

    ``timeframe_s`` is the bar length in seconds (3600 for hourly);
    ``ts_ms`` the bar open times; ``volume`` in base coin.
    """

    symbol: str
    timeframe_s: int
    ts_ms: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return len(self.close)


@dataclass(frozen=True, slots=True)
class VenueStatus:
    """Connection health of one venue as last reported by its feed/broker.

    ``last_data_ms`` is the exchange timestamp of the newest update;
    ``clock_skew_ms`` = local clock - venue server time (None if unknown).
    ``dead_man`` is a short human text ("armed 60s, refreshed 12:01:05")
    or None where the venue has no switch or it is not armed.
    """

    venue: str
    connected: bool
    last_data_ms: int = 0
    message: str = ""
    clock_skew_ms: int | None = None
    dead_man: str | None = None
    retrying: bool = False
