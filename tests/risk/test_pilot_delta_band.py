"""Pilot: the Greeks panel's delta flag and the policy's band read one number."""

from __future__ import annotations

import pytest

from tests.tui.conftest import make_app, settle

SIZE = (160, 50)


async def test_greeks_panel_flag_and_policy_band_read_the_same_number():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        from widgets.greeks import GreeksPanel

        view = app.query_one(GreeksPanel).view
        bands = {b.underlying: b for b in view.bands}
        decisions = app.desk.last_result.decisions
        btc = [d for d in decisions if "band_delta_now_usd" in d.inputs
               and d.symbol.startswith("BTC")]
        assert btc, "the policy saw the BTC options and perps as one group"
        for d in btc:
            assert d.inputs["band_delta_now_usd"] == pytest.approx(bands["BTC"].covered_usd,
                                                                   rel=1e-6)
            assert d.inputs["band_breached_now"] == bands["BTC"].outside
        # the demo's options (net of premium) are outside the band: the panel says OUT and
        # the policy proposes the hedge, rather than "every position is inside its limits"
        assert bands["BTC"].outside and view.breach
        assert any(d.kind == "hedge" or d.binding_constraint == "delta_band" for d in btc)
        from widgets.greeks import band_text
        from widgets.palette import DEFAULT_PALETTE

        text = band_text(view, DEFAULT_PALETTE).plain
        assert "BTC options" in text and "OUT" in text and "your view" in text
