"""`cockpit --venue okx --live` end to end against a fake OKX on 127.0.0.1: keys
from the environment, LIVE unmistakable in the status bar, the account polled
into the panels by the broker's worker, and a trader's order reaching the venue
with the cockpit's own client id. Nothing leaves the machine."""

import argparse

from cockpit.app import CockpitApp
from cockpit.config import Config, VenueConfig
from cockpit.model import OrderRequest
from cockpit.runtime import build_runtime
from tests.venues.fakevenue import SYMBOL, FakeOkx
from widgets.status import StatusBar

KEY, SECRET, PASSWORD = "SENTINEL-KEY-1234", "SENTINEL-SECRET-5678", "SENTINEL-PASS-9"


async def test_live_okx_end_to_end(monkeypatch, tmp_path):
    monkeypatch.setenv("OKX_API_KEY", KEY)
    monkeypatch.setenv("OKX_SECRET", SECRET)
    monkeypatch.setenv("OKX_PASSWORD", PASSWORD)
    srv = await FakeOkx(seed=3).start()
    try:
        config = Config(venues={"okx": VenueConfig(
            symbols=(SYMBOL,), rest_url=srv.rest_url, ws_url=srv.ws_url)})
        args = argparse.Namespace(replay=None, venue="okx", live=True, paper=False,
                                  state=None, reset=False, speed=1.0)
        runtime = build_runtime(args, config)
        assert runtime.mode == "live" and not runtime.broker.paper
        app = CockpitApp(runtime, engine_interval_s=3600.0, remember_theme=False)
        async with app.run_test(size=(160, 48)) as pilot:
            for _ in range(1200):  # bounded (30 s): the account poll and the first tickers
                await pilot.pause(0.025)
                snap = app.store.snapshot()
                if snap.account is not None and SYMBOL in snap.tickers:
                    break
            snap = app.store.snapshot()
            assert snap.account is not None and SYMBOL in snap.tickers, snap.venues
            app.repaint_all()
            await pilot.pause()
            bar = app.main.query_one(StatusBar)
            assert bar.view.mode == "live" and bar.has_class("-live")
            bid = app.store.snapshot().tickers[SYMBOL].bid
            req = OrderRequest(SYMBOL, "buy", "limit", 1.0, price=round(bid * 0.9, 1))
            app.send_manual(req)
            for _ in range(400):  # bounded (10 s)
                await pilot.pause(0.025)
                if srv.orders and any(e.kind == "order" for e in app.desk.log):
                    break
            assert len(srv.orders) == 1, (srv.requests[-10:], [e.text for e in app.desk.log])
            (cid,) = srv.orders
            assert cid.startswith("ck") and len(cid) == 23  # the cockpit's own client id, never ccxt's
            sent = [e.text for e in app.desk.log]
            assert any(SYMBOL in t and t.startswith("buy ") for t in sent), sent
            # the keys never reach the screen or the log
            assert not any(KEY in t or SECRET in t or PASSWORD in t for t in sent)
            await pilot.press("q")  # live: quit asks first, and says what happens to orders
            await pilot.pause()
            assert type(app.screen).__name__ == "QuitScreen"
            await pilot.press("y")  # cancel the resting order, then quit
            for _ in range(400):  # bounded (10 s)
                await pilot.pause(0.025)
                if not app.is_running:
                    break
            assert all(o["state"] == "canceled" for o in srv.orders.values()), srv.orders
    finally:
        await srv.close()
