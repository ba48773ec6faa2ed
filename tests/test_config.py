"""Config: every key optional; each kind of bad file gives one line naming the key and the fix."""

import os
import subprocess
import sys

import pytest

from cockpit.config import Config, ConfigError, load_config


def _write(tmp_path, text):
    p = tmp_path / "config.toml"
    p.write_text(text)
    return p


def test_no_file_means_documented_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    cfg = load_config()
    assert cfg == Config()
    assert cfg.sizing.target_vol == 0.50
    assert cfg.engine.auto_execute_increases is False
    assert all(not v.live for v in cfg.venues.values())


def test_values_are_read(tmp_path):
    cfg = load_config(
        _write(
            tmp_path,
            '[sizing]\ntarget_vol = 0.3\n[demo]\nseed = 11\n'
            '[venues.deribit]\nsymbols = ["BTC/USD:BTC"]\nsandbox = true\n',
        )
    )
    assert cfg.sizing.target_vol == 0.3
    assert cfg.demo.seed == 11
    assert cfg.venues["deribit"].sandbox is True
    assert cfg.venues["deribit"].symbols == ("BTC/USD:BTC",)


@pytest.mark.parametrize(
    ("text", "must_name"),
    [
        ("[sizing]\ntarget_vol = -0.5\n", "sizing.target_vol"),  # out of range
        ('[sizing]\ntarget_vol = "fifty"\n', "sizing.target_vol"),  # wrong type
        ("[sizing]\ntarget_volatility = 0.5\n", "sizing.target_volatility"),  # unknown key
        ("[sizeing]\ntarget_vol = 0.5\n", "sizeing"),  # unknown table
        ("[sizing]\ntarget_vol = \n", "line"),  # TOML syntax error
        ("[venues.kraken]\nsymbols = []\n", "kraken"),  # unknown venue
        ('[venues.okx]\nlive = "yes"\n', "venues.okx.live"),  # a string is not a bool
        ("[display]\nmargin_amber = 0.9\nmargin_red = 0.8\n", "margin_amber"),
    ],
)
def test_bad_config_one_line_naming_the_key(tmp_path, text, must_name):
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, text))
    msg = str(err.value)
    assert must_name in msg
    assert "\n" not in msg
    assert str(tmp_path) in msg


def test_missing_explicit_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml")


def test_cli_bad_config_exits_2_without_traceback(tmp_path):
    p = _write(tmp_path, "[sizing]\nkelly_fraction = 3\n")
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-m", "cockpit", "--config", str(p)],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "sizing.kelly_fraction" in lines[0]


def test_the_readme_config_example_is_a_valid_config(tmp_path):
    """The config a trader copies from README.md must load as it stands."""
    import re
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    block = re.search(r"```toml\n(.*?)```", readme, re.S).group(1)
    cfg = load_config(_write(tmp_path, block))
    assert cfg.sizing.target_vol == 0.50
    assert "deribit" in cfg.venues and cfg.venues["deribit"].live is False


def test_a_utf8_bom_is_accepted(tmp_path):
    p = tmp_path / "config.toml"
    p.write_bytes("\ufeff[sizing]\ntarget_vol = 0.3\n".encode())
    assert load_config(p).sizing.target_vol == 0.3


def test_the_theme_is_judged_the_same_in_the_file_and_on_the_command_line(tmp_path):
    from cockpit.config import check_theme

    for name in ("dark", "light", "high-contrast", "hc", "nord", "neon", "Dark "):
        in_file = True
        try:
            load_config(_write(tmp_path, f'[display]\ntheme = "{name}"\n'))
        except ConfigError:
            in_file = False
        assert in_file == (check_theme(name) is None), name


def test_a_keymap_comes_back_in_textuals_key_names():
    cfg = Config(keymap={"help": "?", "approve": " enter ", "kill": "shift+ctrl+k"})
    assert cfg.keymap == {"help": "question_mark", "approve": "enter", "kill": "ctrl+shift+k"}


@pytest.mark.parametrize("text", [
    "[venues.okx]\napi_key = 123456789012\n",
    '[venues.okx]\nsecret = ["123456789012"]\n',
    '[venues.okx]\napi_key = {x = "123456789012"}\n',
])
def test_a_secret_is_never_echoed_whatever_its_type(tmp_path, text):
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, text))
    assert "123456789012" not in str(err.value) and "venues.okx" in str(err.value)
