"""A deal's field merge carried from one plan to another of the same records.

The what-if (sync.whatif) plans the stored deals twice: with the mappings in force and
with a candidate. When the candidate leaves the field mappings and rules alone, each
deal's three-way merge (most of planning a deal) is the same in both plans: it depends
only on the deal's two records, its base snapshot, the field rules, the sides' stored
forms, the owners and the limits. So the first plan keeps each merge with the objects it
was made of, and the second uses it when its records and base are those very objects
(compared by identity: a record cleared of a stale id is another object, and is merged
again). The caller vouches for the rest (EngineInput.merges).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from handoff_sync.engine.reconcile import Reconciled
from handoff_sync.engine.types import BaseSnapshot
from handoff_sync.mapping.system.convert import MappedRecord

Ids = tuple[str | None, str | None]  # the link's (prm_id, crm_id)


@dataclass(frozen=True)
class Merge:
    """One deal's first merge and what it was made of."""

    ids: Ids
    prm: MappedRecord | None
    crm: MappedRecord | None
    base: BaseSnapshot | None
    merged: Reconciled


def merge_of(memo: Mapping[str, Merge] | None,
             reconcile: Callable[..., Reconciled], key: str, prm: MappedRecord | None,
             crm: MappedRecord | None, base: BaseSnapshot | None, ids: Ids) -> Reconciled:
    """The merge of deal ``key``: ``memo``'s when made of these objects, else
    ``reconcile``'s (kept in ``memo`` when it is a dict: the plan that fills it)."""
    held = memo.get(key) if memo is not None else None
    if held is not None and held.ids == ids and held.prm is prm and held.crm is crm \
            and held.base is base:
        return held.merged
    merged = reconcile(key, prm, crm, base, identity={"prm_id": ids[0], "crm_id": ids[1]})
    if isinstance(memo, dict):
        memo[key] = Merge(ids, prm, crm, base, merged)
    return merged
