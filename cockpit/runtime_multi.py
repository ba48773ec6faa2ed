"""Several venues in one session (``--venue sim --venue okx``, README "Several venues").

Each venue is its own account — paper, or live with ``--live`` / ``live = true`` in
its ``[venues.NAME]`` — with its own feed, its own journal and its own risk gate;
one Store holds them all (``Store.multi``: ``Snapshot.accounts`` by venue,
``Snapshot.account`` their sum). ``sim`` names the built-in market as a venue; beside
real venues it runs at acceleration 1 so its clock keeps wall time with theirs.

Keys are venue-qualified (``BTC/USDT:USDT@okx``; see ``cockpit.venues.router``), so a
multi-venue paper account is not the single-venue one: its state file is
``multi-VENUE.sqlite`` in the data directory, or ``--state PATH`` with ``-VENUE``
before the suffix (``acct.sqlite`` -> ``acct-okx.sqlite``), each with its journal
beside it. A live venue's journal is ``live-VENUE.journal.sqlite`` as alone.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from pathlib import Path

from cockpit.accounts import with_mode
from cockpit.config import Config, VenueConfig
from cockpit.journal_router import JournalRouter
from cockpit.runtime import (
    PAPER_BALANCES,
    Runtime,
    RuntimeError_,
    _reset,
    data_dir,
    open_journal,
)
from cockpit.store import Store
from cockpit.venue_gates import VenueGates
from cockpit.venues.base import Broker, MarketFeed
from cockpit.venues.router import NativeBroker, QualifyingSink, Router, VenueListener, qualify

SIM = "sim"


@dataclass
class VenuePart:
    """One venue of the session: its feed, its broker (speaking qualified keys)."""

    name: str
    mode: str  # paper | live
    feed: MarketFeed
    broker: Broker
    state_path: Path | None


class MultiFeed(MarketFeed):
    """Every venue's feed, each through its :class:`QualifyingSink`, into one Store."""

    websocket = True

    def __init__(self, parts: dict[str, MarketFeed], clock=None) -> None:
        self.parts = parts
        self.venue = "+".join(parts)
        self._clock = clock

    def now_ms(self) -> int:
        return self._clock() if self._clock else int(time.time() * 1000)

    async def run(self, sink) -> None:
        await asyncio.gather(*(feed.run(QualifyingSink(name, sink))
                               for name, feed in self.parts.items()))


def state_for(venue: str, state: Path | None) -> Path:
    if state is None:
        return data_dir() / f"multi-{venue}.sqlite"
    state = Path(state)
    return state.with_name(f"{state.stem}-{venue}{state.suffix or '.sqlite'}")


def _paper(store: Store, name: str, state: Path | None, config: Config, instruments=()):
    from cockpit.paper import PaperBroker

    def on_account(account) -> None:
        store.on_account(with_mode(account, "paper"))

    try:
        broker = PaperBroker(instruments, state_path=state, clock=store.clock, venue=name,
                             on_account=on_account,
                             max_book_age_s=config.data.max_book_age_s,
                             max_jump_pct=config.data.max_jump_pct)
    except ValueError as exc:
        raise RuntimeError_(str(exc)) from None
    store.add_market_listener(VenueListener(name, broker))
    broker.push_account = lambda: on_account(broker.account())
    return broker


def _sim_part(store: Store, args, config: Config, state: Path | None, notes: list[str]):
    from cockpit.demo import DEMO_BALANCES, demo_positions
    from cockpit.venues.sim import SimFeed, SimMarket, dispatch

    demo = config.demo
    seed = getattr(args, "seed", None)
    tick_hz = getattr(args, "tick_hz", None)
    market = SimMarket(seed=demo.seed if seed is None else seed,
                       tick_hz=demo.tick_hz if tick_hz is None else tick_hz,
                       acceleration=1.0, start_ms=getattr(args, "start_ms", None))
    feed = SimFeed(market)
    store.clock = feed.now_ms  # the built-in market's clock (wall time at acceleration 1)
    instruments = market.instruments()
    q = QualifyingSink(SIM, store)
    broker = _paper(store, SIM, state, config,
                    [replace(i, symbol=qualify(i.symbol, SIM), venue=SIM) for i in instruments])
    q.on_instruments(instruments)
    for bars in market.bars():
        q.on_bars(bars)
    dispatch(q, market.full_update())
    seeded = [(qualify(s, SIM), n, p) for s, n, p in demo_positions(market)]
    if broker.seed(dict(DEMO_BALANCES), seeded):
        notes.append("sim: demo account seeded (BTC perp long, ETH perp short, BTC options)")
    else:
        notes.append(f"sim: paper account restored from {state}")
    broker.push_account()
    return VenuePart(SIM, "paper", feed, broker, state)


def _venue_part(store: Store, name: str, args, config: Config, state: Path | None,
                notes: list[str]) -> VenuePart:
    from cockpit.venues.registry import make_broker, make_feed

    cfg = config.venues.get(name) or VenueConfig()
    feed = make_feed(name, cfg)
    if (args.live or cfg.live) and not args.paper:
        from cockpit.keys import CredentialsError, install_redaction, load_credentials

        try:
            creds = load_credentials(name, cfg, config_path=config.path)
        except CredentialsError as exc:
            raise RuntimeError_(str(exc)) from None
        install_redaction(creds)
        broker = make_broker(name, cfg, creds)
        feed.dead_man_status = broker.dead_man_status  # the status bar shows the switch
        notes.append(f"LIVE on {name}: orders for {name} go to your account")
        return VenuePart(name, "live", feed, NativeBroker(name, broker), None)
    broker = _paper(store, name, state, config)
    if broker.seed(dict(PAPER_BALANCES), []):
        notes.append(f"{name}: paper account opened with {PAPER_BALANCES['USDT']:,.0f} USDT")
    else:
        notes.append(f"{name}: paper account restored from {state}")
    broker.push_account()
    return VenuePart(name, "paper", feed, broker, state)


def build_multi(args, config: Config) -> Runtime:
    """The session of ``args.venues`` (two or more names; ``sim`` = the built-in market)."""
    names = list(args.venues)
    if len(set(names)) != len(names):
        raise RuntimeError_("--venue: a venue is named twice; name each venue once")
    store = Store(mode="paper", max_jump_pct=config.data.max_jump_pct)
    store.multi = True
    notes: list[str] = []
    parts: dict[str, VenuePart] = {}
    for name in names:
        state = state_for(name, args.state)
        live = name != SIM and (args.live or (config.venues.get(name) or VenueConfig()).live) \
            and not args.paper
        if args.reset and not live:
            _reset(state)
        if name == SIM:
            parts[name] = _sim_part(store, args, config, state, notes)
        else:
            parts[name] = _venue_part(store, name, args, config, state, notes)
    mode = "live" if any(p.mode == "live" for p in parts.values()) else "paper"
    store.mode = mode
    journals = {n: open_journal(p.mode, n, p.state_path) for n, p in parts.items()}
    notes.insert(0, "venues: " + ", ".join(f"{n} ({p.mode})" for n, p in parts.items()))
    return Runtime(
        mode, "+".join(names), config, store,
        MultiFeed({n: p.feed for n, p in parts.items()}, clock=store.clock),
        Router({n: p.broker for n, p in parts.items()}),
        parts[names[0]].state_path, notes, journal=JournalRouter(journals),
        gate=VenueGates(config.risk, config.sizing, names), parts=parts,
    )
