"""Greeks of an ``AccountBook``: per position in the venue's convention, per underlying
the book delta, all from one Black-76 call per book.

Conventions (``sizing.contracts`` has the definitions)
-----------------------------------------------------
* ``delta_coin`` per position: the plain Black-76 delta x contracts x size
  (Deribit's ticker and position delta); perps: the coin size.
* ``premium_adjustment_coin``: minus a coin-settled option's coin value;
  ``sum(delta_coin) + sum(premium_adjustment_coin)`` is Deribit's ``delta_total``.
* ``coin_equity``: coin the account holds in the underlying (collateral plus
  the coin-settled PnL); ``book_delta_coin = delta_total + coin_equity`` is
  d(equity USD) / d(underlying price), what the account makes per USD move.
* gamma in coin per USD, vega USD per vol point, theta USD per day with the
  venue's last-day rule (:func:`venue_theta`).

References
----------
Deribit API v2, ``public/ticker`` (``greeks``) and ``private/get_account_summary``
(``delta_total``); Black (1976).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sizing.account_risk import AccountBook, BookPosition
from sizing.contracts import (
    STABLE,
    contract_pnl,
    position_delta_coin,
    premium_adjustment_coin,
)

__all__ = [
    "DELTA_CONVENTION",
    "BookDelta",
    "PositionGreeks",
    "book_deltas",
    "position_greeks",
    "venue_theta",
]

DELTA_CONVENTION = ("per position: plain Black-76 delta (Deribit ticker); per underlying: "
                    "Deribit delta_total (coin options net of their coin price) + coin equity")


@dataclass(frozen=True, slots=True)
class PositionGreeks:
    """One position's Greeks (see the module conventions); ``underlying_price`` USD."""

    symbol: str
    underlying: str
    underlying_price: float
    delta_coin: float
    premium_adjustment_coin: float
    gamma_coin: float
    vega_usd: float
    theta_usd: float

    @property
    def delta_usd(self) -> float:
        return self.delta_coin * self.underlying_price


@dataclass(frozen=True, slots=True)
class BookDelta:
    """The book delta of one underlying, split as the Greeks panel shows it (coin).

    ``options_coin`` / ``perps_coin`` plain deltas; ``premium_adjustment_coin``;
    ``coin_equity``; ``total_coin`` their sum, d(equity USD)/d(price).
    """

    underlying: str
    price: float
    options_coin: float
    perps_coin: float
    premium_adjustment_coin: float
    coin_equity: float

    @property
    def delta_total_coin(self) -> float:
        """Deribit's ``delta_total``: the plain deltas with the premium adjustment."""
        return self.options_coin + self.perps_coin + self.premium_adjustment_coin

    @property
    def total_coin(self) -> float:
        return self.delta_total_coin + self.coin_equity

    @property
    def options_book_usd(self) -> float:
        """The options' delta net of premium, USD: what the delta band covers."""
        return (self.options_coin + self.premium_adjustment_coin) * self.price

    @property
    def total_usd(self) -> float:
        return self.total_coin * self.price


def venue_theta(theta_per_day, years):
    """Theta as Deribit shows it: inside the last day, scaled by the time left.

    Notes
    -----
    Black-76 theta is the instantaneous decay per calendar day; with less than a
    day to expiry the option cannot lose a day's decay, and Deribit reports
    ``theta x days left`` (so 7.6 h before expiry it shows 7.6 / 24 of the rate).
    Expired (years <= 0): 0.
    """
    days = np.asarray(years, float) * 365.0
    return np.asarray(theta_per_day, float) * np.clip(days, 0.0, 1.0)


def position_greeks(book: AccountBook) -> list[PositionGreeks]:
    """Greeks of every position of ``book`` (options in one vectorised Black-76 call)."""
    from sizing.greeks import black76

    opts = [p for p in book.positions if p.is_option]
    bs = None
    if opts:
        with np.errstate(all="ignore"):
            bs = black76(np.array([p.underlying_price for p in opts]),
                         np.array([float(p.contract.strike or math.nan) for p in opts]),
                         np.array([p.years for p in opts]),
                         np.array([p.implied_vol for p in opts]),
                         np.array([bool(p.contract.is_call) for p in opts]))
    out, j = [], 0
    for p in book.positions:
        c = p.contract
        if not p.is_option:
            out.append(PositionGreeks(c.symbol, p.underlying, p.underlying_price,
                                      position_delta_coin(c, p.contracts, p.mark_price),
                                      0.0, 0.0, 0.0, 0.0))
            continue
        n = p.contracts * c.contract_size
        theta = float(venue_theta(bs.theta[j], p.years))
        out.append(PositionGreeks(
            c.symbol, p.underlying, p.underlying_price,
            position_delta_coin(c, p.contracts, p.mark_price, float(bs.delta[j])),
            premium_adjustment_coin(c, p.contracts, p.mark_price),
            n * float(bs.gamma[j]), n * float(bs.vega[j]), n * theta))
        j += 1
    return out


def coin_equity(book: AccountBook, coin: str) -> float:
    """Coin held in ``coin``: the balance plus the unrealised PnL settled in it."""
    held = float(book.balances.get(coin, 0.0))
    for p in book.positions:
        if p.contract.settle == coin:
            held += contract_pnl(p.contract, p.contracts, p.entry_price, p.mark_price)
    return held


def book_deltas(book: AccountBook, greeks: list[PositionGreeks] | None = None,
                ) -> dict[str, BookDelta]:
    """Underlying -> its book delta (every underlying held or a coin balance is in)."""
    greeks = greeks if greeks is not None else position_greeks(book)
    by_pos: dict[str, tuple[BookPosition, PositionGreeks]] = {
        g.symbol: (p, g) for p, g in zip(book.positions, greeks, strict=True)}
    out = {}
    for und in book.underlyings():
        rows = [v for v in by_pos.values() if v[1].underlying == und]
        price = book.price(und)
        out[und] = BookDelta(
            und, price,
            options_coin=math.fsum(g.delta_coin for p, g in rows if p.is_option),
            perps_coin=math.fsum(g.delta_coin for p, g in rows if not p.is_option),
            premium_adjustment_coin=math.fsum(g.premium_adjustment_coin for _, g in rows),
            coin_equity=coin_equity(book, und) if und not in STABLE else 0.0,
        )
    return out
