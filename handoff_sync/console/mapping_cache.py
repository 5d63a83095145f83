"""Mappings as pages read them, parsed once per content: a folder's validation per digest
of its files, a system file's form rows and facts per digest of its text.

Every page of the console reads the mappings (names on Review, the forms on Mappings,
the what-if on Policy), and parsing them with ruamel costs tens of milliseconds whatever
the store holds. A digest of what is on disk, read on every request, is the key: an
edit (from here, or by hand, or a checkout) changes it, so nothing stale is ever shown,
and no modification time is trusted (two saves in one tick, a restored file with an old
time). Cached values are copied out: callers may change what they get.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from handoff_sync.console import system_form
from handoff_sync.console.drafts import digest
from handoff_sync.console.system_form import Row
from handoff_sync.console.yaml_edit import EditError
from handoff_sync.mapping.loader import MAX_FILES, validate_mappings
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.problems.report import Problem

KEPT = 32  # entries per cache: a few pipelines' folders and files, a version or two each
T = TypeVar("T")


class _Cache:
    """A small LRU map, safe across the threads pages run in."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: OrderedDict[tuple[str, ...], Any] = OrderedDict()

    def get(self, key: tuple[str, ...], make: Callable[[], T]) -> T:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]  # type: ignore[no-any-return]
        value = make()  # outside the lock: a slow parse holds up no other page
        with self._lock:
            self._values[key] = value
            while len(self._values) > KEPT:
                self._values.popitem(last=False)
        return value

    def drop(self, key: tuple[str, ...]) -> None:
        with self._lock:
            self._values.pop(key, None)


_FOLDERS = _Cache()
_FILES = _Cache()


def folder_digest(folder: Path) -> str:
    """A digest of the files ``validate_mappings`` reads (names and bytes); '' when the
    folder cannot be read."""
    hashed = hashlib.sha256()
    try:
        files = sorted(path for path in folder.iterdir()
                       if path.suffix in (".yaml", ".yml") and path.is_file())[:MAX_FILES]
        for path in files:
            content = path.read_bytes()
            hashed.update(f"{path.name}\0{len(content)}\0".encode())
            hashed.update(content)
    except OSError:
        return ""
    return hashed.hexdigest()


def validated(folder: Path) -> tuple[MappingSet | None, list[Problem]]:
    """``validate_mappings(folder)``, once per content of the folder."""
    before = folder_digest(folder)
    if not before:
        return validate_mappings(folder)

    def check() -> tuple[MappingSet | None, tuple[Problem, ...]]:
        mappings, problems = validate_mappings(folder)
        return mappings, tuple(problems)

    key = (str(folder.resolve()), before)
    mappings, problems = _FOLDERS.get(key, check)
    if folder_digest(folder) != before:  # changed while it was read: not kept
        _FOLDERS.drop(key)
        return validate_mappings(folder)
    return mappings, list(problems)


def file_rows(text: str) -> dict[str, list[Row]]:
    """The form's rows of a system file; none when it is not YAML (the YAML editor
    opens)."""
    def parse() -> dict[str, list[Row]]:
        try:
            return {section: system_form.rows_of(text, section)
                    for section in system_form.SECTIONS}
        except EditError:
            return {}

    rows = _FILES.get(("rows", digest(text)), parse)
    return {section: [replace(row, values=dict(row.values)) for row in found]
            for section, found in rows.items()}


def file_summary(text: str) -> dict[str, Any]:
    """What the Mappings index says of a system file: its role, object and how many
    entries per section."""
    def summarise() -> dict[str, Any]:
        facts = system_form.facts(text)
        if facts["broken"]:
            return facts
        return {**facts, **{section: len(rows) for section, rows in file_rows(text).items()}}

    return dict(_FILES.get(("summary", digest(text)), summarise))


def file_facts(text: str) -> dict[str, Any]:
    """``system_form.facts`` of a system file's text."""
    return dict(_FILES.get(("facts", digest(text)), lambda: system_form.facts(text)))


__all__ = ["file_facts", "file_rows", "file_summary", "folder_digest", "validated"]
