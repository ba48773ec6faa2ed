"""``cockpit serve``'s guard, over real HTTP on 127.0.0.1: refusals before it binds,
403 without the token, the token nowhere in the page or in the child's command
line, loopback host and websocket origin checks; and the token screen a live
session in a browser shows before any key reaches the desk."""

from __future__ import annotations

import hashlib
import socket
import subprocess

import aiohttp
import pytest

from cockpit import serve
from tests.serve.server import TOKEN, cockpit, served


def _refused(*args: str, env: dict | None = None) -> str:
    proc = cockpit("serve", *args, env=env)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, (out, err)
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.7", "::", "cockpit.example"])
def test_a_bind_beyond_loopback_without_a_token_is_refused_in_one_line(host):
    err = _refused("--host", host, "--port", "8000", env={"COCKPIT_SERVE_TOKEN": ""})
    assert f"--host {host} is beyond loopback" in err and "COCKPIT_SERVE_TOKEN" in err


def test_live_in_a_browser_needs_a_token_even_on_loopback():
    err = _refused("--live", "--venue", "okx")
    assert "--live in a browser needs a token" in err


def test_a_short_token_is_refused_without_printing_it():
    err = _refused("--host", "0.0.0.0", env={"COCKPIT_SERVE_TOKEN": "hunter2"})
    assert "16 or more" in err and "hunter2" not in err


def test_a_port_in_use_is_one_line_and_no_serving_banner():
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        proc = cockpit("serve", "--port", str(held.getsockname()[1]))
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "cannot listen" in err and err.count("\n") == 1, err
    assert "serving on" not in out


def test_the_apps_own_flags_are_checked_before_binding():
    assert "--seed" in _refused("--seed", "-5")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.1", "::1", "[::1]", "localhost"])
def test_loopback_names(host):
    assert serve.is_loopback(host)


def test_the_child_command_line_carries_no_serve_flag_or_token():
    argv = ["--seed", "3", "--token", TOKEN, "--host=0.0.0.0", "--port", "9", f"--token={TOKEN}",
            "--paper"]
    assert serve.child_args(argv) == ["--seed", "3", "--paper"]


def test_an_abbreviated_token_flag_is_not_taken_for_another():
    # argparse would read --tok as --token; the child would then see it on its argv
    with pytest.raises(SystemExit):
        serve.build_parser().parse_args(["--tok", TOKEN])


async def test_without_the_token_every_path_is_403_and_the_page_never_holds_it(tmp_path):
    with served(tmp_path, "--seed", "5", token=TOKEN) as base:
        # unsafe=True: keep cookies from an IP address host, as a browser does
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            for path in ("/", "/ws", "/static/js/textual.js", "/?token=", "/?token=wrong",
                         f"/?token={TOKEN[:-1]}", f"/?token={TOKEN}x"):
                async with http.get(base + path, allow_redirects=False) as r:
                    assert r.status == 403, path
                    assert TOKEN not in await r.text()
            async with http.get(f"{base}/?token={TOKEN}&fontsize=14",
                                allow_redirects=False) as r:
                assert r.status == 303 and r.headers["Location"] == "/?fontsize=14"
                cookie = r.cookies[serve.COOKIE]
                assert cookie.value and TOKEN not in cookie.value
                assert cookie["httponly"] and cookie["samesite"] == "Strict"
            async with http.get(f"{base}/?fontsize=14") as r:  # the session cookie is enough
                html = await r.text()
                assert r.status == 200 and "textual-terminal" in html
                assert TOKEN not in html and hashlib.sha256(TOKEN.encode()).hexdigest() not in html
                assert "googleapis" not in html  # nothing loaded from a third party
                assert r.headers["X-Frame-Options"] == "DENY"


async def test_a_rebinding_host_or_another_sites_websocket_is_403(tmp_path):
    with served(tmp_path, "--seed", "5") as base:  # loopback, no token
        port = base.rsplit(":", 1)[1]
        async with aiohttp.ClientSession() as http:
            async with http.get(base + "/") as r:
                assert r.status == 200
            async with http.get(base + "/", headers={"Host": f"evil.example:{port}"}) as r:
                assert r.status == 403
            with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
                await http.ws_connect(base + "/ws", origin="http://evil.example")
            assert exc.value.status == 403


def test_the_child_inherits_a_digest_never_the_token(tmp_path, monkeypatch):
    """What ``cockpit serve`` leaves in the environment textual-serve copies to the child."""
    monkeypatch.setenv("COCKPIT_SERVE_TOKEN", TOKEN)
    seen = {}

    class FakeServer:
        def serve(self):
            import os

            seen.update(os.environ)

    monkeypatch.setattr(serve, "make_server", lambda command, **kw: seen.update(
        command=command) or FakeServer())
    monkeypatch.setattr(serve.os, "environ", dict(serve.os.environ))
    assert serve.run(["--seed", "4"]) == 0
    assert "COCKPIT_SERVE_TOKEN" not in seen
    assert seen[serve.CHILD_TOKEN_ENV] == hashlib.sha256(TOKEN.encode()).hexdigest()
    assert TOKEN not in seen["command"] and seen["command"].endswith("-m cockpit --seed 4")


# -- the token screen of a live session in a browser -------------------------------------
async def _live_demo_app(monkeypatch):
    from cockpit.app import CockpitApp
    from cockpit.config import Config
    from cockpit.runtime import build_demo

    monkeypatch.setenv(serve.CHILD_TOKEN_ENV, serve.digest(TOKEN))
    runtime = build_demo(Config(), seed=2)
    app = CockpitApp(runtime, start_feed=False, remember_theme=False)
    runtime.mode = "live"  # what the screen sees: a live session (the desk stays paper)
    return app


async def test_a_live_session_asks_for_the_token_before_any_key_reaches_the_desk(monkeypatch):
    app = await _live_demo_app(monkeypatch)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, serve.TokenScreen)
        for key in ("o", "A", "k", "escape"):  # ticket, auto-execute, kill: none gets through
            await pilot.press(key)
        await pilot.pause()
        assert isinstance(app.screen, serve.TokenScreen) and not app.desk.auto_execute
        assert serve.CHILD_TOKEN_ENV not in __import__("os").environ  # read once, then gone
        await pilot.press(*"wrong-token", "enter")
        await pilot.pause()
        assert isinstance(app.screen, serve.TokenScreen)
        assert "4 tries left" in str(app.screen.query_one("#serve-token-why").render())
        await pilot.press(*TOKEN, "enter")
        await pilot.pause()
        assert not isinstance(app.screen, serve.TokenScreen)
        await pilot.press("question_mark")  # now keys reach the App
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"


async def test_five_wrong_tokens_end_the_session(monkeypatch):
    app = await _live_demo_app(monkeypatch)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        for i in range(serve.MAX_TOKEN_TRIES - 1):
            await pilot.press(*f"nope{i}", "enter")
            await pilot.pause()
        assert isinstance(app.screen, serve.TokenScreen) and app.return_code is None
        await pilot.press(*"nope-last", "enter")
        await pilot.pause()
        assert app.return_code == 0  # app.exit(): the session ends


def test_a_paper_session_in_a_browser_asks_nothing(monkeypatch):
    monkeypatch.setenv(serve.CHILD_TOKEN_ENV, serve.digest(TOKEN))

    class PaperApp:
        runtime = type("R", (), {"mode": "demo"})()

        def push_screen(self, *a, **k):
            raise AssertionError("a paper session needs no token screen")

    serve.ask_token_if_served_live(PaperApp())


def test_cockpit_serve_help_lists_its_flags():
    proc = subprocess.run([__import__("sys").executable, "-m", "cockpit", "serve", "--help"],
                          capture_output=True, text=True, timeout=60,
                          cwd=str(__import__("pathlib").Path(__file__).parents[1]))
    assert proc.returncode == 0
    for flag in ("--host", "--port", "--token", "--venue", "--seed", "COCKPIT_SERVE_TOKEN"):
        assert flag in proc.stdout
