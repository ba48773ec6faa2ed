"""Times in the log, the journal and the event log read as UTC ``YYYY-MM-DD HH:MM:SS``,
never as a raw epoch in milliseconds. Expected dates come from ``date -u -d @SECONDS``."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import replace

from cockpit.paper import PaperBroker
from cockpit.utc import utc_time
from tests.paper.specs import BTC_PERP, ETH_PERP, T0, ticker

RAW_MS = re.compile(r"\b1\d{12}\b")  # an epoch in ms (2001-2033) written out as a number


def test_utc_time_against_date_u():
    # date -u -d @1790000000 -> 2026-09-21 14:13:20
    assert utc_time(1_790_000_000_000) == "2026-09-21 14:13:20 UTC"
    assert utc_time(1_790_000_000_999) == "2026-09-21 14:13:20 UTC"  # truncated, not rounded
    assert utc_time(0) == "1970-01-01 00:00:00 UTC"
    assert utc_time(math.nan) == "nan ms"  # a log line, never an exception


def test_liquidation_reason_names_a_readable_time():
    perp = replace(BTC_PERP, margin_tiers=())
    broker = PaperBroker([perp, ETH_PERP])
    broker.seed({"USDT": 10_000.0}, [(perp.symbol, 1.0, 60_000.0)])
    broker.on_ticker(ticker(perp.symbol, 60_000.0))
    broker.on_ticker(ticker(perp.symbol, 50_200.0, T0 + 2))  # equity 200 < MM 251
    reason = broker.account().extra["last_liquidation"]
    assert reason.startswith("liquidated at 2026-09-21 14:13:20 UTC: equity"), reason
    assert not RAW_MS.search(reason)


def test_funding_log_line_names_a_readable_time(caplog):
    broker = PaperBroker([BTC_PERP, ETH_PERP])
    broker.seed({"USDT": 100_000.0}, [(BTC_PERP.symbol, 1.0, 60_000.0)])
    caplog.set_level(logging.INFO, logger="cockpit")
    # tickers every hour for a day: funding falls due at least twice (8-hourly)
    for hour in range(25):
        broker.on_ticker(ticker(BTC_PERP.symbol, 60_000.0, T0 + hour * 3_600_000,
                                funding_rate=0.0001))
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("funding ")]
    assert lines, "no funding was booked"
    # from 14:13:20 on the 21st, 8-hourly from 00:00 UTC: 16:00, then 00:00 and 08:00
    assert " at 2026-09-21 16:00:00 UTC:" in lines[0], lines[0]
    for line in lines:
        assert re.search(r" at 2026-09-2\d \d\d:00:00 UTC:", line), line
        assert not RAW_MS.search(line)
