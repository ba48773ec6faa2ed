"""Command line entry point: ``cockpit`` (the app), ``cockpit size`` (headless policy run)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    print("cockpit: not built yet", file=sys.stderr)
    return 0
