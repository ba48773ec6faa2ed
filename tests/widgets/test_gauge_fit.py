"""The margin gauge fitted to its line: the widest bar that fits with all its
notes, then with fewer notes, never wider than the line while the smallest gauge
fits. The reference is the definition itself: every (notes, width) tried in order."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.model.views import MarginView
from widgets.margin import GAUGE_WIDTH, MIN_GAUGE_WIDTH, gauge_line, gauge_text
from widgets.palette import DEFAULT_PALETTE


def _by_definition(view, max_width):
    for extras in (2, 1, 0):
        for width in range(GAUGE_WIDTH, MIN_GAUGE_WIDTH - 1, -1):
            text = gauge_text(view, DEFAULT_PALETTE, width, extras)
            if text.cell_len <= max_width:
                return text
    return gauge_text(view, DEFAULT_PALETTE, MIN_GAUGE_WIDTH, 0)


@settings(max_examples=200, deadline=None)
@given(ratio=st.one_of(st.just(math.nan), st.floats(0, 1.5)),
       amber=st.floats(0.05, 0.7), red=st.floats(0.71, 0.99),
       levels=st.booleans(), sigmas=st.sampled_from([2.0, 3.0, 2.5]),
       max_width=st.integers(10, 140))
def test_the_gauge_is_the_widest_that_fits_with_the_most_notes(ratio, amber, red, levels,
                                                              sigmas, max_width):
    view = MarginView(1e4, 5e3, 5e3, 2e3, ratio, amber, red, 0.0, None,
                      buffer_sigmas=sigmas, account_levels=("x",) if levels else ())
    got = gauge_line(view, DEFAULT_PALETTE, max_width)
    want = _by_definition(view, max_width)
    assert got.plain == want.plain and got.spans == want.spans
