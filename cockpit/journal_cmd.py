"""``cockpit journal``: read what the cockpit did and why, from the account's journal.

Usage::

    cockpit journal [ACCOUNT] [--since WHEN] [--kind K ...] [--execution ID]
                    [--limit N] [--json | --csv]
    cockpit journal why ID [ACCOUNT] [--json | --csv]

ACCOUNT is the same flags the cockpit starts with (``--config``, ``--state``,
``--venue``, ``--paper`` / ``--live``, ``--replay``): with them the command reads the
journal of the account the cockpit would open (demo: beside ``demo.sqlite`` in the
user data directory; paper: beside ``paper-VENUE.sqlite``; live:
``live-VENUE.journal.sqlite``), or ``--account FILE`` names a journal file directly.

- ``--since``: an ISO date or time in UTC (``2026-12-03``, ``2026-12-03T08:30``) or a
  span back from now on the wall clock (``90s``, ``15m``, ``2h``, ``1d``, ``1w``),
  compared with each record's data time (the time shown).
- ``--kind``: repeatable or comma-separated (``--kind order,fill``).
- ``--limit N``: the newest N records that match.
- ``--json``: one JSON object per line (keys ``seq ts_ms wall_ms kind text execution_id
  symbol client_order_id side amount price who reason data``); ``--csv``: a header and rows.
- ``why ID``: the chain from the engine run to the fills for an execution id (or a client
  order id or fill id; an id shortened on screen with ``…`` works when it is unambiguous).

The journal is opened read-only: nothing is created or changed. Exit codes: 0 done,
1 ``why`` found nothing for the id, 2 a usage error (bad flag, no journal yet, a file
that is not a journal), always as one line on stderr.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sqlite3
import sys
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cockpit.journal import KINDS, Journal, JournalError, Record, journal_path
from cockpit.utc import utc_time

__all__ = ["UsageError", "parse_since", "run"]

_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_SPAN_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_CSV_COLUMNS = ("time_utc", "seq", "ts_ms", "wall_ms", "kind", "execution_id", "symbol",
                "client_order_id", "side", "amount", "price", "who", "reason", "text", "data")
_ID_WIDTH = 14


class UsageError(Exception):
    """A bad flag or account, phrased as the one line to show."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not argparse's usage block
        raise UsageError(f"{message}; see {self.prog} --help")


def _parser(why: bool) -> argparse.ArgumentParser:
    from cockpit.cli import VENUES

    p = _Parser(prog="cockpit journal why" if why else "cockpit journal",
                description=__doc__.splitlines()[0], epilog="see also: cockpit journal why ID")
    if why:
        p.add_argument("ident", metavar="ID", help="execution id, client order id or fill id")
    p.add_argument("--config", type=Path, help="TOML config (default: user config dir)")
    p.add_argument("--state", type=Path, help="the paper account's SQLite file")
    p.add_argument("--venue", choices=VENUES, help="the venue's account")
    p.add_argument("--paper", action="store_true", help="the venue's paper account")
    p.add_argument("--live", action="store_true", help="the venue's live account")
    p.add_argument("--replay", type=Path, help="a replay's account (needs --state)")
    p.add_argument("--account", type=Path, help="a journal file (*.journal.sqlite)")
    if not why:
        p.add_argument("--since", help="ISO date/time (UTC) or 15m, 2h, 1d back from now")
        p.add_argument("--kind", action="append", help="record kinds: " + ", ".join(KINDS))
        p.add_argument("--execution", metavar="ID", help="one execution's records")
        p.add_argument("--limit", type=int, metavar="N", help="the newest N records")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="one JSON object per line")
    out.add_argument("--csv", action="store_true", help="CSV with a header")
    return p


# -- which journal ---------------------------------------------------------------------

def account_path(args: argparse.Namespace) -> Path:
    """The journal file the flags name, mirroring :func:`cockpit.runtime.build_runtime`'s
    choice of account (without creating the data directory)."""
    if args.account is not None:
        others = [f for f in ("state", "venue", "replay") if getattr(args, f)]
        others += [f for f in ("paper", "live") if getattr(args, f)]
        if others:
            raise UsageError(f"--account names the journal file; drop --{others[0]}")
        return args.account
    from platformdirs import user_data_path

    from cockpit.config import ConfigError, VenueConfig, load_config

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    if args.live and args.paper:
        raise UsageError("--live and --paper exclude each other; choose one")
    if args.live and not args.venue:
        raise UsageError("--live needs --venue NAME (deribit, binanceusdm, bybit, okx)")
    if args.replay and args.venue:
        raise UsageError("--replay plays a file; drop --venue")
    base = user_data_path("cockpit")
    if args.replay:
        mode, venue, state = "replay", "replay", args.state
    elif args.venue:
        cfg = config.venues.get(args.venue) or VenueConfig()
        live = (args.live or cfg.live) and not args.paper
        mode, venue = ("live" if live else "paper"), args.venue
        state = None if live else args.state or base / f"paper-{venue}.sqlite"
    else:
        mode, venue, state = "demo", "sim", args.state or base / "demo.sqlite"
    path = journal_path(mode=mode, venue=venue, state_path=state, data_dir=base)
    if path is None:
        raise UsageError("--replay without --state keeps its journal in memory, so there is "
                         "none to read; replay with --state FILE, or pass --account FILE")
    return path


def _open(args: argparse.Namespace) -> Journal:
    path = account_path(args)
    if not path.exists() and not path.is_symlink():
        hint = "check the path" if args.account else "the cockpit writes it when it runs " \
            "with these flags; or pass --account FILE"
        raise UsageError(f"no journal at {path} yet: {hint}")
    try:
        return Journal(path, readonly=True)
    except JournalError as exc:
        raise UsageError(str(exc)) from None


# -- flags -----------------------------------------------------------------------------

def parse_since(text: str, now_ms: int) -> int:
    """``--since`` as epoch ms: an ISO date/time (naive means UTC) or a span before ``now_ms``."""
    m = _SPAN.match(text)
    if m:
        return now_ms - int(float(m.group(1)) * _SPAN_MS[m.group(2)])
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--since {text!r}: use an ISO date/time in UTC (2026-12-03 or "
                         "2026-12-03T08:30) or a span back from now (15m, 2h, 1d)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def parse_kinds(values: Iterable[str] | None) -> list[str] | None:
    if not values:
        return None
    kinds = [k.strip() for v in values for k in v.split(",") if k.strip()]
    for k in kinds:
        if k not in KINDS:
            raise UsageError(f"--kind {k}: not a record kind; use one or more of "
                             f"{', '.join(KINDS)} (repeat --kind or separate with commas)")
    return kinds or None


# -- output ----------------------------------------------------------------------------

utc = utc_time  # epoch ms as ``2026-12-03 08:51:23 UTC`` (cockpit.utc, the one home)


def num(x: Any) -> str:
    """A number as a trader reads it: thousands separators, no float noise."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return "—" if x is None else str(x)
    return f"{x:,.10g}" if isinstance(x, float) else f"{x:,}"


def brief(value: Any, depth: int = 0) -> str:
    """Nested plain data on one line: ``kelly 5.1, var 3.25``."""
    if isinstance(value, Mapping):
        inner = ", ".join(f"{k} {brief(v, depth + 1)}" for k, v in value.items())
        return f"({inner})" if depth else inner
    if isinstance(value, list | tuple):
        return "[" + ", ".join(brief(v, depth + 1) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:,.6g}"
    return num(value)


def short_id(ident: str | None) -> str:
    if not ident:
        return "—"
    return ident if len(ident) <= _ID_WIDTH else ident[: _ID_WIDTH - 1] + "…"


def trade(rec: Record) -> str:
    """``BTC/USDT:USDT sell 2.5 @ 90,123.4``, from the fields a record has."""
    parts = [p for p in (rec.symbol, rec.side, num(rec.amount) if rec.amount is not None else "")
             if p]
    if rec.price is not None:
        parts += ["@", num(rec.price)]
    return " ".join(parts)


def line(rec: Record) -> str:
    """One readable line: time (UTC), kind, execution id, the trade, the text."""
    parts = [utc(rec.ts_ms), f"{rec.kind:<11}", f"{short_id(rec.execution_id):<{_ID_WIDTH}}"]
    what = trade(rec)
    if what:
        parts.append(what)
    parts.append(rec.text)
    if rec.reason and rec.reason not in rec.text:
        parts.append(f"({rec.reason})")
    return "  ".join(parts)


def print_records(records: list[Record], args: argparse.Namespace, out=None) -> None:
    out = out or sys.stdout
    if args.json:
        for rec in records:
            out.write(json.dumps(rec.as_json(), allow_nan=False) + "\n")
    elif args.csv:
        w = csv.writer(out, lineterminator="\n")
        w.writerow(_CSV_COLUMNS)
        for rec in records:
            d = rec.as_json()
            d["time_utc"] = utc(rec.ts_ms)
            d["data"] = json.dumps(d["data"], allow_nan=False)
            w.writerow(["" if d[c] is None else d[c] for c in _CSV_COLUMNS])
    else:
        for rec in records:
            out.write(printable(line(rec)) + "\n")


def why_lines(chain: list[Record]) -> list[str]:
    """The chain as a trader reads it: engine run, suggestion, decision, orders, fills."""
    lines = []
    for rec in chain:
        d, head = rec.data, f"{utc(rec.ts_ms)}  "
        if rec.kind == "engine_run":
            took = f"  took {num(d['duration_ms'])} ms" if "duration_ms" in d else ""
            refits = f"  refits {brief(d['refits'])}" if "refits" in d else ""
            lines.append(f"{head}engine run #{num(d.get('engine_seq'))}{took}{refits}")
            if d.get("forecasts"):
                lines.append(f"    forecasts  {brief(d['forecasts'])}")
        elif rec.kind == "suggestion":
            decision = f"{brief(d.get('current'))} → {brief(d.get('target'))}"
            lines.append(f"{head}suggestion  {rec.execution_id}  {rec.symbol or ''}  {decision}")
            for key in ("binding_constraint", "caps", "inputs", "reason"):
                if d.get(key) not in (None, "", {}, []):
                    lines.append(f"    {key.replace('_constraint', ''):<9}  {brief(d[key])}")
            lines.append(f"    text       {rec.text}")
        elif rec.kind in ("order", "cancel"):
            status = d.get("status", "")
            filled = f"  filled {num(d['filled'])}" if d.get("filled") else ""
            avg = f" avg {num(d['average'])}" if d.get("average") is not None else ""
            amend = d.get("amend") or {}
            was = (f"  (was {num(amend.get('from_amount'))} @ {num(amend.get('from_price'))})"
                   if amend else "")
            lines.append(f"{head}{rec.kind:<6}  {rec.client_order_id}  {trade(rec)}  "
                         f"{status}{filled}{avg}{was}" + (f"  ({rec.reason})" if rec.reason
                                                          else ""))
        elif rec.kind == "fill":
            fee = f"  fee {num(d['fee'])}" if d.get("fee") is not None else ""
            lines.append(f"{head}fill    {rec.client_order_id or '—'}  {trade(rec)}{fee}"
                         f"  (fill {d.get('fill_id', '—')})")
        else:
            who = f" by {rec.who}" if rec.who else ""
            lines.append(f"{head}{rec.kind}{who}: {rec.text}"
                         + (f"  ({rec.reason})" if rec.reason and rec.reason not in rec.text
                            else ""))
    return lines


def _expand(j: Journal, ident: str, flag: str) -> str:
    """``ident`` as typed, or the one execution id it starts (ids are shortened with … on
    screen); an ambiguous prefix is a usage error."""
    ident = ident.strip().rstrip("…").removesuffix("...")
    if not ident or j.records(execution_id=ident, limit=1):
        return ident
    ids = j.execution_ids(ident)
    if len(ids) > 1:
        raise UsageError(f"{flag} {ident}: {len(ids)} executions start so ({', '.join(ids[:3])}"
                         f"{', …' if len(ids) > 3 else ''}); give more of the id")
    return ids[0] if ids else ident


def printable(text: str) -> str:
    """One terminal-safe line: newlines, tabs and escape codes (say from a venue's error
    message) become spaces."""
    return "".join(ch if ch.isprintable() else " " for ch in text)


# -- entry ------------------------------------------------------------------------------

def _list(args: argparse.Namespace) -> int:
    since = parse_since(args.since, time.time_ns() // 1_000_000) if args.since else None
    kinds = parse_kinds(args.kind)
    if args.limit is not None and args.limit <= 0:
        raise UsageError(f"--limit {args.limit}: give a positive number of records")
    j = _open(args)
    try:
        exid = _expand(j, args.execution, "--execution") if args.execution else None
        records = j.records(since_ms=since, kinds=kinds, execution_id=exid, limit=args.limit)
    finally:
        j.close()
    print_records(records, args)
    return 0


def _why(args: argparse.Namespace) -> int:
    j = _open(args)
    try:
        chain = j.why(args.ident.strip()) or j.why(_expand(j, args.ident, "why"))
    finally:
        j.close()
    if not chain:
        print(f"cockpit journal why: no execution, order or fill {args.ident!r} in "
              f"{j.path}; list ids with: cockpit journal --kind suggestion", file=sys.stderr)
        return 1
    if args.json or args.csv:
        print_records(chain, args)
    else:
        exid = next((r.execution_id for r in chain if r.execution_id), args.ident)
        print(printable(f"why {exid}  ({j.path})"))
        print("\n".join(printable(text) for text in why_lines(chain)))
    return 0


def run(argv: list[str]) -> int:
    """Entry point for ``cockpit journal ...``; returns the exit code."""
    why = argv[:1] == ["why"]
    try:
        try:
            args = _parser(why).parse_args(argv[1:] if why else argv)
        except SystemExit as exc:  # --help
            return int(exc.code or 0)
        return _why(args) if why else _list(args)
    except (UsageError, JournalError) as exc:
        print(f"cockpit journal: {exc}", file=sys.stderr)
        return 2
    except sqlite3.Error as exc:  # e.g. a journal damaged on disk
        print(f"cockpit journal: cannot read the journal ({exc}); check the file, "
              "or pass another with --account", file=sys.stderr)
        return 2
    except BrokenPipeError:  # piped into head: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
