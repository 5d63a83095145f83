"""The ids handoff.yaml defines, read from what the file writes rather than from its model.

A reference (a task's stage, a clock's event, a value map into handoff_stage) is checked
against these, so a stage that did not load because of a typo in its ``owner`` still
counts as defined: the typo is reported, and no "no stage 'kickoff'" follows from it.
When an id itself cannot be read, what is defined is unknown and references pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from handoff_sync.problems.report import KeyPath


@dataclass(frozen=True)
class Defined:
    """Ids a file defines at one place, and whether that list is complete."""

    ids: tuple[str, ...]
    complete: bool = True  # False: an entry's id could not be read; others may exist

    def lacks(self, value: str) -> bool:
        """``value`` is surely not defined here (a reference to it is wrong)."""
        return self.complete and value not in self.ids

    @staticmethod
    def union(parts: Iterable[Defined]) -> Defined:
        parts = list(parts)
        ids = dict.fromkeys(i for part in parts for i in part.ids)
        return Defined(tuple(ids), all(part.complete for part in parts))


UNKNOWN = Defined((), complete=False)


def _at(data: Any, path: KeyPath) -> tuple[bool, Any]:
    """The value at ``path`` of the file's data: (True, value); (True, None) when the
    last key is absent from its mapping; (False, None) when a part above is unreadable."""
    node = data
    for index, part in enumerate(path):
        if isinstance(node, dict) and isinstance(part, str):
            if part not in node:
                return index == len(path) - 1, None
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return False, None
    return True, node


def keys_of(data: Any, path: KeyPath, *, required: bool = False) -> Defined:
    """The keys of the mapping at ``path`` (e.g. calendar names); none if it is absent,
    unless the file must write it (then: unknown)."""
    readable, node = _at(data, path)
    if readable and node is None:
        return UNKNOWN if required else Defined(())
    return Defined(tuple(str(k) for k in node)) if isinstance(node, dict) else UNKNOWN


def ids_of(data: Any, path: KeyPath, *, required: bool = False) -> Defined:
    """The ``id:`` of each item of the list at ``path`` (e.g. a handoff type's stages);
    none if it is absent, unless the file must write it (then: unknown)."""
    readable, node = _at(data, path)
    if readable and node is None:
        return UNKNOWN if required else Defined(())
    if not isinstance(node, list):
        return UNKNOWN
    ids = [item.get("id") if isinstance(item, dict) else None for item in node]
    return Defined(tuple(i for i in ids if isinstance(i, str)),
                   all(isinstance(i, str) for i in ids))


def handoff_ids(data: Any) -> tuple[Defined, Defined]:
    """The handoff type ids and the stage ids (of every type) handoff.yaml defines."""
    types = keys_of(data, ("handoff_types",), required=True)
    stages = Defined.union(ids_of(data, ("handoff_types", type_id, "stages"), required=True)
                           for type_id in types.ids)
    return types, Defined(stages.ids, stages.complete and types.complete)
