"""Every [sizing] value reaches each of its consumers: the policy's settings (as the
session builds them and as ``cockpit size`` does), the margin panel's liquidation buffer
and the Greeks panel's delta band."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cockpit.config import Config, SizingConfig
from cockpit.desk import policy_settings
from tests.tui.conftest import make_app, settle

UNUSUAL = dict(target_vol=0.37, kelly_fraction=0.31, max_leverage=2.3, var_limit=0.043,
               var_method="filtered", margin_ratio_cap=0.41, liquidation_buffer_sigmas=2.7,
               slippage_budget_bps=13.0, adv_fraction=0.07, delta_band_usd=31_234.0,
               gamma_limit_usd=4_321.0, vega_limit_usd=1_234.0, no_trade_band=0.07,
               stale_after_s=7.0, vol_spike_threshold=2.6,
               drawdown_tiers=((0.04, 0.6), (0.12, 0.0)), drift_annual=0.03, vol_model="gjr")


def _config() -> Config:
    return Config(sizing=SizingConfig(**UNUSUAL))


def test_every_sizing_key_is_set_to_an_unusual_value():
    assert set(UNUSUAL) == set(SizingConfig.model_fields)  # a new key must be added here


def test_every_sizing_value_reaches_the_policy_both_ways(tmp_path):
    settings = policy_settings(_config())
    path = tmp_path / "c.toml"
    lines = ["[sizing]"]
    for key, value in UNUSUAL.items():
        if isinstance(value, str):
            lines.append(f'{key} = "{value}"')
        elif isinstance(value, tuple):
            lines.append(f"{key} = {[list(t) for t in value]}")
        else:
            lines.append(f"{key} = {value}")
    path.write_text("\n".join(lines) + "\n")
    from cockpit.size_cmd import _settings

    from_cli, _ = _settings(path, {})
    for key, value in UNUSUAL.items():
        assert getattr(settings, key) == value, key
        assert getattr(from_cli, key) == value, key


async def test_the_panels_read_the_sizing_values():
    app = make_app(_config())
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(app, pilot)
        from widgets.greeks import GreeksPanel
        from widgets.margin import MarginPanel

        margin = app.query_one(MarginPanel).view
        greeks = app.query_one(GreeksPanel).view
        assert margin.buffer_sigmas == 2.7
        assert greeks.delta_band_usd == 31_234.0
        assert all(b.band_usd == 31_234.0 for b in greeks.bands)
        # the rows flagged inside the buffer are exactly those nearer than 2.7 sigmas
        for r in margin.rows:
            if r.distance_sigmas is not None and math.isfinite(r.distance_sigmas):
                assert r.inside_buffer == (r.distance_sigmas < 2.7)


def test_ewma_vol_model_is_the_riskmetrics_recursion():
    from sizing.volatility import vol_forecast

    rng = np.random.default_rng(2)
    r = rng.normal(0, 0.01, 500)
    v = r[0] ** 2  # written out: sigma2_t = 0.94 sigma2_{t-1} + 0.06 r_{t-1}^2
    for x in r[1:]:
        v = 0.94 * v + 0.06 * x * x
    f = vol_forecast(r, 8760.0, model="ewma")
    assert f.model == "ewma" and f.converged
    assert f.vol_annual == pytest.approx(math.sqrt(v * 8760.0), rel=0.05)
    with pytest.raises(ValueError, match="model"):
        vol_forecast(r, 8760.0, model="egarch")


def test_volatility_panel_shows_the_yang_zhang_range_estimator():
    from cockpit import views
    from tests.risk.demo_book import demo_runtime

    snap = demo_runtime().store.snapshot()
    v = views.vol_view(snap, "BTC", None)
    bars = snap.bars[v.symbol]
    o, h, lo, c = (np.asarray(x, float)[-169:] for x in (bars.open, bars.high, bars.low,
                                                         bars.close))
    # Yang & Zhang (2000), written from the paper: overnight, open-close, Rogers-Satchell
    on, oc = np.log(o[1:] / c[:-1]), np.log(c[1:] / o[1:])
    rs = np.log(h[1:] / c[1:]) * np.log(h[1:] / o[1:]) + np.log(lo[1:] / c[1:]) * np.log(
        lo[1:] / o[1:])
    n = len(on)
    k = 0.34 / (1.34 + (n + 1) / (n - 1))
    yz = math.sqrt((on.var(ddof=1) + k * oc.var(ddof=1) + (1 - k) * rs.mean()) * 8760.0)
    assert v.range_vol == pytest.approx(yz, rel=1e-9)
    from widgets.volatility import vol_rows

    assert "Yang-Zhang" in vol_rows(v)[0].cells[2].text
