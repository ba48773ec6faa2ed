"""SimMarket: determinism, clock and acceleration, history bars, funding, expiries, sanity."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from cockpit.model import Bars, Book, Ticker, Trade
from cockpit.venues.sim import SimMarket

from .conftest import START_MS, fingerprint, numbers_of

HOUR_MS = 3_600_000


def run(market: SimMarket, steps: int) -> list:
    out = []
    for _ in range(steps):
        out.extend(market.step())
    return out


def test_same_seed_gives_identical_first_500_updates():
    a = run(SimMarket(seed=3, start_ms=START_MS), 60)[:500]
    b = run(SimMarket(seed=3, start_ms=START_MS), 60)[:500]
    assert len(a) == 500
    assert [fingerprint(u) for u in a] == [fingerprint(u) for u in b]


def test_different_seeds_give_different_markets():
    a = SimMarket(seed=3, start_ms=START_MS)
    b = SimMarket(seed=4, start_ms=START_MS)
    assert a.ticker("BTC/USDT:USDT").mark != b.ticker("BTC/USDT:USDT").mark
    assert not np.array_equal(a.bars()[0].close, b.bars()[0].close)
    ua, ub = run(a, 20), run(b, 20)
    assert [fingerprint(u) for u in ua] != [fingerprint(u) for u in ub]


def test_one_real_second_at_acceleration_3600_is_one_simulated_hour():
    market = SimMarket(seed=1, tick_hz=10.0, acceleration=3600.0, start_ms=START_MS)
    run(market, 10)  # 10 ticks at 10 Hz = one real second
    assert market.now_ms() - START_MS == HOUR_MS


def test_real_time_ticks_advance_a_tenth_of_a_second():
    market = SimMarket(seed=1, start_ms=START_MS)
    run(market, 25)
    assert market.now_ms() - START_MS == 2_500
    assert all(u.ts_ms == market.now_ms() for u in market.step() if isinstance(u, Book))


def test_backfilled_hourly_bars_end_at_start_with_consistent_ohlc(market):
    floor_hour = START_MS // HOUR_MS * HOUR_MS
    for bars in market.bars():
        assert bars.symbol in ("BTC/USDT:USDT", "ETH/USDT:USDT")
        assert bars.timeframe_s == 3600
        assert len(bars) == 2160 >= 2000
        assert np.all(np.diff(bars.ts_ms) == HOUR_MS)
        assert bars.ts_ms[-1] == floor_hour - HOUR_MS  # the last complete hour before start
        assert np.all(bars.low <= np.minimum(bars.open, bars.close))
        assert np.all(bars.high >= np.maximum(bars.open, bars.close))
        assert np.all(bars.low > 0) and np.all(bars.volume > 0)
        assert np.all(bars.open[1:] == bars.close[:-1])  # a continuous path
        assert not bars.close.flags.writeable


def test_history_bars_argument_sets_the_window():
    market = SimMarket(seed=1, start_ms=START_MS, history_bars=300)
    assert [len(b) for b in market.bars()] == [300, 300]


def test_an_hour_closing_pushes_the_full_window_with_the_new_bar():
    market = SimMarket(seed=2, tick_hz=10.0, acceleration=3600.0, start_ms=START_MS)
    before = market.bars()[0]
    updates = run(market, 10)
    closed = [u for u in updates if isinstance(u, Bars) and u.symbol == "BTC/USDT:USDT"]
    assert len(closed) == 1
    bars = closed[0]
    assert len(bars) == len(before)  # a rolling window: replace, not append
    assert bars.ts_ms[-1] == before.ts_ms[-1] + HOUR_MS
    assert bars.ts_ms[-2] == before.ts_ms[-1]
    assert bars.low[-1] <= min(bars.open[-1], bars.close[-1])
    assert bars.high[-1] >= max(bars.open[-1], bars.close[-1])


def test_funding_times_are_00_08_16_utc_and_rates_within_binance_caps():
    # tick_hz 1 at acceleration 3600: an hour per step. From Mon 07:20:34 UTC, 49 h
    # cross 7 funding times: Mon 08, 16; Tue 00, 08, 16; Wed 00, 08.
    market = SimMarket(seed=5, tick_hz=1.0, acceleration=3600.0, start_ms=START_MS)
    updates = run(market, 49)
    perp_tickers = [u for u in updates if isinstance(u, Ticker) and u.funding_rate is not None]
    for t in perp_tickers:
        when = dt.datetime.fromtimestamp(t.next_funding_ms / 1000, dt.UTC)
        assert (when.hour, when.minute, when.second) in {(0, 0, 0), (8, 0, 0), (16, 0, 0)}
        assert 0 < t.next_funding_ms - t.ts_ms <= 8 * HOUR_MS
        assert -0.0075 <= t.funding_rate <= 0.0075
    settled = [t for t in perp_tickers if t.ts_ms % (8 * HOUR_MS) == 0]
    assert len(settled) == 2 * 7  # one per perp per funding time
    # a calm market funds near Binance's 0.01 % interest component
    rates = [t.funding_rate for t in settled]
    assert np.median(rates) == pytest.approx(0.0001, abs=0.0004)


def test_expired_options_settle_at_intrinsic_and_stop_updating():
    market = SimMarket(seed=6, tick_hz=1.0, acceleration=3600.0, start_ms=START_MS)
    first_expiry = min(i.expiry_ms for i in market.instruments() if i.is_option)
    expiring = {i.symbol: i for i in market.instruments() if i.expiry_ms == first_expiry}
    version = market.instruments_version
    hours = math.ceil((first_expiry - START_MS) / HOUR_MS)
    updates = run(market, hours + 3)
    finals = {u.symbol: u for u in updates if isinstance(u, Ticker) and u.ts_ms == first_expiry
              and u.symbol in expiring}
    btc = market.bars()[0]
    f = float(btc.open[btc.ts_ms == first_expiry][0])  # the index at expiry: that hour's open
    in_the_money = {s for s, i in expiring.items() if (f > i.strike) == i.is_call}
    assert set(finals) == in_the_money  # worthless ones get no (zero-mark) ticker
    assert 0 < len(in_the_money) < len(expiring)
    for symbol, t in finals.items():
        inst = expiring[symbol]
        assert t.underlying_price == f
        intrinsic = max(f - inst.strike, 0.0) if inst.is_call else max(inst.strike - f, 0.0)
        assert t.mark == pytest.approx(intrinsic / f, rel=1e-12)
        assert t.bid == t.ask == t.mark > 0 and t.mark_iv is None
    after = [u for u in updates if not isinstance(u, Bars) and u.ts_ms > first_expiry
             and u.symbol in expiring]
    assert after == []
    listed = market.instruments()
    assert not set(expiring) & {i.symbol for i in listed}
    assert market.instruments_version > version
    assert len({i.expiry_ms for i in listed if i.is_option}) >= 4  # a new expiry rolled in
    for inst in listed:
        market.ticker(inst.symbol)  # every listed instrument has a quote


def test_no_nan_inf_or_negative_anywhere_even_in_a_storm():
    market = SimMarket(seed=8, tick_hz=2.0, acceleration=7200.0, start_ms=START_MS)
    updates = [*market.full_update(), *market.bars()]
    market.set_vol_regime(2.5)
    updates += run(market, 100)  # 100 h through a storm, the Friday expiry, funding times
    for update in updates:
        values = numbers_of(update)
        assert np.all(np.isfinite(values)), update
        assert np.all(values >= 0), update
        if isinstance(update, Trade):
            assert update.price > 0 and update.amount > 0
        if isinstance(update, Ticker) and update.funding_rate is not None:
            assert update.mark > 0 and update.index > 0 and update.bid > 0


def test_set_vol_regime_moves_the_instantaneous_vol(market):
    market.set_vol_regime(1.2)
    assert market.vol_annual("BTC") == pytest.approx(1.2)
    assert market.vol_annual("ETH") == pytest.approx(1.44)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"tick_hz": 0}, "tick_hz"),
        ({"tick_hz": float("nan")}, "tick_hz"),
        ({"acceleration": -1.0}, "acceleration"),
        ({"history_bars": 10}, "history_bars"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        SimMarket(start_ms=START_MS, **kwargs)


def test_unknown_symbol_is_a_clear_error(market):
    with pytest.raises(ValueError, match="symbol"):
        market.ticker("DOGE/USDT:USDT")
    with pytest.raises(ValueError, match="set_vol_regime|vol_annual"):
        market.set_vol_regime(float("nan"))


@pytest.mark.parametrize("seed", [7, 8])
def test_backfilled_bars_give_a_garch_fit_regime_like_persistence(seed):
    # What the sizing engine will do at start: fit GARCH(1,1)-t to the hourly
    # history. Hourly BTC fits typically give alpha + beta of 0.97-0.995; the
    # model's log-variance persistence is 0.985 per hour.
    from arch import arch_model

    market = SimMarket(seed=seed, start_ms=START_MS)
    returns = np.diff(np.log(market.bars()[0].close)) * 100  # percent, as arch advises
    fit = arch_model(returns, mean="Zero", vol="GARCH", p=1, q=1, dist="t").fit(disp="off")
    assert fit.convergence_flag == 0
    persistence = fit.params["alpha[1]"] + fit.params["beta[1]"]
    assert 0.95 < persistence < 0.999
    long_run = math.sqrt(fit.params["omega"] / (1 - persistence) * 8760) / 100
    assert long_run == pytest.approx(market.expected_vol_annual(), rel=0.25)
