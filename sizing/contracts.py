"""The one book of contract maths: notional, PnL, fees, funding, margin, delta, step grids.

Every part that values a contract asks here: the paper broker (through
``cockpit.paper.accounting``), the account solver (``sizing.account_risk``),
the policy and the view builders.

Conventions
-----------
* A *contract* is anything with the attributes of :class:`ContractSpec`
  (``cockpit.model.Instrument`` has them all): ``kind`` "perp" / "future" /
  "option", ``linear``, ``contract_size`` (coin per contract for linear
  contracts and coin-settled options, USD face value for inverse futures),
  ``margin_tiers``, ``venue``, ``base``, ``strike``, ``is_call``, fees.
* Amounts are contracts, signed (+ long). Money is in the contract's *settle*
  currency unless the name ends in ``_usd``.
* Every contract, options included, is booked futures-style: the position
  carries ``contracts x cs x (mark - entry)`` of unrealised PnL; no premium
  changes hands at the trade.
* Delta (see :func:`position_delta_coin` and :func:`book_delta_coin`): per
  position the plain Black-76 delta, as Deribit's ticker and positions show;
  per underlying the book delta as Deribit's ``delta_total`` counts it
  (coin-settled options net of their coin price) plus the coin equity, which
  is exactly d(account equity in USD) / d(underlying price).

References
----------
Binance USD-M, "Leverage and Margin of USDⓈ-M Futures" (tiers, maintenance amount).
BitMEX, "Inverse Contracts" (inverse PnL = contracts x (1/entry - 1/exit)).
Deribit, "Fees" (options: 0.03 % of the underlying, capped at 12.5 % of the option price).
Deribit, "Margin requirements" (futures rates and options standard margin).
Deribit API v2, ``private/get_account_summary`` field ``delta_total``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sizing.margin import (
    MarginTier,
    deribit_future_margin_rates,
    deribit_option_margin,
    initial_margin,
    maintenance_margin,
)

__all__ = [
    "DEFAULT_TIERS",
    "OPTION_FEE_CAP",
    "STABLE",
    "ContractSpec",
    "apply_trade",
    "book_delta_coin",
    "contract_pnl",
    "fill_fee",
    "funding_payment",
    "is_inverse_future",
    "notional_usd",
    "on_grid",
    "option_margin",
    "position_delta_coin",
    "position_margin",
    "round_down",
    "round_toward",
]

# Used when a venue publishes no tiers for a perp: 100x initial, 0.5 % maintenance,
# Binance USD-M's first BTCUSDT tier rounded to whole numbers.
DEFAULT_TIERS: tuple[MarginTier, ...] = (MarginTier(math.inf, 0.01, 0.005, 0.0),)

# Deribit caps an option's fee at 12.5 % of the option's price.
OPTION_FEE_CAP = 0.125

# Quote/settle currencies taken at 1 USD (the cockpit values accounts in USD).
STABLE = frozenset({"USD", "USDT", "USDC", "BUSD", "FDUSD"})


@dataclass(frozen=True, slots=True)
class ContractSpec:
    """What the contract maths needs of an instrument (``Instrument`` has the same names).

    ``underlying`` is the index the contract follows ("BTC"); ``settle`` the
    currency PnL and margin are paid in. Fees are fractions of notional.
    """

    symbol: str
    kind: str
    linear: bool
    contract_size: float
    base: str = ""
    settle: str = "USDT"
    underlying: str = ""
    venue: str = ""
    strike: float | None = None
    expiry_ms: int | None = None
    is_call: bool = False
    margin_tiers: tuple[MarginTier, ...] = ()
    maker_fee: float = 0.0002
    taker_fee: float = 0.0005

    @property
    def is_option(self) -> bool:
        return self.kind == "option"


def is_inverse_future(inst) -> bool:
    """Coin-margined perp or future (``contract_size`` in USD)."""
    return not inst.linear and inst.kind != "option"


def settle_moves_with_underlying(inst) -> bool:
    """True when the settle coin is the underlying coin (inverse perps, Deribit options)."""
    return inst.settle not in STABLE


# ------------------------------------------------------------------ money


def notional_usd(inst, contracts: float, mark: float, settle_usd: float) -> float:
    """``|contracts|`` x contract value at mark, in USD (options: the premium at mark)."""
    if is_inverse_future(inst):
        return abs(contracts) * inst.contract_size  # cs is USD
    return abs(contracts) * inst.contract_size * mark * settle_usd


def fill_fee(inst, amount: float, price: float, maker: bool) -> float:
    """Fee of one fill in the settle currency (positive = paid, negative = rebate).

    Linear: ``amount x cs x price x rate`` (USDT). Inverse future: ``amount x cs /
    price x rate`` (coin; cs is USD). Coin-settled option (Deribit): per contract
    ``min(rate x cs, 12.5 % x price x cs)`` in coin, ``price`` in coin per coin.
    """
    rate = inst.maker_fee if maker else inst.taker_fee
    if inst.kind == "option":
        per_coin = rate if rate < 0 else min(rate, OPTION_FEE_CAP * price)
        return amount * inst.contract_size * per_coin
    if is_inverse_future(inst):
        return amount * inst.contract_size / price * rate
    return amount * inst.contract_size * price * rate


def contract_pnl(inst, contracts: float, entry: float, exit_price: float) -> float:
    """PnL in the settle currency of ``contracts`` (signed) from ``entry`` to ``exit_price``.

    Linear and coin-settled options: ``contracts x cs x (exit - entry)``.
    Inverse futures: ``contracts x cs x (1/entry - 1/exit)`` (cs in USD, PnL in coin).
    """
    if is_inverse_future(inst):
        return contracts * inst.contract_size * (1.0 / entry - 1.0 / exit_price)
    return contracts * inst.contract_size * (exit_price - entry)


def apply_trade(
    inst, contracts: float, entry: float, side: str, amount: float, price: float
) -> tuple[float, float, float]:
    """Book one fill against a position: ``(new_contracts, new_entry, realised_settle)``.

    Adding averages the entry weighted by contracts (harmonically for inverse
    futures, whose PnL is linear in 1/price); reducing realises PnL on the
    closed part at the old entry; a flip closes the old side and opens the rest
    at ``price``.
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


def funding_payment(inst, contracts: float, mark: float, rate: float) -> float:
    """Funding this position PAYS at one funding time, settle currency (negative = receives).

    Positive rate: longs pay shorts. Linear: ``contracts x cs x mark x rate`` (USDT);
    inverse: ``contracts x cs / mark x rate`` (coin).
    """
    if is_inverse_future(inst):
        return contracts * inst.contract_size / mark * rate
    return contracts * inst.contract_size * mark * rate


# ------------------------------------------------------------------ margin


def option_margin(
    mark_coin: float, underlying_usd: float, strike: float, is_call: bool, coins: float, short: bool
) -> tuple[float, float]:
    """Initial and maintenance margin in coin of an option position on ``coins`` of underlying.

    Shorts follow Deribit's standard margin (``sizing.margin.deribit_option_margin``),
    e.g. short call IM = max(0.15 - OTM / S, 0.10) + mark, MM = 0.075 + mark.
    A long option has no maintenance margin (the premium is the most it can
    lose); booked futures-style its initial margin is the premium at mark, so
    "available" matches the cash a venue would show after paying the premium.
    """
    if not short:
        return abs(coins) * mark_coin, 0.0
    return deribit_option_margin(mark_coin, underlying_usd, strike, is_call, coins, short=True)


def position_margin(
    inst,
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
    Deribit's rules on ``|contracts| x cs`` coins of underlying (``mark`` in coin;
    for a linear option ``mark`` is USD and is converted at ``underlying_usd``).
    Without tiers, ``DEFAULT_TIERS`` (the one fallback rule). ``coin_usd`` prices
    the base coin, ``settle_usd`` the settle currency; ``underlying_usd`` (options)
    defaults to ``coin_usd``.
    """
    if contracts == 0.0:
        return 0.0, 0.0
    if inst.kind == "option":
        under = underlying_usd if underlying_usd is not None else coin_usd
        mark_coin = mark if not inst.linear else mark / under
        im, mm = option_margin(
            mark_coin, under, float(inst.strike or 0.0), bool(inst.is_call),
            contracts * inst.contract_size, short=contracts < 0,
        )
        to_usd = settle_usd if not inst.linear else under
        return im * to_usd, mm * to_usd
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


# ------------------------------------------------------------------ delta


def position_delta_coin(inst, contracts: float, mark: float, black_delta: float = 0.0) -> float:
    """A position's delta in coin of underlying, the venue's per-position convention.

    Linear perp/future: ``contracts x cs``. Inverse: ``contracts x cs / mark``
    (cs in USD). Option: ``contracts x cs x black_delta``, the plain Black-76
    delta Deribit's ticker and positions show (no premium adjustment).
    """
    if inst.kind == "option":
        return contracts * inst.contract_size * black_delta
    if is_inverse_future(inst):
        return contracts * inst.contract_size / mark
    return contracts * inst.contract_size


def premium_adjustment_coin(inst, contracts: float, mark: float) -> float:
    """What Deribit's ``delta_total`` subtracts for a coin-settled option: its coin value.

    ``-contracts x cs x mark_coin`` for coin-settled options (``mark`` in coin), 0
    otherwise. Book delta = plain delta + this (see :func:`book_delta_coin`).
    """
    if inst.kind != "option" or inst.linear:
        return 0.0
    return -contracts * inst.contract_size * mark


def book_delta_coin(position_deltas: float, premium_adjustments: float,
                    coin_equity: float) -> float:
    """The underlying's book delta in coin: d(account equity USD) / d(price).

    Notes
    -----
    A coin-settled option worth C coin (C = V / S) carried futures-style has
    USD value n C S; d(n C S)/dS = n C + n (delta - C). The first term is
    coin the account holds (with the collateral and the coin-settled PnL:
    ``coin_equity``), the second Deribit's "net delta" ``delta - C``. So::

        book delta = sum(plain deltas) + sum(premium adjustments) + coin equity

    and ``sum(plain) + sum(adjustments)`` is Deribit's ``delta_total``.
    """
    return position_deltas + premium_adjustments + coin_equity


# ------------------------------------------------------------------ step grids


def _decimals(step: float) -> int:
    return max(0, min(12, -math.floor(math.log10(step) + 1e-9) + 2))


def on_grid(x: float, step: float) -> float:
    """``x`` snapped to the nearest step without float dust (0.6589999 -> 0.659)."""
    return round(round(x / step) * step, _decimals(step))


def round_down(x: float, step: float) -> float:
    """Whole steps of ``|x|`` rounded toward zero, sign kept (never trades more than asked)."""
    n = math.floor(abs(x) / step + 1e-9)
    return math.copysign(round(n * step, _decimals(step)), x) if n else 0.0


def round_toward(cap: float, cur_abs: float, step: float) -> float:
    """Move from ``cur_abs`` towards ``cap`` in whole steps: adds round down, cuts round up."""
    if cap >= cur_abs:
        if math.isinf(cap):
            return cur_abs
        return cur_abs + math.floor((cap - cur_abs) / step + 1e-9) * step
    return max(cur_abs - math.ceil((cur_abs - cap) / step - 1e-9) * step, 0.0)
