"""EngineRunner: runs the sizing policy on a Snapshot, off the UI's event loop.

The App calls :meth:`EngineRunner.run` from a Textual thread worker, at most
one at a time; the result comes back as a message. The runner owns a small
cache of GARCH forecasts (one per bar series), refitted only when a new bar
has closed and warm-started from the previous fit, so a run with forecasts
cached costs milliseconds. Nothing here mutates the Store.

With ``forecast_process=True`` the refits run in a child process
(:mod:`cockpit.forecast_worker`): arch's optimiser holds the GIL for long
stretches, which in a thread stalls the UI's event loop (measured: worst
wake-up ~120 ms at 50 updates/s). The child is started on the first run, fed
the log returns only, and restarted if it dies; ``EngineResult.notice`` says so.
The policy's run goes there too (``ForecastWorker.decide``), all but the quick
first run: its ~11 ms of Python in this thread took the GIL from the event loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from cockpit.forecast_worker import FORECAST_HORIZON_H, HOURS_PER_YEAR
from cockpit.model import Snapshot

log = logging.getLogger("cockpit.engine")


@dataclass(frozen=True, slots=True)
class EngineResult:
    """One policy run. ``decisions`` are ``sizing.policy.Decision`` objects;
    ``forecasts`` maps a bar symbol to its ``GarchForecast``. ``error`` is a
    one-line reason when the run failed (decisions then empty)."""

    seq: int
    snapshot_ts_ms: int
    decisions: tuple = ()
    forecasts: Mapping = field(default_factory=dict)
    duration_ms: float = 0.0
    refits: int = 0
    error: str | None = None
    provisional: bool = False  # EWMA forecasts only; a GARCH run should follow at once
    notice: str | None = None  # e.g. "forecast worker crashed (exit code -9); restarted ..."


class EngineRunner:
    """Holds policy settings and the forecast cache; :meth:`run` is thread-safe
    only in the sense that the App never runs two at once."""

    def __init__(self, settings, *, forecast_horizon_h: int = FORECAST_HORIZON_H,
                 timer=time.perf_counter,
                 forecast_process: bool = False) -> None:
        # ``settings`` may be a zero-argument callable: the policy module pulls in
        # scipy.stats (~0.8 s), so the App builds its settings on the first run,
        # in the engine's thread, not before the first screen.
        self._settings = settings
        self.timer = timer  # injectable so screen snapshots can freeze durations
        self.quick_first_run = False  # see run()
        self._runs = 0
        self.horizon = forecast_horizon_h
        self._forecasts: dict[str, object] = {}
        self._fitted_at: dict[str, int] = {}
        self._worker = None
        if forecast_process:
            from cockpit.forecast_worker import ForecastWorker

            self._worker = ForecastWorker(forecast_horizon_h)

    @property
    def forecast_worker(self):
        """The child process doing the refits, or None when they run in this thread."""
        return self._worker

    def close(self) -> None:
        """Stop the forecast process, if any (the App calls this on exit)."""
        if self._worker is not None:
            self._worker.close()

    @property
    def settings(self):
        if callable(self._settings):
            self._settings = self._settings()
        return self._settings

    @settings.setter
    def settings(self, value) -> None:
        self._settings = value

    def forecasts(self, snapshot: Snapshot) -> tuple[dict, int]:
        """Forecasts per bar series with ``[sizing] vol_model`` (garch, gjr or ewma);
        refit only where a new bar closed or the model changed."""
        from cockpit.engine_input import log_returns
        from sizing.volatility import vol_forecast

        model = self.settings.vol_model

        due: dict[str, tuple] = {}  # symbol -> (log returns, previous fit), last bar time
        closed: dict[str, int] = {}
        for symbol, bars in snapshot.bars.items():
            if not len(bars):
                continue
            last = int(bars.ts_ms[-1])
            prev = self._forecasts.get(symbol)
            if prev is not None and getattr(prev, "model", model) != model:
                prev = None  # another model's fit neither warm-starts nor stands
            elif self._fitted_at.get(symbol) == last and prev is not None:
                continue
            due[symbol] = (log_returns(bars, 2000), prev, model)
            closed[symbol] = last
        if self._worker is not None and due:
            fitted = self._worker.fit(due)
        else:
            fitted = {
                symbol: vol_forecast(rets, HOURS_PER_YEAR, horizon=self.horizon, previous=prev,
                                     model=m)
                for symbol, (rets, prev, m) in due.items()
            }
        self._forecasts.update(fitted)
        self._fitted_at.update(closed)
        return dict(self._forecasts), len(fitted)

    def run(self, snapshot: Snapshot) -> EngineResult:
        from cockpit.engine_input import state_from_snapshot
        from sizing.policy import decide

        t0 = self.timer()
        if self._worker is not None:
            self._worker.start()  # (or adopt prestart's): it imports arch while the quick run goes
        try:
            # The very first run may skip GARCH: importing arch and fitting cold takes
            # seconds while the UI holds the GIL, and the trader should see the
            # engine's proposals at once. The policy then uses an EWMA of returns
            # and says so in each decision; the caller runs again right after.
            provisional = self.quick_first_run and self._runs == 0
            self._runs += 1
            forecasts, refits = ({}, 0) if provisional else self.forecasts(snapshot)
            state = state_from_snapshot(snapshot, forecasts=forecasts)
            if self._worker is not None and not provisional:
                decisions = self._worker.decide(state, self.settings, forecasts)
            else:  # the quick first run: the child is still importing
                decisions = tuple(decide(state, self.settings, forecasts=forecasts))
        except Exception as exc:  # the UI shows it; previous suggestions go stale
            log.exception("engine run failed")
            return EngineResult(
                snapshot.seq, snapshot.ts_ms, (), dict(self._forecasts),
                (self.timer() - t0) * 1e3, 0, f"{type(exc).__name__}: {exc}".splitlines()[0],
                notice=self._notice(),
            )
        return EngineResult(
            snapshot.seq, snapshot.ts_ms, decisions, forecasts,
            (self.timer() - t0) * 1e3, refits, provisional=provisional, notice=self._notice(),
        )

    def _notice(self) -> str | None:
        notes = self._worker.take_notices() if self._worker is not None else []
        return "; ".join(notes) or None
