"""Instrument names on screen: ccxt unified symbols of real venues, named the way
traders write them (the expected names are written by hand, not derived)."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from widgets.format import short_symbol, symbols_in_text

# (ccxt unified symbol as the venue's markets give it, the name a trader writes)
NAMES = [
    # Deribit: inverse (coin-settled) options, futures and perpetuals
    ("BTC/USD:BTC-261225-102000-C", "BTC 25DEC 102k C"),
    ("BTC/USD:BTC-261225-102500-P", "BTC 25DEC 102.5k P"),
    ("BTC/USD:BTC-270326-100000-C", "BTC 26MAR 100k C"),
    ("BTC/USD:BTC-261204-90000-C", "BTC 04DEC 90k C"),
    ("ETH/USD:ETH-261225-2500-C", "ETH 25DEC 2500 C"),
    ("ETH/USD:ETH-261225-3250-P", "ETH 25DEC 3250 P"),
    ("ETH/USD:ETH-261225-10000-C", "ETH 25DEC 10k C"),
    ("BTC/USD:BTC", "BTC-PERP"),
    ("ETH/USD:ETH", "ETH-PERP"),
    ("BTC/USD:BTC-261225", "BTC 25DEC fut"),
    # Deribit linear (USDC-settled): perpetual and options with fractional strikes
    ("BTC/USDC:USDC", "BTC/USDC perp"),
    ("XRP/USDC:USDC-261225-0.55-C", "XRP/USDC 25DEC 0.55 C"),
    ("SOL/USDC:USDC-261225-162.5-P", "SOL/USDC 25DEC 162.5 P"),
    # OKX: inverse options and futures, linear swaps and futures
    ("BTC/USD:BTC-261225-100000-C", "BTC 25DEC 100k C"),
    ("BTC/USDT:USDT", "BTC/USDT perp"),
    ("ETH/USDT:USDT", "ETH/USDT perp"),
    ("BTC/USDT:USDT-261225", "BTC/USDT 25DEC fut"),
    # Binance: USD-M and COIN-M, European options (USDT-settled)
    ("BTC/USDT:USDT-261225-100000-C", "BTC/USDT 25DEC 100k C"),
    ("ETH/USD:ETH-270326", "ETH 26MAR fut"),
    # Bybit: USDC options and perpetual
    ("BTC/USDC:USDC-261225-101000-P", "BTC/USDC 25DEC 101k P"),
    # not derivatives or not symbols: as they are
    ("BTC/USDT", "BTC/USDT"),
    ("Σ BTC", "Σ BTC"),
    ("premium adj BTC", "premium adj BTC"),
    ("BTC coin equity", "BTC coin equity"),
    ("", ""),
]


@pytest.mark.parametrize(("symbol", "name"), NAMES)
def test_the_name_a_trader_writes(symbol, name):
    assert short_symbol(symbol) == name


def test_inverse_and_linear_perps_of_one_coin_never_read_alike():
    names = {short_symbol(s) for s in ("BTC/USD:BTC", "BTC/USDT:USDT", "BTC/USDC:USDC",
                                       "BTC/USD:USD")}
    assert len(names) == 4


def test_a_symbol_that_is_not_a_date_or_strike_is_left_whole():
    # better the venue's full symbol than a made-up name
    for odd in ("BTC/USD:BTC-261325-100000-C", "BTC/USD:BTC-260000", "BTC/USD:BTC-261225-X-C"):
        assert short_symbol(odd) == odd


def test_quanto_keeps_its_settle_currency():
    assert short_symbol("ETH/USD:BTC") == "ETH/USD:BTC perp"
    assert short_symbol("ETH/USD:BTC-261225") == "ETH/USD:BTC 25DEC fut"


def test_symbols_in_free_text_are_renamed_and_the_rest_kept():
    line = ("cut BTC/USD:BTC-261225-78000-P -5.000 → -1.700; hedge with BTC/USDT:USDT, "
            "sell 0.5/2 filled, ETH/USD:ETH.")
    assert symbols_in_text(line) == ("cut BTC 25DEC 78k P -5.000 → -1.700; hedge with "
                                     "BTC/USDT perp, sell 0.5/2 filled, ETH-PERP.")


def _last_friday(year: int, month: int) -> dt.date:
    d = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return d - dt.timedelta(days=(d.weekday() - 4) % 7)


def test_month_end_expiries_a_year_apart_never_share_day_and_month():
    # Why the name can leave the year out: venues list months out to about a year
    # and a half, and their long-dated expiries are the month's last Friday; a
    # year moves the weekdays by one or two days, so the same month's last
    # Friday of the next year (or the one after) falls on another day.
    for year in range(2024, 2060):
        for month in range(1, 13):
            here = _last_friday(year, month)
            for later in (1, 2):
                assert _last_friday(year + later, month).day != here.day


@given(st.lists(st.tuples(st.sampled_from(["BTC", "ETH", "SOL"]),
                          st.sampled_from(["inverse", "USDT", "USDC"]),
                          st.integers(0, 360),
                          st.one_of(st.none(), st.integers(1, 400).map(lambda k: k * 500)),
                          st.sampled_from("CP")),
                min_size=2, max_size=12, unique=True))
def test_different_instruments_get_different_names(specs):
    start = dt.date(2026, 11, 23)
    symbols = set()
    for base, margin, days, strike, kind in specs:
        quote, settle = ("USD", base) if margin == "inverse" else (margin, margin)
        expiry = (start + dt.timedelta(days=days)).strftime("%y%m%d")
        symbol = f"{base}/{quote}:{settle}-{expiry}"
        if strike is not None:
            symbol += f"-{strike}-{kind}"
        symbols.add(symbol)
        symbols.add(f"{base}/{quote}:{settle}")  # and the perpetual
    names = {short_symbol(s) for s in symbols}
    assert len(names) == len(symbols)


def test_a_key_of_several_venues_keeps_its_venue_so_two_venues_never_read_alike():
    """A session of several venues keys instruments SYMBOL@VENUE: the short name keeps
    the venue, in a cell and inside a reason."""
    assert short_symbol("BTC/USD:BTC@deribit") == "BTC-PERP@deribit"
    assert short_symbol("BTC/USDT:USDT@okx") == "BTC/USDT perp@okx"
    assert short_symbol("BTC/USD:BTC-261225-102000-C@sim") == "BTC 25DEC 102k C@sim"
    assert short_symbol("BTC/USDT:USDT@okx") != short_symbol("BTC/USDT:USDT@bybit")
    assert (symbols_in_text("hedge BTC/USD:BTC-261225-78000-P@sim on BTC/USDT:USDT@okx")
            == "hedge BTC 25DEC 78k P@sim on BTC/USDT perp@okx")
