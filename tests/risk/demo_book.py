"""The demo account (seed 7, fixed start) and an independent revaluation of it.

The revaluation is written from the published rules, not from ``sizing``:
Black (1976) for options at each ticker's mark IV, Deribit's standard option
maintenance margin, the venue's tier table for perps, coin collateral at the
new coin price. Used by the liquidation and ``cockpit size --json`` tests.
"""

from __future__ import annotations

import math

from cockpit.config import Config
from cockpit.model import OrderRequest
from cockpit.runtime import build_demo

START_MS = 1_795_435_200_000  # 2026-11-23 08:00:00 UTC, as the TUI tests
YEAR_MS = 365.0 * 86_400_000.0
STABLE = {"USD", "USDT", "USDC"}


def demo_runtime():
    return build_demo(Config(), seed=7, start_ms=START_MS, state_path=None)


def after_R(rt):
    """Approve every risk-reducing decision of one engine run, as the R key does."""
    from cockpit.desk import policy_settings
    from cockpit.engine import EngineRunner
    from cockpit.engine_input import state_from_snapshot
    from sizing.policy import decide

    settings = policy_settings(rt.config)
    snap = rt.store.snapshot()
    forecasts, _ = EngineRunner(settings).forecasts(snap)
    decisions = decide(state_from_snapshot(snap, forecasts=forecasts), settings, forecasts)
    sent = 0
    for d in decisions:
        if d.reduces_risk and d.order != 0:
            inst = snap.instruments[d.symbol]
            amount = math.floor(abs(d.order) / inst.amount_step + 1e-9) * inst.amount_step
            if amount > 0:
                rt.broker.place_order(OrderRequest(d.symbol, "buy" if d.order > 0 else "sell",
                                                   "market", round(amount, 10)))
                sent += 1
    rt.store.on_account(rt.broker.account())
    return sent


def _ncdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def black76(f: float, k: float, t: float, vol: float, call: bool) -> float:
    """Black (1976), zero rate: the USD price of an option on 1 coin."""
    s = vol * math.sqrt(t)
    d1 = math.log(f / k) / s + 0.5 * s
    d2 = d1 - s
    if call:
        return f * _ncdf(d1) - k * _ncdf(d2)
    return k * _ncdf(-d2) - f * _ncdf(-d1)


def _tier_mm(notional: float, tiers) -> float:
    for t in tiers:
        if notional <= t.max_notional:
            return max(notional * t.maintenance_rate - t.maintenance_amount, 0.0)
    t = tiers[-1]
    return max(notional * t.maintenance_rate - t.maintenance_amount, 0.0)


def equity_and_mm(snap, moves: dict[str, float]) -> tuple[float, float]:
    """(equity USD, maintenance margin USD) with each coin's price times ``moves[coin]``."""
    acct = snap.account

    def coin_usd(c: str) -> float:
        if c in STABLE:
            return 1.0
        perp = next(i for i in snap.instruments.values() if i.kind == "perp" and i.base == c)
        return snap.tickers[perp.symbol].index * moves.get(c, 1.0)

    equity = sum(b.total * coin_usd(b.currency) for b in acct.balances)
    mm = 0.0
    for p in acct.positions:
        inst, t = snap.instruments[p.symbol], snap.tickers[p.symbol]
        k = moves.get(inst.base, 1.0)
        if inst.kind == "option":
            s = t.underlying_price * k
            years = (inst.expiry_ms - snap.ts_ms) / YEAR_MS
            coin = black76(s, inst.strike, years, t.mark_iv, inst.is_call) / s
            coins = p.contracts * inst.contract_size
            equity += coins * (coin - p.entry_price) * coin_usd(inst.settle)
            if p.contracts < 0:
                per = (0.075 + coin) if inst.is_call else (max(0.075, 0.075 * coin) + coin)
                mm += abs(coins) * per * coin_usd(inst.settle)
        else:  # the demo's perps are linear USDT contracts
            mark = t.mark * k
            equity += p.contracts * inst.contract_size * (mark - p.entry_price)
            mm += _tier_mm(abs(p.contracts) * inst.contract_size * mark, inst.margin_tiers)
    return equity, mm
