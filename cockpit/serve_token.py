"""In the child a ``cockpit serve`` session runs: live trading asks for the serve token
again, in a modal, before any key reaches the desk (see ``cockpit.serve`` for the rest
of the security story).

Its own module so the App, which calls :func:`ask_token_if_served_live` at every
mount, does not import the web server's side (argparse, ipaddress, secrets,
textual-serve glue) before its first screen.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

CHILD_TOKEN_ENV = "COCKPIT_SERVED_TOKEN_SHA256"  # what the child app gets: a digest
MAX_TOKEN_TRIES = 5


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(given: str, expected_sha256: str) -> bool:
    """Constant-time: both sides are hashed to 32 bytes before comparing."""
    return hmac.compare_digest(digest(given), expected_sha256)


def ask_token_if_served_live(app) -> None:
    """Called by the App at mount: a live cockpit served to a browser shows the
    token screen before any key reaches the desk; a wrong token five times, or
    Quit, ends the session."""
    expected = os.environ.pop(CHILD_TOKEN_ENV, "")
    if app.runtime.mode != "live" or not expected:
        return
    app.push_screen(TokenScreen(expected), lambda ok: None if ok else app.exit())


class TokenScreen(ModalScreen[bool]):
    """Live trading in a browser: the serve token again, before the first order.
    Modal, so the desk's keys (approve, order, auto-execute) do not reach the App."""

    BINDINGS = [Binding("escape", "nothing", show=False)]  # no way around it but Quit

    def __init__(self, expected_sha256: str) -> None:
        super().__init__(classes="-danger")
        self.expected = expected_sha256
        self.tries = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Static("LIVE trading in a browser: enter the serve token to trade",
                         id="confirm-question")
            yield Static("The panels are live behind this; no order goes out until "
                         "the token is given.", id="serve-token-why")
            yield Input(password=True, placeholder="serve token", id="serve-token")
            with Horizontal(id="confirm-buttons"):
                yield Button("Quit", id="serve-token-quit", variant="primary")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def action_nothing(self) -> None:
        pass

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if token_matches(event.value, self.expected):
            self.dismiss(True)
            return
        self.tries += 1
        event.input.value = ""
        if self.tries >= MAX_TOKEN_TRIES:
            self.dismiss(False)
            return
        left = MAX_TOKEN_TRIES - self.tries
        self.query_one("#serve-token-why", Static).update(
            f"wrong token; {left} {'try' if left == 1 else 'tries'} left, then the session ends")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(False)
