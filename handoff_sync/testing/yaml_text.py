"""Editing a shipped YAML file's text in tests, the way an admin would: by section."""

from __future__ import annotations


def without_section(text: str, key: str) -> str:
    """``text`` without its top-level ``key:`` section (unchanged when it has none), so a
    test can write its own version of that section without a duplicate key."""
    lines = text.splitlines(keepends=True)
    start = next((n for n, line in enumerate(lines) if line.startswith(f"{key}:")), None)
    if start is None:
        return text
    end = next((n for n in range(start + 1, len(lines))
                if lines[n].strip() and not lines[n].startswith((" ", "#"))), len(lines))
    return "".join(lines[:start] + lines[end:])
