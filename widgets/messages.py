"""Messages the panels post upward (attributes down, messages up).

The App handles them; no widget reaches into another. ``can_replace`` lets a
newer selection replace a queued one, so holding an arrow key does not queue
a repaint per row.
"""

from __future__ import annotations

from textual.message import Message


class InstrumentSelected(Message):
    """The trader selected ``symbol`` (positions/orders row): show its depth and vol."""

    def __init__(self, symbol: str) -> None:
        super().__init__()
        self.symbol = symbol

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, InstrumentSelected)


class SuggestionSelected(Message):
    """The cursor is on suggestion ``suggestion_id`` (the depth panel walks its order).
    ``by_trader`` is False when a refresh of the table put it there (an engine run),
    so only the trader's own move selects the suggestion's instrument."""

    def __init__(self, suggestion_id: str, *, by_trader: bool = True) -> None:
        super().__init__()
        self.suggestion_id = suggestion_id
        self.by_trader = by_trader

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SuggestionSelected)


class SuggestionApproved(Message):
    """The trader approved suggestion ``suggestion_id`` (it was fresh when approved)."""

    def __init__(self, suggestion_id: str) -> None:
        super().__init__()
        self.suggestion_id = suggestion_id


class SuggestionRejected(Message):
    """The trader rejected (dismissed) suggestion ``suggestion_id``."""

    def __init__(self, suggestion_id: str) -> None:
        super().__init__()
        self.suggestion_id = suggestion_id


class SuggestionRefused(Message):
    """An approval was refused by the panel (stale or nothing to do); ``reason`` says why."""

    def __init__(self, suggestion_id: str, reason: str) -> None:
        super().__init__()
        self.suggestion_id = suggestion_id
        self.reason = reason
