"""`--venue` given more than once, ``sim`` as a venue, and the venue-qualified keys of a
multi-venue session (``cockpit.venues.router``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cockpit.cli import build_parser, check_args, main
from cockpit.config import Config
from cockpit.venues.router import native, qualify, split_key, venue_of


def test_venue_twice_lists_both_in_order_and_one_venue_is_as_before():
    args = build_parser().parse_args(["--venue", "sim", "--venue", "okx", "--paper"])
    assert args.venues == ["sim", "okx"] and args.venue == "sim"
    one = build_parser().parse_args(["--venue", "okx"])
    assert one.venue == "okx" and one.venues == ["okx"]
    none = build_parser().parse_args([])
    assert none.venue is None and none.venues == []


def test_a_venue_named_twice_is_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["--venue", "okx", "--venue", "okx"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--venue okx given twice" in err


def test_live_needs_a_real_venue():
    args = build_parser().parse_args(["--venue", "sim", "--live"])
    assert "--live needs a venue" in check_args(args, Config())
    both = build_parser().parse_args(["--venue", "sim", "--venue", "okx", "--live"])
    assert check_args(both, Config()) is None


def test_symbols_with_several_venues_or_the_built_in_market_is_refused_in_one_line():
    """--symbols is one venue's list; with two venues it would be a guess which."""
    two = build_parser().parse_args(["--venue", "sim", "--venue", "okx",
                                     "--symbols", "BTC/USDT:USDT"])
    problem = check_args(two, Config())
    assert "[venues.NAME]" in problem and "\n" not in problem
    sim = build_parser().parse_args(["--venue", "sim", "--symbols", "BTC/USDT:USDT"])
    assert "built-in market" in check_args(sim, Config())
    one = build_parser().parse_args(["--venue", "okx", "--symbols", "BTC/USDT:USDT"])
    assert check_args(one, Config()) is None


def test_sim_alone_is_the_demo(tmp_path, monkeypatch):
    from cockpit.runtime import build_runtime

    args = build_parser().parse_args(["--venue", "sim", "--state", str(tmp_path / "d.sqlite")])
    rt = build_runtime(args, Config())
    try:
        assert rt.mode == "demo" and rt.venue == "sim"
        assert "BTC/USDT:USDT" in rt.store.snapshot().instruments  # bare keys, as ever
    finally:
        rt.broker.close()
        rt.journal.close()


def test_unknown_venue_among_several_is_refused(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--venue", "sim", "--venue", "kraken"])
    assert exc.value.code == 2
    assert "invalid choice: 'kraken'" in capsys.readouterr().err


symbols = st.from_regex(r"[A-Z]{2,5}/[A-Z]{3,4}(:[A-Z]{3,4}(-\d{6}(-\d{3,6}-[CP])?)?)?",
                        fullmatch=True)
venues = st.sampled_from(["sim", "okx", "deribit", "bybit", "binanceusdm"])


@given(symbols, venues)
def test_a_key_splits_back_into_its_symbol_and_venue(symbol, venue):
    key = qualify(symbol, venue)
    assert split_key(key) == (symbol, venue) and native(key) == symbol
    assert venue_of(key) == venue and qualify(key, venue) == key  # idempotent


@given(symbols)
def test_a_bare_symbol_has_no_venue(symbol):
    assert split_key(symbol) == (symbol, "")
