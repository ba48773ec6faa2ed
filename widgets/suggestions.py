"""Suggestions panel: the engine's resize proposals in a DataTable keyed by
suggestion id. Moving the cursor posts ``SuggestionSelected``; the App's keys
call ``approve_selected`` / ``reject_selected``, which post
``SuggestionApproved`` / ``SuggestionRejected`` — or ``SuggestionRefused``
for a stale proposal, which cannot be approved until the engine refreshes it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from cockpit.model.views import SuggestionRow, SuggestionsView
from widgets import format as f
from widgets.cells import Cell, Row
from widgets.messages import (
    SuggestionApproved,
    SuggestionRefused,
    SuggestionRejected,
    SuggestionSelected,
)
from widgets.panel import app_palette
from widgets.table_sync import LiveTable, setup_columns, sync_table

# (header, justify, drop). "after" columns are the what-if once the orders fill. As
# the panel narrows, what the why line under the table repeats goes first (the
# reason, the slippage, the binding constraint), then the what-ifs; the flag, the
# instrument, the change and the orders always stay.
COLUMNS = (
    ("", "left"), ("Instrument", "left"), ("Now → Target", "right"), ("Orders", "left"),
    ("Binding", "left", 5), ("Slip", "right", 6), ("MR→", "right", 3), ("Liq σ→", "right", 4),
    ("Reason", "left", 7),
)


def suggestion_cells(s: SuggestionRow) -> tuple[Cell, ...]:
    d = s.amount_decimals
    change = f"{f.num(s.current, d, sign=True)} → {f.num(s.target, d, sign=True)}"
    if s.stale:
        flag = Cell("STALE", "amber")
    elif s.reduces_risk:
        flag = Cell("▼ risk", "profit")
    else:
        flag = Cell("▲ risk", "amber")
    reason = f.symbols_in_text(s.reason) + \
        (f" [stale: {s.stale_reason}]" if s.stale and s.stale_reason else "")
    orders = worked_orders(s.style, s.orders)
    return (
        flag,
        Cell(f.short_symbol(s.symbol)),
        Cell(change),
        Cell(orders),
        Cell(s.binding),
        Cell(f.bps(s.slippage_bps)),
        Cell(f.pct(s.margin_ratio_after)),
        Cell(f.sigmas(s.liq_sigmas_after)),
        Cell(reason, "muted"),
    )


def worked_orders(style: str, orders: str) -> str:
    """The orders with how they will be worked: "passive buy 3.300 @ 0.012 RO".
    The style names the order type ("passive" rests a limit, "market" crosses), so
    the type word the order text repeats is left out."""
    if not style:
        return orders
    for word in (" limit", " market"):
        orders = orders.replace(word, "", 1)
    return f"{style} {orders}"


def suggestion_rows(view: SuggestionsView) -> list[Row]:
    return [Row(s.id, suggestion_cells(s), "stale" if s.stale else "") for s in view.rows]


class SuggestionsPanel(Vertical):
    """Suggestions. ``show(SuggestionsView)``; the cursor stays on its suggestion id."""

    BORDER_TITLE = "Suggestions"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.view: SuggestionsView | None = None
        self.previous: SuggestionsView | None = None
        self._last_selected = ""
        self._refreshed_key: str | None = None  # where the last refresh left the cursor

    def compose(self) -> ComposeResult:
        yield LiveTable(id="suggestions-table", cursor_type="row", zebra_stripes=False)
        yield Static("", id="suggestions-empty", classes="empty-reason")
        yield Static("", id="suggestions-why", classes="why")
        yield Static("", id="suggestions-working", classes="why")

    def on_mount(self) -> None:
        setup_columns(self.table, COLUMNS)
        self.watch(self.app, "theme", lambda _t: self._repaint(force=True), init=False)
        self._repaint()

    @property
    def table(self) -> DataTable:
        return self.query_one("#suggestions-table", DataTable)

    def on_resize(self) -> None:
        self._repaint(force=True)  # the columns are fitted to the width

    def show(self, view: SuggestionsView) -> None:
        """Display ``view``. Each engine run issues new ids; when the selected id
        is gone, the cursor follows the new suggestion for the same instrument."""
        before = self.selected() if self.is_mounted else None
        self.previous, self.view = self.view, view
        self.set_class(any(s.stale for s in view.rows), "-stale")
        if not self.is_mounted:
            return
        self._repaint()
        if before is not None and all(s.id != before.id for s in view.rows):
            same = next((s for s in view.rows if s.symbol == before.symbol), None)
            if same is not None:
                self.table.move_cursor(row=self.table.get_row_index(same.id), animate=False)
        now = self.selected()
        self._refreshed_key = now.id if now is not None else None

    def _repaint(self, force: bool = False) -> None:
        view = self.view or SuggestionsView(empty_reason="waiting for the first engine run")
        prev = None if force else self.previous
        sync_table(self.table, suggestion_rows(view), COLUMNS, app_palette(self),
                   suggestion_rows(prev) if prev else None, self.content_size.width or None)
        empty = self.query_one("#suggestions-empty", Static)
        _set_text(empty, view.empty_reason or "no resize proposed: every position is inside its limits")
        empty.display = not view.rows
        working = self.query_one("#suggestions-working", Static)
        _set_text(working, "\n".join(f"exec: {f.symbols_in_text(line)}" for line in view.working))
        working.display = bool(view.working)
        self._show_why()

    def _show_why(self) -> None:
        """The selected suggestion's whole reason, wrapped: the table may be too
        narrow for it, and a suggestion the trader cannot read is not approved."""
        why = self.query_one("#suggestions-why", Static)
        s = self.selected()
        why.display = s is not None
        if s is not None:
            stale = f"  STALE: {s.stale_reason}" if s.stale else ""
            style = f"  ·  {s.style_why} (s switches)" if s.style_why else ""
            usd = f" = {f.usd(s.slippage_usd, 2)}" if s.slippage_usd is not None else ""
            slip = (f"  ·  expected slippage vs mid/mark {f.bps(s.slippage_bps)}{usd}"
                    if s.slippage_bps is not None else "")
            _set_text(why, f"why: {f.symbols_in_text(s.reason)}{stale}{style}{slip}")

    def selected(self) -> SuggestionRow | None:
        """The suggestion under the cursor, or None."""
        table = self.table
        if self.view is None or not table.row_count:
            return None
        if not table.is_valid_row_index(table.cursor_row):
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((s for s in self.view.rows if s.id == key), None)

    def approve_selected(self) -> bool:
        """Post ``SuggestionApproved`` for the selected suggestion if approvable,
        else ``SuggestionRefused`` with the reason. Returns whether it was approved."""
        s = self.selected()
        if s is None:
            return False
        if s.stale:
            why = s.stale_reason or "refresh first"
            self.post_message(SuggestionRefused(s.id, f"stale: {why}"))
            return False
        if not s.approvable:
            self.post_message(SuggestionRefused(s.id, "nothing to trade"))
            return False
        self.post_message(SuggestionApproved(s.id))
        return True

    def reject_selected(self) -> bool:
        s = self.selected()
        if s is None:
            return False
        self.post_message(SuggestionRejected(s.id))
        return True

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_why()
        key = event.row_key.value if event.row_key is not None else None
        # A highlight the refresh itself made lands on the key it left the cursor on.
        by_trader = self.table.has_focus and key != self._refreshed_key
        self._refreshed_key = None
        if key and key != self._last_selected:
            self._last_selected = key
            self.post_message(SuggestionSelected(key, by_trader=by_trader))


def _set_text(static: Static, text: str) -> None:
    """``Static.update`` only when the text changed, and a new layout of the screen
    only when the text's wrapped height changed: each update laid the whole screen
    out again (measured: three a run of the engine, 9-13 ms each)."""
    if getattr(static, "_cockpit_text", None) == text:
        return
    static._cockpit_text = text
    size = static.content_size
    static.update(text, layout=False)
    if not size.width or static.get_content_height(size, static.app.size, size.width) != size.height:
        static.refresh(layout=True)
