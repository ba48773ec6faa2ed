"""The panels' fast line paths draw exactly what Rich draws: a table line padded by
string (``FastTable._padded_line``) is the line Rich's copy/align/append builds,
and a line's segments built from its spans (``widgets.panel.line_segments``) are
``Segment.simplify(Text.render(...))``. Rich is the independent reference."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text

from widgets.cells import FastTable
from widgets.panel import line_segments

CONSOLE = Console(color_system="truecolor", width=200)
STYLES = st.sampled_from([
    "", "bold", Style(color="red"), Style(color="green", bgcolor="grey23"),
    Style(bold=True, color="#ffaa00"), Style(dim=True), "reverse",
])
# ASCII, a wide character and a combining mark: the fast paths must step aside for
# the last two (a cell is then not one character wide)
WORDS = st.text(alphabet=st.sampled_from(list("0123456789.,-+ abcXYZ%") + ["中", "é"]),
                max_size=12)


@st.composite
def cells(draw):
    text = Text(draw(WORDS), style=draw(STYLES))
    if text.plain and draw(st.booleans()):  # an inner span, as a highlight would add
        a = draw(st.integers(0, len(text.plain)))
        b = draw(st.integers(a, len(text.plain)))
        text.stylize(draw(STYLES.filter(bool)), a, b)
    return text


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(cells(), st.sampled_from(["left", "right"]), st.integers(0, 14)),
                min_size=1, max_size=6), st.integers(1, 3))
def test_a_padded_table_line_is_the_line_rich_builds(columns, gap):
    table = FastTable([(f"h{i}", justify) for i, (_, justify, _) in enumerate(columns)],
                      [[c for c, _, _ in columns]], gap=gap)
    widths = [w for _, _, w in columns]
    row = table.rows[0]
    rich = table._rich_line(row, widths)
    line = table._line(row, widths)
    assert (line.plain, line.spans, line.cell_len) == (rich.plain, rich.spans, rich.cell_len)
    assert _segments(line) == _segments(rich)


def _segments(text: Text) -> list[Segment]:
    return list(Segment.simplify(text.render(CONSOLE)))


@settings(max_examples=300, deadline=None)
@given(WORDS, STYLES, st.data())
def test_segments_from_spans_are_richs_segments(plain, base, data):
    # spans inside the text (as every panel line's are), overlapping or not
    n = len(plain)
    bounds = data.draw(st.lists(st.tuples(st.integers(0, n), st.integers(0, n), STYLES),
                                max_size=5))
    spans = [Span(min(a, b), max(a, b), s) for a, b, s in bounds]
    line = Text(plain, style=base, spans=spans)
    assert line_segments(line, CONSOLE) == _segments(line)


def test_a_ladder_line_takes_the_fast_paths():
    """Not only equal when it falls back: a plain number line is built by padding and
    its segments from its spans (the two fast paths are the ones in use)."""
    red, dim = Style(color="red"), Style(dim=True)
    table = FastTable([("Price", "right"), ("Size", "right"), ("Depth", "left")],
                      [[Text("101.5", style=red), Text("2.0"), Text("████", style=red)]])
    line = table._padded_line(table.rows[0], [7, 5, 6])
    assert line is not None and line.plain == "  101.5   2.0 ████  "
    assert line.spans == [Span(0, 7, red), Span(14, 20, red)]
    dimmed = Text(line.plain, style=dim, spans=line.spans)
    assert line_segments(dimmed, CONSOLE) == [
        Segment("  101.5", dim + red), Segment("   2.0 ", dim), Segment("████  ", dim + red)]
