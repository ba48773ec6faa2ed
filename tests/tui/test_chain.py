"""The option chain screen: what it shows against the venue's own ticker (IV against an
independent Black-76 inversion), and a new option position opened from it — chain,
strike, enter, ``o``, confirm, filled by the paper broker, held."""

from __future__ import annotations

import math
from dataclasses import replace
from types import MappingProxyType

import pytest
from scipy.optimize import brentq

from cockpit.config import Config
from cockpit.model import VenueGreeks
from cockpit.runtime import build_demo
from cockpit.venues.sim import dispatch
from cockpit.views.chain import chain_view, expiry_label
from tests.tui.conftest import START_MS, make_app, settle, step
from widgets.chain import COLUMNS, STRIKE_COLUMN, ChainScreen, quote_at
from widgets.depth import DepthPanel
from widgets.order_entry import OrderTicket

SIZE = (160, 48)
MS_PER_YEAR = 365.0 * 86_400_000.0


# -- an independent Black-76 (Hull, "Black's model"), zero rate ------------------------
def _n(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _black(forward, strike, years, vol, call):
    s = vol * math.sqrt(years)
    d1 = math.log(forward / strike) / s + 0.5 * s
    d2 = d1 - s
    if call:
        return forward * _n(d1) - strike * _n(d2), _n(d1)
    return strike * _n(-d2) - forward * _n(-d1), _n(d1) - 1.0


def _implied(price, forward, strike, years, call):
    return brentq(lambda v: _black(forward, strike, years, v, call)[0] - price, 1e-4, 8.0,
                  xtol=1e-12)


def _demo_snapshot():
    runtime = build_demo(Config(), seed=7, start_ms=START_MS, state_path=None)
    dispatch(runtime.store, runtime.feed.market.step())
    return runtime.store.snapshot()


def _quotes(view):
    for e in view.expiries:
        for r in e.rows:
            for q in (r.call, r.put):
                if q is not None:
                    yield e, r, q


# -- the view ----------------------------------------------------------------------------
def test_every_quote_is_the_tickers_and_iv_delta_match_an_independent_black76():
    snap = _demo_snapshot()
    view = chain_view(snap)
    options = [i for i in snap.instruments.values() if i.is_option]
    assert view.underlying == "BTC" and len(view.expiries) == len({i.expiry_ms for i in options})
    assert [e.expiry_ms for e in view.expiries] == sorted(e.expiry_ms for e in view.expiries)
    seen = 0
    for e, r, q in _quotes(view):
        inst, t = snap.instruments[q.symbol], snap.tickers[q.symbol]
        assert inst.expiry_ms == e.expiry_ms and inst.strike == r.strike
        assert (q is r.call) == inst.is_call  # calls on the left, puts on the right
        assert q.bid == (t.bid if t.bid > 0 else None) and q.ask == t.ask and q.mark == t.mark
        assert q.open_interest is None  # the built-in market publishes none: "—"
        years = (inst.expiry_ms - snap.ts_ms) / MS_PER_YEAR
        f = t.underlying_price
        usd = t.mark * f  # the coin quote in USD, as Deribit prices it
        intrinsic = max(f - r.strike, 0.0) if inst.is_call else max(r.strike - f, 0.0)
        assert math.isfinite(q.iv) and math.isfinite(q.delta)
        _, delta = _black(f, r.strike, years, q.iv, inst.is_call)
        assert q.delta == pytest.approx(delta, abs=1e-9)
        if usd - intrinsic > 1e-6 * f:  # enough time value for the inversion to say something
            assert q.iv == pytest.approx(_implied(usd, f, r.strike, years, inst.is_call),
                                         abs=1e-6)
            seen += 1
    assert seen > 100
    held = {p.symbol for p in snap.account.positions if p.contracts}
    assert {q.symbol for _, _, q in _quotes(view) if q.held} == held & {i.symbol for i in options}


def test_smile_is_the_out_of_the_money_side_and_labels_read_like_deribit():
    snap = _demo_snapshot()
    for e in chain_view(snap).expiries:
        strikes = [k for k, _ in e.smile]
        assert strikes == sorted(strikes) and len(strikes) == len(e.rows)
        for (k, iv), r in zip(e.smile, e.rows, strict=True):
            otm = r.put if k < e.forward else r.call
            assert iv == otm.iv
    assert expiry_label(1798185600000) == "25DEC26"
    assert expiry_label(1795766400000) == "27NOV26"


def test_venue_greeks_and_open_interest_are_shown_and_a_missing_iv_is_inverted():
    snap = _demo_snapshot()
    opts = sorted((i for i in snap.instruments.values() if i.is_option),
                  key=lambda i: (i.expiry_ms, i.strike))
    with_greeks, without_iv = opts[20].symbol, opts[21].symbol
    tickers = dict(snap.tickers)
    tickers[with_greeks] = replace(tickers[with_greeks], open_interest=368.8,
                                   greeks=VenueGreeks(0.4321, 1e-5, 50.0, -20.0))
    tickers[without_iv] = replace(tickers[without_iv], mark_iv=None)
    snap = replace(snap, tickers=MappingProxyType(tickers))
    quotes = {q.symbol: q for _, _, q in _quotes(chain_view(snap))}
    g = quotes[with_greeks]
    assert (g.delta, g.delta_source, g.open_interest) == (0.4321, "venue", 368.8)
    m = quotes[without_iv]
    inst, t = snap.instruments[without_iv], snap.tickers[without_iv]
    years = (inst.expiry_ms - snap.ts_ms) / MS_PER_YEAR
    expected = _implied(t.mark * t.underlying_price, t.underlying_price, inst.strike, years,
                        inst.is_call)
    assert m.iv_source == "model" and m.iv == pytest.approx(expected, abs=1e-6)


def test_an_option_without_a_ticker_says_so_instead_of_showing_zeros():
    snap = _demo_snapshot()
    sym = next(i.symbol for i in snap.instruments.values() if i.is_option)
    tickers = {k: v for k, v in snap.tickers.items() if k != sym}
    view = chain_view(replace(snap, tickers=MappingProxyType(tickers)))
    q = next(q for _, _, q in _quotes(view) if q.symbol == sym)
    assert (q.bid, q.ask, q.mark, q.iv, q.delta) == (None,) * 5 and q.note == "no ticker yet"


def test_no_options_listed_is_one_line():
    snap = _demo_snapshot()
    perps = {k: v for k, v in snap.instruments.items() if not v.is_option}
    view = chain_view(replace(snap, instruments=MappingProxyType(perps)))
    assert not view.expiries and view.empty_reason.startswith("no options listed")


# -- the screen --------------------------------------------------------------------------
def _cell(table, key, column) -> str:
    return table.get_row(key)[column].plain


async def _open_chain(app, pilot) -> ChainScreen:
    await pilot.press("C")
    await pilot.pause()
    assert isinstance(app.screen, ChainScreen)
    return app.screen


async def _cursor_to(pilot, screen, strike: float, column: int):
    """Walk the cursor there with the arrow keys, as the trader does."""
    from textual.widgets import DataTable

    table = screen.query_one(DataTable)
    target = table.get_row_index(f"{strike:g}")
    rows, cols = target - table.cursor_row, column - table.cursor_column
    await pilot.press(*(["down"] * rows if rows > 0 else ["up"] * -rows))
    await pilot.press(*(["right"] * cols if cols > 0 else ["left"] * -cols))
    await pilot.pause()
    assert (table.cursor_row, table.cursor_column) == (target, column)


async def test_the_chain_rows_show_the_tickers_numbers():
    from textual.widgets import DataTable

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = await _open_chain(app, pilot)
        snap = app.store.snapshot()
        table = screen.query_one(DataTable)
        expiry = screen.view.expiries[screen.expiry_index]
        heads = [h for h, _ in COLUMNS]
        assert table.row_count == len(expiry.rows) + 1  # and the forward's line
        for r in expiry.rows:
            key = f"{r.strike:g}"
            assert float(_cell(table, key, STRIKE_COLUMN).replace(",", "")) == r.strike
            for q, put in ((r.call, False), (r.put, True)):
                t = snap.tickers[q.symbol]
                inst = snap.instruments[q.symbol]
                col = {h: len(heads) - 1 - i if put else i  # mirrored about the strike
                       for i, h in enumerate(heads[:STRIKE_COLUMN])}
                assert float(_cell(table, key, col["Ask"])) == pytest.approx(t.ask, abs=5e-5)
                mark = _cell(table, key, col["Mark"]).lstrip("● ")
                assert float(mark) == pytest.approx(t.mark, abs=5e-5)
                bid = _cell(table, key, col["Bid"])
                assert bid == "—" if t.bid <= 0 else float(bid) == pytest.approx(t.bid, abs=5e-5)
                iv = float(_cell(table, key, col["IV"]).rstrip("%")) / 100
                assert iv == pytest.approx(t.mark_iv, abs=5e-4)
                years = (inst.expiry_ms - snap.ts_ms) / MS_PER_YEAR
                _, delta = _black(t.underlying_price, r.strike, years, t.mark_iv, inst.is_call)
                assert float(_cell(table, key, col["Delta"])) == pytest.approx(delta, abs=5e-3)
                assert _cell(table, key, col["OI"]) == "—"
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert screen.expiry_index == 1 and table.row_count == len(screen.view.expiries[1].rows) + 1
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main


async def test_a_strike_not_held_is_selected_ordered_through_the_ticket_and_held():
    """chain -> strike -> enter -> the main screen with it selected (kept across
    repaints and engine runs) -> o -> the ticket for it -> confirm -> filled -> held."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        held = {p.symbol for p in app.runtime.broker.account().positions}
        from textual.widgets import DataTable

        # the positions table has the focus (and its cursor on a held row) when the chain opens
        app.main.query_one("#positions-table", DataTable).focus()
        await pilot.pause()
        screen = await _open_chain(app, pilot)
        expiry = screen.view.expiries[0]
        row = next(r for r in expiry.rows if r.strike > expiry.forward
                   and r.call.symbol not in held and r.call.ask)
        await _cursor_to(pilot, screen, row.strike, STRIKE_COLUMN - 2)  # the call's mark
        assert screen.cursor_quote().symbol == row.call.symbol
        await pilot.press("enter")
        await pilot.pause()
        symbol = row.call.symbol
        assert app.screen is app.main and app.selected == symbol
        for _ in range(3):  # ticks and engine runs never move the trader's selection
            step(app.runtime, 5)
            app.kick_engine("test")
            await settle(app, pilot)
            assert app.selected == symbol
            assert app.main.query_one(DepthPanel).view.symbol == symbol
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, OrderTicket) and app.screen.symbol == symbol
        await pilot.press("0", ".", "5", "enter")
        await pilot.pause()
        await pilot.press("y")
        await settle(app, pilot)
        pos = app.runtime.broker.account().position(symbol)
        assert pos is not None and pos.contracts == pytest.approx(0.5)
        assert any(e.kind == "fill" and symbol in e.text for e in app.desk.log)
        for _ in range(2):  # the new position's row appearing does not move the selection
            step(app.runtime, 5)
            await settle(app, pilot)
            assert app.selected == symbol
        from widgets.positions import PositionsPanel

        shown = [p.symbol for p in app.main.query_one(PositionsPanel).view.positions]
        assert symbol in shown


async def test_o_on_the_chain_opens_the_ticket_for_the_put_under_the_cursor():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = await _open_chain(app, pilot)
        expiry = screen.view.expiries[0]
        row = next(r for r in expiry.rows if r.strike < expiry.forward)
        await _cursor_to(pilot, screen, row.strike, STRIKE_COLUMN + 3)  # the put's bid
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, OrderTicket) and app.screen.symbol == row.put.symbol
        assert app.selected == row.put.symbol


async def test_the_chain_opens_on_the_selected_option():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        snap = app.store.snapshot()
        opts = sorted((i for i in snap.instruments.values() if i.is_option),
                      key=lambda i: (i.expiry_ms, i.strike))
        target = next(i for i in opts if i.expiry_ms == opts[-1].expiry_ms and not i.is_call)
        app.selected = target.symbol
        screen = await _open_chain(app, pilot)
        assert screen.view.expiries[screen.expiry_index].expiry_ms == target.expiry_ms
        assert screen.cursor_quote().symbol == target.symbol


def test_strike_column_picks_the_out_of_the_money_option():
    snap = _demo_snapshot()
    e = chain_view(snap).expiries[0]
    below = next(r for r in e.rows if r.strike < e.forward)
    above = next(r for r in e.rows if r.strike > e.forward)
    assert quote_at(e, f"{below.strike:g}", STRIKE_COLUMN) is below.put
    assert quote_at(e, f"{above.strike:g}", STRIKE_COLUMN) is above.call
    assert quote_at(e, f"{above.strike:g}", 0) is above.call
    assert quote_at(e, f"{above.strike:g}", len(COLUMNS) - 1) is above.put
    assert quote_at(e, "forward", STRIKE_COLUMN) is None


async def test_the_palette_offers_an_option_not_held_and_selects_it():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        snap = app.store.snapshot()
        held = {p.symbol for p in snap.account.positions}
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        listed = {t.removeprefix("Instrument: ") for t in commands if t.startswith("Instrument:")}
        assert listed == set(snap.instruments)  # every instrument of the venue, held or not
        symbol = next(s for s, i in snap.instruments.items() if i.is_option and s not in held)
        command = commands[f"Instrument: {symbol}"]
        assert "not held" in command.help
        command.callback()
        await pilot.pause()
        app.repaint_all()
        await pilot.pause()
        assert app.selected == symbol
        assert app.main.query_one(DepthPanel).view.symbol == symbol
        assert "Option chain (C)" in commands


def test_chain_keys_are_in_the_keymap_table():
    from cockpit.app import CockpitApp
    from cockpit.keymap import BINDING_SCOPES
    from tests.hostile.test_keymap import _ids_and_keys

    assert _ids_and_keys(ChainScreen.BINDINGS) == BINDING_SCOPES["chain"]
    assert BINDING_SCOPES["app"]["chain"] == "C"
    assert any(b.id == "chain" and not b.show for b in CockpitApp.BINDINGS)


async def test_main_footer_keeps_q_quit_at_160_columns_and_help_names_the_chain():
    from textual.widgets import Footer

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        footer = app.main.query_one(Footer)
        keys = [k for k in footer.query("FooterKey")]
        quit_key = next(k for k in keys if k.description == "Quit")
        palette = next(k for k in keys if k.description == "palette")  # docked right, on top
        assert quit_key.region.right <= palette.region.x
        await pilot.press("question_mark")
        await pilot.pause()
        from widgets.help import HelpScreen

        assert isinstance(app.screen, HelpScreen)
        assert any(desc == "Option chain" and key == "C" for key, desc, _ in app.screen.keys)


def test_chain_screen_snapshot(snap_compare):
    """You should see the BTC chain of the nearest expiry: calls left, the strike
    column, puts right, a line at the forward, the cursor on the first strike above
    it; the expiry tabs with ATM IV; the smile of every expiry under the table."""
    app = make_app(monotonic=lambda: 1000.0, engine_timer=lambda: 0.0, quick_first_run=False)

    async def run_before(pilot):
        await settle(app, pilot)
        await pilot.press("C")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
