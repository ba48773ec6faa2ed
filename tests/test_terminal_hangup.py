"""A cockpit whose terminal goes away closes, even when no SIGHUP reaches it (tmux
killed, a dropped ssh session, a cockpit outside the terminal's foreground group):
before, it stayed alive at 100 % of a core with a frozen screen and kept its
account's lock, so the trader's next ``cockpit`` was refused."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from cockpit.terminal_watch import HUNG_UP_EXIT, terminal_alive, watch_terminal

ROOT = Path(__file__).resolve().parent.parent


def _start_on_a_terminal(state: Path):
    """The demo cockpit on a fresh pseudo-terminal that is NOT its controlling terminal:
    closing the terminal sends it no SIGHUP. Returns (process, terminal fd, screen)."""
    master, slave = os.openpty()
    env = dict(os.environ, TERM="xterm-256color")
    proc = subprocess.Popen([sys.executable, "-m", "cockpit", "--state", str(state)],
                            stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                            close_fds=True, env=env, cwd=ROOT)
    os.close(slave)
    screen, t0 = b"", time.monotonic()
    while time.monotonic() - t0 < 60 and b"Margin" not in screen and proc.poll() is None:
        if select.select([master], [], [], 0.2)[0]:
            try:
                screen += os.read(master, 1 << 16)
            except OSError:
                break
    return proc, master, screen


def _exit_code_after_hang_up(proc, master) -> int | None:
    os.close(master)  # the window closes
    try:
        return proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


def test_a_cockpit_whose_terminal_hangs_up_closes_and_frees_its_account(tmp_path):
    state = tmp_path / "account.sqlite"
    proc, master, screen = _start_on_a_terminal(state)
    assert b"Margin" in screen, screen[-2000:]
    assert _exit_code_after_hang_up(proc, master) == HUNG_UP_EXIT, \
        "the cockpit stayed alive after its terminal went away"
    # the next cockpit on the same account starts (the lock went with the process)
    proc, master, screen = _start_on_a_terminal(state)
    assert b"in use by another cockpit" not in screen
    assert b"Margin" in screen, screen[-2000:]
    assert _exit_code_after_hang_up(proc, master) == HUNG_UP_EXIT


def test_sighup_closes_the_cockpit_as_q_does_not_by_the_signal(tmp_path):
    """A window that closes sends SIGHUP: the cockpit exits through its own close
    (exit code 129), not killed by the signal, and its account is free again."""
    state = tmp_path / "account.sqlite"
    proc, master, screen = _start_on_a_terminal(state)
    assert b"Margin" in screen, screen[-2000:]
    proc.send_signal(signal.SIGHUP)
    t0 = time.monotonic()  # the terminal stays open and is read, as a window's would be
    while proc.poll() is None and time.monotonic() - t0 < 20:
        if select.select([master], [], [], 0.1)[0]:
            try:
                os.read(master, 1 << 16)
            except OSError:
                break
    try:  # its end of the terminal closes as it exits: let it finish
        code = proc.wait(timeout=max(1.0, 20 - (time.monotonic() - t0)))
    except subprocess.TimeoutExpired:
        code = None
        proc.kill()
        proc.wait()
    os.close(master)
    assert code == HUNG_UP_EXIT, f"exit {code}: killed by the signal, not closed"
    proc, master, screen = _start_on_a_terminal(state)
    assert b"Margin" in screen and b"in use by another cockpit" not in screen
    assert _exit_code_after_hang_up(proc, master) == HUNG_UP_EXIT


def test_a_hung_up_terminal_is_seen_as_gone_and_a_stuck_cockpit_is_ended():
    master, slave = os.openpty()
    try:
        assert terminal_alive(slave)
        asked, ended = [], []
        thread = watch_terminal(slave, lambda: asked.append(1), interval_s=0.01, grace_s=0.05,
                                end=ended.append)
        time.sleep(0.1)
        assert not asked and not ended, "a live terminal is left alone"
        os.close(master)
        thread.join(timeout=5)
        assert not terminal_alive(slave)
        assert asked == [1], "asked to exit as q would"
        assert ended == [HUNG_UP_EXIT], "and ended when it did not"
    finally:
        os.close(slave)


def test_no_watch_without_a_terminal():
    r, w = os.pipe()
    try:
        assert watch_terminal(r, lambda: None) is None
    finally:
        os.close(r)
        os.close(w)
