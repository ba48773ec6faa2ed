"""The trader's keys, bound to the headless desk (``cockpit.desk``): approvals,
rejections, auto-execute, the kill switch, the trading state, the order ticket
and quit. Mixed into ``CockpitApp``; no trading rule lives here — this module asks
the desk, shows its answer, and confirms what is dangerous."""

from __future__ import annotations

from functools import partial

from textual import work

from cockpit.desk import TradingState, policy_settings
from cockpit.keys import redact
from widgets.confirm import ConfirmScreen
from widgets.messages import (
    InstrumentSelected,
    SuggestionApproved,
    SuggestionRefused,
    SuggestionRejected,
    SuggestionSelected,
)
from widgets.order_entry import OrderTicket
from widgets.positions import PositionsPanel
from widgets.quit import QuitScreen
from widgets.suggestions import SuggestionsPanel


class TradingActions:
    """Key actions and message handlers; every order goes through ``self.desk``."""

    # -- after each engine run -------------------------------------------------------
    def _after_state_change(self) -> None:
        """The policy proposes no increase unless trading is ACTIVE."""
        reduce_only = self.desk.state != TradingState.ACTIVE
        if reduce_only != self._policy_reduce_only:
            self._policy_reduce_only = reduce_only
            self.runner.settings = partial(policy_settings, self.config, reduce_only=reduce_only)

    def _auto_execute(self) -> None:
        if self.desk.auto_candidates():
            self._run_auto()

    @work(group="orders", exit_on_error=False)
    async def _run_auto(self) -> None:
        for report in await self.desk.run_auto():
            if not report.refused:
                self.notify(f"Auto-executed {report.symbol}", title="Auto-execute")
        self._orders_done()

    def _orders_done(self) -> None:
        self._after_state_change()
        self.repaint_all()

    def _show_report(self, report) -> None:
        if report.error and not report.orders:
            title = "Refused" if report.refused else "Not sent"
            self.notify(redact(report.error), title=title, severity="error")

    # -- suggestions ---------------------------------------------------------------------
    @work(group="orders", exit_on_error=False)
    async def send(self, suggestion_id: str) -> None:
        self._show_report(await self.desk.approve(suggestion_id, who="key"))
        self._orders_done()

    def on_suggestion_approved(self, message: SuggestionApproved) -> None:
        self.send(message.suggestion_id)

    def on_suggestion_rejected(self, message: SuggestionRejected) -> None:
        self.desk.reject(message.suggestion_id)
        self.repaint_all()

    def on_suggestion_refused(self, message: SuggestionRefused) -> None:
        self.desk.note("refusal", f"cannot approve: {message.reason}", who="key",
                       execution_id=message.suggestion_id, reason=message.reason)
        self.notify(message.reason, title="Cannot approve", severity="warning")

    def on_suggestion_selected(self, message: SuggestionSelected) -> None:
        """The trader moved the cursor onto a suggestion: its instrument becomes the
        selection (only the trader moves the selection, never an engine run)."""
        self.selected_suggestion = message.suggestion_id
        s = self.desk.book.get(message.suggestion_id)
        if s is not None and message.by_trader and s.symbol != self.selected:
            self.selected = s.symbol
            self._painted_seq = -1  # another instrument: every panel now
        # Otherwise the ladder, repainted every frame, picks up the new row: an
        # engine run's new ids forced a whole-screen repaint (measured: 12-22 ms,
        # the longest callback of the loop, once a run).

    def on_instrument_selected(self, message: InstrumentSelected) -> None:
        if message.symbol != self.selected:
            self.selected = message.symbol
            self._painted_seq = -1

    def action_approve(self) -> None:
        # The App owns the key: ask the panel for its selection and send at once
        # (no message round trip through a busy queue between key and order).
        row = self.main.query_one(SuggestionsPanel).selected()
        if row is None:
            return
        if not row.approvable:
            why = f"stale: {row.stale_reason}" if row.stale else "nothing to trade"
            self.on_suggestion_refused(SuggestionRefused(row.id, why))
            return
        self.send(row.id)

    def action_reject(self) -> None:
        self.main.query_one(SuggestionsPanel).reject_selected()

    @work(group="orders", exit_on_error=False)
    async def action_approve_reducing(self) -> None:
        reports = await self.desk.approve_reducing()
        if not reports:
            self.desk.note("info", "no fresh, verified risk-reducing suggestion to approve",
                           who="key")
        for r in reports:
            self._show_report(r)
        self._orders_done()

    # -- executions and the trader's orders ------------------------------------------------
    def _step_executions(self) -> None:
        """The executions' timer: step them on the market clock (the desk skips one
        that is busy, so a slow venue never runs two steps of it at once)."""
        if self.desk.executor.working():
            self._run_executions()

    @work(group="executions", exit_on_error=False)
    async def _run_executions(self) -> None:
        await self.desk.step_executions()
        self.repaint_soon("suggestions", "positions")  # progress lines and orders changed

    def action_switch_style(self) -> None:
        """``s``: the selected suggestion's next execution style, before approving."""
        row = self.main.query_one(SuggestionsPanel).selected()
        s = self.desk.switch_style(row.id) if row is not None else None
        if s is None:
            self.notify("select a suggestion first", title="Execution style")
            return
        self.notify(f"{s.symbol}: {s.style}" + ("" if s.orders else " (nothing placeable)"),
                    title="Execution style")
        self.repaint_all()

    def action_cancel_order(self) -> None:
        """``c`` on the orders table: cancel that order (a child of a working
        execution cancels the whole execution)."""
        oid = self.main.query_one(PositionsPanel).selected_order_id()
        snap = self.store.snapshot()
        order = next((o for o in (snap.account.open_orders if snap.account else ())
                      if o.id == oid), None)
        if order is None:
            self.notify("focus the orders table (tab) and select an open order",
                        title="Cancel order")
            return
        self._cancel(order)

    def action_amend_order(self) -> None:
        """``e`` on the orders table: amend that resting limit's price and amount."""
        from widgets.amend import AmendScreen

        oid = self.main.query_one(PositionsPanel).selected_order_id()
        snap = self.store.snapshot()
        order = next((o for o in (snap.account.open_orders if snap.account else ())
                      if o.id == oid and o.type == "limit"), None)
        if order is None:
            self.notify("focus the orders table (tab) and select a resting limit",
                        title="Amend order")
            return
        self.push_screen(AmendScreen(order),
                         lambda got: None if got is None else self._amend(order, *got))

    @work(group="orders", exit_on_error=False)
    async def _amend(self, order, price: float, amount: float) -> None:
        self.notify(await self.desk.amend_order(order, price=price, amount=amount, who="key"),
                    title="Amend order")
        self._orders_done()

    @work(group="orders", exit_on_error=False)
    async def _cancel(self, order) -> None:
        self.notify(await self.desk.cancel_selected_order(order), title="Cancel order")
        self._orders_done()

    # -- auto-execute, kill switch, trading state --------------------------------------
    def action_toggle_auto(self) -> None:
        if self.desk.auto_execute:
            self._set_auto(False)
        elif self.desk.auto_confirmed:
            self._set_auto(True)
        else:
            increases = self.config.engine.auto_execute_increases
            self.push_screen(ConfirmScreen(
                "Turn auto-execute ON?",
                detail="Suggestions the what-if verifies as risk-reducing will be sent without "
                "a key press" + ("; increases too ([engine] auto_execute_increases)." if increases
                                 else "; increases still wait for you."),
            ), self._auto_confirmed)

    def _auto_confirmed(self, yes: bool | None) -> None:
        if yes:
            self.desk.auto_confirmed = True
            self._set_auto(True)

    def _set_auto(self, on: bool) -> None:
        if why := self.desk.set_auto(on):
            self.notify(why, title="Auto-execute stays OFF", severity="warning")
        elif on:
            self._auto_execute()
        self.repaint()

    def action_kill(self) -> None:
        self.push_screen(ConfirmScreen(
            "Kill switch?",
            detail="Cancel every open order, turn auto-execute off, and allow only "
            "risk-reducing orders (REDUCING) until you raise the trading state.", yes="Kill",
        ), self._killed)

    def _killed(self, yes: bool | None) -> None:
        if yes:
            self.kill()

    @work(group="kill", exit_on_error=False)
    async def kill(self) -> None:
        # one notice says it all: the state change and the ended executions are in it
        self.alerts.told("trading_state", "execution")
        text = await self.desk.kill()
        self.notify(text, title="Kill switch", severity="error")
        self._orders_done()
        self.kick_engine("kill switch")

    def action_raise_state(self) -> None:
        """Move the trading state up one step, after a confirmation saying what tripped."""
        state = self.desk.state
        if state == TradingState.ACTIVE:
            self.notify("Trading is already ACTIVE", title="Trading state")
            return
        to = TradingState.REDUCING if state == TradingState.HALTED else TradingState.ACTIVE
        if blockers := self.desk.raise_blockers(to):
            self.notify("still tripped: " + "; ".join(blockers), title="Cannot raise",
                        severity="warning")
            return
        self.push_screen(ConfirmScreen(
            f"Raise trading to {to.value.upper()}?",
            detail=f"It is {state.value.upper()} because: {self.desk.state_reason or 'set by you'}.",
            yes="Raise"), partial(self._raise_confirmed, to))

    def _raise_confirmed(self, to: TradingState, yes: bool | None) -> None:
        if not yes:
            return
        if why := self.desk.raise_state(to):
            self.notify(why, title="Cannot raise", severity="warning")
        self._orders_done()
        self.kick_engine("state raised")

    def action_halt(self) -> None:
        self.desk.lower_state(TradingState.HALTED, "halted by the trader", who="trader")
        self.desk.set_auto(False)
        self._orders_done()

    # -- the order ticket ------------------------------------------------------------------
    def action_order(self) -> None:
        """The order ticket for the selected instrument; reviewed before it is sent."""
        if self._quitting:
            return
        snap = self.store.snapshot()
        symbol = self.selected
        if not symbol or symbol not in snap.instruments:
            self.desk.note("info", "select an instrument first (positions table or palette)")
            return
        ticker = snap.tickers.get(symbol)
        pos = snap.account.position(symbol) if snap.account else None
        self.push_screen(OrderTicket(symbol, mark=ticker.mark if ticker else None,
                                     position=pos.contracts if pos else 0.0), self._review_order)

    def _review_order(self, chosen) -> None:
        if chosen is None or self._quitting:
            return
        from cockpit.risk_gate import what_if

        request, style = chosen
        snap = self.store.snapshot()
        price = "market" if request.price is None else f"limit @ {request.price:,.4f}"
        if style != "market":
            price = f"{style} (worked by the executor, [execution])"
        flags = (", reduce-only" if request.reduce_only else "") + \
            (", post-only" if request.post_only else "")
        w = what_if(request, snap)
        inst = snap.instruments.get(request.symbol)
        coin = (f" = {request.amount * inst.contract_size:g} {inst.base}"
                if inst is not None and inst.linear else "")
        after = (f"{request.amount:g} contracts{coin}, notional ${w.notional_usd:,.0f}; after: "
                 f"leverage {w.gross_leverage_after:.2f}x, "
                 f"margin ratio {w.margin_ratio_after:.1%}")
        verdict = self.desk.gate.check(request, snap, self.desk.state,
                                       resting=self.desk._resting(snap))
        self.push_screen(ConfirmScreen(
            f"{request.side.upper()} {request.amount:g} {request.symbol}?",
            detail=f"{price}{flags} — {after} — sent to the {self.runtime.mode} broker"
            + (f"\nWILL BE REFUSED: {verdict}" if verdict else ""), yes="Send",
            danger=self.runtime.mode == "live",
        ), partial(self._order_confirmed, request, style))

    def _order_confirmed(self, request, style: str, yes: bool | None) -> None:
        if yes:
            self.send_manual(request, style)

    @work(group="orders", exit_on_error=False)
    async def send_manual(self, request, style: str = "market") -> None:
        self._show_report(await self.desk.send_ticket(request, style=style))
        self._orders_done()

    # -- quit --------------------------------------------------------------------------------
    async def action_quit(self) -> None:
        situation = self.desk.quit_question()
        if situation is None:
            await self._quit(cancel_resting=False)
            return
        resting = bool(self.desk._resting(self.store.snapshot()))
        self.push_screen(QuitScreen(situation, resting=resting), self._quit_chosen)

    async def _quit_chosen(self, choice: str | None) -> None:
        if choice:
            await self._quit(cancel_resting=choice == "cancel")

    async def _quit(self, *, cancel_resting: bool) -> None:
        self._quitting = True
        disarm = await self.desk.before_quit(cancel_resting=cancel_resting)
        await self.close_broker(disarm_dead_man=disarm)
        self.exit()
