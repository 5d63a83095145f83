"""Per-field sync rules across both systems, and who wins when both sides changed.

The engine's three-way merge (issue 4) decides *whether* there is a conflict (both
sides differ from the last agreed value); ``decide`` says who wins when there is one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from handoff_sync.model import FieldType, Role, Value, quick_init


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


@quick_init
@dataclass(frozen=True, slots=True)
class Decision:
    winner: Role | None  # None: read_only, nothing is written
    value: Value


# (prm value, crm value, prm modified, crm modified) -> (winner, value): one policy's rule.
Choose = Callable[[Value, Value, datetime | None, datetime | None], tuple[Role | None, Value]]


def _prm_wins(prm: Value, crm: Value, pm: datetime | None,
              cm: datetime | None) -> tuple[Role | None, Value]:
    return Role.PRM, prm


def _crm_wins(prm: Value, crm: Value, pm: datetime | None,
              cm: datetime | None) -> tuple[Role | None, Value]:
    return Role.CRM, crm


def _prm_unless_blank(prm: Value, crm: Value, pm: datetime | None,
                      cm: datetime | None) -> tuple[Role | None, Value]:
    return (Role.CRM, crm) if prm is None else (Role.PRM, prm)


def _crm_unless_blank(prm: Value, crm: Value, pm: datetime | None,
                      cm: datetime | None) -> tuple[Role | None, Value]:
    return (Role.PRM, prm) if crm is None else (Role.CRM, crm)


def _newest_wins(prm: Value, crm: Value, pm: datetime | None,
                 cm: datetime | None) -> tuple[Role | None, Value]:
    if pm is not None and (cm is None or pm > cm):
        return Role.PRM, prm
    return Role.CRM, crm


def _read_only(prm: Value, crm: Value, pm: datetime | None,
               cm: datetime | None) -> tuple[Role | None, Value]:
    return None, prm if crm is None else crm


_CHOOSERS: Mapping[ConflictPolicy, Choose] = MappingProxyType({
    ConflictPolicy.PRM_WINS: _prm_wins, ConflictPolicy.CRM_WINS: _crm_wins,
    ConflictPolicy.PRM_UNLESS_BLANK: _prm_unless_blank,
    ConflictPolicy.CRM_UNLESS_BLANK: _crm_unless_blank,
    ConflictPolicy.NEWEST_WINS: _newest_wins, ConflictPolicy.READ_ONLY: _read_only})


def chooser(policy: ConflictPolicy) -> Choose:
    """``decide`` for one policy as a plain function returning (winner, value): the merge
    looks it up once per field rather than matching the policy for every pair."""
    try:
        return _CHOOSERS[policy]
    except KeyError:
        raise ValueError(f"unknown conflict policy {policy!r}; expected one of "
                         f"{', '.join(ConflictPolicy)}") from None


def decide(policy: ConflictPolicy, prm: Value, crm: Value, *,
           prm_modified: datetime | None = None,
           crm_modified: datetime | None = None) -> Decision:
    """The winning side and value for a field both systems changed.

    newest_wins compares the records' modification times; a tie, or no time on either
    side, goes to the CRM (it is where the direct team works). read_only never writes;
    its value for gates is the CRM's, or the PRM's when the CRM's is blank.
    """
    winner, value = chooser(policy)(prm, crm, prm_modified, crm_modified)
    return Decision(winner, value)
