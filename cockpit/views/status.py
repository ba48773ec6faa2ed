"""The status bar: mode, venues, engine, auto-execute, breakers, clock."""

from __future__ import annotations

from collections.abc import Iterable

from cockpit.model import Snapshot
from cockpit.model.views import (
    StatusView,
    VenueRow,
)

# --------------------------------------------------------------------------- status


def status_view(
    snapshot: Snapshot, *, engine_state: str = "waiting", engine_last_run_ms: int | None = None,
    engine_duration_ms: float | None = None, engine_next_run_s: float | None = None,
    engine_error: str = "", auto_execute: bool = False, breakers: Iterable[str] = (),
    stale_after_s: float = 5.0, trading_state: str = "active", trading_reason: str = "",
) -> StatusView:
    """The status bar: venue data age = snapshot clock - venue's newest data time."""
    venues = tuple(
        VenueRow(v.venue, v.connected,
                 snapshot.age_ms(v.last_data_ms) / 1000.0 if v.last_data_ms else None,
                 v.retrying, v.message, v.dead_man)
        for v in snapshot.venues.values()
    )
    return StatusView(snapshot.mode, snapshot.ts_ms, venues, engine_state, engine_last_run_ms,
                      engine_duration_ms, engine_next_run_s, engine_error, auto_execute,
                      tuple(breakers), stale_after_s, trading_state, trading_reason)
