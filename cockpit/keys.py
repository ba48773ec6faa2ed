"""API credentials for live trading: where they come from and how they stay secret.

Sources, in order:

1. the OS keyring when the venue's config says ``keyring = true`` (service
   ``"cockpit"``, users ``"NAME:api_key"``, ``"NAME:secret"``, ``"NAME:password"``).
   With no usable backend (``keyring.backends.fail.Keyring``) live trading is
   refused; we never fall back to plain text;
2. environment variables (``api_key_env`` / ``secret_env`` / ``password_env``,
   by default ``NAME_API_KEY``, ``NAME_SECRET``, ``NAME_PASSWORD``);
3. ``api_key`` / ``secret`` in the config file, only when the file is readable by
   its owner alone (mode 0600, as ssh insists for private keys).

A :class:`Credentials` never prints its key or secret, and
:func:`install_redaction` puts a logging filter on every handler that replaces any
known secret with ``***`` in messages, arguments and tracebacks.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Credentials",
    "CredentialsError",
    "RedactingFilter",
    "check_private_file",
    "exposed_keys_warning",
    "install_redaction",
    "load_credentials",
    "redact",
]

KEYRING_SERVICE = "cockpit"
REDACTED = "***"


class CredentialsError(Exception):
    """Credentials missing or unsafe; the message is the one line to show (no secrets)."""


@dataclass(frozen=True, slots=True, repr=False)
class Credentials:
    """An API key pair (plus OKX passphrase). ``source``: "env", "keyring" or "file"."""

    venue: str
    api_key: str
    secret: str
    password: str = ""
    source: str = ""

    @property
    def key_id(self) -> str:
        """A stable hash of the API key (16 hex chars): safe to log, index a rate limiter."""
        return hashlib.sha256(self.api_key.encode()).hexdigest()[:16]

    def secrets(self) -> tuple[str, ...]:
        """Every sensitive string, for redaction (the key too: it identifies the account)."""
        return tuple(s for s in (self.api_key, self.secret, self.password) if s)

    def __repr__(self) -> str:
        return f"Credentials(venue={self.venue!r}, key_id={self.key_id}, source={self.source!r})"

    __str__ = __repr__


def _env_names(venue: str, cfg: Any) -> tuple[str, str, str]:
    up = venue.upper()
    return (
        getattr(cfg, "api_key_env", "") or f"{up}_API_KEY",
        getattr(cfg, "secret_env", "") or f"{up}_SECRET",
        getattr(cfg, "password_env", "") or f"{up}_PASSWORD",
    )


def check_private_file(path: str | os.PathLike) -> None:
    """Raise unless ``path`` is readable by its owner alone (no group/other bits)."""
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CredentialsError(
            f"config file {path} has mode {mode:04o}, readable by others; "
            f"keys in it are refused: run chmod 600 {path}"
        )


def exposed_keys_warning(config: Any) -> str:
    """A loud one-line warning when the config file holds an ``api_key`` or ``secret``
    and others can read it, even though the keys in use come from elsewhere (the
    environment, the keyring) or the mode is paper; "" when all is well. Live trading
    with keys FROM such a file is refused outright (:func:`check_private_file`)."""
    path = getattr(config, "path", None)
    venues = getattr(config, "venues", {}) or {}
    holding = [name for name, v in venues.items()
               if getattr(v, "api_key", "") or getattr(v, "secret", "")]
    if path is None or not holding:
        return ""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return ""
    if not mode & (stat.S_IRWXG | stat.S_IRWXO):
        return ""
    return (f"WARNING: config {path} holds API keys ({', '.join(sorted(holding))}) and is "
            f"readable by others (mode {mode:04o}): run chmod 600 {path}, or move the keys "
            "to the environment or the keyring")


def _from_keyring(venue: str) -> Credentials:
    import keyring
    from keyring.backends import fail

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        raise CredentialsError(
            f"{venue}: keyring = true but no OS keyring backend is available "
            "(keyring.backends.fail.Keyring); live trading refused. Install a keyring "
            "backend, or use environment variables"
        )
    key = keyring.get_password(KEYRING_SERVICE, f"{venue}:api_key") or ""
    secret = keyring.get_password(KEYRING_SERVICE, f"{venue}:secret") or ""
    password = keyring.get_password(KEYRING_SERVICE, f"{venue}:password") or ""
    if not key or not secret:
        raise CredentialsError(
            f"{venue}: keyring has no {venue}:api_key / {venue}:secret under service "
            f"{KEYRING_SERVICE!r}; add them with: keyring set {KEYRING_SERVICE} {venue}:api_key"
        )
    return Credentials(venue, key, secret, password, "keyring")


def load_credentials(venue: str, cfg: Any, *, config_path: str | os.PathLike | None = None,
                     environ: Mapping[str, str] | None = None) -> Credentials:
    """The credentials of ``venue`` from keyring, environment or config file (see module).

    ``cfg`` is the venue's config section (``cockpit.config.VenueConfig`` or any object
    with the same attributes); ``config_path`` the file it was read from, whose mode
    is checked before keys in it are used.
    """
    env = os.environ if environ is None else environ
    if getattr(cfg, "keyring", False):
        return _from_keyring(venue)
    key_env, secret_env, password_env = _env_names(venue, cfg)
    key, secret = env.get(key_env, ""), env.get(secret_env, "")
    password = env.get(password_env, "")
    if key and secret:
        return Credentials(venue, key, secret, password, "env")
    file_key, file_secret = getattr(cfg, "api_key", ""), getattr(cfg, "secret", "")
    if file_key or file_secret:
        if config_path is None:
            raise CredentialsError(
                f"{venue}: api_key in config but the config file is unknown, so its "
                "permissions cannot be checked; use environment variables instead"
            )
        check_private_file(config_path)
        if not (file_key and file_secret):
            raise CredentialsError(f"{venue}: config has api_key or secret but not both")
        return Credentials(venue, file_key, file_secret, password, "file")
    raise CredentialsError(
        f"{venue}: no API key; set {key_env} and {secret_env}, or keyring = true, "
        f"or api_key/secret in a chmod 600 config file"
    )


class RedactingFilter(logging.Filter):
    """Replaces every known secret in a log record (message, args, traceback) with ***."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        # Very short strings would redact ordinary text; real keys are long.
        self._secrets.update(s for s in secrets if s and len(s) >= 6)

    def redact(self, text: str) -> str:
        for s in sorted(self._secrets, key=len, reverse=True):
            if s in text:
                text = text.replace(s, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = str(record.msg)
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = self.redact(text)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


_FILTER = RedactingFilter()


def install_redaction(credentials: Credentials | Iterable[str],
                      logger: logging.Logger | None = None) -> RedactingFilter:
    """Register secrets with the process-wide redacting filter and attach it to
    ``logger`` (root by default) and each of its handlers (handler filters also see
    records propagated from child loggers such as ccxt's)."""
    secrets = credentials.secrets() if isinstance(credentials, Credentials) else credentials
    _FILTER.add(*secrets)
    target = logger if logger is not None else logging.getLogger()
    if _FILTER not in target.filters:
        target.addFilter(_FILTER)
    for handler in target.handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
    return _FILTER


def redact(text: str) -> str:
    """``text`` with every registered secret replaced (for error output and the screen)."""
    return _FILTER.redact(text)

