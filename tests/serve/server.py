"""Run ``cockpit serve`` as a real process on 127.0.0.1 and a free port, with the
test's private XDG directories inherited (tests/conftest.py sets them)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-token-5be1f0c2a9d84e7f"  # not a real secret: a test's


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cockpit(*args: str, env: dict | None = None, **kw) -> subprocess.Popen:
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "cockpit", *args], cwd=ROOT, env=full,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


@contextmanager
def served(tmp_path: Path, *app_args: str, token: str | None = None):
    """``cockpit serve`` with the token in its environment; yields the base URL."""
    port = free_port()
    env = {"COCKPIT_SERVE_TOKEN": token} if token else {}
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "cockpit", "serve", "--port", str(port),
                             *app_args], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT),
                                                        **env},
                            stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(200):
            if proc.poll() is not None:
                raise AssertionError(f"cockpit serve exited: {(tmp_path / 'serve.log').read_text()}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def cockpit_processes(*app_args: str) -> list[list[str]]:
    """Command lines of running ``python -m cockpit <app_args>`` processes (from /proc)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().decode(errors="replace").split("\0")[:-1]
        except OSError:
            continue
        if argv[1:3] == ["-m", "cockpit"] and argv[3:] == list(app_args):
            found.append(argv)
    return found
