"""Paper-account arithmetic: fees, contract PnL, average entry, funding and margin.

Conventions
-----------
* Amounts are contracts; ``Instrument.contract_size`` (cs) turns them into coin
  (linear perps, coin-settled options) or USD (inverse futures).
* Money is in the instrument's *settle* currency unless a name ends in ``_usd``.
* Every contract, options included, is booked futures-style: no premium changes
  hands at the trade, the position carries ``contracts x cs x (mark - entry)`` of
  unrealised PnL and realises it on reduction. Equity is the same as with
  premium-style booking (balance - premium + option value); only the cash split
  differs, and a long option's initial margin (its premium at mark) keeps the
  "available" figure equal to the cash a venue would show.

References
----------
Binance USD-M, "Leverage and Margin of USDⓈ-M Futures" (tiers, maintenance amount).
BitMEX, "Inverse Contracts" (inverse PnL = contracts x (1/entry - 1/exit)).
Deribit, "Fees" (options: 0.03 % of the underlying, capped at 12.5 % of the option price).
Deribit, "Margin requirements - Options" (via ``sizing.margin.deribit_option_margin``).
"""

from __future__ import annotations

import math

from cockpit.model import Instrument, MarginTier
from sizing.margin import (
    deribit_future_margin_rates,
    deribit_option_margin,
    initial_margin,
    maintenance_margin,
)

__all__ = [
    "DEFAULT_TIERS",
    "OPTION_FEE_CAP",
    "apply_trade",
    "contract_pnl",
    "fill_fee",
    "funding_payment",
    "is_inverse_future",
    "option_margin",
    "position_margin",
]

# Used when a venue publishes no tiers for a perp: 100x initial, 0.5 % maintenance,
# Binance USD-M's first BTCUSDT tier rounded to whole numbers.
DEFAULT_TIERS: tuple[MarginTier, ...] = (MarginTier(math.inf, 0.01, 0.005, 0.0),)

# Deribit caps an option's fee at 12.5 % of the option's price.
OPTION_FEE_CAP = 0.125


def is_inverse_future(inst: Instrument) -> bool:
    return not inst.linear and not inst.is_option


def fill_fee(inst: Instrument, amount: float, price: float, maker: bool) -> float:
    """Fee of one fill in the settle currency (positive = paid, negative = rebate).

    Linear: ``amount x cs x price x rate`` (USDT). Inverse future: ``amount x cs /
    price x rate`` (coin; cs is USD). Coin-settled option (Deribit): per contract
    ``min(rate x cs, 12.5 % x price x cs)`` in coin, ``price`` in coin per coin.
    """
    rate = inst.maker_fee if maker else inst.taker_fee
    if inst.is_option:
        per_coin = rate if rate < 0 else min(rate, OPTION_FEE_CAP * price)
        return amount * inst.contract_size * per_coin
    if is_inverse_future(inst):
        return amount * inst.contract_size / price * rate
    return amount * inst.contract_size * price * rate


def contract_pnl(inst: Instrument, contracts: float, entry: float, exit_price: float) -> float:
    """PnL in the settle currency of ``contracts`` (signed, + long) from ``entry`` to ``exit_price``.

    Linear and coin-settled options: ``contracts x cs x (exit - entry)``.
    Inverse futures: ``contracts x cs x (1/entry - 1/exit)`` (cs in USD, PnL in coin).
    """
    if is_inverse_future(inst):
        return contracts * inst.contract_size * (1.0 / entry - 1.0 / exit_price)
    return contracts * inst.contract_size * (exit_price - entry)


def apply_trade(
    inst: Instrument, contracts: float, entry: float, side: str, amount: float, price: float
) -> tuple[float, float, float]:
    """Book one fill against a position.

    Returns ``(new_contracts, new_entry, realised_settle)``. Adding averages the
    entry weighted by contracts (harmonically for inverse futures, whose PnL is
    linear in 1/price); reducing realises PnL on the closed part at the old entry;
    a flip closes the old side and opens the rest at ``price``.
    """
    signed = amount if side == "buy" else -amount
    new = contracts + signed
    if abs(new) < 1e-12:
        new = 0.0
    if contracts == 0.0 or (contracts > 0) == (signed > 0):
        if is_inverse_future(inst):
            inv = (abs(contracts) / entry + amount / price) if contracts else amount / price
            new_entry = abs(new) / inv
        else:
            new_entry = (abs(contracts) * entry + amount * price) / abs(new) if contracts else price
        return new, new_entry, 0.0
    closed = min(abs(signed), abs(contracts))
    realised = contract_pnl(inst, math.copysign(closed, contracts), entry, price)
    if new == 0.0:
        return 0.0, 0.0, realised
    if (new > 0) == (contracts > 0):  # partial reduction keeps the entry
        return new, entry, realised
    return new, price, realised  # flipped: the remainder opens at the fill price


def funding_payment(inst: Instrument, contracts: float, mark: float, rate: float) -> float:
    """Funding this position PAYS at one funding time, settle currency (negative = receives).

    Positive rate: longs pay shorts. Linear: ``contracts x cs x mark x rate`` (USDT);
    inverse: ``contracts x cs / mark x rate`` (coin).
    """
    if is_inverse_future(inst):
        return contracts * inst.contract_size / mark * rate
    return contracts * inst.contract_size * mark * rate


def option_margin(
    mark_coin: float, underlying_usd: float, strike: float, is_call: bool, coins: float, short: bool
) -> tuple[float, float]:
    """Initial and maintenance margin in coin of an option position on ``coins`` of underlying.

    Notes
    -----
    Shorts follow Deribit's standard margin (``sizing.margin.deribit_option_margin``)::

        short call IM = max(0.15 - OTM amount / underlying, 0.10) + mark,  MM = 0.075 + mark

    A long option has no maintenance margin (the premium is the most it can lose);
    as we book options futures-style (premium not taken from the balance) its
    initial margin is the premium at mark, so "available" matches the cash a
    venue would show after paying the premium.

    References
    ----------
    Deribit, "Margin requirements - Options" (standard margin).
    """
    if not short:
        return abs(coins) * mark_coin, 0.0
    return deribit_option_margin(mark_coin, underlying_usd, strike, is_call, coins, short=True)


def position_margin(
    inst: Instrument,
    contracts: float,
    mark: float,
    coin_usd: float,
    settle_usd: float,
    underlying_usd: float | None = None,
) -> tuple[float, float]:
    """``(initial_margin_usd, maintenance_margin_usd)`` of one position.

    Linear: tiers on the USDT notional ``|contracts| x cs x mark``. Inverse future:
    tiers on the coin notional ``|contracts| x cs / mark`` (on Deribit, without tiers,
    its published BTC rates, IM 2 % + 0.005 % and MM 1 % + 0.005 % per BTC). Option:
    Deribit's rules on ``|contracts| x cs`` coins of underlying. Without tiers,
    ``DEFAULT_TIERS``. ``coin_usd`` prices the base coin,
    ``settle_usd`` the settle currency; ``underlying_usd`` (options) defaults to
    ``coin_usd``.
    """
    if contracts == 0.0:
        return 0.0, 0.0
    if inst.is_option:
        under = underlying_usd if underlying_usd is not None else coin_usd
        im, mm = option_margin(
            mark, under, float(inst.strike or 0.0), inst.is_call,
            contracts * inst.contract_size, short=contracts < 0,
        )
        return im * settle_usd, mm * settle_usd
    if is_inverse_future(inst):
        notional = abs(contracts) * inst.contract_size / mark
    else:
        notional = abs(contracts) * inst.contract_size * mark
    if not inst.margin_tiers and inst.venue == "deribit" and inst.base == "BTC" \
            and not inst.linear:
        # Deribit publishes rates, not tiers, for its coin-settled futures
        im_rate, mm_rate = deribit_future_margin_rates(notional)
        return notional * im_rate * settle_usd, notional * mm_rate * settle_usd
    tiers = inst.margin_tiers or DEFAULT_TIERS
    return (
        initial_margin(notional, tiers) * settle_usd,
        maintenance_margin(notional, tiers) * settle_usd,
    )
