"""Several venues in one session: the built-in market beside a paper account on the
local fake OKX (127.0.0.1), one Store, one desk; each order through its own venue's
gate and journal (DESIGN.md "How data flows", README "Several venues")."""

from __future__ import annotations

import math

import pytest

from cockpit.config import Config, VenueConfig
from cockpit.model import OrderRequest
from cockpit.views.greeks import greeks_view
from tests.desk.multi_session import start_multi, until
from tests.venues.fakevenue import SYMBOL, FakeOkx

OKX_PERP = f"{SYMBOL}@okx"
SIM_PERP = f"{SYMBOL}@sim"


@pytest.fixture
async def okx():
    srv = await FakeOkx(seed=3).start()
    yield srv
    await srv.close()


def okx_config(srv) -> Config:
    return Config(venues={"okx": VenueConfig(symbols=(SYMBOL,), rest_url=srv.rest_url,
                                             ws_url=srv.ws_url)})


@pytest.fixture
async def sim_okx(okx, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    sessions = []

    async def start():
        s = await start_multi(okx_config(okx), ["sim", "okx"], tmp_path / "acct.sqlite",
                              wait_for=(OKX_PERP, SIM_PERP))
        sessions.append(s)
        return s

    yield start
    for s in sessions:
        if not s.task.done():
            await s.stop()


async def test_one_store_holds_both_venues_under_their_own_keys(sim_okx):
    s = await sim_okx()
    snap = s.snap()
    # the same ccxt symbol on two venues is two instruments, each with its venue
    assert snap.instruments[OKX_PERP].venue == "okx"
    assert snap.instruments[SIM_PERP].venue == "sim"
    assert set(snap.accounts) == {"sim", "okx"}
    assert {"sim", "okx"} <= set(snap.venues)
    # the policy sees the combined book, and each instrument's own venue's free margin
    from cockpit.engine_input import state_from_snapshot

    state = state_from_snapshot(snap, with_book=False)
    assert state.equity_usd == snap.accounts["sim"].equity_usd + snap.accounts["okx"].equity_usd
    assert {i.venue for i in state.instruments} == {"sim", "okx"}
    for i in state.instruments:
        assert i.venue_free_margin_usd == snap.accounts[i.venue].available_usd


async def test_combined_margin_is_the_sum_of_each_account_alone(sim_okx):
    s = await sim_okx()
    snap = s.snap()
    alone = {v: b.account() for v, b in s.rt.broker.brokers.items()}  # each broker alone
    total = snap.account
    for name in ("equity_usd", "initial_margin_usd", "maintenance_margin_usd",
                 "unrealised_pnl_usd"):
        parts = sum(getattr(a, name) for a in alone.values())
        assert math.isclose(getattr(total, name), parts, rel_tol=1e-9, abs_tol=1e-6), name
    assert sorted(p.symbol for p in total.positions) == sorted(
        p.symbol for a in alone.values() for p in a.positions)
    assert all(p.venue == "sim" for p in total.positions if p.symbol.endswith("@sim"))


async def test_an_okx_order_goes_through_the_okx_gate_and_journal_and_fills_there(sim_okx):
    s = await sim_okx()
    sim_before = s.snap().accounts["sim"]
    report = await s.desk.send_ticket(OrderRequest(OKX_PERP, "buy", "market", 1.0))
    assert not report.refused, report
    assert await until(lambda: s.snap().accounts["okx"].position(OKX_PERP) is not None)
    pos = s.snap().accounts["okx"].position(OKX_PERP)
    assert pos.contracts == pytest.approx(1.0) and pos.venue == "okx"
    # the sim account did not move: the same ccxt symbol there is another instrument
    sim_pos = s.snap().accounts["sim"].position(SIM_PERP)
    assert sim_pos.contracts == sim_before.position(SIM_PERP).contracts
    okx_j, sim_j = s.rt.journal.journals["okx"], s.rt.journal.journals["sim"]
    assert [o.symbol for o in okx_j.orders()] == [OKX_PERP]
    assert sim_j.orders() == []


async def test_each_venue_gate_judges_its_own_account(sim_okx):
    """The OKX paper account holds 100k USDT and nothing else; an order far beyond its
    leverage limit is refused by its gate even though the combined equity is larger."""
    s = await sim_okx()
    snap = s.snap()
    mark = snap.tickers[OKX_PERP].mark * snap.instruments[OKX_PERP].contract_size
    okx_eq = snap.accounts["okx"].equity_usd
    lev = Config().sizing.max_leverage
    amount = float(round(1.2 * lev * okx_eq / mark))  # 1.2x the limit on OKX's own equity
    assert amount * mark < lev * snap.account.equity_usd  # the combined book could carry it
    report = await s.desk.send_ticket(OrderRequest(OKX_PERP, "buy", "market", amount))
    assert report.refused and "leverage" in report.error, report.error


async def test_greeks_per_underlying_are_the_sum_over_venues(sim_okx):
    s = await sim_okx()
    await s.desk.send_ticket(OrderRequest(OKX_PERP, "sell", "market", 5.0))
    assert await until(lambda: s.snap().accounts["okx"].position(OKX_PERP) is not None)
    snap = s.snap()
    combined = {t.underlying: t for t in greeks_view(snap).totals if t.is_total}
    parts = [{t.underlying: t for t in greeks_view(
        snap.__class__(**{**{f: getattr(snap, f) for f in snap.__slots__},
                          "account": acct})).totals if t.is_total}
             for acct in snap.accounts.values()]
    for und, total in combined.items():
        for greek in ("delta_usd", "gamma_usd", "vega_usd", "theta_usd"):
            got = getattr(total, greek) or 0.0
            want = sum((getattr(p[und], greek) or 0.0) for p in parts if und in p)
            assert got == pytest.approx(want, rel=1e-9, abs=1e-6), (und, greek)
    rows = {r.symbol for r in greeks_view(snap).rows}
    assert OKX_PERP in rows and SIM_PERP in rows  # the venue is in each position's name


# -- the cross-venue hedge ---------------------------------------------------------------

LOOSE = dict(var_limit=0.9, target_vol=5, max_leverage=50, gamma_limit_usd=1e9,
             vega_limit_usd=1e9, margin_ratio_cap=0.9, kelly_fraction=1.0,
             slippage_budget_bps=5000)  # the caps stay out of the way: only the band acts


async def test_options_on_sim_are_hedged_on_the_okx_perp_through_okx_gate_and_journal(
        okx, tmp_path, monkeypatch):
    """The demo's BTC options (+$51k delta, band $25k) sit on the built-in market; a
    short on the OKX perp already carries part of the hedge. The policy tops the hedge
    up on OKX and says so; approved, it passes OKX's gate, is journaled in OKX's
    journal and fills on the OKX account; the sim account does not move."""
    from functools import partial

    from cockpit.desk import policy_settings
    from cockpit.engine import EngineRunner

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    config = okx_config(okx).model_copy(update={"sizing": Config(sizing=LOOSE).sizing})
    s = await start_multi(config, ["sim", "okx"], tmp_path / "acct.sqlite",
                          wait_for=(OKX_PERP, SIM_PERP))
    try:
        band = next(b for b in greeks_view(s.snap(), 25_000.0).bands if b.underlying == "BTC")
        assert band.options_usd > 25_000.0  # the options alone are outside the band
        okx_mark = s.snap().tickers[OKX_PERP].mark * s.snap().instruments[OKX_PERP].contract_size
        first = await s.desk.send_ticket(OrderRequest(
            OKX_PERP, "sell", "market", float(round(0.4 * band.options_usd / okx_mark))))
        assert not first.refused
        assert await until(lambda: (s.snap().accounts["okx"].position(OKX_PERP) or
                                    type("P", (), {"contracts": 0})).contracts < 0)
        held = s.snap().accounts["okx"].position(OKX_PERP).contracts
        sim_before = {p.symbol: p.contracts for p in s.snap().accounts["sim"].positions}
        okx_sent = s.rt.gate.gates["okx"].orders_sent(3600)

        traded_ms = s.snap().books[OKX_PERP].ts_ms  # the short took the bids it walked:
        assert await until(lambda: s.snap().books[OKX_PERP].ts_ms > traded_ms)  # a new book
        snap = s.snap()
        s.desk.on_result(EngineRunner(partial(policy_settings, config)).run(snap), snap)
        hedge = next(x for x in s.desk.book if x.symbol == OKX_PERP)
        assert hedge.decision.kind == "hedge" and hedge.decision.order < 0
        assert "on okx (it holds the hedge already)" in hedge.decision.reason
        assert not any(x.decision.kind == "hedge" for x in s.desk.book if x.symbol != OKX_PERP)

        report = await s.desk.approve(hedge.id)
        assert not report.refused, report.error
        assert s.rt.gate.gates["okx"].orders_sent(3600) > okx_sent  # OKX's gate let it out
        assert s.rt.gate.gates["sim"].orders_sent(3600) == 0
        assert await until(lambda: s.snap().accounts["okx"].position(OKX_PERP).contracts < held)
        assert {p.symbol: p.contracts for p in s.snap().accounts["sim"].positions} == sim_before
        okx_j, sim_j = s.rt.journal.journals["okx"], s.rt.journal.journals["sim"]
        assert any(r.execution_id == hedge.id for r in okx_j.records(kinds=["suggestion"]))
        assert {o.execution_id for o in okx_j.orders()} >= {hedge.id}
        assert sim_j.orders() == [] and not sim_j.records(kinds=["suggestion"],
                                                          execution_id=hedge.id)
    finally:
        await s.stop()


# -- restart -----------------------------------------------------------------------------

async def test_a_restart_restores_both_paper_accounts(okx, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    state = tmp_path / "acct.sqlite"
    s = await start_multi(okx_config(okx), ["sim", "okx"], state, wait_for=(OKX_PERP, SIM_PERP))
    report = await s.desk.send_ticket(OrderRequest(OKX_PERP, "buy", "market", 3.0))
    assert not report.refused
    assert await until(lambda: s.snap().accounts["okx"].position(OKX_PERP) is not None)
    before = {v: sorted((p.symbol, p.contracts) for p in a.positions)
              for v, a in s.snap().accounts.items()}
    cash = {v: sorted((b.currency, b.total) for b in a.balances)
            for v, a in s.snap().accounts.items()}
    await s.stop()
    assert (tmp_path / "acct-sim.sqlite").exists() and (tmp_path / "acct-okx.sqlite").exists()

    again = await start_multi(okx_config(okx), ["sim", "okx"], state,
                              wait_for=(OKX_PERP, SIM_PERP))
    try:
        after = {v: sorted((p.symbol, p.contracts) for p in a.positions)
                 for v, a in again.snap().accounts.items()}
        assert after == before
        assert {v: sorted((b.currency, b.total) for b in a.balances)
                for v, a in again.snap().accounts.items()} == cash
        assert any("sim: paper account restored" in n for n in again.rt.notes)
        assert any("okx: paper account restored" in n for n in again.rt.notes)
        # each journal kept its own orders: the OKX order is in OKX's journal only
        assert [o.symbol for o in again.rt.journal.journals["okx"].orders()] == [OKX_PERP]
    finally:
        await again.stop()


# -- two local fakes -----------------------------------------------------------------------

async def test_two_fake_venues_sum_to_the_combined_book(okx, tmp_path, monkeypatch):
    """OKX (a linear USDT perp) and Deribit (the inverse BTC-PERPETUAL), both paper on
    their local fakes: an order on each lands on its own account and in its own
    journal; the combined margin and the BTC delta are the sums of the two accounts
    computed alone."""
    from tests.venues.fakevenue_deribit import SYMBOL as DERIBIT_SYMBOL
    from tests.venues.fakevenue_deribit import FakeDeribit

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    deribit = await FakeDeribit().start()
    dcfg = deribit.cfg()
    config = okx_config(okx).model_copy(update={"venues": {
        **okx_config(okx).venues,
        "deribit": VenueConfig(symbols=dcfg.symbols, rest_url=dcfg.rest_url,
                               ws_url=dcfg.ws_url)}})
    d_perp = f"{DERIBIT_SYMBOL}@deribit"
    s = await start_multi(config, ["okx", "deribit"], tmp_path / "acct.sqlite",
                          wait_for=(OKX_PERP, d_perp))
    try:
        a = await s.desk.send_ticket(OrderRequest(OKX_PERP, "buy", "market", 5.0))
        b = await s.desk.send_ticket(OrderRequest(d_perp, "sell", "market", 20.0))
        assert not a.refused and not b.refused, (a.error, b.error)
        assert await until(lambda: s.snap().accounts["okx"].position(OKX_PERP) is not None
                           and s.snap().accounts["deribit"].position(d_perp) is not None)
        snap = s.snap()
        alone = {v: br.account() for v, br in s.rt.broker.brokers.items()}
        for name in ("equity_usd", "initial_margin_usd", "maintenance_margin_usd"):
            assert getattr(snap.account, name) == pytest.approx(
                sum(getattr(x, name) for x in alone.values()), rel=1e-9, abs=1e-6), name
        # the BTC delta: the sum of each account's own Greeks view
        def btc_delta(acct):
            view = greeks_view(snap.__class__(**{**{f: getattr(snap, f)
                                                    for f in snap.__slots__},
                                                 "account": acct}))
            return next(t.delta_usd for t in view.totals if t.is_total and t.underlying == "BTC")

        assert btc_delta(snap.account) == pytest.approx(
            sum(btc_delta(x) for x in snap.accounts.values()), rel=1e-9)
        assert [o.symbol for o in s.rt.journal.journals["okx"].orders()] == [OKX_PERP]
        assert [o.symbol for o in s.rt.journal.journals["deribit"].orders()] == [d_perp]
        assert {"okx", "deribit"} <= set(snap.venues)
    finally:
        await s.stop()
        await deribit.close()
