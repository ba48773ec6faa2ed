"""Wiring of the option chain screen and the palette's instruments (kept out of app.py).

``open_chain(app)`` pushes ``widgets.chain.ChainScreen`` fed by a ``ChainSource``
(the chain view of the latest snapshot, rebuilt only when the store changed);
the option the trader picks becomes the App's selection — the depth panel shows
its book and ``o`` opens the ticket for it, held or not.
"""

from __future__ import annotations

from functools import partial

from cockpit.model import Snapshot
from cockpit.model.views import ChainView
from cockpit.views.chain import chain_view
from cockpit.views.common import _underlying
from widgets.messages import InstrumentSelected

CHAIN_REFRESH_HZ = 4.0  # a chain read by eye: four repaints a second are plenty


class ChainSource:
    """``source(venue, underlying) -> ChainView`` of the store's latest snapshot,
    cached per (store change, venue, underlying)."""

    def __init__(self, store) -> None:
        self.store = store
        self._key: tuple | None = None
        self._view: ChainView | None = None

    def __call__(self, venue: str | None, underlying: str | None) -> ChainView:
        snap = self.store.snapshot()
        key = (snap.seq, venue, underlying)
        if key != self._key or self._view is None:
            self._view = chain_view(snap, underlying, venue)
            self._key = key
        return self._view


def _start_at(snap: Snapshot, symbol: str | None) -> tuple[str | None, str | None]:
    """(venue, underlying) of the selected instrument, when it has options."""
    inst = snap.instruments.get(symbol or "")
    if inst is None:
        return None, None
    return inst.venue, _underlying(inst, inst.symbol)


def open_chain(app) -> None:
    """Push the chain of the selected instrument's underlying (the first listed
    otherwise); the trader's pick comes back to ``chosen``."""
    from widgets.chain import ChainScreen
    from widgets.panel import app_palette

    snap = app.store.snapshot()
    venue, underlying = _start_at(snap, app.selected)
    rate = min(app.config.display.refresh_hz, CHAIN_REFRESH_HZ)
    app.push_screen(ChainScreen(ChainSource(app.store), venue=venue, underlying=underlying,
                                selected=app.selected, palette=app_palette(app),
                                refresh_s=1.0 / rate),
                    partial(chosen, app))


def chosen(app, picked: tuple[str, bool] | None) -> None:
    """Select the picked option (the same path as the palette and the positions
    table); with ``o`` on the chain, open its ticket at once."""
    if picked is None:
        return
    symbol, open_ticket = picked
    app.on_instrument_selected(InstrumentSelected(symbol))
    app.repaint_all()
    if open_ticket:
        app.action_order()


def instrument_commands(app):
    """(title, help, callback) for every instrument of the venues in use: held
    ones first, then the rest (perps before options, options by expiry and strike)."""
    snap = app.store.snapshot()
    acct = snap.account
    held = {p.symbol for p in (acct.positions if acct else ()) if p.contracts}

    def order(inst):
        return (inst.symbol not in held, inst.is_option, inst.expiry_ms or 0,
                inst.strike or 0.0, inst.symbol)

    for inst in sorted(snap.instruments.values(), key=order):
        what = "held" if inst.symbol in held else "not held"
        yield (f"Instrument: {inst.symbol}",
               f"{what} · {inst.venue} — show its depth; o opens its ticket",
               partial(app.post_message, InstrumentSelected(inst.symbol)))
