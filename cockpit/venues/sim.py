"""The built-in market: a deterministic, steppable simulated venue, and its feed.

``SimMarket`` is pure Python + numpy (no asyncio, no ccxt, no arch): each
``step()`` advances the simulated clock by ``acceleration / tick_hz`` seconds
and returns the updates it produced, as ``cockpit.model`` types. ``SimFeed``
drives it on the event loop at ``tick_hz`` and pushes into a ``MarketSink``.

What it lists (details in ``cockpit.sim.instruments``): ``BTC/USDT:USDT`` and
``ETH/USDT:USDT`` linear perps (Binance USD-M style), and a Deribit-style
coin-settled BTC option chain ``BTC/USD:BTC-YYMMDD-STRIKE-C|P`` (>= 4 expiries
x >= 15 strikes, calls and puts). Prices follow ``cockpit.sim.process``
(log-OU stochastic vol with jumps; BTC expected vol 58 %, ETH 1.2x BTC,
correlation 0.8), books ``cockpit.sim.book``, options ``cockpit.sim.surface``.

Updates and their cadence
-------------------------
* Perps every tick: Ticker (index, mark, funding_rate per 8 h,
  next_funding_ms at 00/08/16 UTC, 24 h volume), a 25-level Book, and the
  Trade prints of 0-4 takers (a taker larger than the touch prints once per
  level it sweeps).
* Options every tick: the Trade prints of their takers (``cockpit.sim.flow``:
  Poisson arrivals per option in proportion to its share of the chain's volume,
  at its latest book). They come from their own random stream (seeded from the
  same seed), so adding or changing the option flow leaves prices and books as
  they were.
* Options round-robin: ``ceil(n / tick_hz)`` options a tick, so the whole chain
  refreshes once per real second; Ticker (mark/bid/ask in BTC,
  underlying_price = index in USD, mark_iv as a fraction, ``greeks=None`` so
  the cockpit computes its own) and a 5-level Book (fewer bids for options
  worth under a tick). The forward is the BTC index: no basis, no rates.
* Bars when an hour closes: the complete rolling window of hourly bars
  (replace, do not append), ``history_bars`` long.
* At a funding time (00/08/16 UTC) a perp Ticker stamped at that time carries
  the rate that settled there.
* At an expiry (08:00 UTC) each in-the-money option of that expiry gets a
  final Ticker stamped at expiry with bid = ask = mark = its settlement value
  in coin (max(F - K, 0) / F for calls) and ``mark_iv=None``; worthless ones
  get none (a zero mark is not a price, and the Store rejects it: settle them
  at intrinsic 0, as the paper broker does after its grace period). Then the
  expiry stops updating and leaves ``instruments()``; the next one is rolled in with
  strikes around the current index (``instruments_version`` increments;
  ``SimFeed`` re-sends the instrument list).

Determinism: the same seed and ``start_ms`` give identical updates for the
same sequence of calls. ``start_ms`` defaults to the wall clock (so expiries
look current); the back-filled history depends on the seed only, the start
time shifting its timestamps and the partial first hour.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from contextlib import nullcontext
from dataclasses import replace

import numpy as np

from cockpit.model import Bars, Book, Instrument, Ticker, Trade, VenueStatus
from cockpit.sim import book as sim_book
from cockpit.sim import flow as sim_flow
from cockpit.sim import instruments as sim_inst
from cockpit.sim import options as sim_options
from cockpit.sim import process, surface
from cockpit.sim.history import SUB_STEPS, BarSeries, backfill_ohlc
from cockpit.sim.perp import PerpState
from cockpit.venues.base import MarketFeed, MarketSink

HOUR_MS = sim_inst.HOUR_MS
YEAR_MS = 365.0 * sim_inst.DAY_MS
START_PRICES = {"BTC": 90_000.0, "ETH": 3_000.0}
HOURLY_VOLUME = {"BTC": 8_000.0, "ETH": 150_000.0}  # coin per hour at 50 % vol
LIQUIDITY = {
    "BTC": sim_book.Liquidity(touch_size=2.0, median_trade=0.05, trades_per_second=4.0),
    "ETH": sim_book.Liquidity(touch_size=40.0, median_trade=1.0, trades_per_second=3.0),
}

Update = Ticker | Book | Trade | Bars
MAX_STEP_S = 1.0  # wall seconds one tick may cover; a longer stall makes the market slow
RATE_WINDOW_S = 5.0  # the achieved rate is measured over this much wall time
SLOW_RATIO = 0.95  # below this share of the requested rate the market "runs slow"


class SimMarket:
    """A deterministic simulated derivatives venue (see module docstring).

    Parameters
    ----------
    seed : int
        Random seed; the same seed gives the same market.
    tick_hz : float
        Steps per real second the feed runs at (default 10).
    acceleration : float
        Simulated seconds per real second (3600: an hour per real second).
    start_ms : int, optional
        The simulated clock at start (ms since epoch); default the wall clock.
    history_bars : int
        Hourly bars back-filled before start (and kept as a rolling window).
    """

    def __init__(
        self,
        seed: int = 7,
        tick_hz: float = 10.0,
        acceleration: float = 1.0,
        start_ms: int | None = None,
        history_bars: int = 2160,
    ) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ValueError(f"seed: {seed!r}; pass an integer")
        if not (isinstance(tick_hz, int | float) and math.isfinite(tick_hz) and tick_hz > 0):
            raise ValueError(f"tick_hz: {tick_hz!r}; pass a positive number of ticks per second")
        if not (
            isinstance(acceleration, int | float)
            and math.isfinite(acceleration)
            and acceleration > 0
        ):
            raise ValueError(f"acceleration: {acceleration!r}; pass a positive factor (1 = real time)")
        if not (isinstance(history_bars, int) and history_bars >= 25):
            raise ValueError(f"history_bars: {history_bars!r}; pass an integer >= 25")
        self.params = process.VolParams()
        self.tick_hz = float(tick_hz)
        self.acceleration = float(acceleration)
        self._rng = np.random.default_rng(seed)
        self._flow_rng = np.random.default_rng([seed, 1])  # option takers: their own stream
        self._start_ms = int(time.time() * 1000) if start_ms is None else int(start_ms)
        self._now_ms = self._start_ms
        self._ticks = 0  # default-length steps since _tick_base_ms (no drift from rounding)
        self._tick_base_ms = self._start_ms
        self._carry_ms = 0.0  # sub-millisecond remainder of timed steps
        self._seq = 0
        self._trade_id = 0
        self._variance_mean = process.expected_variance(self.params)
        self._perps = {inst.base: inst for inst in sim_inst.perp_instruments()}
        self._perp_state = {base: PerpState() for base in self._perps}
        self._last_return = {base: 0.0 for base in self._perps}
        self._tickers: dict[str, Ticker] = {}
        self._books: dict[str, Book] = {}
        self._backfill(history_bars)
        self._options: list[Instrument] = []
        self._expiries: list[int] = []
        self.instruments_version = 0
        self._roll_expiries()
        self._option_cursor = 0
        self._publish_perps(dt_seconds=0.0)
        self._publish_options(self._options)

    # ---- public accessors -------------------------------------------------

    def now_ms(self) -> int:
        """The simulated clock (ms since epoch)."""
        return self._now_ms

    def instruments(self) -> list[Instrument]:
        """Listed instruments: the two perps and the unexpired options."""
        return list(self._perps.values()) + list(self._options)

    def bars(self) -> list[Bars]:
        """Hourly bars per perp, the complete rolling window, oldest first."""
        return [self._bars[base].bars() for base in self._perps]

    def ticker(self, symbol: str) -> Ticker:
        """The latest ticker published for ``symbol``."""
        try:
            return self._tickers[symbol]
        except KeyError:
            raise ValueError(f"symbol: {symbol!r} is not listed; see instruments()") from None

    def book(self, symbol: str) -> Book:
        """The latest order book published for ``symbol``."""
        try:
            return self._books[symbol]
        except KeyError:
            raise ValueError(f"symbol: {symbol!r} is not listed; see instruments()") from None

    def index_price(self, base: str = "BTC") -> float:
        """The index (spot) price in USD; the BTC index is the options' forward."""
        return self._index[base]

    def vol_annual(self, base: str = "BTC") -> float:
        """The instantaneous (diffusive) annualised vol of ``base`` now."""
        ratio = self.params.eth_vol_ratio if base == "ETH" else 1.0
        return ratio * math.exp(0.5 * self._log_var)

    def expected_vol_annual(self, base: str = "BTC") -> float:
        """The model's unconditional vol of log returns, jumps included."""
        ratio = self.params.eth_vol_ratio if base == "ETH" else 1.0
        return process.expected_vol_annual(self.params, ratio)

    def set_vol_regime(self, vol_annual: float) -> None:
        """Force BTC's instantaneous vol (ETH follows at 1.2x) and requote every book
        and ticker at it (the ``ticker``/``book`` accessors; a feed pushes them with
        the next step): for tests and demos of storms. The process mean-reverts
        from there."""
        if not (math.isfinite(vol_annual) and vol_annual > 0):
            raise ValueError(f"vol_annual: {vol_annual!r}; pass a positive annual fraction")
        self._log_var = 2.0 * math.log(vol_annual)
        self._publish_perps(dt_seconds=0.0)
        self._publish_options(self._options)

    def full_update(self) -> list[Update]:
        """Every latest ticker and book (what a new subscriber needs first)."""
        return [*self._tickers.values(), *self._books.values()]

    # ---- stepping ----------------------------------------------------------

    def step(self, sim_seconds: float | None = None) -> list[Update]:
        """Advance one tick: ``sim_seconds`` of simulated time, by default
        ``acceleration / tick_hz`` (the feed passes the wall time since its last
        step times ``acceleration``, so a late tick does not slow the market)."""
        if sim_seconds is None:
            self._ticks += 1
            end_ms = self._tick_base_ms + round(
                self._ticks * 1000.0 * self.acceleration / self.tick_hz
            )
            dt_seconds = self.acceleration / self.tick_hz
        else:
            if not (math.isfinite(sim_seconds) and sim_seconds >= 0):
                raise ValueError(f"sim_seconds: {sim_seconds!r}; pass a non-negative number")
            self._carry_ms += sim_seconds * 1000.0
            whole = math.floor(self._carry_ms)
            self._carry_ms -= whole
            end_ms = self._now_ms + whole
            self._tick_base_ms, self._ticks = end_ms, 0  # default ticks continue from here
            dt_seconds = sim_seconds
        out: list[Update] = []
        while self._now_ms < end_ms:
            boundary = (self._now_ms // HOUR_MS + 1) * HOUR_MS
            segment_end = min(boundary, end_ms)
            self._advance(segment_end - self._now_ms)
            self._now_ms = segment_end
            if segment_end == boundary:
                out.extend(self._on_hour(boundary))
        out.extend(self._publish_perps(dt_seconds))
        n = len(self._options)
        if n:
            chunk = min(math.ceil(n / self.tick_hz), n)
            start = self._option_cursor % n
            picked = [self._options[(start + i) % n] for i in range(chunk)]
            self._option_cursor = (start + chunk) % n
            out.extend(self._publish_options(picked))
        out.extend(self._option_trades(dt_seconds))
        return out

    def option_trade_rates(self) -> dict[str, float]:
        """Taker arrivals per second of market time for each listed option, now
        (``cockpit.sim.flow.option_trade_rates``)."""
        rates = self._option_rates()
        return {o.symbol: float(r) for o, r in zip(self._options, rates, strict=True)}

    def _option_rates(self) -> np.ndarray:
        opts = self._options
        years = surface.years_between(self._now_ms, [o.expiry_ms for o in opts])
        return sim_flow.option_trade_rates(self._index["BTC"], [o.strike for o in opts],
                                           years, self.vol_annual("BTC"))

    def _option_trades(self, dt_seconds: float) -> list[Update]:
        opts = self._options
        if not opts or dt_seconds <= 0:
            return []
        books = [self._books.get(o.symbol) for o in opts]
        buy_prob = sim_flow.buy_probability(self._last_return["BTC"], self.vol_annual("BTC"),
                                            dt_seconds)
        prints = sim_flow.option_prints(books, self._option_rates(),
                                        [o.is_call for o in opts], buy_prob, dt_seconds,
                                        self._flow_rng)
        out: list[Update] = []
        for i, price, amount, side in prints:
            self._trade_id += 1
            out.append(Trade(opts[i].symbol, self._now_ms, price, amount, side,
                             f"sim-{self._trade_id}"))
        return out

    def _advance(self, dt_ms: int) -> None:
        dt_years = dt_ms / YEAR_MS
        self._log_var, r_btc, r_eth = process.step(self.params, self._log_var, dt_years, self._rng)
        for base, r in (("BTC", r_btc), ("ETH", r_eth)):
            self._index[base] *= math.exp(r)
            self._last_return[base] = r
            series = self._bars[base]
            vol = self.vol_annual(base)
            hours = dt_ms / HOUR_MS
            volume = HOURLY_VOLUME[base] * max(vol, 0.05) / 0.5 * hours
            series.update(self._index[base], volume)
            return_24h = math.log(self._index[base] / series.close_hours_ago(24))
            self._perp_state[base].advance(hours, vol, return_24h, self._rng)

    def _on_hour(self, boundary_ms: int) -> list[Update]:
        out: list[Update] = []
        for base, series in self._bars.items():
            series.close_live()
            series.start_live(boundary_ms, self._index[base])
            out.append(series.bars())
        if boundary_ms % sim_inst.FUNDING_INTERVAL_MS == 0:
            for base, state in self._perp_state.items():
                settled = state.settle()
                out.append(self._perp_ticker(base, boundary_ms, funding=settled))
        if boundary_ms in self._expiries:
            out.extend(self._settle_expiry(boundary_ms))
        return out

    def _settle_expiry(self, expiry_ms: int) -> list[Update]:
        forward = self._index["BTC"]
        out: list[Update] = []
        for inst in (o for o in self._options if o.expiry_ms == expiry_ms):
            value = surface.intrinsic_coin(forward, inst.strike, inst.is_call)
            self._tickers.pop(inst.symbol, None)
            self._books.pop(inst.symbol, None)
            if value > 0:  # a zero mark is not a price (the Store rejects it): see docstring
                out.append(Ticker(inst.symbol, expiry_ms, value, value, value, value, forward,
                                  underlying_price=forward))
        self._options = [o for o in self._options if o.expiry_ms != expiry_ms]
        self._roll_expiries()
        return out

    def _roll_expiries(self) -> None:
        wanted = sim_inst.option_expiries(self._now_ms)
        self._expiries = [e for e in self._expiries if e > self._now_ms]
        new = [e for e in wanted if e not in self._expiries]
        for expiry in new:
            self._options.extend(sim_inst.option_chain(expiry, self._index["BTC"], self._now_ms))
        self._expiries = sorted(self._expiries + new)
        self._options.sort(key=lambda o: (o.expiry_ms, o.strike, o.option_type))
        self.instruments_version += 1
        if self._tickers:  # new listings get quotes straight away
            self._publish_options([o for o in self._options if o.symbol not in self._tickers])

    # ---- back-fill -----------------------------------------------------------

    def _backfill(self, n_bars: int) -> None:
        p = self.params
        # start the variance from its stationary law so history is typical
        log_var0 = p.log_var_mean + p.log_var_sd * float(self._rng.standard_normal())
        hour0 = self._start_ms // HOUR_MS * HOUR_MS
        minute = 1.0 / (process.HOURS_PER_YEAR * SUB_STEPS)
        path = process.simulate(p, n_bars * SUB_STEPS, minute, log_var0, self._rng)
        self._log_var = path.last_log_var
        hourly_vol = np.sqrt(np.exp(path.log_var).reshape(n_bars, SUB_STEPS).mean(axis=1))
        ts = hour0 - HOUR_MS * np.arange(n_bars, 0, -1, dtype=np.int64)
        self._index = {}
        self._bars = {}
        for base, returns in (("BTC", path.btc_returns), ("ETH", path.eth_returns)):
            o, h, lo, c = backfill_ohlc(returns, START_PRICES[base], n_bars)
            ratio = p.eth_vol_ratio if base == "ETH" else 1.0
            noise = self._rng.lognormal(0.0, 0.3, n_bars)
            volume = HOURLY_VOLUME[base] * ratio * hourly_vol / 0.5 * noise
            self._bars[base] = BarSeries(self._perps[base].symbol, n_bars, ts, o, h, lo, c, volume)
            self._index[base] = START_PRICES[base]
            self._bars[base].start_live(hour0, START_PRICES[base])
        if self._start_ms > hour0:  # the partial hour before start
            self._advance(self._start_ms - hour0)

    # ---- publishing ------------------------------------------------------------

    def _perp_ticker(self, base: str, ts_ms: int, funding: float | None = None) -> Ticker:
        inst = self._perps[base]
        state = self._perp_state[base]
        mark = self._index[base] * (1.0 + state.basis)
        book = self._books.get(inst.symbol)
        bid, ask = (book.best_bid, book.best_ask) if book is not None else (mark, mark)
        previous = self._tickers.get(inst.symbol)
        last = previous.last if previous is not None else mark
        return Ticker(
            symbol=inst.symbol,
            ts_ms=ts_ms,
            bid=bid,
            ask=ask,
            last=last,
            mark=mark,
            index=self._index[base],
            funding_rate=state.predicted_rate() if funding is None else funding,
            next_funding_ms=sim_inst.next_funding_ms(ts_ms),
            volume_24h=self._bars[base].volume_24h(),
        )

    def _publish_perps(self, dt_seconds: float) -> list[Update]:
        out: list[Update] = []
        for base, inst in self._perps.items():
            state = self._perp_state[base]
            mark = self._index[base] * (1.0 + state.basis)
            vol = self.vol_annual(base)
            liquidity = LIQUIDITY[base]
            bids, asks = sim_book.perp_levels(
                mark, vol, inst.price_step, inst.amount_step, liquidity, self._rng
            )
            self._seq += 1
            book = Book(inst.symbol, self._now_ms, bids, asks, self._seq)
            self._books[inst.symbol] = book
            prints = sim_book.trade_prints(
                bids, asks, vol, self._last_return[base], dt_seconds, inst.amount_step,
                liquidity, self._rng,
            )
            trades = []
            for price, amount, side in prints:
                self._trade_id += 1
                trades.append(Trade(inst.symbol, self._now_ms, price, amount, side,
                                    f"sim-{self._trade_id}"))
            ticker = self._perp_ticker(base, self._now_ms)
            if trades:
                ticker = _with_last(ticker, trades[-1].price)
            self._tickers[inst.symbol] = ticker
            out.extend([ticker, book, *trades])
        return out

    def _publish_options(self, options: list[Instrument]) -> list[Update]:
        quotes = sim_options.option_quotes(
            options, self._index["BTC"], self._now_ms, math.exp(self._log_var),
            self._variance_mean, self._rng, self._seq + 1,
        )
        self._seq += len(quotes)
        out: list[Update] = []
        for ticker, book in quotes:
            self._tickers[ticker.symbol] = ticker
            self._books[book.symbol] = book
            out.extend([ticker, book])
        return out


def _with_last(ticker: Ticker, last: float) -> Ticker:
    return replace(ticker, last=last)


class SimFeed(MarketFeed):
    """The built-in market as a ``MarketFeed`` (venue ``"sim"``).

    Honest time: each tick advances the market by the wall time since the last
    tick times ``acceleration`` (at most :data:`MAX_STEP_S` of wall time per tick,
    so a suspended laptop does not fast-forward days), so a busy event loop
    makes ticks fewer, not the market slower. What it keeps is measured over the
    last :data:`RATE_WINDOW_S`: ``achieved_acceleration`` (simulated seconds per
    wall second) and ``speed_ratio`` (achieved / requested; 1.0 keeps up, 0.6
    runs at 60 %), both None until a second has passed; ``running_slow`` is True
    below :data:`SLOW_RATIO`, for the status bar.
    """

    venue = "sim"
    websocket = True
    option_greeks = False

    def __init__(self, market: SimMarket | None = None, *, wall=time.monotonic,
                 **market_args) -> None:
        self.market = market if market is not None else SimMarket(**market_args)
        self.wall = wall  # injectable for tests
        self.achieved_acceleration: float | None = None
        self.speed_ratio: float | None = None
        self._samples: deque[tuple[float, int]] = deque()

    @property
    def running_slow(self) -> bool:
        return self.speed_ratio is not None and self.speed_ratio < SLOW_RATIO

    def now_ms(self) -> int:
        return self.market.now_ms()

    def status_note(self) -> str:
        """The venue line's note: "simulated market", or how slow it runs
        ("RUNNING SLOW: 2,210x of 3,600x asked (61 %)") so an accelerated demo that
        cannot keep up never passes for real time."""
        if not self.running_slow:
            return "simulated market"
        return (f"RUNNING SLOW: {self.achieved_acceleration:,.0f}x of "
                f"{self.market.acceleration:,.0f}x asked ({self.speed_ratio:.0%})")

    def timed_step(self) -> list[Update]:
        """One step of the wall time since the previous call times ``acceleration``
        (the first call: one nominal tick), and the achieved rate updated."""
        market = self.market
        now = self.wall()
        if self._samples:
            wall_dt = min(max(now - self._samples[-1][0], 0.0), MAX_STEP_S)
            updates = market.step(wall_dt * market.acceleration)
        else:
            updates = market.step()
        self._measure(now, market.now_ms())
        return updates

    def _measure(self, wall_s: float, sim_ms: int) -> None:
        samples = self._samples
        samples.append((wall_s, sim_ms))
        while len(samples) > 2 and wall_s - samples[1][0] >= RATE_WINDOW_S:
            samples.popleft()
        span = wall_s - samples[0][0]
        if span >= 1.0:
            self.achieved_acceleration = (sim_ms - samples[0][1]) / 1000.0 / span
            self.speed_ratio = self.achieved_acceleration / self.market.acceleration

    async def run(self, sink: MarketSink) -> None:
        """Push instruments, history, status and the first quotes, then one step per tick."""
        market = self.market
        sink.on_instruments(market.instruments())
        for bars in market.bars():
            sink.on_bars(bars)
        note = "simulated market"
        sink.on_venue_status(VenueStatus(self.venue, True, market.now_ms(), note))
        dispatch(sink, market.full_update())
        version = market.instruments_version
        self._samples.clear()
        self._measure(self.wall(), market.now_ms())
        while True:
            await asyncio.sleep(1.0 / market.tick_hz)
            updates = self.timed_step()
            if market.instruments_version != version:
                version = market.instruments_version
                sink.on_instruments(market.instruments())
            dispatch(sink, updates)
            if self.status_note() != note:  # said once per change, not every tick
                note = self.status_note()
                sink.on_venue_status(VenueStatus(self.venue, True, market.now_ms(), note))


def dispatch(sink: MarketSink, updates: list[Update]) -> None:
    """Push each update to the sink method for its type, as one batch when the sink
    takes batches (the Store: the paper broker then revalues once per step)."""
    batch = getattr(sink, "batch", None)
    with batch() if batch is not None else nullcontext():
        _push(sink, updates)


def _push(sink: MarketSink, updates: list[Update]) -> None:
    for update in updates:
        if isinstance(update, Ticker):
            sink.on_ticker(update)
        elif isinstance(update, Book):
            sink.on_book(update)
        elif isinstance(update, Trade):
            sink.on_trade(update)
        elif isinstance(update, Bars):
            sink.on_bars(update)


_dispatch = dispatch  # the name the runtime and TUI tests imported first
