"""Fixtures for the paper broker's tests (instruments and builders live in specs.py)."""

from __future__ import annotations

import pytest

from cockpit.paper import PaperBroker
from tests.paper.specs import ALL, BTC_PERP, ticker


@pytest.fixture
def broker() -> PaperBroker:
    """An in-memory paper account with 100,000 USDT, BTC at 60,000."""
    b = PaperBroker(ALL)
    b.seed({"USDT": 100_000.0}, [])
    b.on_ticker(ticker(BTC_PERP.symbol, 60_000.0))
    return b
