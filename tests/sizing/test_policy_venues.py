"""The delta hedge across venues (``sizing.policy_hedge``): options on one venue, the
hedge on whichever venue's perpetual the rule prefers, and the decision says where and
why. The hedge amount is checked against Black-76 computed here (scipy's normal CDF)."""

from __future__ import annotations

import math

import pytest
from scipy.stats import norm

from sizing.policy import PolicySettings, PortfolioState, decide
from tests.sizing.test_policy import LOOSE, book, call, perp


def _option_book_delta_usd(contracts=-5.0, S=60_000.0, K=70_000.0, iv=0.6, T=0.1) -> float:
    """Deribit's delta_total of coin-settled calls, USD: (N(d1) - C/S) x S per call."""
    d1 = (math.log(S / K) + 0.5 * iv * iv * T) / (iv * math.sqrt(T))
    price = S * norm.cdf(d1) - K * norm.cdf(d1 - iv * math.sqrt(T))
    return contracts * (norm.cdf(d1) - price / S) * S


def _decide(*insts):
    s = PolicySettings(**{**LOOSE, "delta_band_usd": 25_000.0})
    return decide(PortfolioState(500_000.0, 500_000.0, 0.0, insts), s)


def test_the_hedge_goes_to_the_deeper_venue_and_says_so():
    deep_b, deep_a = book(60_000.0, 0.5, 5.0)   # 5 BTC a level on Bybit
    thin_b, thin_a = book(60_000.0, 0.5, 0.05)  # 0.05 BTC a level on Binance
    opt = call(contracts=-5.0)  # on deribit
    binance = perp(contracts=0.0, vol=0.5, venue="binanceusdm", bids=thin_b, asks=thin_a)
    bybit = perp("BTC/USDT:USDT@bybit", contracts=0.0, vol=0.5, venue="bybit",
                 bids=deep_b, asks=deep_a)
    (h,) = [d for d in _decide(opt, binance, bybit) if d.kind == "hedge"]
    assert h.symbol == "BTC/USDT:USDT@bybit" and h.venue == "bybit"
    assert "on bybit (the deepest book within the slippage budget)" in h.reason
    # the amount is the options' delta back to zero whatever the venue
    assert h.target == pytest.approx(round(-_option_book_delta_usd() / 60_000, 3))


def test_a_perp_already_hedging_keeps_the_hedge_on_its_venue():
    deep_b, deep_a = book(60_000.0, 0.5, 5.0)
    opt = call(contracts=-5.0)
    need = -_option_book_delta_usd() / 60_000  # BTC to buy to flatten the options
    okx = perp("BTC/USDT:USDT@okx", contracts=round(0.3 * need, 3), vol=0.5, venue="okx")
    bybit = perp("BTC/USDT:USDT@bybit", contracts=0.0, vol=0.5, venue="bybit",
                 bids=deep_b, asks=deep_a)  # deeper, but it holds no hedge
    (h,) = [d for d in _decide(opt, okx, bybit) if d.kind == "hedge"]
    assert h.symbol == "BTC/USDT:USDT@okx"
    assert "on okx (it holds the hedge already)" in h.reason
    assert h.target == pytest.approx(round(need, 3), abs=0.001)


def test_one_venue_of_perps_names_no_venue():
    deep_b, deep_a = book(60_000.0, 0.5, 5.0)
    opt = call(contracts=-5.0)
    only = perp(contracts=0.0, vol=0.5, venue="binanceusdm", bids=deep_b, asks=deep_a)
    (h,) = [d for d in _decide(opt, only) if d.kind == "hedge"]
    assert " on binanceusdm" not in h.reason and "(band ±" in h.reason


def test_the_hedge_leaves_a_venue_without_free_margin_and_says_why():
    """OKX already carries part of the hedge but its account has $100 free; the hedge's
    initial margin (its notional / max_leverage) cannot fit there, so it goes to Bybit."""
    opt = call(contracts=-5.0)
    need = -_option_book_delta_usd() / 60_000
    okx = perp("BTC/USDT:USDT@okx", contracts=round(0.3 * need, 3), vol=0.5, venue="okx",
               venue_free_margin_usd=100.0)
    bybit = perp("BTC/USDT:USDT@bybit", contracts=0.0, vol=0.5, venue="bybit",
                 venue_free_margin_usd=1_000_000.0)
    (h,) = [d for d in _decide(opt, okx, bybit) if d.kind == "hedge"]
    assert h.symbol == "BTC/USDT:USDT@bybit"
    assert "on bybit (margin is free there, not on okx)" in h.reason
    # with the margin free on OKX too, the hedge stays where it already is
    okx_free = perp("BTC/USDT:USDT@okx", contracts=round(0.3 * need, 3), vol=0.5,
                    venue="okx", venue_free_margin_usd=1_000_000.0)
    (h2,) = [d for d in _decide(opt, okx_free, bybit) if d.kind == "hedge"]
    assert h2.symbol == "BTC/USDT:USDT@okx"
