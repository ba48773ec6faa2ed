"""The risk gate: whether one order may go out now, whoever sent it.

Every sender (a suggestion's key, ``R``, auto-execute, the order ticket, each child
order of a plan) asks :meth:`RiskGate.check` under one :class:`TradingState`. The
answer is None (send it) or ONE line naming the limit, the value and the config key,
e.g. ``gross leverage after 8.8x > 3.0x ([sizing] max_leverage)``. Cancels are not
orders: the gate never sees them, so a cancel always goes out.

The checks, in order (the limits are ``[risk]``, see ``cockpit.config.RiskConfig``):

1. trading state: HALTED refuses every order; REDUCING refuses any order
   :func:`reduces_risk` does not verify.
2. the instrument is listed and matches ``[risk] allow``.
3. market data: a usable ticker (and, for a market order, a book with the side it
   takes), no older than ``max_data_age_s`` wall seconds, book not crossed. Stale data
   does not stop a LIMIT order that brings its position toward zero: the trader can
   always get out at a price of their own; a market order's price is unknown then.
4. order sanity: side, type, a finite amount > 0, a limit price finite > 0.
5. ``reduce_only``: the side opposite the position, and the amount within the position
   less the reduce-only orders already resting on that side.
6. notional per order, per rolling hour and day. An order verified to reduce risk is
   exempt and does not count: these limits bound how much risk can be ADDED, and a
   trader must always be able to get out (a reduction is bounded by the position).
7. gross leverage after (``[sizing] max_leverage``) and margin ratio after
   (``max_margin_ratio``), from :func:`cockpit.whatif.what_if` with the orders already
   resting on the same side of the same instrument added (they can all fill). Refused
   only when the figure after is above the limit AND above the figure now: getting
   less levered is always allowed. An order that brings its position toward zero
   (not past it) skips this check: it only ever lowers exposure and margin, though the
   spread it pays can nudge the ratios up (selling a long option frees no margin).
   A delta hedge is checked. An unknown figure refuses an order that does not verify
   as reducing.
8. price band: a limit buy more than ``price_band_bps`` above mark (a sell below) is
   refused, options against ``option_price_band_bps``; one price step of slack, so a
   one-tick option quote is not refused for being 100 % of a tiny mark. Passive limits
   (buy below mark) pass.
9. rate: ``max_orders_per_second`` and ``max_orders_per_minute`` of sent orders
   (every order, reducing ones too: this is the runaway-loop guard).

Clocks: data ages are data time (``snapshot.ts_ms - item.ts_ms``) divided by
``time_scale`` (data-ms per wall-ms: the demo's ``--acceleration``), compared with
limits in wall seconds; rates and rolling notional use wall seconds (``now_s``,
``time.monotonic()`` by default).
"""

from __future__ import annotations

import enum
import fnmatch
import math
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace

from cockpit.config import RiskConfig, SizingConfig
from cockpit.market_checks import book_problem, ticker_problem
from cockpit.model import Order, OrderRequest, Snapshot
from cockpit.whatif import WhatIf, what_if

__all__ = ["RiskGate", "TradingState", "Verdict", "WhatIf", "reduces_risk", "risk_verdict",
           "what_if"]

EPS = 1e-9  # contracts: float noise on sums of steps
HOUR_S, DAY_S = 3600.0, 86_400.0


class TradingState(enum.StrEnum):
    """What may go out: ACTIVE all orders, REDUCING only verified reductions, HALTED none.

    Cancels are not orders: they always go out. Ordered ACTIVE > REDUCING > HALTED.
    """

    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @staticmethod
    def lower(a: TradingState, b: TradingState) -> TradingState:
        """The more restrictive of ``a`` and ``b``."""
        a, b = TradingState(a), TradingState(b)
        return a if a.rank <= b.rank else b


_RANK = {TradingState.HALTED: 0, TradingState.REDUCING: 1, TradingState.ACTIVE: 2}


def _num(x) -> str:
    """A number for a reason line (whatever the caller put in the field)."""
    return f"{x:g}" if isinstance(x, int | float) else repr(x)


def _signed(order: OrderRequest) -> float:
    return order.amount if order.side == "buy" else -order.amount


def _resting(snapshot: Snapshot, resting: Sequence[Order] | None) -> Sequence[Order]:
    if resting is not None:
        return resting
    return snapshot.account.open_orders if snapshot.account is not None else ()


def resting_reduce_only(order: OrderRequest, resting: Sequence[Order]) -> float:
    """Contracts of open reduce-only orders resting on ``order``'s symbol and side."""
    return sum(o.remaining for o in resting if o.status == "open" and o.reduce_only
               and o.symbol == order.symbol and o.side == order.side)


def _verdict(order: OrderRequest, snapshot: Snapshot, resting: Sequence[Order],
             w: WhatIf) -> tuple[str, str]:
    """(the rule that verifies ``order`` reduces risk, or "" when none does; the evidence or
    why not), from its what-if ``w``. Rules: "position", "delta", "margin" (reduces_risk)."""
    if order.side not in ("buy", "sell") or order.type not in ("market", "limit"):
        return "", f"a {order.side!r} {order.type!r} order"
    p, q = w.position_before, w.position_after - w.position_before
    if not (math.isfinite(q) and q != 0):
        return "", "no amount"
    if p != 0 and q * p < 0:  # the reducing side: the position rule decides alone
        reserved = resting_reduce_only(order, resting)
        if abs(q) + reserved <= abs(p) + EPS:
            return "position", f"position {p:g} → {p + q:g}"
        if reserved:
            return "", (f"{abs(q):g} + {reserved:g} resting reduce-only > position "
                        f"{abs(p):g}: would flip it; cancel the resting ones first")
        return "", f"position {p:g} → {p + q:g} flips past zero"
    inst = snapshot.instruments.get(order.symbol)
    b, a = w.delta_usd_before, w.delta_usd_after
    if inst is not None and not inst.is_option and math.isfinite(a) and math.isfinite(b) \
            and abs(a) < abs(b) and a * b >= 0:
        return "delta", f"book delta {b:+,.0f} → {a:+,.0f} USD"
    if p != 0 and w.margin_ratio_after < w.margin_ratio_before:  # growing, yet lower MM
        return "margin", (f"margin ratio {w.margin_ratio_before:.1%} → "
                          f"{w.margin_ratio_after:.1%}")
    move = "opens a position from flat" if p == 0 else f"grows position {p:g} → {p + q:g}"
    return "", f"{move}, book delta {b:+,.0f} → {a:+,.0f} USD"


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether an order reduces risk, by which rule ("position", "delta", "margin" or ""),
    and the evidence in one phrase ("position 4.137 → 3.637"), for the journal."""

    reduces: bool
    rule: str
    why: str


def risk_verdict(order: OrderRequest, snapshot: Snapshot,
                 resting: Sequence[Order] | None = None) -> Verdict:
    """:func:`reduces_risk` with its rule and evidence."""
    rule, why = _verdict(order, snapshot, _resting(snapshot, resting), what_if(order, snapshot))
    return Verdict(bool(rule), rule, why)


def reduces_risk(order: OrderRequest, snapshot: Snapshot,
                 resting: Sequence[Order] | None = None) -> bool:
    """Whether the what-if shows ``order`` reduces risk (verified, never taken from a label).

    True when one of:

    * the position comes closer to zero without flipping past it, counting the
      reduce-only orders already resting on the same side (two reduce orders cannot
      together flip the position);
    * for a perp or future (the hedging instruments), the book delta of its underlying
      comes closer to zero without crossing it; this is the only way an order from flat
      verifies (a delta hedge). Selling options to cut delta does not count: it adds
      margin and vol risk;
    * on an existing position, the account's margin ratio comes down while the position
      grows (never with per-position standard margin, whose requirement grows with size;
      kept for portfolio margin, where a hedge can lower it).

    ``resting``: the orders working at the venue; None = the account's ``open_orders``
    in ``snapshot`` (pass them explicitly to add orders sent since).
    """
    return risk_verdict(order, snapshot, resting).reduces


class RiskGate:
    """Pre-trade checks for every order (module docstring: the checks and the clocks).

    ``time_scale``: data-ms per wall-ms (the demo's ``--acceleration``; 1 on real venues).
    """

    def __init__(self, risk: RiskConfig, sizing: SizingConfig, *, time_scale: float = 1.0) -> None:
        if not (math.isfinite(time_scale) and time_scale > 0):
            raise ValueError(f"time_scale {time_scale!r}: must be a positive number "
                             "(data-ms per wall-ms; 1 for real venues)")
        self.risk, self.sizing, self.time_scale = risk, sizing, float(time_scale)
        self._sent: deque[float] = deque()  # wall seconds, last minute
        self._notional: deque[tuple[float, float]] = deque()  # (wall s, USD), last day
        self._lock = threading.Lock()

    # -- the gate ---------------------------------------------------------------------

    def check(self, order: OrderRequest, snapshot: Snapshot, state: TradingState, *,
              resting: Sequence[Order] | None = None, now_s: float | None = None) -> str | None:
        """None when ``order`` may go out now, else one line: limit, value, config key.

        ``resting``: the orders working at the venue (None = the account's open orders in
        ``snapshot``; pass them to include orders sent since). ``now_s``: wall seconds."""
        now = time.monotonic() if now_s is None else now_s
        resting = _resting(snapshot, resting)
        state = TradingState(state)
        if state is TradingState.HALTED:
            return "trading is HALTED: no orders go out, cancels still do (trading state)"
        w = what_if(order, snapshot)
        rule, why = _verdict(order, snapshot, resting, w)
        reduces = bool(rule)
        if state is TradingState.REDUCING and not reduces:
            return (f"trading is REDUCING: {order.side} {_num(order.amount)} {order.symbol} is "
                    f"not verified to reduce risk ({why}) (trading state)")
        if reason := self._instrument(order, snapshot):
            return reason
        if reason := self._market_data(order, snapshot, closes=rule == "position"):
            return reason
        if reason := self._sanity(order, snapshot):
            return reason
        if reason := self._reduce_only(order, w, resting):
            return reason
        if not reduces and (reason := self._notional_limits(w, now)):
            return reason
        if rule != "position" and (
                reason := self._leverage_and_margin(order, snapshot, resting, reduces, w)):
            return reason
        if reason := self._price_band(order, snapshot, w):
            return reason
        return self._rate(now)

    def record_sent(self, order: OrderRequest, snapshot: Snapshot, now_s: float | None = None,
                    *, resting: Sequence[Order] | None = None) -> None:
        """Count an order that was sent toward the rates and (unless it verifies as
        reducing) the rolling hour/day notional. ``snapshot`` and ``resting``: the ones it
        was checked on, before it filled (after the fill, a close looks like an opening)."""
        now = time.monotonic() if now_s is None else now_s
        w = what_if(order, snapshot)
        counts = not _verdict(order, snapshot, _resting(snapshot, resting), w)[0] \
            and math.isfinite(w.notional_usd)
        with self._lock:
            self._sent.append(now)
            if counts:
                self._notional.append((now, w.notional_usd))
            self._prune(now)

    def notional_sent_usd(self, window_s: float, now_s: float | None = None) -> float:
        """USD notional of counted orders sent in the last ``window_s`` wall seconds."""
        now = time.monotonic() if now_s is None else now_s
        with self._lock:
            return math.fsum(usd for t, usd in self._notional if now - t < window_s)

    def orders_sent(self, window_s: float, now_s: float | None = None) -> int:
        """Orders sent in the last ``window_s`` wall seconds."""
        now = time.monotonic() if now_s is None else now_s
        with self._lock:
            return sum(1 for t in self._sent if now - t < window_s)

    # -- the checks -------------------------------------------------------------------

    def _instrument(self, order: OrderRequest, snapshot: Snapshot) -> str | None:
        if order.symbol not in snapshot.instruments:
            return f"{order.symbol}: unknown instrument, pick a listed one (instrument)"
        allow = self.risk.allow
        if allow and not any(fnmatch.fnmatchcase(order.symbol, pat) for pat in allow):
            return f"{order.symbol} is not in the allow-list ([risk] allow)"
        return None

    def _age_s(self, snapshot: Snapshot, ts_ms: int) -> float:
        return (snapshot.ts_ms - ts_ms) / 1000.0 / self.time_scale

    def _market_data(self, order: OrderRequest, snapshot: Snapshot, *,
                     closes: bool = False) -> str | None:
        """``closes``: the order brings its position toward zero without flipping it.
        Such a LIMIT order passes on stale data: its price is the sender's and it cannot
        fill worse, and a trader must be able to get out while a feed is silent. A market
        order on stale data is refused whatever it does: its price is unknown."""
        sym, limit = order.symbol, self.risk.max_data_age_s
        key = "([risk] max_data_age_s)"
        stale_ok = closes and order.type == "limit"
        hint = "; a limit that closes is allowed" if closes else ""
        inst = snapshot.instruments[sym]
        t = snapshot.tickers.get(sym)
        if t is None:
            return f"no ticker for {sym} yet: wait for market data {key}"
        if problem := ticker_problem(t, inst):
            return f"{sym} {problem}: unusable market data {key}"
        if (age := self._age_s(snapshot, t.ts_ms)) > limit and not stale_ok:
            return f"{sym} ticker {age:.1f}s old > {limit:g}s{hint} {key}"
        book = snapshot.books.get(sym)
        if book is None:
            if order.type == "market":
                return f"no book for {sym}: a market order needs one; send a limit {key}"
            return None
        if problem := book_problem(book):
            return f"{sym} {problem}: unusable market data {key}"
        if (age := self._age_s(snapshot, book.ts_ms)) > limit and not stale_ok:
            return f"{sym} book {age:.1f}s old > {limit:g}s{hint} {key}"
        if order.type == "market" and not len(book.asks if order.side == "buy" else book.bids):
            side = "asks" if order.side == "buy" else "bids"
            return f"{sym} book has no {side} for a market {order.side}: send a limit {key}"
        return None

    @staticmethod
    def _sanity(order: OrderRequest, snapshot: Snapshot) -> str | None:
        if order.side not in ("buy", "sell"):
            return f"side {order.side!r}: use buy or sell (order side)"
        if order.type not in ("market", "limit"):
            return f"type {order.type!r}: use market or limit (order type)"
        a = order.amount
        if not (isinstance(a, int | float) and math.isfinite(a) and a > 0):
            return f"amount {a!r}: must be a positive number of contracts (order amount)"
        if order.type == "limit":
            p = order.price
            if not (isinstance(p, int | float) and math.isfinite(p) and p > 0):
                return f"limit price {p!r}: must be a positive price (order price)"
        return None

    @staticmethod
    def _reduce_only(order: OrderRequest, w: WhatIf, resting: Sequence[Order]) -> str | None:
        if not order.reduce_only:
            return None
        p = w.position_before
        if p == 0 or _signed(order) * p > 0:
            held = "flat" if p == 0 else f"{'long' if p > 0 else 'short'} {abs(p):g}"
            return (f"reduce-only {order.side} on a {held} {order.symbol} position would not "
                    "reduce it (order reduce_only)")
        free = abs(p) - resting_reduce_only(order, resting)
        if order.amount > free + EPS:
            return (f"reduce-only {order.amount:g} > {max(free, 0.0):g} left to reduce of "
                    f"{abs(p):g} after resting reduce-only orders; cancel those first "
                    "(order reduce_only)")
        return None

    def _notional_limits(self, w: WhatIf, now: float) -> str | None:
        r = self.risk
        usd = w.notional_usd
        if not math.isfinite(usd):
            return "order notional unknown (no price) ([risk] max_order_notional_usd)"
        if usd > r.max_order_notional_usd:
            return (f"order notional {usd:,.0f} USD > {r.max_order_notional_usd:,.0f} USD "
                    "([risk] max_order_notional_usd)")
        for window, limit, key, name in (
                (HOUR_S, r.max_notional_per_hour_usd, "max_notional_per_hour_usd", "hour"),
                (DAY_S, r.max_notional_per_day_usd, "max_notional_per_day_usd", "day")):
            done = self.notional_sent_usd(window, now)
            if done + usd > limit:
                return (f"notional in the last {name} {done:,.0f} + {usd:,.0f} USD > "
                        f"{limit:,.0f} USD ([risk] {key})")
        return None

    def _leverage_and_margin(self, order: OrderRequest, snapshot: Snapshot,
                             resting: Sequence[Order], reduces: bool, w: WhatIf) -> str | None:
        more = sum(o.remaining for o in resting if o.status == "open" and not o.reduce_only
                   and o.symbol == order.symbol and o.side == order.side)
        if more:
            w = what_if(replace(order, amount=order.amount + more), snapshot)
        also = f" with {more:g} resting" if more else ""
        for before, after, limit, key, fmt in (
                (w.gross_leverage_before, w.gross_leverage_after, self.sizing.max_leverage,
                 "[sizing] max_leverage", "{:.2f}x"),
                (w.margin_ratio_before, w.margin_ratio_after, self.risk.max_margin_ratio,
                 "[risk] max_margin_ratio", "{:.1%}")):
            name = "gross leverage" if "leverage" in key else "margin ratio"
            if math.isnan(after) or math.isnan(before):
                if not reduces:
                    return f"{name} after unknown (a price is missing) ({key})"
                continue
            if after > limit and after > before:
                return (f"{name} after{also} {fmt.format(after)} > {fmt.format(limit)} "
                        f"(now {fmt.format(before)}) ({key})")
        return None

    def _price_band(self, order: OrderRequest, snapshot: Snapshot, w: WhatIf) -> str | None:
        if order.type != "limit":
            return None
        inst = snapshot.instruments[order.symbol]
        mark = w.mark
        band, key = (self.risk.option_price_band_bps, "option_price_band_bps") \
            if inst.is_option else (self.risk.price_band_bps, "price_band_bps")
        sign = 1.0 if order.side == "buy" else -1.0
        through = sign * (order.price - mark)  # > 0: more aggressive than mark
        if through <= band * 1e-4 * mark + inst.price_step * (1 + EPS):
            return None
        bps = through / mark * 1e4 if mark > 0 else math.inf
        where = "above" if sign > 0 else "below"
        return (f"limit {order.side} {order.price:g} is {bps:,.0f} bps {where} mark {mark:g} > "
                f"{band:g} bps ([risk] {key})")

    def _rate(self, now: float) -> str | None:
        r = self.risk
        for window, limit, key, name in ((1.0, r.max_orders_per_second, "max_orders_per_second",
                                          "second"),
                                         (60.0, r.max_orders_per_minute, "max_orders_per_minute",
                                          "minute")):
            n = self.orders_sent(window, now)
            if n >= limit:
                return f"{n} orders sent in the last {name} >= {limit} ([risk] {key})"
        return None

    def _prune(self, now: float) -> None:
        while self._sent and now - self._sent[0] >= 60.0:
            self._sent.popleft()
        while self._notional and now - self._notional[0][0] >= DAY_S:
            self._notional.popleft()
