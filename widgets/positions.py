"""Positions and orders panel: two DataTables updated in place; moving the
cursor onto a row posts ``InstrumentSelected(symbol)``."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from cockpit.model.views import OrderRow, PositionRow, PositionsView
from widgets import format as f
from widgets.cells import Cell, Row
from widgets.messages import InstrumentSelected
from widgets.panel import app_palette
from widgets.table_sync import LiveTable, setup_columns, sync_table

# (header, justify, drop): a narrow panel drops the highest ``drop`` first
POSITION_COLUMNS = (
    ("Instrument", "left"), ("Side", "left", 1), ("Size", "right"), ("Entry", "right", 2),
    ("Mark", "right"), ("PnL $", "right"), ("Lev", "right", 3),
)
ORDER_COLUMNS = (
    ("Instrument", "left"), ("Side", "left"), ("Type", "left", 2), ("Amount", "right"),
    ("Filled", "right", 3), ("Price", "right"), ("Status", "left"), ("Note", "left", 4),
)


def position_rows(view: PositionsView) -> list[Row]:
    return [Row(p.symbol, _position_cells(p)) for p in view.positions]


def _position_cells(p: PositionRow) -> tuple[Cell, ...]:
    return (
        Cell(f.short_symbol(p.symbol)),
        Cell(p.side, "profit" if p.side == "long" else "loss" if p.side == "short" else ""),
        Cell(f.num(p.contracts, p.amount_decimals, sign=True)),
        Cell(f.num(p.entry, p.price_decimals)),
        Cell(f.num(p.mark, p.price_decimals)),
        Cell(f.num(p.pnl_usd, 2, sign=True), f.sign_class(p.pnl_usd)),
        Cell(f.num(p.leverage, 2) + "x" if not f.is_missing(p.leverage) else f.MISSING),
    )


def order_rows(view: PositionsView) -> list[Row]:
    return [Row(o.id, _order_cells(o)) for o in view.orders]


def _order_cells(o: OrderRow) -> tuple[Cell, ...]:
    price = "market" if o.price is None else f.num(o.price, o.price_decimals)
    note = ("reduce-only " if o.reduce_only else "") + o.reason
    return (
        Cell(f.short_symbol(o.symbol)),
        Cell(o.side, "bid" if o.side == "buy" else "ask"),
        Cell(o.type),
        Cell(f.num(o.amount, o.amount_decimals)),
        Cell(f.num(o.filled, o.amount_decimals)),
        Cell(price),
        Cell(o.status, "loss" if o.status == "rejected" else ""),
        Cell(note.strip(), "muted"),
    )


class PositionsPanel(Vertical):
    """Positions (row key = symbol) and open orders (row key = order id).

    ``show(PositionsView)`` updates both tables in place.
    """

    BORDER_TITLE = "Positions and orders"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.view: PositionsView | None = None
        self.previous: PositionsView | None = None
        self._symbols: dict[str, str] = {}  # order id -> symbol
        self._last_selected = ""

    def compose(self) -> ComposeResult:
        yield LiveTable(id="positions-table", cursor_type="row", zebra_stripes=False)
        yield Static("", id="positions-empty", classes="empty-reason")
        yield LiveTable(id="orders-table", cursor_type="row", zebra_stripes=False)
        yield Static("no open orders", id="orders-empty", classes="empty-reason")

    def on_mount(self) -> None:
        setup_columns(self.query_one("#positions-table", DataTable), POSITION_COLUMNS)
        setup_columns(self.query_one("#orders-table", DataTable), ORDER_COLUMNS)
        self.watch(self.app, "theme", lambda _t: self._repaint(force=True), init=False)
        self._repaint()

    def on_resize(self) -> None:
        self._repaint(force=True)  # the columns are fitted to the width

    def show(self, view: PositionsView) -> None:
        self.previous, self.view = self.view, view
        self._symbols = {o.id: o.symbol for o in view.orders}
        if self.is_mounted:
            self._repaint()

    def _repaint(self, force: bool = False) -> None:
        view = self.view or PositionsView(empty_reason="waiting for the first account update")
        prev = None if force else self.previous
        palette = app_palette(self)
        positions = self.query_one("#positions-table", DataTable)
        orders = self.query_one("#orders-table", DataTable)
        width = self.content_size.width or None
        sync_table(positions, position_rows(view), POSITION_COLUMNS, palette,
                   position_rows(prev) if prev else None, width)
        sync_table(orders, order_rows(view), ORDER_COLUMNS, palette,
                   order_rows(prev) if prev else None, width)
        # The table moves its cursor by itself when filled or when rows go;
        # that is not the trader selecting: remember it so it posts nothing.
        self._last_selected = self._cursor_symbol(positions) or self._last_selected
        empty = self.query_one("#positions-empty", Static)
        text = view.empty_reason or "no open positions"
        if getattr(empty, "_cockpit_text", None) != text:  # update() re-lays the screen out
            empty._cockpit_text = text
            empty.update(text)
        empty.display = not view.positions
        self.query_one("#orders-empty", Static).display = not view.orders

    def selected_order_id(self) -> str | None:
        """The order id under the orders table's cursor while that table has focus
        (a key that cancels must act only on a row the trader is looking at)."""
        table = self.query_one("#orders-table", DataTable)
        if not table.has_focus or not table.row_count or \
                not table.is_valid_row_index(table.cursor_row):
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def _cursor_symbol(self, table: DataTable) -> str:
        if not table.row_count or not table.is_valid_row_index(table.cursor_row):
            return ""
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return key if table.id == "positions-table" else self._symbols.get(key, "")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        key = event.row_key.value if event.row_key is not None else None
        if key is None:
            return
        symbol = key if event.data_table.id == "positions-table" else self._symbols.get(key, "")
        if symbol and symbol != self._last_selected:
            self._last_selected = symbol
            self.post_message(InstrumentSelected(symbol))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        # Enter re-selects even the same instrument (e.g. after the app changed it).
        event.stop()
        key = event.row_key.value if event.row_key is not None else None
        table_id = event.data_table.id
        symbol = key if table_id == "positions-table" else self._symbols.get(key or "", "")
        if symbol:
            self._last_selected = symbol
            self.post_message(InstrumentSelected(symbol))
