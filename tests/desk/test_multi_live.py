"""A live venue beside the built-in market: `cockpit --venue sim --venue okx --live`
against the local fake OKX (127.0.0.1 only). The OKX account is live (its orders reach
the fake venue under OKX's own symbol), the built-in market stays paper."""

from __future__ import annotations

import asyncio

from cockpit.model import OrderRequest
from tests.desk.multi_session import start_multi, until
from tests.venues.fakevenue import INST_ID, SYMBOL

OKX_PERP = f"{SYMBOL}@okx"


async def test_live_okx_beside_paper_sim(live_okx_venue, tmp_path):
    srv, config = live_okx_venue
    s = await start_multi(config, ["sim", "okx"], tmp_path / "acct.sqlite",
                          wait_for=(OKX_PERP, f"{SYMBOL}@sim"), live=True, paper=False)
    poll = asyncio.ensure_future(s.rt.broker.run(s.rt.store, poll_s=0.2))
    try:
        assert s.rt.mode == "live"
        assert s.rt.parts["okx"].mode == "live" and s.rt.parts["sim"].mode == "paper"
        assert await until(lambda: "okx" in s.snap().accounts)
        assert s.snap().accounts["okx"].extra.get("mode") == "live"
        bid = s.snap().tickers[OKX_PERP].bid
        report = await s.desk.send_ticket(OrderRequest(OKX_PERP, "buy", "limit", 1.0,
                                                       price=round(bid * 0.95, 1)))
        assert not report.refused, report.error
        (order,) = report.orders
        assert order.symbol == OKX_PERP  # qualified again on the way back
        assert [o["instId"] for o in srv.orders.values()] == [INST_ID]  # OKX's own name at the venue
        assert await until(lambda: any(o.symbol == OKX_PERP
                                       for o in s.snap().accounts["okx"].open_orders))
        # the kill switch cancels it at the venue, through the OKX journal
        await s.desk.kill()
        assert await until(lambda: not s.snap().accounts["okx"].open_orders)
        okx_j = s.rt.journal.journals["okx"]
        assert [o.status for o in okx_j.orders()] == ["canceled"]
        assert s.rt.journal.journals["sim"].orders() == []
    finally:
        for task in (poll, s.task):
            task.cancel()
        await asyncio.gather(poll, s.task, return_exceptions=True)
        await s.rt.broker.aclose(disarm_dead_man=True)  # closes every venue's broker
        s.rt.journal.close()
