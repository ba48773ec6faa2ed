"""The Textual App: wiring only — screens, bindings, workers, message handlers.

Data flow (DESIGN.md): the feed pushes into the Store; a steady timer repaints
the panels from the latest snapshot (a burst of ticks is one repaint); the
engine runs in a thread worker, one run at a time, and its result comes back
as a message to the headless desk (``cockpit.desk``), which owns every trading
rule; the keys (``cockpit.trading``) ask the desk.
"""

from __future__ import annotations

import gc
import logging
import time
from collections import deque
from dataclasses import replace
from functools import partial

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.worker import Worker, WorkerState

from cockpit import chain_screen, serve_token, theming, views
from cockpit.alerts import Alerts
from cockpit.desk import Desk, policy_settings
from cockpit.engine import EngineResult, EngineRunner
from cockpit.keys import redact
from cockpit.model import Snapshot
from cockpit.model.views import LogEntry, SuggestionsView
from cockpit.prefs import load_prefs, save_pref
from cockpit.runtime import Runtime
from cockpit.screen import SLOW_PANELS, MainScreen
from cockpit.trading import TradingActions
from widgets.event_log import EventLog
from widgets.help import HelpScreen
from widgets.status import StatusBar


class EngineDone(Message):
    def __init__(self, result: EngineResult, snapshot: Snapshot) -> None:
        super().__init__()
        self.result = result
        self.snapshot = snapshot


class _LogBridge(logging.Handler):
    """Warnings from any thread reach the event log via a queue the repaint drains."""

    def __init__(self, sink: deque) -> None:
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(LogEntry(0, "error", record.getMessage().splitlines()[0][:200]))


class CockpitApp(TradingActions, App):
    CSS_PATH = theming.CSS_PATH
    TITLE = "Cockpit"
    BINDINGS = [
        Binding("a", "approve", "Approve", id="approve"),
        Binding("x", "reject", "Reject", id="reject"),
        Binding("R", "approve_reducing", "Approve reducing", id="approve_reducing"),
        Binding("A", "toggle_auto", "Auto-exec", id="toggle_auto"),
        Binding("k", "kill", "Kill switch", id="kill"),
        Binding("T", "raise_state", "Raise state", id="raise_state"),
        Binding("o", "order", "Order", id="order"),
        Binding("s", "switch_style", "Style", id="switch_style"),
        Binding("c", "cancel_order", "Cancel order", id="cancel_order"),
        # off the footer (it would push q Quit out at 160 columns): the panel title and ? say it
        Binding("e", "amend_order", "Amend order", id="amend_order", show=False),
        Binding("S", "stress", "Stress", id="stress"),
        # off the footer too (q Quit must stay at 160 columns): the Volatility title and ? say it
        Binding("C", "chain", "Option chain", id="chain", show=False),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(self, runtime: Runtime, *, start_feed: bool = True,
                 engine_interval_s: float | None = None, remember_theme: bool = True,
                 monotonic=time.monotonic, engine_timer=time.perf_counter,
                 theme: str | None = None, quick_first_run: bool = True,
                 forecast_process: bool | None = None) -> None:
        super().__init__()
        self.theme_arg = theme
        self.runtime = runtime
        self.store = runtime.store
        self.config = runtime.config
        self.desk = Desk(runtime.config, runtime.store, runtime.broker, runtime.journal,
                         live=runtime.mode == "live", on_entry=self._show_entry,
                         gate=getattr(runtime, "gate", None))
        self.alerts = Alerts(runtime.config, self.notify)  # on screen and to [alerts]
        self.monotonic = monotonic  # injectable: snapshot tests freeze the clock
        if forecast_process is None:
            forecast_process = runtime.config.engine.forecast_process
        self.runner = EngineRunner(partial(policy_settings, runtime.config), timer=engine_timer,
                                   forecast_process=forecast_process)
        self.runner.quick_first_run = quick_first_run
        self.start_feed = start_feed
        self.engine_interval_s = engine_interval_s or runtime.config.engine.interval_s
        self.remember_theme = remember_theme
        self.selected: str | None = None
        self.selected_suggestion: str | None = None
        self._painted_seq = -1
        self._rotation = 0
        self._due: list[str] = []  # account panels to repaint before the rotation goes on
        self._broker_closed = False
        self._quitting = False
        self._policy_reduce_only = False
        self._gc_frozen = False
        self._started = False
        self._engine_busy = False
        self._engine_pending = False
        self._engine_started = 0.0
        self._last_kick = self.monotonic()
        self._last_fills = -1
        self._run_marks: dict[str, float] = {}
        self._log_queue: deque[LogEntry] = deque(maxlen=200)
        self._bridge = _LogBridge(self._log_queue)
        self.first_paint_s: float | None = None
        self._t0 = time.perf_counter()

    # -- set-up --------------------------------------------------------------------
    def get_default_screen(self) -> MainScreen:
        return MainScreen()

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return theming.theme_variable_defaults()

    def on_mount(self) -> None:
        theming.register_themes(self)
        prefs = load_prefs() if self.remember_theme else {}
        wanted = self.theme_arg or self.config.display.theme or prefs.get("theme") or ""
        self.theme = theming.theme_name(wanted, self.available_themes) or theming.DEFAULT_THEME
        if self.config.keymap:
            self.set_keymap(self.config.keymap)
        serve_token.ask_token_if_served_live(self)  # live in a browser: the token again, first
        logging.getLogger("cockpit").addHandler(self._bridge)
        for note in self.runtime.notes:
            self.desk.note("info", note, who="start")
        self.alerts.start()  # the webhook poster's task, when [alerts] names one
        if self.start_feed:
            self.run_worker(self.runtime.feed.run(self.store), name="feed", group="feed",
                            exit_on_error=False, description="market feed")
            broker_run = getattr(self.runtime.broker, "run", None)
            if broker_run is not None:  # a live broker polls its account and keeps the dead-man switch
                self.run_worker(broker_run(self.store), name="broker", group="feed",
                                exit_on_error=False, description="account")
        self.call_after_refresh(self._start)

    def _start(self) -> None:
        self._started = True
        log_widget = self.main.query_one(EventLog)
        for entry in self.desk.log:  # the journal's tail: a restart keeps its history
            log_widget.add(entry)
        self.set_interval(1.0 / self.config.display.refresh_hz, self.repaint)
        self.set_interval(self.engine_interval_s, self._cadence)
        self.set_interval(0.25, self._step_executions)  # executions: on the market clock
        self.repaint()
        self.reconcile()
        self.kick_engine("start")

    def _cadence(self) -> None:
        if not self.desk.reconciled:
            self.reconcile()
        self.desk.sync_account()  # funding and resting fills reach the journal
        self.kick_engine("cadence")

    @work(group="reconcile", exclusive=True, exit_on_error=False)
    async def reconcile(self) -> None:
        if await self.desk.reconcile():
            self._after_state_change()
            self.repaint_all()

    def watch_theme(self, theme: str) -> None:
        if self.remember_theme and self.is_mounted:
            save_pref("theme", theme)

    async def close_broker(self, *, disarm_dead_man: bool) -> None:
        """Close the broker; a live venue's dead-man switch is disarmed only when
        the desk says no order of ours was meant to be cancelled by it."""
        if self._broker_closed:
            return
        self._broker_closed = True
        try:
            await self.runtime.broker.aclose(disarm_dead_man=disarm_dead_man)
        except Exception as exc:
            logging.getLogger("cockpit").warning("broker close failed: %s", exc)

    # Set by the CLI (None under --debug): an unexpected error ends the app with this
    # one line, the traceback going to the log file, never to the trader's terminal.
    crash_line = None

    def _handle_exception(self, error: Exception) -> None:
        if self.crash_line is None:
            return super()._handle_exception(error)
        logging.getLogger("cockpit").error("unexpected error in the app", exc_info=error)
        self._return_code = 1
        if self._exception is None:  # what Textual's test harness re-raises
            self._exception = error
            self._exception_event.set()
        self.exit(return_code=1, message=self.crash_line(error))

    def on_unmount(self) -> None:
        logging.getLogger("cockpit").removeHandler(self._bridge)
        self.alerts.stop()
        if not self._broker_closed:
            self._broker_closed = True
            self.runtime.broker.close()
        self.runner.close()
        self.runtime.journal.close()

    # -- repaint -------------------------------------------------------------------
    @property
    def main(self) -> MainScreen:
        return self.screen_stack[0]

    def _underlying(self, symbol: str | None) -> str:
        inst = self.store.snapshot().instruments.get(symbol or "")
        return (inst.underlying or inst.base) if inst else "BTC"

    def _default_selection(self, snap: Snapshot) -> str | None:
        acct = snap.account
        for p in acct.positions if acct else ():
            inst = snap.instruments.get(p.symbol)
            if inst and not inst.is_option and p.symbol in snap.books:
                return p.symbol
        return next(iter(snap.books), None)

    def repaint(self) -> None:
        """Coalesced: the panels are rebuilt only when the snapshot changed."""
        if not self._started or not self.is_running:
            return
        while self._log_queue:
            e = self._log_queue.popleft()
            self._log(e.kind, e.text)
        snap = self.store.snapshot()
        screen = self.main
        if snap.seq != self._painted_seq or self._due:
            forced = self._painted_seq == -1
            self._painted_seq = snap.seq
            if self.selected is None:
                self.selected = self._default_selection(snap)
            forecasts = self.desk.last_result.forecasts if self.desk.last_result else {}
            eng = self.config.engine
            sugg = views.suggestions_view(self.desk.book, snap,
                                          max_age_s=eng.suggestion_max_age_s,
                                          max_move_bps=eng.suggestion_max_move_bps)
            result = self.desk.last_result
            if result is None:  # not "inside its limits": not judged yet
                sugg = SuggestionsView(empty_reason="waiting for the first engine run")
            elif result.error and not sugg.rows:  # a failing engine judged nothing
                sugg = SuggestionsView(empty_reason=f"engine failing: {result.error} — "
                                       "no suggestions until it runs again; see the log")
            sugg = replace(sugg, working=self.desk.execution_lines())
            row = next((r for r in sugg.rows if r.id == self.selected_suggestion), None)
            if forced:
                which = SLOW_PANELS
                self._due.clear()
            elif self._due:  # a panel whose content changed off the market's clock
                which = (self._due.pop(0),)
            else:  # one account panel per frame, in turn
                self._rotation = (self._rotation + 1) % len(SLOW_PANELS)
                which = (SLOW_PANELS[self._rotation],)
            # The ladder and this frame's account panel together: one compositor pass
            # a tick. Shown half a frame apart they made two passes a tick for no
            # gain once each frame had become short (measured at 50 updates/s: lag
            # p99 6.0-7.6 ms together, 5.9-7.0 apart; at 10 Hz 1.5-2 points of a
            # core less). A margin solve due now goes ahead and its panel follows.
            deferred = screen.show_market(
                snap, forecasts=forecasts, selected=self.selected,
                underlying=self._underlying(self.selected),
                suggestion_row=row if row and row.symbol == self.selected else None,
                suggestions=sugg, config=self.config, which=which, defer_solve=not forced)
            for panel in reversed(deferred):
                if panel not in self._due:
                    self._due.insert(0, panel)  # the next frame, ahead of the rotation
            self._triggers(snap)
            if self.first_paint_s is None and snap.account is not None:
                self.first_paint_s = time.perf_counter() - self._t0
        screen.query_one(StatusBar).show(self._status(snap))
        self.alerts.observe(snap, self.desk.states.state, self.desk.states.reason,
                            self._breakers())

    def repaint_soon(self, *panels: str) -> None:
        """Repaint these account panels on the coming frames, one a frame, ahead of
        the rotation: for changes the trader did not key (an engine run, an
        execution's step). A forced repaint of everything would make that frame
        draw the whole screen (measured: a 50 ms repaint and a 24 ms compositor
        frame after every engine run at 50 updates/s)."""
        self._due.extend(p for p in panels if p not in self._due)

    def repaint_all(self) -> None:
        """Rebuild every panel now (not one account panel per frame)."""
        self._painted_seq = -1
        self.repaint()

    def _status(self, snap: Snapshot):
        r = self.desk.last_result
        next_s = max(self.engine_interval_s - (self.monotonic() - self._last_kick), 0.0)
        state = "running" if self._engine_busy else "waiting" if r is None else (
            "failed" if r.error else "idle")
        return views.status_view(
            snap, engine_state=state, engine_last_run_ms=r.snapshot_ts_ms if r else None,
            engine_duration_ms=r.duration_ms if r else None, engine_next_run_s=next_s,
            engine_error=(r.error or "") if r else "", auto_execute=self.desk.auto_execute,
            breakers=self._breakers(), trading_state=self.desk.state.value,
            trading_reason=self.desk.state_reason,
        )

    def _breakers(self) -> tuple[str, ...]:
        names: list[str] = []
        for d in self.desk.last_result.decisions if self.desk.last_result else ():
            for b in getattr(d, "breakers", ()):
                if b not in names and b not in ("trading state not ACTIVE", "increases disabled"):
                    names.append(b)
        return tuple(names)

    def _triggers(self, snap: Snapshot) -> None:
        """Run the engine at once on a fill or a big move, not only on its cadence."""
        acct = snap.account
        n = len(acct.fills) + acct.liquidations if acct else 0
        if self._last_fills >= 0 and n != self._last_fills:
            self.desk.sync_account()
            self.kick_engine("fill")
        self._last_fills = n
        big = self.config.engine.big_move_bps
        for sym, ref in self._run_marks.items():
            t = snap.tickers.get(sym)
            if t is not None and ref > 0 and abs(t.mark / ref - 1) * 1e4 > big:
                self.kick_engine(f"{sym} moved > {big:.0f} bps")
                break

    # -- the engine ------------------------------------------------------------------
    def kick_engine(self, why: str) -> None:
        """At most one run at a time; a kick while running queues one more run,
        which will take the newest snapshot (older queued ones are superseded)."""
        self._last_kick = self.monotonic()
        if self._engine_busy:
            self._engine_pending = True
            return
        self._engine_busy = True
        snap = self.store.snapshot()
        acct = snap.account
        self._run_marks = {p.symbol: snap.tickers[p.symbol].mark for p in (acct.positions if acct else ())
                           if p.symbol in snap.tickers}
        self.run_worker(partial(self._engine_work, snap), thread=True, group="engine",
                        exit_on_error=False, description=f"engine ({why})")

    def _engine_work(self, snap: Snapshot) -> None:
        self.post_message(EngineDone(self.runner.run(snap), snap))

    def on_engine_done(self, message: EngineDone) -> None:
        self._engine_busy = False
        if not self._gc_frozen:
            # Everything alive now (Textual, numpy, scipy, arch, the demo's history)
            # lives for the whole session; moving it out of the cyclic collector's
            # reach turns 150-230 ms full collections into tens of ms (measured).
            # Again after the first full run: what it imported lazily (arch and
            # pandas when the refits run in this process) left 110,000 objects in
            # the oldest generation, whose collections then took 72-83 ms.
            self._gc_frozen = not message.result.provisional
            gc.freeze()
        self.desk.on_result(message.result, self.store.snapshot())
        self._after_state_change()
        self.repaint_soon("suggestions")
        self._auto_execute()
        if message.result.provisional:
            self._engine_pending = True  # the GARCH run follows the quick first one
        if self._engine_pending:
            self._engine_pending = False
            self.kick_engine("queued")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "engine" and event.state == WorkerState.ERROR:
            self._engine_busy = False
            self.desk.book.mark_failed(str(event.worker.error))
            self._log("error", f"engine worker failed: {event.worker.error}")
        elif event.worker.group == "feed" and event.state == WorkerState.ERROR:
            self._log("error", f"market feed stopped: {event.worker.error}")

    def action_help(self) -> None:
        self.push_screen(HelpScreen.for_app(self))

    def action_stress(self) -> None:
        """The stress grid and portfolio VaR/CVaR of the account as it is now."""
        from cockpit.views import stress_view
        from widgets.panel import app_palette
        from widgets.stress import StressScreen

        result = self.desk.last_result
        view = stress_view(self.store.snapshot(), result.forecasts if result else None)
        self.push_screen(StressScreen(view, app_palette(self)))

    def action_chain(self) -> None:
        """The option chain of the selected underlying; a pick becomes the selection."""
        chain_screen.open_chain(self)

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        yield SystemCommand("Option chain (C)", "Expiries x strikes, IV, delta, the smile; "
                            "enter selects a strike", self.action_chain)
        for title, help_text, callback in chain_screen.instrument_commands(self):
            yield SystemCommand(title, help_text, callback)
        state = self.desk.state.value.upper()
        yield SystemCommand(f"Trading state: {state} — halt (no orders, cancels only)",
                            "Stop every order until you raise the state again", self.action_halt)
        yield SystemCommand(f"Trading state: {state} — raise one step (T)",
                            "Asks first and says what lowered it", self.action_raise_state)
        mode = self.runtime.mode.upper()
        yield SystemCommand(f"Mode: {mode}", "How to switch: cockpit --venue NAME --paper | --live",
                            partial(self.notify, "Modes are chosen at start: cockpit (demo), "
                                    "--venue NAME --paper, --venue NAME --live, --replay FILE"))

    # -- log -------------------------------------------------------------------------
    def _log(self, kind: str, text: str) -> None:
        """A line for the event log only (not the journal): warnings from the log."""
        entry = LogEntry(self.store.snapshot().ts_ms, kind, redact(text))
        self.desk.log.append(entry)
        self._show_entry(entry)

    def _show_entry(self, entry: LogEntry) -> None:
        self.alerts.entry(entry)  # a liquidation, an expiry, an execution's end
        if not self._started:
            return  # _start fills the panel from desk.log
        try:
            self.main.query_one(EventLog).add(entry)
        except Exception:  # the screen is going away
            pass
