"""Small preferences remembered between runs (the theme), in the user data dir."""

from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger("cockpit.prefs")


def prefs_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path("cockpit") / "prefs.json"


def load_prefs(path: Path | None = None) -> dict:
    p = path or prefs_path()
    try:
        data = json.loads(p.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def save_pref(key: str, value, path: Path | None = None) -> None:
    p = path or prefs_path()
    data = load_prefs(p)
    data[key] = value
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(p)
    except OSError as exc:
        log.warning("could not remember %s: %s", key, exc)
