"""Quit, when quitting leaves something behind (orders resting, auto-execute on,
a live account): says what happens to the resting orders and lets the trader
choose. Dismisses with "cancel" (cancel them, then quit), "leave" (quit and
leave them at the venue) or None (stay). Enter stays: nothing is decided by
accident."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class QuitScreen(ModalScreen[str | None]):
    BINDINGS = [
        Binding("y,c", "choose('cancel')", "Cancel orders and quit", id="quit.cancel"),
        Binding("l", "choose('leave')", "Leave orders and quit", id="quit.leave"),
        Binding("n,escape", "choose('')", "Stay", id="quit.stay"),
    ]

    def __init__(self, situation: str, *, resting: bool) -> None:
        super().__init__(classes="-danger")
        self.situation = situation
        self.resting = resting

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Static("Quit the cockpit?", id="confirm-question")
            detail = f"{self.situation}."
            if self.resting:
                detail += (" Quitting cancels the resting orders first (y); l leaves them at "
                           "the venue and disarms its dead-man switch.")
            yield Static(detail, id="confirm-detail")
            with Horizontal(id="confirm-buttons"):
                label = "Cancel orders, quit (y)" if self.resting else "Quit (y)"
                yield Button(label, id="quit-cancel", variant="error")
                if self.resting:
                    yield Button("Leave them, quit (l)", id="quit-leave", variant="warning")
                yield Button("Stay (n)", id="quit-stay", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#quit-stay", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss({"quit-cancel": "cancel", "quit-leave": "leave"}.get(event.button.id or ""))

    def action_choose(self, choice: str) -> None:
        if choice == "leave" and not self.resting:
            return
        self.dismiss(choice or None)
