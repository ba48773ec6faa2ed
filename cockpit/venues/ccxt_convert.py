"""ccxt's unified dicts -> ``cockpit.model`` types, each venue's units normalised.

The only place ccxt structures become model types (DESIGN.md "The model"). Units after
conversion (see ``cockpit.model.market``): amounts in contracts
(``Instrument.contract_size`` converts to coin, or to USD for inverse futures);
implied vol as an annualised fraction; option prices in the venue's quote (Deribit and
OKX: the settle coin); money in the settle currency (``_settle``) or USD (``_usd``).
A missing number is NaN, never a silent zero. Venue quirks come from the adapter
(``cockpit.venues.ccxt_base.VenueAdapter``); no ccxt import is needed here.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from cockpit.market_checks import RejectionTally
from cockpit.model import (
    Balance,
    Bars,
    Book,
    Fill,
    Instrument,
    MarginTier,
    Order,
    Position,
    Ticker,
    Trade,
)

if TYPE_CHECKING:
    from cockpit.venues.ccxt_base import VenueAdapter

log = logging.getLogger(__name__)
# a venue sending zero prices ten times a second is one line a minute, not ten a second
DROPPED = RejectionTally(log)

NAN = float("nan")
USD_LIKE = frozenset({"USD", "USDT", "USDC", "FDUSD", "BUSD"})


def _num(value: Any, default: float = NAN) -> float:
    """A float from a ccxt number/string; ``default`` when missing or unparsable."""
    if value is None or value == "":
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _first(*values: Any) -> float:
    """The first parsable number, else NaN (a missing mark is NaN, never zero)."""
    for v in values:
        x = _num(v)
        if not math.isnan(x):
            return x
    return NAN


def _opt(value: Any) -> float | None:
    v = _num(value)
    return None if math.isnan(v) else v




def market_kind(market: dict) -> str:
    if market.get("option"):
        return "option"
    if market.get("swap"):
        return "perp"
    if market.get("future"):
        return "future"
    return "spot"


def to_margin_tiers(tiers: list[dict]) -> tuple[MarginTier, ...]:
    """ccxt leverage tiers -> MarginTier, ascending by notional cap.

    ccxt gives ``maxNotional`` (quote/settle currency), ``maintenanceMarginRate``
    (fraction) and ``maxLeverage``; initial rate = 1 / maxLeverage. The Binance
    "cum" deduction is in ``info['cum']`` where published.
    """
    out = []
    for t in tiers:
        lev = _num(t.get("maxLeverage"))
        info = t.get("info") or {}
        out.append(
            MarginTier(
                max_notional=_num(t.get("maxNotional"), math.inf),
                initial_rate=1.0 / lev if lev and lev > 0 else NAN,
                maintenance_rate=_num(t.get("maintenanceMarginRate")),
                maintenance_amount=_num(info.get("cum") if isinstance(info, dict) else None, 0.0),
            )
        )
    return tuple(sorted(out, key=lambda m: m.max_notional))


def to_instrument(adapter: VenueAdapter, market: dict,
                  tiers: tuple[MarginTier, ...] = ()) -> Instrument:
    """ccxt market -> Instrument; steps and minimums in OUR contracts."""
    precision = market.get("precision") or {}
    limits = market.get("limits") or {}
    amount_step = adapter.contracts_from_venue(_num(precision.get("amount"), 0.0), market)
    min_amount_raw = _num((limits.get("amount") or {}).get("min"), 0.0)
    min_amount = adapter.contracts_from_venue(min_amount_raw, market)
    option_type = market.get("optionType")
    return Instrument(
        symbol=market["symbol"],
        venue=adapter.name,
        kind=market_kind(market),
        base=market.get("base") or "",
        quote=market.get("quote") or "",
        settle=market.get("settle") or market.get("quote") or "",
        linear=bool(market.get("linear")) and not market.get("inverse"),
        contract_size=adapter.contract_size(market),
        amount_step=amount_step,
        price_step=_num(precision.get("price"), 0.0),
        min_amount=min_amount or amount_step,
        min_cost=_num((limits.get("cost") or {}).get("min"), 0.0),
        maker_fee=_num(market.get("maker"), 0.0002),
        taker_fee=_num(market.get("taker"), 0.0005),
        strike=_opt(market.get("strike")),
        expiry_ms=int(market["expiry"]) if market.get("expiry") else None,
        option_type=option_type if option_type in ("call", "put") else None,
        underlying=market.get("base") or "",
        margin_tiers=tiers,
        funding_interval_h=adapter.funding_interval_h(market),
    )


def greeks_in_ticker(exchange: Any, ticker: dict, market: dict) -> dict | None:
    """The venue Greeks carried inside an option ticker's raw payload (Deribit's
    ``greeks``/``mark_iv``, Bybit's ``delta``/``markIv``), parsed by ccxt's own
    ``parse_greeks``; None when the payload has none (OKX tickers: poll fetch_greeks)."""
    info = ticker.get("info")
    if not market.get("option") or not isinstance(info, dict):
        return None
    if not ({"greeks", "delta", "markIv", "mark_iv"} & info.keys()):
        return None
    try:
        return exchange.parse_greeks(info, market)
    except Exception as exc:  # a payload ccxt cannot parse is skipped, not fatal
        log.info("greeks in %s ticker unparsable: %s", market.get("symbol"), exc)
        return None


def to_ticker(adapter: VenueAdapter, ticker: dict, market: dict, *,
              greeks: dict | None = None, funding: dict | None = None) -> Ticker:
    """ccxt ticker (+ optional greeks and funding-rate/mark structures) -> Ticker.

    Option prices stay in the venue's quote (Deribit/OKX: coin); IV becomes a fraction.
    Where the venue's ticker lacks a field the nearest honest stand-in is used: an
    absent bid/ask is 0 (the Store's "one-sided book"); the mark falls back to the
    funding/mark-price structure, then the book mid, then the last trade (OKX and
    Binance tickers carry no mark); a perp's index falls back to its mark, an
    option's to the underlying price; a missing last is the mark. Nothing found
    stays NaN, and the Store refuses the ticker with that reason.
    """
    info = ticker.get("info") or {}
    greeks = greeks or {}
    funding = funding or {}
    is_option = bool(market.get("option"))
    bid = _num(ticker.get("bid"), 0.0)
    ask = _num(ticker.get("ask"), 0.0)
    mid = 0.5 * (bid + ask) if bid > 0 and ask > 0 else NAN
    last = _num(ticker.get("last"))
    mark = _first(ticker.get("markPrice"), greeks.get("markPrice"), funding.get("markPrice"),
                  mid, last)
    underlying = _opt(greeks.get("underlyingPrice"))
    venue_index = adapter.index_price(info) if isinstance(info, dict) else None
    if is_option:
        index = _first(ticker.get("indexPrice"), venue_index, underlying)
    else:
        index = _first(ticker.get("indexPrice"), funding.get("indexPrice"), venue_index, mark)
    ts = ticker.get("timestamp") or greeks.get("timestamp") or funding.get("timestamp") or 0
    return Ticker(
        symbol=market["symbol"],
        ts_ms=int(ts),
        bid=bid,
        ask=ask,
        last=last if math.isfinite(last) else mark,
        mark=mark,
        index=index,
        funding_rate=_opt(funding.get("fundingRate")),
        next_funding_ms=int(funding["fundingTimestamp"]) if funding.get("fundingTimestamp") else None,
        mark_iv=adapter.mark_iv(greeks.get("markImpliedVolatility")) if is_option else None,
        underlying_price=underlying,
        greeks=adapter.venue_greeks(greeks, market) if greeks else None,
        volume_24h=_opt(ticker.get("baseVolume")),
        open_interest=_open_interest(adapter, info, market),
    )


def _open_interest(adapter: VenueAdapter, info, market: dict) -> float | None:
    """Open interest in contracts from the raw ticker (Deribit ``open_interest``,
    Bybit ``openInterest``, both in the venue's amount unit); None where absent."""
    if not isinstance(info, dict):
        return None
    raw = _opt(info.get("open_interest", info.get("openInterest")))
    return None if raw is None else adapter.contracts_from_venue(raw, market)


def _levels(adapter: VenueAdapter, rows: list, market: dict) -> np.ndarray:
    """[price, amount] levels in contracts; a level with a bad price/amount is dropped
    (logged) rather than the whole book."""
    arr = np.array([[_num(r[0]), _num(r[1])] for r in rows if len(r) >= 2],
                   dtype=float).reshape(-1, 2)
    good = np.isfinite(arr).all(axis=1) & (arr[:, 0] > 0) & (arr[:, 1] >= 0)
    if not good.all():
        DROPPED.add("book levels dropped (bad price or amount)", str(market.get("symbol")),
                    n=int((~good).sum()))
        arr = arr[good]
    if arr.size:
        arr[:, 1] = [adapter.contracts_from_venue(a, market) for a in arr[:, 1]]
    arr.setflags(write=False)
    return arr


def to_book(adapter: VenueAdapter, ob: dict, market: dict) -> Book:
    """ccxt order book -> Book (amounts in contracts, best first, read-only arrays)."""
    return Book(
        symbol=market["symbol"],
        ts_ms=int(ob.get("timestamp") or 0),
        bids=_levels(adapter, ob.get("bids") or [], market),
        asks=_levels(adapter, ob.get("asks") or [], market),
        seq=int(ob.get("nonce") or 0),
    )


def to_trade(adapter: VenueAdapter, t: dict, market: dict) -> Trade:
    return Trade(
        symbol=market["symbol"],
        ts_ms=int(t.get("timestamp") or 0),
        price=_num(t.get("price")),
        amount=adapter.contracts_from_venue(_num(t.get("amount")), market),
        side=t.get("side") or "",
        id=str(t.get("id") or ""),
    )


def to_bars(symbol: str, ohlcv: list[list], timeframe_s: int) -> Bars:
    """ccxt OHLCV rows [ts, o, h, l, c, v] -> Bars, oldest first, duplicates dropped.

    A row with a missing or non-positive open/high/low/close is dropped (logged), so
    one bad bar from the venue does not cost the whole history.
    """
    rows = sorted({int(r[0]): r for r in ohlcv if r and r[0] is not None}.values(),
                  key=lambda r: r[0])
    cols = np.array([[_num(x) for x in (list(r[:6]) + [None] * 6)[:6]] for r in rows],
                    dtype=float).reshape(-1, 6)
    good = np.isfinite(cols[:, 1:5]).all(axis=1) & (cols[:, 1:5] > 0).all(axis=1)
    if not good.all():
        DROPPED.add("bars dropped (bad open/high/low/close)", symbol, n=int((~good).sum()))
        cols = cols[good]
    arrays = [cols[:, i].copy() for i in range(6)]
    ts = arrays[0].astype(np.int64)
    for a in (ts, *arrays[1:]):
        a.setflags(write=False)
    return Bars(symbol, timeframe_s, ts, *arrays[1:])


def settle_usd_rate(settle: str, mark: float, index: float | None, market: dict) -> float:
    """USD value of one unit of the settle currency.

    Stablecoins are taken at 1; a coin-settled contract's coin at the index when the
    venue gives one, else at the mark of an inverse contract (USD per coin).
    """
    if settle in USD_LIKE:
        return 1.0
    if index is not None and not math.isnan(index):
        return index
    if market.get("inverse") and not market.get("option"):
        return mark
    return NAN


def to_position(adapter: VenueAdapter, p: dict, market: dict) -> Position:
    """ccxt position -> Position with signed contracts and USD valuations."""
    info = p.get("info") or {}
    contracts = abs(adapter.contracts_from_venue(_num(p.get("contracts"), 0.0), market))
    if p.get("side") == "short":
        contracts = -contracts
    mark = _num(p.get("markPrice"))
    settle = market.get("settle") or market.get("quote") or ""
    index = _opt(adapter.index_price(info) if isinstance(info, dict) else None)
    rate = settle_usd_rate(settle, mark, index, market)
    size = adapter.contract_size(market)
    if market.get("inverse") and not market.get("option"):
        notional_usd = abs(contracts) * size
    elif settle in USD_LIKE:
        notional_usd = abs(contracts) * size * mark
    else:
        # coin-settled option: one contract is ``size`` coins of underlying
        notional_usd = abs(contracts) * size * (index if index is not None else NAN)
    upnl = _num(p.get("unrealizedPnl"), 0.0)
    liq = _opt(p.get("liquidationPrice"))
    return Position(
        symbol=market["symbol"],
        contracts=contracts,
        entry_price=_num(p.get("entryPrice")),
        mark_price=mark,
        unrealised_pnl_settle=upnl,
        unrealised_pnl_usd=upnl * rate,
        notional_usd=notional_usd,
        initial_margin_usd=_num(p.get("initialMargin"), 0.0) * rate,
        maintenance_margin_usd=_num(p.get("maintenanceMargin"), 0.0) * rate,
        liquidation_price=liq if liq else None,
        leverage=_num(p.get("leverage"), 0.0),
        venue=adapter.name,
    )


def to_balances(balance: dict, usd_prices: dict[str, float] | None = None) -> list[Balance]:
    """ccxt balance structure -> Balance per currency with a non-zero total.

    ``usd_prices`` maps coin -> USD price for non-stable coins (NaN USD value if unknown,
    never a silent zero).
    """
    usd_prices = usd_prices or {}
    out = []
    totals = balance.get("total") or {}
    for currency, total in sorted(totals.items()):
        amount = _num(total, 0.0)
        if amount == 0.0:
            continue
        price = 1.0 if currency in USD_LIKE else usd_prices.get(currency, NAN)
        out.append(Balance(currency=currency, total=amount, usd_value=amount * price))
    return out


_STATUS = {"open": "open", "closed": "closed", "canceled": "canceled", "cancelled": "canceled",
           "rejected": "rejected", "expired": "canceled"}


def to_order(adapter: VenueAdapter, o: dict, market: dict) -> Order:
    amount = adapter.contracts_from_venue(_num(o.get("amount"), 0.0), market)
    filled = adapter.contracts_from_venue(_num(o.get("filled"), 0.0), market)
    return Order(
        id=str(o.get("id") or ""),
        client_order_id=adapter.client_order_id_of(o),
        symbol=market["symbol"],
        side=o.get("side") or "",
        type=o.get("type") or "",
        amount=amount,
        price=_opt(o.get("price")),
        filled=filled,
        average=_opt(o.get("average")),
        status=_STATUS.get(o.get("status") or "", o.get("status") or "open"),
        reduce_only=bool(o.get("reduceOnly")),
        post_only=bool(o.get("postOnly")),
        ts_ms=int(o.get("timestamp") or o.get("lastUpdateTimestamp") or 0),
    )


def to_fill(adapter: VenueAdapter, t: dict, market: dict) -> Fill:
    fee = t.get("fee") or {}
    return Fill(
        id=str(t.get("id") or ""),
        order_id=str(t.get("order") or ""),
        symbol=market["symbol"],
        side=t.get("side") or "",
        amount=adapter.contracts_from_venue(_num(t.get("amount"), 0.0), market),
        price=_num(t.get("price")),
        fee=_num(fee.get("cost"), 0.0),
        fee_currency=fee.get("currency") or "",
        ts_ms=int(t.get("timestamp") or 0),
        maker=t.get("takerOrMaker") == "maker",
    )
