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
from collections.abc import Callable, Mapping
from dataclasses import replace

from cockpit.model import Account, Balance, Instrument, MarginTier, Position
from sizing.margin import deribit_option_margin, initial_margin, maintenance_margin

__all__ = [
    "DEFAULT_TIERS",
    "OPTION_FEE_CAP",
    "apply_trade",
    "build_account",
    "contract_pnl",
    "fill_fee",
    "funding_payment",
    "liquidation_price",
    "notional_usd",
    "option_margin",
    "position_margin",
    "value_position",
]

# Used when a venue publishes no tiers for a perp: 100x initial, 0.5 % maintenance,
# Binance USD-M's first BTCUSDT tier rounded to whole numbers.
DEFAULT_TIERS: tuple[MarginTier, ...] = (MarginTier(math.inf, 0.01, 0.005, 0.0),)

# Deribit caps an option's fee at 12.5 % of the option's price.
OPTION_FEE_CAP = 0.125


def _is_inverse_future(inst: Instrument) -> bool:
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
    if _is_inverse_future(inst):
        return amount * inst.contract_size / price * rate
    return amount * inst.contract_size * price * rate


def contract_pnl(inst: Instrument, contracts: float, entry: float, exit_price: float) -> float:
    """PnL in the settle currency of ``contracts`` (signed, + long) from ``entry`` to ``exit_price``.

    Linear and coin-settled options: ``contracts x cs x (exit - entry)``.
    Inverse futures: ``contracts x cs x (1/entry - 1/exit)`` (cs in USD, PnL in coin).
    """
    if _is_inverse_future(inst):
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
        if _is_inverse_future(inst):
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
    if _is_inverse_future(inst):
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
    tiers on the coin notional ``|contracts| x cs / mark``. Option: Deribit's rules
    on ``|contracts| x cs`` coins of underlying. ``coin_usd`` prices the base coin,
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
    tiers = inst.margin_tiers or DEFAULT_TIERS
    if _is_inverse_future(inst):
        notional = abs(contracts) * inst.contract_size / mark
    else:
        notional = abs(contracts) * inst.contract_size * mark
    return (
        initial_margin(notional, tiers) * settle_usd,
        maintenance_margin(notional, tiers) * settle_usd,
    )


def notional_usd(inst: Instrument, contracts: float, mark: float, settle_usd: float) -> float:
    """``|contracts|`` x contract value at mark, in USD (options: the premium at mark)."""
    if _is_inverse_future(inst):
        return abs(contracts) * inst.contract_size  # cs is USD
    return abs(contracts) * inst.contract_size * mark * settle_usd


def value_position(
    inst: Instrument,
    contracts: float,
    entry: float,
    mark: float,
    coin_usd: float,
    settle_usd: float,
    underlying_usd: float | None = None,
    venue: str = "",
) -> Position:
    """A position valued at ``mark`` (liquidation price and leverage left to the account).

    NaN ``mark`` (no price yet) gives NaN PnL and margin, never a silent zero.
    """
    upnl = contract_pnl(inst, contracts, entry, mark) if contracts else 0.0
    im, mm = position_margin(inst, contracts, mark, coin_usd, settle_usd, underlying_usd)
    return Position(
        symbol=inst.symbol,
        contracts=contracts,
        entry_price=entry,
        mark_price=mark,
        unrealised_pnl_settle=upnl,
        unrealised_pnl_usd=upnl * settle_usd,
        notional_usd=notional_usd(inst, contracts, mark, settle_usd),
        initial_margin_usd=im,
        maintenance_margin_usd=mm,
        venue=venue,
    )


def liquidation_price(
    inst: Instrument,
    contracts: float,
    entry: float,
    mark: float,
    coin_usd: float,
    settle_usd: float,
    rest_equity_usd: float,
    rest_mm_usd: float,
    base_balance_usd: float = 0.0,
) -> float | None:
    """Mark of a perp/future at which the cross account's equity equals its total MM.

    Everything else is held fixed except what moves with this coin by definition:
    wallet balances in the instrument's base coin (``base_balance_usd`` now, scaled
    by ``m / mark``) and, for inverse contracts, the settle coin's USD price.
    ``rest_equity_usd`` / ``rest_mm_usd`` are the account's equity and MM without
    this position and without those base-coin balances. Solved by false
    position in a bracket (MM is piecewise linear across tiers). None for options, for a position no
    price can liquidate, or when an input is not finite. Equal to ``mark`` when
    the account is already at or past liquidation.
    """
    values = (mark, coin_usd, settle_usd, rest_equity_usd, rest_mm_usd, base_balance_usd)
    if inst.is_option or contracts == 0.0 or not all(math.isfinite(v) for v in values):
        return None
    settle_moves = inst.settle == inst.base

    def surplus(m: float) -> float:
        k = m / mark
        su = settle_usd * k if settle_moves else settle_usd
        pnl_usd = contract_pnl(inst, contracts, entry, m) * su
        _, mm = position_margin(inst, contracts, m, coin_usd * k, su)
        return rest_equity_usd + base_balance_usd * k + pnl_usd - rest_mm_usd - mm

    return _first_root(surplus, mark, contracts > 0)


def _first_root(surplus: Callable[[float], float], mark: float, falling: bool) -> float | None:
    """Where ``surplus`` (> 0 at ``mark``) first reaches 0 moving down (``falling``) or up.

    Illinois false position inside a bracket: exact in a few steps on the piecewise
    linear surplus of tiered margin, and never leaves the bracket.
    """
    safe, f_safe = mark, surplus(mark)
    if f_safe <= 0:
        return mark
    if falling:
        bust = mark * 1e-9
        f_bust = surplus(bust)
        if f_bust > 0:
            return None
    else:
        bust = mark * 2.0
        f_bust = surplus(bust)
        while f_bust > 0:
            if bust > mark * 1e6:
                return None
            safe, f_safe = bust, f_bust
            bust *= 2.0
            f_bust = surplus(bust)
    tol = 1e-12 * max(f_safe, -f_bust)  # surplus is in USD: far below a cent
    side, m = 0, bust
    for _ in range(200):
        m = bust - f_bust * (bust - safe) / (f_bust - f_safe)
        f_m = surplus(m)
        if abs(f_m) <= tol or abs(bust - safe) <= 1e-12 * mark:
            break
        if f_m > 0:
            safe, f_safe = m, f_m
            if side == 1:  # Illinois: halve the stale end so it cannot stall
                f_bust *= 0.5
            side = 1
        else:
            bust, f_bust = m, f_m
            if side == -1:
                f_safe *= 0.5
            side = -1
    return m


def build_account(
    venue: str,
    ts_ms: int,
    instruments: Mapping[str, Instrument],
    balances: Mapping[str, float],
    positions: Mapping[str, tuple[float, float]],
    marks: Mapping[str, tuple[float, float | None]],
    price_usd: Callable[[str], float],
    peak_equity_usd: float = 0.0,
    **fields,
) -> Account:
    """Value a cross-margined account in USD.

    ``positions`` maps symbol -> (signed contracts, entry); ``marks`` maps symbol ->
    (mark, underlying USD or None); ``price_usd(currency)`` prices coins (NaN if
    unknown). equity_usd = sum of balances x price + unrealised PnL in USD. A missing
    price makes the figures it feeds NaN and is named in ``extra["missing"]``.
    ``fields`` pass through to ``Account`` (open_orders, fills, liquidations, extra).
    """
    missing: list[str] = []
    bal_rows = []
    for cur, total in sorted(balances.items()):
        px = price_usd(cur)
        if math.isnan(px):
            missing.append(f"no {cur} price")
        bal_rows.append(Balance(cur, total, total * px))
    valued: list[tuple[Position, Instrument | None]] = []
    for sym, (contracts, entry) in sorted(positions.items()):
        inst = instruments.get(sym)
        if inst is None:
            missing.append(f"no instrument {sym}")
            valued.append((Position(sym, contracts, entry, unrealised_pnl_usd=math.nan,
                                    notional_usd=math.nan, venue=venue), None))
            continue
        mark, under = marks.get(sym, (math.nan, None))
        if math.isnan(mark):
            missing.append(f"no mark for {sym}")
        pos = value_position(inst, contracts, entry, mark, price_usd(inst.base),
                             price_usd(inst.settle), under, venue)
        valued.append((pos, inst))
    wallet_usd = sum(b.usd_value for b in bal_rows)
    upnl_usd = sum(p.unrealised_pnl_usd for p, _ in valued)
    im = sum(p.initial_margin_usd for p, _ in valued)
    mm = sum(p.maintenance_margin_usd for p, _ in valued)
    equity = wallet_usd + upnl_usd
    out = []
    for pos, inst in valued:
        liq = None
        if inst is not None and not inst.is_option:
            base_usd = sum(b.usd_value for b in bal_rows if b.currency == inst.base)
            liq = liquidation_price(
                inst, pos.contracts, pos.entry_price, pos.mark_price, price_usd(inst.base),
                price_usd(inst.settle), equity - pos.unrealised_pnl_usd - base_usd,
                mm - pos.maintenance_margin_usd, base_usd,
            )
        lev = pos.notional_usd / equity if equity > 0 else math.nan
        out.append(replace(pos, liquidation_price=liq, leverage=lev))
    extra = dict(fields.pop("extra", None) or {})
    if missing:
        extra["missing"] = "; ".join(missing)
    peak = max(peak_equity_usd, equity) if math.isfinite(equity) else peak_equity_usd
    return Account(
        venue=venue, ts_ms=ts_ms, balances=tuple(bal_rows), positions=tuple(out),
        equity_usd=equity, initial_margin_usd=im, maintenance_margin_usd=mm,
        unrealised_pnl_usd=upnl_usd, peak_equity_usd=peak, extra=extra, **fields,
    )
