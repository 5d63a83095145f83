"""Every secret value this process has loaded, and any text with those values taken out.

Key names and token shapes catch most leaks, but not a secret inside an exception's text:
``ValueError: Invalid header value b'Bearer pat-…\\nsecond-line'`` names no key, and a
traceback is rendered long after any field was checked. So every secret value is
registered here as it is loaded: by the config loader, and by the connectors for every
secret they read (at each login: a rotated file too) and every token they mint, through
the ``on_secret`` hook ``connect`` gives them. The log pipeline, the commands' output
streams and the messages recorded in the store replace each registered value wherever it
appears. The registry only grows: a rotated secret's old value stays
redacted, which costs nothing.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"
MIN_LENGTH = 6
"""Shorter values are not registered: redacting every "abc" would garble the logs, and a
secret that short protects nothing anyway."""

_lock = threading.Lock()
_known: frozenset[str] = frozenset()
_pattern: re.Pattern[str] | None = None


def remember(*values: str | None) -> None:
    """Register secret values (and the forms they take in a repr: escaped, bytes)."""
    global _known, _pattern
    fresh = {form for value in values if value and len(value.strip()) >= MIN_LENGTH
             for form in _forms(value.strip())}
    with _lock:
        if fresh <= _known:
            return
        _known = _known | fresh
        # Longest first, so a value containing another is replaced whole.
        _pattern = re.compile("|".join(re.escape(v) for v in
                                       sorted(_known, key=len, reverse=True)))


def known() -> frozenset[str]:
    """The registered values (for tests and for checking outputs)."""
    return _known


def forget_all() -> None:
    """Empty the registry (tests only: a process never unlearns a secret)."""
    global _known, _pattern
    with _lock:
        _known, _pattern = frozenset(), None


def redact(text: str) -> str:
    """``text`` with every registered secret value replaced by ``[redacted]``."""
    pattern = _pattern
    if pattern is None or not text:
        return text
    return pattern.sub(REDACTED, text)


def redact_value(value: Any) -> Any:
    """``value`` with secrets redacted in every string it holds (dicts, lists, tuples,
    sets); other types as they are."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_value(k): redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return type(value)(redact_value(item) for item in value)
    if isinstance(value, BaseException):
        return redact(f"{type(value).__name__}: {value}")
    return value


def _forms(value: str) -> Iterable[str]:
    """The value and how it shows inside ``repr()`` of a str or bytes (escaped)."""
    yield value
    escaped = repr(value)[1:-1]
    if escaped != value:
        yield escaped
    as_bytes = repr(value.encode("utf-8", "backslashreplace"))[2:-1]
    if as_bytes != value:
        yield as_bytes


class RedactingStream:
    """A text stream that redacts what is written through it, for a command's stdout and
    stderr: whatever a command prints (a vendor's error text, a JSON summary, a traceback)
    passes here last. Everything else is the wrapped stream's."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        self._inner.write(redact(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._inner.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
