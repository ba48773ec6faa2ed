"""Times as a trader reads them: UTC ``YYYY-MM-DD HH:MM:SS``. The one home of that
format for the log, the journal, the event log and alerts (the panels use
``widgets.format.clock``, which widgets may import without reaching into cockpit)."""

from __future__ import annotations

import time

__all__ = ["utc_time"]


def utc_time(ts_ms: int | float) -> str:
    """Epoch milliseconds as ``2026-12-03 08:51:23 UTC``; a value no calendar holds
    (NaN, out of range) as ``<value> ms`` rather than an exception in a log line."""
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(float(ts_ms) / 1000.0))
    except (OverflowError, OSError, ValueError, TypeError):
        return f"{ts_ms} ms"
