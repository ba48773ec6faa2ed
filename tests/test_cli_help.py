"""`cockpit --help` lists every subcommand with one line each, its description is
whole sentences, and each subcommand's own --help works."""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cockpit import cli

ROOT = Path(__file__).resolve().parent.parent


def _help() -> str:
    """The real output of ``python -m cockpit --help``."""
    proc = subprocess.run([sys.executable, "-m", "cockpit", "--help"], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _dispatched_names() -> set[str]:
    """Every word ``_main`` compares the first argument with (a subcommand dispatched
    outside the table would show up here)."""
    tree = ast.parse(inspect.getsource(cli._main))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for side in (node.left, *node.comparators):
                for const in ast.walk(side):
                    if isinstance(const, ast.Constant) and isinstance(const.value, str):
                        names.add(const.value)
    return names


def test_help_lists_every_subcommand_on_one_line():
    text = _help()
    assert {"size", "journal", "record", "serve"} <= set(cli.SUBCOMMANDS)
    for name in cli.SUBCOMMANDS:
        lines = [ln for ln in text.splitlines() if re.match(rf"\s+cockpit {name}\s+\S", ln)]
        assert len(lines) == 1, (name, text)
        assert len(lines[0]) <= 100


def test_main_dispatches_only_through_the_table():
    assert _dispatched_names() <= set(cli.SUBCOMMANDS), _dispatched_names()


def test_description_is_whole_sentences():
    text = _help()
    paragraphs = text.split("\n\n")
    description = " ".join(paragraphs[1].split())  # the one after usage
    assert not description.startswith("usage")
    assert description.endswith("."), description
    assert description.count("(") == description.count(")")
    assert "--venue" in description and "--replay" in description


@pytest.mark.parametrize("name", sorted(cli.SUBCOMMANDS))
def test_each_subcommand_has_its_own_help(name, capsys):
    try:
        code = cli.main([name, "--help"])
    except SystemExit as exit_:  # argparse's own exit; some commands return its code
        code = exit_.code
    assert code in (0, None)
    out = capsys.readouterr().out
    assert out.startswith(f"usage: cockpit {name}")
    assert "--help" in out


def test_bad_symbols_flag_is_one_line(capsys):
    assert cli.main(["--venue", "okx", "--symbols", "BTCUSDT"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--symbols 'BTCUSDT'" in err and "BTC/USDT:USDT" in err
    assert cli.main(["--symbols", "BTC/USDT:USDT"]) == 2
    assert "add --venue NAME" in capsys.readouterr().err
