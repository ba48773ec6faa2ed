"""Alerts that reach the trader: what is worth interrupting them for, in one line each.

:class:`AlertDetector` is pure: it is handed successive app states (the margin ratio,
the trading state, the tripped breakers) and the event-log / journal entries the desk
writes (fills, expiries, liquidations, executions), and returns :class:`Alert` s.
:class:`Alerts` is the App's side: it shows each alert as a Textual notification and
hands the kinds named in ``[alerts] events`` to the webhook poster
(``cockpit.alerts_webhook``).

Margin crossings have hysteresis: an alert at amber (or red) fires once when the
margin ratio (maintenance margin / equity) reaches the threshold, and re-arms only
after the ratio has fallen back below ``rearm_fraction`` of it (the desk's own
clearing level, ``cockpit.desk_state.HYSTERESIS``, 90 %), so a ratio hovering at the
line does not alert on every tick.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cockpit.utc import utc_time

__all__ = ["ALERT_KINDS", "Alert", "AlertDetector", "Alerts", "execution_ended", "utc_time"]

# every kind an alert can have (also the valid values of ``[alerts] events``)
ALERT_KINDS = ("margin_amber", "margin_red", "breaker", "trading_state", "execution",
               "liquidation", "expiry")

_BREAKER_NAME = re.compile(r"^[a-z -]+?(?=[\s:]*[\d(:]|$)")



def screen_names(text: str) -> str:
    """Every ccxt unified symbol in ``text`` written as the panels write it
    (``widgets.format.symbols_in_text``: one home for instrument names on screen)."""
    from widgets.format import symbols_in_text

    return symbols_in_text(text)


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert. ``severity``: "warning" or "error" (Textual's notification levels);
    ``text``: one readable line; ``key``: what de-duplication compares (same key,
    same event); ``ts_ms``: data time of the event (epoch ms)."""

    kind: str
    severity: str
    text: str
    ts_ms: int
    key: str

    def payload(self) -> dict:
        """The JSON a webhook receives: the alert and nothing else (no config, no
        account identifiers, no keys; ``text`` has passed the secret redaction)."""
        from cockpit.keys import redact

        return {"source": "cockpit", "kind": self.kind, "severity": self.severity,
                "text": redact(self.text), "time": utc_time(self.ts_ms), "ts_ms": self.ts_ms}


def execution_ended(symbol: str, state: str, detail: str, ts_ms: int, *,
                    execution_id: str = "") -> Alert:
    """The alert for an execution that finished: ``state`` "given up" is an error,
    "done" or "cancelled" a warning. ``detail`` is its progress line
    ("passive buy 1.2/2.5, avg 0.0235 ...")."""
    severity = "error" if state == "given up" else "warning"
    name = screen_names(symbol)
    text = f"execution {state}: {name} — {screen_names(detail)}" if detail else \
        f"execution {state}: {name}"
    return Alert("execution", severity, f"{text} at {utc_time(ts_ms)}", ts_ms,
                 f"execution:{execution_id or symbol}:{state}")


def _breaker_name(text: str) -> str:
    """"vol spike 2.4x (12 vs 96 bars)" -> "vol spike": its figures change every run."""
    m = _BREAKER_NAME.match(text)
    return m.group(0).strip() if m else text


class AlertDetector:
    """Alerts from successive states and entries. Pure: no clock, no I/O.

    ``margin_amber`` / ``margin_red``: ``[display]`` thresholds (fractions);
    ``rearm_fraction``: a crossing re-arms below this fraction of its threshold."""

    def __init__(self, margin_amber: float, margin_red: float, *,
                 rearm_fraction: float = 0.9) -> None:
        self.thresholds = (("margin_amber", margin_amber, "warning"),
                           ("margin_red", margin_red, "error"))
        self.rearm_fraction = rearm_fraction
        self._fired: set[str] = set()  # margin kinds fired and not yet re-armed
        self._state: str | None = None
        self._breakers: set[str] = set()

    @classmethod
    def from_config(cls, config) -> AlertDetector:
        from cockpit.desk_state import HYSTERESIS

        d = config.display
        return cls(d.margin_amber, d.margin_red, rearm_fraction=HYSTERESIS)

    # -- states ----------------------------------------------------------------------
    def observe(self, ts_ms: int, *, margin_ratio: float | None = None,
                trading_state: str | None = None, state_reason: str = "",
                breakers: Iterable[str] = ()) -> list[Alert]:
        """The alerts this state raises compared with the last one seen. The first
        trading state seen is the starting point (no alert); a margin ratio already
        past a threshold at start alerts."""
        out: list[Alert] = []
        if margin_ratio is not None and not math.isnan(margin_ratio):
            out += self._margin(ts_ms, margin_ratio)
        if trading_state is not None:
            state = str(getattr(trading_state, "value", trading_state))
            if self._state is not None and state != self._state:
                sev = "error" if state == "halted" else "warning"
                why = f": {state_reason}" if state_reason else ""
                out.append(Alert("trading_state", sev,
                                 f"trading state {state.upper()} (was {self._state.upper()})"
                                 f"{screen_names(why)} at {utc_time(ts_ms)}", ts_ms,
                                 f"trading_state:{state}"))
            self._state = state
        now: dict[str, str] = {}
        for b in breakers:
            now.setdefault(_breaker_name(b), b)
        for name, text in now.items():
            if name not in self._breakers:
                out.append(Alert("breaker", "warning",
                                 f"breaker tripped: {screen_names(text)} at {utc_time(ts_ms)}",
                                 ts_ms, f"breaker:{name}"))
        self._breakers = set(now)  # one that clears re-arms
        return out

    def _margin(self, ts_ms: int, ratio: float) -> list[Alert]:
        out = []
        for kind, threshold, severity in self.thresholds:
            if ratio >= threshold and kind not in self._fired:
                self._fired.add(kind)
                level = "RED" if kind == "margin_red" else "AMBER"
                shown = "∞" if math.isinf(ratio) else f"{ratio:.1%}"
                out.append(Alert(kind, severity,
                                 f"margin ratio {shown} crossed {level} ({threshold:.0%}) "
                                 f"at {utc_time(ts_ms)}", ts_ms, kind))
            elif ratio < threshold * self.rearm_fraction:
                self._fired.discard(kind)
        return out

    # -- entries ---------------------------------------------------------------------
    def entry(self, kind: str, text: str, ts_ms: int) -> Alert | None:
        """An alert for one journal / event-log entry, or None. Understands the kinds
        ``cockpit.desk_sync`` writes — "liquidation", "expiry", and "fill" lines that
        are a liquidation ("LIQUIDATION ...") or an expiry ("expiry settled: ...") — and
        "execution" lines that end one ("execution done: ...", "... given up: ...")."""
        line = screen_names(text)
        when = f" at {utc_time(ts_ms)}"
        if kind == "liquidation" or (kind == "fill" and text.startswith("LIQUIDATION ")):
            body = line.removeprefix("LIQUIDATION ")
            return Alert("liquidation", "error", f"position LIQUIDATED: {body}{when}", ts_ms,
                         f"liquidation:{text}")
        if kind == "expiry" or (kind == "fill" and text.startswith("expiry settled: ")):
            body = line.removeprefix("expiry settled: ")
            return Alert("expiry", "warning", f"option expired, settled: {body}{when}", ts_ms,
                         f"expiry:{text}")
        if kind == "execution":
            m = re.match(r"execution (done|given up|cancelled)\b", text)
            if m:
                sev = "error" if m.group(1) == "given up" else "warning"
                return Alert("execution", sev, f"{line}{when}", ts_ms, f"execution:{text}")
        return None

    def entries(self, items: Iterable) -> list[Alert]:
        """:meth:`entry` over journal records or ``LogEntry`` s (``.kind``, ``.text``,
        ``.ts_ms``)."""
        return [a for e in items if (a := self.entry(e.kind, e.text, e.ts_ms)) is not None]


class Alerts:
    """The App's alerts: each one shown once as a notification, and the kinds in
    ``[alerts] events`` posted to the webhook when one is configured.

    ``notify(message, title=, severity=)`` is ``App.notify``."""

    def __init__(self, config, notify: Callable[..., object]) -> None:
        self.detector = AlertDetector.from_config(config)
        self.notify = notify
        cfg = config.alerts
        self.events = frozenset(cfg.events)
        self.poster = None
        if cfg.webhook_url:  # httpx loads only then: the first screen does not wait on it
            from cockpit.alerts_webhook import WebhookPoster

            self.poster = WebhookPoster.from_config(cfg, on_status=self._webhook_status)
        self.shown: list[Alert] = []
        self._task: asyncio.Task | None = None
        self._told: dict[str, float] = {}  # kind -> monotonic s until which it is not shown

    def told(self, *kinds: str, for_s: float = 3.0) -> None:
        """The trader's own action has just said these on screen (the kill switch's one
        notice names the state and the cancels): for ``for_s`` wall seconds alerts of these
        kinds are not shown again, but still posted to the webhook."""
        until = time.monotonic() + for_s
        for k in kinds:
            self._told[k] = until

    def show(self, alerts: Iterable[Alert]) -> None:
        now = time.monotonic()
        for a in alerts:
            self.shown.append(a)
            del self.shown[:-100]
            if self._told.get(a.kind, 0.0) < now:
                self.notify(a.text, title="Alert", severity=a.severity,
                            timeout=15 if a.severity == "error" else 8)
            if self.poster is not None and a.kind in self.events:
                self.poster.post(a)

    def observe(self, snapshot, trading_state, state_reason: str, breakers) -> None:
        """The repaint's hook: the latest snapshot, the desk's trading state."""
        acct = snapshot.account
        self.show(self.detector.observe(
            snapshot.ts_ms, margin_ratio=acct.margin_ratio if acct else None,
            trading_state=trading_state, state_reason=state_reason, breakers=breakers))

    def entry(self, entry) -> None:
        """The event log's hook: every new line the desk writes."""
        if (a := self.detector.entry(entry.kind, entry.text, entry.ts_ms)) is not None:
            self.show([a])

    def execution_ended(self, symbol: str, state: str, detail: str, ts_ms: int, *,
                        execution_id: str = "") -> None:
        """For a desk that ends an execution without an "execution" journal line."""
        self.show([execution_ended(symbol, state, detail, ts_ms, execution_id=execution_id)])

    def start(self) -> None:
        """Start the webhook poster as a task on the running loop (not an App worker:
        it runs for the whole session, and a worker would hold every wait for workers)."""
        if self.poster is not None and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.poster.run(),
                                                                name="alerts webhook")
            self._task.add_done_callback(_report_crash)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def _webhook_status(self, ok: bool, line: str) -> None:
        self.notify(line, title="Alerts webhook", severity="information" if ok else "warning")


def _report_crash(task: asyncio.Task) -> None:
    """A poster that stopped on an error says so in the event log (via logging)."""
    if not task.cancelled() and task.exception() is not None:
        logging.getLogger("cockpit.alerts").warning(
            "alerts webhook stopped (%s); alerts stay on screen only",
            type(task.exception()).__name__)  # its message may hold the URL's token
