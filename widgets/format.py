"""Number formatting for the panels: one place decides how a number looks.

Rules the trader relies on: fixed decimals per instrument precision, thousands
separators, an explicit sign where direction matters, and "—" (never 0 or
"nan") for a value that is missing, with the reason shown elsewhere.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence

MISSING = "—"

_SPARK = "▁▂▃▄▅▆▇█"
_EIGHTHS = " ▏▎▍▌▋▊▉█"


def is_missing(x: float | None) -> bool:
    """True for None, NaN and infinities: values a panel must not print as numbers."""
    return x is None or not math.isfinite(x)


def decimals_for_step(step: float | None, default: int = 2, cap: int = 8) -> int:
    """Decimals needed to print multiples of a venue tick ``step`` exactly.

    0.5 -> 1, 0.01 -> 2, 0.0005 -> 4, 1 -> 0, 25 -> 0. Missing/invalid -> ``default``.
    """
    if step is None or not math.isfinite(step) or step <= 0:
        return default
    for d in range(cap + 1):
        scaled = step * 10**d
        if abs(scaled - round(scaled)) < 1e-9 * max(1.0, scaled):
            return d
    return cap


def num(x: float | None, decimals: int = 2, *, sign: bool = False) -> str:
    """Fixed decimals with thousands separators; ``sign`` forces "+" on positives.

    >>> num(1234.5, 2, sign=True)
    '+1,234.50'
    """
    if is_missing(x):
        return MISSING
    text = f"{x:+,.{decimals}f}" if sign else f"{x:,.{decimals}f}"
    # "-0.00" reads as a loss; a value that rounds to zero has no direction.
    if text.lstrip("+-").strip("0.,") == "":
        text = f"{0.0:,.{decimals}f}"
    return text


def usd(x: float | None, decimals: int = 0, *, sign: bool = False) -> str:
    """US dollars with separators: ``usd(-1234.4) == '-$1,234'``."""
    if is_missing(x):
        return MISSING
    body = num(abs(x), decimals)
    if body.strip("0.,") == "":
        return "$" + body
    prefix = "-" if x < 0 else "+" if sign else ""
    return f"{prefix}${body}"


def compact_usd(x: float | None, *, sign: bool = False) -> str:
    """Short USD for tight columns: $950, $12.3k, $4.56M, $1.20B."""
    if is_missing(x):
        return MISSING
    a = abs(x)
    scale, suffix = next(((s, u) for s, u in ((1e9, "B"), (1e6, "M"), (1e3, "k")) if a >= s),
                         (1.0, ""))
    value = a / scale
    if suffix:
        body = f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"
    else:
        body = f"{value:.0f}"
    prefix = "-" if x < 0 and body.strip("0.") else "+" if sign and x > 0 else ""
    return f"{prefix}${body}{suffix}"


def pct(x: float | None, decimals: int = 1, *, sign: bool = False) -> str:
    """A fraction as percent: ``pct(0.1234) == '12.3%'``."""
    if is_missing(x):
        return MISSING
    return num(100.0 * x, decimals, sign=sign) + "%"


def bps(x: float | None, decimals: int = 1, *, sign: bool = False) -> str:
    """Basis points: ``bps(2.5) == '2.5 bp'``."""
    if is_missing(x):
        return MISSING
    return num(x, decimals, sign=sign) + " bp"


def sigmas(x: float | None) -> str:
    """Distance in daily standard deviations: ``sigmas(3.21) == '3.2σ'``; "∞σ" when
    no price move can reach the level (no liquidation price)."""
    if x is not None and x == math.inf:
        return "∞σ"
    if is_missing(x):
        return MISSING
    return f"{x:.1f}σ"


def duration_days(days: float | None) -> str:
    """A span given in days, in the largest sensible unit: 40d, 3.5d, 5.0h, 12m."""
    if days is None or math.isnan(days):
        return MISSING
    if math.isinf(days):
        return "∞"
    if days >= 10:
        return f"{days:,.0f}d"
    if days >= 1:
        return f"{days:.1f}d"
    hours = days * 24
    if hours >= 1:
        return f"{hours:.1f}h"
    return f"{hours * 60:.0f}m"


def age(seconds: float | None) -> str:
    """Data age: 0.4s, 12s, 3m, 2h."""
    if is_missing(seconds):
        return MISSING
    s = max(seconds, 0.0)
    if s < 10:
        return f"{s:.1f}s"
    if s < 120:
        return f"{s:.0f}s"
    if s < 7200:
        return f"{s / 60:.0f}m"
    return f"{s / 3600:.0f}h"


def clock(ts_ms: int | None, *, with_date: bool = False) -> str:
    """Epoch milliseconds as UTC ``HH:MM:SS`` (``YYYY-MM-DD HH:MM:SS`` with date)."""
    if ts_ms is None:
        return MISSING
    fmt = "%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S"
    return time.strftime(fmt, time.gmtime(ts_ms / 1000.0))


_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
# ccxt unified: BASE/QUOTE[:SETTLE[-YYMMDD[-STRIKE-C|P]]]; Deribit writes a strike's
# decimal point as "d" (XRP 0.55 -> "0d55")
_UNIFIED = re.compile(r"^(?P<base>[A-Za-z0-9]+)/(?P<quote>[A-Za-z0-9]+)"
                      r"(?::(?P<settle>[A-Za-z0-9]+)"
                      r"(?:-(?P<expiry>\d{6})(?:-(?P<strike>\d+(?:[.d]\d+)?)-(?P<kind>[CP]))?)?)?$")
# a unified symbol inside free text (log lines, reasons)
_IN_TEXT = re.compile(r"(?<![A-Za-z0-9/])[A-Z0-9]+/[A-Z0-9]+(?::[A-Z0-9]+(?:-\d{6}"
                      r"(?:-\d+(?:[.d]\d+)?-[CP])?)?)?(?![A-Za-z0-9/:])")


def short_symbol(symbol: str) -> str:
    """An instrument's name as a trader writes it, from its ccxt unified symbol.

    Coin-settled (inverse) contracts are named by the coin alone, the way Deribit
    and OKX traders write them; linear ones carry their quote, so the two never
    read alike when both are in the book:

    - option ``BTC/USD:BTC-261225-102000-C`` -> ``BTC 25DEC 102k C``; strikes of
      10,000 and more in thousands (102500 -> ``102.5k``), smaller ones in full
      (ETH ``2500``, XRP ``0.55``); a linear option ``BTC/USDC 25DEC 100k C``
    - perpetual: inverse ``BTC/USD:BTC`` -> ``BTC-PERP``, linear
      ``BTC/USDT:USDT`` -> ``BTC/USDT perp``
    - dated future ``BTC/USD:BTC-261225`` -> ``BTC 25DEC fut``, linear
      ``BTC/USDT 25DEC fut``

    The expiry is day and month (the year is implied: listed expiries are within a
    year or so, and no two of them share a day and month). A quanto contract
    (settled in neither coin) keeps ``BASE/QUOTE:SETTLE``. Anything that is not a
    unified derivative symbol (spot, "Σ BTC", "premium adj BTC") is returned as is.
    A key of a session of several venues keeps its venue: ``BTC/USD:BTC@deribit``
    -> ``BTC-PERP@deribit``.
    """
    name, at, venue = symbol.rpartition("@")
    if at and name:
        return f"{short_symbol(name)}@{venue}"
    m = _UNIFIED.match(symbol)
    if m is None or m["settle"] is None:
        return symbol
    base, quote, settle = m["base"], m["quote"], m["settle"]
    inverse = settle == base
    if m["expiry"] is None:
        if inverse:
            return f"{base}-PERP"
        return f"{base}/{quote} perp" if settle == quote else f"{symbol} perp"
    expiry = _day_month(m["expiry"])
    if expiry is None:
        return symbol
    name = base if inverse else f"{base}/{quote}" if settle == quote else \
        f"{base}/{quote}:{settle}"
    if m["strike"] is None:
        return f"{name} {expiry} fut"
    return f"{name} {expiry} {_strike(m['strike'].replace('d', '.'))} {m['kind']}"


def _day_month(yymmdd: str) -> str | None:
    """"261225" -> "25DEC"; None when it is not a date."""
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{day:02d}{_MONTHS[month - 1]}"


def _strike(text: str) -> str:
    """"102500" -> "102.5k", "100000" -> "100k", "2500" -> "2500", "0.55" -> "0.55"."""
    value = float(text)
    if value >= 10_000:
        k = f"{value / 1000:.3f}".rstrip("0").rstrip(".")
        if abs(float(k) * 1000 - value) < 1e-6:
            return k + "k"
    return f"{value:.8f}".rstrip("0").rstrip(".")


def symbols_in_text(text: str) -> str:
    """Every ccxt unified symbol in free text (a log line, a reason) written as the
    panels write it (:func:`short_symbol`): "cut BTC/USD:BTC-261225-78000-P -5 → -1.7"
    -> "cut BTC 25DEC 78k P -5 → -1.7"."""
    return _IN_TEXT.sub(lambda m: short_symbol(m.group(0)), text)


def sign_class(x: float | None) -> str:
    """"profit", "loss" or "" (zero/missing): the palette key for a signed value."""
    if is_missing(x) or x == 0:
        return ""
    return "profit" if x > 0 else "loss"


def bar(fraction: float | None, width: int) -> str:
    """A left-aligned horizontal bar of ``width`` cells, eighth-cell resolution."""
    if width <= 0:
        return ""
    if is_missing(fraction):
        return " " * width
    eighths = round(min(max(fraction, 0.0), 1.0) * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (_EIGHTHS[part] if part else "")
    return text.ljust(width)


def sparkline(values: Sequence[float], width: int | None = None) -> str:
    """Unicode block sparkline scaled between the series' min and max.

    NaN points show as spaces; a flat series sits on the bottom block. When
    ``width`` is smaller than the series, the most recent ``width`` points show.
    """
    vals = list(values)[-width:] if width else list(values)
    finite = [v for v in vals if v is not None and math.isfinite(v)]
    if not finite:
        return ""
    lo, hi = min(finite), max(finite)
    span = hi - lo
    out = []
    for v in vals:
        if v is None or not math.isfinite(v):
            out.append(" ")
        elif span <= 0:
            out.append(_SPARK[0])
        else:
            out.append(_SPARK[min(int((v - lo) / span * len(_SPARK)), len(_SPARK) - 1)])
    return "".join(out)
