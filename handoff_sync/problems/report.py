"""Validation problems: what an admin reads when a mappings folder is wrong.

Each problem names the file, line and column, the key path inside the file, what was
expected, and, where a near miss is likely, a did-you-mean hint. Loading collects every
problem of every file before raising, so one run of `mappings validate` lists them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

KeyPath = tuple[str | int, ...]


def format_path(path: KeyPath) -> str:
    """``fields.amount.transform``, ``stages[2].gate[0]``; keys with dots are quoted."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            shown = part if part and all(c.isalnum() or c in "_-" for c in part) else repr(part)
            text += f".{shown}" if text else shown
    return text or "(top level)"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one file."""

    file: Path
    line: int  # 1-based
    column: int  # 1-based
    path: KeyPath  # where in the file's structure
    message: str  # what is wrong and what was expected
    hint: str = ""  # what to do, e.g. "did you mean 'amount'?"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        text = f"{where}: {format_path(self.path)}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (str(self.file), self.line, self.column, self.message)


def one_of(choices: Iterable[str], limit: int = 12) -> str:
    """'a', 'b' or 'c' - the admin-facing list of allowed values (cut after ``limit``)."""
    items = [f"'{c}'" for c in choices]
    if len(items) > limit:
        return ", ".join(items[:limit]) + f" ... ({len(items) - limit} more)"
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + f" or {items[-1]}"
