"""Per-field sync rules across both systems, and who wins when both sides changed.

The engine's three-way merge (issue 4) decides *whether* there is a conflict (both
sides differ from the last agreed value); ``decide`` says who wins when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from handoff_sync.model import FieldType, Role, Value

POLICIES = ("prm_wins", "crm_wins", "newest_wins", "prm_unless_blank", "crm_unless_blank",
            "read_only")


@dataclass(frozen=True, slots=True)
class FieldSync:
    """How one canonical field moves between the two systems."""

    name: str
    type: FieldType
    policy: str  # one of POLICIES; implied by the reading side when only one side reads
    prm_reads: bool
    prm_writes: bool
    crm_reads: bool
    crm_writes: bool


@dataclass(frozen=True, slots=True)
class Decision:
    winner: Role | None  # None: read_only, nothing is written
    value: Value


def decide(policy: str, prm: Value, crm: Value, *, prm_modified: datetime | None = None,
           crm_modified: datetime | None = None) -> Decision:
    """The winning side and value for a field both systems changed.

    newest_wins compares the records' modification times; a tie, or no time on either
    side, goes to the CRM (it is where the direct team works). read_only never writes;
    its value for gates is the CRM's, or the PRM's when the CRM's is blank.
    """
    if policy == "prm_wins":
        return Decision(Role.PRM, prm)
    if policy == "crm_wins":
        return Decision(Role.CRM, crm)
    if policy == "prm_unless_blank":
        return Decision(Role.CRM, crm) if prm is None else Decision(Role.PRM, prm)
    if policy == "crm_unless_blank":
        return Decision(Role.PRM, prm) if crm is None else Decision(Role.CRM, crm)
    if policy == "newest_wins":
        if prm_modified is not None and (crm_modified is None or prm_modified > crm_modified):
            return Decision(Role.PRM, prm)
        return Decision(Role.CRM, crm)
    if policy == "read_only":
        return Decision(None, prm if crm is None else crm)
    raise ValueError(f"unknown conflict policy {policy!r}; expected one of {POLICIES}")
