"""Assemble one running cockpit from the two axes of DESIGN.md: a MarketFeed and a Broker.

| mode   | feed                  | broker                         |
|--------|-----------------------|--------------------------------|
| demo   | built-in market (sim) | paper                          |
| paper  | a venue's public data | paper                          |
| live   | a venue's public data | the venue's private API (ccxt) |
| replay | a recording on disk   | paper                          |

The demo path imports neither ccxt nor arch (start-up stays light).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from cockpit.config import Config, VenueConfig
from cockpit.journal import Journal, JournalError, journal_path
from cockpit.store import Store
from cockpit.venues.base import Broker, MarketFeed

log = logging.getLogger("cockpit.runtime")


PAPER_BALANCES = {"USDT": 100_000.0}  # a fresh paper account on a real market


class RuntimeError_(Exception):
    """A start-up problem phrased as one line for the trader."""


@dataclass
class Runtime:
    mode: str  # demo | paper | live | replay
    venue: str
    config: Config
    store: Store
    feed: MarketFeed
    broker: Broker
    state_path: Path | None
    notes: list[str] = field(default_factory=list)  # shown in the event log at start
    journal: Journal | None = None  # the account's journal (in memory when None is given)
    gate: object | None = None  # several venues: one risk gate per venue (cockpit.venue_gates)
    parts: dict = field(default_factory=dict)  # several venues: name -> VenuePart

    def __post_init__(self) -> None:
        if self.journal is None:
            self.journal = open_journal(self.mode, self.venue, self.state_path)


def data_dir() -> Path:
    """The user data directory (paper accounts), created owner-only (0700)."""
    from platformdirs import user_data_path

    path = user_data_path("cockpit")
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise RuntimeError_(f"data directory {path}: cannot create it ({exc.strerror}); "
                            "set XDG_DATA_HOME or pass --state PATH") from None
    return path


def open_journal(mode: str, venue: str, state_path: Path | None) -> Journal:
    """The account's journal: beside its state file, in the data dir for a live
    account, in memory for a throwaway one (``state_path=None`` outside live)."""
    if state_path is None and mode != "live":
        path = None
    else:
        state_path = None if state_path is None else Path(state_path)
        path = journal_path(mode=mode, venue=venue, state_path=state_path,
                            data_dir=data_dir() if state_path is None else state_path.parent)
    try:
        return Journal(path)
    except JournalError as exc:
        raise RuntimeError_(str(exc)) from None


def _paper_broker(store: Store, feed: MarketFeed, state_path: Path | None, instruments=(),
                  config: Config | None = None, age_scale: float = 1.0):
    """``age_scale``: data seconds per wall second (the demo's acceleration), so
    ``[data] max_book_age_s`` means the same silence however fast the market runs."""
    from cockpit.paper import PaperBroker

    data = (config or Config()).data
    store.set_max_jump_pct(data.max_jump_pct)
    try:
        broker = PaperBroker(
            instruments, state_path=state_path, clock=feed.now_ms, on_account=store.on_account,
            max_book_age_s=data.max_book_age_s * max(age_scale, 1.0),
            max_jump_pct=data.max_jump_pct,
        )
    except ValueError as exc:  # the storage's one line names --state and the fix
        raise RuntimeError_(str(exc)) from None
    store.add_market_listener(broker)
    return broker


def _reset(path: Path | None) -> None:
    """Start an account afresh: its state file (see ``storage.delete_account``) and
    its journal go."""
    if path is None:
        return
    from cockpit.paper.storage import StateFileError, delete_account

    try:
        delete_account(path)
    except StateFileError as exc:
        raise RuntimeError_(str(exc)) from None
    journal = journal_path(mode="paper", venue="", state_path=Path(path), data_dir=Path(path).parent)
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(journal) + suffix)
        if p.exists():
            p.unlink()


def build_demo(config: Config, *, seed=None, tick_hz=None, acceleration=None,
               state_path: Path | None = None, reset: bool = False,
               start_ms: int | None = None) -> Runtime:
    """The built-in market with the seeded paper account (``state_path=None``: in memory)."""
    from cockpit.demo import DEMO_BALANCES, demo_positions
    from cockpit.venues.sim import SimFeed, SimMarket, dispatch

    demo = config.demo
    market = SimMarket(
        seed=demo.seed if seed is None else seed,
        tick_hz=demo.tick_hz if tick_hz is None else tick_hz,
        acceleration=demo.acceleration if acceleration is None else acceleration,
        start_ms=start_ms,
    )
    feed = SimFeed(market)
    store = Store(mode="demo", clock=feed.now_ms, time_scale=market.acceleration,
                  max_jump_pct=config.data.max_jump_pct)
    if reset:
        _reset(state_path)
    broker = _paper_broker(store, feed, state_path, market.instruments(), config,
                           age_scale=market.acceleration)
    # Prime the store so the first frame has prices, books and history.
    store.on_instruments(market.instruments())
    for bars in market.bars():
        store.on_bars(bars)
    dispatch(store, market.full_update())
    notes = []
    if broker.seed(dict(DEMO_BALANCES), demo_positions(market)):
        notes.append("demo account seeded: BTC perp long, ETH perp short, BTC short strangle, long call")
    else:
        notes.append(f"paper account restored from {state_path}")
    store.on_account(broker.account())
    return Runtime("demo", "sim", config, store, feed, broker, state_path, notes)


def build_runtime(args, config: Config) -> Runtime:
    """From parsed CLI arguments; raises :class:`RuntimeError_` with one line on a bad set-up.
    A config holding keys that others can read is warned about in the event log."""
    from cockpit.keys import exposed_keys_warning

    runtime = _build_runtime(args, config)
    if warning := exposed_keys_warning(config):
        log.warning("%s", warning)
        runtime.notes.insert(0, warning)
    return runtime


def venue_config(config: Config, venue: str, symbols_flag: str | None = None) -> VenueConfig:
    """``[venues.NAME]`` (defaults when absent) with ``--symbols`` applied: no symbols
    left means the venue's defaults (``cockpit.venues.defaults``)."""
    from cockpit.venues.defaults import with_symbols_flag

    cfg = config.venues.get(venue) or VenueConfig()
    if symbols_flag is None:
        return cfg
    return cfg.model_copy(update={"symbols": with_symbols_flag(cfg.symbols, symbols_flag)})


def _build_runtime(args, config: Config) -> Runtime:
    if len(getattr(args, "venues", None) or ()) > 1:
        from cockpit.runtime_multi import build_multi

        return build_multi(args, config)
    if args.venue == "sim":  # the built-in market named as a venue: the demo
        args.venue = None
    if args.replay:
        from cockpit.venues.replay import ReplayFeed

        try:
            feed = ReplayFeed(args.replay, speed=args.speed)
        except (ValueError, OSError) as exc:
            raise RuntimeError_(f"--replay: {exc}") from None
        store = Store(mode="replay", clock=feed.now_ms, max_jump_pct=config.data.max_jump_pct,
                      time_scale=args.speed if args.speed and args.speed > 0 else 1.0)
        state = args.state  # replay is throwaway unless asked
        if args.reset:
            _reset(state)
        broker = _paper_broker(store, feed, state, config=config)
        notes = [f"replaying {args.replay} at {'full speed' if not args.speed else f'{args.speed:g}x'}"]
        if broker.seed(dict(PAPER_BALANCES), []):
            notes.append(f"paper account opened with {PAPER_BALANCES['USDT']:,.0f} USDT")
        store.on_account(broker.account())
        venue = getattr(feed, "venue", "replay")
        return Runtime("replay", venue, config, store, feed, broker, state, notes)
    if args.venue:
        from cockpit.venues.registry import make_broker, make_feed

        cfg = venue_config(config, args.venue, getattr(args, "symbols", None))
        feed = make_feed(args.venue, cfg)
        live = args.live or cfg.live
        mode = "live" if live and not args.paper else "paper"
        store = Store(mode=mode, clock=feed.now_ms, max_jump_pct=config.data.max_jump_pct)
        if mode == "live":
            from cockpit.keys import CredentialsError, install_redaction, load_credentials

            try:
                creds = load_credentials(args.venue, cfg, config_path=config.path)
            except CredentialsError as exc:
                raise RuntimeError_(str(exc)) from None
            install_redaction(creds)
            broker = make_broker(args.venue, cfg, creds)
            feed.dead_man_status = broker.dead_man_status  # the status bar shows the switch
            notes = [f"LIVE on {args.venue}: orders go to your account"]
            return Runtime(mode, args.venue, config, store, feed, broker, None, notes)
        state = args.state or data_dir() / f"paper-{args.venue}.sqlite"
        if args.reset:
            _reset(state)
        broker = _paper_broker(store, feed, state, config=config)
        notes = []
        if broker.seed(dict(PAPER_BALANCES), []):
            notes.append(f"paper account opened with {PAPER_BALANCES['USDT']:,.0f} USDT")
        store.on_account(broker.account())
        return Runtime(mode, args.venue, config, store, feed, broker, state, notes)
    state = args.state or data_dir() / "demo.sqlite"
    return build_demo(config, seed=args.seed, tick_hz=args.tick_hz,
                      acceleration=args.acceleration, state_path=state, reset=args.reset)
