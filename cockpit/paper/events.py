"""What happens to a paper account as the data clock moves: funding times, option
expiries and liquidation. Each function decides; the broker books the result in one
transaction through the ``Ledger``.
"""

from __future__ import annotations

import math

from cockpit.model import Account, Instrument, Ticker
from cockpit.paper.ledger import Ledger, Leg, updated
from cockpit.paper.market import MarketView
from cockpit.utc import utc_time

__all__ = ["EXPIRY_GRACE_MS", "FundingClock", "expiry_legs", "liquidation_legs"]

EXPIRY_GRACE_MS = 300_000  # wait this long after expiry for the venue's settlement print


def _fmt(x: float) -> str:
    return f"{x:.10g}"


class FundingClock:
    """The next funding time and its rate per perpetual, learnt from tickers.

    The rate charged is the one a ticker stamped exactly at the funding time carries
    (the settled rate, as the sim publishes it), else the last one published before
    it; the mark is the first good mark at or after the time (Binance USD-M and Bybit
    charge at the mark of the funding time). Without ``next_funding_ms`` from the
    feed, funding falls every ``funding_interval_h`` from 00:00 UTC.
    """

    def __init__(self) -> None:
        self._due: dict[str, tuple[int, float]] = {}  # symbol -> (time ms, rate)

    def tick(self, inst: Instrument, t: Ticker) -> tuple[int, float] | None:
        """``(funding_ms, rate)`` when ``t`` reaches a funding time, else None;
        schedules the next one either way."""
        fired = None
        due = self._due.get(inst.symbol)
        if due is not None and t.ts_ms >= due[0]:
            del self._due[inst.symbol]
            exact = t.ts_ms == due[0] and t.funding_rate is not None
            fired = (due[0], t.funding_rate if exact else due[1])
        if t.funding_rate is not None:
            nxt = t.next_funding_ms
            if nxt is None:
                step = int(inst.funding_interval_h * 3_600_000)
                nxt = (t.ts_ms // step + 1) * step
            if nxt > t.ts_ms:
                self._due[inst.symbol] = (nxt, t.funding_rate)
        return fired


def option_intrinsic_coin(inst: Instrument, spot_usd: float) -> float:
    """Intrinsic value in coin per 1 coin of underlying: ``max(S - K, 0) / S`` for a
    call, ``max(K - S, 0) / S`` for a put (Deribit's cash delivery at the index)."""
    k = float(inst.strike or 0.0)
    gain = spot_usd - k if inst.is_call else k - spot_usd
    return max(gain, 0.0) / spot_usd


def option_intrinsic(inst: Instrument, settlement_usd: float) -> float:
    """What an expiring option pays per contract-unit of price, in its price currency:
    coin for a coin-settled (inverse) option, ``max(S - K, 0)`` USD for a linear
    (USDT/USDC-settled) one. Never any time value: at expiry there is none left."""
    if inst.linear:
        k = float(inst.strike or 0.0)
        return max(settlement_usd - k if inst.is_call else k - settlement_usd, 0.0)
    return option_intrinsic_coin(inst, settlement_usd)


def _good(x: float | None) -> bool:
    return x is not None and math.isfinite(x) and x > 0


def expiry_legs(ledger: Ledger, market: MarketView, instruments: dict[str, Instrument],
                now_ms: int) -> list[Leg]:
    """Closing legs (maker, reduce-only) for option positions past their expiry.

    Settled at INTRINSIC value against the settlement price: the underlying price of
    the option's own ticker stamped at or after expiry (the venue's settlement
    print), else the index once a print has arrived or ``EXPIRY_GRACE_MS`` has
    passed without one. The ticker's mark is never used: a mark can still carry time
    value (0.0145 BTC for a call 12 % out of the money, which expires worth 0).
    Deribit's delivery fee, like the maker fee charged here, is capped at 12.5 % of
    the option's value, so a worthless expiry costs nothing.
    """
    legs: list[Leg] = []
    for sym, (contracts, _) in ledger.positions.items():
        inst = instruments.get(sym)
        if inst is None or not inst.is_option or inst.expiry_ms is None \
                or market.data_ms < inst.expiry_ms:
            continue
        t = market.tickers.get(sym)
        spot = market.price_usd(inst.base)
        printed = t is not None and t.ts_ms >= inst.expiry_ms
        if printed and _good(t.underlying_price):
            settlement, how = t.underlying_price, "settlement price"
        elif not printed and market.data_ms < inst.expiry_ms + EXPIRY_GRACE_MS:
            continue  # the venue's settlement print may still come
        elif _good(spot):
            settlement, how = spot, "index"
        else:
            continue
        value = option_intrinsic(inst, settlement)
        reason = (f"expired: settled at {_fmt(value)} {inst.settle} (intrinsic at {how} "
                  f"{_fmt(settlement)})")
        order = ledger.new_order(sym, "sell" if contracts > 0 else "buy", "market",
                                 abs(contracts), None, True, False, "", now_ms)
        legs.append((updated(order, reason=reason), value, abs(contracts), True))
    return legs


def liquidation_legs(ledger: Ledger, market: MarketView, account: Account,
                     now_ms: int) -> tuple[list[Leg], str] | None:
    """When equity < maintenance margin (cross margin): a taker leg closing every
    position at its mark, and the one-line reason; None while the account is safe
    or a figure is unknown (NaN never liquidates)."""
    eq, mm = account.equity_usd, account.maintenance_margin_usd
    if not (ledger.positions and math.isfinite(eq) and math.isfinite(mm) and eq < mm):
        return None
    legs: list[Leg] = []
    for sym, (contracts, _) in ledger.positions.items():
        t = market.tickers.get(sym)
        if t is None:
            continue
        order = ledger.new_order(sym, "sell" if contracts > 0 else "buy", "market",
                                 abs(contracts), None, True, False, "", now_ms)
        legs.append((order, t.mark, abs(contracts), False))
    reason = (f"liquidated at {utc_time(now_ms)}: equity {eq:,.2f} USD < maintenance margin "
              f"{mm:,.2f} USD; closed {len(legs)} positions at mark")
    return legs, reason
