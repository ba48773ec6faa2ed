"""A headless Chromium driven over its DevTools protocol (a websocket), with
aiohttp only: no playwright or selenium download. Everything stays on
127.0.0.1: the browser resolves no other host.

The page's xterm draws on a canvas, so the text is read from what the page's
websocket receives: a script installed before the page runs keeps every frame
the terminal is sent (``window.__cockpit_frames``), and :func:`screen_text`
strips the escape sequences from them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import aiohttp

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

_KEEP_FRAMES = """
(() => {
  const Real = window.WebSocket;
  window.__cockpit_frames = [];
  window.WebSocket = function (url, protocols) {
    const ws = protocols === undefined ? new Real(url) : new Real(url, protocols);
    ws.addEventListener("message", (ev) => {
      if (typeof ev.data === "string") { window.__cockpit_frames.push(ev.data); return; }
      const push = (buf) => window.__cockpit_frames.push(new TextDecoder().decode(buf));
      if (ev.data instanceof ArrayBuffer) push(ev.data); else ev.data.arrayBuffer().then(push);
    });
    return ws;
  };
  window.WebSocket.prototype = Real.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
})();
"""

_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[@-Z\\-_]")


def find_browser() -> str | None:
    for name in CANDIDATES:
        if path := shutil.which(name):
            return path
    return None


def screen_text(frames: list[str]) -> str:
    """The printable text the terminal was sent, escape sequences removed."""
    return _ESCAPES.sub(" ", "".join(frames))


class Browser:
    """One headless Chromium and one page, driven by DevTools commands."""

    def __init__(self, path: str, profile: Path) -> None:
        self.path = path
        self.profile = profile
        self.proc: subprocess.Popen | None = None
        self.session: aiohttp.ClientSession | None = None
        self.ws = None
        self._ids = itertools.count(1)
        self._log = profile / "chromium.log"  # a file, not a pipe nobody drains

    async def start(self) -> None:
        self.profile.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [self.path, "--headless=new", "--no-sandbox", "--disable-gpu",
             "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--disable-background-networking", "--disable-sync",
             "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
             f"--user-data-dir={self.profile}", "--window-size=1600,1000",
             # no name resolves but loopback: the test touches no network
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=self._log.open("w"))
        browser_ws = await asyncio.to_thread(self._devtools_url)
        port = browser_ws.split(":")[2].split("/")[0]
        self.session = aiohttp.ClientSession()
        async with self.session.get(f"http://127.0.0.1:{port}/json/list") as r:
            pages = [t for t in await r.json() if t["type"] == "page"]
        self.ws = await self.session.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0)
        await self.call("Page.enable")
        await self.call("Page.addScriptToEvaluateOnNewDocument", source=_KEEP_FRAMES)

    def _devtools_url(self) -> str:
        for _ in range(300):
            text = self._log.read_text(errors="replace") if self._log.exists() else ""
            if m := re.search(r"DevTools listening on (ws://\S+)", text):
                return m.group(1)
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"chromium opened no DevTools port: {text[-500:]}")

    async def call(self, method: str, **params):
        msg_id = next(self._ids)
        await self.ws.send_json({"id": msg_id, "method": method, "params": params})
        while True:
            msg = json.loads((await self.ws.receive()).data)
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    async def evaluate(self, expression: str):
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                                 awaitPromise=True)
        return result.get("result", {}).get("value")

    async def navigate(self, url: str) -> None:
        await self.call("Page.navigate", url=url)

    async def frames(self) -> list[str]:
        return await self.evaluate("window.__cockpit_frames || []") or []

    async def press(self, text: str) -> None:
        """A key typed on the page (reaches xterm's focused textarea)."""
        await self.evaluate("document.querySelector('.xterm-helper-textarea')?.focus()")
        await self.call("Input.dispatchKeyEvent", type="keyDown", text=text, key=text)
        await self.call("Input.dispatchKeyEvent", type="keyUp", key=text)

    async def wait_for(self, predicate, what: str, *, since: int = 0,
                       timeout_s: float = 30.0) -> str:
        """Poll the text of the frames after the first ``since`` until ``predicate(text)``;
        the text, or an error naming ``what`` with the last text seen (a failure after a
        generous limit, never a timing assertion)."""
        text = ""
        for _ in range(int(timeout_s / 0.25)):
            text = screen_text((await self.frames())[since:])
            if predicate(text):
                return text
            await asyncio.sleep(0.25)
        raise AssertionError(f"never saw {what}; the page's terminal showed: {text[-2000:]!r}")

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.session is not None:
            await self.session.close()
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
