"""The columns a file drop's settings name: the registration id, the modification time
and the deletion flag. How their cells are read, and what is said when a header lacks one.

Every other column is handed on untouched (its values are read by the mapping's
transforms); these three decide which record a row is, when it changed and whether it is
gone, so the connector reads them itself, leniently about the forms exports write (epoch
milliseconds or ISO 8601, yes/no or 1/0) and strictly about anything else: a row whose
time or flag cannot be read is skipped with its line, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from connectors.reading import (
    Unreadable,
    did_you_mean,
    read_flag,
    read_instant,
)
from connectors.reading import is_blank as blank  # the one blank test

__all__ = ["Unreadable", "blank", "flag", "instant", "missing_column", "no_id_column",
           "record_id"]



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
    if not isinstance(raw, (int, str)) or isinstance(raw, bool):  # a cell, never parsed
        raise Unreadable(f"expected a date and time, got {type(raw).__name__}",
                         about_value=False)
    return read_instant(raw)


def flag(raw: Any) -> bool:
    """Yes or no from true/false, yes/no, y/n, on/off, 1/0 (any case), or a JSON boolean."""
    return read_flag(raw)


def missing_column(column: str, setting: str, columns: Sequence[str]) -> str:
    """The header lacks the column a setting names (the modified or deleted column)."""
    hint = did_you_mean(column, columns) or f"columns: {', '.join(columns[:12])}"
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


def _folded(name: str) -> str:
    return re.sub(r"[\W_]+", "", name).casefold()
