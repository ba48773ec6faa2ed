"""The option chain screen: one expiry at a time as Deribit lays it out — calls
left, the strike in the middle, puts right, a line at the forward — and under it
the smile of every expiry as a text plot (IV against strike).

The screen is handed a ``source(venue, underlying) -> ChainView`` and asks it a
few times a second; it computes nothing. Enter on a quote dismisses with that
option's symbol (the App selects it for the depth panel and the ticket); ``o``
does the same and opens the ticket at once. Left of the strike is the call, right
the put; on the strike column itself, the out-of-the-money one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import groupby

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Static

from cockpit.model.views import ChainExpiry, ChainQuote, ChainView
from widgets import format as f
from widgets.cells import Cell, Row
from widgets.palette import DEFAULT_PALETTE, Palette, style
from widgets.table_sync import LiveTable, setup_columns, sync_table

SIDE = (("OI", "right"), ("Delta", "right"), ("IV", "right"),
        ("Bid", "right"), ("Mark", "right"), ("Ask", "right"))
COLUMNS = (*SIDE, ("Strike", "right"), *reversed(SIDE))
STRIKE_COLUMN = len(SIDE)
FORWARD_KEY = "forward"
MARKERS = "●123456789"  # the selected expiry, then the others by their tab number

ChainSource = Callable[[str | None, str | None], ChainView]


def _side_cells(q: ChainQuote | None) -> list[Cell]:
    if q is None:
        return [Cell(f.MISSING)] * len(SIDE)
    d = q.price_decimals
    mark = f.num(q.mark, d)
    return [
        Cell(f.num(q.open_interest, 1)),
        Cell(f.num(q.delta, 2, sign=True)),
        Cell(f.pct(q.iv, 1)),
        Cell(f.num(q.bid, d), "bid"),
        Cell(("● " if q.held else "") + mark, "header"),
        Cell(f.num(q.ask, d), "ask"),
    ]


def chain_rows(expiry: ChainExpiry) -> list[Row]:
    """Rows keyed by strike ("90000"), with the forward's line where it falls."""
    rows: list[Row] = []
    fwd = expiry.forward
    for r in expiry.rows:
        if fwd is not None and r.strike >= fwd and not any(x.key == FORWARD_KEY for x in rows):
            rows.append(_forward_row(fwd))
        call = _side_cells(r.call)
        put = _side_cells(r.put)
        rows.append(Row(f"{r.strike:g}", (*call, Cell(f"{r.strike:,.0f}", "header"),
                                           *reversed(put))))
    if fwd is not None and not any(x.key == FORWARD_KEY for x in rows):
        rows.append(_forward_row(fwd))
    return rows


def _forward_row(forward: float) -> Row:
    """The line between strikes where the forward is: in-the-money calls above it."""
    dash = [Cell("─" * 5, "muted")] * len(SIDE)
    return Row(FORWARD_KEY, (*dash, Cell(f"fwd {forward:,.0f}", "amber"), *dash))


def quote_at(expiry: ChainExpiry, strike_key: str, column: int) -> ChainQuote | None:
    """The option under the cursor: call left of the strike, put right; on the
    strike itself the out-of-the-money one (a call at or above the forward)."""
    row = next((r for r in expiry.rows if f"{r.strike:g}" == strike_key), None)
    if row is None:
        return None
    if column < STRIKE_COLUMN:
        return row.call
    if column > STRIKE_COLUMN:
        return row.put
    otm_call = expiry.forward is None or row.strike >= expiry.forward
    return (row.call or row.put) if otm_call else (row.put or row.call)


def expiry_tabs(view: ChainView, selected: int, palette: Palette = DEFAULT_PALETTE) -> Text:
    """One line: each expiry with its marker, days and ATM IV; the selected one bold."""
    text = Text(no_wrap=True, overflow="ellipsis")
    for i, e in enumerate(view.expiries):
        marker = MARKERS[0] if i == selected else MARKERS[min(i + 1, len(MARKERS) - 1)]
        label = f" {marker} {e.label} {f.duration_days(e.days)} ATM {f.pct(e.atm_iv, 1)} "
        text.append(label, style="reverse bold" if i == selected else style(palette, "muted"))
        text.append(" ")
    return text


def render_smile(expiries: Sequence[ChainExpiry], selected: int, width: int, height: int,
                 palette: Palette = DEFAULT_PALETTE) -> Text:
    """IV (%) against strike for every expiry, as characters: the selected expiry
    ``●`` on top, the others their tab number; a ``│`` at the selected forward."""
    points = [(i, k, v) for i, e in enumerate(expiries) for k, v in e.smile]
    if not points or width < 20 or height < 4:
        return Text("no implied vols to plot", style=style(palette, "muted"))
    y_label = 7
    cols, rows = width - y_label, height - 2
    ks = [k for _, k, _ in points]
    vs = [v for _, _, v in points]
    k_lo, k_hi = min(ks), max(ks)
    v_lo, v_hi = min(vs), max(vs)
    if v_hi - v_lo < 1e-9:
        v_lo, v_hi = v_lo - 0.01, v_hi + 0.01

    def x_of(k: float) -> int:
        return 0 if k_hi == k_lo else round((k - k_lo) / (k_hi - k_lo) * (cols - 1))

    def y_of(v: float) -> int:
        return rows - 1 - round((v - v_lo) / (v_hi - v_lo) * (rows - 1))

    grid: list[list[tuple[str, str]]] = [[(" ", "")] * cols for _ in range(rows)]
    fwd = expiries[selected].forward if 0 <= selected < len(expiries) else None
    if fwd is not None and k_lo <= fwd <= k_hi:
        for y in range(rows):
            grid[y][x_of(fwd)] = ("│", style(palette, "amber"))
    # the others first, the selected expiry last so it is on top
    for i, k, v in sorted(points, key=lambda p: p[0] == selected):
        mark = MARKERS[0] if i == selected else MARKERS[min(i + 1, len(MARKERS) - 1)]
        look = "bold" if i == selected else style(palette, "muted")
        grid[y_of(v)][x_of(k)] = (mark, look)
    out = Text(no_wrap=True, overflow="crop")
    for y, line in enumerate(grid):
        v = v_hi - y / max(rows - 1, 1) * (v_hi - v_lo)
        label = f.pct(v, 0) if y in (0, rows // 2, rows - 1) else ""
        out.append(label.rjust(y_label - 2) + " ┤" if label else " " * (y_label - 1) + "│")
        for look, run in groupby(line, key=lambda cell: cell[1]):  # one span per style run
            out.append("".join(ch for ch, _ in run), style=look)
        out.append("\n")
    axis = [" "] * cols
    for k in (k_lo, fwd, k_hi):
        if k is None or not k_lo <= k <= k_hi:
            continue
        lab = f.compact_usd(k).lstrip("$")
        x = min(max(x_of(k) - len(lab) // 2, 0), cols - len(lab))
        axis[x:x + len(lab)] = lab
    out.append(" " * (y_label - 1) + "└" + "─" * cols + "\n")
    out.append(" " * y_label + "".join(axis) + "  strike", style=style(palette, "muted"))
    return out


class SmilePlot(Widget):
    """The smile text plot, drawn to the widget's size."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.expiries: tuple[ChainExpiry, ...] = ()
        self.selected = 0
        self.palette: Palette = DEFAULT_PALETTE

    def show(self, expiries: tuple[ChainExpiry, ...], selected: int, palette: Palette) -> None:
        if (expiries, selected) != (self.expiries, self.selected):
            self.expiries, self.selected, self.palette = expiries, selected, palette
            self.refresh()

    def render(self) -> Text:
        return render_smile(self.expiries, self.selected, self.size.width, self.size.height,
                            self.palette)


class ChainScreen(Screen[tuple[str, bool] | None]):
    """The chain; dismisses with (symbol, open the ticket) or None (back)."""

    DEFAULT_CSS = """
    ChainScreen { layout: vertical; }
    ChainScreen #chain-title { height: 1; padding: 0 1; text-style: bold; }
    ChainScreen #chain-tabs { height: 1; padding: 0 1; }
    ChainScreen #chain-table { height: auto; max-height: 65%; min-height: 6; }
    ChainScreen #chain-table > .datatable--cursor { background: $primary 40%; }
    ChainScreen #chain-hint { height: 1; padding: 0 1; color: $foreground-muted; }
    ChainScreen #chain-smile { height: 1fr; min-height: 8; padding: 0 1; }
    """

    BINDINGS = [
        Binding("escape,q", "close", "Back", id="chain.close"),
        Binding("right_square_bracket", "expiry(1)", "Next expiry", id="chain.next_expiry"),
        Binding("left_square_bracket", "expiry(-1)", "Prev expiry", id="chain.prev_expiry"),
        Binding("u", "next_underlying", "Underlying", id="chain.underlying"),
        Binding("o", "order", "Order it", id="chain.order"),
    ]

    def __init__(self, source: ChainSource, *, venue: str | None = None,
                 underlying: str | None = None, selected: str | None = None,
                 palette: Palette = DEFAULT_PALETTE, refresh_s: float = 0.25) -> None:
        super().__init__()
        self.source = source
        self.venue, self.underlying = venue, underlying
        self.initial = selected
        self.palette = palette
        self.refresh_s = refresh_s
        self.view: ChainView | None = None
        self.expiry_index = 0
        self._shown: tuple | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="chain-title")
        yield Static("", id="chain-tabs")
        yield LiveTable(id="chain-table", cursor_type="cell", zebra_stripes=False)
        yield Static("", id="chain-hint")
        yield SmilePlot(id="chain-smile")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        setup_columns(table, COLUMNS)
        self._pull()
        self._place_cursor(self.initial)
        table.focus()
        self.set_interval(self.refresh_s, self._pull)

    # -- data ----------------------------------------------------------------------
    def _pull(self) -> None:
        view = self.source(self.venue, self.underlying)
        self.venue, self.underlying = view.venue, view.underlying
        self.show(view)

    def show(self, view: ChainView) -> None:
        self.view = view
        if view.expiries:
            self.expiry_index = min(self.expiry_index, len(view.expiries) - 1)
        key = (view, self.expiry_index)
        if key == self._shown:
            return
        self._shown = key
        title = f"{view.underlying} options · {view.venue}"
        if view.expiries and view.expiries[self.expiry_index].forward is not None:
            e = view.expiries[self.expiry_index]
            title += f" · {e.label} forward {f.num(e.forward, 0)}"
        title += "   calls ◀ strike ▶ puts   enter selects · o orders it · [ ] expiry"
        self.query_one("#chain-title", Static).update(title)
        self.query_one("#chain-tabs", Static).update(
            expiry_tabs(view, self.expiry_index, self.palette) if view.expiries
            else Text(view.empty_reason or "no expiries", style=style(self.palette, "muted")))
        table = self.query_one(DataTable)
        rows = chain_rows(view.expiries[self.expiry_index]) if view.expiries else []
        sync_table(table, rows, COLUMNS, self.palette)
        self.query_one(SmilePlot).show(view.expiries, self.expiry_index, self.palette)
        self._hint()

    def _place_cursor(self, symbol: str | None) -> None:
        """On the given option when it is in the chain, else the forward's strike."""
        if self.view is None or not self.view.expiries:
            return
        table = self.query_one(DataTable)
        for i, e in enumerate(self.view.expiries):
            for r in e.rows:
                for q, col in ((r.call, STRIKE_COLUMN - 2), (r.put, STRIKE_COLUMN + 2)):
                    if symbol and q is not None and q.symbol == symbol:
                        self._set_expiry(i)
                        table.move_cursor(row=table.get_row_index(f"{r.strike:g}"),
                                          column=col, animate=False)
                        return
        e = self.view.expiries[self.expiry_index]
        above = next((r for r in e.rows if e.forward is not None and r.strike >= e.forward),
                     None)
        if above is not None:
            table.move_cursor(row=table.get_row_index(f"{above.strike:g}"),
                              column=STRIKE_COLUMN, animate=False)

    def _set_expiry(self, index: int) -> None:
        self.expiry_index = index
        if self.view is not None:
            self.show(self.view)

    # -- the cursor ------------------------------------------------------------------
    def cursor_quote(self) -> ChainQuote | None:
        """The option under the cursor (None on the forward's line or an empty chain)."""
        if self.view is None or not self.view.expiries:
            return None
        table = self.query_one(DataTable)
        if not table.row_count or not table.is_valid_coordinate(table.cursor_coordinate):
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return quote_at(self.view.expiries[self.expiry_index], key, table.cursor_column)

    def _hint(self) -> None:
        q = self.cursor_quote()
        if q is None:
            text = "move onto a call (left) or a put (right); enter selects it"
        else:
            held = f"held {f.num(q.held, 1, sign=True)}" if q.held else "not held"
            src = f"IV {q.iv_source or '—'}, delta {q.delta_source or '—'}"
            usd = f"mark {f.usd(q.mark_usd)}"
            text = f"{f.short_symbol(q.symbol)} · {usd} · {held} · {src}"
            if q.note:
                text += f" · {q.note}"
        self.query_one("#chain-hint", Static).update(text)

    def on_data_table_cell_highlighted(self, event: DataTable.CellHighlighted) -> None:
        event.stop()
        self._hint()

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        self._choose(open_ticket=False)

    def _choose(self, *, open_ticket: bool) -> None:
        q = self.cursor_quote()
        if q is None:
            self.notify("move onto a call or a put first", title="Option chain")
            return
        self.dismiss((q.symbol, open_ticket))

    # -- keys ------------------------------------------------------------------------
    def action_order(self) -> None:
        self._choose(open_ticket=True)

    def action_expiry(self, step: int) -> None:
        if self.view is None or not self.view.expiries:
            return
        table = self.query_one(DataTable)
        column = table.cursor_column
        self._set_expiry((self.expiry_index + step) % len(self.view.expiries))
        self._place_cursor(None)
        if column != STRIKE_COLUMN:
            table.move_cursor(column=column, animate=False)

    def action_next_underlying(self) -> None:
        if self.view is None or len(self.view.underlyings) < 2:
            self.notify("only one underlying has options here", title="Option chain")
            return
        pairs = list(self.view.underlyings)
        at = pairs.index((self.venue, self.underlying)) if (
            self.venue, self.underlying) in pairs else -1
        self.venue, self.underlying = pairs[(at + 1) % len(pairs)]
        self.expiry_index = 0
        self._pull()
        self._place_cursor(None)

    def action_close(self) -> None:
        self.dismiss(None)


__all__ = ["COLUMNS", "ChainScreen", "SmilePlot", "chain_rows", "expiry_tabs", "quote_at",
           "render_smile"]
