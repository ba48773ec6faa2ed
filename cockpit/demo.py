"""The demo account: what the paper broker holds on the first start in demo mode.

What the demo account holds
---------------------------
Balances: 150,000 USDT and 1.5 BTC (the BTC is the options' margin, Deribit
style; at a 90,000 index the account is worth about 285,000 USD).

Positions, all on the built-in ``sim`` venue (sizes from the market at start):

* **BTC/USDT:USDT long**, about 4.2 BTC (2.5 x the 150,000 USDT balance,
  about 375,000 USD): at the market's 50-60 % vol that is a position vol
  well above the default 50 % target, so the sizing engine proposes a cut
  within seconds of start.
* **ETH/USDT:USDT short**, about 40 ETH (0.8 x the USDT balance, 120,000 USD).
* **BTC short strangle**, nearest month-end expiry at least 7 days out:
  short 5 puts at the strike nearest 85 % of the index and short 5 calls at
  the strike nearest 115 %.
* **BTC long call**, 2 contracts at the strike nearest 110 % of the index,
  on the last (longest) listed expiry.

Entry prices: the perps entered at the close 24 hours before start (so the
book opens with a day's PnL to show); options at their current mark in BTC,
rounded to Deribit's tick.
"""

from __future__ import annotations

import math

from cockpit.model import Instrument
from cockpit.sim.instruments import DAY_MS, is_month_end_expiry, option_tick
from cockpit.venues.sim import SimMarket

DEMO_BALANCES: dict[str, float] = {"USDT": 150_000.0, "BTC": 1.5}

BTC_PERP_LEVERAGE = 2.5  # x the USDT balance; above the 50 % vol target on purpose
ETH_PERP_SHORT = 0.8  # x the USDT balance
STRANGLE_CONTRACTS = 5.0
LONG_CALL_CONTRACTS = 2.0


def _round_to(value: float, step: float) -> float:
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return round(round(value / step) * step, decimals)


def _entry_24h_ago(market: SimMarket, symbol: str, price_step: float) -> float:
    bars = next(b for b in market.bars() if b.symbol == symbol)
    return _round_to(float(bars.close[-min(24, len(bars))]), price_step)


def _nearest_strike(options: list[Instrument], option_type: str, target: float) -> Instrument:
    candidates = [o for o in options if o.option_type == option_type]
    return min(candidates, key=lambda o: abs(o.strike - target))


def _option_entry(market: SimMarket, inst: Instrument) -> float:
    mark = market.ticker(inst.symbol).mark
    return max(_round_to(mark, float(option_tick(mark))), 0.0001)


def demo_positions(market: SimMarket) -> list[tuple[str, float, float]]:
    """The seeded demo book: (symbol, signed contracts, entry price) per position.

    Entry prices are USDT for perps and BTC per contract for options (see the
    module docstring for what the book holds and why).
    """
    perps = {i.base: i for i in market.instruments() if i.kind == "perp"}
    btc, eth = perps["BTC"], perps["ETH"]
    usdt = DEMO_BALANCES["USDT"]
    btc_size = _round_to(BTC_PERP_LEVERAGE * usdt / market.ticker(btc.symbol).mark, btc.amount_step)
    eth_size = _round_to(ETH_PERP_SHORT * usdt / market.ticker(eth.symbol).mark, eth.amount_step)
    positions = [
        (btc.symbol, btc_size, _entry_24h_ago(market, btc.symbol, btc.price_step)),
        (eth.symbol, -eth_size, _entry_24h_ago(market, eth.symbol, eth.price_step)),
    ]

    options = [i for i in market.instruments() if i.is_option]
    now = market.now_ms()
    expiries = sorted({o.expiry_ms for o in options})
    later = [e for e in expiries if e - now >= 7 * DAY_MS] or expiries
    monthly = [e for e in later if is_month_end_expiry(e)] or later
    strangle_expiry = monthly[0]
    chain = [o for o in options if o.expiry_ms == strangle_expiry]
    index = market.index_price("BTC")
    short_put = _nearest_strike(chain, "put", 0.85 * index)
    short_call = _nearest_strike(chain, "call", 1.15 * index)
    long_chain = [o for o in options if o.expiry_ms == expiries[-1]]
    long_call = _nearest_strike(long_chain, "call", 1.10 * index)
    for inst, contracts in (
        (short_put, -STRANGLE_CONTRACTS),
        (short_call, -STRANGLE_CONTRACTS),
        (long_call, LONG_CALL_CONTRACTS),
    ):
        positions.append((inst.symbol, contracts, _option_entry(market, inst)))
    return positions
