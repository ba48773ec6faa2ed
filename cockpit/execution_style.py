"""How an order should be worked, and what it is expected to cost against mid.

Slippage here is measured against the *reference price* — the book's mid, or the
mark for an option (option books are wide and their mid jumps a tick at a time)
— so half the spread is part of the cost, as a trader pays it:

    slippage_bps = side x (vwap - reference) / reference x 10,000

(side +1 buy, -1 sell; positive = worse than the reference). The same figure is
shown on the suggestion row, chosen on, and realised by :mod:`cockpit.executions`.

Style choice (``[execution] default_style = "auto"``), with the reason shown:

* **passive** when the spread is wider than ``[sizing] slippage_budget_bps``:
  a market order would pay at least half of it ("passive: spread 1,058 bp > 20 bp
  budget"). Options default to this: never cross a wide option spread at market.
* **market** when the book walk stays inside the budget.
* **twap** when the spread is tight but the size walks too deep: slices give the
  book time to refill.
"""

from __future__ import annotations

import dataclasses
import math

from cockpit.model import Snapshot

__all__ = ["STYLES", "choose_style", "expected_for_style", "expected_slippage", "passive_price",
           "plan_for_style", "reference_price"]

STYLES = ("market", "passive", "twap", "ladder")
BPS = 10_000.0


def reference_price(snapshot: Snapshot, symbol: str) -> tuple[float, str]:
    """(price, "mid" | "mark"): the mark for an option, else the book's mid, else
    the ticker's mid; NaN when neither is known."""
    inst = snapshot.instruments.get(symbol)
    t = snapshot.tickers.get(symbol)
    if inst is not None and inst.is_option:
        return (float(t.mark) if t is not None and t.mark > 0 else math.nan), "mark"
    book = snapshot.books.get(symbol)
    if book is not None and len(book.bids) and len(book.asks):
        return float(book.mid), "mid"
    if t is not None and t.bid > 0 and t.ask > 0:
        return float(t.mid), "mid"
    return math.nan, "mid"


def spread_bps(snapshot: Snapshot, symbol: str) -> float:
    """(best ask - best bid) / reference x 10,000; NaN without both sides."""
    book = snapshot.books.get(symbol)
    t = snapshot.tickers.get(symbol)
    bid, ask = ((book.best_bid, book.best_ask) if book is not None and len(book.bids)
                and len(book.asks) else ((t.bid, t.ask) if t is not None else (math.nan,) * 2))
    ref, _ = reference_price(snapshot, symbol)
    if not (ref > 0 and bid > 0 and ask > 0):
        return math.nan
    return (ask - bid) / ref * BPS


def expected_slippage(snapshot: Snapshot, symbol: str, side: str, amount: float
                      ) -> tuple[float, float]:
    """(bps, USD) a market order of ``amount`` contracts would pay against the
    reference price, walking the visible book; NaN when there is no book or price.
    USD = bps / 10,000 x the value traded at the reference, in USD
    (``sizing.contracts.notional_usd``: an option's premium, a perp's notional)."""
    from sizing.liquidity import walk_book

    book = snapshot.books.get(symbol)
    ref, _ = reference_price(snapshot, symbol)
    if book is None or not ref > 0 or not amount > 0:
        return math.nan, math.nan
    walk = walk_book(book.asks if side == "buy" else book.bids, amount, reference_price=ref,
                     side=side)
    if not math.isfinite(walk.slippage_bps):
        return math.nan, math.nan
    from cockpit.whatif import coin_prices
    from sizing.contracts import notional_usd

    # the money the order trades at the reference: an option's premium, not its
    # underlying's notional (3.3 puts at 0.0137 BTC are ~$4k, not ~$300k)
    inst = snapshot.instruments.get(symbol)
    settle = 1.0 if inst is None else _settle_usd(coin_prices(snapshot), inst.settle)
    notional = math.nan if inst is None else notional_usd(inst, amount, ref, settle)
    return float(walk.slippage_bps), float(walk.slippage_bps) / BPS * notional


def expected_for_style(snapshot: Snapshot, symbol: str, side: str, amount: float, style: str,
                       orders=(), cfg=None) -> tuple[float, float, str]:
    """(bps, USD, what it is) expected against the reference for working ``amount`` in
    ``style``; ``orders`` are the planned children (``plan_for_style``), ``cfg``
    ``[execution]``. What each style expects:

    * market: the walk of the visible book ("market walk vs mid");
    * passive: its first limit against the reference (a fill at it pays exactly that;
      each step it takes later adds ``passive_step_bps``): "passive limit vs mark";
    * ladder: the rungs' average price, every rung filled;
    * twap: the walk of one slice (``amount / slices``), the book refilling between.
    NaN (and the basis) when there is no price."""
    ref, ref_name = reference_price(snapshot, symbol)
    sign = 1.0 if side == "buy" else -1.0
    priced = [o for o in orders if getattr(o, "price", None) is not None]
    if style in ("passive", "ladder") and ref > 0 and priced:
        qty = math.fsum(o.amount for o in priced)
        avg = math.fsum(o.amount * o.price for o in priced) / qty if qty > 0 else math.nan
        bps = sign * (avg - ref) / ref * BPS
        if style == "passive" and cfg is not None:
            basis = (f"passive limit vs {ref_name}; +{cfg.passive_step_bps:g} bp a step every "
                     f"{cfg.passive_step_s:g} s it rests unfilled, never past "
                     f"+{cfg.max_worse_bps:g} bp")
        else:
            basis = f"{style} limit{'s' if len(priced) > 1 else ''} vs {ref_name}"
        return bps, _usd(snapshot, symbol, amount, ref, bps), basis
    if style == "twap":
        slices = max(int(getattr(cfg, "twap_slices", 1) or 1), 1)
        bps, _ = expected_slippage(snapshot, symbol, side, amount / slices)
        return bps, _usd(snapshot, symbol, amount, ref, bps), \
            f"twap: walk of one slice of {slices} vs {ref_name}"
    bps, usd = expected_slippage(snapshot, symbol, side, amount)
    return bps, usd, f"market walk vs {ref_name}"


def _usd(snapshot: Snapshot, symbol: str, amount: float, ref: float, bps: float) -> float:
    """``bps`` of the value ``amount`` trades at ``ref``, in USD (NaN when unknown)."""
    from cockpit.whatif import coin_prices
    from sizing.contracts import notional_usd

    inst = snapshot.instruments.get(symbol)
    if inst is None or not (ref > 0 and math.isfinite(bps)):
        return math.nan
    settle = _settle_usd(coin_prices(snapshot), inst.settle)
    return bps / BPS * notional_usd(inst, amount, ref, settle)


def _settle_usd(prices: dict, currency: str) -> float:
    from sizing.contracts import STABLE

    return 1.0 if currency in STABLE else prices.get(currency, math.nan)


def choose_style(snapshot: Snapshot, symbol: str, side: str, amount: float, *,
                 budget_bps: float, default: str = "auto", twap_slices: int = 3,
                 twap_duration_s: float = 60.0) -> tuple[str, str]:
    """(style, why) for working ``amount`` contracts; see the module docstring."""
    if default != "auto":
        return default, f"{default}: [execution] default_style"
    spread = spread_bps(snapshot, symbol)
    if math.isfinite(spread) and spread > budget_bps:
        return "passive", f"passive: spread {spread:,.0f} bp > {budget_bps:g} bp budget"
    slip, _ = expected_slippage(snapshot, symbol, side, amount)
    _, ref_name = reference_price(snapshot, symbol)
    if not math.isfinite(slip):
        return "passive", "passive: no book to walk, so no market order"
    if slip <= budget_bps:
        return "market", f"market: walk {slip:,.1f} bp vs {ref_name} ≤ {budget_bps:g} bp budget"
    return "twap", (f"twap: walk {slip:,.0f} bp vs {ref_name} > {budget_bps:g} bp budget; "
                    f"{twap_slices} slices over {twap_duration_s:g} s")


def passive_price(reference: float, side: str, k: int, *, step_bps: float,
                  max_worse_bps: float, tick: float) -> float:
    """The k-th passive price: ``reference`` moved k x ``step_bps`` toward the far side,
    never more than ``max_worse_bps``, on the tick grid rounded in our favour (buys
    down, sells up), so it never lies beyond the worst price."""
    away = min(k * step_bps, max_worse_bps) / BPS
    raw = reference * (1 + away) if side == "buy" else reference * (1 - away)
    n = math.floor(raw / tick + 1e-9) if side == "buy" else math.ceil(raw / tick - 1e-9)
    digits = max(0, min(12, -math.floor(math.log10(tick) + 1e-9) + 2))
    return round(max(n, 1) * tick, digits)


def plan_for_style(symbol: str, current: float, target: float, snapshot: Snapshot,
                   style: str, cfg) -> tuple:
    """Planned child orders (``sizing.orders.PlannedOrder``) for one style; ``cfg`` is
    ``[execution]``. Passive plans are the market plan's legs as limits at the first
    passive price. () when nothing placeable or no price."""
    from sizing.orders import OrderRules, plan_change

    inst = snapshot.instruments.get(symbol)
    ticker = snapshot.tickers.get(symbol)
    ref, _ = reference_price(snapshot, symbol)
    if inst is None or ticker is None or not ticker.mark > 0:
        return ()
    rules = OrderRules.of(inst)
    try:
        if style == "twap":
            return plan_change(symbol, current, target, rules, "twap", reference_price=ticker.mark,
                               twap_slices=cfg.twap_slices,
                               twap_interval_s=cfg.twap_duration_s / cfg.twap_slices)
        if style == "ladder" and ref > 0:
            return plan_change(symbol, current, target, rules, "ladder", reference_price=ref,
                               ladder_bps=cfg.ladder_bps, ladder_count=cfg.ladder_count)
        planned = plan_change(symbol, current, target, rules, "market",
                              reference_price=ticker.mark)
    except ValueError:
        return ()
    if style != "passive":
        return planned
    if not ref > 0:
        return ()
    return tuple(dataclasses.replace(
        o, type="limit", price=passive_price(ref, o.side, 0, step_bps=cfg.passive_step_bps,
                                             max_worse_bps=cfg.max_worse_bps,
                                             tick=inst.price_step)) for o in planned)
