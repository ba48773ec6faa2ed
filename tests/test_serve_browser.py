"""``cockpit serve`` in a real headless Chromium (Debian's package, driven over
its DevTools websocket): the page loads with the token, the panels render with
live numbers from the built-in market, and a key typed in the page reaches the
app. Everything on 127.0.0.1; the browser resolves no other host.

Chromium is installed by ``make test`` (``.ci/chromium.sh``) where apt works;
without a browser this test is skipped, saying why."""

from __future__ import annotations

import re

import pytest

from tests.serve.browser import Browser, find_browser
from tests.serve.server import TOKEN, cockpit_processes, served

BROWSER = find_browser()
pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="no Chromium here: run .ci/chromium.sh (apt-get install chromium)")

PRICE = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")  # 91,234.5: a price as the panels print it


async def test_the_served_cockpit_renders_live_panels_and_takes_keys(tmp_path):
    app_args = ("--seed", "9137", "--acceleration", "60")
    browser = Browser(BROWSER, tmp_path / "profile")
    try:
        with served(tmp_path, *app_args, token=TOKEN) as base:
            await browser.start()
            await browser.navigate(f"{base}/?token={TOKEN}")
            text = await browser.wait_for(
                lambda t: all(p in t for p in ("Margin", "Greeks", "Depth", "Event log"))
                and PRICE.search(t), "the panels with prices")
            # the token left the address bar (a redirect) and is nowhere in the page
            assert await browser.evaluate("location.search") == ""
            assert TOKEN not in await browser.evaluate("document.documentElement.outerHTML")
            assert TOKEN not in text

            # live: the built-in market keeps ticking, so new frames carry new prices
            seen = len(await browser.frames())
            await browser.wait_for(PRICE.search, "a price update", since=seen)

            # a key typed in the page reaches the app: ? opens the help screen
            assert "Cockpit keys" not in text
            seen = len(await browser.frames())
            await browser.press("?")
            await browser.wait_for(lambda t: "Cockpit keys" in t, "the help screen", since=seen)

            # one cockpit behind the page, started with the app's flags only: no token
            children = cockpit_processes(*app_args)
            assert len(children) == 1 and not any(TOKEN in a for a in children[0])
        # the server stopped with the page still open: its cockpit stopped too
        assert cockpit_processes(*app_args) == []
    finally:
        await browser.close()

