"""The ccxt boundary, part one: the per-venue adapter interface and building the
exchange object safely. The conversions from ccxt's unified dicts to
``cockpit.model`` types live in ``cockpit.venues.ccxt_convert`` and are re-exported
here, so ``from cockpit.venues.ccxt_base import to_position`` keeps working.

ccxt is imported lazily (inside functions), so importing this module costs nothing
and the demo never loads ccxt.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar
from urllib.parse import urlsplit

from cockpit.model import VenueGreeks
from cockpit.venues.ccxt_convert import (
    NAN,
    USD_LIKE,
    _num,
    _opt,
    greeks_in_ticker,
    market_kind,
    settle_usd_rate,
    to_balances,
    to_bars,
    to_book,
    to_fill,
    to_instrument,
    to_margin_tiers,
    to_order,
    to_position,
    to_ticker,
    to_trade,
)

__all__ = [
    "NAN",
    "USD_LIKE",
    "VenueAdapter",
    "build_exchange",
    "greeks_in_ticker",
    "market_kind",
    "settle_usd_rate",
    "to_balances",
    "to_bars",
    "to_book",
    "to_fill",
    "to_instrument",
    "to_margin_tiers",
    "to_order",
    "to_position",
    "to_ticker",
    "to_trade",
]

log = logging.getLogger(__name__)


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

    def funding_interval_h(self, market: dict) -> float:
        """Hours between funding payments (8 unless the venue's market says otherwise)."""
        return 8.0

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
