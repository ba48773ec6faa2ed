"""Order ticket: the trader's own order for the selected instrument.

A modal form (side, amount in contracts, market, limit, post-only or a worked
style — passive, twap, ladder —, price, reduce-only). It parses and checks what
was typed and dismisses with ``(cockpit.model.OrderRequest, style)`` (or None
when cancelled; style "market" for a plain order); sending, the risk
gate and the venue's minimums are the App's business. A bad field gets one
line naming it and the fix, and the form keeps what was typed.
"""

from __future__ import annotations

import math

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Select, Static

from cockpit.model import OrderRequest


def parse_ticket(symbol: str, side: str, order_type: str, amount: str, price: str,
                 reduce_only: bool) -> OrderRequest | str:
    """An OrderRequest from the form's text, or the one-line reason it is not one."""
    try:
        qty = float(amount.replace(",", ""))
    except ValueError:
        return f"amount: {amount!r} is not a number; enter contracts, e.g. 0.1"
    if not math.isfinite(qty) or qty <= 0:
        return "amount: must be a positive number of contracts"
    px = None
    post_only = order_type == "post-only"
    if post_only:
        order_type = "limit"
    if order_type in WORKED:  # the executor prices its own children
        order_type = "market"
    if order_type == "limit":
        try:
            px = float(price.replace(",", ""))
        except ValueError:
            return f"price: {price!r} is not a number; a limit order needs a price"
        if not math.isfinite(px) or px <= 0:
            return "price: must be a positive price"
    return OrderRequest(symbol, side, order_type, qty, px, reduce_only=reduce_only,
                        post_only=post_only)


WORKED = ("passive", "twap", "ladder")  # styles an execution works over time
TYPES = ("market", "limit", "post-only", *WORKED)


class OrderTicket(ModalScreen[tuple[OrderRequest, str] | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="ticket.cancel")]

    def __init__(self, symbol: str, *, mark: float | None = None, position: float = 0.0) -> None:
        super().__init__()
        self.symbol = symbol
        self.mark = mark
        self.position = position

    def compose(self) -> ComposeResult:
        with Vertical(id="ticket-dialog"):
            yield Static(f"Order  {self.symbol}", id="ticket-title")
            mark = "—" if self.mark is None else f"{self.mark:,.4f}"
            yield Static(f"mark {mark}   position {self.position:+g}", id="ticket-info")
            with Horizontal(classes="ticket-row"):
                yield Select([("buy", "buy"), ("sell", "sell")], value="buy", allow_blank=False,
                             id="ticket-side")
                yield Select([(t, t) for t in TYPES], value="market",
                             allow_blank=False, id="ticket-type")
            with Horizontal(classes="ticket-row"):
                yield Input(placeholder="amount (contracts)", id="ticket-amount")
                yield Input(placeholder="limit price", id="ticket-price")
            yield Checkbox("reduce-only", id="ticket-reduce")
            yield Static("", id="ticket-error")
            with Horizontal(id="ticket-buttons"):
                yield Button("Review (enter)", id="ticket-send", variant="primary")
                yield Button("Cancel (esc)", id="ticket-cancel")

    def on_mount(self) -> None:
        self.query_one("#ticket-amount", Input).focus()

    def _submit(self) -> None:
        result = parse_ticket(
            self.symbol,
            str(self.query_one("#ticket-side", Select).value),
            str(self.query_one("#ticket-type", Select).value),
            self.query_one("#ticket-amount", Input).value,
            self.query_one("#ticket-price", Input).value,
            self.query_one("#ticket-reduce", Checkbox).value,
        )
        if isinstance(result, str):
            self.query_one("#ticket-error", Static).update(result)
            return
        chosen = str(self.query_one("#ticket-type", Select).value)
        self.dismiss((result, chosen if chosen in WORKED else "market"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ticket-send":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
