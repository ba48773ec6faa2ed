"""Two cockpits on one account (issue 14): the second is refused with exit 2 and the
holder's pid, before any screen; ``cockpit size --state`` too. When the holder dies
(SIGKILL: the OS drops its lock) the account opens again and reconciles: every
balance is the seed plus what the fills and funding in the ledger imply."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cockpit.paper.storage import AccountInUse, PaperStorage

ROOT = Path(__file__).resolve().parents[2]

HOLDER = textwrap.dedent(
    """
    import sys, time
    from cockpit.config import Config
    from cockpit.model import OrderRequest
    from cockpit.runtime import build_demo

    rt = build_demo(Config(), seed=5, acceleration=1000.0, state_path=sys.argv[1])
    b = rt.broker
    for side in ("buy", "sell", "buy"):
        b.place_order(OrderRequest("BTC/USDT:USDT", side, "market", 0.05))
    print("ready", flush=True)
    time.sleep(120)
    """
)


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env.update(PYTHONPATH=str(ROOT), XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_STATE_HOME=str(tmp_path / "state"), XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    return env


def _cockpit(tmp_path, *argv) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cockpit", *argv], capture_output=True,
                          text=True, timeout=90, env=_env(tmp_path), stdin=subprocess.DEVNULL)


def test_a_second_cockpit_is_refused_naming_the_holder_and_the_account_reconciles(tmp_path):
    account = tmp_path / "account.sqlite"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(account)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=_env(tmp_path))
    try:
        assert holder.stdout.readline().strip() == "ready", holder.stderr.read()[-2000:]
        before = account.read_bytes()
        for argv in (["--state", str(account)], ["size", "--state", str(account)],
                     ["--state", str(account), "--reset"]):
            out = _cockpit(tmp_path, *argv)
            lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
            assert out.returncode == 2, out.stderr
            assert len(lines) == 1 and f"pid {holder.pid}" in lines[0], lines
            assert "Traceback" not in out.stderr
            assert account.exists()  # --reset never deletes an account in use
        assert account.read_bytes() == before
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    # the OS released the dead holder's lock: the account opens, and adds up
    storage = PaperStorage(account)
    try:
        state = storage.load()
        fills = storage.fills()
        assert len(fills) == 3
        for currency in ("USDT", "BTC"):
            seeded = {"USDT": 150_000.0, "BTC": 1.5}[currency]
            realised = storage.realised_pnl().get(currency, 0.0)
            fees = sum(f.fee for f in fills if f.fee_currency == currency)
            funding = sum(e.payment for e in storage.funding() if e.currency == currency)
            assert state.balances[currency] == pytest.approx(
                seeded + realised - fees - funding, abs=1e-6)
    finally:
        storage.close()


def test_the_lock_is_per_account_and_released_on_close(tmp_path):
    first = PaperStorage(tmp_path / "a.sqlite")
    other = PaperStorage(tmp_path / "b.sqlite")  # another account: no conflict
    with pytest.raises(AccountInUse, match=f"pid {os.getpid()}"):
        PaperStorage(tmp_path / "a.sqlite")
    first.close()
    again = PaperStorage(tmp_path / "a.sqlite")
    again.close()
    other.close()
