"""Valuing the paper account in USD: positions at mark, the cross account's equity
and margin, each perp's liquidation price, and whether an order can be margined.

Conventions as in ``cockpit.paper.accounting`` (contracts, settle currency, futures-style
booking of options).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import replace

from cockpit.model import Account, Balance, Instrument, Position
from cockpit.paper.accounting import (
    contract_pnl,
    fill_fee,
    is_inverse_future,
    position_margin,
)

__all__ = [
    "build_account",
    "liquidation_price",
    "margin_shortfall_usd",
    "notional_usd",
    "value_position",
]


def notional_usd(inst: Instrument, contracts: float, mark: float, settle_usd: float) -> float:
    """``|contracts|`` x contract value at mark, in USD (options: the premium at mark)."""
    if is_inverse_future(inst):
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


def margin_shortfall_usd(
    inst: Instrument,
    account: Account,
    side: str,
    amount: float,
    taker_fills: list[tuple[float, float]],
    mark: float,
    coin_usd: float,
    settle_usd: float,
    underlying_usd: float | None = None,
) -> float:
    """USD by which an order growing a position leaves equity short of initial margin
    (<= 0 when it can be margined; NaN when a needed figure is unknown).

    After the order (``taker_fills`` as walked, the rest of ``amount`` as if filled at
    mark) equity less fees and the price paid away from mark must still cover the
    account's initial margin with this position at its new size, plus what resting
    orders reserve (``account.extra["open_order_margin_usd"]``), as venues check
    before accepting an order.
    """
    held = account.position(inst.symbol)
    before = held.contracts if held is not None else 0.0
    after = before + (amount if side == "buy" else -amount)
    sign = 1.0 if side == "buy" else -1.0
    cost = sum(fill_fee(inst, a, p, False) - contract_pnl(inst, sign * a, p, mark)
               for p, a in taker_fills) * settle_usd
    im_before = held.initial_margin_usd if held is not None else 0.0
    im_after, _ = position_margin(inst, after, mark, coin_usd, settle_usd, underlying_usd)
    orders_im = account.extra.get("open_order_margin_usd", 0.0)
    needed = account.initial_margin_usd + orders_im - im_before + im_after
    return needed - (account.equity_usd - cost)
