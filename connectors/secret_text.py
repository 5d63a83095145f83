"""Reading a secret, one rule for every reader: the config check, both connectors.

A secret comes from a file (a mounted secret, a PEM key) or an environment variable; a
file, when named, wins. Missing, empty, unreadable and malformed secrets are a
``SecretTextError`` naming the file or variable and what to do, never the value.

A token goes into an HTTP header, where a line break is refused by the HTTP library with
an error that prints the header, token included (``Invalid header value b'Bearer
pat-…\\nline 2'``). So a secret is checked as it is read: one trailing newline (every
editor writes one) and surrounding spaces are dropped; any other control character (a
second line, a carriage return from a Windows editor, a NUL, a tab) is refused with a
message naming where the secret came from and never its value. A PEM key is the one
secret that spans lines: ``multiline`` allows line breaks in it.

Every value read goes to an ``on_secret`` hook before it can reach an error or a log
line: the daemon passes one that registers it for redaction (connectors import nothing of
handoff_sync, so they cannot register it themselves). A refused value goes there too, with
each of its lines: it is never used, but line 1 of a token file is still the token.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Mapping
from pathlib import Path

SecretHook = Callable[[str], None]
"""Told every secret value a connector reads or mints (tokens from a login or a refresh)."""

_NAMES = {"\n": "a second line", "\r": "a carriage return (\\r)", "\x00": "a NUL byte",
          "\t": "a tab"}


class SecretTextError(ValueError):
    """The secret is missing or unusable; the message names its source, never its value."""


def ignore(_value: str) -> None:
    """The hook when nobody redacts (a connector built outside the daemon)."""


def read_secret(*, file: str | Path | None = None, env: str | None = None,
                environ: Mapping[str, str] | None = None, multiline: bool = False,
                on_secret: SecretHook | None = None) -> str:
    """The secret from ``file`` if given, else from the variable ``env`` (looked up in
    ``environ``, default ``os.environ``), checked by ``clean_secret`` and told to
    ``on_secret``; SecretTextError when it is missing, empty, unreadable or refused."""
    hook = on_secret or ignore
    if file is not None:
        where = f"file {file}"
        raw = _read_file(Path(file))
    elif env:
        where = f"environment variable {env}"
        values = os.environ if environ is None else environ
        if env not in values:
            raise SecretTextError(f"{where} is not set: set it to the secret, or keep the "
                                  "secret in a file and name the file instead")
        raw = values[env]
    else:
        raise SecretTextError("a secret needs a file or an environment variable")
    try:
        value = clean_secret(raw, where, multiline=multiline)
    except SecretTextError:
        for piece in (raw, *_pieces(raw)):
            hook(piece)
        raise
    if not value:
        raise SecretTextError(f"{where} is empty: put the secret in it")
    hook(value)
    return value


def clean_secret(raw: str, source: str, *, multiline: bool = False) -> str:
    """``raw`` as read from ``source`` (e.g. "file /run/secrets/token" or "environment
    variable TOKEN"), ready to use: SecretTextError when it holds a control character.
    May return "" (the caller says that the secret is missing)."""
    value = raw[:-1] if raw.endswith("\n") else raw
    if multiline:
        value = value.strip()
        allowed = {"\n", "\r"}
    else:
        value = value.strip(" ")
        allowed = set()
    bad = next((c for c in value if c not in allowed and _is_control(c)), None)
    if bad is None:
        return value
    raise SecretTextError(f"{source} holds {_describe(bad)}: {_advice(bad, source)}")


def _pieces(raw: str) -> list[str]:
    """The text between control characters (the lines of a two-line token file)."""
    return [piece for piece in re.split(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+", raw) if piece]


def _read_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SecretTextError(f"file {path} not found: create it holding the secret, or fix "
                              "the path in the config") from None
    except IsADirectoryError:
        raise SecretTextError(f"file {path} is a folder: point the config at the file "
                              "holding the secret") from None
    except PermissionError:
        raise SecretTextError(f"file {path} cannot be read by this user (permission "
                              "denied): `chown` it to the user running handoff-sync, or "
                              "`chmod 640` it with a shared group") from None
    except OSError as exc:
        raise SecretTextError(f"file {path} cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise SecretTextError(f"file {path} is not UTF-8 text: write the secret as "
                              "text") from None


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Zl", "Zp")


def _describe(char: str) -> str:
    return _NAMES.get(char, f"the control character U+{ord(char):04X}")


def _advice(char: str, source: str) -> str:
    if char == "\n":
        return ("a secret is one line (one newline at the end is fine); keep only the "
                "secret's line")
    if char == "\r":
        fix = "save it with Unix line ends (e.g. `dos2unix`)" if source.startswith("file") \
            else "set it without the \\r (was it read from a file with Windows line ends?)"
        return f"{fix}"
    return "remove it (a secret holds printable characters only)"
