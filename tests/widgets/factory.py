"""Hand-built snapshots for the panel tests (no network, no simulator)."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from cockpit.model import (
    Account,
    Bars,
    Book,
    Instrument,
    Order,
    Position,
    Snapshot,
    Ticker,
    VenueGreeks,
    VenueStatus,
)

NOW_MS = 1_790_000_000_000  # a fixed data clock
YEAR_MS = 365 * 86_400_000

BTC_PERP = Instrument(
    symbol="BTC/USDT:USDT", venue="sim", kind="perp", base="BTC", quote="USDT", settle="USDT",
    linear=True, contract_size=1.0, amount_step=0.001, price_step=0.1, min_amount=0.001,
    underlying="BTC",
)
ETH_PERP = Instrument(
    symbol="ETH/USDT:USDT", venue="sim", kind="perp", base="ETH", quote="USDT", settle="USDT",
    linear=True, contract_size=1.0, amount_step=0.01, price_step=0.01, min_amount=0.01,
    underlying="ETH",
)


def option(strike: float, years: float, kind: str = "call") -> Instrument:
    return Instrument(
        symbol=f"BTC/USD:BTC-TEST{int(years * 1000)}-{int(strike)}-{kind[0].upper()}",
        venue="sim", kind="option", base="BTC", quote="USD", settle="BTC", linear=False,
        contract_size=1.0, amount_step=0.1, price_step=0.0005, min_amount=0.1,
        strike=strike, expiry_ms=NOW_MS + int(round(years * YEAR_MS)), option_type=kind,
        underlying="BTC",
    )


def ticker(symbol: str, mark: float, *, ts_ms: int = NOW_MS, iv: float | None = None,
           underlying: float | None = None, greeks: VenueGreeks | None = None) -> Ticker:
    return Ticker(symbol=symbol, ts_ms=ts_ms, bid=mark, ask=mark, last=mark, mark=mark,
                  index=underlying or mark, mark_iv=iv, underlying_price=underlying,
                  greeks=greeks)


def book(symbol: str, bids, asks, ts_ms: int = NOW_MS) -> Book:
    return Book(symbol, ts_ms, np.asarray(bids, float).reshape(-1, 2),
                np.asarray(asks, float).reshape(-1, 2))


def hourly_bars(symbol: str, close) -> Bars:
    close = np.asarray(close, float)
    n = len(close)
    ts = NOW_MS - 3_600_000 * np.arange(n, 0, -1)
    return Bars(symbol, 3600, ts, close, close, close, close, np.ones(n))


def snapshot(*, instruments=(), tickers=(), books=(), bars=(), positions=(), orders=(),
             equity=100_000.0, im=10_000.0, mm=5_000.0, upnl=0.0, peak=0.0,
             venues=(), mode="demo", account=True, ts_ms=NOW_MS) -> Snapshot:
    acct = None
    if account:
        acct = Account(venue="sim", ts_ms=ts_ms, positions=tuple(positions),
                       open_orders=tuple(orders), equity_usd=equity, initial_margin_usd=im,
                       maintenance_margin_usd=mm, unrealised_pnl_usd=upnl,
                       peak_equity_usd=peak)
    return Snapshot(
        ts_ms=ts_ms, seq=1, mode=mode,
        instruments=MappingProxyType({i.symbol: i for i in instruments}),
        tickers=MappingProxyType({t.symbol: t for t in tickers}),
        books=MappingProxyType({b.symbol: b for b in books}),
        bars=MappingProxyType({b.symbol: b for b in bars}),
        account=acct,
        venues=MappingProxyType({v.venue: v for v in venues}),
    )


__all__ = [
    "BTC_PERP", "ETH_PERP", "NOW_MS", "Order", "Position", "VenueGreeks", "VenueStatus",
    "YEAR_MS", "book", "hourly_bars", "option", "snapshot", "ticker",
]
