"""The sizing policy: a portfolio state in, one explained decision per instrument out.

``decide(state, settings, forecasts)`` computes for each instrument every cap
of ``sizing.constraints`` (vol target, fractional Kelly, VaR, drawdown tier,
margin-ratio cap, liquidation buffer, gross leverage, vega and gamma limits,
book slippage, ADV, breakers) and sets the target to the tightest one.

Rules
-----
* Vol targeting sizes ``|position|``: a decision keeps the position's side
  and never opens a flat one; only a delta hedge may open or flip a perp.
* Increases take the tightest cap; liquidity caps (slippage, ADV) only ever
  limit increases. Reductions forced by margin, the liquidation buffer, the
  drawdown tier or a breaker come first in the returned tuple.
* A no-trade band (``no_trade_band`` of the current size, and the venue's
  minimum amount) holds instead of churning; the hard limits (margin ratio,
  liquidation buffer) still cut through it.
* Perps (and dated futures) carry the trader's directional view and are
  sized by the caps. The delta the options add on top is kept within
  ``delta_band_usd`` per underlying: past it, a perpetual of the same
  underlying (any venue in the state) takes the trade that brings the book
  delta back to zero (``sizing.policy_hedge`` has the rules: which perp,
  and how a perp that already carries a hedge is told apart). The policy
  only ever cuts option positions, never adds to them.
* Breakers (stale data, vol spike, the trader's reduce-only switch or
  ``allow_increases=False``, the drawdown reduce-only tier) make the policy
  reduce-only for the instrument and name themselves.
* NaN (or a non-positive price) anywhere in an instrument's inputs or the
  account gives that instrument a "hold" naming the field, with order 0.

Example
-------
>>> from sizing.policy import InstrumentState, PolicySettings, PortfolioState, decide
>>> btc = InstrumentState("BTC/USDT:USDT", "perp", contracts=1.0, mark_price=60_000.0,
...                       underlying_price=60_000.0, forecast_vol=0.78, underlying="BTC",
...                       forecast_model="garch")
>>> d, = decide(PortfolioState(60_000.0, 60_000.0, 0.0, (btc,)), PolicySettings(var_limit=0.1))
>>> round(d.target, 3), d.binding_constraint
(0.641, 'vol_target')
>>> d.reason
'cut BTC/USDT:USDT 1.000 → 0.641: GARCH vol 78% vs 50% target'
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

from sizing import constraints as cons
from sizing import policy_checks, policy_hedge, policy_var
from sizing.contracts import round_toward
from sizing.policy_exposure import exposure, is_option, maintenance_usd
from sizing.policy_text import reason_for
from sizing.policy_types import (
    Decision,
    InstrumentState,
    PolicySettings,
    PortfolioState,
    WhatIf,
)

__all__ = [
    "Decision",
    "InstrumentState",
    "PolicySettings",
    "PortfolioState",
    "WhatIf",
    "decide",
    "fit_forecasts",
]

INF = math.inf
HARD = ("margin_ratio", "liquidation_buffer")
FORCED = ("breaker", "margin_ratio", "liquidation_buffer", "drawdown")
# tie-break order when two caps are equal: the hard reasons first
PRIORITY = ("breaker", "margin_ratio", "liquidation_buffer", "drawdown", "var", "vol_target",
            "kelly", "leverage", "vega", "gamma", "option_adds", "hedge_only", "slippage",
            "adv")
# the caps that do not depend on the size held now (liquidity caps and breakers do)
SIZING = ("margin_ratio", "liquidation_buffer", "drawdown", "var", "vol_target", "kelly",
          "leverage", "vega", "gamma")
_ACCOUNT_FIELDS = ("equity_usd", "peak_equity_usd", "maintenance_margin_usd")


class _Draft:
    """Working notes for one instrument while ``decide`` runs (not returned)."""

    __slots__ = ("inst", "expo", "vol", "model", "direction", "caps", "inputs", "breakers",
                 "nan", "target", "binding", "hedge", "mm_now", "mm_other", "var_pc", "raw")

    def __init__(self, inst: InstrumentState) -> None:
        self.inst = inst
        self.expo = None
        self.vol = math.nan
        self.model = ""
        self.direction = -1 if inst.contracts < 0 else 1
        self.caps: dict[str, float] = {}
        self.inputs: dict[str, object] = {}
        self.breakers: list[str] = []
        self.nan = ""
        self.target = inst.contracts
        self.binding = "hold"
        self.hedge: dict | None = None
        self.mm_now = 0.0
        self.mm_other = 0.0
        self.var_pc: dict[int, float] = {}
        self.raw = inst.contracts  # what the risk caps alone allow (see SIZING)


def decide(
    state: PortfolioState,
    settings: PolicySettings | None = None,
    forecasts: Mapping[str, object] | None = None,
) -> tuple[Decision, ...]:
    """One decision per instrument of ``state`` (forced cuts first, holds last).

    Parameters
    ----------
    state : PortfolioState
        Account and instruments (numbers only; see ``sizing.policy_types``).
    settings : PolicySettings, optional
        The risk settings; defaults match the config's ``[sizing]``.
    forecasts : mapping, optional
        Symbol or underlying -> a forecast (anything with ``vol_annual`` and
        ``model``, e.g. ``sizing.volatility.GarchForecast``, or a float vol).
        An instrument's own ``forecast_vol`` wins; without either, an EWMA of
        its returns is used and the decision says so. ``decide`` never fits
        GARCH itself: see ``fit_forecasts``.

    Returns
    -------
    tuple of Decision
    """
    settings = settings if settings is not None else PolicySettings()
    forecasts = forecasts or {}
    account_nan = next((f for f in _ACCOUNT_FIELDS if not math.isfinite(getattr(state, f))), "")
    dd = None if account_nan else policy_checks.drawdown_for(state, settings)
    spikes: dict[int, object] = {}
    bad = [policy_checks.bad_field(i) for i in state.instruments]
    gross = sum(abs(i.contracts) * exposure(i).notional_usd
                for i, b in zip(state.instruments, bad, strict=True) if not is_option(i) and not b)
    drafts = [_draft(inst, state, settings, forecasts, account_nan or b, dd, spikes, gross)
              for inst, b in zip(state.instruments, bad, strict=True)]
    _greek_caps(drafts, settings)
    if state.book is not None:  # the VaR limit on the whole book, by component
        policy_var.apply(drafts, state, settings)
    # options first: the perps' hedge roles depend on the options' targets
    for d in drafts:
        if not d.nan and is_option(d.inst):
            _settle(d, settings)
    policy_hedge.assign_roles(drafts, settings.delta_band_usd)
    for d in drafts:
        if not d.nan and not is_option(d.inst):
            _settle(d, settings)
    policy_hedge.hedge(drafts, settings, _round_toward)
    decisions = [_finish(d, state, settings) for d in drafts]
    order = sorted(range(len(decisions)), key=lambda i: (_rank(decisions[i]), i))
    return tuple(decisions[i] for i in order)


def fit_forecasts(
    state: PortfolioState, previous: Mapping[str, object] | None = None, horizon: int = 24,
    model: str = "garch",
) -> dict[str, object]:
    """Vol forecasts keyed by underlying, one fit per underlying's return series.

    ``horizon`` in bars (24 hourly bars = the one-day horizon the caps use);
    ``previous`` (same keys) warm-starts each fit; ``model`` as ``[sizing] vol_model``
    (``sizing.volatility.vol_forecast``). Slow for GARCH (tens of ms per fit):
    cache the result and hand it to ``decide``.
    """
    from sizing.volatility import vol_forecast

    previous = previous or {}
    out: dict[str, object] = {}
    for inst in state.instruments:
        if inst.group in out or len(inst.log_returns) == 0 or inst.forecast_vol is not None:
            continue
        out[inst.group] = vol_forecast(inst.log_returns, inst.periods_per_year,
                                       horizon=horizon, previous=previous.get(inst.group),
                                       model=model)
    return out


def _draft(inst, state, settings, forecasts, account_nan, dd, spikes, gross) -> _Draft:
    d = _Draft(inst)
    d.nan = account_nan
    if d.nan:
        return d
    d.vol, d.model = policy_checks.forecast_for(inst, forecasts)
    if not (math.isfinite(d.vol) and d.vol > 0):
        d.nan = f"forecast_vol ({d.model})"
        return d
    d.expo = expo = exposure(inst)
    if not all(math.isfinite(x) for x in (expo.notional_usd, expo.delta_usd, expo.vega_usd,
                                          expo.gamma_1pct_usd, expo.price_usd)):
        d.nan = "option Greeks (Black-76 gave NaN)"
        return d
    cur, sign = inst.contracts, d.direction
    equity, s = state.equity_usd, settings
    caps = d.caps
    caps["vol_target"] = cons.vol_target_cap(equity, d.vol, s.target_vol, expo.delta_usd)
    drift = s.drift_annual if inst.drift_annual is None else inst.drift_annual
    kelly_lev = None
    if not is_option(inst):
        caps["kelly"], kelly_lev = cons.kelly_cap(equity, d.vol, drift, s.kelly_fraction,
                                                  expo.delta_usd, sign)
        other = gross - abs(cur) * expo.notional_usd
        caps["leverage"] = cons.leverage_cap(equity, s.max_leverage, other, expo.notional_usd)
    var_pc, var_method = cons.var_per_contract(inst, expo, d.vol, s.var_alpha, s.var_method, sign)
    d.var_pc = {sign: var_pc}
    caps["var"] = cons.var_cap(equity, s.var_limit, var_pc)
    d.mm_now = maintenance_usd(inst, cur)
    venue_mm = inst.maintenance_margin_usd
    mm_i = venue_mm if venue_mm is not None else d.mm_now
    # the account figure can lag our model of this position: never below zero
    d.mm_other = max(state.maintenance_margin_usd - mm_i, 0.0)
    budget = cons.margin_budget_usd(mm_i, state.maintenance_margin_usd,
                                    s.margin_ratio_cap * equity)
    caps["margin_ratio"] = cons.margin_cap(inst, sign, budget)
    if state.book is not None:  # the account revalued, as the margin panel shows it
        from sizing import policy_liquidation as pl

        caps["liquidation_buffer"] = pl.liquidation_cap(
            state.book, inst, d.vol, s.liquidation_buffer_sigmas, equity, expo.notional_usd,
            tolerance=0.5 * inst.amount_step)
        liq_sigmas = pl.liquidation_sigmas(state.book, inst, cur, d.vol)
    else:
        caps["liquidation_buffer"] = cons.liquidation_cap(
            inst, equity, d.mm_other, d.vol, s.liquidation_buffer_sigmas, expo.delta_usd, sign)
        liq_pct = cons.liquidation_pct(equity, d.mm_other, d.mm_now, cur, expo.delta_usd)
        liq_sigmas = INF if is_option(inst) else cons.pct_to_sigmas(liq_pct, d.vol, sign)
    d.inputs["drawdown_reduce_only"] = dd.reduce_only
    if dd.reduce_only:
        caps["drawdown"] = abs(cur)
    elif dd.scale < 1.0:
        caps["drawdown"] = dd.scale * min(caps["vol_target"], caps.get("kelly", INF), caps["var"])
    levels = inst.asks if sign > 0 else inst.bids
    caps["slippage"] = cons.slippage_cap(abs(cur), levels, s.slippage_budget_bps)
    caps["adv"] = cons.adv_cap(abs(cur), inst.adv_contracts, s.adv_fraction)
    d.breakers = policy_checks.breakers_for(inst, s, spikes, d.inputs)
    if d.breakers:
        caps["breaker"] = abs(cur)
    if is_option(inst):
        # the trader picks option structures; the policy only ever cuts them
        caps["option_adds"] = abs(cur)
    for name, cap in caps.items():  # a negative cap (no equity) means "none at all"
        caps[name] = max(cap, 0.0)
    d.inputs.update(
        forecast_vol=d.vol, forecast_model=d.model, var_method=var_method,
        var_usd=var_pc * abs(cur), var_limit_usd=s.var_limit * equity,
        kelly_fraction=s.kelly_fraction, kelly_leverage=kelly_lev, drift_annual=drift,
        drawdown=dd.drawdown, drawdown_scale=dd.scale, drawdown_tier=dd.tier_label,
        margin_ratio=state.maintenance_margin_usd / equity if equity > 0 else INF,
        liquidation_sigmas=liq_sigmas,
        delta_usd=cur * expo.delta_usd, data_age_s=inst.data_age_s, target_vol=s.target_vol,
        equity_usd=equity, leverage=_leverage(inst, cur, expo, equity),
    )
    if is_option(inst):
        d.inputs.update(implied_vol=inst.implied_vol, vega_usd=cur * expo.vega_usd,
                        gamma_1pct_usd=cur * expo.gamma_1pct_usd)
    return d


def _leverage(inst, contracts: float, expo, equity: float) -> float:
    """Notional over equity; options count their delta-notional (|delta| x underlying)."""
    if equity <= 0:
        return INF
    per = abs(expo.delta_usd) if is_option(inst) else expo.notional_usd
    return abs(contracts) * per / equity


def _greek_caps(drafts: list[_Draft], s: PolicySettings) -> None:
    groups: dict[str, list[_Draft]] = {}
    for d in drafts:
        if not d.nan and is_option(d.inst):
            groups.setdefault(d.inst.group, []).append(d)
    for members in groups.values():
        cur = [d.inst.contracts for d in members]
        vega_risk = [abs(d.expo.vega_usd) * max(1.0, d.inst.implied_vol / s.vega_reference_iv)
                     for d in members]
        gamma = [abs(d.expo.gamma_1pct_usd) for d in members]
        for d, vcap, gcap in zip(members, cons.greek_caps(cur, vega_risk, s.vega_limit_usd),
                                 cons.greek_caps(cur, gamma, s.gamma_limit_usd), strict=True):
            d.caps["vega"], d.caps["gamma"] = vcap, gcap
        gross_vega = sum(abs(n) * r for n, r in zip(cur, vega_risk, strict=True))
        for d in members:
            d.inputs["group_vega_risk_usd"] = gross_vega


_round_toward = round_toward  # the one step-grid rule (sizing.contracts)


def _settle(d: _Draft, s: PolicySettings) -> None:
    inst, cur_abs = d.inst, abs(d.inst.contracts)
    if cur_abs == 0.0:
        d.target, d.binding, d.raw = 0.0, "flat", 0.0
        return
    name = min(PRIORITY, key=lambda n: (d.caps.get(n, INF), PRIORITY.index(n)))
    cap = max(d.caps.get(name, INF), 0.0)
    t = _round_toward(cap, cur_abs, inst.amount_step)
    # what the risk caps alone allow, whatever is held now (a hedge perp's anchor)
    sizing = [n for n in SIZING if n in d.caps]
    d.inputs["raw_binding"] = min(sizing, key=lambda n: d.caps[n], default="")
    raw = max(min((d.caps[n] for n in sizing), default=cur_abs), 0.0)
    d.raw = d.direction * (cur_abs if math.isinf(raw) else
                           math.floor(raw / inst.amount_step + 1e-9) * inst.amount_step)
    held_by = ""
    if t != cur_abs and abs(t - cur_abs) < s.no_trade_band * cur_abs:
        held_by = "no_trade_band"
    elif t != cur_abs and abs(t - cur_abs) < inst.min_amount:
        held_by = "min_amount"
    banded = cur_abs if held_by else t
    hard_name = min(HARD, key=lambda n: d.caps.get(n, INF))
    hard = d.caps.get(hard_name, INF)
    hard_t = _round_toward(max(hard, 0.0), cur_abs, inst.amount_step) if hard < cur_abs else INF
    final = min(banded, hard_t)
    if final < banded:
        name, held_by = hard_name, ""
    d.binding = held_by or name
    d.target = d.direction * final
    if held_by:
        d.inputs["wanted_target"] = d.direction * t


def _finish(d: _Draft, state: PortfolioState, s: PolicySettings) -> Decision:
    inst = d.inst
    cur = inst.contracts
    if d.nan:
        return Decision(inst.symbol, inst.venue, "hold", cur, cur, 0.0, "nan",
                        f"hold {inst.symbol}: NaN or bad value in {d.nan}", False,
                        inputs={"bad_field": d.nan})
    target = d.target
    order = target - cur
    if d.hedge is not None:
        # a hedge reduces risk when it brings the book delta in without growing a view
        reduces = d.hedge["reduces"]
    else:
        reduces = order != 0 and abs(target) < abs(cur) and target * cur >= 0
    kind = "hold" if order == 0 else "hedge" if d.hedge is not None else "resize"
    forced = kind == "resize" and reduces and d.binding in FORCED
    direction = -1 if target < 0 else 1
    equity = state.equity_usd
    mm_after = maintenance_usd(inst, target)
    ratio = (d.mm_other + mm_after) / equity if equity > 0 else INF
    if state.book is not None:
        from sizing import policy_liquidation as pl

        liq = d.inputs["liquidation_sigmas"] if target == cur else \
            pl.liquidation_sigmas(state.book, inst, target, d.vol)
    elif is_option(inst) or target == 0:
        liq = INF
    else:
        pct = cons.liquidation_pct(equity, d.mm_other, mm_after, target, d.expo.delta_usd)
        liq = cons.pct_to_sigmas(pct, d.vol, direction)
    if direction not in d.var_pc:
        d.var_pc[direction], _ = cons.var_per_contract(inst, d.expo, d.vol, s.var_alpha,
                                                       s.var_method, direction)
    var_pc = d.var_pc[direction]
    after = WhatIf(margin_ratio=ratio, liquidation_sigmas=liq, var_usd=var_pc * abs(target))
    inputs = dict(d.inputs)
    if order != 0:
        inputs.update(_slippage(inst, order))
    decision = Decision(
        inst.symbol, inst.venue, kind, cur, target, order, d.binding, "", reduces, forced,
        caps=dict(d.caps), inputs=inputs, after=after, breakers=tuple(d.breakers),
    )
    return dataclasses.replace(decision, reason=reason_for(decision, d.hedge, s))


def _slippage(inst: InstrumentState, order: float) -> dict:
    levels = inst.asks if order > 0 else inst.bids
    if len(levels) == 0:
        return {"expected_slippage_bps": math.nan, "slippage_note": "no book"}
    from sizing.liquidity import walk_book

    walk = walk_book(levels, abs(order))
    out = {"expected_slippage_bps": float(walk.slippage_bps)}
    if float(walk.filled) < abs(order) - 1e-12:
        out["slippage_note"] = f"book holds only {float(walk.filled):g} of {abs(order):g}"
    return out


def _rank(d: Decision) -> int:
    if d.kind == "resize" and d.forced:
        return 0
    if d.kind == "resize" and d.reduces_risk:
        return 1
    return {"hedge": 2, "resize": 3}.get(d.kind, 4)
