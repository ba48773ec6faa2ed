"""The simulated venue's instruments, in ccxt's unified market form.

Perpetuals follow Binance USD-M (BTCUSDT, ETHUSDT); the option chain follows
Deribit's inverse (coin-settled) BTC options.

Choices, and where they depart from the venues
----------------------------------------------
* Perps: ``contract_size`` 1 coin; amount step 0.001 BTC / 0.01 ETH; price
  step 0.1 / 0.01 USDT; ``min_cost`` 100 USDT (BTC) and 20 USDT (ETH), Binance's
  ``MIN_NOTIONAL`` filters for these symbols; maker 0.02 %, taker 0.05 %
  (Binance's base VIP 0 rates); funding every 8 h at 00/08/16 UTC.
* Margin tiers: Binance-like brackets (max notional, initial rate = 1/max
  leverage, maintenance rate). The maintenance amounts are *computed* from the
  rates so maintenance margin is continuous at every bracket boundary
  (``cum_i = cum_{i-1} + boundary x (mmr_i - mmr_{i-1})``), which is how
  Binance derives its published "maintenance amount" column.
* Options: Deribit BTC options, ``BTC/USD:BTC-YYMMDD-STRIKE-C|P``, contract 1
  BTC, amount step and minimum 0.1, expiry 08:00 UTC. Deribit's tick is 0.0005
  BTC, 0.0001 below a price of 0.005 (``option_tick``); ``price_step`` says
  0.0005 and the simulated books use the finer tick for cheap options. Fees:
  Deribit charges 0.03 % of the underlying per contract, capped at 12.5 % of
  the option price; the model's ``maker_fee``/``taker_fee`` are fractions of
  notional, so we store 0.0003 and leave out the cap (a simplification that
  overstates fees on options cheaper than 0.0024 BTC).
* Expiries: the next two Fridays, the next two month-end Fridays and the next
  two quarter-end Fridays (Mar/Jun/Sep/Dec), de-duplicated: always >= 4.

References
----------
Binance, "Leverage and Margin of USDⓈ-M Futures" (brackets, maintenance amount).
Deribit, "Contract specifications: BTC options" and "Fees".
"""

from __future__ import annotations

import calendar
import datetime as dt
import math

import numpy as np

from cockpit.model import Instrument, MarginTier

VENUE = "sim"
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
FUNDING_INTERVAL_MS = 8 * HOUR_MS
EXPIRY_HOUR_UTC = 8

# (max notional USDT, max leverage, maintenance rate): Binance-like brackets.
_BTC_BRACKETS = (
    (50_000, 125, 0.004),
    (600_000, 100, 0.005),
    (3_000_000, 75, 0.0065),
    (12_000_000, 50, 0.01),
    (70_000_000, 25, 0.02),
    (100_000_000, 20, 0.025),
    (230_000_000, 10, 0.05),
    (480_000_000, 5, 0.10),
    (600_000_000, 4, 0.125),
    (800_000_000, 3, 0.15),
    (1_200_000_000, 2, 0.25),
    (1_800_000_000, 1, 0.50),
)
_ETH_BRACKETS = (
    (50_000, 125, 0.004),
    (600_000, 100, 0.005),
    (3_000_000, 75, 0.0065),
    (12_000_000, 50, 0.01),
    (50_000_000, 25, 0.02),
    (65_000_000, 20, 0.025),
    (150_000_000, 10, 0.05),
    (320_000_000, 5, 0.10),
    (400_000_000, 4, 0.125),
    (530_000_000, 3, 0.15),
    (800_000_000, 2, 0.25),
    (1_200_000_000, 1, 0.50),
)


def margin_tiers(brackets: tuple[tuple[float, float, float], ...]) -> tuple[MarginTier, ...]:
    """Tiers from (max notional, max leverage, maintenance rate) brackets, with the
    maintenance amount that keeps maintenance margin continuous across brackets."""
    tiers = []
    cum = 0.0
    prev_cap = 0.0
    prev_mmr = brackets[0][2]
    for cap, leverage, mmr in brackets:
        cum += prev_cap * (mmr - prev_mmr)
        tiers.append(MarginTier(float(cap), 1.0 / leverage, mmr, round(cum, 6)))
        prev_cap, prev_mmr = float(cap), mmr
    return tuple(tiers)


def perp_instruments() -> list[Instrument]:
    """The two linear USDT perpetuals, BTC and ETH."""
    specs = (("BTC", 0.001, 0.1, 100.0, _BTC_BRACKETS), ("ETH", 0.01, 0.01, 20.0, _ETH_BRACKETS))
    return [
        Instrument(
            symbol=f"{base}/USDT:USDT",
            venue=VENUE,
            kind="perp",
            base=base,
            quote="USDT",
            settle="USDT",
            linear=True,
            contract_size=1.0,
            amount_step=amount_step,
            price_step=price_step,
            min_amount=amount_step,
            min_cost=min_cost,
            maker_fee=0.0002,
            taker_fee=0.0005,
            underlying=base,
            margin_tiers=margin_tiers(brackets),
            funding_interval_h=8.0,
        )
        for base, amount_step, price_step, min_cost, brackets in specs
    ]


def next_funding_ms(now_ms: int) -> int:
    """The next funding time strictly after ``now_ms``: 00:00, 08:00 or 16:00 UTC
    (epoch multiples of 8 h, since the epoch starts at 00:00 UTC)."""
    return (now_ms // FUNDING_INTERVAL_MS + 1) * FUNDING_INTERVAL_MS


def option_tick(price):
    """Deribit's BTC option tick in BTC: 0.0001 below 0.005, else 0.0005."""
    return np.where(np.asarray(price, float) < 0.005, 0.0001, 0.0005)


def _expiry_ms(day: dt.date) -> int:
    moment = dt.datetime(day.year, day.month, day.day, EXPIRY_HOUR_UTC, tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def _last_friday(year: int, month: int) -> dt.date:
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    return last - dt.timedelta(days=(last.weekday() - calendar.FRIDAY) % 7)


def is_month_end_expiry(expiry_ms: int) -> bool:
    """True when the expiry is the last Friday of its month (a Deribit monthly)."""
    day = dt.datetime.fromtimestamp(expiry_ms / 1000, dt.UTC).date()
    return day == _last_friday(day.year, day.month)


def option_expiries(now_ms: int) -> list[int]:
    """Expiry times (ms, 08:00 UTC) strictly after ``now_ms``: next two Fridays,
    next two month-end Fridays, next two quarter-end Fridays; sorted, unique."""
    today = dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC).date()
    out: set[int] = set()
    day = today
    while len([e for e in out if e > now_ms]) < 2:
        if day.weekday() == calendar.FRIDAY and _expiry_ms(day) > now_ms:
            out.add(_expiry_ms(day))
        day += dt.timedelta(days=1)
    months: list[int] = []
    quarters: list[int] = []
    year, month = today.year, today.month
    while len(months) < 2 or len(quarters) < 2:
        ms = _expiry_ms(_last_friday(year, month))
        if ms > now_ms:
            if len(months) < 2:
                months.append(ms)
            if month % 3 == 0:
                quarters.append(ms)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return sorted(out | set(months) | set(quarters))


REFERENCE_FORWARD = 90_000.0  # the BTC level the Deribit-like grid below is tuned for


def _nice(x: float) -> float:
    """Round down to 1, 2 or 5 x 10^n (strike spacings as venues list them)."""
    exponent = math.floor(math.log10(x))
    mantissa = x / 10**exponent
    return max(m for m in (1.0, 2.0, 5.0) if m <= mantissa + 1e-9) * 10**exponent


def strike_step(years: float, forward: float = REFERENCE_FORWARD) -> float:
    """Strike spacing near the money in USD, widening with expiry like Deribit:
    1,000 up to 16 days, 2,000 up to 70 days, 5,000 beyond, at a 90,000 forward;
    scaled with the forward (to a 1-2-5 number) so a crash or a rally keeps a
    sensible grid."""
    if years <= 16 / 365:
        base = 1000.0
    elif years <= 70 / 365:
        base = 2000.0
    else:
        base = 5000.0
    return _nice(base * forward / REFERENCE_FORWARD)


def option_strikes(forward: float, years: float) -> list[float]:
    """Strikes around ``forward``: 13 at ``strike_step`` either side of the money
    plus four wing strikes at -/+ ``spread`` and -/+ 0.6 ``spread`` (25 % for the
    shortest expiries, up to 60 % for long ones), rounded to 5 steps.
    Always >= 15 distinct positive strikes with the forward inside the range."""
    if not (math.isfinite(forward) and forward > 0):
        raise ValueError(f"forward: {forward!r}; pass a positive USD price")
    step = strike_step(years, forward)
    centre = round(forward / step) * step
    near = [centre + i * step for i in range(-6, 7)]
    spread = min(0.25 + 0.5 * math.sqrt(max(years, 0.0)), 0.6)
    wing_step = 5 * step
    wings = [round(forward * (1 + f * spread) / wing_step) * wing_step for f in (-1, -0.6, 0.6, 1)]
    strikes = sorted({round(k, 6) for k in near + wings if k > 0})
    extra = 7
    while len(strikes) < 15:  # the lowest strikes fell at or under zero: extend upward
        strikes = sorted(set(strikes) | {round(centre + extra * step, 6)})
        extra += 1
    return strikes


def option_symbol(expiry_ms: int, strike: float, option_type: str) -> str:
    """ccxt's unified symbol, e.g. ``BTC/USD:BTC-261225-100000-C`` (whole strikes
    print as integers, others as plain decimals, never in exponent form)."""
    day = dt.datetime.fromtimestamp(expiry_ms / 1000, dt.UTC)
    letter = "C" if option_type == "call" else "P"
    text = str(int(strike)) if float(strike).is_integer() else f"{strike:f}".rstrip("0")
    return f"BTC/USD:BTC-{day:%y%m%d}-{text}-{letter}"


def option_chain(expiry_ms: int, forward: float, now_ms: int) -> list[Instrument]:
    """All calls and puts of one expiry, strikes placed around ``forward`` (USD)."""
    years = max(expiry_ms - now_ms, 0) / (365.0 * DAY_MS)
    out = []
    for strike in option_strikes(forward, years):
        for option_type in ("call", "put"):
            out.append(
                Instrument(
                    symbol=option_symbol(expiry_ms, strike, option_type),
                    venue=VENUE,
                    kind="option",
                    base="BTC",
                    quote="USD",
                    settle="BTC",
                    linear=False,
                    contract_size=1.0,
                    amount_step=0.1,
                    price_step=0.0005,
                    min_amount=0.1,
                    min_cost=0.0,
                    maker_fee=0.0003,
                    taker_fee=0.0003,
                    strike=float(strike),
                    expiry_ms=int(expiry_ms),
                    option_type=option_type,
                    underlying="BTC",
                )
            )
    return out
