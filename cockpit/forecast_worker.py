"""GARCH refits and the policy's run in a child process, so neither arch's
optimiser nor the policy's Python holds the UI's GIL.

Measured (benchmarks/bench_app.py): with the refits in the engine's thread, the
event loop's worst wake-up at 50 updates/s was ~120 ms; arch's fit holds the
GIL for long stretches. Here the engine thread sends each bar series' log
returns (plain float arrays) and the previous fit, and blocks on a pipe, which
releases the GIL; the child fits and sends the forecasts back.

The child is ``python -m cockpit.forecast_worker``: it imports arch and the
policy (~1 s, most of it pandas and scipy.stats) before it reads its first
request, reads pickled requests on stdin and writes pickled replies on its own
pipe. It exits when stdin closes, so it never outlives the cockpit. A child
that dies or stops answering is killed, restarted once, and the restart is
reported by :meth:`take_notices`.

Start-up: the command line calls :func:`prestart` before its own imports (the
App, Textual, the sizing modules), so the child's imports run on the other core
while the first screen is drawn, and the first engine run adopts that child.
Measured (benchmarks/bench_app.py, fresh processes): the first GARCH-based
suggestions came 2.3 s after process start when the child was started by the
first engine run and imported arch on its first request; 1.4 s with both.

The policy (``sizing.policy.decide``, ~11 ms of pure Python a run on the demo
book) runs here too: in the engine's thread it took the GIL from the event loop
in 5 ms slices for its whole run. Its input is a ``PortfolioState`` of plain
numbers (~40 kB pickled, 0.3 ms), its output the decisions (~4 kB).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import pickle
import select
import subprocess
import sys
from pathlib import Path

CHILD_NICENESS = 10
BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

log = logging.getLogger("cockpit.engine")

HOURS_PER_YEAR = 24 * 365  # crypto trades every day
FORECAST_HORIZON_H = 24  # bars ahead (hourly): the engine's horizon unless it is given another
REPLY_TIMEOUT_S = 60.0  # a cold fit of a few series takes < 1 s; a minute means it hung


class WorkerCrashed(RuntimeError):
    """The forecast process died or stopped answering (it has been restarted)."""


class ForecastWorker:
    """Client end: ``fit({symbol: (log_returns, previous)}) -> {symbol: GarchForecast}``.

    Called from the engine's thread, one request at a time; the call blocks that
    thread (not the GIL) until the child answers.
    """

    def __init__(self, horizon: int, *, reply_timeout_s: float = REPLY_TIMEOUT_S) -> None:
        self.horizon = horizon
        self.reply_timeout_s = reply_timeout_s
        self.restarts = 0
        self._proc: subprocess.Popen | None = None
        self._notices: list[str] = []

    # -- life cycle --------------------------------------------------------------------
    def start(self) -> None:
        """Start the child if it is not running (returns at once; it imports in parallel)."""
        if self._proc is not None:
            code = self._proc.poll()
            if code is None:
                return
            self._restart(f"died between runs (exit code {code})")  # starts it again
            return
        self._proc = _take_spare(self.horizon) or _spawn(self.horizon)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def close(self) -> None:
        """Stop the child (closing its stdin ends its loop); kill it if it lingers."""
        proc, self._proc = self._proc, None
        if proc is not None:
            _close(proc)

    def take_notices(self) -> list[str]:
        """Restarts since the last call, one line each, for the event log."""
        out, self._notices = self._notices, []
        return out

    # -- requests ----------------------------------------------------------------------
    def fit(self, series: dict) -> dict:
        """Fit each ``symbol: (log_returns, previous_forecast_or_None[, model])``; one restart
        and retry if the child crashed. Raises the fit's own exception if it failed,
        :class:`WorkerCrashed` if the child died twice."""
        return self._ask_twice(series)

    def decide(self, state, settings, forecasts: dict) -> tuple:
        """``sizing.policy.decide(state, settings, forecasts=forecasts)`` in the child, as a
        tuple of decisions; failures as :meth:`fit`."""
        return self._ask_twice(("decide", state, settings, forecasts))

    def _ask_twice(self, request):
        try:
            return self._ask(request)
        except WorkerCrashed as first:
            self._restart(str(first))
            try:
                return self._ask(request)
            except WorkerCrashed as second:
                self._restart(str(second))
                raise WorkerCrashed(f"forecast worker failed twice: {second}") from None

    def _restart(self, why: str) -> None:
        self.close()
        self.restarts += 1
        note = f"forecast worker {why}; restarted (restart {self.restarts})"
        log.warning(note)
        self._notices.append(note)
        self.start()

    def _ask(self, request):
        self.start()
        proc = self._proc
        try:
            pickle.dump(request, proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            proc.stdin.flush()
            ready, _, _ = select.select([proc.stdout], [], [], self.reply_timeout_s)
            if not ready:
                raise WorkerCrashed(f"did not answer within {self.reply_timeout_s:g} s")
            status, payload = pickle.load(proc.stdout)
        except (OSError, EOFError, pickle.UnpicklingError) as exc:
            try:  # a closed pipe comes a moment before the exit status
                code = proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                code = None
            why = f"exit code {code}" if code is not None else type(exc).__name__
            raise WorkerCrashed(f"crashed ({why})") from None
        if status == "error":
            raise payload
        return payload


def _spawn(horizon: int) -> subprocess.Popen:
    root = str(Path(__file__).resolve().parent.parent)  # the same code as this process
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    for var in BLAS_THREAD_VARS:  # one thread: a pool as wide as the machine took
        env.setdefault(var, "1")  # the core the screen was drawn on
    # arch fits GARCH with its compiled (Cython) recursions; with numba installed
    # it would still import numba (~0.15 s of the child's start) for nothing.
    env.setdefault("ARCH_DISABLE_NUMBA", "1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cockpit.forecast_worker", str(horizon)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        env=env, close_fds=True,
    )
    # Background work, from its first import on: the scheduler gives the
    # cockpit's screen the core first when both want it.
    with contextlib.suppress(OSError, AttributeError):
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        os.setpriority(os.PRIO_PROCESS, proc.pid, min(mine + CHILD_NICENESS, 19))
    return proc


_spare: tuple[int, subprocess.Popen] | None = None  # (horizon, child) from prestart()


def prestart(horizon: int = FORECAST_HORIZON_H) -> None:
    """Start a forecast child now, for the first :class:`ForecastWorker` of this
    horizon to adopt; the command line calls it before importing the App. One
    not adopted by the time this process exits is closed then."""
    global _spare
    if _spare is not None:
        return
    try:
        _spare = (horizon, _spawn(horizon))
    except OSError:  # no process to spare now: the engine's first run starts (or reports) it
        return
    atexit.register(_close_spare)


def _take_spare(horizon: int) -> subprocess.Popen | None:
    global _spare
    if _spare is None:
        return None
    (made_for, proc), _spare = _spare, None
    if made_for == horizon and proc.poll() is None:
        return proc
    _discard(proc)  # another horizon, or it died: a fresh one
    return None


def _close_spare() -> None:
    global _spare
    if _spare is not None:
        (_, proc), _spare = _spare, None
        _discard(proc)


def _discard(proc: subprocess.Popen) -> None:
    """End a child that holds no work (killed: closing its stdin would wait for the
    end of its imports, a second on an error's way out)."""
    with contextlib.suppress(OSError):
        proc.kill()
    proc.wait()
    proc.stdin.close()
    proc.stdout.close()


def _close(proc: subprocess.Popen) -> None:
    """Close the child's stdin (its loop ends) and reap it; kill it if it lingers."""
    try:
        proc.stdin.close()
        proc.wait(timeout=2.0)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait()
    finally:
        proc.stdout.close()


def _preload() -> None:
    """What the first requests need, before they come: arch for the fits and the
    policy (scipy.stats) for decide. A failure here is left for the request that
    needs the module, which reports it (a GARCH fit falls back to EWMA)."""
    with contextlib.suppress(Exception):
        import arch.univariate  # noqa: F401

        import sizing.policy  # noqa: F401


def serve(horizon: int, requests, replies) -> None:
    """The child's loop: one reply per request until ``requests`` ends."""
    from sizing.volatility import vol_forecast

    _preload()

    while True:
        try:
            request = pickle.load(requests)
        except EOFError:
            return
        try:
            if isinstance(request, tuple) and request[0] == "decide":
                from sizing.policy import decide

                _, state, settings, forecasts = request
                reply = ("ok", tuple(decide(state, settings, forecasts=forecasts)))
            else:
                reply = ("ok", {
                    symbol: vol_forecast(rets, HOURS_PER_YEAR, horizon=horizon,
                                         previous=previous, model=model[0] if model else "garch")
                    for symbol, (rets, previous, *model) in request.items()
                })
        except Exception as exc:  # the engine run reports it, as it would in-thread
            reply = ("error", exc)
        try:
            pickle.dump(reply, replies, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            pickle.dump(("error", RuntimeError(repr(reply[1]))), replies)
        replies.flush()


def main() -> None:
    horizon = int(sys.argv[1]) if len(sys.argv) > 1 else FORECAST_HORIZON_H
    # Replies get a private copy of stdout; anything a library prints goes to stderr.
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    serve(horizon, sys.stdin.buffer, replies)


if __name__ == "__main__":
    main()
