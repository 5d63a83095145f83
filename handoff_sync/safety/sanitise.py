"""Text from a CRM or PRM made safe for the two places it can do harm: a terminal and a
spreadsheet.

A partner name is typed by a partner. Printed raw, ``"\\x1b]8;;http://evil\\x1b\\\\Acme"``
draws a link the reader did not expect and ``"\\x1b[2J"`` clears their screen; written
raw into a CSV cell, ``=HYPERLINK("http://x","y")`` is a formula a spreadsheet runs.

``for_terminal``  drops escape sequences (CSI, OSC, DCS/SOS/PM/APC strings, two-byte
                  ESC sequences), every other C0 and C1 control, DEL, the line and
                  paragraph separators and the bidi overrides that reorder what a
                  line seems to say. Newline and tab stay
                  only where the caller's layout needs them.
``for_rich``      the same, then rich's markup escaped, for text handed to rich (a
                  ``[link=...]`` in a partner name is markup to rich, not text).
``quoted``        a value named in a message: every control character above written as
                  an escape (``\\x1b``, ``\\u202e``), so the reader sees it is there
                  and no terminal acts on it, cut to 40 characters with its length said.
``csv_cell``      OWASP's CSV-injection rule: a text cell starting with ``= + - @``, tab
                  or carriage return gets a leading single quote (after escapes and
                  controls other than newline and tab are dropped). Numbers are never
                  touched: a negative figure stays a number a spreadsheet can sum, and
                  a number cannot hold a formula.
"""

from __future__ import annotations

import re
from typing import Any

from rich.markup import escape

# ESC [ ... final byte (CSI); ESC ] ... BEL or ST (OSC); ESC P/X/^/_ ... ST (strings);
# ESC and one more byte (everything else). The C1 forms (0x9b CSI, 0x9d OSC, 0x90 DCS ...)
# are the same sequences in one byte; an unterminated string runs to the end of the text.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
    r"|(?:\x1b\]|\x9d).*?(?:\x07|\x1b\\|\x9c|\Z)"
    r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f]).*?(?:\x1b\\|\x9c|\Z)"
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?",
    re.DOTALL)
# Line and paragraph separators (U+2028-2029) break a line in editors and browsers;
# bidi embeddings, overrides and isolates (U+202A-202E, U+2066-2069): "Trojan source".
_CONTROLS = "".join(chr(c) for c in (*range(0x00, 0x20), *range(0x7f, 0xa0),
                                     *range(0x2028, 0x202f), *range(0x2066, 0x206a)))
_WHITESPACE = "\t\n\r"
# One line: tab, newline and carriage return read as a space. Layout: newline and tab
# stay; a carriage return (which would let text overwrite its own line) goes.
_ONE_LINE = str.maketrans(dict.fromkeys(_CONTROLS, None) | dict.fromkeys(_WHITESPACE, " "))
_LAYOUT = str.maketrans(dict.fromkeys(_CONTROLS, None) | {"\n": "\n", "\t": "\t"})
_ESCAPED = str.maketrans({c: c.encode("unicode_escape").decode("ascii") for c in _CONTROLS})
QUOTED_LIMIT = 40  # characters of a value quoted in a message

CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def for_terminal(value: Any, *, layout: bool = False) -> str:
    """``value`` as text with no escape sequence and no control character (a tab or a
    line break reads as a space); with ``layout=True`` newlines and tabs are kept."""
    text = _ESCAPES.sub("", str(value))
    return text.translate(_LAYOUT if layout else _ONE_LINE)


def for_rich(value: Any, *, layout: bool = False) -> str:
    """``for_terminal``, then escaped so rich prints it as text, never as markup."""
    return escape(for_terminal(value, layout=layout))


def quoted(text: str, limit: int = QUOTED_LIMIT) -> str:
    """``text`` quoted in a message for people: one line, each control character written
    as its escape, cut to ``limit`` characters with its full length said, so a 100 kB or
    hostile value stays one short line: ``'Acme\\x1b[2J'``, ``'xxx...' (5,000 characters)``."""
    cut = text[:limit].translate(_ESCAPED)
    if len(text) > limit:
        return f"'{cut}...' ({len(text):,} characters)"
    return f"'{cut}'"


def csv_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: escapes and controls dropped as for a
    terminal (a CSV gets `cat`; a lone carriage return also breaks a minimally quoted
    row), then text that would start a formula gets a leading ``'``. Numbers, booleans
    and None pass unchanged."""
    if not isinstance(value, str):
        return value
    text = for_terminal(value, layout=True)
    return "'" + text if text.startswith(CSV_TRIGGERS) else text
