"""Account types: orders, fills, positions, balances and the account view.

Amounts are contracts (see ``Instrument.contract_size``); ``Position.contracts``
is signed (+ long, - short). Money fields say their currency in the name
(``_usd``) or are in the instrument's settle currency (``_settle``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Account", "Balance", "Fill", "Order", "OrderRequest", "Position"]


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What the trader (or the engine, on approval) asks a broker to do.

    side "buy"/"sell"; type "market"/"limit"; ``price`` required for limits
    (quote currency, or settle coin for options).
    """

    symbol: str
    side: str
    type: str
    amount: float
    price: float | None = None
    reduce_only: bool = False
    post_only: bool = False
    client_order_id: str = ""


@dataclass(frozen=True, slots=True)
class Order:
    """An order as the broker knows it, after ccxt's unified order structure.

    status: "open", "closed" (fully filled), "canceled", "rejected".
    ``reason`` explains a rejection or a partial cancel in one line
    ("book exhausted: 0.3 of 1.0 cancelled").
    """

    id: str
    client_order_id: str
    symbol: str
    side: str
    type: str
    amount: float
    price: float | None
    filled: float
    average: float | None
    status: str
    reduce_only: bool
    post_only: bool
    ts_ms: int
    reason: str = ""

    @property
    def remaining(self) -> float:
        return max(self.amount - self.filled, 0.0)


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution. ``fee`` is in ``fee_currency`` (positive = paid)."""

    id: str
    order_id: str
    symbol: str
    side: str
    amount: float
    price: float
    fee: float
    fee_currency: str
    ts_ms: int
    maker: bool = False
    liquidation: bool = False


@dataclass(frozen=True, slots=True)
class Position:
    """An open position with the broker's (or venue's) own valuation.

    ``unrealised_pnl_settle`` is in the settle currency; ``notional_usd`` is
    |contracts| x contract value at mark, in USD (options: delta-notional,
    |Black delta| x underlying x size); ``liquidation_price`` is
    None when the position cannot be liquidated by price alone (or unknown).
    ``leverage`` = notional_usd / account equity_usd.
    """

    symbol: str
    contracts: float
    entry_price: float
    mark_price: float = float("nan")
    unrealised_pnl_settle: float = 0.0
    unrealised_pnl_usd: float = 0.0
    notional_usd: float = 0.0
    initial_margin_usd: float = 0.0
    maintenance_margin_usd: float = 0.0
    liquidation_price: float | None = None
    leverage: float = 0.0
    venue: str = ""

    @property
    def side(self) -> str:
        return "long" if self.contracts > 0 else "short" if self.contracts < 0 else "flat"


@dataclass(frozen=True, slots=True)
class Balance:
    """Wallet balance of one currency (realised: deposits, realised PnL, fees, funding)."""

    currency: str
    total: float
    usd_value: float = 0.0


@dataclass(frozen=True, slots=True)
class Account:
    """One venue account, cross-margined in USD.

    equity_usd = sum of wallet balances in USD + unrealised PnL in USD.
    margin_ratio = maintenance_margin_usd / equity_usd (liquidation at >= 1).
    available_usd = equity_usd - initial_margin_usd.
    """

    venue: str
    ts_ms: int
    balances: tuple[Balance, ...] = ()
    positions: tuple[Position, ...] = ()
    open_orders: tuple[Order, ...] = ()
    fills: tuple[Fill, ...] = ()  # most recent last, bounded
    equity_usd: float = 0.0
    initial_margin_usd: float = 0.0
    maintenance_margin_usd: float = 0.0
    unrealised_pnl_usd: float = 0.0
    peak_equity_usd: float = 0.0
    liquidations: int = 0
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def available_usd(self) -> float:
        return self.equity_usd - self.initial_margin_usd

    @property
    def margin_ratio(self) -> float:
        if self.equity_usd <= 0:
            return float("inf") if self.maintenance_margin_usd > 0 else 0.0
        return self.maintenance_margin_usd / self.equity_usd

    def position(self, symbol: str) -> Position | None:
        for p in self.positions:
            if p.symbol == symbol:
                return p
        return None
