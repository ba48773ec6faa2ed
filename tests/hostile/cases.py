"""The bad configs, flags and files a hostile user tries (issue 14), as data.

Each case is ``(name, argv, expect, setup, secrets)``: ``setup(d)`` writes the files the
case needs into its own directory ``d`` and may return a replacement argv; ``{d}`` in
argv is that directory. ``expect`` must appear in the one line on stderr (it names the
field); ``secrets`` must appear nowhere in the output.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SECRET_NUMBER = "123456789012"
SECRET_TEXT = "SENTINELSECRETabc987"


@dataclass
class Case:
    name: str
    argv: list[str]
    expect: str
    setup: Callable[[Path], None] | None = None
    secrets: tuple[str, ...] = ()
    restore: list[Path] = field(default_factory=list)  # chmod back after the run


def toml(text: str, *, encoding: str = "utf-8") -> Callable[[Path], None]:
    def setup(d: Path) -> None:
        (d / "config.toml").write_bytes(text.encode(encoding))
    return setup


def cfg(name: str, text: str, expect: str, secrets: tuple[str, ...] = ()) -> Case:
    return Case(name, ["--config", "{d}/config.toml"], expect, toml(text), secrets)


def other_app_db(d: Path, name: str = "other_app.db", app_id: int = 0) -> Path:
    path = d / name
    db = sqlite3.connect(path)
    if app_id:
        db.execute(f"PRAGMA application_id={app_id}")
    db.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
    db.execute("INSERT INTO contacts VALUES ('Ada', '555-0100')")
    db.commit()
    db.close()
    return path


def account(d: Path, name: str = "account.sqlite") -> Path:
    from cockpit.paper.storage import PaperStorage

    path = d / name
    s = PaperStorage(path)
    s.write_state(balances={"USDT": 1000.0}, meta={"seeded": "1"})
    s.close()
    Path(str(path) + ".lock").unlink()  # left by a cockpit that has exited
    return path


def _chmod(path: Path, mode: int) -> None:
    os.chmod(path, mode)


def readonly_dir(d: Path) -> None:
    (d / "ro").mkdir()
    _chmod(d / "ro", 0o555)


def readonly_dir_with_account(d: Path) -> None:
    (d / "ro").mkdir()
    account(d / "ro")
    _chmod(d / "ro", 0o555)


def readonly_account(d: Path) -> None:
    _chmod(account(d), 0o444)


def a_file(d: Path, name: str = "notes.txt", text: str = "the trader's notes\n") -> None:
    (d / name).write_text(text)


def corrupt_account(d: Path) -> None:
    """Our application id in a valid header, garbage pages after it."""
    path = account(d, "corrupt.sqlite")
    data = bytearray(path.read_bytes())
    for i in range(100, len(data)):
        data[i] = (i * 7919) % 251
    path.write_bytes(bytes(data))
    for suffix in ("-wal", "-shm", ".lock"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def not_a_recording(d: Path) -> None:
    a_file(d, "rec.jsonl", '{"hello": "world"}\n')


def good_recording(d: Path) -> None:
    import gzip
    import json

    with gzip.open(d / "rec.jsonl.gz", "wt") as f:
        f.write(json.dumps({"format": "cockpit-recording", "version": 1, "venue": "okx",
                            "symbols": [], "started_ms": 1}) + "\n")


CASES: list[Case] = [
    # -- [keymap] ------------------------------------------------------------------
    cfg("keymap approve=q", '[keymap]\napprove = "q"\n', "keymap.approve"),
    cfg("keymap approve=reject key", '[keymap]\napprove = "x"\nreject = "x"\n', "keymap.reject"),
    cfg("keymap not a key", '[keymap]\napprove = "notakey!!"\n', "keymap.approve"),
    cfg("keymap unknown id", '[keymap]\napprov = "z"\n', "keymap.approv"),
    cfg("keymap empty key", '[keymap]\napprove = ""\n', "keymap.approve"),
    cfg("keymap ctrl+c", '[keymap]\napprove = "ctrl+c"\n', "keymap.approve"),
    cfg("keymap ctrl+q", '[keymap]\nkill = "ctrl+q"\n', "keymap.kill"),
    cfg("keymap tab", '[keymap]\napprove = "tab"\n', "keymap.approve"),
    cfg("keymap palette key", '[keymap]\norder = "ctrl+p"\n', "keymap.order"),
    cfg("keymap kill on q", '[keymap]\nkill = "q"\n', "keymap.kill"),
    cfg("keymap value a number", '[keymap]\napprove = 5\n', "keymap.approve"),
    cfg("keymap not a table", 'keymap = "a"\n', "keymap"),
    cfg("keymap empty in list", '[keymap]\napprove = "a,,b"\n', "keymap.approve"),
    cfg("keymap bad modifier", '[keymap]\napprove = "hyper+a"\n', "keymap.approve"),
    cfg("keymap confirm clash", '[keymap]\n"confirm.yes" = "n"\n', "keymap.confirm.yes"),
    cfg("keymap help key", '[keymap]\napprove = "?"\n', "keymap.approve"),
    cfg("keymap quit unbound", '[keymap]\nquit = ""\n', "keymap.quit"),
    cfg("keymap space char", '[keymap]\napprove = " "\n', "keymap.approve"),
    cfg("keymap two ids one key", '[keymap]\napprove = "z"\nkill = "z"\n', "keymap.kill"),
    # -- numbers ----------------------------------------------------------------------
    cfg("max_leverage inf", "[sizing]\nmax_leverage = inf\n", "sizing.max_leverage"),
    cfg("max_leverage nan", "[sizing]\nmax_leverage = nan\n", "sizing.max_leverage"),
    cfg("max_leverage huge", "[sizing]\nmax_leverage = 1e300\n", "sizing.max_leverage"),
    cfg("drift nan", "[sizing]\ndrift_annual = nan\n", "sizing.drift_annual"),
    cfg("drift -inf", "[sizing]\ndrift_annual = -inf\n", "sizing.drift_annual"),
    cfg("tiers decreasing", "[sizing]\ndrawdown_tiers = [[0.10, 0.5], [0.05, 0.2]]\n",
        "sizing.drawdown_tiers"),
    cfg("tiers scale rising", "[sizing]\ndrawdown_tiers = [[0.05, 0.2], [0.10, 0.5]]\n",
        "sizing.drawdown_tiers"),
    cfg("tiers not pairs", "[sizing]\ndrawdown_tiers = [[0.05]]\n", "sizing.drawdown_tiers"),
    cfg("tiers drawdown 1.5", "[sizing]\ndrawdown_tiers = [[1.5, 0.5]]\n",
        "sizing.drawdown_tiers"),
    cfg("tiers scale nan", "[sizing]\ndrawdown_tiers = [[0.1, nan]]\n", "sizing.drawdown_tiers"),
    cfg("delta band inf", "[sizing]\ndelta_band_usd = inf\n", "sizing.delta_band_usd"),
    cfg("gamma limit negative", "[sizing]\ngamma_limit_usd = -1\n", "sizing.gamma_limit_usd"),
    cfg("vega limit zero", "[sizing]\nvega_limit_usd = 0\n", "sizing.vega_limit_usd"),
    cfg("target vol zero", "[sizing]\ntarget_vol = 0\n", "sizing.target_vol"),
    cfg("target vol 600 %", "[sizing]\ntarget_vol = 6\n", "sizing.target_vol"),
    cfg("kelly 3", "[sizing]\nkelly_fraction = 3\n", "sizing.kelly_fraction"),
    cfg("var limit bool", "[sizing]\nvar_limit = true\n", "sizing.var_limit"),
    cfg("var method", '[sizing]\nvar_method = "magic"\n', "sizing.var_method"),
    cfg("margin cap zero", "[sizing]\nmargin_ratio_cap = 0\n", "sizing.margin_ratio_cap"),
    cfg("buffer negative", "[sizing]\nliquidation_buffer_sigmas = -3\n",
        "sizing.liquidation_buffer_sigmas"),
    cfg("slippage nan", "[sizing]\nslippage_budget_bps = nan\n", "sizing.slippage_budget_bps"),
    cfg("adv 2", "[sizing]\nadv_fraction = 2\n", "sizing.adv_fraction"),
    cfg("no-trade band 1", "[sizing]\nno_trade_band = 1\n", "sizing.no_trade_band"),
    cfg("stale zero", "[sizing]\nstale_after_s = 0\n", "sizing.stale_after_s"),
    cfg("spike 1", "[sizing]\nvol_spike_threshold = 1\n", "sizing.vol_spike_threshold"),
    cfg("sizing number as text", '[sizing]\ntarget_vol = "fifty"\n', "sizing.target_vol"),
    cfg("interval true", "[engine]\ninterval_s = true\n", "engine.interval_s"),
    cfg("interval 0.1", "[engine]\ninterval_s = 0.1\n", "engine.interval_s"),
    cfg("interval inf", "[engine]\ninterval_s = inf\n", "engine.interval_s"),
    cfg("auto increases yes", '[engine]\nauto_execute_increases = "yes"\n',
        "engine.auto_execute_increases"),
    cfg("auto increases 1", "[engine]\nauto_execute_increases = 1\n",
        "engine.auto_execute_increases"),
    cfg("max age negative", "[engine]\nsuggestion_max_age_s = -1\n",
        "engine.suggestion_max_age_s"),
    cfg("max move nan", "[engine]\nsuggestion_max_move_bps = nan\n",
        "engine.suggestion_max_move_bps"),
    cfg("big move zero", "[engine]\nbig_move_bps = 0\n", "engine.big_move_bps"),
    cfg("theme neon", '[display]\ntheme = "neon"\n', "display.theme"),
    cfg("theme number", "[display]\ntheme = 5\n", "display.theme"),
    cfg("amber above red", "[display]\nmargin_amber = 0.9\nmargin_red = 0.8\n", "margin_amber"),
    cfg("red 1.5", "[display]\nmargin_red = 1.5\n", "display.margin_red"),
    cfg("refresh zero", "[display]\nrefresh_hz = 0\n", "display.refresh_hz"),
    cfg("refresh 1000", "[display]\nrefresh_hz = 1000\n", "display.refresh_hz"),
    cfg("demo seed -1", "[demo]\nseed = -1\n", "demo.seed"),
    cfg("demo seed 1.5", "[demo]\nseed = 1.5\n", "demo.seed"),
    cfg("demo seed true", "[demo]\nseed = true\n", "demo.seed"),
    cfg("demo tick 0", "[demo]\ntick_hz = 0\n", "demo.tick_hz"),
    cfg("demo tick 1e6", "[demo]\ntick_hz = 1e6\n", "demo.tick_hz"),
    cfg("demo acceleration 0", "[demo]\nacceleration = 0\n", "demo.acceleration"),
    cfg("demo acceleration inf", "[demo]\nacceleration = inf\n", "demo.acceleration"),
    cfg("data jump 0", "[data]\nmax_jump_pct = 0\n", "data.max_jump_pct"),
    cfg("data jump 500", "[data]\nmax_jump_pct = 500\n", "data.max_jump_pct"),
    cfg("data book age -1", "[data]\nmax_book_age_s = -1\n", "data.max_book_age_s"),
    # -- venues and secrets -------------------------------------------------------------
    cfg("api_key a number", f"[venues.okx]\napi_key = {SECRET_NUMBER}\n", "venues.okx.api_key",
        (SECRET_NUMBER,)),
    cfg("secret a list", f'[venues.okx]\nsecret = ["{SECRET_TEXT}"]\n', "venues.okx.secret",
        (SECRET_TEXT,)),
    cfg("password key unknown", f'[venues.okx]\npassword = "{SECRET_TEXT}"\n',
        "venues.okx.password", (SECRET_TEXT,)),
    cfg("api_key unterminated", f'[venues.okx]\napi_key = "{SECRET_TEXT}\n', "line",
        (SECRET_TEXT,)),
    cfg("secret table", f'[venues.okx.secret]\nx = "{SECRET_TEXT}"\n', "venues.okx.secret",
        (SECRET_TEXT,)),
    cfg("unknown venue", "[venues.kraken]\nsymbols = []\n", "kraken"),
    cfg("venue live yes", '[venues.okx]\nlive = "yes"\n', "venues.okx.live"),
    cfg("venue symbols a string", '[venues.okx]\nsymbols = "BTC"\n', "venues.okx.symbols"),
    cfg("venue sandbox 1", "[venues.okx]\nsandbox = 1\n", "venues.okx.sandbox"),
    cfg("venue keyring text", '[venues.okx]\nkeyring = "true"\n', "venues.okx.keyring"),
    cfg("venue unknown key", "[venues.okx]\nleverage = 5\n", "venues.okx.leverage"),
    cfg("unknown section", "[sizeing]\ntarget_vol = 0.5\n", "sizeing"),
    cfg("unknown sizing key", "[sizing]\ntarget_volatility = 0.5\n", "sizing.target_volatility"),
    cfg("TOML syntax", "[sizing]\ntarget_vol = \n", "line"),
    cfg("TOML duplicate key", "[sizing]\ntarget_vol = 0.5\ntarget_vol = 0.6\n", "line"),
    Case("config latin-1", ["--config", "{d}/config.toml"], "UTF-8",
         toml('[display]\ntheme = "d\u00e9mo"\n', encoding="latin-1")),
    cfg("BOM then a bad value", "\ufeff[sizing]\nkelly_fraction = 3\n", "sizing.kelly_fraction"),
    Case("config a directory", ["--config", "{d}"], "directory"),
    Case("config missing", ["--config", "{d}/nope.toml"], "no such file"),
    # -- flags ---------------------------------------------------------------------------
    Case("seed -1", ["--seed", "-1"], "--seed"),
    Case("seed 2**40", ["--seed", str(2**40)], "--seed"),
    Case("seed text", ["--seed", "abc"], "--seed"),
    Case("acceleration 0", ["--acceleration", "0"], "--acceleration"),
    Case("acceleration -5", ["--acceleration", "-5"], "--acceleration"),
    Case("acceleration nan", ["--acceleration", "nan"], "--acceleration"),
    Case("acceleration inf", ["--acceleration", "inf"], "--acceleration"),
    Case("acceleration 1e308", ["--acceleration", "1e308"], "--acceleration"),
    Case("tick-hz 0", ["--tick-hz", "0"], "--tick-hz"),
    Case("tick-hz 1e6", ["--tick-hz", "1e6"], "--tick-hz"),
    Case("tick-hz nan", ["--tick-hz", "nan"], "--tick-hz"),
    Case("speed -1", ["--speed", "-1"], "--speed"),
    Case("speed nan", ["--speed", "nan"], "--speed"),
    Case("flag --theme neon", ["--theme", "neon"], "--theme"),
    Case("live and paper", ["--venue", "okx", "--live", "--paper"], "--live"),
    Case("live without venue", ["--live"], "--venue"),
    Case("replay and venue", ["--replay", "{d}/rec.jsonl.gz", "--venue", "okx"], "--replay",
         good_recording),
    Case("replay missing", ["--replay", "{d}/nope.jsonl.gz"], "--replay"),
    Case("replay a directory", ["--replay", "{d}"], "--replay"),
    Case("replay not a recording", ["--replay", "{d}/rec.jsonl"], "--replay", not_a_recording),
    Case("venue unknown", ["--venue", "kraken"], "--venue"),
    Case("unknown flag", ["--turbo"], "--turbo"),
    # -- --state -------------------------------------------------------------------------
    Case("state a directory", ["--state", "{d}"], "--state"),
    Case("state in a read-only dir", ["--state", "{d}/ro/account.sqlite"], "not writable",
         readonly_dir),
    Case("state account in a read-only dir", ["--state", "{d}/ro/account.sqlite"],
         "not writable", readonly_dir_with_account),
    Case("state under a file", ["--state", "{d}/notes.txt/account.sqlite"], "is a file",
         a_file),
    Case("state read-only file", ["--state", "{d}/account.sqlite"], "read-only",
         readonly_account),
    Case("state another program's db", ["--state", "{d}/other_app.db"], "another program",
         other_app_db),
    Case("state another program's db, reset", ["--state", "{d}/other_app.db", "--reset"],
         "another program", other_app_db),
    Case("state another app id", ["--state", "{d}/other_app.db"], "application id",
         lambda d: other_app_db(d, app_id=0x0F0F0F0F)),
    Case("state a text file", ["--state", "{d}/notes.txt"], "not a cockpit account", a_file),
    Case("state a text file, reset", ["--state", "{d}/notes.txt", "--reset"],
         "not a cockpit account", a_file),
    Case("state corrupt account", ["--state", "{d}/corrupt.sqlite"], "--state", corrupt_account),
    Case("state a device", ["--state", "/dev/null"], "not a regular file"),
    Case("state replay in a read-only dir", ["--replay", "{d}/rec.jsonl.gz", "--state",
         "{d}/ro/a.sqlite"], "not writable",
         lambda d: (good_recording(d), readonly_dir(d))),
    Case("state paper venue on another db", ["--venue", "okx", "--paper", "--state",
         "{d}/other_app.db"], "another program", other_app_db),
    # -- cockpit size ---------------------------------------------------------------------
    Case("size corrupt state", ["size", "--state", "{d}/corrupt.sqlite"], "corrupt.sqlite",
         corrupt_account),
    Case("size text state", ["size", "--state", "{d}/notes.txt"], "not a cockpit account",
         a_file),
    Case("size state other db", ["size", "--state", "{d}/other_app.db"], "another program",
         other_app_db),
    Case("size state missing", ["size", "--state", "{d}/nope.sqlite"], "no such file"),
    Case("size state a directory", ["size", "--state", "{d}"], "directory"),
    Case("size bad config", ["size", "--config", "{d}/config.toml"], "sizing.max_leverage",
         toml("[sizing]\nmax_leverage = inf\n")),
    Case("size seed -1", ["size", "--seed", "-1"], "--seed"),
    Case("size input missing", ["size", "--input", "{d}/nope.json"], "nope.json"),
    Case("size input not JSON", ["size", "--input", "{d}/notes.txt"], "JSON", a_file),
    Case("size unknown flag", ["size", "--turbo"], "--turbo"),
    # -- cockpit record --------------------------------------------------------------------
    Case("record out a directory", ["record", "--venue", "okx", "--symbols", "BTC/USDT:USDT",
         "--out", "{d}"], "--out"),
    Case("record out exists", ["record", "--venue", "okx", "--symbols", "BTC/USDT:USDT",
         "--out", "{d}/notes.txt"], "--out", a_file),
    Case("record out under a file", ["record", "--venue", "okx", "--symbols", "BTC/USDT:USDT",
         "--out", "{d}/notes.txt/rec.gz"], "--out", a_file),
    Case("record out read-only dir", ["record", "--venue", "okx", "--symbols",
         "BTC/USDT:USDT", "--out", "{d}/ro/rec.gz"], "--out", readonly_dir),
    Case("record seconds 0", ["record", "--venue", "okx", "--symbols", "BTC/USDT:USDT",
         "--out", "{d}/rec.gz", "--seconds", "0"], "--seconds"),
    Case("record seconds nan", ["record", "--venue", "okx", "--symbols", "BTC/USDT:USDT",
         "--out", "{d}/rec.gz", "--seconds", "nan"], "--seconds"),
    Case("record venue unknown", ["record", "--venue", "kraken", "--symbols", "BTC/USDT:USDT",
         "--out", "{d}/rec.gz"], "--venue"),
    Case("record no symbols", ["record", "--venue", "okx", "--out", "{d}/rec.gz"], "--symbols"),
    Case("record symbol form", ["record", "--venue", "okx", "--symbols", "BTC", "--out",
         "{d}/rec.gz"], "--symbols"),
    Case("record bad config", ["record", "--venue", "okx", "--symbols", "BTC/USDT:USDT",
         "--out", "{d}/rec.gz", "--config", "{d}/config.toml"], "keymap.approve",
         toml('[keymap]\napprove = "q"\n')),
]
