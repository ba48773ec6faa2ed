"""Command line: ``cockpit`` (the app) and the subcommands of :data:`SUBCOMMANDS`
(``cockpit size``, ``cockpit journal``, ``cockpit record``, ``cockpit serve``).

Every user error ends in one line on stderr and exit code 2, never a traceback.
Everything the trader typed is checked before anything starts (no screen is drawn
for a bad flag): numbers against the config's own limits, paths for what they are
(a directory, read-only, under a file, another program's database). An unexpected
error is one line too, pointing at the log; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import textwrap
from functools import partial
from pathlib import Path

from cockpit.config import ConfigError, DemoConfig, check_theme, load_config

VENUES = ("deribit", "binanceusdm", "bybit", "okx")

# Every subcommand: its one line in ``cockpit --help`` and the function it runs
# ("module:function", given the arguments after the command's name). ``_main``
# dispatches through this table only, so a command cannot exist without its line.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "size": ("run the sizing policy once, headless, and print each decision",
             "cockpit.size_cmd:run"),
    "journal": ("what the cockpit did and why (journal why ID: one execution)",
                "cockpit.journal_cmd:run"),
    "record": ("write a venue's public feed to a file, to play with --replay",
               "cockpit.cli:_record"),
    "serve": ("the same cockpit in a browser tab (textual-serve, 127.0.0.1)",
              "cockpit.serve:run"),
}

DESCRIPTION = (
    "A terminal cockpit for crypto-derivatives traders: margin health, Greeks and "
    "order-book liquidity live, and a sizing engine whose suggestions you approve "
    "with one key. Without a command it runs the cockpit on the built-in demo market, "
    "on a venue's public data (--venue NAME, paper trading unless --live) or on a "
    "recording (--replay FILE)."
)


def _help_epilog() -> str:
    width = max(len(name) for name in SUBCOMMANDS) + len("cockpit ") + 2
    lines = [f"  {'cockpit ' + name:<{width}}{line}" for name, (line, _) in SUBCOMMANDS.items()]
    return "commands (each has its own --help):\n" + "\n".join(lines)


class _VenueAction(argparse.Action):
    """``--venue`` may be given more than once (several venues in one session):
    ``args.venues`` lists them in order, ``args.venue`` is the first (one venue: as before)."""

    def __call__(self, parser, namespace, value, option_string=None):
        venues = list(getattr(namespace, "venues", None) or [])
        if value in venues:
            parser.error(f"--venue {value} given twice; name each venue once")
        namespace.venues = [*venues, value]
        namespace.venue = namespace.venues[0]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2 (argparse prints usage too)
        self.exit(2, f"cockpit: {message}; see cockpit --help\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="cockpit", description=textwrap.fill(DESCRIPTION, 78),
                epilog=_help_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", type=Path, help="TOML config (default: user config dir)")
    p.add_argument("--state", type=Path, help="SQLite file for the paper account")
    p.add_argument("--seed", type=int, help="built-in market seed (default from [demo])")
    p.add_argument("--tick-hz", type=float, help="built-in market updates per second")
    p.add_argument("--acceleration", type=float, help="built-in market time acceleration")
    p.add_argument("--reset", action="store_true", help="start the paper account afresh")
    p.add_argument("--venue", choices=(*VENUES, "sim"), action=_VenueAction,
                   help="a real venue's public data (sim = the built-in market); give it "
                   "more than once for several venues in one session")
    p.set_defaults(venues=[])
    p.add_argument("--symbols", metavar="A,B", help="the venue's symbols (ccxt unified), "
                   "replacing its defaults and config; +A,B adds them instead")
    p.add_argument("--paper", action="store_true", help="paper trading (the default)")
    p.add_argument("--live", action="store_true", help="trade the venue account for real")
    p.add_argument("--replay", type=Path, help="play back a recording")
    p.add_argument("--speed", type=float, default=1.0, help="replay speed (0 = as fast as possible)")
    p.add_argument("--theme", help="dark, light or high-contrast")
    p.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    return p


def _error(message: str) -> int:
    from cockpit.keys import redact

    print(f"cockpit: {redact(message)}", file=sys.stderr)
    return 2


_DEMO_FLAGS = {"seed": "--seed", "tick_hz": "--tick-hz", "acceleration": "--acceleration"}


def demo_flag_problem(args, config) -> str | None:
    """--seed / --tick-hz / --acceleration checked against the same limits as the
    config's [demo] section (a feed at 1e6 ticks a second dies; the screen would
    still say fresh)."""
    from pydantic import ValidationError

    given = {k: getattr(args, k, None) for k in _DEMO_FLAGS}
    given = {k: v for k, v in given.items() if v is not None}
    if not given:
        return None
    try:
        DemoConfig.model_validate({**config.demo.model_dump(), **given})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0])
        msg = err["msg"].lower()
        return (f"{_DEMO_FLAGS[field]} {given[field]!r}: {msg} (the limits of [demo] "
                f"{field}); give a value in range")
    return None


def path_problem(flag: str, path: Path, *, must_exist: bool) -> str | None:
    """A file to read (``must_exist``) or to create: one line saying what is wrong."""
    if must_exist:
        if not path.exists():
            return f"{flag} {path}: no such file; check the path"
        if path.is_dir():
            return f"{flag} {path}: is a directory; give a file"
        if not os.access(path, os.R_OK):
            return f"{flag} {path}: not readable; check its permissions"
        return None
    if path.exists() or path.is_symlink():
        what = "a directory" if path.is_dir() else "an existing file"
        return f"{flag} {path}: is {what}; give a new file name (nothing is overwritten)"
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return f"{flag} {path}: {parent} is a file, not a directory; choose another path"
    if not os.access(parent, os.W_OK) or not parent.stat().st_mode & 0o200:
        return f"{flag} {path}: directory {parent} is not writable; choose another path"
    return None


def check_args(args, config) -> str | None:
    """Every flag of the app checked before anything starts; the problem, or None."""
    if args.live and args.paper:
        return "--live and --paper exclude each other; choose one"
    real = [v for v in (getattr(args, "venues", None) or [args.venue]) if v and v != "sim"]
    if args.live and not real:
        return "--live needs a venue: add --venue NAME (deribit, binanceusdm, bybit, okx)"
    if args.replay and args.venue:
        return "--replay plays a file; drop --venue"
    if getattr(args, "symbols", None) is not None and (problem := _symbols_problem(args)):
        return problem
    if args.theme is not None and (problem := check_theme(args.theme)):
        return f"--theme {args.theme}: {problem}"
    if problem := demo_flag_problem(args, config):
        return problem
    if not (math.isfinite(args.speed) and 0 <= args.speed <= 1e6):
        return (f"--speed {args.speed:g}: give a speed between 0 (as fast as possible) and "
                "1e6; 1 plays in recorded time")
    if args.replay and (problem := path_problem("--replay", args.replay, must_exist=True)):
        return problem
    if args.state is not None:
        from cockpit.paper.storage import account_file_problem

        if problem := account_file_problem(args.state):
            return problem
    return None


def _symbols_problem(args) -> str | None:
    if not args.venue:
        return "--symbols chooses a venue's instruments: add --venue NAME"
    venues = getattr(args, "venues", None) or [args.venue]
    if len(venues) > 1:  # which venue's list would it be? the config says it per venue
        return ("--symbols chooses one venue's instruments; with several venues set "
                "symbols = [...] under each [venues.NAME] in the config")
    if args.venue == "sim":
        return "--symbols chooses a venue's instruments; the built-in market has its own"
    from cockpit.venues.defaults import symbols_flag_problem

    return symbols_flag_problem(args.symbols)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    try:
        return _main(argv)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # never a traceback on the trader's terminal, unless asked
        if debug:
            raise
        import logging

        where = setup_logging()  # the traceback goes to the log file, never the terminal
        if where is not None:
            logging.getLogger("cockpit").error("unexpected error", exc_info=exc)
        return _unexpected(exc, where)


def _crash_line(exc: BaseException, where: Path | None) -> str:
    """One line for an unexpected error: its type and first line, where the log is."""
    from cockpit.keys import redact

    text = redact(str(exc).splitlines()[0][:200]) if str(exc) else ""
    log = f"; details in {where}" if where else ""
    return (f"cockpit: unexpected error {type(exc).__name__}{': ' + text if text else ''}"
            f"{log}; run with --debug for the traceback")


def _unexpected(exc: Exception, where: Path | None) -> int:
    print(_crash_line(exc, where), file=sys.stderr)
    return 1  # a bug, not the trader's input: not the usage code 2


def _main(argv: list[str]) -> int:
    if argv and argv[0] in SUBCOMMANDS:
        import importlib

        module, function = SUBCOMMANDS[argv[0]][1].split(":")
        return getattr(importlib.import_module(module), function)(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        return _error(str(exc))
    if problem := check_args(args, config):
        return _error(problem)
    if config.engine.forecast_process:
        from cockpit.forecast_worker import prestart

        prestart()  # its ~1 s of imports (arch) run beside ours, on the other core
    from cockpit.runtime import RuntimeError_, build_runtime

    log_path = setup_logging()  # before anything logs: the last-resort handler prints to stderr
    try:
        runtime = build_runtime(args, config)
    except RuntimeError_ as exc:
        return _error(str(exc))
    from cockpit.app import CockpitApp
    from cockpit.terminal_watch import close_on_hang_up

    app = CockpitApp(runtime, theme=args.theme)
    app.crash_line = None if args.debug else partial(_crash_line, where=log_path)
    close_on_hang_up(app)  # a closed window or a dropped ssh session closes it as q does
    return run_app(app)


def run_app(app) -> int:
    """Run the App on this terminal until it exits; its exit code. (benchmarks/bench_app.py
    runs the command line's whole start with this replaced by a headless run.)"""
    app.run()
    return app.return_code or 0


def setup_logging() -> Path | None:
    """Log to a file in the user log directory (never to the terminal the
    screen is drawn on), with known secrets redacted from every record."""
    import logging

    from platformdirs import user_log_path

    from cockpit.keys import install_redaction

    root = logging.getLogger()
    for h in root.handlers:  # once per process
        if isinstance(h, logging.FileHandler) and getattr(h, "cockpit_log", False):
            return Path(h.baseFilename)
    try:
        path = user_log_path("cockpit") / "cockpit.log"
        # owner-only: the log names the account, its orders and venue replies
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        os.chmod(path, 0o600)  # an older log created 0644 is tightened too
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return None
    handler.cockpit_log = True
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
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
    if problem := path_problem("--out", args.out, must_exist=False):
        return _error(problem)
    if args.seconds is not None and not (math.isfinite(args.seconds) and args.seconds > 0):
        return _error(f"--seconds {args.seconds!r}: must be a positive number of seconds; "
                      "drop it to record until Ctrl-C")
    if bad := [s for s in args.symbols if not s.strip() or "/" not in s]:
        return _error(f"--symbols {bad[0]!r}: use ccxt's unified form, e.g. BTC/USDT:USDT")
    setup_logging()
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
