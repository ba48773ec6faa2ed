"""The ``[keymap]`` rules: what a trader may rebind, to which keys.

A bad keymap is dangerous, not cosmetic: ``approve = "q"`` would send an order on the
key that used to quit, ``approve = "x"`` beside ``reject = "x"`` sends orders on the
reject key, and a key Textual cannot produce silently unbinds approval. So a keymap
is refused unless

* every id is a known binding id (the table below, one scope per screen);
* every key is one Textual can bind: a printable character, a named key (``enter``,
  ``f5``, ``pageup`` ...) or modifiers ``ctrl+``, ``shift+``, ``alt+``, ``meta+``,
  ``super+`` on one of those;
* no key does two things in one scope, counting the defaults left in place (so
  ``q`` can only be given away once ``quit`` itself is moved: the explicit override);
* no key Textual or the app reserves (``ctrl+c``, ``ctrl+q``, ``ctrl+p``, ``tab``).

Keys come back in Textual's own names (``?`` becomes ``question_mark``), because
``App.set_keymap`` compares them verbatim with ``event.key``.
"""

from __future__ import annotations

from pydantic_core import PydanticCustomError

__all__ = ["BINDING_SCOPES", "RESERVED_KEYS", "check_keymap", "normalise_key"]

# binding id -> default keys, per scope (the app, then each modal screen). A key may
# repeat across scopes, never within one. tests/hostile/test_keymap.py checks this
# table against the BINDINGS of CockpitApp and the widgets.
BINDING_SCOPES: dict[str, dict[str, str]] = {
    "app": {
        "approve": "a", "reject": "x", "approve_reducing": "R", "toggle_auto": "A",
        "kill": "k", "raise_state": "T", "order": "o", "switch_style": "s",
        "cancel_order": "c", "amend_order": "e", "stress": "S", "chain": "C",
        "help": "question_mark", "quit": "q",
    },
    "confirm": {"confirm.yes": "y", "confirm.no": "n,escape"},
    "help": {"help.close": "escape,q,question_mark"},
    "ticket": {"ticket.cancel": "escape"},
    "amend": {"amend.cancel": "escape"},
    "chain": {"chain.close": "escape,q", "chain.next_expiry": "right_square_bracket",
              "chain.prev_expiry": "left_square_bracket", "chain.underlying": "u",
              "chain.order": "o"},
}

RESERVED_KEYS = {
    "ctrl+c": "Textual's quit prompt",
    "ctrl+q": "quit",
    "ctrl+p": "the command palette",
    "tab": "moving the focus",
    "shift+tab": "moving the focus",
}

_MODIFIERS = ("ctrl", "shift", "alt", "meta", "super")
_NAMED = frozenset({
    "backspace", "delete", "down", "end", "enter", "escape", "home", "insert", "left",
    "pagedown", "pageup", "return", "right", "space", "tab", "up",
    *(f"f{i}" for i in range(1, 25)),
})


def _error(binding: str, text: str) -> PydanticCustomError:
    # the message is a template: braces in a trader's key must not be read as fields
    return PydanticCustomError("keymap", "{text}", {"text": text, "binding": binding})


def normalise_key(key: str) -> str | None:
    """``key`` in Textual's naming, or None when Textual cannot bind it."""
    from textual.keys import _character_to_key, key_to_character

    key = key.strip()
    if not key:
        return None
    if len(key) == 1:
        return _character_to_key(key) if key.isprintable() and not key.isspace() else None
    if key.endswith("++"):  # "ctrl++": the plus key
        mods, base = key[:-2].split("+"), "+"
    else:
        *mods, base = key.split("+")
    if not base:
        return None
    mods = [m.lower() for m in mods]
    if any(m not in _MODIFIERS for m in mods) or len(set(mods)) != len(mods):
        return None
    if len(base) == 1:
        if not base.isprintable() or base.isspace():
            return None
        base = _character_to_key(base)
    elif base.lower() in _NAMED:
        base = base.lower()
    elif key_to_character(base) is None:  # e.g. "question_mark", "full_stop"
        return None
    ordered = [m for m in _MODIFIERS if m in mods]
    return "+".join([*ordered, base])


def _scope_of(binding: str) -> str | None:
    return next((name for name, ids in BINDING_SCOPES.items() if binding in ids), None)


def check_keymap(keymap: dict[str, str]) -> dict[str, str]:
    """The keymap with keys normalised; raises a pydantic error naming the binding."""
    known = [b for ids in BINDING_SCOPES.values() for b in ids]
    out: dict[str, str] = {}
    for binding, keys in keymap.items():
        if _scope_of(binding) is None:
            raise _error(binding, f"unknown binding id {binding!r}: use one of "
                         f"{', '.join(known)}")
        names = []
        for key in keys.split(","):
            name = normalise_key(key)
            if name is None:
                what = "an empty key" if not key.strip() else f"key {key.strip()!r}"
                raise _error(binding, f"{what} cannot be bound: use a character, a named key "
                             "(enter, escape, f1..f24, pageup ...) or ctrl+/shift+/alt+ on one")
            if name in RESERVED_KEYS:
                raise _error(binding, f"{name} is reserved for {RESERVED_KEYS[name]}: "
                             "choose another key")
            if name not in names:
                names.append(name)
        out[binding] = ",".join(names)
    for defaults in BINDING_SCOPES.values():
        owner: dict[str, str] = {}
        for binding, default in defaults.items():
            for key in out.get(binding, default).split(","):
                other = owner.get(key)
                if other is not None:
                    mine = binding if binding in out else other
                    theirs = other if mine == binding else binding
                    fix = (f"choose another key, or move {theirs} too"
                           f" ({theirs} = \"...\")" if theirs not in out
                           else "give each its own key")
                    raise _error(mine, f"{key} is already bound to {theirs}; {fix}")
                owner[key] = binding
    return out
