"""Two venues on one screen: the built-in market beside a paper account on the local
fake OKX (127.0.0.1 only). The margin panel shows each account and the total; the
status bar shows each venue."""

import argparse
import io

from rich.console import Console

from cockpit.app import CockpitApp
from cockpit.config import Config, VenueConfig
from cockpit.runtime import build_runtime
from tests.venues.fakevenue import SYMBOL, FakeOkx
from widgets.margin import MarginPanel, render_margin
from widgets.status import StatusBar


def _text(renderable, width: int = 150) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(renderable)
    return console.file.getvalue()


async def test_margin_panel_shows_both_accounts_and_the_total(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    srv = await FakeOkx(seed=3).start()
    try:
        config = Config(venues={"okx": VenueConfig(symbols=(SYMBOL,), rest_url=srv.rest_url,
                                                   ws_url=srv.ws_url)})
        args = argparse.Namespace(replay=None, venue="sim", venues=["sim", "okx"], live=False,
                                  paper=True, state=tmp_path / "acct.sqlite", reset=False,
                                  speed=1.0, seed=7, tick_hz=None, acceleration=None)
        runtime = build_runtime(args, config)
        app = CockpitApp(runtime, engine_interval_s=3600.0, remember_theme=False)
        async with app.run_test(size=(160, 48)) as pilot:
            for _ in range(400):  # bounded (20 s): the OKX feed's first data
                await pilot.pause(0.05)
                if f"{SYMBOL}@okx" in app.store.snapshot().tickers:
                    break
            app.repaint_all()
            await pilot.pause()
            view = app.main.query_one(MarginPanel).view
            snap = app.store.snapshot()
            names = [r.venue for r in view.venues]
            assert names == ["sim", "okx", "Σ"]
            sim, okx, total = view.venues
            assert total.is_total and okx.mode == "paper" and sim.mode == "paper"
            # the total is the sum of the two accounts as each venue reports it
            assert total.equity_usd == sim.equity_usd + okx.equity_usd
            assert total.initial_margin_usd == sim.initial_margin_usd + okx.initial_margin_usd
            assert okx.equity_usd == snap.accounts["okx"].equity_usd == 100_000.0
            text = _text(render_margin(view))
            assert "sim (paper)" in text and "okx (paper)" in text and "Σ total" in text
            # each sim position row is solved on the sim account, named with its venue
            assert all(r.symbol.endswith("@sim") for r in view.rows)
            bar = app.main.query_one(StatusBar)
            assert {"sim", "okx"} <= {v.venue for v in bar.view.venues}
    finally:
        await srv.close()
