"""`--venue okx --paper` with no symbols, over the real network path (ccxt's aiohttp
client and ccxt.pro websockets) against the fake OKX on 127.0.0.1: the defaults are
chosen from the fake's markets and streamed. The fake prices every instrument alike
(101,000 here), so only BTC's chain lies in the band; ETH shows its perpetual."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

from cockpit.config import Config, VenueConfig
from cockpit.runtime import build_runtime
from tests.venues.fakevenue import FakeOkx

NOW_S = datetime(2026, 12, 4, 7, 30, tzinfo=UTC).timestamp()  # the chain fixture's clock
BOUND_S = 8.0


async def test_zero_config_okx_streams_its_defaults(tmp_path):
    async with FakeOkx() as fake:
        fake.chain, fake._price = True, 101_000.0
        config = Config(venues={"okx": VenueConfig(rest_url=fake.rest_url, ws_url=fake.ws_url)})
        args = argparse.Namespace(replay=None, venue="okx", live=False, paper=True, symbols=None,
                                  state=tmp_path / "paper.sqlite", reset=False, speed=1.0)
        runtime = build_runtime(args, config)
        runtime.feed._clock = lambda: NOW_S
        task = asyncio.ensure_future(runtime.feed.run(runtime.store))
        want = "BTC/USD:BTC-261205-100000-C"
        try:
            for _ in range(int(BOUND_S / 0.02)):
                snap = runtime.store.snapshot()
                if want in snap.books:
                    break
                await asyncio.sleep(0.02)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        snap = runtime.store.snapshot()
        options = {s for s, i in snap.instruments.items() if i.kind == "option"}
        assert {"BTC/USDT:USDT", "ETH/USDT:USDT"} <= set(snap.instruments)
        assert options == {f"BTC/USD:BTC-{day}-{k}-{kind}" for day in ("261205", "261211")
                           for k in (95_000, 100_000, 105_000) for kind in "CP"}
        assert want in snap.books  # streamed, not only listed
        assert ("books", "BTC-USD-261205-100000-C") in fake.subscriptions, fake.subscriptions
