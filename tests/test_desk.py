"""The headless desk on the real demo account: the cases a trader found (issue 9)
refused under the default config, the trading state's one-way automatic moves and
hysteresis, the kill switch with a failing venue, auto-execute sending only
verified reductions, and one clock under --acceleration."""

import dataclasses
import math

import pytest

from cockpit.config import Config
from cockpit.desk import Desk, TradingState, policy_settings
from cockpit.engine import EngineRunner
from cockpit.model import OrderRequest
from cockpit.runtime import build_demo
from cockpit.venues.sim import dispatch

START_MS = 1_795_435_200_000  # 2026-11-23 08:00 UTC
BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"


def make(config=None, *, state_path=None, acceleration=None, broker=None):
    config = config or Config()
    rt = build_demo(config, seed=7, start_ms=START_MS, state_path=state_path,
                    acceleration=acceleration)
    desk = Desk(config, rt.store, broker or rt.broker, rt.journal)
    return rt, desk


def engine_run(rt, desk, config=None):
    runner = EngineRunner(policy_settings(config or Config()))
    runner.quick_first_run = True  # EWMA: the same decisions' shape, no GARCH fit
    snap = rt.store.snapshot()
    desk.on_result(runner.run(snap), snap)


def position(rt, symbol):
    p = rt.broker.account().position(symbol)
    return p.contracts if p else 0.0


def mark(rt, symbol):
    return rt.store.snapshot().tickers[symbol].mark


async def ready(rt, desk):
    assert await desk.reconcile()
    return desk


# -- the measured cases, refused by default -----------------------------------------
async def test_a_20_btc_market_buy_is_refused_on_leverage():
    rt, desk = make()
    await ready(rt, desk)
    before = position(rt, BTC)
    report = await desk.send_ticket(OrderRequest(BTC, "buy", "market", 20.0))
    assert report.refused and not report.orders
    assert "[sizing] max_leverage" in report.error or "[risk]" in report.error
    assert position(rt, BTC) == before
    refusal = desk.journal.records(kinds=["refusal"])[-1]
    assert refusal.reason == report.error


async def test_a_limit_buy_50_percent_through_the_market_is_refused():
    rt, desk = make()
    await ready(rt, desk)
    price = round(mark(rt, BTC) * 1.5, 1)
    report = await desk.send_ticket(OrderRequest(BTC, "buy", "limit", 0.1, price=price))
    assert report.refused and "price_band_bps" in report.error
    assert rt.broker.account().open_orders == ()


async def test_repeated_30_btc_tickets_never_build_a_24x_book():
    rt, desk = make()
    await ready(rt, desk)
    for _ in range(4):
        await desk.send_ticket(OrderRequest(BTC, "buy", "market", 30.0))
    acct = rt.broker.account()
    gross = sum(abs(p.notional_usd) for p in acct.positions if not p.symbol.count("-"))
    assert gross / acct.equity_usd < Config().sizing.max_leverage
    assert acct.liquidations == 0


async def test_at_70_percent_drawdown_the_state_is_reducing_and_a_buy_is_refused():
    rt, desk = make()
    await ready(rt, desk)
    rt.broker.ledger.peak_equity_usd = rt.broker.account().equity_usd / 0.3
    rt.broker._account = None  # revalue with the new peak
    rt.store.on_account(rt.broker.account())
    engine_run(rt, desk)
    assert desk.state == TradingState.REDUCING
    assert "drawdown" in desk.state_reason
    before = position(rt, BTC)
    report = await desk.send_ticket(OrderRequest(BTC, "buy", "market", 0.5))
    assert report.refused and "REDUCING" in report.error
    # getting out is still allowed: selling part of the long verifies as reducing
    report = await desk.send_ticket(OrderRequest(BTC, "sell", "market", 0.5))
    assert not report.refused and report.orders, report.error
    assert position(rt, BTC) == pytest.approx(before - 0.5)
    # and the trader cannot raise it while the drawdown holds
    assert "drawdown" in desk.raise_state(TradingState.ACTIVE)


async def test_an_ordinary_ticket_passes_and_is_journaled_before_it_is_sent():
    rt, desk = make()
    await ready(rt, desk)
    seen = []
    real = rt.broker.create_order

    async def spy(req):
        seen.append(desk.journal.order(req.client_order_id))  # the row exists already
        return await real(req)

    rt.broker.create_order = spy
    report = await desk.send_ticket(OrderRequest(BTC, "buy", "market", 0.5))
    assert report.orders and report.orders[0].filled == pytest.approx(0.5)
    assert seen[0] is not None and seen[0].status == "intent"
    assert desk.journal.order(report.orders[0].client_order_id).status == "closed"


# -- the trading state ---------------------------------------------------------------
async def test_automatic_moves_only_go_down_and_the_state_persists(tmp_path):
    state = tmp_path / "demo.sqlite"
    rt, desk = make(state_path=state)
    await ready(rt, desk)
    assert desk.state == TradingState.ACTIVE
    assert desk.lower_state(TradingState.REDUCING, "test breaker")
    assert not desk.lower_state(TradingState.ACTIVE, "an automatic move up")
    assert desk.state == TradingState.REDUCING
    rt.broker.close()
    rt.journal.close()
    rt2, desk2 = make(state_path=state)
    assert desk2.state == TradingState.REDUCING  # restored (and not reconciled yet)
    await ready(rt2, desk2)
    assert desk2.state == TradingState.REDUCING and desk2.state_reason == "test breaker"
    assert desk2.raise_state(TradingState.ACTIVE) is None
    assert desk2.state == TradingState.ACTIVE
    kinds = [r.kind for r in desk2.journal.records(kinds=["state"])]
    assert len(kinds) == 2


async def test_until_reconciled_the_state_is_at_most_reducing_and_auto_stays_off():
    rt, desk = make()
    assert not desk.reconciled
    assert desk.state == TradingState.REDUCING
    assert desk.set_auto(True) is not None and not desk.auto_execute
    report = await desk.send_ticket(OrderRequest(BTC, "buy", "market", 0.5))
    assert report.refused  # an increase before reconciliation
    await ready(rt, desk)
    assert desk.state == TradingState.ACTIVE and desk.set_auto(True) is None


async def test_margin_ratio_past_red_lowers_the_state_with_hysteresis():
    config = Config.model_validate({"display": {"margin_amber": 0.1, "margin_red": 0.2}})
    rt, desk = make(config)
    await ready(rt, desk)
    ratio = rt.broker.account().margin_ratio
    assert ratio > 0.2  # the demo book runs near 28 %
    engine_run(rt, desk, config)
    assert desk.state == TradingState.REDUCING and "margin ratio" in desk.state_reason
    blockers = desk.raise_blockers(TradingState.ACTIVE)
    assert blockers and "[display] margin_red" in blockers[0]


# -- the kill switch -------------------------------------------------------------------
class NoCancelAll:
    """A broker without cancel-all (as ccxt on OKX): cancel one by one."""

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)

    async def cancel_all_orders(self, symbol=None):
        raise NotImplementedError("okx cancelAllOrders() is not supported yet")


async def test_kill_cancels_every_order_even_without_cancel_all():
    rt, _ = make()
    desk = Desk(Config(), rt.store, NoCancelAll(rt.broker), rt.journal)
    await ready(rt, desk)
    bid = rt.store.snapshot().books[BTC].best_bid
    for k in (0.99, 0.995):
        r = await desk.send_ticket(OrderRequest(BTC, "buy", "limit", 0.1, price=round(bid * k, 1)))
        assert r.orders and r.orders[0].status == "open", r.error
    desk.auto_confirmed = True
    desk.set_auto(True)
    text = await desk.kill()
    assert await rt.broker.fetch_open_orders() == []
    assert "2 order(s) cancelled" in text and "NOT" not in text
    assert desk.state == TradingState.REDUCING and not desk.auto_execute
    assert not desk.auto_confirmed  # turning auto back on asks again
    assert all(o.status == "canceled" for o in desk.journal.orders())


class Dead:
    """A venue that answers nothing."""

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)

    async def cancel_all_orders(self, symbol=None):
        raise ConnectionError("venue unreachable")

    async def fetch_open_orders(self, symbol=None):
        raise ConnectionError("venue unreachable")


async def test_kill_with_the_venue_down_still_stops_trading_and_says_what_is_left():
    rt, _ = make()
    desk = Desk(Config(), rt.store, Dead(rt.broker), rt.journal)
    desk.reconciled = True  # it was reachable earlier in the session
    desk.auto_execute = True
    text = await desk.kill()
    assert not desk.auto_execute and desk.state == TradingState.REDUCING
    assert "NOT cancelled" in text and "unreachable" in text
    assert desk.journal.records(kinds=["kill"])


# -- auto-execute ------------------------------------------------------------------------
async def test_auto_execute_sends_only_verified_reductions():
    rt, desk = make()
    await ready(rt, desk)
    engine_run(rt, desk)
    snap = rt.store.snapshot()
    assert len(desk.book) >= 2
    desk.auto_confirmed = True
    assert desk.set_auto(True) is None
    before = {s.symbol: position(rt, s.symbol) for s in desk.book}
    candidates = desk.auto_candidates()
    assert candidates
    assert all(desk.verified_reducing(s, snap) for s in candidates)
    reports = await desk.run_auto()
    assert reports and all(r.orders for r in reports)
    resting = {o.symbol: o for o in rt.broker.account().open_orders}
    for r in reports:  # each position moved toward zero, never past it
        now, was = position(rt, r.symbol), before[r.symbol]
        assert now == 0 or math.copysign(1, now) == math.copysign(1, was)
        if desk.executor.executions[r.execution_id].style == "passive":  # an option: it rests
            assert abs(now) <= abs(was) and resting[r.symbol].reduce_only
        else:
            assert abs(now) < abs(was)
    assert not desk.auto_candidates()  # sent once: nothing goes twice


async def test_a_labelled_reduction_that_would_increase_is_not_auto_executed():
    rt, desk = make()
    await ready(rt, desk)
    engine_run(rt, desk)
    s = next(iter(desk.book))
    flipped = [dataclasses.replace(o, side="sell" if o.side == "buy" else "buy",
                                   reduce_only=False) for o in s.orders]
    bad = dataclasses.replace(s, orders=tuple(flipped))  # still labelled reduces_risk
    desk.book._items[bad.id] = bad
    assert bad.reduces_risk and not desk.verified_reducing(bad, rt.store.snapshot())
    desk.auto_confirmed = True
    desk.set_auto(True)
    assert bad.id not in {c.id for c in desk.auto_candidates()}


# -- ids and one clock -------------------------------------------------------------------
async def test_approving_twice_sends_once():
    rt, desk = make()
    await ready(rt, desk)
    engine_run(rt, desk)
    s = next(iter(desk.book))
    first = await desk.approve(s.id)
    second = await desk.approve(s.id)
    assert first.orders and not second.orders and second.error == "already sent"
    assert len({f.id for f in rt.broker.account().fills}) == len(rt.broker.account().fills)


async def test_at_acceleration_3600_suggestions_stay_approvable_and_data_is_fresh():
    rt, desk = make(acceleration=3600)
    await ready(rt, desk)
    engine_run(rt, desk)
    for _ in range(3):  # three ticks: 18 minutes of market time, 0.3 s of wall time
        dispatch(rt.store, rt.feed.market.step())
    snap = rt.store.snapshot()
    assert snap.ts_ms - next(iter(desk.book)).created_ms >= 18 * 60_000
    breakers = [b for d in desk.last_result.decisions for b in d.breakers if "stale" in b]
    assert not breakers and desk.state == TradingState.ACTIVE
    s = next(s for s in desk.book if desk.verified_reducing(s, snap))
    refusal = desk.suggestion_refusal(s, snap, auto=False)
    assert refusal is None or "moved" in refusal  # never "1800s old"


async def test_the_rolling_notional_limit_survives_a_restart(tmp_path):
    config = Config.model_validate({"risk": {"max_notional_per_hour_usd": 100_000}})
    state = tmp_path / "demo.sqlite"
    rt, desk = make(config, state_path=state)
    await ready(rt, desk)
    r = await desk.send_ticket(OrderRequest(ETH, "sell", "market", 20.0))  # ~$60k: adds
    assert r.orders, r.error
    rt.broker.close()
    rt.journal.close()
    rt2, desk2 = make(config, state_path=state)
    await ready(rt2, desk2)
    again = await desk2.send_ticket(OrderRequest(ETH, "sell", "market", 20.0))
    assert again.refused and "max_notional_per_hour_usd" in again.error


async def test_nothing_is_sent_that_the_journal_could_not_record_first():
    rt, desk = make()
    await ready(rt, desk)
    before = position(rt, BTC)

    def full(*a, **k):
        from cockpit.journal import JournalError
        raise JournalError("journal demo.journal.sqlite: disk full; free space")

    desk.journal.order_intent = full
    report = await desk.send_ticket(OrderRequest(BTC, "buy", "market", 0.1))
    assert report.refused and "disk full" in report.error and not report.orders
    assert position(rt, BTC) == before


async def test_a_live_accounts_peak_equity_survives_a_restart_so_the_drawdown_tiers_act(
        tmp_path):
    """A venue's account carries no peak equity: the desk keeps the high-water mark in
    the account's journal, so after a restart a 16.7 % drawdown from it still trips the
    reduce-only tier (15 % by default), as it would on the paper account."""
    from cockpit.journal import Journal
    from cockpit.model import Account
    from cockpit.store import Store

    path = tmp_path / "okx.journal.sqlite"
    journal = Journal(path)
    store = Store(mode="live")
    Desk(Config(), store, None, journal, live=True)
    for equity in (100_000.0, 120_000.0, 118_000.0):
        store.on_account(Account("okx", 0, equity_usd=equity))
    assert store.snapshot().account.peak_equity_usd == 120_000.0
    journal.close()

    journal = Journal(path)  # the restart: a fresh store, the same journal
    store = Store(mode="live")
    desk = Desk(Config(), store, None, journal, live=True)
    store.on_account(Account("okx", 0, equity_usd=100_000.0))
    snap = store.snapshot()
    assert snap.account.peak_equity_usd == 120_000.0
    moves = desk.states.triggers(snap, None)
    assert [to for to, _ in moves] == [TradingState.REDUCING]
    assert "drawdown 16.7%" in moves[0][1]
    journal.close()
