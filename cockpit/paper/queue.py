"""Where a resting paper limit stands in the venue's queue, and what a print fills.

A paper order is not in the venue's book, so its place in the queue at its price
is estimated from what the feed shows (an L2 book and the tape), as backtesters
do. The model is the conservative one, hftbacktest's ``RiskAdverseQueueModel``
(queue position advances only by trades at the order's price), made a little
stricter still for a feed that redraws its level sizes on every update:

* **Joining**: the queue ahead is the size displayed at the order's own price on
  its side of the book (a buy at the best bid joins behind all of it); 0 when no
  one is displayed there (inside the spread, or in a gap). With no book yet the
  queue is unknown and taken as infinite until a book arrives.
* **A print at the order's price** (a taker on the other side at exactly it) eats
  the queue ahead first; only what is left of it fills the order.
* **A print through the order's price** (a sell below a buy limit) means every
  order at the price was swept, ours with it: it fills, up to the print's size.
* **A new book** where the order's price is strictly better than the best
  displayed on its side means everyone who was at that price has left: the
  queue ahead is 0 (who comes back queues behind). Other changes of displayed
  size are not taken as cancellations ahead of us (hftbacktest would take the
  minimum of queue and displayed size; the built-in market redraws its sizes
  every update, so that minimum would drain the queue on noise alone).
* Every print fills at most its own size in total, at the limit's own price
  (maker), orders of the same side in price-time priority.

A limit far from the touch (behind levels that must be swept first) therefore
fills only when a taker large enough to sweep to it arrives.

References
----------
hftbacktest, "Queue Models": https://hftbacktest.readthedocs.io/en/v1.8.4/reference/queue_models.html
E. Rigtorp (2013), "Estimating order queue position",
https://rigtorp.se/2013/06/08/estimating-order-queue-position.html
"""

from __future__ import annotations

import math

import numpy as np

from cockpit.model import Book, Order, Trade

__all__ = ["QueueTracker", "displayed_at", "is_better_than_touch"]

_EPS = 1e-12


def displayed_at(levels: np.ndarray, price: float) -> float:
    """Size displayed at exactly ``price`` (within float noise) on one book side."""
    side = np.asarray(levels, dtype=float)
    if side.size == 0:
        return 0.0
    tol = max(abs(price), 1.0) * 1e-9
    return float(side[np.abs(side[:, 0] - price) <= tol, 1].sum())


def is_better_than_touch(side: str, price: float, levels: np.ndarray) -> bool:
    """True when a ``side`` limit at ``price`` beats every level displayed on its own
    side (a buy above the best bid), or that side is empty."""
    own = np.asarray(levels, dtype=float)
    if own.size == 0:
        return True
    best = float(own[0, 0])
    tol = max(abs(price), 1.0) * 1e-9
    return price > best + tol if side == "buy" else price < best - tol


class QueueTracker:
    """Contracts ahead of each resting paper limit at its price (see module docstring)."""

    def __init__(self) -> None:
        self.ahead: dict[str, float] = {}

    def join(self, order: Order, book: Book | None) -> None:
        """``order`` starts resting (or re-rests after an amend) behind what is shown."""
        if book is None:
            self.ahead[order.id] = math.inf
            return
        own = book.bids if order.side == "buy" else book.asks
        self.ahead[order.id] = displayed_at(own, order.price)

    def forget(self, order_id: str) -> None:
        self.ahead.pop(order_id, None)

    def on_book(self, resting: list[Order], book: Book) -> None:
        """A new book: clear the queue of orders now better than their side's touch;
        orders not seen yet (after a restart) join at the back of what is shown."""
        for order in resting:
            own = book.bids if order.side == "buy" else book.asks
            if is_better_than_touch(order.side, order.price, own):
                self.ahead[order.id] = 0.0
            elif not math.isfinite(self.ahead.get(order.id, math.inf)):
                self.ahead[order.id] = displayed_at(own, order.price)

    def fills(self, resting: list[Order], trade: Trade) -> list[tuple[Order, float]]:
        """(order, contracts) a print fills, at most its size in all; queues at the
        print's price advance by what it traded there."""
        left, out = float(trade.amount), []
        eaten = 0.0  # of the displayed queue at the print's price, by this print
        for order in resting:  # best price first, then oldest
            if not _takes_from(order, trade):
                continue
            tol = max(abs(order.price), 1.0) * 1e-9
            through = trade.price < order.price - tol if order.side == "buy" \
                else trade.price > order.price + tol
            if not through:  # at the order's own price: the queue ahead trades first
                ahead = max(self.ahead.get(order.id, math.inf) - eaten, 0.0)
                more = min(ahead, left)
                eaten += more
                left -= more
                self.ahead[order.id] = ahead - more
            take = min(order.remaining, left)
            if take > _EPS:
                left -= take
                out.append((order, take))
        return out


def _takes_from(order: Order, trade: Trade) -> bool:
    """Whether the print's taker could have traded with ``order``: a seller with a bid
    at or above the print, a buyer with an offer at or below it."""
    if order.price is None:
        return False
    tol = max(abs(order.price), 1.0) * 1e-9
    if order.side == "buy":
        return trade.side != "buy" and trade.price <= order.price + tol
    return trade.side != "sell" and trade.price >= order.price - tol
