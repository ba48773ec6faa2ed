"""The ccxt boundary: building exchange objects and turning ccxt's unified dicts
into ``cockpit.model`` types, with each venue's units normalised here and nowhere else.

ccxt is imported lazily (inside functions), so importing this module costs nothing
and the demo never loads ccxt.

Units after conversion (see ``cockpit.model.market``): amounts in contracts
(``Instrument.contract_size`` converts to coin, or to USD for inverse futures);
implied vol as an annualised fraction; option prices in the settle coin; money in
the settle currency (``_settle``) or USD (``_usd``).
"""

from __future__ import annotations

import logging
import math
from typing import Any, ClassVar
from urllib.parse import urlsplit

import numpy as np

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
    VenueGreeks,
)

log = logging.getLogger(__name__)

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


class VenueAdapter:
    """One venue's quirks behind one interface; subclasses are the per-venue modules.

    Class flags are what the app asks (DESIGN.md: "the app asks, never guesses").
    Methods take and return plain ccxt dicts so they stay unit-testable offline.
    """

    name: ClassVar[str] = ""
    ccxt_id: ClassVar[str] = ""
    websocket: ClassVar[bool] = True
    websocket_positions: ClassVar[bool] = False
    option_greeks: ClassVar[bool] = False
    dead_man_switch: ClassVar[bool] = False
    client_order_id_field: ClassVar[str] = "clientOrderId"
    client_order_id_max_len: ClassVar[int] = 32
    # what the venue accepts in its client id field (ours are always alphanumeric)
    client_order_id_pattern: ClassVar[str] = r"[A-Za-z0-9]{1,32}"
    iv_in_percent: ClassVar[bool] = False
    # Venue error codes that mean "this client order id already exists" (ccxt: InvalidOrder).
    duplicate_id_codes: ClassVar[tuple[str, ...]] = ()
    # "change_id": we check Deribit's prev_change_id chain ourselves (ccxt.pro does not);
    # "ccxt": ccxt.pro checks (OKX checksum, Bybit/Binance update ids) and raises
    # ChecksumError/InvalidNonce, on which the feed resubscribes for a fresh snapshot.
    book_continuity: ClassVar[str] = "ccxt"
    # ccxt options merged into the exchange config.
    ccxt_options: ClassVar[dict] = {}

    # -- units -------------------------------------------------------------
    def contracts_from_venue(self, amount: float, market: dict) -> float:
        """ccxt amount -> contracts. Identity except where a venue reports other units."""
        return amount

    def contracts_to_venue(self, contracts: float, market: dict) -> float:
        """contracts -> the amount ccxt's create_order expects for this venue."""
        return contracts

    def contract_size(self, market: dict) -> float:
        """Coin (or USD, inverse) per contract; ccxt's ``contractSize`` unless overridden."""
        return _num(market.get("contractSize"), 1.0)

    def mark_iv(self, raw: Any) -> float | None:
        """The venue's implied vol as an annualised fraction (0.65), None if absent."""
        v = _opt(raw)
        if v is None:
            return None
        return v / 100.0 if self.iv_in_percent else v

    def venue_greeks(self, greeks: dict, market: dict) -> VenueGreeks | None:
        """ccxt greeks structure -> VenueGreeks (Deribit convention); None if absent."""
        d, g, v, t = (_opt(greeks.get(k)) for k in ("delta", "gamma", "vega", "theta"))
        if d is None:
            return None
        return VenueGreeks(
            delta=d, gamma=g if g is not None else NAN, vega=v if v is not None else NAN,
            theta=t if t is not None else NAN,
        )

    def index_price(self, info: dict) -> float | None:
        """The USD index price carried in a raw position/ticker payload, if any."""
        return None

    def client_order_id_of(self, order: dict) -> str:
        return order.get("clientOrderId") or ""

    # -- orders --------------------------------------------------------------
    def order_params(self, client_order_id: str, reduce_only: bool, post_only: bool) -> dict:
        """ccxt create_order params carrying OUR client id (ccxt maps clientOrderId to
        the venue field: Binance newClientOrderId, Bybit orderLinkId, OKX clOrdId)."""
        params: dict = {"clientOrderId": client_order_id}
        if reduce_only:
            params["reduceOnly"] = True
        if post_only:
            params["postOnly"] = True
        return params

    def is_duplicate_id_error(self, exc: BaseException) -> bool:
        text = str(exc)
        return any(code in text for code in self.duplicate_id_codes)

    async def fetch_positions(self, exchange: Any, symbols: list[str]) -> list[dict]:
        """ccxt positions for ``symbols`` (all when empty); one request by default."""
        return await exchange.fetch_positions(symbols or None)

    def is_rate_limited(self, exc: BaseException) -> bool:
        """ccxt's rate-limit errors (RateLimitExceeded, DDoSProtection)."""
        from ccxt.base.errors import DDoSProtection, RateLimitExceeded

        return isinstance(exc, RateLimitExceeded | DDoSProtection)

    async def fetch_by_client_id(self, exchange: Any, symbol: str, client_order_id: str):
        """The ccxt order dict with our client id, or None. Default: scan open orders."""
        for o in await exchange.fetch_open_orders(symbol):
            if self.client_order_id_of(o) == client_order_id:
                return o
        return None

    # -- dead-man switch -------------------------------------------------------
    async def arm_dead_man(self, exchange: Any, timeout_s: float, symbols: list[str]) -> None:
        raise NotImplementedError(f"{self.name}: no dead-man switch")

    async def disarm_dead_man(self, exchange: Any, symbols: list[str]) -> None:
        raise NotImplementedError(f"{self.name}: no dead-man switch")

    def dead_man_live(self) -> bool:
        """Whether the venue will actually fire the switch (Bybit: only with dcp subscribed)."""
        return self.dead_man_switch


# ---------------------------------------------------------------------------
# building the exchange object
# ---------------------------------------------------------------------------


def _rebase(url: str, base: str) -> str:
    """Replace scheme and host of ``url`` with ``base``, keeping the path."""
    parts = urlsplit(url)
    path = parts.path
    if parts.query:
        path += "?" + parts.query
    return base.rstrip("/") + path


def _override_urls(node: Any, rest_url: str, ws_url: str) -> Any:
    if isinstance(node, dict):
        return {k: _override_urls(v, rest_url, ws_url) for k, v in node.items()}
    if isinstance(node, str):
        if node.startswith(("ws://", "wss://")) and ws_url:
            return _rebase(node, ws_url)
        if node.startswith(("http://", "https://")) and rest_url:
            return _rebase(node, rest_url)
    return node


def build_exchange(adapter: VenueAdapter, cfg: Any = None, credentials: Any = None, *,
                   pro: bool = False) -> Any:
    """A ccxt (``pro=True``: ccxt.pro) async exchange for ``adapter`` configured for safety.

    enableRateLimit on; verbose off (it would print signed requests); ccxt's own
    retries off (``maxRetriesOnFailure`` 0: an order create must never be re-sent
    blindly); sandbox and REST/websocket URL overrides from ``cfg``.
    """
    if pro:
        import ccxt.pro as ccxt_mod
    else:
        import ccxt.async_support as ccxt_mod

    options = {"maxRetriesOnFailure": 0, "maxRetriesOnFailureDelay": 0}
    options.update(adapter.ccxt_options)
    config: dict = {"enableRateLimit": True, "verbose": False, "options": options}
    if credentials is not None:
        config["apiKey"] = credentials.api_key
        config["secret"] = credentials.secret
        if getattr(credentials, "password", ""):
            config["password"] = credentials.password
    exchange = getattr(ccxt_mod, adapter.ccxt_id)(config)
    exchange.verbose = False
    if cfg is not None and getattr(cfg, "sandbox", False):
        exchange.set_sandbox_mode(True)
    rest_url = getattr(cfg, "rest_url", "") if cfg is not None else ""
    ws_url = getattr(cfg, "ws_url", "") if cfg is not None else ""
    if rest_url or ws_url:
        exchange.urls["api"] = _override_urls(exchange.urls["api"], rest_url, ws_url)
    return exchange


# ---------------------------------------------------------------------------
# ccxt unified dicts -> cockpit.model
# ---------------------------------------------------------------------------


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
    """ccxt ticker (+ optional greeks and funding-rate structures) -> Ticker.

    Option prices stay in the venue's quote (Deribit/OKX: coin); IV becomes a fraction.
    """
    info = ticker.get("info") or {}
    greeks = greeks or {}
    funding = funding or {}
    mark = _first(ticker.get("markPrice"), greeks.get("markPrice"), funding.get("markPrice"))
    index = _first(ticker.get("indexPrice"), funding.get("indexPrice"),
                   adapter.index_price(info) if isinstance(info, dict) else None)
    iv_raw = greeks.get("markImpliedVolatility")
    underlying = _opt(greeks.get("underlyingPrice"))
    ts = ticker.get("timestamp") or greeks.get("timestamp") or funding.get("timestamp") or 0
    return Ticker(
        symbol=market["symbol"],
        ts_ms=int(ts),
        bid=_num(ticker.get("bid")),
        ask=_num(ticker.get("ask")),
        last=_num(ticker.get("last")),
        mark=mark,
        index=index,
        funding_rate=_opt(funding.get("fundingRate")),
        next_funding_ms=int(funding["fundingTimestamp"]) if funding.get("fundingTimestamp") else None,
        mark_iv=adapter.mark_iv(iv_raw) if market.get("option") else None,
        underlying_price=underlying,
        greeks=adapter.venue_greeks(greeks, market) if greeks else None,
        volume_24h=_opt(ticker.get("baseVolume")),
    )


def _levels(adapter: VenueAdapter, rows: list, market: dict) -> np.ndarray:
    arr = np.array([[_num(r[0]), _num(r[1])] for r in rows if len(r) >= 2], dtype=float)
    if arr.size == 0:
        arr = np.empty((0, 2), dtype=float)
    else:
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
    """ccxt OHLCV rows [ts, o, h, l, c, v] -> Bars, oldest first, duplicates dropped."""
    rows = sorted({int(r[0]): r for r in ohlcv if r and r[0] is not None}.values(),
                  key=lambda r: r[0])
    cols = np.array([[_num(x) for x in r[:6]] for r in rows], dtype=float).reshape(-1, 6)
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
