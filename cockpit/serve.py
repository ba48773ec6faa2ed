"""``cockpit serve``: the same cockpit in a browser, through textual-serve.

Every browser session runs ``python -m cockpit <the same flags>`` as a child
process whose screen is streamed to an xterm in the page. Security:

- Bound to 127.0.0.1 by default. On loopback, requests must name a loopback
  host (a DNS-rebinding page cannot reach the desk) and the websocket must come
  from the page's own origin (no cross-site websocket hijacking).
- A bind beyond loopback needs a token (``--token`` or ``COCKPIT_SERVE_TOKEN``);
  the first page load presents it as ``?token=…``; it is compared in constant
  time, answered by a session cookie (HttpOnly, SameSite=Strict; not the token
  itself) and a redirect that drops it from the address bar. Anything else: 403.
- Live trading in a browser always needs a token, and the cockpit asks for it
  again (a modal, before any key reaches the desk) — a stolen cookie is not enough.
- No secret reaches the page or a command line: the child gets the token's
  SHA-256 through its environment only, and ``COCKPIT_SERVE_TOKEN`` is removed
  from the environment it inherits. API keys stay where the cockpit reads them.
- One browser session at a time: two cockpits on one account would both trade it.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import ipaddress
import os
import re
import secrets
import shlex
import socket
import sys
from pathlib import Path
from urllib.parse import urlencode, urlsplit

# the child's side (the token asked again), re-exported: one home for the digest and its name
from cockpit.serve_token import (  # noqa: F401
    CHILD_TOKEN_ENV,
    MAX_TOKEN_TRIES,
    TokenScreen,
    ask_token_if_served_live,
    digest,
    token_matches,
)

TOKEN_ENV = "COCKPIT_SERVE_TOKEN"  # the trader's token, read by ``cockpit serve`` only
COOKIE = "cockpit_session"
MIN_TOKEN_CHARS = 16
_SERVE_ONLY = ("--host", "--port", "--token")  # never passed on to the child
_LOOPBACK_NAMES = {"localhost", "localhost."}


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost."""
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_parser():
    from cockpit.cli import build_parser as app_parser

    p = app_parser()
    p.prog = "cockpit serve"
    p.formatter_class = argparse.HelpFormatter  # the app's lists its commands unwrapped
    p.description = ("The cockpit in a browser (textual-serve); takes every flag of cockpit. "
                     "Loopback only unless a token is given.")
    p.epilog = (f"beyond loopback a token is required: prefer env {TOKEN_ENV} "
                "(a --token on the command line is visible to other users in ps)")
    p.allow_abbrev = False  # --tok would slip through to the child otherwise
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--token", help=f"token the page must present (or env {TOKEN_ENV})")
    return p


def child_args(argv: list[str]) -> list[str]:
    """The app's own flags: ``--host``, ``--port``, ``--token`` (and their values) removed."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _SERVE_ONLY:
            skip = True
        elif not arg.startswith(tuple(f"{o}=" for o in _SERVE_ONLY)):
            out.append(arg)
    return out


def serve_problem(args, token: str | None) -> str | None:
    """The one line that stops ``cockpit serve`` before it binds, or None."""
    if not 1 <= args.port <= 65535:
        return f"--port {args.port}: must be between 1 and 65535; e.g. --port 8000"
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        return (f"the serve token is {len(token)} characters: give {MIN_TOKEN_CHARS} or more, "
                "e.g. python -c 'import secrets; print(secrets.token_urlsafe())'")
    if token is None and not is_loopback(args.host):
        return (f"--host {args.host} is beyond loopback: set a token in env {TOKEN_ENV} "
                "(or --token), or bind --host 127.0.0.1")
    if token is None and args.live:
        return (f"--live in a browser needs a token: set env {TOKEN_ENV} (or --token); "
                "the cockpit asks for it again before trading")
    return None


def run(argv: list[str]) -> int:
    from cockpit.cli import _error, check_args
    from cockpit.config import ConfigError, load_config

    args = build_parser().parse_args(argv)
    token = args.token or os.environ.get(TOKEN_ENV) or None  # an empty one is none
    if problem := serve_problem(args, token):
        return _error(problem)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        return _error(str(exc))
    if problem := check_args(args, config) or bind_problem(args.host, args.port):
        return _error(problem)
    # The child inherits this process's environment (textual-serve copies it):
    # the digest goes in, the token itself comes out.
    os.environ.pop(TOKEN_ENV, None)
    if token is not None:
        os.environ[CHILD_TOKEN_ENV] = digest(token)
    # exec: the cockpit replaces the shell textual-serve starts, so it is the process it holds
    command = "exec " + shlex.join([sys.executable, "-m", "cockpit", *child_args(argv)])
    server = make_server(command, host=args.host, port=args.port, token=token)
    try:
        server.serve()
    except OSError as exc:
        return _error(f"--host {args.host} --port {args.port}: cannot bind ({exc.strerror}); "
                      "choose another port")
    return 0


def bind_problem(host: str, port: int) -> str | None:
    """Can (host, port) be listened on? Asked before the server says it is serving."""
    try:
        family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        return f"--host {host}: no such address ({exc.strerror}); e.g. --host 127.0.0.1"
    try:
        with socket.socket(family, kind, proto) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp binds
            s.bind(addr)
    except OSError as exc:
        return f"--host {host} --port {port}: cannot listen ({exc.strerror}); choose another port"
    return None


def _page_template() -> str:
    """textual-serve's page without its Google Fonts link: the page loads nothing
    from a third party (it would tell them the desk is open)."""
    import textual_serve

    html = (Path(textual_serve.__file__).parent / "templates" / "app_index.html").read_text()
    return re.sub(r"<link[^>]*fonts\.googleapis\.com[^>]*>", "", html, flags=re.S)


def make_server(command: str, *, host: str, port: int, token: str | None):
    """A textual-serve ``Server`` with the guard of this module's docstring."""
    import aiohttp_jinja2
    import jinja2
    from aiohttp import web
    from textual_serve.app_service import AppService
    from textual_serve.server import Server, to_int

    expected = digest(token) if token is not None else None
    session = secrets.token_urlsafe(32)  # the cookie's value; new every start
    loopback = is_loopback(host)

    def host_ok(request) -> bool:
        return not loopback or is_loopback(urlsplit(f"//{request.host}").hostname or "")

    def origin_ok(request) -> bool:
        origin = request.headers.get("Origin")
        return origin is None or urlsplit(origin).netloc == request.host

    @web.middleware
    async def guard(request, handler):
        if not host_ok(request):
            return web.Response(status=403, text="forbidden: unknown host\n")
        if request.path == "/ws" and not origin_ok(request):
            return web.Response(status=403, text="forbidden: another site's page\n")
        if expected is not None:
            given = request.query.get("token")
            if given is not None:
                if not token_matches(given, expected):
                    return web.Response(status=403, text="forbidden: wrong token\n")
                rest = {k: v for k, v in request.query.items() if k != "token"}
                where = request.path + ("?" + urlencode(rest) if rest else "")
                resp = web.HTTPSeeOther(where)
                resp.set_cookie(COOKIE, session, httponly=True, samesite="Strict",
                                secure=request.secure, path="/")
                _harden(resp)
                return resp
            cookie = request.cookies.get(COOKIE, "").encode("utf-8", "replace")
            if not hmac.compare_digest(cookie, session.encode()):
                return web.Response(status=403,
                                    text="forbidden: open the address with ?token=YOUR_TOKEN\n")
        resp = await handler(request)
        if not resp.prepared:
            _harden(resp)
        return resp

    class CockpitServer(Server):
        def __init__(self) -> None:
            super().__init__(command, host=host, port=port, title="Cockpit")
            self._one_session = asyncio.Lock()
            self._services: set = set()

        async def _make_app(self):
            app = await super()._make_app()
            app.middlewares.append(guard)
            aiohttp_jinja2.setup(app, loader=jinja2.DictLoader({"app_index.html": _page_template()}))
            return app

        @aiohttp_jinja2.template("app_index.html")
        async def handle_index(self, request):
            context = await Server.handle_index.__wrapped__(self, request)
            # The websocket goes back to the host the page came from (a bind on
            # 0.0.0.0 has no address a browser could use).
            scheme = "wss" if request.secure else "ws"
            context["app_websocket_url"] = f"{scheme}://{request.host}/ws"
            context["config"]["static"]["url"] = "/static/"
            return context

        async def handle_websocket(self, request):
            """textual-serve's handler, one session at a time, keeping each cockpit
            it starts so that stopping the server stops them (none is orphaned)."""
            try:
                await asyncio.wait_for(self._one_session.acquire(), 15)
            except TimeoutError:
                return web.Response(status=409, text="one browser session at a time: "
                                    "close the other tab\n")
            websocket = web.WebSocketResponse(heartbeat=15)
            service = None
            try:
                await websocket.prepare(request)
                service = AppService(self.command, write_bytes=websocket.send_bytes,
                                     write_str=websocket.send_str, close=websocket.close,
                                     download_manager=self.download_manager, debug=self.debug)
                self._services.add(service)
                await service.start(to_int(request.query.get("width", "80"), 80),
                                    to_int(request.query.get("height", "24"), 24))
                await self._process_messages(websocket, service)
            except asyncio.CancelledError:
                await websocket.close()
            finally:
                if service is not None:
                    await _stop(service)
                    self._services.discard(service)
                self._one_session.release()
            return websocket

        async def on_shutdown(self, app) -> None:
            await asyncio.gather(*(_stop(s) for s in list(self._services)))

        async def on_startup(self, app) -> None:
            ask = " — open it with ?token=YOUR_TOKEN" if expected else ""
            print(f"cockpit: serving on http://{_url_host(host)}:{port}/{ask} (Ctrl+C to stop)",
                  flush=True)

    return CockpitServer()


async def _stop(service, grace_s: float = 10.0) -> None:
    """Ask the cockpit to quit (textual-serve's quit message); end it if it will not."""
    try:
        await asyncio.wait_for(service.stop(), grace_s)
    except Exception:  # a timeout, or a pipe already closed: the kill below ends it
        pass
    proc = service._process  # textual-serve keeps no public handle on it
    if proc is not None and proc.returncode is None:
        proc.kill()
        await proc.wait()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _harden(resp) -> None:
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["X-Frame-Options"] = "DENY"  # no clickjacking of the approve key
    resp.headers["X-Content-Type-Options"] = "nosniff"
