"""Pure renderers and number formatting: right cells, right alignment, fixed
decimals, signs, "—" for missing values and the empty-panel reasons."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from cockpit.model.views import (
    DeltaBandRow,
    DepthBand,
    DepthView,
    GreeksRow,
    GreeksView,
    LadderLevel,
    LogEntry,
    MarginView,
    PositionMarginRow,
    PositionRow,
    PositionsView,
    StatusView,
    SuggestionRow,
    SuggestionsView,
    VenueRow,
    VolView,
)
from widgets import format as f
from widgets.depth import ladder_rows, render_depth
from widgets.event_log import render_entry
from widgets.greeks import render_greeks
from widgets.margin import position_rows, render_margin
from widgets.palette import DEFAULT_PALETTE
from widgets.positions import order_rows
from widgets.positions import position_rows as positions_table_rows
from widgets.status import render_status
from widgets.suggestions import suggestion_rows
from widgets.volatility import render_vol


def text_of(renderable, width=160) -> str:
    console = Console(width=width, record=True, color_system=None, file=open("/dev/null", "w"))
    console.print(renderable)
    return console.export_text()


# ---------------------------------------------------------------- format


@pytest.mark.parametrize(("x", "decimals", "sign", "expected"), [
    (1234.5, 2, False, "1,234.50"),
    (1234.5, 2, True, "+1,234.50"),
    (-0.5, 1, True, "-0.5"),
    (-0.0001, 2, True, "0.00"),  # rounds to zero: no direction shown
    (None, 2, False, "—"),
    (math.nan, 2, False, "—"),
    (math.inf, 2, False, "—"),
])
def test_num(x, decimals, sign, expected):
    assert f.num(x, decimals, sign=sign) == expected


@pytest.mark.parametrize(("step", "decimals"), [
    (0.5, 1), (0.1, 1), (0.01, 2), (0.0005, 4), (1.0, 0), (25.0, 0), (0.001, 3), (None, 2),
])
def test_decimals_for_step(step, decimals):
    assert f.decimals_for_step(step) == decimals


def test_money_percent_and_durations():
    assert f.usd(-1234.4) == "-$1,234"
    assert f.usd(1234.4, sign=True) == "+$1,234"
    assert f.compact_usd(950) == "$950"
    assert f.compact_usd(12_345) == "$12.3k"
    assert f.compact_usd(-4_560_000) == "-$4.56M"
    assert f.pct(0.1234) == "12.3%"
    assert f.bps(24.875) == "24.9 bp"
    assert f.sigmas(3.21) == "3.2σ"
    assert f.sigmas(math.inf) == "∞σ" and f.sigmas(math.nan) == "—"
    assert f.duration_days(40.2) == "40d"
    assert f.duration_days(3.46) == "3.5d"
    assert f.duration_days(5 / 24) == "5.0h"
    assert f.duration_days(0.2 / 24) == "12m"
    assert f.duration_days(math.inf) == "∞"
    assert f.clock(0) == "00:00:00"
    assert f.clock(86_400_000 + 3_723_000, with_date=True) == "1970-01-02 01:02:03"


_EIGHTHS = {" ": 0, "▏": 1, "▎": 2, "▍": 3, "▌": 4, "▋": 5, "▊": 6, "▉": 7, "█": 8}


def _filled_eighths(b: str) -> int:
    return sum(_EIGHTHS[ch] for ch in b)


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 1), st.floats(0, 1), st.integers(1, 40))
def test_bar_fixed_width_monotone_and_accurate(f1, f2, width):
    lo, hi = sorted((f1, f2))
    b_lo, b_hi = f.bar(lo, width), f.bar(hi, width)
    assert len(b_lo) == len(b_hi) == width
    assert _filled_eighths(b_lo) <= _filled_eighths(b_hi)
    # within half an eighth of a cell of the exact length
    assert abs(_filled_eighths(b_hi) - hi * width * 8) <= 0.5 + 1e-9


def test_bar_ends():
    assert f.bar(0.0, 5) == "     " and f.bar(1.0, 5) == "█████" and f.bar(2.0, 3) == "███"
    assert f.bar(None, 4) == "    "


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=80))
def test_sparkline_length_and_extremes(values):
    s = f.sparkline(values)
    assert len(s) == len(values)
    if max(values) > min(values):
        assert s[values.index(max(values))] == "█"
        assert s[values.index(min(values))] == "▁"


# ---------------------------------------------------------------- margin


def _margin_view(mark=60_000.0, ratio=0.3):
    rows = (
        PositionMarginRow("BTC/USDT:USDT", "long", 2.0, mark, 45_000.0, 0.25, 10.4, 87.1, 0.5,
                          price_decimals=1),
        PositionMarginRow("ETH/USDT:USDT", "short", -20.0, 3_000.0, 3_600.0, 0.2, 4.27, 14.6,
                          0.8, price_decimals=2, worst=True),
        PositionMarginRow("BTC/USD:BTC-X-70000-C", "short", -3.0, 0.01, None, None, None, None,
                          None, price_decimals=4, note="option"),
    )
    return MarginView(80_000.0, 60_000.0, 20_000.0, 24_000.0, ratio, 0.5, 0.8, -1_500.0, 0.2,
                      rows, "ETH/USDT:USDT")


def test_margin_cells_alignment_decimals_and_missing():
    view = _margin_view()
    rows = {r.key: r for r in position_rows(view)}
    btc = [c.text for c in rows["BTC/USDT:USDT"].cells]
    assert btc[3:9] == ["+2.000", "60,000.0", "45,000.0", "25.0%", "10.4σ", "87d"]
    opt = [c.text for c in rows["BTC/USD:BTC-X-70000-C"].cells]
    assert opt[5:9] == ["—", "—", "—", "—"] and opt[9] == "option"
    assert rows["ETH/USDT:USDT"].cells[0].text == "▶" and rows["ETH/USDT:USDT"].style == "header"
    near = replace(view, rows=(replace(view.rows[1], inside_buffer=True),))
    assert position_rows(near)[0].style == "breach"  # inside the liquidation buffer: red
    table = render_margin(view).renderables[2]
    justify = {c[0]: c[1] for c in table.columns}  # (header, justify[, drop])
    for header in ("Size", "Price", "Liq price", "Dist", "Dist σ/d", "Time to liq"):
        assert justify[header] == "right"
    out = text_of(render_margin(view))
    assert "-$1,500" in out and "Margin ratio   30.0%" in out
    assert "closest to liquidation: ETH/USDT perp" in out


def test_margin_changed_cells_are_highlighted_once():
    before, after = _margin_view(60_000.0), _margin_view(60_100.0)
    table = render_margin(after, DEFAULT_PALETTE, before).renderables[2]
    mark_cells = [row[4] for row in table.rows]
    changed = DEFAULT_PALETTE["changed"]
    assert changed in str(mark_cells[0].style)  # BTC mark moved
    assert changed not in str(mark_cells[1].style)  # ETH did not
    again = render_margin(after, DEFAULT_PALETTE, after).renderables[2]
    assert changed not in str(again.rows[0][4].style)  # next repaint clears it


def test_margin_gauge_level_colours_and_threshold_marks():
    red = render_margin(_margin_view(ratio=0.85)).renderables[1].to_text(160)
    assert any(DEFAULT_PALETTE["breach"] == str(span.style) for span in red.spans)
    ok = render_margin(_margin_view(ratio=0.1)).renderables[1].to_text(160)
    assert any(DEFAULT_PALETTE["ok"] == str(span.style) for span in ok.spans)
    # 30 cells: 10 % fills 3; the amber (50 %) and red (80 %) marks sit at cells 15 and 24
    bar = ok.plain[ok.plain.index("[") + 1: ok.plain.index("]")]
    assert len(bar) == 30 and bar[:3] == "███"
    assert [i for i, ch in enumerate(bar) if ch == "┊"] == [15, 24]
    assert "┊" not in red.plain  # 85 % has passed both marks: they are filled


# ---------------------------------------------------------------- greeks


def test_greeks_signs_sources_and_empty_reason():
    row = GreeksRow("BTC/USD:X-C", "BTC", -3.0, "model", -0.75, -45_000.0, -0.00012, -43_200.0,
                    -0.02, -1_200.0, 0.001, 60.0)
    total = GreeksRow("Σ BTC", "BTC", -3.0, "", -0.75, -45_000.0, -0.00012, -43_200.0,
                      -0.02, -1_200.0, 0.001, 60.0, is_total=True, outside_band=True)
    eth = GreeksRow("Σ ETH", "ETH", 1.0, "", 1.0, 3_000.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                    is_total=True)
    bands = (DeltaBandRow("BTC", -45_000.0, -45_000.0, 0.0, 375_000.0, 135_000.0, 25_000.0,
                          True),
             DeltaBandRow("ETH", 0.0, 0.0, 0.0, 3_000.0, 0.0, 25_000.0, False))
    view = GreeksView((row,), (total, eth), -42_000.0, 25_000.0, True, bands=bands)
    out = text_of(render_greeks(view))
    assert "model" in out and "-0.7500" in out and "-45,000" in out and "+60" in out
    # the band reads the options (the policy's number); the perps and coin are the view
    assert "BTC options -$45.0k vs band ±$25.0k OUT; perps +$375k, coin +$135k your view" \
        in out.replace("\n", "")
    assert "ETH options $0 vs band ±$25.0k in; perps +$3.00k your view" in out.replace("\n", "")
    table = render_greeks(view).renderables[1]
    assert all(c[1] == "right" for c in table.columns[2:10])
    assert text_of(render_greeks(GreeksView(empty_reason="no options in this account"))) \
        .strip() == "no options in this account"


# ---------------------------------------------------------------- depth


def test_depth_ladder_order_and_bars():
    view = DepthView(
        "BTC/USDT:USDT",
        bids=(LadderLevel(100.0, 1.0, 1.0), LadderLevel(99.5, 3.0, 4.0)),
        asks=(LadderLevel(100.5, 2.0, 2.0), LadderLevel(101.0, 6.0, 8.0)),
        spread=0.5, spread_bps=49.875, bands=(DepthBand(50.0, 1.0, 2.0),),
        suggestion_text="suggested buy 3", suggestion_side="buy", suggestion_slippage_bps=24.875,
        price_decimals=1,
        amount_decimals=1,
    )
    rows = ladder_rows(view, bar_width=8)
    prices = [r.cells[0].text for r in rows]
    # asks worst -> best, the spread line, then bids best -> worst
    assert prices == ["101.0", "100.5", "0.5", "100.0", "99.5"]
    assert rows[2].key == "spread" and rows[2].cells[2].text == "49.9 bp"
    bars = [r.cells[3].text for r in rows]
    assert bars[0] == "█" * 8  # deepest cumulative (8) fills the bar
    assert bars[4] == "████    "  # 4 of 8
    assert rows[0].cells[0].style == "ask" and rows[4].cells[0].style == "bid"
    out = text_of(render_depth(view))
    assert "0.5 spread 49.9 bp" in out and "±50bp 1.0/2.0" in out
    assert "walks the book 24.9 bp vs best ask" in out
    empty = text_of(render_depth(DepthView("ETH/USDT:USDT", empty_reason="no book for ETH yet")))
    assert "no book for ETH yet" in empty


# ---------------------------------------------------------------- tables, vol, status, log


def test_positions_and_orders_cells():
    from cockpit.model.views import OrderRow

    view = PositionsView(
        (PositionRow("BTC/USDT:USDT", "long", 2.0, 59_000.0, 60_000.0, 2_000.0, 1.25, 1, 3),),
        (OrderRow("o1", "BTC/USDT:USDT", "sell", "limit", 0.5, 0.1, 61_000.0, "open", True),
         OrderRow("o2", "BTC/USDT:USDT", "buy", "market", 1.0, 0.0, None, "rejected",
                  reason="min cost")),
    )
    (p,) = positions_table_rows(view)
    assert [c.text for c in p.cells] == ["BTC/USDT perp", "long", "+2.000", "59,000.0",
                                         "60,000.0", "+2,000.00", "1.25x"]
    assert p.cells[5].style == "profit"
    o1, o2 = order_rows(view)
    assert o1.cells[5].text == "61,000.00" and o1.cells[7].text == "reduce-only"
    assert o2.cells[5].text == "market" and o2.cells[6].style == "loss"


def test_suggestion_cells_mark_stale():
    fresh = SuggestionRow("a", "BTC/USDT:USDT", 2.0, 1.2, "sell 0.800 market RO", "vol_target",
                          3.5, 0.12, 9.5, "cut", reduces_risk=True, order_side="sell",
                          order_amount=0.8)
    stale = SuggestionRow("b", "ETH/USDT:USDT", -20.0, -30.0, "sell 10", "kelly", None, None,
                          None, "add", stale=True, stale_reason="45s old", order_side="sell",
                          order_amount=10.0)
    a, b = suggestion_rows(SuggestionsView((fresh, stale)))
    assert [c.text for c in a.cells[:8]] == ["▼ risk", "BTC/USDT perp", "+2.000 → +1.200",
                                            "sell 0.800 market RO", "vol_target", "3.5 bp",
                                            "12.0%", "9.5σ"]
    assert b.cells[0].text == "STALE" and b.style == "stale"
    assert [c.text for c in b.cells[5:8]] == ["—", "—", "—"]
    assert "[stale: 45s old]" in b.cells[8].text
    assert fresh.approvable and not stale.approvable


def test_vol_render_and_reasons():
    v = VolView("BTC", "BTC/USDT:USDT", realised_vol=0.5512, realised_window=168,
                forecast_vol=None, forecast_note="waiting for the first engine run",
                atm_iv=None, atm_note="no options on BTC", price_history=(1.0, 2.0, 3.0),
                vol_history=(0.5, 0.6))
    out = text_of(render_vol(v))
    assert "55.1%" in out and "waiting for the first engine run" in out
    assert "no options on BTC" in out and "▁▅█" in out


def test_status_live_is_loud_and_frozen_clock_visible():
    view = StatusView("live", 1_790_000_000_000,
                      (VenueRow("deribit", True, 0.4), VenueRow("okx", False, None, True)),
                      engine_state="idle", engine_last_run_ms=1_790_000_000_000,
                      engine_duration_ms=12.4, auto_execute=False, breakers=("stale-data",))
    text = render_status(view)
    assert text.plain.startswith(" LIVE ")
    assert text.spans[0].style == DEFAULT_PALETTE["live"]
    assert "deribit ● 0.4s" in text.plain and "okx ○ retrying" in text.plain
    assert "auto OFF" in text.plain and "stale-data" in text.plain
    assert "2026-09-21 14:13:20 UTC" in text.plain
    old_data = StatusView("demo", 0, (VenueRow("sim", True, 12.0),), stale_after_s=10.0)
    assert any(span.style == DEFAULT_PALETTE["stale"] for span in render_status(old_data).spans)
    demo = render_status(StatusView("demo", 0))
    assert demo.plain.startswith(" DEMO ") and demo.spans[0].style != DEFAULT_PALETTE["live"]


def test_log_entry_line():
    line = render_entry(LogEntry(3_723_000, "fill", "BTC/USDT:USDT sell 0.8 @ 60,000"))
    assert line.plain == "01:02:03 fill       BTC/USDT perp sell 0.8 @ 60,000"
    long_kind = render_entry(LogEntry(0, "suggestion", "cut BTC"))
    assert long_kind.plain == "00:00:00 suggestion cut BTC"


@settings(max_examples=80, deadline=None)
@given(st.floats(-1e9, 1e9, allow_nan=False), st.integers(0, 6))
def test_num_reads_back_as_the_rounded_value(x, decimals):
    text = f.num(x, decimals, sign=True)
    assert float(text.replace(",", "")) == pytest.approx(round(x, decimals), abs=10**-decimals)
    digits = text.lstrip("+-").split(".")
    assert len(digits[1] if len(digits) > 1 else "") == decimals  # fixed decimals, always
    assert text[0] in "+-" or float(text.replace(",", "")) == 0


@pytest.mark.parametrize("width", [80, 100, 120, 160])
def test_a_narrow_status_bar_drops_details_never_the_state_ages_or_clock(width):
    """At any width the trading state, every venue's data age and the clock stay;
    from 120 columns the tripped breakers and auto ON too; the countdown, venue notes
    and the engine's last run go first."""
    view = StatusView("live", 1_790_000_000_000,
                      (VenueRow("deribit", True, 0.4, message="RUNNING SLOW: 2,210x of 3,600x"),
                       VenueRow("okx", True, 1.2, dead_man="armed 60s, refreshed 14:13:05 UTC")),
                      engine_state="idle", engine_last_run_ms=1_790_000_000_000,
                      engine_duration_ms=12.4, engine_next_run_s=2.0, auto_execute=True,
                      breakers=("stale data",), trading_state="reducing",
                      trading_reason="kill switch")
    plain = render_status(view, width=width).plain
    assert len(plain) <= width
    musts = [" LIVE ", " REDUCING", "deribit ● 0.4s", "okx ● 1.2s", "2026-09-21 14:13:20 UTC"]
    for must in musts + (["stale data", "auto ON"] if width >= 120 else []):
        assert must in plain, (width, must, plain)
    full = render_status(view).plain
    if len(full) <= width:
        assert plain == full  # nothing dropped where it fits
