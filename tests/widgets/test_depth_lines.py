"""The ladder repaints line by line: what is on screen after each book is what
a whole-panel render of that book shows, and a tick that moves one level
repaints only the lines that changed, not the whole ladder."""

from __future__ import annotations

from dataclasses import replace

from textual.app import App, ComposeResult
from textual.geometry import Region

from cockpit.model.views import DepthBand, DepthView, LadderLevel
from widgets.depth import DepthPanel, render_depth
from widgets.panel import _flatten


def book(ask_amounts=(1.0, 2.0, 3.0), bid_amounts=(1.5, 2.5, 3.5), **kw) -> DepthView:
    def levels(prices, amounts):
        cum, out = 0.0, []
        for p, a in zip(prices, amounts, strict=True):
            cum += a
            out.append(LadderLevel(p, a, cum))
        return tuple(out)

    return DepthView(
        "BTC/USDT:USDT", bids=levels((99.0, 98.0, 97.0), bid_amounts),
        asks=levels((101.0, 102.0, 103.0), ask_amounts), best_bid=99.0, best_ask=101.0,
        spread=2.0, spread_bps=200.0, bands=(DepthBand(10.0, 1.5, 1.0),), age_s=0.2, **kw,
    )


class LadderApp(App):
    def compose(self) -> ComposeResult:
        yield DepthPanel(id="depth")


def on_screen(panel: DepthPanel) -> list[str]:
    """The lines the compositor gets (through Textual's per-line cache of the widget)."""
    lines = [strip.text.rstrip() for strip in panel.render_lines(Region(0, 0, *panel.outer_size))]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def whole_render(panel: DepthPanel, view, previous) -> list[str]:
    text = _flatten(render_depth(view, panel.palette, previous), panel.size.width)
    return [line.plain.rstrip() for line in text.split("\n")]


async def test_each_frame_shows_what_a_whole_render_shows():
    app = LadderApp()
    async with app.run_test(size=(60, 30)) as pilot:
        panel = app.query_one(DepthPanel)
        views = [book(), book(ask_amounts=(1.0, 2.2, 3.0)), book(ask_amounts=(1.0, 2.2, 3.0)),
                 book(bid_amounts=(0.5, 2.5, 3.5), stale=True),
                 replace(book(), suggestion_text="buy 2", suggestion_side="buy",
                         suggestion_slippage_bps=12.5)]
        previous = None
        for view in views:
            panel.show(view)
            await pilot.pause()
            assert on_screen(panel) == whole_render(panel, view, previous)
            previous = view


async def test_one_level_moving_repaints_only_the_lines_that_changed():
    app = LadderApp()
    async with app.run_test(size=(60, 30)) as pilot:
        panel = app.query_one(DepthPanel)
        first = book()
        panel.show(first)
        panel.show(first)  # the "changed" highlight of the first frame clears
        await pilot.pause()
        refreshed: list = []
        original = panel.refresh

        def spy(*regions, **kw):
            refreshed.append(regions)
            return original(*regions, **kw)

        panel.refresh = spy
        moved = book(ask_amounts=(1.0, 2.0, 3.3))  # the worst ask: its size and cumulative
        panel.show(moved)
        await pilot.pause()
        assert refreshed and all(regions for regions in refreshed), "no whole-panel repaint"
        rows = {y for regions in refreshed for r in regions for y in r.line_range}
        lines = on_screen(panel)
        assert rows == {i for i, line in enumerate(lines) if "103.00" in line}  # one row
        assert "3.300" in lines[min(rows)] and len(rows) < len(lines)
