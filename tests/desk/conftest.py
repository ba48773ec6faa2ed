"""A demo cockpit that can be stopped and started again on the same files.

``cockpit()`` starts one session (the demo runtime and a headless desk on
``tmp/demo.sqlite``); ``session.stop()`` closes its broker and journal without
cancelling anything, as a quit that leaves orders resting does; the next
``cockpit()`` is the restart. ``venue_while_down()`` opens the paper account on its
own, with a fresh sim market and no desk: the venue running on while the cockpit is
down (it fills and cancels, nobody journals). ``live_okx()`` does the same for a live
account on the local fake OKX (127.0.0.1 only)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sqlite3
from dataclasses import dataclass, field

import pytest

from cockpit.config import Config, VenueConfig
from cockpit.desk import Desk
from cockpit.model import OrderRequest
from cockpit.runtime import Runtime, build_demo, build_runtime

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
CONFIG = Config()


@dataclass
class Session:
    rt: Runtime
    desk: Desk
    closed: bool = field(default=False)

    @property
    def broker(self):
        return self.rt.broker

    @property
    def journal(self):
        return self.rt.journal

    def snap(self):
        return self.rt.store.snapshot()

    def lines(self, kind: str | None = None) -> list[str]:
        """The event log the trader sees (newest last)."""
        return [e.text for e in self.desk.log if kind is None or e.kind == kind]

    def bid_ask(self, symbol: str = BTC) -> tuple[float, float]:
        t = self.snap().tickers[symbol]
        return t.bid, t.ask

    def passive_buy(self, amount: float = 0.01, below_bps: float = 50.0,
                    symbol: str = BTC) -> OrderRequest:
        """A limit buy ``below_bps`` under the bid: it rests."""
        bid, _ = self.bid_ask(symbol)
        step = self.snap().instruments[symbol].price_step
        price = round(round(bid * (1 - below_bps / 1e4) / step) * step, 6)
        return OrderRequest(symbol, "buy", "limit", amount, price)

    def stop(self) -> None:
        if not self.closed:
            self.closed = True
            self.rt.broker.close()
            self.rt.journal.close()


@pytest.fixture
def state_path(tmp_path):
    return tmp_path / "demo.sqlite"


@pytest.fixture
def cockpit(state_path):
    """``cockpit(wrap=None)``: start a session; ``wrap(broker)`` may stand in front of
    the paper broker (a venue that misbehaves)."""
    sessions: list[Session] = []

    def start(wrap=None) -> Session:
        rt = build_demo(CONFIG, seed=7, state_path=state_path)
        broker = rt.broker if wrap is None else wrap(rt.broker)
        s = Session(rt, Desk(CONFIG, rt.store, broker, rt.journal))
        sessions.append(s)
        return s

    yield start
    for s in sessions:
        s.stop()


@pytest.fixture
def venue_while_down(state_path):
    """The paper account opened alone (fresh sim market, no desk, no journal writes)."""
    opened: list[Runtime] = []

    def open_() -> Runtime:
        rt = build_demo(CONFIG, seed=7, state_path=state_path)
        rt.journal.close()  # the cockpit is down: nothing is journaled
        opened.append(rt)
        return rt

    yield open_
    for rt in opened:
        with contextlib.suppress(sqlite3.ProgrammingError):  # the test closed it already
            rt.broker.close()


# -- a live account on the local fake OKX --------------------------------------------------

@dataclass
class LiveSession:
    """The live runtime (``cockpit --venue okx --live``) with its feed and account poll
    running, and a headless desk on its journal (in ``$XDG_DATA_HOME``)."""

    rt: Runtime
    desk: Desk
    tasks: list

    @property
    def broker(self):
        return self.rt.broker

    @property
    def journal(self):
        return self.rt.journal

    def lines(self, kind: str | None = None) -> list[str]:
        return [e.text for e in self.desk.log if kind is None or e.kind == kind]

    async def stop(self) -> None:
        """Stop without cancelling anything and leave the dead-man switch armed (a
        crash, as far as the venue can tell)."""
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.rt.broker.aclose(disarm_dead_man=False)
        self.rt.journal.close()


@pytest.fixture
async def live_okx_venue(monkeypatch, tmp_path):
    """``(srv, config)``: a fake OKX started on 127.0.0.1, test API keys in the
    environment, data under ``tmp_path``, and a config naming that venue; the fake is
    closed after the test (and after any fixture that uses this one)."""
    from tests.venues.fakevenue import SYMBOL, FakeOkx

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("OKX_API_KEY", "TEST-KEY-1")
    monkeypatch.setenv("OKX_SECRET", "TEST-SECRET-2")
    monkeypatch.setenv("OKX_PASSWORD", "TEST-PASS-3")
    srv = await FakeOkx(seed=5).start()
    config = Config(venues={"okx": VenueConfig(symbols=(SYMBOL,), rest_url=srv.rest_url,
                                               ws_url=srv.ws_url)})
    yield srv, config
    await srv.close()


@pytest.fixture
async def live_okx(live_okx_venue):
    """``await live_okx()`` starts a live session on one fake OKX (``live_okx.srv``);
    call it again after ``stop()`` for the restart."""
    from tests.venues.fakevenue import SYMBOL

    srv, config = live_okx_venue
    args = argparse.Namespace(replay=None, venue="okx", live=True, paper=False, state=None,
                              reset=False, speed=1.0)
    sessions: list[LiveSession] = []

    async def start() -> LiveSession:
        rt = build_runtime(args, config)
        tasks = [asyncio.ensure_future(rt.feed.run(rt.store)),
                 asyncio.ensure_future(rt.broker.run(rt.store, poll_s=0.2))]
        s = LiveSession(rt, Desk(config, rt.store, rt.broker, rt.journal, live=True), tasks)
        sessions.append(s)
        for _ in range(600):  # bounded (30 s): the first ticker, book and account
            snap = rt.store.snapshot()
            if snap.account is not None and SYMBOL in snap.tickers and SYMBOL in snap.books:
                break
            await asyncio.sleep(0.05)
        return s

    start.srv = srv
    yield start
    for s in sessions:
        if not s.tasks[0].done():
            await s.stop()
