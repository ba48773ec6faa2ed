"""Amend one resting limit: its price and total amount, prefilled with what rests.

``app.push_screen(AmendScreen(order), callback)``: the callback receives
``(price, amount)`` as floats, or None when the trader cancels. Bad numbers are
said on the screen in one line and the screen stays open."""

from __future__ import annotations

import math

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from cockpit.model import Order


def parse_amend(price: str, amount: str) -> tuple[float, float] | str:
    """(price, amount) from the two fields ("1,234.5" accepted), or one line why not."""
    out = []
    for name, raw in (("price", price), ("amount", amount)):
        try:
            x = float(raw.replace(",", "").replace("_", "").strip())
        except ValueError:
            return f"{name} {raw.strip()!r} is not a number: type digits, e.g. 2950.5"
        if not (math.isfinite(x) and x > 0):
            return f"{name} {raw.strip()!r}: give a positive number"
        out.append(x)
    return out[0], out[1]


class AmendScreen(ModalScreen[tuple[float, float] | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="amend.cancel")]

    def __init__(self, order: Order) -> None:
        super().__init__()
        self.order = order

    def compose(self) -> ComposeResult:
        o = self.order
        with Vertical(id="amend-dialog"):
            yield Static(f"Amend {o.side} {o.symbol} (filled {o.filled:g} of {o.amount:g})",
                         id="amend-title")
            yield Input(f"{o.price:g}" if o.price else "", placeholder="limit price",
                        id="amend-price")
            yield Input(f"{o.amount:g}", placeholder="total amount (contracts)",
                        id="amend-amount")
            yield Static("", id="amend-error")
            with Horizontal(id="amend-buttons"):
                yield Button("Amend (enter)", id="amend-ok", variant="warning")
                yield Button("Cancel (esc)", id="amend-no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#amend-price", Input).focus()

    def _submit(self) -> None:
        got = parse_amend(self.query_one("#amend-price", Input).value,
                          self.query_one("#amend-amount", Input).value)
        if isinstance(got, str):
            self.query_one("#amend-error", Static).update(got)
            return
        self.dismiss(got)

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "amend-ok":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


__all__ = ["AmendScreen", "parse_amend"]
