"""What a venue shows when nobody said which symbols: its BTC and ETH perpetuals and
the options of the nearest expiries around the money, chosen from the venue's own
markets (ccxt ``load_markets``) at start.

How the symbols of a venue are decided (one rule, used by the feed):

* ``symbols = [...]`` under ``[venues.NAME]`` replaces the defaults;
* ``--symbols A,B`` on the command line replaces both the config's and the defaults;
  ``--symbols +A,B`` adds A and B to them;
* the word ``defaults`` in either list stands for the venue's defaults
  (``symbols = ["defaults", "SOL/USDT:USDT"]``).

The defaults (per venue, :data:`VENUE_DEFAULTS`): one perpetual per underlying (BTC,
ETH), settled the venue's usual way; for venues with options (Deribit, OKX, Bybit;
Binance USD-M has none in ccxt's markets) the :data:`EXPIRIES` nearest expiries more
than :data:`MIN_LIFE_MS` away, and in each the :data:`STRIKES_PER_EXPIRY` strikes
nearest the perpetual's price within ±:data:`BAND_PCT` %, call and put. At most
2 + 2 x 2 x 3 x 2 = 26 symbols: the start stays quick (two ticker requests).
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

DEFAULTS_WORD = "defaults"
UNDERLYINGS = ("BTC", "ETH")
EXPIRIES = 2  # nearest expiries shown per underlying
STRIKES_PER_EXPIRY = 3  # strikes nearest the money, each as a call and a put
BAND_PCT = 10.0  # strikes within this % of the underlying's price
MIN_LIFE_MS = 3_600_000  # an option expiring within the hour is not worth a start
BASE = "BASE"  # in a settle preference: settled in the underlying itself (inverse)


@dataclass(frozen=True, slots=True)
class VenueDefaults:
    """One venue's default choice and its example symbols (ccxt unified form).

    perp_settles / option_settles: settle currencies in order of preference;
    ``BASE`` means the underlying itself (Deribit's and OKX's inverse contracts).
    An empty ``option_settles`` means no options by default.
    """

    perp_settles: tuple[str, ...]
    option_settles: tuple[str, ...]
    examples: tuple[str, ...]


VENUE_DEFAULTS: dict[str, VenueDefaults] = {
    "deribit": VenueDefaults((BASE,), (BASE,), ("BTC/USD:BTC", "BTC/USD:BTC-261225-100000-C")),
    "binanceusdm": VenueDefaults(("USDT", "USDC"), (), ("BTC/USDT:USDT", "ETH/USDT:USDT")),
    "bybit": VenueDefaults(("USDT", "USDC", BASE), ("USDC", "USDT"),
                           ("BTC/USDT:USDT", "BTC/USD:USDC-261225-100000-C")),
    "okx": VenueDefaults(("USDT", "USDC", BASE), (BASE,),
                         ("BTC/USDT:USDT", "BTC/USD:BTC-261225-100000-C")),
}


def examples(venue: str) -> str:
    """The venue's example symbols for a message, e.g. ``BTC/USD:BTC, BTC/USD:BTC-...``."""
    spec = VENUE_DEFAULTS.get(venue)
    return ", ".join(spec.examples) if spec else "BTC/USDT:USDT"


def no_symbols_message(venue: str) -> str:
    """The venue line's note when nothing is left to show (defaults found nothing or
    every configured symbol is unlisted)."""
    return (f"no symbols: add symbols = [...] under [venues.{venue}] or --symbols "
            f"(ccxt unified, e.g. {examples(venue)})")


# -- the command-line flag -------------------------------------------------------------

def symbols_flag_problem(text: str) -> str | None:
    """``--symbols`` checked before anything starts: one line, or None."""
    names = _split(text)
    if not names:
        return ("--symbols: give symbols separated by commas, e.g. --symbols "
                "BTC/USDT:USDT,ETH/USDT:USDT (a leading + adds them to the defaults)")
    for name in names:
        if name != DEFAULTS_WORD and ("/" not in name or " " in name):
            return (f"--symbols {name!r}: use ccxt's unified form, e.g. BTC/USDT:USDT or "
                    "BTC/USD:BTC-261225-100000-C")
    return None


def with_symbols_flag(configured: tuple[str, ...], text: str | None) -> tuple[str, ...]:
    """The venue's symbol list after ``--symbols``: replaced by ``A,B``; ``+A,B``
    appended to the configured list (or to the defaults when none is configured)."""
    if text is None:
        return tuple(configured)
    names = _split(text)
    if not text.strip().startswith("+"):
        return tuple(dict.fromkeys(names))
    base = tuple(configured) or (DEFAULTS_WORD,)
    return tuple(dict.fromkeys((*base, *names)))


def _split(text: str) -> list[str]:
    return [s.strip() for s in text.strip().lstrip("+").split(",") if s.strip()]


# -- the choice --------------------------------------------------------------------------

def _settles(market: dict, preferred: tuple[str, ...]) -> int | None:
    """Rank of the market's settle currency in ``preferred`` (0 best), None if absent."""
    settle = market.get("settle")
    for rank, want in enumerate(preferred):
        if settle == (market.get("base") if want == BASE else want):
            return rank
    return None


def default_perps(venue: str, markets: dict[str, dict]) -> dict[str, str]:
    """Underlying -> the venue's usual perpetual on it (active, best-ranked settle)."""
    spec = VENUE_DEFAULTS[venue]
    best: dict[str, tuple[int, str]] = {}
    for symbol, m in markets.items():
        if not m.get("swap") or m.get("active") is False or m.get("base") not in UNDERLYINGS:
            continue
        rank = _settles(m, spec.perp_settles)
        if rank is not None and (m["base"] not in best or (rank, symbol) < best[m["base"]]):
            best[m["base"]] = (rank, symbol)
    return {base: best[base][1] for base in UNDERLYINGS if base in best}


def default_options(venue: str, markets: dict[str, dict], base: str, price: float,
                    now_ms: int) -> list[str]:
    """The options on ``base`` to show: nearest expiries, strikes around ``price``.

    Only live ones: active and expiring later than ``now_ms`` + :data:`MIN_LIFE_MS`.
    Ordered by expiry, strike, then call before put.
    """
    spec = VENUE_DEFAULTS[venue]
    if not spec.option_settles or not (math.isfinite(price) and price > 0):
        return []
    live = [(s, m) for s, m in markets.items()
            if m.get("option") and m.get("base") == base and m.get("active") is not False
            and m.get("expiry") and m["expiry"] > now_ms + MIN_LIFE_MS and m.get("strike")]
    ranked = [(_settles(m, spec.option_settles), s, m) for s, m in live]
    ranked = [r for r in ranked if r[0] is not None]
    if not ranked:
        return []
    settle_rank = min(r[0] for r in ranked)  # one settle family, never the same strike twice
    chain = [(s, m) for rank, s, m in ranked if rank == settle_rank]
    expiries = sorted({m["expiry"] for _, m in chain})[:EXPIRIES]
    chosen: list[tuple[int, float, int, str]] = []
    for expiry in expiries:
        strikes = {float(m["strike"]) for _, m in chain if m["expiry"] == expiry}
        near = sorted((k for k in strikes if abs(k / price - 1) * 100 <= BAND_PCT),
                      key=lambda k: (abs(k - price), k))[:STRIKES_PER_EXPIRY]
        for s, m in chain:
            if m["expiry"] == expiry and float(m["strike"]) in near:
                chosen.append((expiry, float(m["strike"]), m.get("optionType") != "call", s))
    return [s for *_, s in sorted(chosen)]


def choose_defaults(venue: str, markets: dict[str, dict], prices: dict[str, float],
                    now_ms: int) -> list[str]:
    """The default symbols of ``venue`` from its ccxt ``markets``; ``prices`` maps an
    underlying (``BTC``) to its perpetual's price (a missing one: no options on it)."""
    perps = default_perps(venue, markets)
    options: list[str] = []
    for base in UNDERLYINGS:
        options += default_options(venue, markets, base, prices.get(base, math.nan), now_ms)
    return [*perps.values(), *options]


def ticker_price(ticker: dict) -> float:
    """A ccxt ticker's price: last, else the mid of bid and ask, else the mark; NaN."""
    last = ticker.get("last")
    if last:
        return float(last)
    bid, ask = ticker.get("bid"), ticker.get("ask")
    if bid and ask:
        return (float(bid) + float(ask)) / 2
    mark = ticker.get("markPrice") or (ticker.get("info") or {}).get("mark_price")
    return float(mark) if mark else math.nan


async def resolve_symbols(venue: str, exchange: Any, symbols: list[str], now_ms: int
                          ) -> tuple[list[str], str]:
    """``symbols`` with the defaults put in (an empty list or the word ``defaults``),
    and a line saying what was chosen ("" when nothing was). ``exchange`` has its
    markets loaded; the perpetuals' prices are fetched (two requests, at once)."""
    if symbols and DEFAULTS_WORD not in symbols:
        return list(symbols), ""
    markets = exchange.markets or {}
    perps = default_perps(venue, markets) if venue in VENUE_DEFAULTS else {}
    prices: dict[str, float] = {}
    if perps and VENUE_DEFAULTS[venue].option_settles:
        tickers = await asyncio.gather(*(exchange.fetch_ticker(s) for s in perps.values()),
                                       return_exceptions=True)
        for base, ticker in zip(perps, tickers, strict=True):
            if isinstance(ticker, BaseException):
                log.info("%s %s: no price for the default options (%s)", venue, perps[base],
                         type(ticker).__name__)
                continue
            prices[base] = ticker_price(ticker)
    chosen = choose_defaults(venue, markets, prices, now_ms) if venue in VENUE_DEFAULTS else []
    out: list[str] = []
    for s in symbols or [DEFAULTS_WORD]:
        out += chosen if s == DEFAULTS_WORD else [s]
    out = list(dict.fromkeys(out))
    n_options = sum(1 for s in chosen if markets.get(s, {}).get("option"))
    note = ""
    if chosen:
        note = (f"default symbols: {', '.join(perps.values())}"
                + (f" and {n_options} options (the {EXPIRIES} nearest expiries, strikes "
                   f"within ±{BAND_PCT:g}%)" if n_options else ""))
        log.info("%s: %s", venue, note)
    return out, note
