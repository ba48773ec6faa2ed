"""Tickers and books for the simulated option chain (Deribit style, prices in BTC).

Marks come from ``cockpit.sim.surface`` at the current variance state; the
book has five levels a side, each level half a spread further out in IV
terms, on Deribit's tick; bids that would fall under one tick are left out
(so deep out-of-the-money options may show fewer than five bids, and a zero
best bid in the ticker, as Deribit does). Sizes: ``TOUCH_SIZE`` BTC at 50 %
vol, thinning as 1/vol, lognormal noise, on the 0.1 contract step.
"""

from __future__ import annotations

import math

import numpy as np

from cockpit.model import Book, Instrument, Ticker
from cockpit.sim import surface

LEVELS = 5
TOUCH_SIZE = 5.0


def option_quotes(
    options: list[Instrument],
    forward: float,
    now_ms: int,
    variance_now: float,
    variance_mean: float,
    rng: np.random.Generator,
    first_seq: int,
) -> list[tuple[Ticker, Book]]:
    """(ticker, book) per option, all priced off one forward (the BTC index, USD)."""
    if not options:
        return []
    strikes = np.array([o.strike for o in options])
    is_call = np.array([o.is_call for o in options])
    years = np.maximum(
        surface.years_between(now_ms, [o.expiry_ms for o in options]), surface.MIN_YEARS
    )
    vol_now = math.sqrt(variance_now)
    atm = surface.atm_vol(variance_now, variance_mean, years)
    vols = surface.implied_vol(atm, forward, strikes, years)
    half = surface.half_spread_vol(vol_now)
    marks, bid_px, ask_px = surface.quote_ladder(
        forward, strikes, years, vols, is_call, half, LEVELS
    )
    size = TOUCH_SIZE * 0.5 / max(vol_now, 0.05)
    noise = rng.lognormal(0.0, 0.35, (len(options), 2, LEVELS))
    amounts = np.maximum(np.round(np.floor(size * noise * 10 + 1e-9) / 10, 1), 0.1)
    # one read-only block of [price, amount] levels; each book holds views into it
    levels = np.empty((len(options), 2, LEVELS, 2))
    levels[:, 0, :, 0] = bid_px
    levels[:, 1, :, 0] = ask_px
    levels[:, :, :, 1] = amounts
    levels.setflags(write=False)
    n_bids = (bid_px > 0).sum(axis=1).tolist()  # zero bids only trail the ladder
    mark_list, vol_list = marks.tolist(), vols.tolist()
    best_bids, best_asks = bid_px[:, 0].tolist(), ask_px[:, 0].tolist()
    out = []
    for i, inst in enumerate(options):
        mark = mark_list[i]
        ticker = Ticker(
            symbol=inst.symbol,
            ts_ms=now_ms,
            bid=best_bids[i],
            ask=best_asks[i],
            last=mark,
            mark=mark,
            index=forward,
            mark_iv=vol_list[i],
            underlying_price=forward,
        )
        book = Book(inst.symbol, now_ms, levels[i, 0, : n_bids[i]], levels[i, 1], first_seq + i)
        out.append((ticker, book))
    return out
