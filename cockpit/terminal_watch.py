"""Close the cockpit when its terminal goes away.

A closed terminal window or a dropped ssh session does not always deliver SIGHUP
(the cockpit may not be in the terminal's foreground process group: started by
``make``, tmux killed, ``setsid``). Textual's input thread then reads EOF in a
tight loop (one core at 100 %; Textualize/textual#6690, open), its writer thread
dies on EIO and the event loop blocks on the full output queue: a frozen cockpit
that still holds its account's lock, so the trader's next ``cockpit`` is refused
with "in use by another cockpit".

A daemon thread asks the terminal for its attributes once a second; a hung-up
terminal answers EIO. The cockpit is then asked to exit as ``q`` would; if its
loop is stuck it is ended after ``grace_s``. Either way nothing is lost: the
journal and the paper account are committed as they change, a live venue's
resting orders are as the trader left them (its dead-man switch, when armed,
cancels them), and the account lock is released with the process.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import termios
import threading
import time
from collections.abc import Callable
from functools import partial

log = logging.getLogger("cockpit")

HUNG_UP_EXIT = 129  # 128 + SIGHUP, as a shell reports a hang-up


def terminal_alive(fd: int) -> bool:
    """Whether the terminal on ``fd`` still answers (a hung-up one fails with EIO)."""
    try:
        termios.tcgetattr(fd)
    except (termios.error, OSError):
        return False
    return True


def watch_terminal(fd: int, ask_exit: Callable[[], None], *, interval_s: float = 1.0,
                   grace_s: float = 5.0, end: Callable[[int], None] = os._exit,
                   ) -> threading.Thread | None:
    """Start the watch (None when ``fd`` is not a terminal: a pipe, a test). On a
    hang-up: ``ask_exit()`` (thread-safe), then ``end(HUNG_UP_EXIT)`` after ``grace_s``
    if the process is still here."""
    if not os.isatty(fd):
        return None

    def watch() -> None:
        while terminal_alive(fd):
            time.sleep(interval_s)
        log.warning("the terminal hung up: closing the cockpit")
        try:
            ask_exit()
        except Exception:  # the loop may be gone already: the grace period ends it
            log.exception("asking the cockpit to exit after the hang-up failed")
        time.sleep(grace_s)
        log.warning("the cockpit did not close within %.0f s of the hang-up: ending it", grace_s)
        logging.shutdown()  # the log's last lines reach the file
        end(HUNG_UP_EXIT)

    thread = threading.Thread(target=watch, name="terminal-watch", daemon=True)
    thread.start()
    return thread


def close_on_hang_up(app) -> None:
    """Watch the terminal the cockpit runs on, and take SIGHUP (a window closing) the
    same way: exit as ``q`` does, not by the signal's abrupt default; if that cannot
    finish, the watch ends the process."""
    if sys.__stdin__ is not None:
        watch_terminal(sys.__stdin__.fileno(), partial(exit_app, app))
    signal.signal(signal.SIGHUP, lambda _sig, _frame: exit_app(app))


def exit_app(app) -> None:
    """From any thread: ``app.exit(return_code=HUNG_UP_EXIT)`` on the app's own loop.

    Textual's output thread dies on a dead terminal's EIO and the loop then blocks
    on its full queue: that queue is emptied from here so the loop runs on to a
    normal exit (a live output thread still takes its stop mark, so it is left
    alone; textual is pinned, and without that queue the watch's grace ends it)."""
    writer = getattr(getattr(app, "_driver", None), "_writer_thread", None)
    queue = getattr(writer, "_queue", None)
    if queue is not None and not writer.is_alive():
        threading.Thread(target=_discard_forever, args=(queue,), name="dead-terminal-output",
                         daemon=True).start()
    loop = getattr(app, "_loop", None)
    if loop is not None and not loop.is_closed():
        loop.call_soon_threadsafe(partial(app.exit, return_code=HUNG_UP_EXIT))


def _discard_forever(queue) -> None:
    while True:
        queue.get()
