"""Command line: ``cockpit`` (the app), ``cockpit size`` (one headless policy run),
``cockpit record`` (write a venue's public feed to a file), ``cockpit journal``
(what the cockpit did and why, from the account's journal).

Every user error ends in one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cockpit.config import ConfigError, load_config

VENUES = ("deribit", "binanceusdm", "bybit", "okx")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2 (argparse prints usage too)
        self.exit(2, f"cockpit: {message}; see cockpit --help\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="cockpit", description=__doc__.splitlines()[0],
                epilog="other commands: cockpit size, cockpit record, cockpit journal "
                "(and cockpit journal why ID); each has --help")
    p.add_argument("--config", type=Path, help="TOML config (default: user config dir)")
    p.add_argument("--state", type=Path, help="SQLite file for the paper account")
    p.add_argument("--seed", type=int, help="built-in market seed (default from [demo])")
    p.add_argument("--tick-hz", type=float, help="built-in market updates per second")
    p.add_argument("--acceleration", type=float, help="built-in market time acceleration")
    p.add_argument("--reset", action="store_true", help="start the paper account afresh")
    p.add_argument("--venue", choices=VENUES, help="a real venue's public data")
    p.add_argument("--paper", action="store_true", help="paper trading (the default)")
    p.add_argument("--live", action="store_true", help="trade the venue account for real")
    p.add_argument("--replay", type=Path, help="play back a recording")
    p.add_argument("--speed", type=float, default=1.0, help="replay speed (0 = as fast as possible)")
    p.add_argument("--theme", help="dark, light or high-contrast")
    return p


def _error(message: str) -> int:
    print(f"cockpit: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["size"]:
        from cockpit import size_cmd

        return size_cmd.run(argv[1:])
    if argv[:1] == ["journal"]:
        from cockpit import journal_cmd

        return journal_cmd.run(argv[1:])
    if argv[:1] == ["record"]:
        return _record(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        return _error(str(exc))
    if args.live and args.paper:
        return _error("--live and --paper exclude each other; choose one")
    if args.live and not args.venue:
        return _error("--live needs --venue NAME (deribit, binanceusdm, bybit, okx)")
    if args.replay and args.venue:
        return _error("--replay plays a file; drop --venue")
    if args.theme:
        from cockpit.theming import ALIASES

        if args.theme.lower() not in {*ALIASES, "dark", "light", "high-contrast"}:
            return _error(f"--theme {args.theme}: use dark, light or high-contrast")
    if args.replay and not args.replay.exists():
        return _error(f"--replay {args.replay}: no such file")
    from cockpit.runtime import RuntimeError_, build_runtime

    try:
        runtime = build_runtime(args, config)
    except RuntimeError_ as exc:
        return _error(str(exc))
    from cockpit.app import CockpitApp

    setup_logging()
    app = CockpitApp(runtime, theme=args.theme)
    app.run()
    return app.return_code or 0


def setup_logging() -> Path | None:
    """Log to a file in the user log directory (never to the terminal the
    screen is drawn on), with known secrets redacted from every record."""
    import logging

    from platformdirs import user_log_path

    from cockpit.keys import install_redaction

    try:
        path = user_log_path("cockpit") / "cockpit.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    install_redaction([])
    return path


def _record(argv: list[str]) -> int:
    p = _Parser(prog="cockpit record", description="Record a venue's public feed to a file.")
    p.add_argument("--venue", choices=VENUES, required=True)
    p.add_argument("--symbols", nargs="+", required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seconds", type=float, default=None, help="stop after N seconds")
    p.add_argument("--config", type=Path)
    args = p.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        return _error(str(exc))
    import asyncio

    from cockpit.config import VenueConfig
    from cockpit.venues.recorder import record
    from cockpit.venues.registry import make_feed

    cfg = config.venues.get(args.venue) or VenueConfig()
    cfg = cfg.model_copy(update={"symbols": tuple(args.symbols)})
    feed = make_feed(args.venue, cfg)
    try:
        asyncio.run(record(args.venue, args.symbols, args.out, seconds=args.seconds, feed=feed))
    except KeyboardInterrupt:
        pass
    return 0
