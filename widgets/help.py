"""Help screen: every key the cockpit answers to, read from the live bindings
(so a remapped keymap shows the keys the trader actually configured)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from widgets.palette import DEFAULT_PALETTE, Palette, style

HelpKey = tuple[str, str, str]  # (keys as displayed, what it does, binding id)


def keys_from_bindings(
    bindings: Mapping[str, ActiveBinding] | Iterable[Binding], app: App | None = None
) -> list[HelpKey]:
    """One line per action: its keys (merged, in display form), description and id.
    Bindings without a description are internal and left out; bindings with an
    id (the cockpit's own, remappable) come first, widget navigation after."""
    items = bindings.values() if isinstance(bindings, Mapping) else bindings
    merged: dict[tuple[str, str], list] = {}
    for item in items:
        binding = item.binding if isinstance(item, ActiveBinding) else item
        if not binding.description:
            continue
        label = app.get_key_display(binding) if app is not None else binding.key
        key = (binding.action, binding.description)
        entry = merged.setdefault(key, [[], binding.description, binding.id or ""])
        if label not in entry[0]:
            entry[0].append(label)
    lines = [(" / ".join(keys), desc, bid) for keys, desc, bid in merged.values()]
    # the cockpit's own actions (they carry ids) first, navigation after
    return sorted(lines, key=lambda line: line[2] == "")


def render_help(keys: Sequence[HelpKey], palette: Palette = DEFAULT_PALETTE) -> Table:
    table = Table(box=None, show_edge=False, pad_edge=False, header_style=style(palette, "header"))
    table.add_column("Key", justify="right", no_wrap=True)
    table.add_column("Action", justify="left")
    table.add_column("Id (keymap)", justify="left", style=style(palette, "muted"))
    for key, desc, bid in keys:
        table.add_row(Text(key, style="bold"), desc, bid)
    return table


class HelpScreen(ModalScreen[None]):
    """Modal list of keys. Build it with ``HelpScreen.for_app(app)`` *before*
    pushing, so it lists the bindings active on the screen beneath."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close help", id="help.close")]

    def __init__(self, keys: Sequence[HelpKey], *, title: str = "Cockpit keys") -> None:
        super().__init__()
        self.keys = list(keys)
        self.title_text = title

    @classmethod
    def for_app(cls, app: App) -> HelpScreen:
        return cls(keys_from_bindings(app.active_bindings, app))

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog"):
            yield Static(Text(self.title_text, style="bold"), id="help-title")
            yield Static(render_help(self.keys), id="help-keys")
            yield Static("Off the footer: e amends an order, C opens the option chain "
                         "(enter there selects a strike for the depth panel and o).\n"
                         "The command palette (ctrl+p) has the rest: theme, every instrument "
                         "(held or not), mode.", id="help-footer")

    def action_close(self) -> None:
        self.dismiss(None)
