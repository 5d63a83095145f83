"""What a secret's text may hold, one rule for every reader of secrets.

A token goes into an HTTP header, where a line break is refused by the HTTP library with
an error that prints the header, token included (``Invalid header value b'Bearer
pat-…\\nline 2'``). So a secret is checked as it is read: one trailing newline (every
editor writes one) and surrounding spaces are dropped; any other control character (a
second line, a carriage return from a Windows editor, a NUL, a tab) is refused with a
message naming where the secret came from and never its value. A PEM key is the one
secret that spans lines: ``multiline`` allows line breaks in it.
"""

from __future__ import annotations

import unicodedata

_NAMES = {"\n": "a second line", "\r": "a carriage return (\\r)", "\x00": "a NUL byte",
          "\t": "a tab"}


class SecretTextError(ValueError):
    """The secret's text is unusable; the message names its source, never its value."""


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
