"""Order planning: a decision's size change becomes child orders a venue accepts.

Styles
------
* ``"market"``: one market order per leg.
* ``"ladder"``: a scaled ladder of limit orders spread evenly across a price
  range, sizes flat or growing linearly away from the first price (the
  "scaled order" of Bybit and Binance).
* ``"twap"``: equal market slices ``twap_interval_s`` seconds apart
  (``PlannedOrder.delay_s`` from the moment of approval).

Rules every plan keeps
----------------------
* Amounts are whole multiples of ``amount_step``, rounded DOWN, so a plan
  never trades more than asked; prices are on the ``price_step`` grid, buys
  rounded down and sells up (never a worse limit than asked).
* A change that crosses zero (only a delta hedge does) is two legs: a
  reduce-only close of the current position, then an opening order.
* A slice below ``min_amount``, or below ``min_cost`` (quote currency) unless
  it is reduce-only (venues exempt closes from min cost), is merged into its
  neighbours by planning fewer slices; a leg too small for even one order is
  dropped.

Example
-------
>>> from sizing.orders import OrderRules, plan_change
>>> rules = OrderRules(amount_step=0.001, price_step=0.1, min_amount=0.001, min_cost=5.0)
>>> [(o.side, o.amount, o.reduce_only) for o in plan_change("BTC/USDT:USDT", 2.0, 1.2819,
...                                                          rules, reference_price=60_000.0)]
[('sell', 0.718, True)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["OrderRules", "PlannedOrder", "plan_change", "plan_orders"]

STYLES = ("market", "ladder", "twap")


@dataclass(frozen=True, slots=True)
class OrderRules:
    """A venue's precision and minimums for one instrument.

    ``min_cost`` is in the quote currency: ``amount x contract_size x price``
    for linear contracts and options, ``amount x contract_size`` (USD face)
    for inverse perps and futures.
    """

    amount_step: float
    price_step: float
    min_amount: float = 0.0
    min_cost: float = 0.0
    contract_size: float = 1.0
    linear: bool = True
    kind: str = "perp"

    def __post_init__(self) -> None:
        for name in ("amount_step", "price_step", "contract_size"):
            v = getattr(self, name)
            if not (v > 0 and math.isfinite(v)):
                raise ValueError(f"{name}: must be a positive number, got {v!r}")
        for name in ("min_amount", "min_cost"):
            v = getattr(self, name)
            if not (v >= 0 and math.isfinite(v)):
                raise ValueError(f"{name}: must be >= 0, got {v!r}")

    @classmethod
    def of(cls, inst) -> OrderRules:
        """The rules of anything with the venue fields (``InstrumentState``, ``Instrument``)."""
        return cls(inst.amount_step, inst.price_step, inst.min_amount, inst.min_cost,
                   inst.contract_size, inst.linear, inst.kind)

    def cost(self, amount: float, price: float) -> float:
        if not self.linear and self.kind != "option":
            return amount * self.contract_size
        return amount * self.contract_size * price


@dataclass(frozen=True, slots=True)
class PlannedOrder:
    """One child order. ``amount`` in contracts (> 0); ``price`` None for market
    orders; ``delay_s`` seconds after approval to send it (TWAP)."""

    symbol: str
    side: str
    type: str
    amount: float
    price: float | None
    reduce_only: bool
    post_only: bool = False
    delay_s: float = 0.0


def _decimals(step: float) -> int:
    return max(0, min(12, -math.floor(math.log10(step) + 1e-9) + 2))


def _on_grid(n: int, step: float) -> float:
    return round(n * step, _decimals(step))


def _steps_down(x: float, step: float) -> int:
    return max(int(math.floor(x / step + 1e-9)), 0)


def _round_price(p: float, step: float, side: str) -> float:
    n = math.floor(p / step + 1e-9) if side == "buy" else math.ceil(p / step - 1e-9)
    return _on_grid(max(n, 1), step)


def _split(total: int, weights: list[float]) -> list[int]:
    """Integer steps per slice in proportion to ``weights``; largest remainders get the rest."""
    w = sum(weights)
    raw = [total * x / w for x in weights]
    parts = [int(math.floor(r)) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (parts[i] - raw[i], i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _leg(symbol: str, side: str, steps: int, reduce_only: bool, rules: OrderRules,
         style: str, prices: list[float] | None, growth: str, slices: int,
         interval_s: float, post_only: bool, reference_price: float, delay0: float):
    """Orders for one leg, planning fewer slices until every slice is placeable."""
    for k in range(min(slices, steps), 0, -1):
        weights = [float(i + 1) if growth == "linear" else 1.0 for i in range(k)]
        parts = _split(steps, weights)
        if style == "ladder":
            ps = _ladder_prices(prices, k, side, rules.price_step)
        else:
            ps = [None] * k
        ok = all(
            n > 0 and _on_grid(n, rules.amount_step) >= rules.min_amount - 1e-12
            and (reduce_only or rules.cost(_on_grid(n, rules.amount_step),
                                           p if p is not None else reference_price)
                 >= rules.min_cost - 1e-9)
            for n, p in zip(parts, ps, strict=True)
        )
        if ok:
            kind = "limit" if style == "ladder" else "market"
            return [
                PlannedOrder(symbol, side, kind, _on_grid(n, rules.amount_step), p, reduce_only,
                             post_only and style == "ladder",
                             delay0 + (i * interval_s if style == "twap" else 0.0))
                for i, (n, p) in enumerate(zip(parts, ps, strict=True))
            ]
    return []


def _ladder_prices(bounds, k: int, side: str, tick: float) -> list[float]:
    start, end = bounds
    if k == 1:
        return [_round_price(start, tick, side)]
    return [_round_price(start + (end - start) * i / (k - 1), tick, side) for i in range(k)]


def plan_change(
    symbol: str,
    current: float,
    target: float,
    rules: OrderRules,
    style: str = "market",
    *,
    reference_price: float | None = None,
    ladder_from: float | None = None,
    ladder_to: float | None = None,
    ladder_bps: float = 50.0,
    ladder_count: int = 5,
    ladder_growth: str = "flat",
    twap_slices: int = 6,
    twap_interval_s: float = 60.0,
    post_only: bool = False,
) -> tuple[PlannedOrder, ...]:
    """Child orders that move a position from ``current`` to ``target`` contracts (signed).

    Parameters
    ----------
    reference_price : the mark, in the instrument's quote units. Needed for
        ``min_cost`` checks on market orders and as the default ladder start.
    ladder_from, ladder_to : the ladder's first and last price; default from
        ``reference_price`` to ``ladder_bps`` away from it (below for buys,
        above for sells).
    ladder_count, ladder_growth : number of rungs; ``"flat"`` equal sizes or
        ``"linear"`` sizes 1, 2, 3, ... from the first price outwards.
    twap_slices, twap_interval_s : TWAP slices and the delay between them.
    post_only : mark ladder limits post-only (maker only).

    Returns
    -------
    tuple of PlannedOrder, reduce-only leg first; empty when nothing placeable.
    """
    for name, v in (("current", current), ("target", target)):
        if not math.isfinite(v):
            raise ValueError(f"{name}: {v!r} is not a finite number of contracts")
    if style not in STYLES:
        raise ValueError(f"style: {style!r}; use one of {STYLES}")
    if ladder_growth not in ("flat", "linear"):
        raise ValueError(f"ladder_growth: {ladder_growth!r}; use 'flat' or 'linear'")
    if reference_price is not None and not (reference_price > 0 and math.isfinite(reference_price)):
        raise ValueError(f"reference_price: {reference_price!r} must be a positive price")
    needs_price = style == "ladder" and (ladder_from is None or ladder_to is None)
    if reference_price is None and (needs_price or (style != "ladder" and rules.min_cost > 0)):
        raise ValueError("reference_price: required for a ladder without bounds, or for "
                         "market/TWAP orders when the venue has a min_cost")
    for name, n in (("ladder_count", ladder_count), ("twap_slices", twap_slices)):
        if n < 1:
            raise ValueError(f"{name}: must be >= 1, got {n!r}")
    legs = []
    if current != 0 and (target * current < 0 or abs(target) < abs(current)):
        close = abs(current) if target * current <= 0 else abs(current) - abs(target)
        legs.append(("sell" if current > 0 else "buy", close, True))
    if target != 0 and (target * current < 0 or abs(target) > abs(current)):
        open_ = abs(target) if target * current < 0 else abs(target) - abs(current)
        legs.append(("buy" if target > 0 else "sell", open_, False))
    ref = reference_price if reference_price is not None else 0.0
    out: list[PlannedOrder] = []
    delay = 0.0
    for side, size, reduce_only in legs:
        bounds = None
        if style == "ladder":
            away = -1.0 if side == "buy" else 1.0
            start = ladder_from if ladder_from is not None else ref
            end = ladder_to if ladder_to is not None else ref * (1 + away * ladder_bps / 1e4)
            bounds = (start, end)
        slices = ladder_count if style == "ladder" else twap_slices if style == "twap" else 1
        leg = _leg(symbol, side, _steps_down(size, rules.amount_step), reduce_only, rules, style,
                   bounds, ladder_growth, slices, twap_interval_s, post_only, ref, delay)
        if leg and style == "twap":
            delay = leg[-1].delay_s + twap_interval_s
        out.extend(leg)
    return tuple(out)


def plan_orders(decision, rules, style: str = "market", **options) -> tuple[PlannedOrder, ...]:
    """Child orders for a ``sizing.policy.Decision`` (``current`` -> ``target``).

    ``rules`` is an ``OrderRules`` or anything ``OrderRules.of`` reads (an
    ``InstrumentState``); ``options`` as for :func:`plan_change`. A hold gives ().
    """
    if decision.kind == "hold" or decision.target == decision.current:
        return ()
    if not isinstance(rules, OrderRules):
        if "reference_price" not in options and getattr(rules, "mark_price", None):
            options["reference_price"] = rules.mark_price
        rules = OrderRules.of(rules)
    return plan_change(decision.symbol, decision.current, decision.target, rules, style,
                       **options)
