"""Per-field sync rules across both systems, and who wins when both sides changed.

The engine's three-way merge (issue 4) decides *whether* there is a conflict (both
sides differ from the last agreed value); ``decide`` says who wins when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from handoff_sync.model import FieldType, Role, Value


class ConflictPolicy(StrEnum):
    """Who wins a field both systems changed: the one list of the policies a mappings
    file may name (``policy:``), the engine decides by and the store records."""

    PRM_WINS = "prm_wins"
    CRM_WINS = "crm_wins"
    NEWEST_WINS = "newest_wins"
    PRM_UNLESS_BLANK = "prm_unless_blank"
    CRM_UNLESS_BLANK = "crm_unless_blank"
    READ_ONLY = "read_only"  # never written; implied when only one side reads


@dataclass(frozen=True, slots=True)
class FieldSync:
    """How one canonical field moves between the two systems."""

    name: str
    type: FieldType
    policy: ConflictPolicy  # implied by the reading side when only one side reads
    prm_reads: bool
    prm_writes: bool
    crm_reads: bool
    crm_writes: bool


@dataclass(frozen=True, slots=True)
class Decision:
    winner: Role | None  # None: read_only, nothing is written
    value: Value


def decide(policy: ConflictPolicy, prm: Value, crm: Value, *,
           prm_modified: datetime | None = None,
           crm_modified: datetime | None = None) -> Decision:
    """The winning side and value for a field both systems changed.

    newest_wins compares the records' modification times; a tie, or no time on either
    side, goes to the CRM (it is where the direct team works). read_only never writes;
    its value for gates is the CRM's, or the PRM's when the CRM's is blank.
    """
    match policy:
        case ConflictPolicy.PRM_WINS:
            return Decision(Role.PRM, prm)
        case ConflictPolicy.CRM_WINS:
            return Decision(Role.CRM, crm)
        case ConflictPolicy.PRM_UNLESS_BLANK:
            return Decision(Role.CRM, crm) if prm is None else Decision(Role.PRM, prm)
        case ConflictPolicy.CRM_UNLESS_BLANK:
            return Decision(Role.PRM, prm) if crm is None else Decision(Role.CRM, crm)
        case ConflictPolicy.NEWEST_WINS:
            if prm_modified is not None and (crm_modified is None
                                             or prm_modified > crm_modified):
                return Decision(Role.PRM, prm)
            return Decision(Role.CRM, crm)
        case ConflictPolicy.READ_ONLY:
            return Decision(None, prm if crm is None else crm)
    raise ValueError(f"unknown conflict policy {policy!r}; expected one of "
                     f"{', '.join(ConflictPolicy)}")
