"""``cockpit size --json``'s ``account`` object is enough for a script to check the
cockpit: revalued from the JSON alone, the account meets maintenance margin at each
reported liquidation level, the stress grid's centre is today, and VaR has a tail."""

from __future__ import annotations

import io
import json
import math
from contextlib import redirect_stdout

import pytest

from cockpit import size_cmd
from tests.risk.demo_book import black76


def _size_json() -> dict:
    out = io.StringIO()
    with redirect_stdout(out):
        assert size_cmd.run(["--seed", "7", "--json"]) == 0
    return json.loads(out.getvalue())


def _mm_tiers(notional: float, tiers: list[dict]) -> float:
    for t in tiers:
        if notional <= t["max_notional"]:
            return max(notional * t["maintenance_rate"] - t["maintenance_amount"], 0.0)
    t = tiers[-1]
    return max(notional * t["maintenance_rate"] - t["maintenance_amount"], 0.0)


def revalue_from_json(acct: dict, underlying: str, k: float) -> tuple[float, float]:
    """(equity, MM) in USD with ``underlying`` at ``k`` x today, from the JSON only."""
    prices = dict(acct["prices_usd"])
    prices[underlying] = prices[underlying] * k

    def usd(c):
        return 1.0 if c in ("USDT", "USD", "USDC") else prices[c]

    equity = sum(a * usd(c) for c, a in acct["balances"].items())
    mm = 0.0
    for p in acct["positions"]:
        move = k if p["underlying"] == underlying else 1.0
        n = p["contracts"] * p["contract_size"]
        if p["kind"] == "option":
            s = p["underlying_price"] * move
            coin = black76(s, p["strike"], p["years"], p["implied_vol"], p["is_call"]) / s
            equity += n * (coin - p["entry_price"]) * usd(p["settle"])
            if n < 0:
                per = 0.075 + coin if p["is_call"] else max(0.075, 0.075 * coin) + coin
                mm += -n * per * usd(p["settle"])
        else:
            assert p["linear"]  # the demo's perps are USDT-margined
            mark = p["mark_price"] * move
            equity += n * (mark - p["entry_price"])
            mm += _mm_tiers(abs(n) * mark, p["margin_tiers"])
    return equity, mm


def test_size_json_account_object_checks_out_against_its_own_revaluation():
    acct = _size_json()["account"]
    assert acct["balances"] == {"BTC": 1.5, "USDT": 150_000.0}
    eq0, mm0 = revalue_from_json(acct, "BTC", 1.0)
    assert eq0 == pytest.approx(acct["equity_usd"], rel=1e-3)
    assert mm0 == pytest.approx(acct["maintenance_margin_usd"], rel=1e-3)
    kinds = {p["kind"] for p in acct["positions"]}
    assert kinds == {"perp", "option"}
    for p in acct["positions"]:
        assert "convention" in p["greeks"] and isinstance(p["linear"], bool)
        if p["kind"] == "option":
            assert 0.05 < p["implied_vol"] < 3 and isinstance(p["expiry_ms"], int)
    checked = 0
    for und, sides in acct["liquidation"].items():
        if und == "all":
            continue
        for side in ("down", "up"):
            lv = sides[side]
            if lv is None:
                continue
            k = lv["price"] / sides["price_now"]
            assert lv["move_pct"] == pytest.approx(k - 1.0, abs=1e-9)
            eq, mm = revalue_from_json(acct, und, k)
            assert abs(eq - mm) <= 0.005 * acct["equity_usd"]
            assert lv["equity_usd"] == pytest.approx(eq, rel=0.005)
            checked += 1
    assert checked >= 1

    var = acct["var"]
    assert var["scenarios"] >= 1000 and var["horizon_days"] == 1 and var["alpha"] == 0.99
    assert "filtered historical" in var["method"]
    # with ~2,000 scenarios the 99 % tail holds ~20: CVaR is an average, above VaR
    assert 0 < var["var_usd"] < var["cvar_usd"]
    assert sum(var["component_cvar_usd"].values()) == pytest.approx(var["cvar_usd"], rel=1e-9)
    assert sum(var["component_var_usd"].values()) == pytest.approx(var["var_usd"], rel=1e-9)

    st = acct["stress"]
    i, j = st["moves"].index(0.0), st["vol_shifts"].index(0.0)
    assert st["pnl_usd"][i][j] == pytest.approx(0.0, abs=1e-6)
    assert st["margin_ratio"][i][j] == pytest.approx(
        acct["maintenance_margin_usd"] / acct["equity_usd"], rel=1e-6)
    for a, move in enumerate(st["moves"]):  # each cell's P&L, independently (IV unchanged)
        eq, mm = revalue_from_json(acct, "BTC", 1 + move)
        # the grid moves every underlying together; ETH's share is a linear perp
        eth = next(p for p in acct["positions"] if p["underlying"] == "ETH")
        eq += eth["contracts"] * eth["contract_size"] * eth["mark_price"] * move
        assert st["pnl_usd"][a][j] == pytest.approx(eq - eq0, abs=0.002 * acct["equity_usd"])
        assert st["liquidated"][a][j] == (eq <= mm + _eth_mm_change(acct, move))
    assert not math.isnan(acct["book_delta"]["BTC"]["total_usd"])


def _eth_mm_change(acct: dict, move: float) -> float:
    eth = next(p for p in acct["positions"] if p["underlying"] == "ETH")
    n = abs(eth["contracts"] * eth["contract_size"])
    return (_mm_tiers(n * eth["mark_price"] * (1 + move), eth["margin_tiers"])
            - _mm_tiers(n * eth["mark_price"], eth["margin_tiers"]))
