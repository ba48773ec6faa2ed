"""Delta hedging for ``sizing.policy``: the options' delta per underlying, kept inside its band
by a perpetual on any venue.

Roles
-----
Perps carry the trader's directional view, and the policy's caps size them.
A perp whose position only offsets the options (opposite sign to the options'
delta and no larger than it plus the band) is a *hedge perp*: the caps never grow it (cap
``hedge_only``) and its delta counts with the options'. The policy cannot
know which part of a perp was meant as a hedge, so this is the rule; it errs
towards not adding risk.

The hedge
---------
``book delta = options' delta at their targets + hedge perps' delta``.
Inside ``+-delta_band_usd`` nothing happens. Outside, one perp takes the
trade that brings the book delta back to zero (the band's centre, so the
next small move does not trigger another trade): a hedge perp first, then a
perp whose position the hedge reduces, then the deepest book; with several venues,
a perp whose venue account lacks the free margin for the hedge's initial margin
(``venue_free_margin_usd``) comes last. The perps may be on any venue of the book (options on one venue, the hedge on another's perpetual);
when they span several, the decision names the venue chosen and why
(``hedge["venue"]``, ``hedge["venue_why"]``, and the reason's "on VENUE: ..."). A directional
perp chosen for the hedge gets the size its risk caps allow (vol target,
VaR, Kelly, drawdown, margin, liquidation buffer, leverage: the caps that do
not depend on what is held, so the target does not drift with the hedge it
already carries) with the hedge on top; liquidity caps do not cut it (plan
the orders as a TWAP or ladder). When its current position already carries
the hedge (holding keeps the book inside the band) and the change is inside
the no-trade band, it holds. Breakers and the drawdown reduce-only tier
forbid a hedge from growing or flipping a position; the margin-ratio cap
limits it.
"""

from __future__ import annotations

import math

from sizing import constraints as cons
from sizing.contracts import on_grid as _on_grid
from sizing.policy_exposure import is_option

INF = math.inf



def band_delta_usd(options_usd: float, perps_usd: list[float], band_usd: float,
                   ) -> tuple[float, list[bool]]:
    """The delta the band covers, and which perps count as hedges (the one rule).

    ``options_usd`` the options' book delta (premium-adjusted for coin-settled
    options); ``perps_usd`` each perp's delta. A perp is a hedge when it offsets
    the options (opposite sign) and is no larger than them plus the band; the
    band covers the options and the hedge perps. The Greeks panel and the
    policy both ask here.
    """
    flags = [held != 0.0 and held * options_usd < 0.0 and abs(held) <= abs(options_usd) + band_usd
             for held in perps_usd]
    covered = options_usd + sum(h for h, f in zip(perps_usd, flags, strict=True) if f)
    return covered, flags


def groups_with_options(drafts) -> dict[str, tuple[list, list]]:
    """Underlying -> (options, perps) for groups that have both and no NaN member."""
    groups: dict[str, list] = {}
    for d in drafts:
        groups.setdefault(d.inst.group, []).append(d)
    out = {}
    for name, members in groups.items():
        options = [d for d in members if is_option(d.inst)]
        perps = [d for d in members if d.inst.kind == "perp"]
        if options and perps and not any(d.nan for d in members):
            out[name] = (options, perps)
    return out


def option_delta(options, now: bool = False) -> float:
    """The options' book delta (USD) at their targets, or as held now."""
    return sum((d.inst.contracts if now else d.target) * d.expo.book_delta_usd for d in options)


def assign_roles(drafts, band_usd: float) -> None:
    """Mark hedge perps (cap ``hedge_only`` = |current|); options must be settled already.

    A hedge lands within a rounding step of the options' delta, so "no larger
    than it" allows the band on top.
    """
    for options, perps in groups_with_options(drafts).values():
        held = [d.inst.contracts * d.expo.delta_usd for d in perps]
        _, flags = band_delta_usd(option_delta(options), held, band_usd)
        for d, hedger in zip(perps, flags, strict=True):
            if hedger:
                d.caps["hedge_only"] = abs(d.inst.contracts)


def hedge(drafts, s, round_toward) -> None:
    """Fold the hedge into one perp's target per underlying (see the module docstring)."""
    for options, perps in groups_with_options(drafts).values():
        hedgers = [d for d in perps if "hedge_only" in d.caps]
        net = option_delta(options) + sum(d.target * d.expo.delta_usd for d in hedgers)
        # what the Greeks panel reads: the same rule on the positions as held now
        now, _ = band_delta_usd(option_delta(options, now=True),
                                [d.inst.contracts * d.expo.delta_usd for d in perps],
                                s.delta_band_usd)
        for d in options + perps:
            d.inputs.update(option_delta_usd=option_delta(options), book_delta_usd=net,
                            delta_band_usd=s.delta_band_usd, band_delta_now_usd=now,
                            band_breached_now=abs(now) > s.delta_band_usd)
        if abs(net) <= s.delta_band_usd:
            continue
        side = 1 if net < 0 else -1
        fits = {id(p): _margin_fits(p, side, abs(net), s) for p in perps}

        def preference(d, side: int = side, fits: dict = fits) -> tuple:
            reduces = d.inst.contracts != 0 and (d.inst.contracts > 0) != (side > 0)
            depth = cons.slippage_cap(0.0, d.inst.asks if side > 0 else d.inst.bids,
                                      s.slippage_budget_bps)
            return (not fits[id(d)], "hedge_only" not in d.caps, not reduces, -depth,
                    d.inst.symbol)

        d = min(perps, key=preference)
        _fold(d, net, s, round_toward)
        if d.hedge is not None and len({p.inst.venue for p in perps}) > 1:
            short = [p for p in perps if not fits[id(p)]]
            d.hedge.update(venue=d.inst.venue, venue_why=_why_here(d, side, short))


def _margin_fits(d, side: int, net_usd: float, s) -> bool:
    """Whether ``d``'s venue account has the free margin for a hedge of ``net_usd``
    notional: IM = notional x the first tier's initial rate (1 / max_leverage where the
    venue gives no tiers). A hedge that shrinks the position frees margin: it fits."""
    free = d.inst.venue_free_margin_usd
    if free is None or (d.inst.contracts != 0 and (d.inst.contracts > 0) != (side > 0)):
        return True
    tiers = d.inst.margin_tiers
    rate = tiers[0].initial_rate if tiers else 1.0 / max(s.max_leverage, 1e-9)
    return free >= net_usd * rate


def _why_here(d, side: int, short: list) -> str:
    """Why the hedge goes on this perp's venue when perps of several venues could take it
    (the order of ``preference`` in :func:`hedge`)."""
    if short:
        names = ", ".join(sorted({p.inst.venue for p in short}))
        return f"margin is free there, not on {names}"
    if "hedge_only" in d.caps:
        return "it holds the hedge already"
    if d.inst.contracts != 0 and (d.inst.contracts > 0) != (side > 0):
        return "its position there shrinks"
    return "the deepest book within the slippage budget"


def _fold(d, net: float, s, round_toward) -> None:
    """Set ``d.target`` so the book delta returns to zero (``net`` is the book delta now).

    A hedge perp's delta is in ``net``; a directional perp's is not, and its
    hedge content is ``current - raw`` (raw = its cap-based size).
    """
    inst, cur = d.inst, d.inst.contracts
    step, per = inst.amount_step, d.expo.delta_usd
    hedger = "hedge_only" in d.caps
    net_other = net - d.target * per if hedger else net
    anchor = 0.0 if hedger else d.raw
    new = _on_grid(anchor - round(net_other / per / step) * step, step)
    before = net_other + (cur - anchor) * per  # the book delta if this perp holds
    blocked = ""
    no_growth = bool(d.breakers) or bool(d.inputs.get("drawdown_reduce_only"))
    if no_growth and (abs(new) > abs(cur) or new * cur < 0 or cur == 0):
        new = 0.0 if new * cur <= 0 else math.copysign(min(abs(new), abs(cur)), cur)
        blocked = "breaker" if d.breakers else "drawdown"
    margin = d.caps.get("margin_ratio", INF)
    if abs(new) > margin:
        new = math.copysign(round_toward(margin, 0.0, step), new)
        blocked = "margin_ratio"
    already = abs(before) <= s.delta_band_usd
    within_hard = abs(cur) <= min(d.caps.get("margin_ratio", INF),
                                  d.caps.get("liquidation_buffer", INF))
    if (already and within_hard
            and abs(new - cur) < max(s.no_trade_band * abs(cur), inst.min_amount)):
        new = cur  # the position already carries the hedge; the change is churn
    after = net_other + (new - anchor) * per
    d.inputs.update(hedge_delta_before_usd=before, hedge_delta_after_usd=after)
    if blocked:
        d.inputs["hedge_blocked_by"] = blocked
    if new == cur:
        if already:
            d.target, d.binding = cur, "delta_band"
        return
    d.target = new
    if already:  # a directional resize that keeps the hedge in place
        d.binding = d.inputs.get("raw_binding") or d.binding
        d.inputs["keeps_hedge"] = True
        return
    d.hedge = dict(net_before=before, net_after=after, band=s.delta_band_usd, blocked=blocked,
                   base_target=cur if hedger else anchor,
                   base_binding=d.inputs.get("raw_binding") or d.binding,
                   # risk-reducing: the book delta comes in and no directional add rides on it
                   reduces=abs(after) < abs(before) and (
                       hedger or cur == 0 or (anchor * cur >= 0 and abs(anchor) <= abs(cur))))
    d.binding = "delta_band"
