"""One-line reasons a trader reads: "cut BTC/USDT:USDT 2.000 → 1.282: GARCH vol 78% vs 50% target"."""

from __future__ import annotations

import math


def usd(x: float) -> str:
    """Compact signed-free USD: $950, $12.3k, $1.25M."""
    a = abs(x)
    if not math.isfinite(a):
        return "n/a"
    if a >= 1e6:
        return f"${a / 1e6:.2f}M"
    if a >= 1e4:
        return f"${a / 1e3:.1f}k"
    return f"${a:,.0f}"


def signed_usd(x: float) -> str:
    return ("-" if x < 0 else "+") + usd(x)


def amount(x: float, step: float | None = None) -> str:
    """Contracts with the decimals of the venue's step (3 by default)."""
    decimals = 3
    if step and step > 0:
        decimals = max(0, min(8, -math.floor(math.log10(step) + 1e-9)))
    return f"{x:.{decimals}f}"


def model_name(model: str) -> str:
    m = model.lower()
    if m.startswith("gjr"):
        return "GJR-GARCH"
    if m.startswith("garch"):
        return "GARCH"
    if m.startswith("ewma"):
        return "EWMA"
    return "forecast"


def why(d, s) -> str:
    """The binding constraint in words, with the numbers that made it bind."""
    i = d.inputs
    b = d.binding_constraint
    if b == "vol_target":
        return (f"{model_name(str(i['forecast_model']))} vol {i['forecast_vol']:.0%} "
                f"vs {s.target_vol:.0%} target")
    if b == "kelly":
        return (f"{s.kelly_fraction:g}x Kelly = {i['kelly_leverage']:.2f}x leverage at drift "
                f"{i['drift_annual']:.0%}, vol {i['forecast_vol']:.0%}")
    if b == "var" and "portfolio_var_usd" in i:
        share = i["component_var_usd"]
        role = "share" if share > 0 else "hedges it, not cut:"
        return (f"book VaR{s.var_alpha * 100:.0f} {usd(i['portfolio_var_usd'])} vs limit "
                f"{usd(i['var_limit_usd'])} ({s.var_limit:.0%} of equity), this position's "
                f"{role} {signed_usd(share)} ({i['var_scenarios']} FHS days)")
    if b == "var":
        return (f"1-day VaR{s.var_alpha * 100:.0f} {usd(i['var_usd'])} vs limit "
                f"{usd(i['var_limit_usd'])} ({s.var_limit:.0%} of equity, {i['var_method']})")
    if b == "margin_ratio":
        if not math.isfinite(i["margin_ratio"]):
            return "no equity left to carry margin"
        return f"margin ratio {i['margin_ratio']:.0%} vs {s.margin_ratio_cap:.0%} cap"
    if b == "liquidation_buffer":
        return (f"liquidation {i['liquidation_sigmas']:.1f}σ away vs "
                f"{s.liquidation_buffer_sigmas:g}σ buffer")
    if b == "drawdown":
        if i.get("drawdown_scale", 1.0) == 0.0:
            return f"drawdown {i['drawdown']:.1%}: reduce-only tier"
        return f"drawdown {i['drawdown']:.1%} → risk ×{i['drawdown_scale']:g}"
    if b == "leverage":
        return f"gross leverage cap {s.max_leverage:g}x"
    if b == "vega":
        return (f"vega risk {usd(i['group_vega_risk_usd'])}/vol pt vs {usd(s.vega_limit_usd)} "
                f"limit at IV {i['implied_vol']:.0%}")
    if b == "gamma":
        return f"gamma P&L of a 1% move vs {usd(s.gamma_limit_usd)} limit"
    if b == "slippage":
        return f"{s.slippage_budget_bps:g} bps slippage budget"
    if b == "adv":
        return f"{s.adv_fraction:.0%} of average daily volume"
    if b == "breaker":
        return "reduce-only: " + "; ".join(d.breakers)
    return b.replace("_", " ")


def _replace_binding(d, binding: str):
    """``d`` seen through another binding constraint (for the hedge's directional part)."""

    class _View:
        inputs = d.inputs
        breakers = d.breakers
        binding_constraint = binding

    return _View


def reason_for(d, hedge: dict | None, s) -> str:
    """One line for the trader; ``d`` is a Decision whose ``reason`` is still empty."""
    step = None
    sym = d.symbol
    cur, tgt = amount(d.current, step), amount(d.target, step)
    if d.kind == "hedge":
        base = hedge["base_target"]
        h = d.target - base
        side = "buy" if h > 0 else "sell"
        band = f"(band ±{usd(hedge['band'])})"
        blocked = (f" (limited by {hedge['blocked'].replace('_', ' ')})"
                   if hedge.get("blocked") else "")
        where = (f" on {hedge['venue']} ({hedge['venue_why']})"
                 if hedge.get("venue_why") else "")
        if base == d.current:
            return (f"hedge {sym}: book delta {signed_usd(hedge['net_before'])} → "
                    f"{signed_usd(hedge['net_after'])} {band}: {side} {amount(abs(h))}"
                    f"{where}{blocked}")
        verb = "cut" if abs(d.target) < abs(d.current) else "add"
        inner = _replace_binding(d, hedge["base_binding"])
        return (f"{verb} {sym} {cur} → {tgt}: {amount(base)} by {why(inner, s)}, "
                f"{side} {amount(abs(h))} more hedges the options' delta "
                f"{signed_usd(d.inputs.get('option_delta_usd', 0.0))} → "
                f"{signed_usd(hedge['net_after'])} {band}{where}{blocked}")
    if d.kind == "resize":
        verb = "cut" if abs(d.target) < abs(d.current) else "add"
        text = f"{verb} {sym} {cur} → {tgt}: {why(d, s)}"
        if d.inputs.get("keeps_hedge"):
            text += " (the option hedge stays on)"
        if d.breakers and d.binding_constraint != "breaker":
            text += " (reduce-only: " + "; ".join(d.breakers) + ")"
        return text
    b = d.binding_constraint
    if b == "flat":
        return f"hold {sym}: flat (the policy sizes positions, it does not open them)"
    if b == "no_trade_band":
        wanted = amount(d.inputs.get("wanted_target", d.target))
        return (f"hold {sym} {cur}: target {wanted} is inside the "
                f"{s.no_trade_band:.0%} no-trade band")
    if b == "min_amount":
        wanted = amount(d.inputs.get("wanted_target", d.target))
        return f"hold {sym} {cur}: change to {wanted} is below the venue's minimum amount"
    if d.breakers:
        return f"hold {sym} {cur}: reduce-only: " + "; ".join(d.breakers)
    if b == "delta_band":
        i = d.inputs
        return (f"hold {sym} {cur}: already hedges the options (book delta "
                f"{signed_usd(i.get('hedge_delta_before_usd', 0.0))} inside "
                f"±{usd(s.delta_band_usd)})")
    if b == "hedge_only":
        return (f"hold {sym} {cur}: hedges the options' delta (sized by the delta band, "
                f"not by vol)")
    if b == "option_adds":
        return f"hold {sym} {cur}: inside every limit (the policy only cuts options)"
    if b in ("slippage", "adv"):
        return f"hold {sym} {cur}: no room to add within the {why(d, s)}"
    return f"hold {sym} {cur}: at the {b.replace('_', ' ')} cap ({why(d, s)})"
