"""Values quoted back in a connector's messages: an id typed by a person, a cell of an
export. Such text may hold a terminal escape, a line break or 5,000 characters; the
message must stay one short line that shows, never performs, what the value holds.

(handoff_sync/safety/sanitise.py quotes the same way for the rest of the product; connectors
import nothing of handoff_sync, so they share this one.)
"""

from __future__ import annotations

LIMIT = 40  # characters of a value quoted in a message


def quoted(value: object, limit: int = LIMIT) -> str:
    """``value`` for a message: text in single quotes, anything else (a JSON number, list
    or object of an export) as its repr; every unprintable character (controls, line and
    paragraph separators, bidi overrides) written as repr writes it; cut to ``limit``
    characters with the full length said: ``'0065g\\x1b[2J'``, ``True``, ``'xxx...'
    (5,000 characters)``."""
    text = value if isinstance(value, str) else repr(value)
    cut = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text[:limit])
    if len(text) > limit:
        cut, length = cut + "...", f" ({len(text):,} characters)"
    else:
        length = ""
    return (f"'{cut}'" if isinstance(value, str) else cut) + length


__all__ = ["LIMIT", "quoted"]
