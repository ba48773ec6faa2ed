"""Taker flow of the built-in market: market orders that trade against the books.

Every taker walks the side it takes from, level by level, and prints one trade
per level it touches (as venues print a sweep), at the touch or through it;
what the visible book cannot fill is dropped. A resting paper limit fills from
these prints (``cockpit.paper.queue``), so the rate and size of the flow decide
how often a passive order fills.

Options (this module's parameters; perps are in ``cockpit.sim.book``)
--------------------------------------------------------------------
* Arrivals per option are Poisson, at a rate proportional to its share of the
  chain's volume::

      rate_i = OPTION_TRADES_PER_SECOND x r x w_i / sum_j w_j,
      w_i = exp(-z_i^2 / 2) x min(1, (7 days / T_i)^(1/4)),   z_i = ln(K_i / F) / (vol sqrt T_i)

  with ``r = vol / 50 %`` (more trading in storms, as for the perps): volume
  concentrates at the money (z = 0) and in the near expiries, as on Deribit.
  ``OPTION_TRADES_PER_SECOND`` is a choice for the demo, not a calibration to
  a venue: 1.5 prints a second over the whole chain at 50 % vol, so a near-the-
  money option trades every 15-90 s of market time.
* Sizes are lognormal, median ``OPTION_MEDIAN_TRADE`` (1 BTC) and log-s.d.
  ``OPTION_TRADE_SIGMA`` (1.0), on the 0.1 contract step.
* Side: half buyers, leaning with the underlying's last move as the perp flow
  does (a call's buyers after an up move, a put's after a down move); so a
  resting bid is hit more often just after the market fell (adverse selection).
* At most ``MAX_TAKERS`` takers per option per step (at high acceleration the
  tape is a sample, as for the perps).

References
----------
R. Cont, S. Stoikov, R. Talreja (2010), "A stochastic model for order book
dynamics", Operations Research 58(3): market orders as Poisson arrivals.
"""

from __future__ import annotations

import math

import numpy as np

OPTION_TRADES_PER_SECOND = 4.0
OPTION_MEDIAN_TRADE = 1.0
OPTION_TRADE_SIGMA = 1.0
MAX_TAKERS = 4
CALM_VOL = 0.5
WEEK_YEARS = 7.0 / 365.0


def sweep(levels: np.ndarray, amount: float) -> list[tuple[float, float]]:
    """(price, amount) prints of a taker of ``amount`` walking ``levels`` ([price, size],
    best first); what the levels cannot fill is dropped."""
    out, left = [], float(amount)
    for price, size in np.asarray(levels, dtype=float):
        if left <= 1e-12:
            break
        take = min(left, float(size))
        if take > 1e-12:
            out.append((float(price), round(take, 10)))
            left -= take
    return out


def buy_probability(last_return: float, vol_annual: float, dt_seconds: float) -> float:
    """The share of takers who buy: 0.5 + 0.2 x (last return / its one-step s.d.), in
    [0.2, 0.8] (a 1-sigma up move -> 70 % buyers)."""
    tick_sd = max(vol_annual, 0.05) * math.sqrt(max(dt_seconds, 1e-3) / 31_536_000.0)
    return float(np.clip(0.5 + 0.2 * last_return / tick_sd, 0.2, 0.8))


def option_trade_rates(forward: float, strikes, years, vol_annual: float) -> np.ndarray:
    """Taker arrivals per second of market time for each option (see module docstring)."""
    k = np.asarray(strikes, float)
    t = np.maximum(np.asarray(years, float), 1.0 / 8760.0)
    vol = max(vol_annual, 0.05)
    z = np.log(k / forward) / (vol * np.sqrt(t))
    weights = np.exp(-0.5 * z * z) * np.minimum(1.0, (WEEK_YEARS / t) ** 0.25)
    total = weights.sum()
    if not total > 0:
        return np.zeros_like(weights)
    return OPTION_TRADES_PER_SECOND * (vol / CALM_VOL) * weights / total


def option_prints(books, rates: np.ndarray, is_call, buy_prob_calls: float,
                  dt_seconds: float, rng: np.random.Generator
                  ) -> list[tuple[int, float, float, str]]:
    """(option index, price, amount, taker side) prints over ``dt_seconds``.

    ``books[i]`` is option i's latest book (or None); ``buy_prob_calls`` the share of
    call takers who buy (puts take the mirror share)."""
    counts = np.minimum(rng.poisson(np.asarray(rates) * max(dt_seconds, 0.0)), MAX_TAKERS)
    out: list[tuple[int, float, float, str]] = []
    for i in np.flatnonzero(counts).tolist():
        book = books[i]
        if book is None:
            continue
        p_buy = buy_prob_calls if is_call[i] else 1.0 - buy_prob_calls
        for _ in range(int(counts[i])):
            size = rng.lognormal(math.log(OPTION_MEDIAN_TRADE), OPTION_TRADE_SIGMA)
            amount = max(math.floor(size * 10 + 1e-9) / 10, 0.1)
            side = "buy" if rng.random() < p_buy else "sell"
            levels = book.asks if side == "buy" else book.bids
            out.extend((i, price, take, side) for price, take in sweep(levels, amount))
    return out
