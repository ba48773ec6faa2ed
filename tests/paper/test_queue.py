"""Queue position of resting paper limits (cockpit.paper.queue): a limit at the best
bid waits behind the size shown there, a print at its price eats that queue first,
a print through it fills up to the print's size, a limit behind the touch does not
fill from prints at the touch, and a limit inside the spread is first in line.
Sizes worked out by hand from the books below (BTC perp: tick 0.1, step 0.001)."""

from __future__ import annotations

import pytest

from cockpit.model import OrderRequest, Trade
from tests.paper.specs import BTC_PERP, T0, book

SYM = BTC_PERP.symbol
BIDS = [[59_990.0, 0.3], [59_980.0, 0.5]]
ASKS = [[60_000.0, 0.5], [60_010.0, 1.0]]


def rest(broker, price, amount=0.2):
    broker.on_book(book(SYM, BIDS, ASKS))
    order = broker.place_order(OrderRequest(SYM, "buy", "limit", amount, price))
    assert order.status == "open"
    return order


def filled(broker, order):
    return broker.ledger.orders[order.id].filled


def sell(broker, price, amount, ts=1):
    broker.on_trade(Trade(SYM, T0 + ts, price, amount, "sell"))


def test_a_limit_at_the_best_bid_waits_behind_the_size_shown_there(broker):
    order = rest(broker, 59_990.0)  # 0.3 shown ahead of it
    sell(broker, 59_990.0, 0.2)  # smaller than the queue ahead: no fill
    assert filled(broker, order) == 0.0
    sell(broker, 59_990.0, 0.15, ts=2)  # 0.1 left ahead eaten, 0.05 fills ours
    assert filled(broker, order) == pytest.approx(0.05)
    sell(broker, 59_990.0, 1.0, ts=3)  # queue gone: fills the rest, 0.15
    assert filled(broker, order) == pytest.approx(0.2)
    assert broker.account().fills[-1].price == 59_990.0 and broker.account().fills[-1].maker


def test_a_limit_behind_the_touch_does_not_fill_from_prints_at_the_touch(broker):
    order = rest(broker, 59_980.0)  # behind 59,990, and behind the 0.5 shown at 59,980
    for ts in range(1, 6):
        sell(broker, 59_990.0, 5.0, ts=ts)  # at a better price than ours
    assert filled(broker, order) == 0.0
    sell(broker, 59_980.0, 0.4, ts=7)  # at our price, smaller than the queue ahead
    assert filled(broker, order) == 0.0
    sell(broker, 59_970.0, 0.05, ts=8)  # a sweep through our price fills up to its size
    assert filled(broker, order) == pytest.approx(0.05)


def test_a_limit_inside_the_spread_is_first_in_line_but_gets_at_most_the_print(broker):
    order = rest(broker, 59_995.0, amount=1.0)  # better than the best bid: no one ahead
    sell(broker, 59_990.0, 0.3)  # the seller hit the bid: ours came first
    assert filled(broker, order) == pytest.approx(0.3)
    broker.on_trade(Trade(SYM, T0 + 2, 60_000.0, 2.0, "buy"))  # a buyer cannot fill a buy
    assert filled(broker, order) == pytest.approx(0.3)


def test_two_limits_at_one_price_share_one_print_in_time_priority(broker):
    first, second = rest(broker, 59_990.0), rest(broker, 59_990.0)
    sell(broker, 59_990.0, 0.4)  # 0.3 ahead of both, then 0.1 to the older one
    assert filled(broker, first) == pytest.approx(0.1) and filled(broker, second) == 0.0


def test_when_the_bids_drop_below_a_limit_its_queue_is_gone(broker):
    order = rest(broker, 59_990.0)
    broker.on_book(book(SYM, [[59_980.0, 0.5]], ASKS, T0 + 1))  # everyone at 59,990 left
    broker.on_book(book(SYM, BIDS, ASKS, T0 + 2))  # who comes back queues behind us
    sell(broker, 59_990.0, 0.1, ts=3)
    assert filled(broker, order) == pytest.approx(0.1)


def test_an_amend_to_a_new_price_loses_the_place_in_the_queue(broker):
    order = rest(broker, 59_995.0)  # inside the spread: first in line
    broker.amend(order.id, price=59_990.0)  # joins behind the 0.3 shown at 59,990
    sell(broker, 59_990.0, 0.3)
    assert filled(broker, order) == 0.0
