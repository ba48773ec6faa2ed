"""Key hygiene end to end: sentinel keys through a failing order on the fake OKX
(127.0.0.1), then the logs, error output, captured output and argv are searched for
the key, the secret and the passphrase: 0 hits.

The order runs in a child process started like the cockpit (keys only in its
environment), logging everything at DEBUG to stderr, so what is searched is what a
trader's terminal and log file would really hold.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.venues.fakevenue import FakeOkx

ROOT = Path(__file__).resolve().parents[2]
SENTINEL_KEY = "SENTINELKEY-3f9a2c7e-0b1d-4e55-9a6f"
SENTINEL_SECRET = "SENTINELSECRET7Q2W9E4R1T6Y3U8I5O0P"
SENTINEL_PASSWORD = "SENTINELPASS-x7y8z9"
SENTINELS = (SENTINEL_KEY, SENTINEL_SECRET, SENTINEL_PASSWORD)

CHILD = textwrap.dedent(
    """
    import asyncio, logging, sys
    from types import SimpleNamespace
    from cockpit.keys import load_credentials, redact
    from cockpit.model import OrderRequest
    from cockpit.venues.registry import make_broker

    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    port = sys.argv[1]
    cfg = SimpleNamespace(symbols=("BTC/USDT:USDT",), sandbox=False, live=True,
                          rest_url="http://127.0.0.1:" + port, ws_url="ws://127.0.0.1:" + port,
                          api_key_env="", secret_env="", password_env="", keyring=False,
                          api_key="", secret="")

    async def main():
        creds = load_credentials("okx", cfg)
        print("credentials:", creds, repr(creds))
        broker = make_broker("okx", cfg, creds)
        broker._ex.enableRateLimit = False
        try:
            for _ in range(2):
                try:
                    await broker.create_order(
                        OrderRequest("BTC/USDT:USDT", "buy", "limit", 1.0, 39000.0))
                except Exception as exc:
                    logging.getLogger("cockpit").exception("order failed")
                    print("order failed:", redact(str(exc)))
        finally:
            await broker._ex.close()
        print("argv:", " ".join(sys.argv))
        print("cmdline:", open("/proc/self/cmdline", "rb").read().replace(b"\\0", b" ").decode())

    asyncio.run(main())
    """
)


REFUSALS = [
    ("51008", "Order failed. Insufficient USDT balance in account."),
    ("50113", "Invalid signature for API key {api_key}"),  # a venue echoing the key back
]


async def test_sentinel_keys_never_reach_logs_errors_output_or_argv(tmp_path):
    srv = FakeOkx()
    srv.refuse_orders = list(REFUSALS)
    await srv.start()
    try:
        env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_SECRET"))}
        env.update(OKX_API_KEY=SENTINEL_KEY, OKX_SECRET=SENTINEL_SECRET,
                   OKX_PASSWORD=SENTINEL_PASSWORD, PYTHONPATH=str(ROOT))
        argv = [sys.executable, "-c", CHILD, str(srv.port)]
        proc = await asyncio.create_subprocess_exec(
            *argv, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    finally:
        await srv.close()
    out_text, err_text = out.decode(), err.decode()
    # the order really went out signed with the sentinel key, and really failed
    assert srv.order_posts == 2 and srv.orders == {}
    assert srv.seen_api_keys == {SENTINEL_KEY}
    # each refusal reads as one sentence; the venue's raw reply is in the log, redacted
    assert "order failed: OKX refused: insufficient margin (51008)" in out_text
    assert out_text.count("order failed: OKX refused: ") == 2 and "50113" in out_text
    assert '"sCode"' not in out_text and "API key ***" in err_text
    # the DEBUG logs searched below do hold the signed request headers (redacted)
    assert "OK-ACCESS-KEY" in err_text and "order failed" in err_text
    assert "credentials: Credentials(venue='okx'" in out_text
    # ... and the key, secret and passphrase appear nowhere we can look
    for place, text in [("stdout", out_text), ("stderr (logs, tracebacks)", err_text),
                        ("argv", " ".join(argv))]:
        for s in SENTINELS:
            assert s not in text, f"{s[:12]}... leaked into {place}"
    assert proc.returncode == 0, err_text[-2000:]
