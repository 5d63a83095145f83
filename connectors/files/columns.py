"""The columns a file drop's settings name: the registration id, the modification time
and the deletion flag. How their cells are read, and what is said when a header lacks one.

Every other column is handed on untouched (its values are read by the mapping's
transforms); these three decide which record a row is, when it changed and whether it is
gone, so the connector reads them itself, leniently about the forms exports write (epoch
milliseconds or ISO 8601, yes/no or 1/0) and strictly about anything else: a row whose
time or flag cannot be read is skipped with its line, never guessed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

_TRUE = frozenset({"true", "yes", "1", "y", "on"})
_FALSE = frozenset({"false", "no", "0", "n", "off"})
_EPOCH_MS = re.compile(r"-?[0-9]{9,15}")


class Unreadable(ValueError):
    """A control column's cell that is not what its setting says it holds."""


def blank(value: Any) -> bool:
    """None, empty or whitespace text, or an empty list: the column was left empty."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (tuple, list, set, frozenset)):
        return not value
    return False


def record_id(value: Any) -> str | None:
    """The id in a cell: text (trimmed) or a whole number; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def instant(raw: Any) -> datetime:
    """An instant in UTC from ISO 8601 text (no offset: UTC) or epoch milliseconds."""
    if not isinstance(raw, (int, str)) or isinstance(raw, bool):
        raise Unreadable(f"expected a date and time, got {type(raw).__name__}")
    text = str(raw).strip()
    if _EPOCH_MS.fullmatch(text):
        try:
            return datetime.fromtimestamp(int(text) / 1000, UTC)
        except (ValueError, OverflowError, OSError):  # beyond year 1 to 9999
            raise Unreadable("not a date and time between the years 1 and 9999") from None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Unreadable("not a date and time") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00-05:00 is in the year 10000 in UTC
        raise Unreadable("not a date and time between the years 1 and 9999 in UTC") from None


def flag(raw: Any) -> bool:
    """Yes or no from true/false, yes/no, y/n, on/off, 1/0 (any case), or a JSON boolean."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        text = raw.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise Unreadable("not true or false")


def missing_column(column: str, setting: str, columns: Sequence[str]) -> str:
    """The header lacks the column a setting names (the modified or deleted column)."""
    hint = _did_you_mean(column, columns) or f"columns: {', '.join(columns[:12])}"
    return (f"the header has no column '{column}' (the file drop's '{setting}' setting; "
            f"{hint}); the file was not read")


def no_id_column(id_field: str, columns: Sequence[str]) -> str:
    """The header lacks the id column: say so without quoting it, unless the only
    difference is case or punctuation (then the name quoted is the setting's own)."""
    wanted = _folded(id_field)
    near = next((name for name in columns if _folded(name) == wanted), None)
    if near is not None:
        sensitive = "? Names are case-sensitive" if near.lower() == id_field.lower() else "?"
        return (f"the header has no column '{id_field}' (the file drop's 'id_field' "
                f"setting; did you mean '{near}'{sensitive}); the file was not read")
    return (f"the header has no column '{id_field}' (the file drop's 'id_field' setting); "
            "the file was not read. An export's first non-blank line is its header and "
            "names that column: check that this file is an export from the PRM (its "
            "content is not shown, in case it is not), or correct the setting")


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint naming the closest choice, or "" when nothing is close enough."""
    options = sorted(set(choices))
    lowered = {c.lower(): c for c in options}
    if word.lower() in lowered and lowered[word.lower()] != word:
        return f"did you mean '{lowered[word.lower()]}'? Names are case-sensitive"
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close:
        close = [lowered[m] for m in difflib.get_close_matches(word.lower(), list(lowered),
                                                                n=1, cutoff=0.6)]
    return f"did you mean '{close[0]}'?" if close else ""


def _folded(name: str) -> str:
    return re.sub(r"[\W_]+", "", name).casefold()
