"""The immutable Snapshot every reader gets from the Store."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from cockpit.model.account import Account
from cockpit.model.market import Bars, Book, Instrument, Ticker, Trade, VenueStatus

_EMPTY: Mapping = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything known at one instant. Mappings are read-only, keyed by symbol
    (``venues`` by venue name). ``ts_ms`` is the clock of the data source when
    the snapshot was taken; each item keeps its own timestamp, so staleness is
    ``ts_ms - item.ts_ms``. ``seq`` increases by one per store change."""

    ts_ms: int
    seq: int
    mode: str  # "demo" | "paper" | "live" | "replay"
    instruments: Mapping[str, Instrument] = field(default_factory=lambda: _EMPTY)
    tickers: Mapping[str, Ticker] = field(default_factory=lambda: _EMPTY)
    books: Mapping[str, Book] = field(default_factory=lambda: _EMPTY)
    trades: Mapping[str, tuple[Trade, ...]] = field(default_factory=lambda: _EMPTY)
    bars: Mapping[str, Bars] = field(default_factory=lambda: _EMPTY)
    account: Account | None = None
    venues: Mapping[str, VenueStatus] = field(default_factory=lambda: _EMPTY)
    time_scale: float = 1.0  # data ms per wall ms: the demo's --acceleration, 1 on real venues
    # venue -> that venue's own account; ``account`` is their sum when there are several
    accounts: Mapping[str, Account] = field(default_factory=lambda: _EMPTY)

    def age_ms(self, ts_ms: int) -> int:
        """Age of an item stamped ``ts_ms`` relative to this snapshot (data time)."""
        return self.ts_ms - ts_ms

    def wall_age_s(self, ts_ms: int) -> float:
        """The same age in wall seconds: every time rule (staleness, suggestion age,
        timeouts) compares this with its limit, so one clock serves them all."""
        return (self.ts_ms - ts_ms) / 1000.0 / self.time_scale
