"""Contract PnL, average entry, margin and funding of the paper account, against hand
computations and the venues' published formulas (cited per test)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from cockpit.model import OrderRequest
from cockpit.paper import PaperBroker
from cockpit.paper.accounting import apply_trade, contract_pnl, option_margin
from tests.paper.specs import BTC_CALL, BTC_INVERSE, BTC_PERP, BTC_PUT, T0, book, ticker

FREE = replace(BTC_PERP, maker_fee=0.0, taker_fee=0.0, min_cost=0.0)
FREE_INV = replace(BTC_INVERSE, maker_fee=0.0, taker_fee=0.0)
SYM = FREE.symbol


def trade(b: PaperBroker, side: str, amount: float, price: float, symbol: str = SYM) -> None:
    """A market order against a book whose touch on our side is exactly ``price``."""
    if side == "buy":
        b.on_book(book(symbol, [[price * 0.999, 1e6]], [[price, 1e6]]))
    else:
        b.on_book(book(symbol, [[price, 1e6]], [[price * 1.001, 1e6]]))
    b.place_order(OrderRequest(symbol, side, "market", amount))


def balance(b: PaperBroker, cur: str) -> float:
    return next(x.total for x in b.account().balances if x.currency == cur)


def test_linear_round_trip_pnl_in_usdt():
    b = PaperBroker([FREE])
    b.seed({"USDT": 100_000.0}, [])
    trade(b, "buy", 2.0, 60_000.0)
    b.on_ticker(ticker(SYM, 60_500.0))
    # unrealised: 2 contracts x 1 BTC x (60,500 - 60,000) = 1,000 USDT
    pos = b.account().position(SYM)
    assert pos.unrealised_pnl_settle == pytest.approx(1_000.0)
    assert pos.unrealised_pnl_usd == pytest.approx(1_000.0)
    assert pos.notional_usd == pytest.approx(121_000.0)
    assert b.account().equity_usd == pytest.approx(101_000.0)
    trade(b, "sell", 2.0, 61_000.0)
    # realised: 2 x (61,000 - 60,000) = 2,000 USDT
    assert balance(b, "USDT") == pytest.approx(102_000.0)
    assert b.account().positions == ()


def test_inverse_pnl_in_coin():
    """BitMEX "Inverse contracts": PnL (BTC) = contracts x USD value x (1/entry - 1/exit)."""
    b = PaperBroker([FREE_INV])
    b.seed({"BTC": 1.0}, [])
    trade(b, "buy", 1_000, 50_000.0, FREE_INV.symbol)  # 1,000 x 10 USD = 10,000 USD long
    trade(b, "sell", 1_000, 55_000.0, FREE_INV.symbol)
    # 10,000 x (1/50,000 - 1/55,000) = 10,000 x 5,000 / 2.75e9 = 0.0181818... BTC
    assert balance(b, "BTC") == pytest.approx(1.0 + 10_000 * 5_000 / 2.75e9, rel=1e-12)


def test_inverse_average_entry_is_harmonic():
    # 10,000 USD at 50,000 and 10,000 USD at 60,000 cost 0.2 + 0.1666.. BTC
    c, e, r = apply_trade(FREE_INV, 0.0, 0.0, "buy", 1_000, 50_000.0)
    c, e, r = apply_trade(FREE_INV, c, e, "buy", 1_000, 60_000.0)
    assert c == 2_000 and r == 0.0
    assert e == pytest.approx(20_000 / (10_000 / 50_000 + 10_000 / 60_000))  # 54,545.45
    # closing at any price realises the same as closing the two lots separately
    for exit_price in (40_000.0, 54_000.0, 70_000.0):
        lots = (10_000 * (1 / 50_000 - 1 / exit_price) + 10_000 * (1 / 60_000 - 1 / exit_price))
        assert contract_pnl(FREE_INV, c, e, exit_price) == pytest.approx(lots, rel=1e-12)


def test_option_pnl_in_coin():
    call = replace(BTC_CALL, maker_fee=0.0, taker_fee=0.0)
    b = PaperBroker([call])
    b.seed({"BTC": 1.0}, [])
    trade(b, "sell", 2.0, 0.05, call.symbol)
    trade(b, "buy", 2.0, 0.03, call.symbol)
    # short 2 calls sold at 0.05 BTC, bought back at 0.03: 2 x (0.05 - 0.03) = 0.04 BTC
    assert balance(b, "BTC") == pytest.approx(1.04)


def test_average_entry_partial_close_and_flip():
    b = PaperBroker([FREE])
    b.seed({"USDT": 100_000.0}, [])
    trade(b, "buy", 1.0, 60_000.0)
    trade(b, "buy", 3.0, 62_000.0)
    # entry = (1 x 60,000 + 3 x 62,000) / 4 = 246,000 / 4 = 61,500
    assert b.account().position(SYM).entry_price == pytest.approx(61_500.0)
    trade(b, "sell", 1.0, 63_000.0)
    # realised 1 x (63,000 - 61,500) = +1,500; 3 left at the same 61,500 entry
    pos = b.account().position(SYM)
    assert (pos.contracts, pos.entry_price) == pytest.approx((3.0, 61_500.0))
    assert balance(b, "USDT") == pytest.approx(101_500.0)
    trade(b, "sell", 5.0, 60_000.0)
    # closes 3 at a loss of 3 x (60,000 - 61,500) = -4,500; opens short 2 at 60,000
    pos = b.account().position(SYM)
    assert (pos.contracts, pos.entry_price) == pytest.approx((-2.0, 60_000.0))
    assert balance(b, "USDT") == pytest.approx(97_000.0)
    assert b.account().extra["realised_pnl"]["USDT"] == pytest.approx(1_500.0 - 4_500.0)


def test_linear_margin_from_tiers():
    """Binance USD-M brackets: MM = notional x MMR(tier) - maintenance amount."""
    b = PaperBroker([BTC_PERP])
    b.seed({"USDT": 100_000.0}, [(SYM, 2.0, 60_000.0)])
    b.on_ticker(ticker(SYM, 60_000.0))
    pos = b.account().position(SYM)
    # notional 120,000 is in tier 2: IM = 1 % x 120,000 = 1,200; MM = 0.5 % x 120,000 - 50 = 550
    assert pos.initial_margin_usd == pytest.approx(1_200.0)
    assert pos.maintenance_margin_usd == pytest.approx(550.0)
    assert pos.leverage == pytest.approx(120_000 / 100_000)


def test_short_option_margin_follows_deribit():
    """Deribit "Margin requirements - Options": short call IM = max(0.15 - OTM/S, 0.10) + mark,
    MM = 0.075 + mark, per BTC of contracts, in BTC."""
    # call K=70,000 at S=60,000, mark 0.02: OTM/S = 1/6 -> IM 0.10 + 0.02, MM 0.095
    assert option_margin(0.02, 60_000.0, 70_000.0, True, 1.0, short=True) == pytest.approx(
        (0.12, 0.095))
    # put K=58,000 at S=60,000, mark 0.03: 0.15 - 2,000/60,000 = 0.116667 -> IM 0.146667
    im, mm = option_margin(0.03, 60_000.0, 58_000.0, False, 2.0, short=True)
    assert im == pytest.approx(2 * (0.15 - 2_000 / 60_000 + 0.03))
    assert mm == pytest.approx(2 * (0.075 + 0.03))
    # a long option risks only its premium: no maintenance margin
    assert option_margin(0.02, 60_000.0, 70_000.0, True, 3.0, short=False) == (
        pytest.approx(0.06), 0.0)


def test_option_positions_in_the_usd_account():
    b = PaperBroker([BTC_PERP, BTC_CALL, BTC_PUT])
    b.seed({"BTC": 2.0}, [(BTC_CALL.symbol, -1.0, 0.025), (BTC_PUT.symbol, 1.0, 0.03)])
    b.on_ticker(ticker(BTC_PERP.symbol, 60_000.0))
    b.on_ticker(ticker(BTC_CALL.symbol, 0.02, underlying=60_000.0))
    b.on_ticker(ticker(BTC_PUT.symbol, 0.035, underlying=60_000.0))
    acct = b.account()
    call, put = acct.position(BTC_CALL.symbol), acct.position(BTC_PUT.symbol)
    # short call: -1 x (0.02 - 0.025) = +0.005 BTC = 300 USD; IM 0.12 BTC, MM 0.095 BTC
    assert call.unrealised_pnl_settle == pytest.approx(0.005)
    assert call.unrealised_pnl_usd == pytest.approx(300.0)
    assert call.initial_margin_usd == pytest.approx(0.12 * 60_000)
    assert call.maintenance_margin_usd == pytest.approx(0.095 * 60_000)
    assert call.liquidation_price is None
    # long put: 1 x (0.035 - 0.03) = 0.005 BTC; no MM
    assert put.maintenance_margin_usd == 0.0
    # equity = 2 BTC x 60,000 + 300 + 300 = 120,600 USD
    assert acct.equity_usd == pytest.approx(120_600.0)
    assert acct.maintenance_margin_usd == pytest.approx(5_700.0)


def test_cross_liquidation_price_of_a_linear_long():
    # 10,000 USDT, long 1 BTC from 60,000, flat 0.5 % MM: equity(m) = 10,000 + (m - 60,000)
    # equals MM(m) = 0.005 m at m = 50,000 / 0.995 = 50,251.256...
    inst = replace(BTC_PERP, margin_tiers=())  # the default tier: 1 % IM, 0.5 % MM
    b = PaperBroker([inst])
    b.seed({"USDT": 10_000.0}, [(SYM, 1.0, 60_000.0)])
    b.on_ticker(ticker(SYM, 60_000.0))
    assert b.account().position(SYM).liquidation_price == pytest.approx(50_000 / 0.995,
                                                                        rel=1e-9)


def test_cross_liquidation_price_of_a_linear_short():
    # short 1 BTC from 60,000: 10,000 - (m - 60,000) = 0.005 m  ->  m = 70,000 / 1.005
    inst = replace(BTC_PERP, margin_tiers=())
    b = PaperBroker([inst])
    b.seed({"USDT": 10_000.0}, [(SYM, -1.0, 60_000.0)])
    b.on_ticker(ticker(SYM, 60_000.0))
    assert b.account().position(SYM).liquidation_price == pytest.approx(70_000 / 1.005,
                                                                        rel=1e-9)


def test_the_liquidation_level_is_solved_again_when_the_book_changes_not_on_every_tick():
    """The level of a fixed book does not move with the price, so the broker keeps it
    between ticks; a fill re-solves at once (hand-solved roots, default tier 0.5 % MM)."""
    inst = replace(FREE, margin_tiers=())
    b = PaperBroker([inst])
    b.seed({"USDT": 10_000.0}, [(SYM, 1.0, 60_000.0)])
    b.on_ticker(ticker(SYM, 60_000.0, T0))
    assert b.account().position(SYM).liquidation_price == pytest.approx(50_000 / 0.995, rel=1e-9)
    solves = b._liquidation_memo.solves
    b.on_ticker(ticker(SYM, 61_000.0, T0 + 100))  # the price moved, the book did not
    acct = b.account()
    assert acct.position(SYM).liquidation_price == pytest.approx(50_000 / 0.995, rel=1e-9)
    assert b._liquidation_memo.solves == solves
    trade(b, "buy", 1.0, 61_000.0)  # long 2: 10,000 + 2m - 121,000 = 0.005 x 2m
    b.on_ticker(ticker(SYM, 61_000.0, T0 + 200))
    assert b.account().position(SYM).contracts == 2.0
    assert b.account().position(SYM).liquidation_price == pytest.approx(111_000 / 1.99,
                                                                        rel=1e-9)
    solves = b._liquidation_memo.solves
    b.on_ticker(ticker(SYM, 61_500.0, T0 + 1_500))  # a second on: solved again, same root
    assert b.account().position(SYM).liquidation_price == pytest.approx(111_000 / 1.99,
                                                                        rel=1e-9)
    assert b._liquidation_memo.solves == solves + 1


def test_no_liquidation_price_when_fully_collateralised():
    b = PaperBroker([BTC_PERP])
    b.seed({"USDT": 100_000.0}, [(SYM, 1.0, 60_000.0)])
    b.on_ticker(ticker(SYM, 60_000.0))
    assert b.account().position(SYM).liquidation_price is None


def test_no_price_yet_gives_nan_equity_with_a_reason():
    b = PaperBroker([BTC_PERP, BTC_CALL])
    b.seed({"USDT": 1_000.0, "BTC": 1.0}, [(BTC_CALL.symbol, 1.0, 0.02)])
    acct = b.account()
    assert math.isnan(acct.equity_usd)
    assert "no BTC price" in acct.extra["missing"]
    assert f"no mark for {BTC_CALL.symbol}" in acct.extra["missing"]


@pytest.mark.parametrize("contracts, rate, paid", [
    (2.0, 0.0001, 12.1),     # long, positive rate: pays 2 x 60,500 x 0.0001
    (-2.0, 0.0001, -12.1),   # short, positive rate: receives
    (2.0, -0.0003, -36.3),   # long, negative rate: receives 2 x 60,500 x 0.0003
])
def test_funding_at_the_funding_time(contracts, rate, paid):
    """Binance USD-M "Introduction to Funding Rates": payment = position value x rate,
    longs pay shorts when the rate is positive."""
    b = PaperBroker([FREE])
    b.seed({"USDT": 100_000.0}, [(SYM, contracts, 60_000.0)])
    due = T0 + 60_000
    b.on_ticker(ticker(SYM, 60_000.0, T0, funding_rate=rate, next_funding_ms=due))
    b.on_ticker(ticker(SYM, 60_200.0, due - 1, funding_rate=rate, next_funding_ms=due))
    assert balance(b, "USDT") == 100_000.0  # not yet
    nxt = due + 8 * 3_600_000
    b.on_ticker(ticker(SYM, 60_500.0, due, funding_rate=rate, next_funding_ms=nxt))
    assert balance(b, "USDT") == pytest.approx(100_000.0 - paid)
    (entry,) = b.funding_ledger()
    assert (entry.funding_ms, entry.payment, entry.mark) == (due, pytest.approx(paid), 60_500.0)
    assert b.account().extra["funding_paid"]["USDT"] == pytest.approx(paid)
    b.on_ticker(ticker(SYM, 60_600.0, due + 1000, funding_rate=rate, next_funding_ms=nxt))
    assert len(b.funding_ledger()) == 1  # once per funding time


def test_funding_without_a_schedule_uses_the_interval_from_midnight():
    b = PaperBroker([FREE])
    b.seed({"USDT": 100_000.0}, [(SYM, 1.0, 60_000.0)])
    eight_h = 8 * 3_600_000
    start = 20_000 * eight_h + 1_000  # just after a funding time
    b.on_ticker(ticker(SYM, 60_000.0, start, funding_rate=0.0001))
    b.on_ticker(ticker(SYM, 60_000.0, start + eight_h - 2_000, funding_rate=0.0001))
    assert b.funding_ledger() == []
    b.on_ticker(ticker(SYM, 60_000.0, 20_001 * eight_h, funding_rate=0.0001))
    (entry,) = b.funding_ledger()
    assert entry.funding_ms == 20_001 * eight_h and entry.payment == pytest.approx(6.0)


def test_inverse_funding_is_paid_in_coin():
    b = PaperBroker([FREE_INV])
    b.seed({"BTC": 1.0}, [(FREE_INV.symbol, 1_000, 50_000.0)])
    due = T0 + 1
    b.on_ticker(ticker(FREE_INV.symbol, 50_000.0, T0, funding_rate=0.0001, next_funding_ms=due))
    b.on_ticker(ticker(FREE_INV.symbol, 50_000.0, due, funding_rate=0.0001))
    # 10,000 USD / 50,000 = 0.2 BTC of position value x 0.0001 = 0.00002 BTC
    assert balance(b, "BTC") == pytest.approx(1.0 - 0.00002)


def test_deribit_inverse_future_margin_without_tiers():
    """Deribit "Margin requirements - Futures": IM = 2 % + 0.005 % per BTC of size,
    MM = 1 % + 0.005 % per BTC; 25 BTC needs IM 2.125 % and MM 1.125 %."""
    deribit = replace(BTC_INVERSE, venue="deribit", margin_tiers=())
    b = PaperBroker([deribit])
    # 150,000 contracts x 10 USD = 1,500,000 USD = 25 BTC at 60,000
    b.seed({"BTC": 10.0}, [(deribit.symbol, 150_000, 60_000.0)])
    b.on_ticker(ticker(deribit.symbol, 60_000.0))
    pos = b.account().position(deribit.symbol)
    assert pos.initial_margin_usd == pytest.approx(1_500_000 * 0.02125)
    assert pos.maintenance_margin_usd == pytest.approx(1_500_000 * 0.01125)
