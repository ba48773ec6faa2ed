"""Play a recording back through the feed interface (``cockpit --replay FILE``).

:class:`ReplayFeed` reads a file written by :mod:`cockpit.venues.recorder` and
pushes the same updates, in the same order, into any
:class:`~cockpit.venues.base.MarketSink`: the store, the paper broker and every
panel see the recorded market as if it were live.

* Deterministic: the same file gives the same sequence of updates, whatever
  the speed. ``now_ms()`` follows the recorded timestamps (the time of the last
  update played), never the wall clock, so ages and staleness are the recorded ones.
* ``speed`` 1.0 plays in recorded time, 10.0 ten times faster, 0 as fast as
  possible (yielding to the event loop every few hundred updates so the UI stays live).
* A bad line (not JSON, unknown kind, a payload that does not decode) is skipped and
  counted: the first is logged with its line number and reason, the rest summarised
  once a minute and at the end (``market_checks.RejectionTally``), never one Python
  exception text per line. A truncated gzip ends the replay early with a warning.
  Neither raises.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import math
import zlib
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import IO, Any

from cockpit.market_checks import RejectionTally
from cockpit.model import VenueStatus
from cockpit.venues.base import MarketFeed, MarketSink
from cockpit.venues.recorder import FORMAT, VERSION, decode

__all__ = ["ReplayFeed"]

log = logging.getLogger(__name__)

_YIELD_EVERY = 200  # updates between event-loop yields at speed 0
_STATUS_EVERY_MS = 1000  # recorded time between VenueStatus pushes
_DISPATCH = {
    "instruments": "on_instruments",
    "bars": "on_bars",
    "ticker": "on_ticker",
    "book": "on_book",
    "trade": "on_trade",
}


def _open_text(path: Path) -> IO[str]:
    """gzip (the recorder's output) or plain JSON lines, told apart by the magic bytes."""
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def _parse(line: str) -> tuple[tuple[int, str, Any] | None, str]:
    """``((t_ms, kind, update), "")`` for a good line, else ``(None, reason)`` in words."""
    try:
        rec = json.loads(line)
    except ValueError:
        return None, "not JSON"
    if not isinstance(rec, dict):
        return None, f"a JSON {type(rec).__name__}, not a record"
    kind = rec.get("k")
    if kind not in _DISPATCH:
        return None, f"unknown kind {str(kind)[:20]!r}"
    t = rec.get("t")
    if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t):
        return None, f"time {str(t)[:20]!r} is not a number of ms"
    try:
        item = decode(kind, rec.get("d"))
    except Exception:  # any malformed payload: the line is skipped, never the replay
        return None, f"the {kind} payload does not decode"
    return (int(t), kind, item), ""


class ReplayFeed(MarketFeed):
    """A recorded market as a :class:`MarketFeed`.

    Parameters
    ----------
    path : a ``cockpit-recording`` file (gzip JSON lines; see :mod:`cockpit.venues.recorder`).
    speed : playback rate, >= 0; 1.0 = recorded time, 0 = as fast as possible.
    sleep : ``async sleep(seconds)``, injectable for tests.
    hold : after the last update, wait (until cancelled) so the screen keeps the
        recorded market; False returns from ``run`` at the end (tests, batch use).

    Raises ``ValueError`` at construction when the file is not a recording.
    """

    websocket = False

    def __init__(
        self,
        path: str | Path,
        speed: float = 1.0,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        hold: bool = True,
    ) -> None:
        if not (isinstance(speed, int | float) and math.isfinite(speed) and speed >= 0):
            raise ValueError(f"speed must be >= 0 (1 = recorded time, 0 = as fast as possible), "
                             f"got {speed!r}")
        self.path = Path(path)
        self.speed = float(speed)
        self._sleep = sleep
        self.hold = hold
        head = self._read_header()
        self.venue = str(head["venue"])
        self.symbols: list[str] = list(head.get("symbols") or [])
        self.started_ms = int(head["started_ms"])
        self.option_greeks = bool(head.get("option_greeks", False))
        self._now_ms = self.started_ms
        self.played = 0  # updates pushed into the sink
        self.skipped = 0  # bad lines skipped (counted, summarised)
        self.tally = RejectionTally(log)
        self.finished = False

    def _read_header(self) -> dict:
        what = f"{self.path} is not a cockpit recording; give a file written by cockpit record"
        try:
            with _open_text(self.path) as f:
                head = json.loads(f.readline())
        except FileNotFoundError:
            raise ValueError(f"replay: no such file {self.path}; check the path") from None
        except (OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError):
            raise ValueError(f"{what} (unreadable header line)") from None
        if not isinstance(head, dict) or head.get("format") != FORMAT:
            raise ValueError(f"{what} (first line must be the {FORMAT!r} header)")
        if not isinstance(head.get("version"), int) or head["version"] > VERSION:
            raise ValueError(f"{what} version {head.get('version')!r} "
                             f"(this cockpit reads up to {VERSION}); upgrade cockpit")
        if not isinstance(head.get("venue"), str) or not isinstance(head.get("started_ms"), int):
            raise ValueError(f"{what} (header lacks venue/started_ms)")
        return head

    def now_ms(self) -> int:
        """The recorded time of the last update played (the header's start before any)."""
        return self._now_ms

    def _records(self) -> Iterator[tuple[int, str, Any]]:
        """(t_ms, kind, decoded update) per good line; bad lines logged and skipped."""
        with _open_text(self.path) as f:
            lineno = 1
            f.readline()  # header, checked at construction
            while True:
                try:
                    line = f.readline()
                except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
                    log.warning("replay %s: file ends early after line %d (%s)",
                                self.path.name, lineno, type(exc).__name__)
                    return
                if not line:
                    return
                lineno += 1
                if not line.strip():
                    continue
                rec, why = _parse(line)
                if why:
                    self.skipped += 1
                    self.tally.add("replay lines skipped", self.path.name, f"line {lineno}: {why}")
                    continue
                yield rec

    def _status(self, sink: MarketSink, message: str) -> None:
        sink.on_venue_status(VenueStatus(venue=self.venue, connected=True,
                                         last_data_ms=self._now_ms, message=message))

    async def run(self, sink: MarketSink) -> None:
        label = f"replay {self.path.name} at {'max' if self.speed == 0 else f'{self.speed:g}x'}"
        self._status(sink, label)
        status_ms = self._now_ms
        prev_t: int | None = None
        for t, kind, item in self._records():
            if self.speed > 0 and prev_t is not None and t > prev_t:
                await self._sleep((t - prev_t) / 1000.0 / self.speed)
            elif self.speed == 0 and self.played % _YIELD_EVERY == _YIELD_EVERY - 1:
                await asyncio.sleep(0)
            prev_t = t
            self._now_ms = max(self._now_ms, t)  # a clock never runs backwards
            getattr(sink, _DISPATCH[kind])(item)
            self.played += 1
            if self._now_ms - status_ms >= _STATUS_EVERY_MS:
                status_ms = self._now_ms
                self._status(sink, label)
        self.finished = True
        self.tally.flush()
        self._status(sink, f"replay finished: {self.played} updates"
                     + (f", {self.skipped} bad lines skipped" if self.skipped else ""))
        if self.hold:
            await asyncio.Event().wait()
