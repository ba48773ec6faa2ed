"""The account solver's margin at every scenario is the paper broker's margin, to the
float; and the largest size it allows within a liquidation buffer is the boundary."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sizing.account_risk import (
    AccountBook,
    BookPosition,
    max_contracts_within_buffer,
    resized,
    revalue,
)
from sizing.contracts import ContractSpec, position_margin
from sizing.margin import MarginTier
from sizing.revaluation import margins

TIERS = (MarginTier(50_000.0, 0.008, 0.004, 0.0), MarginTier(250_000.0, 0.01, 0.005, 50.0),
         MarginTier(1_000_000.0, 0.02, 0.01, 1_300.0), MarginTier(math.inf, 0.05, 0.025, 16_300.0))
UNORDERED = (MarginTier(250_000.0, 0.01, 0.005, 50.0), MarginTier(50_000.0, 0.008, 0.004, 0.0),
             MarginTier(math.inf, 0.05, 0.025, 16_300.0))
LINEAR = ContractSpec("BTC/USDT:USDT", "perp", True, 0.001, base="BTC", settle="USDT",
                      underlying="BTC", margin_tiers=TIERS)
CONTRACTS = {
    "linear perp, tiers": LINEAR,
    "linear perp, tiers out of order": ContractSpec(
        "BTC/USDT:USDT", "perp", True, 0.001, base="BTC", settle="USDT", underlying="BTC",
        margin_tiers=UNORDERED),
    "linear perp, no tiers": ContractSpec("ETH/USDT:USDT", "perp", True, 0.01, base="ETH",
                                          settle="USDT", underlying="ETH"),
    "inverse perp, tiers": ContractSpec("BTC/USD:BTC", "perp", False, 100.0, base="BTC",
                                        settle="BTC", underlying="BTC", margin_tiers=TIERS),
    "deribit inverse perp": ContractSpec("BTC-PERPETUAL", "perp", False, 10.0, base="BTC",
                                         settle="BTC", underlying="BTC", venue="deribit"),
    "coin call": ContractSpec("BTC-X-70000-C", "option", False, 1.0, base="BTC", settle="BTC",
                              underlying="BTC", strike=70_000.0, is_call=True),
    "coin put": ContractSpec("BTC-X-50000-P", "option", False, 1.0, base="BTC", settle="BTC",
                             underlying="BTC", strike=50_000.0, is_call=False),
    "linear put": ContractSpec("BTC-X-55000-P-USDC", "option", True, 0.1, base="BTC",
                               settle="USDC", underlying="BTC", strike=55_000.0, is_call=False),
}


def _scenarios(contract):
    spot = 60_000.0 * np.array([0.3, 0.7, 0.9166, 1.0, 1.25, 2.0])
    if contract.kind == "option":  # mark: coin per coin, or USD for a linear option
        marks = np.array([1.8, 0.004, 0.02, 0.0, 0.2, 1.5])  # extremes: every max() binds
        marks = marks * spot if contract.linear else marks
    else:
        marks = spot * 1.0003
    coin_usd = spot
    settle_usd = spot if contract.settle == "BTC" else np.ones_like(spot)
    return marks, coin_usd, settle_usd, spot


@pytest.mark.parametrize("name", sorted(CONTRACTS))
@pytest.mark.parametrize("contracts", [-120.0, -3.0, 0.0, 2.5, 1_000.0])
@pytest.mark.parametrize("unknown_mark", [False, True])
def test_margin_at_each_scenario_is_the_brokers_margin_to_the_float(name, contracts,
                                                                    unknown_mark):
    c = CONTRACTS[name]
    marks, coin_usd, settle_usd, spot = _scenarios(c)
    if unknown_mark:  # an unknown mark prices nothing, whatever the rest do
        marks = marks.copy()
        marks[2] = math.nan
    im, mm = margins(c, contracts, marks, coin_usd, settle_usd, spot)
    for i in range(len(marks)):
        want = position_margin(c, contracts, float(marks[i]), float(coin_usd[i]),
                               float(settle_usd[i]), float(spot[i]))
        got = (float(im[i]), float(mm[i]))
        assert all(a == b or (math.isnan(a) and math.isnan(b))
                   for a, b in zip(got, want, strict=True)), (i, got, want)


def test_a_notional_exactly_on_a_tier_edge_takes_that_tier():
    marks = np.array([50_000.0, 50_000.000001])  # 1 BTC-contract-thousandth x 1000 = edge
    one = np.ones(2)
    im, mm = margins(LINEAR, 1_000.0, marks, marks, one, marks)
    assert im[0] == pytest.approx(50_000.0 * 0.008)
    assert im[1] == pytest.approx(50_000.000001 * 0.01)
    assert mm[1] == pytest.approx(50_000.000001 * 0.005 - 50.0)


def test_the_largest_size_within_the_buffer_is_the_boundary():
    s = 60_000.0
    perp = BookPosition(LINEAR, 20.0, s, s, s)
    book = AccountBook({"USDT": 2_000.0}, {"BTC": s}, (perp,))
    buffer = 0.10
    n = max_contracts_within_buffer(book, perp, buffer, upper=10_000.0, tolerance=0.5)
    assert 20.0 < n < 10_000.0

    def surplus_at_buffer(size):
        rev = revalue(resized(book, perp, size), {"BTC": 1.0 - buffer})
        return rev.equity_usd - rev.maintenance_margin_usd

    assert surplus_at_buffer(n) > 0  # at the answer, a 10 % fall leaves equity above MM
    assert surplus_at_buffer(n + 1.0) <= 0  # one contract more and it does not


def test_option_values_are_mark_plus_the_black76_change_sticky_strike():
    from sizing.greeks import black76
    from sizing.revaluation import option_key, option_values

    s, ratios, scale = 60_000.0, np.array([0.5, 0.93, 1.0, 1.4]), 1.25
    opts = [BookPosition(CONTRACTS["coin call"], -2.0, 0.03, 0.031, s, 0.55, 0.2),
            BookPosition(CONTRACTS["coin put"], 1.0, 0.01, 0.012, s, 0.7, 0.05),
            BookPosition(CONTRACTS["linear put"], -3.0, 900.0, 950.0, s, 0.6, 0.5),
            BookPosition(CONTRACTS["coin put"], 1.0, 0.01, 0.012, s, math.nan, 0.05)]
    book = AccountBook({}, {"BTC": s}, tuple(opts))
    got = option_values(book, opts, {"BTC": ratios}, len(ratios), vol_scale=scale)
    for p in opts[:3]:
        c = p.contract
        price = black76(np.r_[s, s * ratios], c.strike, p.years,
                        np.r_[p.implied_vol, np.full(len(ratios), p.implied_vol * scale)],
                        c.is_call).price
        mark_usd = p.mark_price if c.linear else p.mark_price * s
        want = np.maximum(mark_usd + price[1:] - price[0], 0.0)
        assert np.array_equal(got[option_key(p)], want)
    assert np.isnan(got[option_key(opts[3])]).all()  # unknown vol: no value, not a guess
