"""The demo account the risk gate's tests run on, and small builders of orders and data.

The demo account (``cockpit.demo``): equity about 290k USD, BTC about 90k, a 4.1 BTC perp
long, a 40 ETH perp short, a short BTC strangle (5 + 5) and 2 long calls.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

from cockpit.config import Config, RiskConfig, SizingConfig
from cockpit.model import Book, Order, OrderRequest
from cockpit.risk_gate import RiskGate, TradingState
from cockpit.runtime import build_demo
from cockpit.views.greeks import greeks_view

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
ACTIVE, REDUCING, HALTED = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED
START_MS = 1_795_435_200_000  # 2026-11-23 08:00 UTC, as the TUI tests


def demo():
    return build_demo(Config(), seed=7, state_path=None, start_ms=START_MS)


SNAP = demo().store.snapshot()
ACCT = SNAP.account
POS = {p.symbol: p.contracts for p in ACCT.positions}
OPTIONS = sorted(s for s in POS if SNAP.instruments[s].is_option)
SHORT_CALL = next(s for s in OPTIONS if POS[s] < 0 and s.endswith("-C"))
SHORT_PUT = next(s for s in OPTIONS if POS[s] < 0 and s.endswith("-P"))
LONG_CALL = next(s for s in OPTIONS if POS[s] > 0)
# an option the account does not hold, near the money, same expiry as the strangle
FLAT_OPTION = min((s for s, i in SNAP.instruments.items() if i.is_option and s not in POS
                   and i.expiry_ms == SNAP.instruments[SHORT_CALL].expiry_ms and i.is_call),
                  key=lambda s: abs(SNAP.instruments[s].strike - SNAP.tickers[BTC].index))


def mark(symbol: str, snap=SNAP) -> float:
    return snap.tickers[symbol].mark


def mkt(symbol: str, side: str, amount: float, **kw) -> OrderRequest:
    return OrderRequest(symbol, side, "market", amount, **kw)


def lim(symbol: str, side: str, amount: float, price: float, **kw) -> OrderRequest:
    return OrderRequest(symbol, side, "limit", amount, price, **kw)


def gate(risk: dict | None = None, sizing: dict | None = None, time_scale: float = 1.0):
    return RiskGate(RiskConfig(**(risk or {})), SizingConfig(**(sizing or {})),
                    time_scale=time_scale)


def resting(symbol: str, side: str, amount: float, *, reduce_only: bool, price: float) -> Order:
    return Order("r1", "ck-r1", symbol, side, "limit", amount, price, 0.0, None, "open",
                 reduce_only, False, SNAP.ts_ms)


def close_of(symbol: str, **kw) -> OrderRequest:
    p = POS[symbol]
    return mkt(symbol, "sell" if p > 0 else "buy", abs(p), **kw)


def with_ticker(snap, symbol, **changes):
    tickers = dict(snap.tickers)
    tickers[symbol] = dataclasses.replace(tickers[symbol], **changes)
    return dataclasses.replace(snap, tickers=MappingProxyType(tickers))


def with_book(snap, symbol, book):
    books = dict(snap.books)
    if book is None:
        del books[symbol]
    else:
        books[symbol] = book
    return dataclasses.replace(snap, books=MappingProxyType(books))


def aged(snap, seconds: float):
    """The same data, ``seconds`` of data time older (the snapshot's clock moved on)."""
    return dataclasses.replace(snap, ts_ms=snap.ts_ms + int(seconds * 1000))


def crossed(snap, symbol):
    b = snap.books[symbol]
    bids = b.bids.copy()
    bids[0, 0] = b.best_ask + 10 * snap.instruments[symbol].price_step
    return with_book(snap, symbol, Book(symbol, b.ts_ms, bids, b.asks, b.seq))


def independent_gross_leverage(snap) -> float:
    """Perps by the broker's own Position.notional_usd, options by |delta| from the
    Greeks panel's builder (venue or Black-76), over the broker's equity."""
    rows = {r.symbol: r for r in greeks_view(snap).rows}
    gross = 0.0
    for p in snap.account.positions:
        if not p.contracts:
            continue
        if snap.instruments[p.symbol].is_option:
            gross += abs(rows[p.symbol].delta_usd)
        else:
            gross += p.notional_usd
    return gross / snap.account.equity_usd
