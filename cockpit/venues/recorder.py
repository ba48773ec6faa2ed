"""Record a venue's public feed to a compact file for replay (``cockpit record``).

File format (``cockpit-recording`` version 1): gzip-compressed JSON lines.

* Line 1, the header: ``{"format": "cockpit-recording", "version": 1, "venue": ...,
  "symbols": [...], "started_ms": ..., "option_greeks": bool}``.
* Then one update per line, ``{"t": ms, "k": kind, "d": payload}``: ``t`` is the
  feed's clock (``MarketFeed.now_ms``) when the update arrived, ``k`` one of
  ``instruments``, ``bars``, ``ticker``, ``book``, ``trade``. Payloads are the
  ``cockpit.model`` types as plain JSON (:func:`encode` / :func:`decode`), books
  cut to the top 25 levels, arrays as lists. NaN is written as JSON ``NaN``
  (Python's json reads it back) so a missing mark stays missing.

Nothing venue-specific is written: a recording holds the normalised updates the
cockpit saw, so replay needs no ccxt.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import logging
from dataclasses import fields
from pathlib import Path
from types import SimpleNamespace
from typing import IO, Any

import numpy as np

from cockpit.model import (
    Bars,
    Book,
    Instrument,
    MarginTier,
    Ticker,
    Trade,
    VenueGreeks,
    VenueStatus,
)
from cockpit.venues.base import MarketFeed

__all__ = ["BOOK_LEVELS", "FORMAT", "VERSION", "RecordingSink", "decode", "encode", "record"]

log = logging.getLogger(__name__)

FORMAT = "cockpit-recording"
VERSION = 1
BOOK_LEVELS = 25
_BAR_FIELDS = ("ts_ms", "open", "high", "low", "close", "volume")


def _plain(obj: Any) -> dict:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def encode(kind: str, item: Any) -> Any:
    """A ``cockpit.model`` update -> JSON-ready payload for ``kind``."""
    if kind == "instruments":
        out = []
        for inst in item:
            d = _plain(inst)
            d["margin_tiers"] = [_plain(t) for t in inst.margin_tiers]
            out.append(d)
        return out
    if kind == "ticker":
        d = _plain(item)
        d["greeks"] = _plain(item.greeks) if item.greeks is not None else None
        return d
    if kind == "book":
        return {
            "symbol": item.symbol,
            "ts_ms": item.ts_ms,
            "seq": item.seq,
            "bids": np.asarray(item.bids, dtype=float)[:BOOK_LEVELS].tolist(),
            "asks": np.asarray(item.asks, dtype=float)[:BOOK_LEVELS].tolist(),
        }
    if kind == "bars":
        d = {"symbol": item.symbol, "timeframe_s": item.timeframe_s}
        for name in _BAR_FIELDS:
            d[name] = np.asarray(getattr(item, name)).tolist()
        return d
    if kind == "trade":
        return _plain(item)
    raise ValueError(f"kind: unknown update kind {kind!r}")


def _frozen(values: Any, dtype: Any) -> np.ndarray:
    arr = np.array(values, dtype=dtype)
    arr.setflags(write=False)
    return arr


def _levels(rows: Any) -> np.ndarray:
    arr = np.array(rows, dtype=float).reshape(-1, 2)  # [] -> (0, 2)
    arr.setflags(write=False)
    return arr


def decode(kind: str, d: Any) -> Any:
    """The inverse of :func:`encode`; raises (KeyError/TypeError/ValueError) on a bad payload."""
    if kind == "instruments":
        out = []
        for row in d:
            row = dict(row)
            row["margin_tiers"] = tuple(MarginTier(**t) for t in row.get("margin_tiers") or ())
            out.append(Instrument(**row))
        return out
    if kind == "ticker":
        d = dict(d)
        if d.get("greeks") is not None:
            d["greeks"] = VenueGreeks(**d["greeks"])
        return Ticker(**d)
    if kind == "book":
        return Book(symbol=d["symbol"], ts_ms=int(d["ts_ms"]), bids=_levels(d["bids"]),
                    asks=_levels(d["asks"]), seq=int(d.get("seq", 0)))
    if kind == "bars":
        cols = {name: _frozen(d[name], np.int64 if name == "ts_ms" else float)
                for name in _BAR_FIELDS}
        if len({len(c) for c in cols.values()}) != 1:
            raise ValueError(f"bars {d['symbol']}: columns of different lengths")
        return Bars(symbol=d["symbol"], timeframe_s=int(d["timeframe_s"]), **cols)
    if kind == "trade":
        return Trade(**d)
    raise ValueError(f"kind: unknown update kind {kind!r}")


class RecordingSink:
    """A :class:`~cockpit.venues.base.MarketSink` that writes every update as a line.

    ``clock_ms`` stamps each line (the feed's ``now_ms``). Venue status is not
    recorded: a replay reports its own. ``lines`` counts updates written.
    """

    def __init__(self, out: IO[str], clock_ms: Any) -> None:
        self._out = out
        self._clock_ms = clock_ms
        self.lines = 0

    def _write(self, kind: str, item: Any) -> None:
        try:
            payload = encode(kind, item)
        except Exception as exc:  # never take the feed down over one odd update
            log.warning("record: %s update not written (%s)", kind, exc)
            return
        line = json.dumps({"t": int(self._clock_ms()), "k": kind, "d": payload},
                          separators=(",", ":"))
        self._out.write(line + "\n")
        self.lines += 1

    def on_instruments(self, instruments: list[Instrument]) -> None:
        self._write("instruments", list(instruments))

    def on_ticker(self, ticker: Ticker) -> None:
        self._write("ticker", ticker)

    def on_book(self, book: Book) -> None:
        self._write("book", book)

    def on_trade(self, trade: Trade) -> None:
        self._write("trade", trade)

    def on_bars(self, bars: Bars) -> None:
        self._write("bars", bars)

    def on_venue_status(self, status: VenueStatus) -> None:
        if not status.connected:
            log.info("record %s: %s", status.venue, status.message or "disconnected")


def header(venue: str, symbols: list[str], started_ms: int, option_greeks: bool) -> dict:
    return {"format": FORMAT, "version": VERSION, "venue": venue, "symbols": list(symbols),
            "started_ms": int(started_ms), "option_greeks": bool(option_greeks)}


async def record(
    venue: str,
    symbols: list[str],
    out_path: str | Path,
    seconds: float | None = None,
    feed: MarketFeed | None = None,
) -> int:
    """Write ``venue``'s public feed for ``symbols`` to ``out_path``; returns lines written.

    Runs for ``seconds`` (None: until cancelled, e.g. Ctrl-C), then closes the
    file cleanly, so a recording stopped by cancellation is still readable.
    ``feed`` defaults to the venue's ccxt feed (``registry.make_feed``); tests
    pass their own. ``seconds`` is wall time (the feed's own clock may be simulated).
    """
    if seconds is not None and not seconds > 0:
        raise ValueError(f"seconds must be > 0 (or None to record until stopped), got {seconds!r}")
    if feed is None:
        from cockpit.venues.registry import make_feed

        feed = make_feed(venue, _venue_cfg(symbols))
    path = Path(out_path)
    with gzip.open(path, "wt", encoding="utf-8") as out:
        sink = RecordingSink(out, feed.now_ms)
        head = header(venue, symbols, feed.now_ms(), getattr(feed, "option_greeks", False))
        out.write(json.dumps(head, separators=(",", ":")) + "\n")
        task = asyncio.ensure_future(feed.run(sink))
        try:
            if seconds is None:
                await task
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(task), timeout=seconds)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        log.info("recorded %d updates from %s to %s", sink.lines, venue, path)
        return sink.lines


def _venue_cfg(symbols: list[str]) -> Any:
    try:
        from cockpit.config import VenueConfig

        return VenueConfig(symbols=tuple(symbols))
    except ImportError:  # config not available: the attributes the feed reads
        return SimpleNamespace(symbols=tuple(symbols), sandbox=False, rest_url="", ws_url="")
