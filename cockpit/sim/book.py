"""Simulated perpetual order books and trade prints.

Liquidity follows the volatility regime, as market makers quote it: with
``r = vol_annual / 0.5`` (the regime relative to a calm 50 %),

* half-spread = max(1 tick, ``base_half_spread_bps`` x r^2 x mid), so the
  spread is a tick or two in calm and widens fast in storms;
* level gaps = max(1 tick, 0.4 bp x r x mid) with noise;
* level sizes = ``touch_size`` / r x (1 + i/8) x lognormal(0, 0.35) noise,
  growing away from the touch, on the amount step.

Trades arrive as a Poisson process (``trades_per_second`` x r), sizes lognormal
around ``median_trade``, the taker side biased towards the last move; at most
``MAX_PRINTS`` takers per tick, so at high time acceleration the tape is a
sample, not every trade. Each taker walks the book and prints once per level it
touches (``cockpit.sim.flow.sweep``): at the touch, or through it when it is larger
than the touch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cockpit.sim.flow import buy_probability, sweep

LEVELS = 25
MAX_PRINTS = 4
CALM_VOL = 0.5


@dataclass(frozen=True, slots=True)
class Liquidity:
    """Per-symbol liquidity settings of the simulated venue (amounts in coin)."""

    touch_size: float
    median_trade: float
    trades_per_second: float
    base_half_spread_bps: float = 0.15


def _round_down(x, step):
    return np.round(np.floor(np.asarray(x) / step + 1e-9) * step, 10)


def perp_levels(
    mid: float,
    vol_annual: float,
    price_step: float,
    amount_step: float,
    liquidity: Liquidity,
    rng: np.random.Generator,
    levels: int = LEVELS,
) -> tuple[np.ndarray, np.ndarray]:
    """(bids, asks) as (levels, 2) arrays of [price, amount], best first."""
    r = max(vol_annual, 0.05) / CALM_VOL
    half = max(price_step, liquidity.base_half_spread_bps * 1e-4 * r * r * mid)
    gap = max(price_step, 0.4e-4 * r * mid)
    # work in integer ticks so levels stay on the grid and strictly ordered
    gap_ticks = np.maximum(np.rint(gap * rng.uniform(0.5, 1.5, (2, levels - 1)) / price_step), 1)
    best_bid = math.floor((mid - half) / price_step + 1e-9)
    best_ask = max(math.ceil((mid + half) / price_step - 1e-9), best_bid + 1)
    bid_ticks = best_bid - np.concatenate(([0.0], np.cumsum(gap_ticks[0])))
    ask_ticks = best_ask + np.concatenate(([0.0], np.cumsum(gap_ticks[1])))
    decimals = max(0, -math.floor(math.log10(price_step) + 1e-9))
    bid_px = np.round(bid_ticks * price_step, decimals)
    ask_px = np.round(ask_ticks * price_step, decimals)
    shape = (1.0 + np.arange(levels) / 8.0) / r
    sizes = liquidity.touch_size * shape * rng.lognormal(0.0, 0.35, (2, levels))
    sizes = np.maximum(_round_down(sizes, amount_step), amount_step)
    bids = np.stack((bid_px, sizes[0]), axis=1)
    asks = np.stack((ask_px, sizes[1]), axis=1)
    bids.setflags(write=False)
    asks.setflags(write=False)
    return bids, asks


def trade_prints(
    bids: np.ndarray,
    asks: np.ndarray,
    vol_annual: float,
    last_return: float,
    dt_seconds: float,
    amount_step: float,
    liquidity: Liquidity,
    rng: np.random.Generator,
) -> list[tuple[float, float, str]]:
    """(price, amount, taker side) prints for one tick: each taker's sweep from the touch."""
    r = max(vol_annual, 0.05) / CALM_VOL
    count = min(int(rng.poisson(liquidity.trades_per_second * r * dt_seconds)), MAX_PRINTS)
    # the taker flow leans with the move: a 1-sigma-per-tick up move -> ~70 % buys
    buy_prob = buy_probability(last_return, vol_annual, dt_seconds)
    out = []
    for _ in range(count):
        amount = float(_round_down(rng.lognormal(np.log(liquidity.median_trade), 1.0), amount_step))
        amount = max(amount, amount_step)
        side = "buy" if rng.random() < buy_prob else "sell"
        levels = asks if side == "buy" else bids
        out.extend((price, take, side) for price, take in sweep(levels, amount))
    return out
