"""What the trader does: approvals, rejections, auto-execute, the kill switch and
the order ticket. Mixed into ``CockpitApp``; every order goes through
``cockpit.execution`` (the risk gate in front of the broker)."""

from __future__ import annotations

from functools import partial

from textual import work

from cockpit.execution import execute, send_order
from cockpit.keys import redact
from cockpit.session import policy_settings
from widgets.confirm import ConfirmScreen
from widgets.messages import (
    InstrumentSelected,
    SuggestionApproved,
    SuggestionRefused,
    SuggestionRejected,
    SuggestionSelected,
)
from widgets.order_entry import OrderTicket
from widgets.suggestions import SuggestionsPanel


class TradingActions:
    """Key actions and message handlers that turn suggestions into orders."""

    # -- orders ----------------------------------------------------------------------
    def _auto_execute(self) -> None:
        snap = self.store.snapshot()
        for s in self.session.auto_candidates(snap):
            self.session.mark_sent(s.id)
            self._log("auto", f"auto-execute: {s.decision.reason}")
            self.notify(f"Auto-executing: {s.decision.reason}", title="Auto-execute")
            self.send(s.id, s, auto=True)

    @work(group="orders", exit_on_error=False)
    async def send(self, suggestion_id: str, suggestion=None, *, auto: bool = False) -> None:
        s = suggestion or self.session.book.get(suggestion_id)
        if s is None:
            self._log("error", "that suggestion is gone; wait for the next run")
            return
        report = await execute(s, self.runtime.broker, self.store.snapshot(), self.session.gate,
                               auto=auto)
        ts = self.store.snapshot().ts_ms
        if report.orders or not report.error:
            self.session.mark_sent(s.id)
        for e in self.session.report_entries(report, ts):
            self._log(e.kind, e.text)
        if report.error and not report.orders:
            self.notify(redact(report.error), title="Not sent", severity="error")
        self._painted_seq = -1
        self.repaint()

    def on_suggestion_approved(self, message: SuggestionApproved) -> None:
        s = self.session.book.get(message.suggestion_id)
        if s is not None:
            self._log("approval", f"approved: {s.decision.reason}")
        self.send(message.suggestion_id)

    def on_suggestion_rejected(self, message: SuggestionRejected) -> None:
        s = self.session.book.reject(message.suggestion_id, self.store.snapshot().ts_ms)
        if s is not None:
            self._log("rejection", f"rejected: {s.decision.reason}")
        self._painted_seq = -1
        self.repaint()

    def on_suggestion_refused(self, message: SuggestionRefused) -> None:
        self._log("error", f"cannot approve: {message.reason}")
        self.notify(message.reason, title="Cannot approve", severity="warning")

    def on_suggestion_selected(self, message: SuggestionSelected) -> None:
        if message.suggestion_id == self.selected_suggestion:
            return
        self.selected_suggestion = message.suggestion_id
        s = self.session.book.get(message.suggestion_id)
        if s is not None:
            self.selected = s.symbol
        self._painted_seq = -1

    def on_instrument_selected(self, message: InstrumentSelected) -> None:
        if message.symbol != self.selected:
            self.selected = message.symbol
            self._painted_seq = -1

    # -- actions -------------------------------------------------------------------
    def action_approve(self) -> None:
        # The App owns the key: ask the panel for its selection and send at once
        # (no message round trip through a busy queue between key and order).
        panel = self.main.query_one(SuggestionsPanel)
        row = panel.selected()
        if row is None:
            return
        if not row.approvable:
            why = f"stale: {row.stale_reason}" if row.stale else "nothing to trade"
            self.on_suggestion_refused(SuggestionRefused(row.id, why))
            return
        self.on_suggestion_approved(SuggestionApproved(row.id))

    def action_reject(self) -> None:
        self.main.query_one(SuggestionsPanel).reject_selected()

    def action_approve_reducing(self) -> None:
        snap = self.store.snapshot()
        picked = [s for s in self.session.book if s.reduces_risk
                  and self.session.gate.check(s, snap, auto=False) is None]
        if not picked:
            self._log("info", "no fresh risk-reducing suggestion to approve")
            return
        for s in picked:
            self._log("approval", f"approved: {s.decision.reason}")
            self.send(s.id, s)

    def action_toggle_auto(self) -> None:
        if self.session.auto_execute:
            self._set_auto(False)
        elif self.session.auto_confirmed:
            self._set_auto(True)
        else:
            self.push_screen(ConfirmScreen(
                "Turn auto-execute ON?",
                detail="Risk-reducing suggestions will be sent without a key press"
                + ("" if self.config.engine.auto_execute_increases else "; increases still wait for you")
                + ".",
            ), self._auto_confirmed)

    def _auto_confirmed(self, yes: bool | None) -> None:
        if yes:
            self.session.auto_confirmed = True
            self._set_auto(True)

    def _set_auto(self, on: bool) -> None:
        self.session.auto_execute = on
        self._log("auto", f"auto-execute {'ON' if on else 'OFF'}")
        if on:
            self._auto_execute()
        self.repaint()

    def action_kill(self) -> None:
        self.push_screen(ConfirmScreen(
            "Kill switch?",
            detail="Cancel every open order, turn auto-execute off, and allow only "
            "risk-reducing orders until restart.", yes="Kill",
        ), self._killed)

    async def _killed(self, yes: bool | None) -> None:
        if yes:
            await self.kill()

    async def kill(self) -> None:
        self.session.auto_execute = False
        self.session.gate.reduce_only = True
        self.runner.settings = partial(policy_settings, self.config, reduce_only=True)
        try:
            cancelled = await self.runtime.broker.cancel_all_orders()
            self._log("error", f"KILL SWITCH: {len(cancelled)} order(s) cancelled, "
                      "auto-execute OFF, reduce-only")
        except Exception as exc:
            self._log("error", f"KILL SWITCH: cancel-all failed ({exc}); auto-execute OFF")
        self._painted_seq = -1
        self.repaint()
        self.kick_engine("kill switch")

    def action_order(self) -> None:
        """The order ticket for the selected instrument; the order is reviewed in a
        confirmation before it is sent."""
        snap = self.store.snapshot()
        symbol = self.selected
        if not symbol or symbol not in snap.instruments:
            self._log("info", "select an instrument first (positions table or command palette)")
            return
        ticker = snap.tickers.get(symbol)
        pos = snap.account.position(symbol) if snap.account else None
        self.push_screen(OrderTicket(symbol, mark=ticker.mark if ticker else None,
                                     position=pos.contracts if pos else 0.0), self._review_order)

    def _review_order(self, request) -> None:
        if request is None:
            return
        price = "market" if request.price is None else f"limit @ {request.price:,.4f}"
        flags = ", reduce-only" if request.reduce_only else ""
        self.push_screen(ConfirmScreen(
            f"{request.side.upper()} {request.amount:g} {request.symbol}?",
            detail=f"{price}{flags} — sent to the {self.runtime.mode} broker", yes="Send",
            danger=self.runtime.mode == "live",
        ), partial(self._order_confirmed, request))

    def _order_confirmed(self, request, yes: bool | None) -> None:
        if yes:
            self.send_manual(request)

    @work(group="orders", exit_on_error=False)
    async def send_manual(self, request) -> None:
        report = await send_order(request, self.runtime.broker, self.store.snapshot(),
                                  self.session.gate)
        for e in self.session.report_entries(report, self.store.snapshot().ts_ms):
            self._log(e.kind, e.text)
        if report.error:
            self.notify(redact(report.error), title="Not sent", severity="error")
        self.repaint_all()
