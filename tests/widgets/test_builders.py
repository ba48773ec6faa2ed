"""View builders against hand-computed numbers (cockpit.views)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from cockpit import views
from cockpit.model.views import SuggestionRow
from tests.widgets.factory import (
    BTC_PERP,
    ETH_PERP,
    NOW_MS,
    Order,
    Position,
    VenueGreeks,
    VenueStatus,
    book,
    hourly_bars,
    option,
    snapshot,
    ticker,
)

# ---------------------------------------------------------------- an independent Black-76
# Black (1976); Hull, "Options, Futures and Other Derivatives", ch. "Black's model".
# r = 0, so no discounting. Written from the formulas, not from sizing.greeks.


def _n(x):
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _pdf(x):
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def black76_call(f, k, t, s):
    d1 = (math.log(f / k) + 0.5 * s * s * t) / (s * math.sqrt(t))
    d2 = d1 - s * math.sqrt(t)
    price = f * _n(d1) - k * _n(d2)
    return {
        "price": price,
        "delta": _n(d1),
        "gamma": _pdf(d1) / (f * s * math.sqrt(t)),
        "vega": f * _pdf(d1) * math.sqrt(t) / 100.0,  # per vol point
        "theta": -f * _pdf(d1) * s / (2.0 * math.sqrt(t)) / 365.0,  # per calendar day
    }


def test_greeks_perp_plus_model_option_match_independent_black76():
    f, k, t, iv = 60_000.0, 70_000.0, 0.25, 0.60
    opt = option(k, t)
    snap = snapshot(
        instruments=[BTC_PERP, opt],
        tickers=[ticker(BTC_PERP.symbol, f), ticker(opt.symbol, 0.01, iv=iv, underlying=f)],
        positions=[Position(BTC_PERP.symbol, 2.0, 58_000.0), Position(opt.symbol, -3.0, 0.01)],
    )
    v = views.greeks_view(snap, delta_band_usd=200_000.0)
    perp, short_call = v.rows
    assert perp.source == "perp"
    assert perp.delta_coin == pytest.approx(2.0)
    assert perp.delta_usd == pytest.approx(120_000.0)
    assert perp.gamma_coin == 0.0 and perp.vega_usd == 0.0

    g = black76_call(f, k, t, iv)
    # per position: the plain Black delta, as Deribit's ticker shows it
    assert short_call.source == "model"
    assert short_call.delta_coin == pytest.approx(-3.0 * g["delta"], rel=1e-9)
    assert short_call.delta_usd == pytest.approx(-3.0 * g["delta"] * f, rel=1e-9)
    assert short_call.gamma_coin == pytest.approx(-3.0 * g["gamma"], rel=1e-9)
    # gamma in USD: the P&L of a 1 % move from gamma, the unit of gamma_limit_usd
    assert short_call.gamma_usd == pytest.approx(-3.0 * 0.5 * g["gamma"] * (0.01 * f) ** 2,
                                                 rel=1e-9)
    assert short_call.vega_usd == pytest.approx(-3.0 * g["vega"], rel=1e-9)
    assert short_call.vega_coin == pytest.approx(-3.0 * g["vega"] / f, rel=1e-9)
    assert short_call.theta_usd == pytest.approx(-3.0 * g["theta"], rel=1e-9)
    assert short_call.theta_usd > 0  # short options earn theta

    # per underlying: Deribit's delta_total nets the coin option's coin value (the
    # ticker's mark, 0.01 BTC) out; its own line, so the column adds up to the book delta
    adj, total = v.totals
    assert adj.symbol == "premium adj BTC" and adj.delta_coin == pytest.approx(3.0 * 0.01)
    assert total.is_total and total.underlying == "BTC"
    book = 2.0 - 3.0 * g["delta"] + 3.0 * 0.01
    assert total.delta_coin == pytest.approx(book, rel=1e-9)
    assert v.portfolio_delta_usd == pytest.approx(book * f, rel=1e-9)
    assert not v.breach and v.note == ""
    # the band covers the options (net of premium) and the perps that hedge them: with a
    # 200k band the 120k perp offsets the options and is no larger than them plus the band
    options = (-3.0 * g["delta"] + 0.03) * f
    (band,) = v.bands
    assert band.options_usd == pytest.approx(options, rel=1e-9)
    assert band.hedge_perps_usd == pytest.approx(120_000.0)
    assert band.covered_usd == pytest.approx(options + 120_000.0, rel=1e-9)
    # with a 25k band the perp is larger than options + band: the trader's view
    tight = views.greeks_view(snap, delta_band_usd=25_000.0)
    assert tight.bands[0].view_perps_usd == pytest.approx(120_000.0)
    assert tight.bands[0].covered_usd == pytest.approx(options, rel=1e-9)
    assert tight.breach and tight.bands[0].outside  # |options| ~ 63k > 25k
    only_perp = snapshot(instruments=[BTC_PERP], tickers=[ticker(BTC_PERP.symbol, f)],
                         positions=[Position(BTC_PERP.symbol, 1.0, f)])
    assert views.greeks_view(only_perp).note.startswith("no options in this account")


def test_greeks_venue_greeks_are_used_and_labelled():
    opt = option(60_000.0, 0.1, "put")
    vg = VenueGreeks(delta=-0.45, gamma=0.00004, vega=80.0, theta=-50.0)
    snap = snapshot(
        instruments=[opt],
        tickers=[ticker(opt.symbol, 0.03, iv=0.5, underlying=60_000.0, greeks=vg)],
        positions=[Position(opt.symbol, 2.0, 0.03)],
    )
    (row,) = views.greeks_view(snap).rows
    assert row.source == "venue"
    assert row.delta_coin == pytest.approx(-0.9)
    assert row.delta_usd == pytest.approx(-0.9 * 60_000.0)
    assert row.vega_usd == pytest.approx(160.0)
    assert row.theta_usd == pytest.approx(-100.0)
    assert row.theta_coin == pytest.approx(-100.0 / 60_000.0)


def test_greeks_band_breach_per_underlying_and_missing_iv_reason():
    opt = option(70_000.0, 0.25)
    snap = snapshot(
        instruments=[BTC_PERP, ETH_PERP, opt],
        tickers=[ticker(BTC_PERP.symbol, 60_000.0), ticker(ETH_PERP.symbol, 3_000.0),
                 ticker(opt.symbol, 0.01, iv=None, underlying=60_000.0)],
        positions=[Position(BTC_PERP.symbol, 1.0, 60_000.0),
                   Position(ETH_PERP.symbol, -10.0, 3_000.0),
                   Position(opt.symbol, 1.0, 0.01)],
    )
    v = views.greeks_view(snap, delta_band_usd=50_000.0)
    by_symbol = {r.symbol: r for r in v.rows}
    assert by_symbol[opt.symbol].delta_coin is None
    assert "implied vol" in by_symbol[opt.symbol].note
    totals = {t.underlying: t for t in v.totals if t.is_total}
    # the long option's 0.01 BTC coin value comes off the book delta (delta_total)
    assert totals["BTC"].delta_usd == pytest.approx(60_000.0 - 600.0)
    assert "excludes 1" in totals["BTC"].note
    assert totals["ETH"].delta_usd == pytest.approx(-30_000.0)
    # the perps are the trader's view, not the band's: neither underlying is out
    bands = {b.underlying: b for b in v.bands}
    assert bands["BTC"].view_perps_usd == pytest.approx(60_000.0)
    assert bands["ETH"].covered_usd == 0.0
    assert not v.breach
    assert v.portfolio_delta_usd == pytest.approx(29_400.0)


def test_greeks_empty_reasons():
    assert "account" in views.greeks_view(snapshot(account=False)).empty_reason
    assert views.greeks_view(snapshot()).empty_reason == "no open positions"


# ---------------------------------------------------------------- margin

Z75 = 0.6744897501960817  # N^-1(0.75): median first passage of driftless BM


def test_margin_view_liquidation_revalues_the_cross_account():
    """The account (no balances listed: its equity is the venue's figure) liquidates
    where equity meets MM with every perp revalued, not at the per-position prices
    the venue sent. By hand, both perps on the default 0.5 % MM tier:
    cash held fixed = 40,000 - (2 x 1,000 + 20 x 100) = 36,000; MM held fixed =
    10,000 - (0.005 x 120,000 + 0.005 x 60,000) = 9,100.
    BTC down: 36,000 + 2 (P - 59,000) + 2,000 = 9,100 + 300 + 0.01 P -> P = 89,400 / 1.99.
    ETH up: 36,000 + 2,000 - 20 (Q - 3,100) = 9,100 + 600 + 0.1 Q -> Q = 90,300 / 20.1."""
    snap = snapshot(
        instruments=[BTC_PERP, ETH_PERP],
        tickers=[ticker(BTC_PERP.symbol, 60_000.0), ticker(ETH_PERP.symbol, 3_000.0)],
        positions=[Position(BTC_PERP.symbol, 2.0, 59_000.0, liquidation_price=45_000.0),
                   Position(ETH_PERP.symbol, -20.0, 3_100.0, liquidation_price=3_600.0)],
        equity=40_000.0, im=20_000.0, mm=10_000.0, upnl=4_000.0, peak=100_000.0,
    )
    forecasts = {BTC_PERP.symbol: 0.50, ETH_PERP.symbol: 0.80}
    v = views.margin_view(snap, forecasts, (0.5, 0.8))
    assert v.margin_ratio == pytest.approx(10_000.0 / 40_000.0)
    assert v.available_usd == pytest.approx(20_000.0)
    assert v.drawdown == pytest.approx(0.6)
    assert v.level == "ok"
    rows = {r.symbol: r for r in v.rows}
    btc_liq, eth_liq = 89_400.0 / 1.99, 90_300.0 / 20.1
    assert rows[BTC_PERP.symbol].liquidation_price == pytest.approx(btc_liq, rel=1e-9)
    assert rows[ETH_PERP.symbol].liquidation_price == pytest.approx(eth_liq, rel=1e-9)
    levels = {(r.underlying, r.direction): r for r in v.account_levels}
    assert levels["BTC", "down"].liquidation_price == pytest.approx(btc_liq, rel=1e-9)
    assert levels["BTC", "down"].equity_usd == pytest.approx(
        levels["BTC", "down"].maintenance_margin_usd, abs=1e-3)
    assert levels["ETH", "up"].move_pct == pytest.approx(eth_liq / 3_000.0 - 1.0, rel=1e-9)
    assert levels["BTC", "up"].liquidation_price is None  # the long only gains
    assert "sticky strike" in v.revaluation_note

    # BTC: ln(liq / 60,000) in daily sigmas at 50 % annual vol (365-day year)
    d_btc = abs(math.log(btc_liq / 60_000.0))
    sig_btc = d_btc / (0.50 / math.sqrt(365.0))
    assert rows[BTC_PERP.symbol].distance_pct == pytest.approx(1 - btc_liq / 60_000.0)
    assert rows[BTC_PERP.symbol].distance_sigmas == pytest.approx(sig_btc, rel=1e-9)
    assert rows[BTC_PERP.symbol].expected_days == pytest.approx(
        (d_btc / (Z75 * 0.50)) ** 2 * 365.0, rel=1e-6)

    d_eth = abs(math.log(eth_liq / 3_000.0))
    sig_eth = d_eth / (0.80 / math.sqrt(365.0))
    assert rows[ETH_PERP.symbol].distance_sigmas == pytest.approx(sig_eth, rel=1e-9)
    assert sig_eth < sig_btc
    assert v.worst_symbol == ETH_PERP.symbol
    assert rows[ETH_PERP.symbol].worst and not rows[BTC_PERP.symbol].worst
    assert (rows[ETH_PERP.symbol].price_decimals, rows[ETH_PERP.symbol].amount_decimals) == (2, 2)
    assert not any(r.inside_buffer for r in v.rows)  # both well beyond 3 sigmas
    tight = views.margin_view(snap, forecasts, (0.5, 0.8), buffer_sigmas=sig_eth + 0.1)
    assert [r.symbol for r in tight.rows if r.inside_buffer] == [ETH_PERP.symbol]
    assert tight.buffer_sigmas == pytest.approx(sig_eth + 0.1)


def test_margin_view_levels_and_missing_inputs():
    """A long perp beside a short call: the account liquidates where equity meets MM
    with the call repriced by (an independent) Black-76 at the vol of its mark."""
    f, k, t = 60_000.0, 70_000.0, 0.25
    opt = option(k, t)
    snap = snapshot(
        instruments=[BTC_PERP, opt],
        tickers=[ticker(BTC_PERP.symbol, f), ticker(opt.symbol, 0.01, underlying=f)],
        positions=[Position(BTC_PERP.symbol, 1.0, 60_000.0, liquidation_price=54_000.0),
                   Position(opt.symbol, -1.0, 0.01)],
        equity=10_000.0, mm=6_000.0,
    )
    v = views.margin_view(snap, None, (0.5, 0.8))
    assert v.level == "amber"  # 60 % between amber 50 % and red 80 %
    rows = {r.symbol: r for r in v.rows}
    perp = rows[BTC_PERP.symbol]

    lo, hi = 1e-4, 5.0  # the vol that reprices 0.01 BTC x 60,000 = 600 USD
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if black76_call(f, k, t, mid)["price"] < 600.0 else (lo, mid)
    iv = 0.5 * (lo + hi)

    def surplus(p):  # cash held fixed: 10,000; MM held fixed: 6,000 - (300 + 0.085 x 60,000)
        call_coin = black76_call(p, k, t, iv)["price"] / p
        equity = 10_000.0 + (p - 60_000.0) - (call_coin - 0.01) * p
        mm = 600.0 + 0.005 * p + (0.075 + call_coin) * p
        return equity - mm

    lo, hi = 30_000.0, 60_000.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if surplus(mid) > 0 else (mid, hi)
    assert perp.liquidation_price == pytest.approx(lo, rel=1e-7)
    assert perp.distance_sigmas is None and "forecast" in perp.note
    # a short call loses going up: its row shows BTC at the account's upper level, where
    # MM (0.075 + call) x P outgrows the perp's gains
    hi, lo2 = 200_000.0, 60_000.0
    for _ in range(200):
        mid = 0.5 * (lo2 + hi)
        lo2, hi = (mid, hi) if surplus(mid) > 0 else (lo2, mid)
    assert rows[opt.symbol].liquidation_price == pytest.approx(lo2, rel=1e-7)
    assert "BTC price, liq" in rows[opt.symbol].note and rows[opt.symbol].mark == f
    assert v.worst_symbol == BTC_PERP.symbol  # only one with a distance
    red = views.margin_view(snapshot(equity=10_000.0, mm=9_000.0), None, (0.5, 0.8))
    assert red.level == "red" and red.empty_reason == "no open positions"
    waiting = views.margin_view(snapshot(account=False))
    assert "account" in waiting.empty_reason and waiting.level == "unknown"


# ---------------------------------------------------------------- depth

BIDS = [[100.0, 1.0], [99.5, 2.0], [99.0, 3.0]]
ASKS = [[100.5, 1.5], [101.0, 2.5], [102.0, 4.0]]


def _depth_snapshot(ts_ms=NOW_MS):
    return snapshot(instruments=[BTC_PERP], books=[book(BTC_PERP.symbol, BIDS, ASKS, ts_ms)])


def test_depth_ladder_cumulative_spread_and_bands():
    v = views.depth_view(_depth_snapshot(), BTC_PERP.symbol, levels=2)
    assert [(lv.price, lv.amount, lv.cumulative) for lv in v.bids] == [(100.0, 1.0, 1.0),
                                                                       (99.5, 2.0, 3.0)]
    assert [lv.cumulative for lv in v.asks] == [1.5, 4.0]
    assert v.spread == pytest.approx(0.5)
    mid = (100.0 + 100.5) / 2
    assert v.spread_bps == pytest.approx(0.5 / mid * 1e4)  # 49.875 bp
    # Bands over the whole book, within N bp of mid 100.25:
    # 10 bp = +/-0.10: nothing; 50 bp = +/-0.50: bid 100 (1), ask 100.5 (1.5);
    # 100 bp = +/-1.0025: bids 100, 99.5 (3), asks 100.5, 101 (4).
    bands = {b.bps: (b.bid_amount, b.ask_amount) for b in v.bands}
    assert bands == {10.0: (0.0, 0.0), 50.0: (1.0, 1.5), 100.0: (3.0, 4.0)}
    assert v.price_decimals == 1 and v.amount_decimals == 3
    assert not v.stale


def test_depth_suggestion_slippage_walks_the_asks():
    pytest.importorskip("sizing.liquidity")
    s = SuggestionRow("s1", BTC_PERP.symbol, 1.0, 4.0, "buy 3", "vol_target", None, None, None,
                      "add", order_side="buy", order_amount=3.0)
    v = views.depth_view(_depth_snapshot(), BTC_PERP.symbol, s)
    # 1.5 @ 100.5 + 1.5 @ 101 -> VWAP 100.75, vs best 100.5 -> 24.875 bp
    assert v.suggestion_slippage_bps == pytest.approx((100.75 / 100.5 - 1) * 1e4)
    assert v.suggestion_filled == pytest.approx(3.0) and v.suggestion_side == "buy"
    big = SuggestionRow("s2", BTC_PERP.symbol, 0.0, -10.0, "sell 10", "x", None, None, None,
                        "cut", order_side="sell", order_amount=10.0)
    assert "only 6" in views.depth_view(_depth_snapshot(), BTC_PERP.symbol, big).suggestion_note


def test_depth_empty_and_stale_reasons():
    assert "select" in views.depth_view(_depth_snapshot(), None).empty_reason
    assert views.depth_view(_depth_snapshot(), "ETH/USDT:USDT").empty_reason == \
        "no book for ETH/USDT:USDT yet"
    old = views.depth_view(_depth_snapshot(ts_ms=NOW_MS - 9_000), BTC_PERP.symbol)
    assert old.age_s == pytest.approx(9.0) and old.stale
    other = SuggestionRow("s3", "ETH/USDT:USDT", 1, 0, "", "", None, None, None, "",
                          order_side="sell", order_amount=1.0)
    v = views.depth_view(_depth_snapshot(), BTC_PERP.symbol, other)
    assert v.suggestion_slippage_bps is None and "ETH" in v.suggestion_note


# ---------------------------------------------------------------- positions and orders


def test_positions_view_rows_orders_and_precision():
    opt = option(70_000.0, 0.25)
    order = Order("o1", "c1", BTC_PERP.symbol, "sell", "limit", 0.5, 61_000.0, 0.1, None,
                  "open", True, False, NOW_MS)
    snap = snapshot(
        instruments=[BTC_PERP, opt],
        tickers=[ticker(BTC_PERP.symbol, 60_000.0), ticker(opt.symbol, 0.0125)],
        positions=[Position(BTC_PERP.symbol, 2.0, 59_000.0, unrealised_pnl_usd=2_000.0,
                            leverage=1.2),
                   Position(opt.symbol, -5.0, 0.015, unrealised_pnl_usd=150.0),
                   Position("FLAT/USDT:USDT", 0.0, 1.0)],
        orders=[order],
    )
    v = views.positions_view(snap)
    assert [p.symbol for p in v.positions] == [BTC_PERP.symbol, opt.symbol]  # flat left out
    perp, short_opt = v.positions
    assert (perp.side, perp.mark, perp.pnl_usd, perp.leverage) == ("long", 60_000.0, 2_000.0, 1.2)
    assert short_opt.side == "short" and short_opt.price_decimals == 4
    (o,) = v.orders
    assert (o.id, o.status, o.filled, o.reduce_only) == ("o1", "open", 0.1, True)
    assert views.positions_view(snapshot()).empty_reason == "no open positions"


# ---------------------------------------------------------------- volatility


def test_vol_view_realised_forecast_and_atm_iv():
    r = 0.01  # alternating +1 %/-1 % log returns: per-bar vol 1 %, mean 0
    logp = math.log(60_000.0) + r * (__import__("numpy").arange(201) % 2)
    close = [math.exp(x) for x in logp]
    near_atm = option(60_000.0, 0.05)
    near_otm = option(65_000.0, 0.05)
    far_atm = option(60_000.0, 0.5)
    snap = snapshot(
        instruments=[BTC_PERP, near_atm, near_otm, far_atm],
        tickers=[ticker(BTC_PERP.symbol, close[-1]),
                 ticker(near_atm.symbol, 0.02, iv=0.55, underlying=60_500.0),
                 ticker(near_otm.symbol, 0.01, iv=0.62, underlying=60_500.0),
                 ticker(far_atm.symbol, 0.08, iv=0.70, underlying=60_500.0)],
        bars=[hourly_bars(BTC_PERP.symbol, close)],
    )

    @dataclass
    class Forecast:
        vol_annual: float
        model: str

    v = views.vol_view(snap, "BTC", {BTC_PERP.symbol: Forecast(0.72, "garch-t")}, window=168)
    # sqrt(8760) x 1 % per hour; the sample std of +/-1 % over 168 returns is
    # 1 % x sqrt(168/167) with the mean removed: allow that 0.3 % difference.
    assert v.realised_vol == pytest.approx(0.01 * math.sqrt(8760.0), rel=5e-3)
    assert v.realised_window == 168
    assert (v.forecast_vol, v.model) == (0.72, "garch-t")
    assert v.atm_iv == 0.55 and v.atm_symbol == near_atm.symbol  # nearest expiry, nearest strike
    assert len(v.price_history) == 120
    assert v.vol_history and all(x == pytest.approx(0.01 * math.sqrt(8760.0), rel=5e-2)
                                 for x in v.vol_history)


def test_vol_view_reasons_when_missing():
    assert "no price history" in views.vol_view(snapshot(), "BTC", None).empty_reason
    snap = snapshot(instruments=[BTC_PERP], bars=[hourly_bars(BTC_PERP.symbol, [1, 2, 3, 4])])
    v = views.vol_view(snap, "BTC", None)
    assert v.forecast_vol is None and "engine" in v.forecast_note
    assert v.atm_iv is None and v.atm_note == "no options on BTC"


# ---------------------------------------------------------------- suggestions and status


@dataclass(frozen=True)
class Planned:  # stand-in for sizing.orders.PlannedOrder
    symbol: str
    side: str
    type: str
    amount: float
    price: float | None
    reduce_only: bool = False
    post_only: bool = False


def _suggestion(created_ms, ref_price, sid="s1"):
    from cockpit.suggestions import Suggestion
    from sizing.policy_types import Decision, WhatIf

    d = Decision(symbol=BTC_PERP.symbol, venue="sim", kind="resize", current=2.0, target=1.2,
                 order=-0.8, binding_constraint="vol_target",
                 reason="cut BTC perp 2.0 → 1.2: GARCH vol 78% vs 50% target",
                 reduces_risk=True, inputs={"expected_slippage_bps": 3.5},
                 after=WhatIf(margin_ratio=0.12, liquidation_sigmas=9.5, var_usd=1_000.0))
    orders = (Planned(BTC_PERP.symbol, "sell", "market", 0.8, None, True),)
    return Suggestion(sid, BTC_PERP.symbol, d, orders, created_ms, ref_price)


def test_suggestions_view_fresh_and_stale():
    snap = snapshot(instruments=[BTC_PERP], tickers=[ticker(BTC_PERP.symbol, 60_000.0)])
    fresh = _suggestion(NOW_MS - 5_000, 60_000.0, "fresh")
    old = _suggestion(NOW_MS - 60_000, 60_000.0, "old")
    moved = _suggestion(NOW_MS - 1_000, 59_400.0, "moved")  # 101 bp away from 60,000
    v = views.suggestions_view([fresh, old, moved], snap, NOW_MS, max_age_s=30, max_move_bps=50)
    rows = {r.id: r for r in v.rows}
    f = rows["fresh"]
    assert not f.stale and f.approvable and f.reduces_risk
    assert (f.current, f.target, f.order_side, f.order_amount) == (2.0, 1.2, "sell", 0.8)
    assert f.orders == "sell 0.800 market RO"
    assert (f.binding, f.slippage_bps, f.margin_ratio_after, f.liq_sigmas_after) == \
        ("vol_target", 3.5, 0.12, 9.5)
    assert rows["old"].stale and "old" in rows["old"].stale_reason
    assert not rows["old"].approvable
    assert rows["moved"].stale and "moved" in rows["moved"].stale_reason
    assert views.suggestions_view([], snap).empty_reason.startswith("no resize")


def test_orders_text_for_a_ladder():
    ladder = [Planned("X", "buy", "limit", 0.1, p) for p in (59_950.0, 59_975.0, 60_000.0)]
    assert views.orders_text(ladder, 0.3) == "3× buy limit 0.300 @ 59,950.00–60,000.00"
    assert views.orders_text([], -0.25, 2) == "sell 0.25"


def test_status_view_data_age_and_flags():
    snap = snapshot(mode="live", venues=[
        VenueStatus("deribit", True, last_data_ms=NOW_MS - 2_500),
        VenueStatus("okx", False, retrying=True, message="connect refused"),
    ])
    v = views.status_view(snap, engine_state="idle", engine_last_run_ms=NOW_MS - 1_000,
                          engine_duration_ms=12.0, auto_execute=True, breakers=["stale-data"])
    assert v.mode == "live" and v.clock_ms == NOW_MS
    assert v.venues[0].age_s == pytest.approx(2.5)
    assert v.venues[1].age_s is None and v.venues[1].retrying
    assert v.breakers == ("stale-data",) and v.auto_execute


def test_margin_thresholds_must_be_ordered():
    with pytest.raises(ValueError, match="thresholds"):
        views.margin_view(snapshot(), None, (0.8, 0.5))


def test_greeks_nan_venue_greeks_say_so_and_many_options_price_together():
    nan_opt = option(60_000.0, 0.1, "put")
    chain = [option(k, t) for k in (50_000.0, 60_000.0, 70_000.0) for t in (0.05, 0.5)]
    f = 60_000.0
    snap = snapshot(
        instruments=[nan_opt, *chain],
        tickers=[ticker(nan_opt.symbol, 0.03, underlying=f,
                        greeks=VenueGreeks(math.nan, 0.0, 1.0, -1.0)),
                 *[ticker(o.symbol, 0.01, iv=0.5 + o.strike / 1e6, underlying=f) for o in chain]],
        positions=[Position(nan_opt.symbol, 1.0, 0.03),
                   *[Position(o.symbol, 1.0, 0.01) for o in chain]],
    )
    rows = {r.symbol: r for r in views.greeks_view(snap).rows}
    assert rows[nan_opt.symbol].delta_coin is None and "NaN" in rows[nan_opt.symbol].note
    for o in chain:  # the vectorised evaluation matches each option's own Black-76
        years = (o.expiry_ms - NOW_MS) / (365 * 86_400_000)
        g = black76_call(f, o.strike, years, 0.5 + o.strike / 1e6)
        assert rows[o.symbol].delta_coin == pytest.approx(g["delta"], rel=1e-9)  # plain Black
        assert rows[o.symbol].theta_usd == pytest.approx(g["theta"], rel=1e-9)
