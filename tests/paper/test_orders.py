"""Order handling of the paper broker: book walking, resting limits, fees, precision,
minimums, reduce-only, post-only and client order ids. Expected values are worked
out by hand in each test from the book and the contract spec in conftest."""

from __future__ import annotations

import pytest

from cockpit.model import OrderRequest, Trade
from cockpit.paper import OrderRejected, PaperBroker
from tests.paper.specs import BTC_CALL, BTC_PERP, T0, book, ticker

SYM = BTC_PERP.symbol
ASKS = [[60_000.0, 0.5], [60_010.0, 1.0], [60_050.0, 2.0]]
BIDS = [[59_990.0, 0.3], [59_980.0, 0.5]]


def buy(amount, **kw):
    return OrderRequest(SYM, "buy", kw.pop("type", "market"), amount, **kw)


def sell(amount, **kw):
    return OrderRequest(SYM, "sell", kw.pop("type", "market"), amount, **kw)


def usdt(b: PaperBroker) -> float:
    return next(x.total for x in b.account().balances if x.currency == "USDT")


def test_market_buy_walks_three_levels_at_vwap(broker):
    broker.on_book(book(SYM, BIDS, ASKS))
    order = broker.place_order(buy(2.0))
    # 0.5 @ 60,000 + 1.0 @ 60,010 + 0.5 @ 60,050 = 30,000 + 60,010 + 30,025 = 120,035
    assert order.status == "closed" and order.filled == pytest.approx(2.0)
    assert order.average == pytest.approx(120_035 / 2.0)  # 60,017.5
    fills = [f for f in broker.account().fills if f.order_id == order.id]
    assert [(f.price, f.amount) for f in fills] == [(60_000.0, 0.5), (60_010.0, 1.0),
                                                     (60_050.0, 0.5)]
    # taker 5 bp on 120,035 USDT of notional = 60.0175 USDT
    assert sum(f.fee for f in fills) == pytest.approx(60.0175)
    assert all(not f.maker and f.fee_currency == "USDT" for f in fills)
    pos = broker.account().position(SYM)
    assert pos.contracts == pytest.approx(2.0) and pos.entry_price == pytest.approx(60_017.5)
    assert usdt(broker) == pytest.approx(100_000 - 60.0175)


def test_taken_liquidity_is_gone_until_the_next_book(broker):
    broker.on_book(book(SYM, BIDS, ASKS))
    broker.place_order(buy(2.0))
    # left on the ask side: 1.5 @ 60,050 only
    second = broker.place_order(buy(1.0))
    assert second.average == pytest.approx(60_050.0)
    broker.on_book(book(SYM, BIDS, ASKS, ts_ms=T0 + 1))
    third = broker.place_order(buy(0.5))
    assert third.average == pytest.approx(60_000.0)


def test_thin_book_partial_fill_says_what_was_cancelled(broker):
    broker.on_book(book(SYM, BIDS, ASKS))
    order = broker.place_order(sell(1.0))
    # bids hold 0.3 + 0.5 = 0.8: the rest, 0.2, is cancelled
    assert order.filled == pytest.approx(0.8)
    assert order.status == "canceled"
    assert "book exhausted" in order.reason
    assert order.reason == "book exhausted: filled 0.8 of 1.0, 0.2 cancelled"
    # (0.3 x 59,990 + 0.5 x 59,980) / 0.8 = (17,997 + 29,990) / 0.8 = 59,983.75
    assert order.average == pytest.approx(59_983.75)
    assert broker.account().position(SYM).contracts == pytest.approx(-0.8)


def test_limit_rests_then_fills_as_maker_when_the_book_crosses(broker):
    broker.on_book(book(SYM, BIDS, ASKS))
    order = broker.place_order(buy(1.0, type="limit", price=59_900.0))
    assert order.status == "open" and order.filled == 0.0
    assert broker.account().open_orders[0].id == order.id
    # asks at or below 59,900: 0.4 + 0.3 = 0.7 contracts cross the resting bid
    broker.on_book(book(SYM, [[59_800.0, 1.0]],
                        [[59_890.0, 0.4], [59_900.0, 0.3], [59_950.0, 5.0]], T0 + 1))
    now = broker.ledger.orders[order.id]
    assert now.filled == pytest.approx(0.7) and now.status == "open"
    fill = broker.account().fills[-1]
    # a resting order fills at its own price, as maker: 0.7 x 59,900 x 2 bp = 8.386
    assert fill.price == 59_900.0 and fill.maker
    assert fill.fee == pytest.approx(8.386)
    # a print AT the limit: no bid was shown at 59,900 when it joined (nor since), so no
    # one is queued ahead (cockpit.paper.queue): a 0.1 print fills 0.1 of it
    broker.on_trade(Trade(SYM, T0 + 2, 59_900.0, 0.1, "sell"))
    assert broker.ledger.orders[order.id].filled == pytest.approx(0.8)
    # a buyer's print cannot fill a buy
    broker.on_trade(Trade(SYM, T0 + 2, 59_900.0, 5.0, "buy"))
    assert broker.ledger.orders[order.id].filled == pytest.approx(0.8)
    # a print THROUGH the limit fills the remaining 0.2
    broker.on_trade(Trade(SYM, T0 + 3, 59_899.9, 5.0, "sell"))
    done = broker.ledger.orders[order.id]
    assert done.status == "closed" and done.filled == pytest.approx(1.0)
    assert broker.account().open_orders == ()
    assert broker.account().position(SYM).entry_price == pytest.approx(59_900.0)


def test_marketable_limit_takes_up_to_its_price_and_rests_the_rest(broker):
    broker.on_book(book(SYM, BIDS, ASKS))
    order = broker.place_order(buy(2.0, type="limit", price=60_010.0))
    # takes 0.5 @ 60,000 and 1.0 @ 60,010 as taker; 0.5 rests at 60,010
    assert order.status == "open" and order.filled == pytest.approx(1.5)
    assert order.average == pytest.approx((30_000 + 60_010) / 1.5)
    fills = broker.account().fills
    assert all(not f.maker for f in fills)
    # taker fee: (30,000 + 60,010) x 5 bp = 45.005
    assert sum(f.fee for f in fills) == pytest.approx(45.005)


def test_maker_and_taker_fee_rates_differ_as_published(broker):
    broker.on_book(book(SYM, [[60_000.0, 10.0]], [[60_000.1, 10.0]]))
    taker = broker.place_order(sell(0.5))
    broker.place_order(sell(0.5, type="limit", price=60_100.0))
    broker.on_book(book(SYM, [[60_120.0, 10.0]], [[60_120.1, 10.0]], T0 + 1))
    fills = broker.account().fills
    taker_fill = next(f for f in fills if f.order_id == taker.id)
    maker_fill = fills[-1]
    assert taker_fill.fee == pytest.approx(0.5 * 60_000.0 * 0.0005)  # 15.0 USDT
    assert maker_fill.maker and maker_fill.fee == pytest.approx(0.5 * 60_100.0 * 0.0002)  # 6.01


def test_option_fee_is_in_coin_and_capped_at_an_eighth_of_the_price():
    """Deribit "Fees": options 0.03 % of the underlying (0.0003 BTC per 1 BTC contract),
    never more than 12.5 % of the option's price."""
    b = PaperBroker([BTC_CALL])
    b.seed({"BTC": 10.0}, [])
    b.on_book(book(BTC_CALL.symbol, [[0.0495, 50]], [[0.05, 50]]))
    b.place_order(OrderRequest(BTC_CALL.symbol, "buy", "market", 2.0))
    fee = b.account().fills[-1]
    # 2 contracts x min(0.0003, 0.125 x 0.05 = 0.00625) = 0.0006 BTC
    assert fee.fee_currency == "BTC" and fee.fee == pytest.approx(0.0006)
    b.on_book(book(BTC_CALL.symbol, [[0.001, 50]], [[0.0015, 50]], T0 + 1))
    b.place_order(OrderRequest(BTC_CALL.symbol, "sell", "market", 2.0))
    # cheap option: 2 x min(0.0003, 0.125 x 0.001 = 0.000125) = 0.00025 BTC
    assert b.account().fills[-1].fee == pytest.approx(0.00025)


def test_post_only_that_would_cross_is_rejected(broker):
    broker.on_book(book(SYM, BIDS, ASKS))
    with pytest.raises(OrderRejected, match="post_only buy at 60000 would cross") as err:
        broker.place_order(buy(1.0, type="limit", price=60_000.0, post_only=True))
    assert "best ask 60000" in str(err.value) and "lower the price" in str(err.value)
    ok = broker.place_order(buy(1.0, type="limit", price=59_995.0, post_only=True))
    assert ok.status == "open" and ok.filled == 0.0


def test_amount_rounds_down_and_price_to_the_nearest_tick(broker):
    broker.on_book(book(SYM, [[59_000.0, 10.0]], [[61_000.0, 10.0]]))
    order = broker.place_order(buy(0.0029, type="limit", price=59_999.96))
    assert order.amount == pytest.approx(0.002)  # step 0.001, rounded DOWN
    assert order.price == pytest.approx(60_000.0)  # tick 0.1, nearest
    order = broker.place_order(buy(0.0021, type="limit", price=59_999.94))
    assert order.amount == pytest.approx(0.002) and order.price == pytest.approx(59_999.9)


def test_min_amount_error_names_the_field_and_the_fix(broker):
    broker.on_book(book(SYM, BIDS, ASKS))
    with pytest.raises(OrderRejected) as err:
        broker.place_order(buy(0.0004))
    assert str(err.value) == "amount 0.0004 below BTC/USDT:USDT minimum 0.001: raise the amount"
    assert isinstance(err.value, ValueError)


def test_min_cost_and_the_reduce_only_exemption(broker):
    broker.on_book(book(SYM, BIDS, ASKS))
    # 0.001 BTC at the 59,990 bid is 59.99 USDT, under the 100 USDT minimum
    with pytest.raises(OrderRejected, match=r"cost 59.99 USDT below BTC/USDT:USDT minimum 100"):
        broker.place_order(sell(0.001))
    broker.place_order(buy(0.002))  # 0.002 x 60,000 = 120 USDT: allowed
    closing = broker.place_order(sell(0.001, reduce_only=True))  # 59.99 USDT, reduce-only
    assert closing.filled == pytest.approx(0.001)
    assert broker.account().position(SYM).contracts == pytest.approx(0.001)


def test_reduce_only_never_flips_and_never_opens(broker):
    broker.on_book(book(SYM, BIDS, [[60_000.0, 10.0]]))
    broker.place_order(buy(0.5))
    order = broker.place_order(sell(5.0, reduce_only=True))
    assert order.filled == pytest.approx(0.5)  # clipped to the 0.5 long
    assert broker.account().position(SYM) is None
    with pytest.raises(OrderRejected, match="would not reduce it"):
        broker.place_order(sell(0.5, reduce_only=True))  # flat: nothing to reduce


def test_resting_reduce_only_is_cancelled_once_the_position_is_gone(broker):
    broker.on_book(book(SYM, [[59_990.0, 10.0]], [[60_000.0, 10.0]]))
    broker.place_order(buy(0.5))
    tp = broker.place_order(sell(0.5, type="limit", price=61_000.0, reduce_only=True))
    broker.place_order(sell(0.5))  # closed by hand
    broker.on_book(book(SYM, [[61_500.0, 10.0]], [[61_600.0, 10.0]], T0 + 1))
    assert broker.ledger.orders[tp.id].status == "canceled"
    assert broker.account().position(SYM) is None


def test_duplicate_client_order_id_returns_the_first_order(broker):
    broker.on_book(book(SYM, BIDS, ASKS))
    first = broker.place_order(buy(0.5, client_order_id="cockpit-42"))
    again = broker.place_order(buy(1.5, client_order_id="cockpit-42"))
    assert again == first
    assert len(broker.account().fills) == 1
    assert broker.account().position(SYM).contracts == pytest.approx(0.5)


def test_generated_client_order_ids_are_unique(broker):
    broker.on_book(book(SYM, BIDS, [[60_000.0, 10.0]]))
    a = broker.place_order(buy(0.01))
    b = broker.place_order(buy(0.01))
    assert a.client_order_id and b.client_order_id and a.client_order_id != b.client_order_id


def test_cancel_and_cancel_all(broker):
    broker.on_book(book(SYM, BIDS, ASKS))
    a = broker.place_order(buy(0.1, type="limit", price=59_000.0))
    broker.place_order(buy(0.1, type="limit", price=58_000.0))
    assert broker.cancel(a.id).status == "canceled"
    assert len(broker.account().open_orders) == 1
    assert [o.status for o in broker.cancel_all()] == ["canceled"]
    assert broker.account().open_orders == ()
    with pytest.raises(OrderRejected, match="unknown"):
        broker.cancel("nope")


def test_bad_requests_are_one_line_errors(broker):
    broker.on_book(book(SYM, BIDS, ASKS))
    for req, words in [
        (OrderRequest(SYM, "hold", "market", 1.0), "side 'hold'"),
        (OrderRequest(SYM, "buy", "stop", 1.0), "type 'stop'"),
        (OrderRequest(SYM, "buy", "market", float("nan")), "amount nan"),
        (OrderRequest(SYM, "buy", "market", -1.0), "amount -1.0"),
        (OrderRequest(SYM, "buy", "limit", 1.0, None), "price None"),
        (OrderRequest("DOGE/USDT:USDT", "buy", "market", 1.0), "unknown"),
    ]:
        with pytest.raises(OrderRejected, match=words) as err:
            broker.place_order(req)
        assert "\n" not in str(err.value)


def test_market_order_without_a_book_uses_the_ticker_top():
    b = PaperBroker([BTC_PERP])
    b.seed({"USDT": 10_000.0}, [])
    with pytest.raises(OrderRejected, match="no ask for BTC/USDT:USDT yet"):
        b.place_order(buy(0.01))
    b.on_ticker(ticker(SYM, 60_000.0, spread=5.0))
    order = b.place_order(buy(0.01))
    assert order.status == "closed" and order.average == pytest.approx(60_005.0)


async def test_the_async_ccxt_shaped_api(broker):
    broker.on_book(book(SYM, BIDS, ASKS))
    order = await broker.create_order(buy(0.5, type="limit", price=59_000.0))
    assert [o.id for o in await broker.fetch_open_orders()] == [order.id]
    assert (await broker.cancel_order(order.id)).status == "canceled"
    await broker.create_order(buy(0.5))
    assert [p.symbol for p in await broker.fetch_positions()] == [SYM]
    assert {b.currency for b in await broker.fetch_balance()} == {"USDT"}
    assert len(await broker.fetch_my_trades()) == 1
    assert await broker.fetch_my_trades(since_ms=T0 + 10**9) == []
    assert await broker.cancel_all_orders() == []


def test_an_order_the_account_cannot_margin_is_rejected_but_closing_is_not():
    b = PaperBroker([BTC_PERP])
    b.seed({"USDT": 1_000.0}, [])
    b.on_ticker(ticker(SYM, 60_000.0))
    b.on_book(book(SYM, [[60_000.0, 10.0]], [[60_000.0 + 0.1, 10.0]]))
    # 2 BTC at 60,000.1: notional 120,000 in tier 2 -> IM 1 % = 1,200 USDT, plus the taker
    # fee 60.0 and 0.2 paid over mark: 1,200 > 1,000 - 60.2 -> rejected
    with pytest.raises(OrderRejected, match="insufficient margin for buy 2.0 BTC/USDT:USDT") as e:
        b.place_order(buy(2.0))
    assert "reduce the amount" in str(e.value)
    # 1 BTC: IM 600 <= 1,000 - 30.0 - 0.1 = 969.9 -> accepted
    assert b.place_order(buy(1.0)).status == "closed"
    # a resting limit is checked for its whole amount at its price
    with pytest.raises(OrderRejected, match="insufficient margin"):
        b.place_order(buy(1.0, type="limit", price=59_000.0))
    # closing (or reducing) is never blocked by margin
    assert b.place_order(sell(1.0)).status == "closed"


def test_limit_without_a_book_fills_when_the_touch_reaches_it():
    b = PaperBroker([BTC_CALL])
    b.seed({"BTC": 10.0}, [])
    b.on_ticker(ticker(BTC_CALL.symbol, 0.05, spread=0.002, underlying=60_000.0))
    order = b.place_order(OrderRequest(BTC_CALL.symbol, "buy", "limit", 1.0, 0.0495))
    assert order.status == "open"  # best ask 0.052 is above the limit
    b.on_ticker(ticker(BTC_CALL.symbol, 0.047, T0 + 1, spread=0.002, underlying=60_000.0))
    # ask 0.049 <= 0.0495: the whole order fills at its own price, as maker
    done = b.ledger.orders[order.id]
    assert done.status == "closed" and done.average == pytest.approx(0.0495)
    assert b.account().fills[-1].maker


def test_resting_orders_reserve_initial_margin():
    b = PaperBroker([BTC_PERP])
    b.seed({"USDT": 1_000.0}, [])
    b.on_ticker(ticker(SYM, 60_000.0))
    b.on_book(book(SYM, [[59_999.9, 10.0]], [[60_000.1, 10.0]]))
    # each bid: 0.5 x 59,000 = 29,500 USDT, tier 1 (<= 50,000) at 0.8 % -> 236 reserved;
    # a new one needs 236 x (resting) + 0.5 x 60,000 (mark) x 0.8 % = 240 for itself
    for _ in range(4):  # 236 x 3 + 240 = 948 <= 1,000
        b.place_order(buy(0.5, type="limit", price=59_000.0))
    assert b.account().extra["open_order_margin_usd"] == pytest.approx(4 * 236.0)
    with pytest.raises(OrderRejected, match="insufficient margin"):  # 944 + 240 > 1,000
        b.place_order(buy(0.5, type="limit", price=59_000.0))
