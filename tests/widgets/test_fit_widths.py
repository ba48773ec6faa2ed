"""Tables and the status bar in less room than they want: the least useful columns
go first, numbers are never cut, and the status bar keeps the trading state and
the clock whatever else it has to list."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from rich.text import Text

from cockpit.model.views import StatusView, VenueRow
from widgets.cells import CUT_FLOOR, FastTable, column_drop, fit_widths
from widgets.status import render_status

COLUMNS = (("Instrument", "left"), ("Size", "right"), ("Note", "left", 3),
           ("Vega coin", "right", 2), ("Vega $", "right"), ("Src", "left", 1))
WIDTHS = [16, 7, 30, 9, 6, 5]


def shown(widths):
    return [COLUMNS[i][0] for i, w in enumerate(widths) if w]


def total(widths, gap=1):
    kept = [w for w in widths if w]
    return sum(kept) + gap * (len(kept) - 1)


def test_everything_shows_when_it_fits():
    assert fit_widths(COLUMNS, WIDTHS, total(WIDTHS)) == WIDTHS


def test_a_droppable_note_is_cut_before_it_goes_then_goes_first():
    room = total(WIDTHS) - 10
    assert fit_widths(COLUMNS, WIDTHS, room)[2] == 20  # cut by the 10 cells missing
    cut_to_floor = fit_widths(COLUMNS, WIDTHS, total(WIDTHS) - (30 - CUT_FLOOR))
    assert cut_to_floor[2] == CUT_FLOOR
    one_less = fit_widths(COLUMNS, WIDTHS, total(WIDTHS) - (30 - CUT_FLOOR) - 1)
    assert shown(one_less) == ["Instrument", "Size", "Vega coin", "Vega $", "Src"]


def test_columns_go_highest_drop_first_and_the_kept_ones_never():
    narrow = fit_widths(COLUMNS, WIDTHS, 16 + 1 + 7 + 1 + 6)
    assert shown(narrow) == ["Instrument", "Size", "Vega $"]
    assert narrow == [16, 7, 0, 0, 6, 0]


@given(st.lists(st.tuples(st.integers(1, 30), st.sampled_from(["left", "right"]),
                          st.integers(0, 5)), min_size=1, max_size=12),
       st.integers(1, 200))
def test_numbers_are_whole_or_gone_and_drops_follow_their_order(specs, room):
    columns = [(f"c{i}", justify, drop) for i, (_, justify, drop) in enumerate(specs)]
    natural = [w for w, _, _ in specs]
    out = fit_widths(columns, natural, room)
    for c, w, n in zip(columns, out, natural, strict=True):
        if c[1] == "right":
            assert w in (0, n)  # a number is never shortened
        if column_drop(c) == 0:
            assert w > 0  # a key column never goes
    gone = [column_drop(c) for c, w in zip(columns, out, strict=True) if w == 0]
    kept = [column_drop(c) for c, w in zip(columns, out, strict=True) if w and column_drop(c)]
    if gone and kept:
        assert min(gone) >= max(kept)  # nothing goes while a less useful column stays
    key = [i for i, c in enumerate(columns) if column_drop(c) == 0]
    if total([natural[i] if i in key else 0 for i in range(len(natural))]) <= room:
        assert total(out) <= room  # the key columns fit, so the table does


def test_a_table_line_never_wraps_into_the_next_row():
    table = FastTable((("Σ", "left"), ("Δ $", "right"), ("Vega $", "right")),
                      [[Text("Σ BTC"), Text("+560,819"), Text("-164")]])
    text = table.to_text(10)  # narrower than the numbers: cropped, not wrapped
    assert text.no_wrap and len(text.plain.split("\n")) == 2


# ---------------------------------------------------------------- status bar

CLOCK = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")


def _busy_view(**kw) -> StatusView:
    return StatusView(
        "live", 1_795_435_200_000,
        (VenueRow("deribit", True, 0.4, message="SUSPECT book crossed", dead_man="armed 60s"),
         VenueRow("binanceusdm", True, 1.2, message="rate limited, backing off")),
        engine_state="idle", engine_last_run_ms=1_795_435_200_000, engine_duration_ms=330.0,
        engine_next_run_s=1.5, auto_execute=True,
        breakers=("stale data 12.3s > 10s", "vol spike 2.4x (12 vs 168 bars)",
                  "vol spike 2.9x (12 vs 168 bars)"),
        trading_state="reducing", trading_reason="margin ratio 81.2% ≥ 80% ([display] margin_red)",
        **kw)


@given(st.integers(78, 240))  # 78: what is never dropped
def test_the_status_bar_keeps_state_venues_and_clock_at_any_width(width):
    line = render_status(_busy_view(), width=width).plain
    assert len(line) <= width
    assert "LIVE" in line and "REDUCING" in line and CLOCK.search(line)
    assert "deribit ● 0.4s" in line and "binanceusdm ● 1.2s" in line


def test_at_118_cells_the_breakers_are_cut_not_dropped():
    # 120 columns less the bar's padding
    line = render_status(_busy_view(), width=118).plain
    assert "breakers stale data" in line and "…" in line
    wide = render_status(_busy_view(), width=400).plain
    assert "stale data 12.3s > 10s · vol spike 2.4x (12 vs 168 bars) · vol spike 2.9x" in wide
