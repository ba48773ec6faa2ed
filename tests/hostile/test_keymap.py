"""The keymap rules against the real bindings: the table in ``cockpit.keymap`` is the
app's and the widgets' BINDINGS (so a new binding cannot slip past the checks), and
an accepted keymap really drives the keys in a running app."""

from __future__ import annotations

import pytest

from cockpit.config import Config
from cockpit.keymap import BINDING_SCOPES, check_keymap, normalise_key


def _ids_and_keys(bindings) -> dict[str, str]:
    from textual.binding import Binding

    out = {}
    for b in Binding.make_bindings(bindings):
        out.setdefault(b.id, [])
        out[b.id].append(b.key)
    return {k: ",".join(v) for k, v in out.items() if k}


def test_the_table_is_the_bindings_of_the_app_and_its_screens():
    from cockpit.app import CockpitApp
    from widgets.confirm import ConfirmScreen
    from widgets.help import HelpScreen
    from widgets.order_entry import OrderTicket

    assert _ids_and_keys(CockpitApp.BINDINGS) == BINDING_SCOPES["app"]
    assert _ids_and_keys(ConfirmScreen.BINDINGS) == BINDING_SCOPES["confirm"]
    assert _ids_and_keys(HelpScreen.BINDINGS) == BINDING_SCOPES["help"]
    assert _ids_and_keys(OrderTicket.BINDINGS) == BINDING_SCOPES["ticket"]
    from widgets.amend import AmendScreen

    assert _ids_and_keys(AmendScreen.BINDINGS) == BINDING_SCOPES["amend"]


@pytest.mark.parametrize(("typed", "textual"), [
    ("a", "a"), ("A", "A"), ("?", "question_mark"), ("+", "plus"), ("enter", "enter"),
    ("F5", "f5"), ("ctrl+k", "ctrl+k"), ("shift+ctrl+k", "ctrl+shift+k"),
    (" ctrl+? ", "ctrl+question_mark"), ("full_stop", "full_stop"), ("ctrl++", "ctrl+plus"),
])
def test_keys_come_back_in_the_names_textual_sends(typed, textual):
    assert normalise_key(typed) == textual


@pytest.mark.parametrize("bad", ["", " ", "notakey!!", "ctrl+", "hyper+a", "ctrl+ctrl+a",
                                 "enterr", "ctrl+notakey", "\t"])
def test_keys_textual_cannot_send_are_refused(bad):
    assert normalise_key(bad) is None


def test_moving_quit_first_frees_q_explicitly():
    assert check_keymap({"quit": "Q", "approve": "q"}) == {"quit": "Q", "approve": "q"}
    with pytest.raises(ValueError, match="already bound to quit"):
        Config(keymap={"approve": "q"})


def test_swapping_two_keys_is_allowed():
    assert check_keymap({"approve": "x", "reject": "a"}) == {"approve": "x", "reject": "a"}


async def test_an_accepted_keymap_drives_the_running_app():
    """reject on "?" (typed as the character) and help on f1: "?" must reject, not open
    the help (Textual compares keymap keys verbatim, so "?" only works normalised)."""
    from textual.widgets import DataTable

    from tests.tui.conftest import make_app, settle
    from widgets.help import HelpScreen
    from widgets.suggestions import SuggestionsPanel

    cfg = Config(keymap={"reject": "?", "help": "f1"})
    app = make_app(cfg)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        panel = app.main.query_one(SuggestionsPanel)
        assert panel.selected() is not None
        panel.query_one(DataTable).focus()
        await pilot.press("question_mark")
        await pilot.pause()
        assert any(e.kind == "rejection" for e in app.desk.log)
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
