"""Hourly bars of the built-in market: the back-fill at start and the live bar.

Bars are built from the BTC/ETH index path (the perps' mark differs by a
basis of a few bp, which the history leaves out). Volume is modelled, not
summed from prints: ``hourly_volume`` x (hour's vol / 50 %) x lognormal noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cockpit.model import Bars

HOUR_S = 3600
SUB_STEPS = 60  # one-minute steps inside each back-filled hour


def backfill_ohlc(
    log_returns: np.ndarray, end_price: float, n_bars: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """OHLC of ``n_bars`` hours from per-minute log returns (n_bars x 60), the path
    anchored so the last close equals ``end_price``."""
    steps = log_returns.reshape(n_bars, SUB_STEPS)
    level = np.cumsum(steps.ravel())
    path = end_price * np.exp(level - level[-1]).reshape(n_bars, SUB_STEPS)
    first_open = end_price * np.exp(-level[-1])
    opens = np.concatenate(([first_open], path[:-1, -1]))
    highs = np.maximum(path.max(axis=1), opens)
    lows = np.minimum(path.min(axis=1), opens)
    return opens, highs, lows, path[:, -1].copy()


@dataclass(slots=True)
class BarSeries:
    """A rolling window of hourly bars plus the bar being built."""

    symbol: str
    max_bars: int
    ts_ms: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    live_open_ms: int = 0
    live: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0, 0.0, 0.0])

    def start_live(self, open_ms: int, price: float) -> None:
        self.live_open_ms = open_ms
        self.live = [price, price, price, price, 0.0]

    def update(self, price: float, volume: float) -> None:
        o, h, lo, _, v = self.live
        self.live = [o, max(h, price), min(lo, price), price, v + volume]

    def close_live(self) -> None:
        """Append the live bar to the window (dropping the oldest beyond ``max_bars``)."""
        o, h, lo, c, v = self.live
        keep = slice(-self.max_bars, None)
        self.ts_ms = np.append(self.ts_ms, self.live_open_ms)[keep]
        self.open = np.append(self.open, o)[keep]
        self.high = np.append(self.high, h)[keep]
        self.low = np.append(self.low, lo)[keep]
        self.close = np.append(self.close, c)[keep]
        self.volume = np.append(self.volume, v)[keep]

    def close_hours_ago(self, hours: int) -> float:
        """The close ``hours`` bars back (the oldest close if the window is shorter)."""
        return float(self.close[-min(hours, len(self.close))])

    def volume_24h(self) -> float:
        return float(self.volume[-23:].sum() + self.live[4])

    def bars(self) -> Bars:
        arrays = [a.copy() for a in (self.ts_ms, self.open, self.high, self.low, self.close,
                                     self.volume)]
        for a in arrays:
            a.setflags(write=False)
        return Bars(self.symbol, HOUR_S, *arrays)
