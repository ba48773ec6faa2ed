"""Instruments and market-data builders for the paper broker's tests.

Contract specs follow the venues' published ones, rounded for hand arithmetic:
Binance USD-M BTCUSDT (1 BTC contracts, 0.001 step, 0.1 tick, min notional 100 USDT,
2/5 bp fees), Deribit BTC-PERPETUAL (inverse, 10 USD contracts, 0.5 tick) and
Deribit BTC options (1 BTC contracts, 0.1 step, 0.0005 BTC tick, 3 bp fees).
"""

from __future__ import annotations

import numpy as np

from cockpit.model import Book, Instrument, MarginTier, Ticker

# Binance USD-M BTCUSDT leverage brackets 1-2 (rounded): 0-50k at 125x / 0.4 %,
# 50k-600k at 100x / 0.5 % with maintenance amount 50k x (0.5 % - 0.4 %) = 50.
BTC_TIERS = (MarginTier(50_000, 0.008, 0.004, 0.0), MarginTier(600_000, 0.01, 0.005, 50.0))

BTC_PERP = Instrument(
    symbol="BTC/USDT:USDT", venue="paper", kind="perp", base="BTC", quote="USDT",
    settle="USDT", linear=True, contract_size=1.0, amount_step=0.001, price_step=0.1,
    min_amount=0.001, min_cost=100.0, maker_fee=0.0002, taker_fee=0.0005,
    underlying="BTC", margin_tiers=BTC_TIERS,
)
ETH_PERP = Instrument(
    symbol="ETH/USDT:USDT", venue="paper", kind="perp", base="ETH", quote="USDT",
    settle="USDT", linear=True, contract_size=1.0, amount_step=0.001, price_step=0.01,
    min_amount=0.001, min_cost=20.0, maker_fee=0.0002, taker_fee=0.0005, underlying="ETH",
)
BTC_INVERSE = Instrument(
    symbol="BTC/USD:BTC", venue="paper", kind="perp", base="BTC", quote="USD", settle="BTC",
    linear=False, contract_size=10.0, amount_step=1.0, price_step=0.5, min_amount=1.0,
    maker_fee=0.0, taker_fee=0.0005, underlying="BTC",
)
BTC_CALL = Instrument(
    symbol="BTC/USD:BTC-261225-70000-C", venue="paper", kind="option", base="BTC",
    quote="USD", settle="BTC", linear=False, contract_size=1.0, amount_step=0.1,
    price_step=0.0005, min_amount=0.1, maker_fee=0.0003, taker_fee=0.0003, strike=70_000.0,
    expiry_ms=1_798_185_600_000, option_type="call", underlying="BTC",
)
BTC_PUT = Instrument(
    symbol="BTC/USD:BTC-261225-58000-P", venue="paper", kind="option", base="BTC",
    quote="USD", settle="BTC", linear=False, contract_size=1.0, amount_step=0.1,
    price_step=0.0005, min_amount=0.1, maker_fee=0.0003, taker_fee=0.0003, strike=58_000.0,
    expiry_ms=1_798_185_600_000, option_type="put", underlying="BTC",
)
ALL = (BTC_PERP, ETH_PERP, BTC_INVERSE, BTC_CALL, BTC_PUT)

T0 = 1_790_000_000_000  # a fixed data clock, ms


def book(symbol: str, bids, asks, ts_ms: int = T0) -> Book:
    b = np.array(bids, dtype=float).reshape(-1, 2)
    a = np.array(asks, dtype=float).reshape(-1, 2)
    return Book(symbol, ts_ms, b, a)


def ticker(symbol: str, mark: float, ts_ms: int = T0, *, index: float | None = None,
           spread: float = 0.0, funding_rate=None, next_funding_ms=None,
           underlying=None) -> Ticker:
    return Ticker(symbol, ts_ms, mark - spread, mark + spread, mark, mark,
                  mark if index is None else index, funding_rate, next_funding_ms,
                  underlying_price=underlying)
