"""sizing.orders: hand-worked plans and the venue rules every plan must keep."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sizing.orders import OrderRules, PlannedOrder, plan_change, plan_orders
from sizing.policy import Decision

# Binance USD-M BTCUSDT-like: 0.001 BTC step, 0.1 USDT tick, min 0.001 BTC, min notional 5 USDT
BTC = OrderRules(amount_step=0.001, price_step=0.1, min_amount=0.001, min_cost=5.0)
# Deribit BTC option: 0.1 contract step, 0.0005 BTC tick, min 0.1 contract, no min cost
OPT = OrderRules(amount_step=0.1, price_step=0.0005, min_amount=0.1, kind="option", linear=False)


def on_grid(x: float, step: float) -> bool:
    return abs(x / step - round(x / step)) < 1e-6


def test_market_cut_rounds_the_amount_down_and_is_reduce_only():
    # 2.0 -> 1.2819 wants a 0.7181 sell; rounded DOWN to the step: 0.718.
    (o,) = plan_change("BTC/USDT:USDT", 2.0, 1.2819, BTC, reference_price=60_000.0)
    assert o == PlannedOrder("BTC/USDT:USDT", "sell", "market", 0.718, None, True, False, 0.0)


def test_an_add_is_not_reduce_only():
    (o,) = plan_change("BTC/USDT:USDT", -1.0, -1.5, BTC, reference_price=60_000.0)
    assert (o.side, o.amount, o.reduce_only) == ("sell", 0.5, False)


def test_a_flip_is_a_reduce_only_close_then_an_open():
    orders = plan_change("BTC/USDT:USDT", 1.0, -0.25, BTC, reference_price=60_000.0)
    assert [(o.side, o.amount, o.reduce_only) for o in orders] == [
        ("sell", 1.0, True), ("sell", 0.25, False)]


def test_flat_ladder_of_buys_is_evenly_spread_and_rounded_down():
    # Buy 1.0 BTC in 4 rungs from 60,000 down 30 bps: 60,000 - 180 = 59,820;
    # rungs every 60 USD: 60,000, 59,940, 59,880, 59,820; 0.25 BTC each.
    orders = plan_change("BTC/USDT:USDT", 0.0, 1.0, BTC, "ladder", reference_price=60_000.0,
                         ladder_bps=30.0, ladder_count=4)
    assert [o.price for o in orders] == [60_000.0, 59_940.0, 59_880.0, 59_820.0]
    assert [o.amount for o in orders] == [0.25] * 4
    assert all(o.type == "limit" and o.side == "buy" and not o.reduce_only for o in orders)


def test_linear_ladder_grows_away_from_the_first_price():
    # 1.0 BTC with weights 1:2:3:4 -> 0.1, 0.2, 0.3, 0.4 BTC, sells from 60,000 up.
    orders = plan_change("BTC/USDT:USDT", 0.0, -1.0, BTC, "ladder", ladder_from=60_000.0,
                         ladder_to=60_300.0, ladder_count=4, ladder_growth="linear")
    assert [o.amount for o in orders] == [0.1, 0.2, 0.3, 0.4]
    assert [o.price for o in orders] == [60_000.0, 60_100.0, 60_200.0, 60_300.0]


def test_ladder_prices_round_buys_down_and_sells_up():
    # 60,000.05 is between ticks: a buy limit goes to 60,000.0, a sell to 60,000.1.
    (buy,) = plan_change("X", 0.0, 0.01, BTC, "ladder", ladder_from=60_000.05,
                         ladder_to=60_000.05, ladder_count=1, reference_price=60_000.0)
    (sell,) = plan_change("X", 0.0, -0.01, BTC, "ladder", ladder_from=60_000.05,
                          ladder_to=60_000.05, ladder_count=1, reference_price=60_000.0)
    assert buy.price == 60_000.0 and sell.price == 60_000.1


def test_twap_slices_are_spaced_in_time():
    orders = plan_change("X", 0.0, 0.6, BTC, "twap", reference_price=60_000.0,
                         twap_slices=3, twap_interval_s=120.0)
    assert [(o.amount, o.delay_s, o.type) for o in orders] == [
        (0.2, 0.0, "market"), (0.2, 120.0, "market"), (0.2, 240.0, "market")]


def test_slices_below_min_cost_merge():
    # 0.004 BTC at 1,000 USD = 4 USD < 5 USD min cost: even 1 slice fails -> nothing.
    assert plan_change("X", 0.0, 0.004, BTC, "twap", reference_price=1_000.0) == ()
    # 0.012 BTC at 1,000 = 12 USD: 6 slices of 2 USD fail, 2 slices of 6 USD pass.
    orders = plan_change("X", 0.0, 0.012, BTC, "twap", reference_price=1_000.0, twap_slices=6)
    assert [o.amount for o in orders] == [0.006, 0.006]


def test_reduce_only_close_is_exempt_from_min_cost_not_min_amount():
    (o,) = plan_change("X", 0.004, 0.0, BTC, reference_price=1_000.0)
    assert o.reduce_only and o.amount == 0.004
    opt = plan_change("C", -0.05, 0.0, OPT)  # below Deribit's 0.1 minimum: cannot be sent
    assert opt == ()


def test_plan_orders_takes_a_decision():
    d = Decision("BTC/USDT:USDT", "sim", "resize", 2.0, 1.2819, -0.7181, "vol_target", "", True)
    (o,) = plan_orders(d, BTC, reference_price=60_000.0)
    assert o.amount == 0.718 and o.reduce_only
    hold = Decision("BTC/USDT:USDT", "sim", "hold", 2.0, 2.0, 0.0, "no_trade_band", "", False)
    assert plan_orders(hold, BTC) == ()


@pytest.mark.parametrize("kw,field", [
    (dict(style="iceberg"), "style"), (dict(ladder_growth="exp"), "ladder_growth"),
    (dict(reference_price=-1.0), "reference_price"), (dict(twap_slices=0), "twap_slices"),
])
def test_bad_arguments_name_the_field(kw, field):
    with pytest.raises(ValueError, match=field):
        plan_change("X", 0.0, 1.0, BTC, **{"reference_price": 60_000.0, **kw})


def test_bad_rules_name_the_field():
    with pytest.raises(ValueError, match="amount_step"):
        OrderRules(amount_step=0.0, price_step=0.1)
    with pytest.raises(ValueError, match="current"):
        plan_change("X", math.nan, 1.0, BTC, reference_price=1.0)


rules = st.builds(
    OrderRules,
    amount_step=st.sampled_from([1.0, 0.1, 0.01, 0.001]),
    price_step=st.sampled_from([0.5, 0.1, 0.01, 0.0005]),
    min_amount=st.sampled_from([0.0, 0.001, 0.1, 1.0]),
    min_cost=st.sampled_from([0.0, 5.0, 100.0]),
    contract_size=st.sampled_from([1.0, 0.01, 100.0]),
    linear=st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(r=rules, cur=st.floats(-50, 50), tgt=st.floats(-50, 50),
       style=st.sampled_from(["market", "ladder", "twap"]), price=st.floats(0.01, 1e5),
       bps=st.floats(0, 500), count=st.integers(1, 8), growth=st.sampled_from(["flat", "linear"]))
def test_every_planned_order_respects_precision_and_minimums(r, cur, tgt, style, price, bps,
                                                             count, growth):
    orders = plan_change("X", cur, tgt, r, style, reference_price=price, ladder_bps=bps,
                         ladder_count=count, ladder_growth=growth, twap_slices=count)
    bought = sum(o.amount for o in orders if o.side == "buy")
    sold = sum(o.amount for o in orders if o.side == "sell")
    # never trades more than asked, never in the wrong direction
    assert bought - sold == pytest.approx(0.0, abs=1e-9) or (bought - sold) * (tgt - cur) > 0
    assert abs(bought - sold) <= abs(tgt - cur) + 1e-9
    closed = sum(o.amount for o in orders if o.reduce_only)
    assert closed <= abs(cur) + 1e-9
    for o in orders:
        assert o.amount > 0 and on_grid(o.amount, r.amount_step)
        assert o.amount >= r.min_amount - 1e-12
        p = o.price if o.price is not None else price
        if not o.reduce_only:
            assert r.cost(o.amount, p) >= r.min_cost - 1e-6
        if o.reduce_only:
            assert (o.side == "sell") == (cur > 0)
        if o.type == "limit":
            assert on_grid(o.price, r.price_step) and o.price > 0
            if o.price > r.price_step:  # a floor of one tick may sit above a tiny price
                assert o.price <= price + 1e-9 if o.side == "buy" else o.price >= price - 1e-9
