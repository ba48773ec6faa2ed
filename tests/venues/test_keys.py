"""Key hygiene: where credentials come from, and that they never show."""

from __future__ import annotations

import logging
import os
from types import SimpleNamespace

import keyring
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from keyring.backend import KeyringBackend
from keyring.backends import fail

from cockpit.keys import (
    Credentials,
    CredentialsError,
    RedactingFilter,
    check_private_file,
    load_credentials,
)

KEY = "SENTINEL-KEY-7f3a9c"
SECRET = "SENTINEL-SECRET-b81d44e2"


def venue_cfg(**kw):
    base = dict(api_key_env="", secret_env="", password_env="", keyring=False,
                api_key="", secret="")
    base.update(kw)
    return SimpleNamespace(**base)


class MemoryKeyring(KeyringBackend):
    """An in-memory keyring backend (keyring ships none)."""

    priority = 1

    def __init__(self):
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        self.store.pop((service, username), None)


@pytest.fixture
def restore_keyring():
    before = keyring.get_keyring()
    yield
    keyring.set_keyring(before)


def test_env_default_names():
    env = {"OKX_API_KEY": KEY, "OKX_SECRET": SECRET, "OKX_PASSWORD": "pass-phrase-1"}
    c = load_credentials("okx", venue_cfg(), environ=env)
    assert (c.api_key, c.secret, c.password, c.source) == (KEY, SECRET, "pass-phrase-1", "env")


def test_env_custom_names():
    env = {"MY_K": KEY, "MY_S": SECRET}
    c = load_credentials("deribit", venue_cfg(api_key_env="MY_K", secret_env="MY_S"), environ=env)
    assert (c.api_key, c.secret) == (KEY, SECRET)


def test_missing_keys_name_the_variables():
    with pytest.raises(CredentialsError, match="BYBIT_API_KEY and BYBIT_SECRET"):
        load_credentials("bybit", venue_cfg(), environ={})


def test_keyring_backend(restore_keyring):
    ring = MemoryKeyring()
    ring.set_password("cockpit", "deribit:api_key", KEY)
    ring.set_password("cockpit", "deribit:secret", SECRET)
    keyring.set_keyring(ring)
    c = load_credentials("deribit", venue_cfg(keyring=True), environ={})
    assert (c.api_key, c.secret, c.source) == (KEY, SECRET, "keyring")


def test_no_keyring_backend_refuses_and_does_not_fall_back(restore_keyring):
    keyring.set_keyring(fail.Keyring())
    # plain-text keys are available in env and file, but keyring was asked for
    env = {"DERIBIT_API_KEY": KEY, "DERIBIT_SECRET": SECRET}
    with pytest.raises(CredentialsError, match="no OS keyring backend"):
        load_credentials("deribit", venue_cfg(keyring=True, api_key=KEY, secret=SECRET),
                         environ=env)


def test_config_file_0644_refused_with_chmod_hint(tmp_path):
    path = tmp_path / "cockpit.toml"
    path.write_text('[venues.okx]\napi_key = "x"\n')
    os.chmod(path, 0o644)
    with pytest.raises(CredentialsError, match=f"chmod 600 {path}") as err:
        load_credentials("okx", venue_cfg(api_key=KEY, secret=SECRET), config_path=path,
                         environ={})
    assert KEY not in str(err.value) and SECRET not in str(err.value)


def test_config_file_0600_accepted(tmp_path):
    path = tmp_path / "cockpit.toml"
    path.write_text("")
    os.chmod(path, 0o600)
    c = load_credentials("okx", venue_cfg(api_key=KEY, secret=SECRET), config_path=path,
                         environ={})
    assert (c.api_key, c.secret, c.source) == (KEY, SECRET, "file")
    check_private_file(path)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_group_or_world_bits_refused(tmp_path, mode):
    path = tmp_path / "c.toml"
    path.write_text("")
    os.chmod(path, mode)
    with pytest.raises(CredentialsError, match="chmod 600"):
        check_private_file(path)


def test_file_keys_without_known_path_refused():
    with pytest.raises(CredentialsError, match="permissions cannot be checked"):
        load_credentials("okx", venue_cfg(api_key=KEY, secret=SECRET), environ={})


def test_credentials_repr_and_str_hide_key_and_secret():
    c = Credentials("okx", KEY, SECRET, "pass-phrase-1", "env")
    for text in (repr(c), str(c), f"{c}", repr([c]), repr({"c": c})):
        assert KEY not in text and SECRET not in text and "pass-phrase-1" not in text
    assert c.key_id in repr(c) and len(c.key_id) == 16


def test_redacting_filter_on_message_args_and_traceback():
    stream_records = []

    class Capture(logging.Handler):
        def emit(self, record):
            stream_records.append(self.format(record))

    logger = logging.getLogger("test_keys.redact")
    logger.propagate = False
    handler = Capture()
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(RedactingFilter([KEY, SECRET]))
    logger.addHandler(handler)
    try:
        logger.warning("signed with %s and %s", KEY, SECRET)
        logger.warning(f"inline {SECRET}")
        try:
            raise RuntimeError(f"venue said: bad key {KEY}")
        except RuntimeError:
            logger.exception("order failed")
    finally:
        logger.removeHandler(handler)
    text = "\n".join(stream_records)
    assert KEY not in text and SECRET not in text
    assert text.count("***") >= 4
    assert "order failed" in text and "RuntimeError" in text


@settings(max_examples=60, deadline=None)
@given(before=st.text(max_size=40), after=st.text(max_size=40),
       secret=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126),
                      min_size=6, max_size=40))
def test_redaction_never_lets_a_secret_through(before, after, secret):
    f = RedactingFilter([secret])
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s%s%s",
                               (before, secret, after), None)
    f.filter(record)
    assert secret not in record.getMessage()
