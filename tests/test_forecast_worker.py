"""The GARCH refits in a child process: the same forecasts as in the engine's
thread, and a child that dies or hangs is replaced and the trader is told."""

from __future__ import annotations

import os
import signal
import time
from functools import partial

import pytest

from cockpit.app import policy_settings
from cockpit.config import Config
from cockpit.engine import HOURS_PER_YEAR, EngineRunner
from cockpit.engine_input import log_returns
from cockpit.forecast_worker import ForecastWorker
from cockpit.runtime import build_demo
from sizing.volatility import garch_forecast


@pytest.fixture(scope="module")
def demo():
    runtime = build_demo(Config(), seed=11, state_path=None)
    return runtime.config, runtime.store.snapshot()


def _series(snapshot):
    return {s: (log_returns(b, 2000), None) for s, b in snapshot.bars.items() if len(b)}


def test_process_forecasts_equal_fits_in_this_process_and_close_ends_the_child(demo):
    config, snapshot = demo
    runner = EngineRunner(partial(policy_settings, config), forecast_process=True)
    try:
        result = runner.run(snapshot)
        pid = runner.forecast_worker.pid
    finally:
        runner.close()
    assert result.error is None and result.notice is None
    assert result.refits == len(_series(snapshot)) >= 1
    for symbol, (rets, _) in _series(snapshot).items():
        here = garch_forecast(rets, HOURS_PER_YEAR, horizon=24)
        got = result.forecasts[symbol]
        # The same model, sample and settings; the optimiser's last digits are not
        # reproducible across processes (BLAS threading changes summation order), so
        # the figures agree to well under a display digit, the rest exactly.
        assert (got.model, got.converged, got.n_obs, got.horizon, got.scale) == (
            here.model, here.converged, here.n_obs, here.horizon, here.scale)
        assert got.vol_annual == pytest.approx(here.vol_annual, rel=1e-4)
        assert got.persistence == pytest.approx(here.persistence, rel=1e-4)
        assert got.params.keys() == here.params.keys()
        for name, value in here.params.items():
            assert got.params[name] == pytest.approx(value, rel=1e-3), name
    assert result.decisions, "the policy ran on the process's forecasts"
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # closed and reaped: no child left behind


def test_a_killed_worker_is_restarted_and_the_next_result_says_so(demo):
    config, snapshot = demo
    runner = EngineRunner(partial(policy_settings, config), forecast_process=True)
    try:
        first = runner.run(snapshot)
        old_pid = runner.forecast_worker.pid
        os.kill(old_pid, signal.SIGKILL)  # as the OOM killer would
        os.waitid(os.P_PID, old_pid, os.WEXITED | os.WNOWAIT)  # dead, not yet reaped
        second = runner.run(snapshot)
        assert runner.forecast_worker.pid != old_pid
    finally:
        runner.close()
    assert second.error is None
    assert "forecast worker" in second.notice and "restarted" in second.notice
    assert "exit code -9" in second.notice
    assert second.forecasts == first.forecasts


def test_a_hung_worker_is_replaced_and_the_fit_still_comes_back(demo):
    _, snapshot = demo
    series = _series(snapshot)
    worker = ForecastWorker(24, reply_timeout_s=60.0)
    try:
        expected = worker.fit(series)  # a cold child imports arch: seconds on a busy machine
        worker.reply_timeout_s = 8.0
        os.kill(worker.pid, signal.SIGSTOP)  # alive but never answers
        again = worker.fit(series)
        notices = worker.take_notices()
    finally:
        worker.close()
    assert again == expected
    assert len(notices) == 1 and "did not answer within 8 s" in notices[0]
    assert worker.restarts == 1


def test_the_policy_run_in_the_child_decides_as_it_does_in_this_process(demo):
    """The child runs ``decide`` too (off the UI's GIL): on the same state and forecasts
    its decisions are this process's, field for field; an error in the child's run
    comes back as the engine's one-line error, not a dead worker."""
    from cockpit.engine_input import state_from_snapshot
    from sizing.policy import decide

    config, snapshot = demo
    runner = EngineRunner(partial(policy_settings, config), forecast_process=True)
    try:
        result = runner.run(snapshot)
        state = state_from_snapshot(snapshot, forecasts=result.forecasts)
        here = tuple(decide(state, runner.settings, forecasts=result.forecasts))
        there = runner.forecast_worker.decide(state, runner.settings, result.forecasts)
        runner.settings = "not a PolicySettings"  # the child's decide raises on it
        broken = runner.run(snapshot)
        restarts = runner.forecast_worker.restarts
    finally:
        runner.close()
    assert result.error is None and result.decisions == there
    assert there == here and len(here) >= 1
    assert broken.error and broken.decisions == () and broken.notice is None
    assert restarts == 0  # the same child answered the failing run


def test_the_child_runs_below_the_screens_priority_with_one_blas_thread():
    """Refits are background work: the scheduler gives the cockpit's own process
    the core first, and numpy's BLAS in the child does not fan out over the machine."""
    worker = ForecastWorker(horizon=24)
    worker.start()
    try:
        pid = worker.pid
        assert os.getpriority(os.PRIO_PROCESS, pid) >= os.getpriority(os.PRIO_PROCESS, 0) + 1 \
            or os.getpriority(os.PRIO_PROCESS, 0) >= 19
        deadline = time.monotonic() + 10
        while b"forecast_worker" not in open(f"/proc/{pid}/cmdline", "rb").read():
            assert time.monotonic() < deadline, "the child never started"
            time.sleep(0.005)  # before its exec, /proc shows this process's environment
        with open(f"/proc/{pid}/environ", "rb") as fh:
            env = dict(v.split(b"=", 1) for v in fh.read().split(b"\0") if b"=" in v)
        if "OPENBLAS_NUM_THREADS" not in os.environ:
            assert env[b"OPENBLAS_NUM_THREADS"] == b"1"
    finally:
        worker.close()


def _maps(pid: int) -> str:
    with open(f"/proc/{pid}/maps") as fh:
        return fh.read()


def test_the_child_imports_arch_before_its_first_request():
    """Its ~1 s of imports overlap the cockpit's first screen instead of delaying the
    first GARCH fit: arch's compiled recursions are loaded with no request sent."""
    worker = ForecastWorker(horizon=24)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while "arch/univariate/recursions" not in _maps(worker.pid):
            assert time.monotonic() < deadline, "arch not imported without a request"
            time.sleep(0.02)
    finally:
        worker.close()


def test_the_first_worker_adopts_the_child_started_before_the_imports(monkeypatch):
    """``prestart`` (called by the command line) starts the child; the engine's worker
    of the same horizon takes that very process, later workers start their own, and a
    worker of another horizon closes the spare rather than leaving it running."""
    import cockpit.forecast_worker as fw

    monkeypatch.setattr(fw, "_spare", None)
    fw.prestart(24)
    spare = fw._spare[1]
    first, second = ForecastWorker(horizon=24), ForecastWorker(horizon=24)
    try:
        first.start()
        second.start()
        assert first.pid == spare.pid and second.pid != spare.pid
    finally:
        first.close()
        second.close()
    fw.prestart(24)
    stale = fw._spare[1]
    other = ForecastWorker(horizon=12)
    try:
        other.start()
        assert other.pid != stale.pid and stale.poll() is not None  # closed and reaped
    finally:
        other.close()
    assert fw._spare is None


@pytest.mark.parametrize(("toml", "argv", "started"), [
    ("", [], True),
    ("[engine]\nforecast_process = false\n", [], False),  # refits in the engine's thread
    ("", ["--tick-hz", "-1"], False),  # a refused flag starts nothing
])
def test_the_command_line_starts_the_child_before_its_imports_only_when_it_will_be_used(
        tmp_path, monkeypatch, capsys, toml, argv, started):
    import cockpit.forecast_worker as fw
    import cockpit.runtime as runtime
    from cockpit.cli import main

    calls: list[int] = []
    monkeypatch.setattr(fw, "prestart", lambda horizon=24: calls.append(horizon))

    def stop_here(args, config):  # the runtime comes after the early start
        raise runtime.RuntimeError_("stopped by the test")

    monkeypatch.setattr(runtime, "build_runtime", stop_here)
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml)
    cfg.chmod(0o600)
    code = main(["--config", str(cfg), "--state", str(tmp_path / "s.sqlite"), *argv])
    assert code == 2 and calls == ([24] if started else [])
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def _processes_with(marker: bytes) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/environ", "rb") as fh:
                    if marker in fh.read().split(b"\0"):
                        found.append(int(entry))
            except OSError:
                continue
    return found


def test_a_start_refused_after_the_early_child_leaves_no_process_behind(tmp_path):
    """The account is in use, found after the child was started: one line, exit 2, and
    the child (still importing arch) is gone with the cockpit, not left to finish."""
    import fcntl
    import subprocess
    import sys
    import uuid

    state = tmp_path / "paper.sqlite"
    fd = os.open(f"{state}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as a running cockpit holds it
    marker = f"COCKPIT_TEST_RUN={uuid.uuid4().hex}"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "cockpit", "--state", str(state)], capture_output=True,
            text=True, timeout=60, env={**os.environ, **dict([marker.split("=")])})
    finally:
        os.close(fd)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "in use by another cockpit" in lines[0]
    assert _processes_with(marker.encode()) == []


def test_an_early_start_that_cannot_spawn_leaves_the_start_to_the_engine(monkeypatch):
    """No process to spare (fork refused) is not the trader's error: the command line
    goes on, and the engine's first run starts the child as it always could."""
    import subprocess

    import cockpit.forecast_worker as fw

    monkeypatch.setattr(fw, "_spare", None)

    def refuse(*args, **kwargs):
        raise BlockingIOError(11, "Resource temporarily unavailable")

    with monkeypatch.context() as m:
        m.setattr(subprocess, "Popen", refuse)
        fw.prestart(24)  # no exception
    assert fw._spare is None
    worker = ForecastWorker(horizon=24)
    try:
        worker.start()
        assert worker.pid is not None
    finally:
        worker.close()
