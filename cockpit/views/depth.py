"""Depth ladder, spread, depth bands and the selected suggestion's book walk."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from cockpit.model import Snapshot
from cockpit.model.views import (
    DepthBand,
    DepthView,
    LadderLevel,
    SuggestionRow,
)
from cockpit.views.common import (
    _decimals,
)
from sizing import liquidity as sl

# --------------------------------------------------------------------------- depth


def depth_view(
    snapshot: Snapshot,
    symbol: str | None,
    suggestion: SuggestionRow | None = None,
    *,
    levels: int = 10,
    bands_bps: tuple[float, ...] = (10.0, 50.0, 100.0),
    stale_after_s: float = 5.0,
) -> DepthView:
    """Ladder of the ``levels`` best prices a side with cumulative contracts,
    spread, depth within ``bands_bps`` of mid (whole book) and the slippage
    the ``suggestion``'s order would pay walking it (``sizing.liquidity``)."""
    if not symbol:
        return DepthView("", empty_reason="select an instrument (positions table) to see its book")
    inst = snapshot.instruments.get(symbol)
    pd, ad = _decimals(inst)
    book = snapshot.books.get(symbol)
    if book is None:
        return DepthView(symbol, price_decimals=pd, amount_decimals=ad,
                         empty_reason=f"no book for {symbol} yet")
    bids, asks = np.asarray(book.bids, float), np.asarray(book.asks, float)
    if not len(bids) and not len(asks):
        return DepthView(symbol, price_decimals=pd, amount_decimals=ad,
                         empty_reason=f"book for {symbol} is empty")
    bid, ask = book.best_bid, book.best_ask
    spread = ask - bid if len(bids) and len(asks) else None
    mid = 0.5 * (bid + ask) if spread is not None else None
    spread_bps = spread / mid * 1e4 if spread is not None and mid > 0 else None
    bands = ()
    if mid is not None:
        bands = tuple(DepthBand(b, *sl.depth_within_bps(bids, asks, b)) for b in bands_bps)
    view = DepthView(
        symbol, bids=_ladder(bids, levels), asks=_ladder(asks, levels),
        best_bid=bid if len(bids) else None, best_ask=ask if len(asks) else None,
        spread=spread, spread_bps=spread_bps, bands=bands, price_decimals=pd,
        amount_decimals=ad, age_s=snapshot.age_ms(book.ts_ms) / 1000.0,
    )
    view = replace(view, stale=view.age_s > stale_after_s)
    return _with_suggestion(view, bids, asks, suggestion) if suggestion else view


def _ladder(levels: np.ndarray, n: int) -> tuple[LadderLevel, ...]:
    top = levels[:n]
    cum = np.cumsum(top[:, 1]) if len(top) else ()
    return tuple(LadderLevel(float(p), float(a), float(c))
                 for (p, a), c in zip(top, cum, strict=True))


def _with_suggestion(view: DepthView, bids, asks, s: SuggestionRow) -> DepthView:
    text = f"suggested {s.order_side} {s.order_amount:g}"
    view = replace(view, suggestion_side=s.order_side)
    if s.symbol != view.symbol:
        return replace(view, suggestion_text=text, suggestion_note=f"order is for {s.symbol}")
    side_levels = asks if s.order_side == "buy" else bids
    if s.order_amount <= 0 or not len(side_levels):
        return replace(view, suggestion_text=text, suggestion_note="nothing to walk")
    walk = sl.walk_book(side_levels, s.order_amount)
    note = ""
    if walk.filled < s.order_amount:
        note = f"book holds only {walk.filled:g} of {s.order_amount:g}"
    return replace(view, suggestion_text=text, suggestion_slippage_bps=float(walk.slippage_bps),
                   suggestion_filled=float(walk.filled), suggestion_note=note)
