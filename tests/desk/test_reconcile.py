"""Restart scenarios: what the desk finds at start, what it writes down and shows.

Each test sets a situation up on the demo's paper account (a session that sends, a
venue that fills or cancels while the cockpit is down, a journal left half-written),
restarts (a new runtime and desk on the same files), awaits ``desk.reconcile()`` and
checks the journal, the broker and the lines shown to the trader. The last two run
the same on the local fake OKX (tests/venues/fakevenue.py) through the live broker.
"""

from __future__ import annotations

import math

import pytest

from cockpit.execution import client_order_id, new_execution_id
from cockpit.model import OrderRequest, Trade
from cockpit.risk_gate import TradingState
from cockpit.suggestions import Suggestion
from cockpit.venues.sim import dispatch
from sizing.orders import PlannedOrder
from sizing.policy_types import Decision
from tests.desk.conftest import BTC


def reconcile_line(session, cid: str) -> str:
    """The one reconciliation line that names client id ``cid``."""
    (line,) = [t for t in session.lines("reconcile") if cid in t]
    return line


def summary(session) -> str:
    return [t for t in session.lines("reconcile") if t.startswith("reconciled:")][-1]


async def restart(cockpit, before, wrap=None):
    before.stop()
    after = cockpit(wrap)
    assert await after.desk.reconcile()
    return after


async def rest_one(session, amount=0.01, below_bps=50.0):
    """A passive limit buy sent through the desk; it rests. Returns the broker's order."""
    assert await session.desk.reconcile()
    report = await session.desk.send_ticket(session.passive_buy(amount, below_bps))
    assert report.error is None, report.error
    (order,) = report.orders
    assert order.status == "open" and order.filled == 0
    return order


def journal_fills(journal, cid: str) -> list:
    return [r for r in journal.records(kinds=["fill"]) if r.client_order_id == cid]


def btc_position(session) -> float:
    return session.broker.ledger.position(BTC)


# -- 1-4: what became of an order while the cockpit was down --------------------------------

async def test_an_order_resting_at_restart_is_kept_and_shown(cockpit):
    first = cockpit()
    order = await rest_one(first)
    cid = order.client_order_id
    again = await restart(cockpit, first)
    assert again.journal.order(cid).status == "open"
    assert [o.client_order_id for o in await again.broker.fetch_open_orders()] == [cid]
    assert "resting, kept" in reconcile_line(again, cid)
    assert "1 resting at the broker" in summary(again)
    assert again.desk.reconciled and again.desk.state == TradingState.ACTIVE
    assert "1 order(s) resting" in again.desk.quit_question()  # quitting still asks


async def test_a_part_filled_order_is_kept_with_its_fill_journaled_once(cockpit,
                                                                       venue_while_down):
    first = cockpit()
    order = await rest_one(first, amount=0.5)
    cid, seeded = order.client_order_id, btc_position(first)
    first.stop()
    down = venue_while_down()  # a print 1 USD through the limit, 0.2 of it, while down
    down.broker.on_trade(Trade(BTC, down.feed.now_ms(), order.price - 1.0, 0.2, "sell"))
    assert down.broker.ledger.orders[order.id].filled == pytest.approx(0.2)
    down.broker.close()

    again = cockpit()
    assert await again.desk.reconcile()
    jo = again.journal.order(cid)
    assert (jo.status, jo.filled) == ("open", pytest.approx(0.2))
    (fill,) = journal_fills(again.journal, cid)
    assert (fill.side, fill.amount, fill.price) == ("buy", pytest.approx(0.2), order.price)
    assert fill.execution_id == jo.execution_id
    assert "resting, kept" in reconcile_line(again, cid)
    assert "filled 0.2" in reconcile_line(again, cid)
    assert "1 fill(s) not journaled before" in summary(again)
    assert btc_position(again) == pytest.approx(seeded + 0.2)
    assert await again.desk.reconcile()  # asking again journals nothing twice
    assert len(journal_fills(again.journal, cid)) == 1


async def test_an_order_filled_while_down_is_closed_with_its_fills(cockpit, venue_while_down):
    first = cockpit()
    order = await rest_one(first, amount=0.01, below_bps=0.0)  # at the bid: the sim crosses it
    cid, seeded = order.client_order_id, btc_position(first)
    first.stop()
    down = venue_while_down()
    for _ in range(3000):  # bounded: 300 s of the sim's market (seed 7)
        dispatch(down.store, down.feed.market.step())
        if down.broker.ledger.orders[order.id].status != "open":
            break
    assert down.broker.ledger.orders[order.id].status == "closed"
    down.broker.close()

    again = cockpit()
    assert await again.desk.reconcile()
    jo = again.journal.order(cid)
    assert (jo.status, jo.filled) == ("closed", pytest.approx(0.01))
    assert math.fsum(f.amount for f in journal_fills(again.journal, cid)) == pytest.approx(0.01)
    assert again.journal.filled_amount(cid) == pytest.approx(0.01)
    assert "filled while down" in reconcile_line(again, cid)
    assert not await again.broker.fetch_open_orders()
    assert btc_position(again) == pytest.approx(seeded + 0.01)


async def test_an_order_cancelled_while_down_is_marked_cancelled(cockpit, venue_while_down):
    first = cockpit()
    order = await rest_one(first)
    cid = order.client_order_id
    first.stop()
    down = venue_while_down()
    down.broker.cancel(order.id)
    down.broker.close()

    again = cockpit()
    assert await again.desk.reconcile()
    assert again.journal.order(cid).status == "canceled"
    assert "cancelled while down" in reconcile_line(again, cid)
    assert not await again.broker.fetch_open_orders()
    cancels = [r for r in again.journal.records(kinds=["cancel"]) if r.client_order_id == cid]
    assert len(cancels) == 1 and cancels[0].reason == "reconciled"


# -- 5: a venue that cannot be asked -------------------------------------------------------

class Unreachable:
    """The paper broker behind a venue connection that is down until ``up = True``."""

    def __init__(self, broker) -> None:
        self._broker, self.up = broker, False

    def __getattr__(self, name):
        return getattr(self._broker, name)

    async def fetch_open_orders(self, symbol=None):
        if not self.up:
            raise ConnectionError("Cannot connect to host 127.0.0.1:9 [Connection refused]")
        return await self._broker.fetch_open_orders(symbol)


async def test_a_venue_unreachable_at_start_keeps_the_desk_closed_until_it_answers(cockpit):
    first = cockpit()
    order = await rest_one(first)
    first.stop()
    again = cockpit(Unreachable)
    assert not await again.desk.reconcile()
    assert not again.desk.reconciled
    assert again.desk.states.state == TradingState.ACTIVE  # what was saved is not changed
    assert again.desk.state == TradingState.REDUCING  # ... but at most REDUCING until asked
    line = again.lines("reconcile")[-1]  # (before it: the last session's, from the journal)
    assert line.startswith("cannot ask the broker (Cannot connect to host") and \
        "auto-execute stays OFF" in line
    assert again.desk.set_auto(True) == "not reconciled with the broker yet"
    assert not again.desk.auto_execute
    assert again.desk.raise_state(TradingState.ACTIVE).startswith("not reconciled")
    grow = await again.desk.send_ticket(OrderRequest(BTC, "buy", "market", 0.01))
    assert grow.refused and "trading is REDUCING" in grow.error
    assert again.journal.order(order.client_order_id).status == "open"  # nothing marked

    again.desk.broker.up = True  # the venue answers again
    assert await again.desk.reconcile()
    assert again.desk.reconciled and again.desk.state == TradingState.ACTIVE
    assert "resting, kept" in reconcile_line(again, order.client_order_id)
    assert again.desk.set_auto(True) is None and again.desk.auto_execute


# -- 6-9: orders the journal does not know, or knows wrongly --------------------------------

async def test_an_order_of_ours_the_journal_never_saw_is_adopted(cockpit):
    first = cockpit()
    assert await first.desk.reconcile()
    eid = new_execution_id()
    cid = client_order_id(eid, 0)
    req = first.passive_buy(0.01)  # placed, then the journal lost it (e.g. a restored backup)
    first.broker.place_order(OrderRequest(BTC, "buy", "limit", 0.01, req.price,
                                          client_order_id=cid))
    again = await restart(cockpit, first)
    assert "ours but not in the journal, adopted" in reconcile_line(again, cid)
    jo = again.journal.order(cid)
    assert (jo.status, jo.symbol, jo.side, jo.type) == ("open", BTC, "buy", "limit")
    assert (jo.amount, jo.execution_id) == (0.01, eid)
    assert jo.price == pytest.approx(req.price, abs=1e-6)  # the broker's rounding to the tick
    assert "1 adopted" in summary(again)
    # adopted means managed: the kill switch cancels it and the journal says so
    await again.desk.kill()
    assert again.journal.order(cid).status == "canceled"
    assert not await again.broker.fetch_open_orders()


async def test_a_foreign_order_is_left_alone_and_named(cockpit):
    first = cockpit()
    assert await first.desk.reconcile()
    price = first.passive_buy(0.01).price
    first.broker.place_order(OrderRequest(BTC, "buy", "limit", 0.02, price,
                                          client_order_id="hand-placed-7"))
    again = await restart(cockpit, first)
    line = reconcile_line(again, "hand-placed-7")
    assert "not placed by the cockpit, left alone" in line and "buy 0.02" in line
    assert again.journal.order("hand-placed-7") is None
    assert [o.client_order_id for o in await again.broker.fetch_open_orders()] == \
        ["hand-placed-7"]
    assert "1 foreign" in summary(again)


def write_intent(session, cid: str, eid: str, *, side="buy", type="market", amount=0.01,
                 price=None) -> None:
    session.journal.order_intent(session.snap().ts_ms, execution_id=eid, client_order_id=cid,
                                 symbol=BTC, side=side, type=type, amount=amount, price=price,
                                 reduce_only=False, who="ticket")


async def test_an_intent_never_sent_is_marked_never_sent(cockpit):
    first = cockpit()
    assert await first.desk.reconcile()
    eid = new_execution_id()
    cid = client_order_id(eid, 0)
    write_intent(first, cid, eid)  # written down, then the process died before the send
    again = await restart(cockpit, first)
    assert again.journal.order(cid).status == "rejected"
    assert "never sent" in reconcile_line(again, cid)
    assert await again.broker.fetch_order_by_client_id(cid, BTC) is None
    statuses = [r.data["status"] for r in again.journal.why(eid) if r.kind == "order"]
    assert statuses == ["intent", "rejected"]
    assert again.journal.orders(unfinished_only=True) == []


async def test_an_order_sent_but_never_answered_takes_the_brokers_word(cockpit):
    first = cockpit()
    assert await first.desk.reconcile()
    eid = new_execution_id()
    cid = client_order_id(eid, 0)
    write_intent(first, cid, eid)
    sent = first.broker.place_order(OrderRequest(BTC, "sell", "market", 0.01,
                                                 client_order_id=cid))  # died before the answer
    assert first.journal.order(cid).status == "intent"
    again = await restart(cockpit, first)
    jo = again.journal.order(cid)
    assert (jo.status, jo.filled) == ("closed", pytest.approx(0.01))
    assert "sent before the stop, closed" in reconcile_line(again, cid)
    (fill,) = journal_fills(again.journal, cid)
    assert fill.execution_id == eid and fill.amount == pytest.approx(sent.filled)


async def test_a_fill_for_an_order_the_journal_marked_rejected_is_journaled_once(cockpit):
    first = cockpit()
    assert await first.desk.reconcile()
    eid = new_execution_id()
    cid = client_order_id(eid, 0)
    write_intent(first, cid, eid, side="sell")
    first.broker.place_order(OrderRequest(BTC, "sell", "market", 0.01, client_order_id=cid))
    # the send "failed" (a timeout after the venue took it): the journal says rejected
    first.journal.order_update(cid, first.snap().ts_ms, status="rejected", reason="timeout")
    first.desk.sync_account()
    first.desk.sync_account()  # the same account report again
    fills = journal_fills(first.journal, cid)
    assert len(fills) == 1 and fills[0].execution_id == eid
    # the order's row follows its fill: it did not fail
    jo = first.journal.order(cid)
    assert (jo.status, jo.filled) == ("closed", pytest.approx(0.01))
    again = await restart(cockpit, first)
    assert len(journal_fills(again.journal, cid)) == 1
    assert again.journal.filled_amount(cid) == pytest.approx(0.01)
    assert [r.data.get("fill_id") for r in again.journal.records(kinds=["fill"])] == \
        [f.id for f in again.broker.ledger.storage.fills()]


# -- 10-12: what the desk itself carries over ----------------------------------------------

async def test_reducing_after_a_kill_survives_a_restart(cockpit):
    first = cockpit()
    order = await rest_one(first)
    text = await first.desk.kill()
    assert text.startswith("KILL SWITCH: 1 order(s) cancelled")
    first.stop()  # one cockpit per account: the first lets go of it
    again = cockpit()
    assert again.desk.states.state == TradingState.REDUCING  # before asking the broker
    assert again.desk.state_reason == "kill switch"
    assert await again.desk.reconcile()
    assert again.desk.state == TradingState.REDUCING and not again.desk.auto_execute
    assert again.journal.order(order.client_order_id).status == "canceled"
    grow = await again.desk.send_ticket(OrderRequest(BTC, "buy", "market", 0.01))
    assert grow.refused and "trading is REDUCING" in grow.error
    cut = await again.desk.send_ticket(OrderRequest(BTC, "sell", "market", 0.01))
    assert cut.error is None and cut.orders[0].status == "closed"  # a verified reduction
    assert again.desk.raise_state(TradingState.ACTIVE, who="trader") is None
    third = await restart(cockpit, again)
    assert third.desk.state == TradingState.ACTIVE  # raising is persisted too


async def test_the_event_log_shows_the_previous_sessions_lines(cockpit):
    first = cockpit()
    await rest_one(first)
    journaled = [r.text for r in first.journal.records()]
    assert any(t.startswith("order ticket: buy 0.01 BTC/USDT:USDT limit @") for t in journaled)
    shown_before = first.lines()
    again = await restart(cockpit, first)
    lines = again.lines()
    assert lines[:len(journaled)] == journaled  # the history first, in its order
    ticket = next(t for t in shown_before if t.startswith("order ticket:"))
    assert ticket in lines
    assert lines.index(ticket) < lines.index(summary(again))  # then this start's lines


def suggestion(session, eid: str) -> Suggestion:
    """An engine-free suggestion: cut the BTC long by 0.01 with one market order."""
    snap = session.snap()
    current = snap.account.position(BTC).contracts
    d = Decision(BTC, "sim", "resize", current, current - 0.01, -0.01, "target vol",
                 "cut BTC to the vol target", reduces_risk=True)
    order = PlannedOrder(BTC, "sell", "market", 0.01, None, False)
    return Suggestion(eid, BTC, d, (order,), snap.ts_ms, snap.tickers[BTC].mark, engine_seq=1)


async def test_approving_one_execution_twice_sends_once_across_a_restart(cockpit):
    first = cockpit()
    assert await first.desk.reconcile()
    eid = new_execution_id()
    s = suggestion(first, eid)
    first.desk.book.replace_all([s], s.created_ms, 0)
    sent = await first.desk.approve(eid)
    assert sent.error is None and [o.client_order_id for o in sent.orders] == [f"ck{eid}00"]
    twice = await first.desk.approve(eid)
    assert twice.refused and twice.error == "already sent" and not twice.orders
    fills_before = len(first.broker.ledger.storage.fills())
    position = btc_position(first)

    again = await restart(cockpit, first)
    s2 = suggestion(again, eid)  # the same execution offered again after the restart
    again.desk.book.replace_all([s2], s2.created_ms, 0)
    third = await again.desk.approve(eid)
    assert third.refused and not third.orders
    assert third.error.startswith(f"already sent: ck{eid}00 is in the journal (closed)")
    assert any("already sent" in t for t in again.lines("refusal"))  # shown, and journaled
    assert len(again.broker.ledger.storage.fills()) == fills_before
    assert btc_position(again) == pytest.approx(position)
    assert sum(1 for o in again.broker.ledger.orders.values()
               if o.client_order_id.startswith(f"ck{eid}")) == 1
    assert [o.client_order_id for o in again.journal.orders()
            if o.execution_id == eid] == [f"ck{eid}00"]


# -- the same on a live venue: the fake OKX through the ccxt broker --------------------------

async def test_live_okx_an_order_resting_at_restart_is_kept_and_shown(live_okx):
    from tests.venues.fakevenue import SYMBOL

    first = await live_okx()
    assert await first.desk.reconcile()
    bid = first.rt.store.snapshot().tickers[SYMBOL].bid
    report = await first.desk.send_ticket(OrderRequest(SYMBOL, "buy", "limit", 1.0,
                                                       round(bid * 0.99, 1)))
    assert report.error is None, report.error
    (order,) = report.orders
    cid = order.client_order_id
    assert live_okx.srv.orders[cid]["state"] == "live"
    await first.stop()

    again = await live_okx()
    assert await again.desk.reconcile()
    assert "resting, kept" in reconcile_line(again, cid)
    jo = again.journal.order(cid)
    assert (jo.status, jo.venue_order_id) == ("open", live_okx.srv.orders[cid]["ordId"])
    assert again.desk.state == TradingState.ACTIVE
    assert live_okx.srv.duplicate_posts == 0 and len(live_okx.srv.orders) == 1
    await again.desk.kill()  # and it is ours to cancel
    assert live_okx.srv.orders[cid]["state"] == "canceled"
    assert again.journal.order(cid).status == "canceled"


async def test_live_okx_an_order_of_ours_the_journal_never_saw_is_adopted(live_okx):
    from tests.venues.fakevenue import SYMBOL

    first = await live_okx()
    assert await first.desk.reconcile()
    price = round(first.rt.store.snapshot().tickers[SYMBOL].bid * 0.99, 1)
    eid = new_execution_id()
    cid = client_order_id(eid, 0)
    # at the venue, not in the journal: ours (ck...) and one placed by hand (no ck prefix)
    await first.broker.create_order(OrderRequest(SYMBOL, "buy", "limit", 2.0, price,
                                                 client_order_id=cid))
    await first.broker.create_order(OrderRequest(SYMBOL, "buy", "limit", 1.0, price,
                                                 client_order_id="byhand1"))
    await first.stop()

    again = await live_okx()
    assert await again.desk.reconcile()
    assert "ours but not in the journal, adopted" in reconcile_line(again, cid)
    assert "not placed by the cockpit, left alone" in reconcile_line(again, "byhand1")
    jo = again.journal.order(cid)
    assert (jo.status, jo.symbol, jo.side, jo.amount, jo.execution_id) == \
        ("open", SYMBOL, "buy", 2.0, eid)
    assert jo.price == pytest.approx(price, abs=1e-6)
    assert again.journal.order("byhand1") is None
    assert {c: o["state"] for c, o in live_okx.srv.orders.items()} == \
        {cid: "live", "byhand1": "live"}
