"""Associations between records, kept in both directions as HubSpot shows them.

Writing deal -> task (type 215) also records task -> deal (216): each default type has a
reverse. Only the portal's HUBSPOT_DEFINED default types exist here (no labels).
"""

from __future__ import annotations

from collections import defaultdict

from handoff_sync.sandbox.hubspot.schema import ASSOCIATION_TYPES, OBJECT_TYPE_IDS

HUBSPOT_DEFINED = "HUBSPOT_DEFINED"
SINGULAR: dict[str, str] = {
    "deals": "deal", "tasks": "task", "companies": "company", "contacts": "contact",
}
# type id -> (from type, to type) and type id -> the id of the opposite direction.
PAIR_OF_TYPE: dict[int, tuple[str, str]] = {tid: pair for pair, tid in ASSOCIATION_TYPES.items()}
REVERSE_TYPE: dict[int, int] = {
    tid: ASSOCIATION_TYPES[(to, frm)] for (frm, to), tid in ASSOCIATION_TYPES.items()
}

# (from type, to type) -> from id -> to id -> association type ids
Links = dict[tuple[str, str], dict[int, dict[int, set[int]]]]


def type_label(from_type: str, to_type: str) -> str:
    """The v3 ``type`` of an association, e.g. ``deal_to_task``."""
    return f"{SINGULAR[from_type]}_to_{SINGULAR[to_type]}"


def object_type_id(object_type: str) -> str:
    return OBJECT_TYPE_IDS[object_type]


class AssociationStore:
    def __init__(self) -> None:
        self._links: Links = defaultdict(lambda: defaultdict(dict))

    def reset(self) -> None:
        self._links = defaultdict(lambda: defaultdict(dict))

    def add(self, from_type: str, from_id: int, to_type: str, to_id: int, type_id: int) -> None:
        """Record one association and its reverse."""
        self._one_way(from_type, from_id, to_type, to_id, type_id)
        self._one_way(to_type, to_id, from_type, from_id, REVERSE_TYPE[type_id])

    def _one_way(self, from_type: str, from_id: int, to_type: str, to_id: int,
                 type_id: int) -> None:
        self._links[(from_type, to_type)][from_id].setdefault(to_id, set()).add(type_id)

    def remove(self, from_type: str, from_id: int, to_type: str, to_id: int) -> bool:
        """Drop every association between the two records; False if there was none."""
        found = self._drop_one_way(from_type, from_id, to_type, to_id)
        self._drop_one_way(to_type, to_id, from_type, from_id)
        return found

    def _drop_one_way(self, from_type: str, from_id: int, to_type: str, to_id: int) -> bool:
        by_from = self._links.get((from_type, to_type))
        targets = by_from.get(from_id) if by_from is not None else None
        if not targets or to_id not in targets:
            return False
        del targets[to_id]
        if not targets:
            del by_from[from_id]  # type: ignore[union-attr]
        return True

    def targets(self, from_type: str, from_id: int, to_type: str) -> list[tuple[int, list[int]]]:
        """(to id, sorted type ids) ordered by to id."""
        by_from = self._links.get((from_type, to_type))
        found = by_from.get(from_id, {}) if by_from is not None else {}
        return [(to_id, sorted(found[to_id])) for to_id in sorted(found)]

    def drop_object(self, object_type: str, object_id: int) -> None:
        """Forget an archived record's associations, in both directions."""
        for (from_type, to_type), by_from in list(self._links.items()):
            if from_type != object_type or object_id not in by_from:
                continue
            for to_id in list(by_from[object_id]):
                self.remove(object_type, object_id, to_type, to_id)
