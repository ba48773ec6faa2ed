"""The policy's input checks and breakers: bad fields, the forecast to use, drawdown, spikes.

Helpers of ``sizing.policy`` (numbers in, plain values out); kept apart so the
policy module reads as the rules.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import numpy as np

from sizing.policy_types import InstrumentState, PolicySettings, PortfolioState

INF = math.inf


def bad_field(inst: InstrumentState) -> str:
    """Name of the first NaN/inf field (or non-positive price) of ``inst``, else ''."""
    for f in dataclasses.fields(inst):
        v = getattr(inst, f.name)
        if isinstance(v, bool) or v is None or isinstance(v, str):
            continue
        if isinstance(v, float | int):
            # inf is meaningful for these two: unknown volume, no timestamp (stale)
            if not math.isfinite(v) and not (f.name in ("adv_contracts", "data_age_s")
                                             and v == INF):
                return f.name
        elif isinstance(v, np.ndarray):
            if v.size and not np.isfinite(v).all():
                return f.name
        elif isinstance(v, tuple):
            for t in v:
                if not all(math.isfinite(x) for x in (t.max_notional, t.initial_rate,
                                                      t.maintenance_rate, t.maintenance_amount)):
                    return f.name
    for name in ("mark_price", "underlying_price", "contract_size"):
        if getattr(inst, name) <= 0:
            return f"{name} (not positive)"
    if inst.kind == "option" and (inst.implied_vol <= 0 or inst.years <= 0 or inst.strike <= 0):
        return "implied_vol/years/strike (not positive)"
    return ""


def forecast_for(inst: InstrumentState, forecasts: Mapping[str, object]) -> tuple[float, str]:
    if inst.forecast_vol is not None:
        return float(inst.forecast_vol), inst.forecast_model or "given"
    f = forecasts.get(inst.symbol, forecasts.get(inst.group))
    if f is not None:
        if isinstance(f, int | float):
            return float(f), "given"
        return float(f.vol_annual), str(f.model)
    if len(inst.log_returns) < 2:
        return math.nan, "none: no forecast and no returns"
    from sizing.volatility import ewma_vol

    return float(np.asarray(ewma_vol(inst.log_returns, inst.periods_per_year)).ravel()[-1]), \
        "ewma (no GARCH forecast)"


def drawdown_for(state: PortfolioState, settings: PolicySettings):
    from sizing.risk import DrawdownTier, drawdown_state

    tiers = tuple(DrawdownTier(dd, scale, reduce_only=scale == 0.0)
                  for dd, scale in settings.drawdown_tiers)
    peak = max(state.peak_equity_usd, state.equity_usd)
    if peak <= 0:  # an account with no equity at all sits in the deepest tier
        return drawdown_state(0.0, 1.0, tiers)
    return drawdown_state(state.equity_usd, peak, tiers)


def spike_for(inst: InstrumentState, settings: PolicySettings, cache: dict):
    r = inst.log_returns
    if len(r) < settings.vol_spike_long:
        return None
    key = id(r)
    if key not in cache:
        from sizing.volatility import vol_spike

        cache[key] = vol_spike(r, inst.periods_per_year, short=settings.vol_spike_short,
                               long=settings.vol_spike_long,
                               threshold=settings.vol_spike_threshold)
    return cache[key]


def breakers_for(inst, s: PolicySettings, spikes: dict, inputs: dict) -> list[str]:
    out = []
    if math.isinf(inst.data_age_s):
        out.append("stale data: no timestamp")
    elif inst.data_age_s > s.stale_after_s:
        out.append(f"stale data {inst.data_age_s:.1f}s > {s.stale_after_s:g}s")
    spike = spike_for(inst, s, spikes)
    if spike is not None:
        inputs["vol_spike_ratio"] = float(spike.ratio)
        if spike.tripped:
            out.append(f"vol spike {float(spike.ratio):.1f}x "
                       f"({s.vol_spike_short} vs {s.vol_spike_long} bars)")
    if s.reduce_only:
        out.append("trading state not ACTIVE")  # the desk is REDUCING or HALTED
    if not s.allow_increases:
        out.append("increases disabled")
    return out
