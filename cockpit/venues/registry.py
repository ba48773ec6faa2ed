"""Entry points the CLI uses to reach a real venue (ccxt is never imported here).

``VENUES`` maps a ccxt id to its adapter class; the class flags say what the venue
can do (``websocket_positions``, ``option_greeks``, ``dead_man_switch``,
``client_order_id_field``). ``make_feed`` / ``make_broker`` build the public feed
and the private broker; ccxt itself loads only when they run.
"""

from __future__ import annotations

from typing import Any

from cockpit.venues.base import Broker, MarketFeed
from cockpit.venues.binanceusdm import BinanceUsdmAdapter
from cockpit.venues.bybit import BybitAdapter
from cockpit.venues.ccxt_base import VenueAdapter
from cockpit.venues.deribit import DeribitAdapter
from cockpit.venues.okx import OkxAdapter

__all__ = ["VENUES", "adapter_for", "make_broker", "make_feed"]

VENUES: dict[str, type[VenueAdapter]] = {
    "deribit": DeribitAdapter,
    "binanceusdm": BinanceUsdmAdapter,
    "bybit": BybitAdapter,
    "okx": OkxAdapter,
}


def adapter_for(name: str) -> VenueAdapter:
    """A fresh adapter for venue ``name`` (a ccxt id)."""
    try:
        return VENUES[name]()
    except KeyError:
        known = ", ".join(sorted(VENUES))
        raise ValueError(f"venue: unknown {name!r}; use one of {known}") from None


def make_feed(name: str, cfg: Any, *, clock: Any = None) -> MarketFeed:
    """The public market-data feed of venue ``name`` (no keys needed)."""
    from cockpit.venues.ccxt_feed import CcxtFeed

    return CcxtFeed(adapter_for(name), cfg, clock=clock)


def make_broker(name: str, cfg: Any, credentials: Any, *, live: bool = True) -> Broker:
    """The private-API broker of venue ``name``; ``credentials`` from ``cockpit.keys``.

    Call it after the live opt-in (``--live`` or ``live = true``); ``live=False``
    gives a read-only account view whose ``create_order`` refuses. Start
    ``broker.run(store)`` as a worker to keep the account view polled.
    """
    from cockpit.venues.live_broker import CcxtBroker

    return CcxtBroker(adapter_for(name), cfg, credentials, live=live)
