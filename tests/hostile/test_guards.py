"""The small guards behind issue 14, each on its own: the jump guard, the rejection
tally, the venue-refusal sentences (the venues' documented error bodies), the status
bar's bounded free text, owner-only files and the exposed-keys warning."""

from __future__ import annotations

import logging
import math
import os
import stat
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.market_checks import JumpGuard, RejectionTally
from cockpit.venues.errors import refusal_sentence, venue_code_and_message


def test_a_jump_is_held_until_it_persists_in_count_and_time():
    g = JumpGuard(30.0, confirm=3, confirm_ms=5_000)
    assert g.check("X", 100.0, 0) is None
    assert g.check("X", 129.0, 1) is None  # 29 %: inside the bound
    assert "jumped" in g.check("X", 10.0, 2)  # -92 %
    assert g.check("X", 10.5, 3) is not None  # 2 updates, 1 ms: not yet
    assert g.check("X", 10.2, 4) is not None  # 3 updates, still under 5 s
    assert g.check("X", 10.1, 5_002) is None  # 4 updates over 5 s: the new market
    assert g.check("X", 10.3, 5_003) is None


def test_a_one_tick_spike_never_becomes_the_reference():
    g = JumpGuard(30.0)
    g.check("X", 100.0, 0)
    for t in range(1, 50):  # spike, back, spike, back ...: never 3 in a row
        g.check("X", 1e6 if t % 2 else 100.0, t * 10_000)
    assert g.check("X", 101.0, 10**9) is None


def test_the_tally_says_the_first_at_once_then_one_summary_a_window(caplog):
    now = [0.0]
    log = logging.getLogger("test.tally")
    tally = RejectionTally(log, window_s=60.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="test.tally"):
        for i in range(1000):
            now[0] = i * 0.1  # ten a second for 100 s
            tally.add("book levels dropped", "BTC/USDT:USDT" if i % 3 else "ETH/USDT:USDT",
                      "price 0")
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2  # the first, then one summary after 60 s
    assert "book levels dropped: 1 at" in lines[0]
    assert "book levels dropped: 600 in the last 60 s" in lines[1]
    assert tally.total["book levels dropped"] == 1000


# documented error bodies, as ccxt puts them in the exception text
OKX_51008 = ('okx {"code":"1","data":[{"clOrdId":"a1","ordId":"","sCode":"51008",'
             '"sMsg":"Order failed. Insufficient USDT margin in account","tag":""}],'
             '"msg":"Operation failed."}')


@pytest.mark.parametrize(("venue", "text", "sentence"), [
    ("okx", OKX_51008, "OKX refused: insufficient margin (51008)"),
    ("okx", 'okx {"code":"51999","msg":"Brand new reason.","data":[]}',
     "OKX refused: brand new reason (51999)"),
    ("bybit", 'bybit {"retCode":110007,"retMsg":"ab not enough for new order","result":{}}',
     "Bybit refused: insufficient available balance (110007)"),
    ("binanceusdm", 'binanceusdm {"code":-2019,"msg":"Margin is insufficient."}',
     "Binance USD-M refused: insufficient margin (-2019)"),
    ("deribit", 'deribit {"jsonrpc":"2.0","error":{"message":"not_enough_funds",'
     '"code":10009},"testnet":false}', "Deribit refused: insufficient funds (10009)"),
    ("deribit", 'deribit {"error":{"message":"some_new_thing","code":13999}}',
     "Deribit refused: some new thing (13999)"),
])
def test_a_venue_refusal_is_one_sentence(venue, text, sentence, caplog):
    with caplog.at_level(logging.WARNING):
        refused = refusal_sentence(venue, Exception(text))
    assert str(refused) == sentence and "{" not in str(refused)
    assert any(text[len(venue) + 1:] in r.getMessage() for r in caplog.records)


def test_the_okx_per_order_code_wins_over_the_summary():
    assert venue_code_and_message(OKX_51008)[0] == "51008"


def test_the_status_bar_keeps_state_clock_and_ages_with_long_messages():
    from cockpit.model.views import StatusView, VenueRow
    from widgets.status import render_status

    long = "okx " + '{"code": "1", "msg": "Operation failed.", "data": []} ' * 20
    view = StatusView("paper", 1_700_000_000_000, (
        VenueRow("okx", True, 1.5, message=long), VenueRow("deribit", True, 30.0, message=long)),
        engine_state="failed", engine_error=long, breakers=("kill switch: reduce-only",),
        stale_after_s=10.0)
    text = render_status(view).plain
    assert len(text) <= 240, len(text)
    assert "kill switch: reduce-only" in text and "UTC" in text
    from widgets.format import age

    assert f"okx ● {age(1.5)}" in text and f"deribit ● {age(30.0)}" in text


def test_the_log_file_is_owner_only(tmp_path, monkeypatch):
    from cockpit import cli

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    root = logging.getLogger()
    old = list(root.handlers)
    try:
        path = cli.setup_logging()
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    finally:
        for h in root.handlers[:]:
            if h not in old:
                root.removeHandler(h)
                h.close()


def test_an_older_world_readable_log_is_tightened(tmp_path, monkeypatch):
    from cockpit import cli

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    log_dir = tmp_path / "cockpit" / "log"
    log_dir.mkdir(parents=True)
    (log_dir / "cockpit.log").write_text("old\n")
    os.chmod(log_dir / "cockpit.log", 0o644)
    root = logging.getLogger()
    old = list(root.handlers)
    try:
        path = cli.setup_logging()
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    finally:
        for h in root.handlers[:]:
            if h not in old:
                root.removeHandler(h)
                h.close()


def test_the_data_dir_is_owner_only(tmp_path, monkeypatch):
    from cockpit.runtime import data_dir

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "d"))
    assert stat.S_IMODE(os.stat(data_dir()).st_mode) == 0o700


def test_keys_in_a_file_others_can_read_are_warned_about_even_when_unused(tmp_path):
    from cockpit.keys import exposed_keys_warning

    path = tmp_path / "config.toml"
    path.write_text("x")
    os.chmod(path, 0o644)
    cfg = SimpleNamespace(path=path, venues={"okx": SimpleNamespace(api_key="k" * 20,
                                                                    secret="s" * 20)})
    warning = exposed_keys_warning(cfg)
    assert warning.startswith("WARNING") and "chmod 600" in warning and "k" * 20 not in warning
    os.chmod(path, 0o600)
    assert exposed_keys_warning(cfg) == ""
    cfg.venues["okx"] = SimpleNamespace(api_key="", secret="")
    os.chmod(path, 0o644)
    assert exposed_keys_warning(cfg) == ""  # no keys in it: nothing to expose


def test_the_exposed_keys_warning_reaches_the_event_log_notes(tmp_path, monkeypatch):
    from cockpit.config import load_config
    from cockpit.runtime import build_runtime

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path = tmp_path / "config.toml"
    path.write_text('[venues.okx]\napi_key = "AAAAAAAAAAAA"\nsecret = "BBBBBBBBBBBB"\n')
    os.chmod(path, 0o644)
    args = SimpleNamespace(replay=None, venue=None, state=None, seed=None, tick_hz=None,
                           acceleration=None, reset=False)
    rt = build_runtime(args, load_config(path))
    try:
        assert rt.notes[0].startswith("WARNING: config") and "AAAA" not in rt.notes[0]
    finally:
        rt.broker.close()


_VALUES = st.sampled_from([0.0, -0.0, 1e-9, 1.5, 9e4, 1e9, 1e15, -2.0, math.nan, math.inf,
                           -math.inf]) | st.floats(-10, 1e6, allow_nan=False)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(_VALUES, _VALUES), min_size=1, max_size=30))
def test_a_book_side_is_refused_exactly_when_a_level_is_unusable(levels):
    """Against the definition, level by level: a price finite, > 0 and <= MAX_PRICE, an
    amount finite and >= 0 (NaN fails every comparison)."""
    from cockpit.market_checks import MAX_PRICE, book_side_problem

    usable = all(math.isfinite(p) and 0 < p <= MAX_PRICE and math.isfinite(a) and a >= 0
                 for p, a in levels)
    problem = book_side_problem(np.array(levels, float))
    assert (problem == "") == usable
    assert "\n" not in problem
