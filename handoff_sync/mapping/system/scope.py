"""A mapping's ``scope:``: which records of the object are the pipeline's, and why one is not.

A record is in scope when each scoped field holds the scoped value as text (HubSpot's
``pipeline: "9004451"``, a Salesforce record type). The API connectors ask their system
for in-scope records only, the engine plans no registration outside it, and `plan` and
`mappings explain` say why a record was left out, pointing at the scope's line in the
mapping file, so "plan for 0 deals" never goes unexplained. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.reading import is_blank
from handoff_sync.mapping.system.convert import SystemMapping
from handoff_sync.mapping.system.transforms import scope_text
from handoff_sync.safety.sanitise import quoted


@dataclass(frozen=True, slots=True)
class ScopeMiss:
    """One scoped field a record does not match."""

    field: str
    wanted: str
    held: Any  # the raw value; None or blank: the record lacks the field

    def __str__(self) -> str:
        if is_blank(self.held):
            return f"{self.field} is missing"
        return f"{self.field} is {quoted(scope_text(self.held))}"


@dataclass(frozen=True, slots=True)
class RecordRef:
    """One record of one system, as messages name it."""

    system: str
    object: str
    record_id: str


@dataclass(frozen=True, slots=True)
class SkippedRecord:
    """A record left out of the plan because it is outside its mapping's scope."""

    system: str
    object: str
    record_id: str
    name: str | None  # the deal's name as the record holds it
    reason: str  # "pipeline is missing; the mapping's scope wants pipeline = ... (file:line)"
    named_by: RecordRef | None = None  # the other side's record whose id field names it


def scope_misses(mapping: SystemMapping, raw: Mapping[str, Any]) -> tuple[ScopeMiss, ...]:
    """The scoped fields ``raw`` does not match, in the file's order (empty: in scope)."""
    return tuple(ScopeMiss(name, wanted, raw.get(name)) for name, wanted in mapping.scope.items()
                 if scope_text(raw.get(name)) != wanted)


def scope_reason(mapping: SystemMapping, raw: Mapping[str, Any]) -> str | None:
    """Why ``raw`` is outside the scope, for people, naming the scope's file and line;
    None when it is in scope."""
    misses = scope_misses(mapping, raw)
    if not misses:
        return None
    wants = ", ".join(f"{miss.field} = {miss.wanted}" for miss in misses)
    line, _ = mapping.position(("scope", misses[0].field))
    return (f"{'; '.join(map(str, misses))}; the mapping's scope wants {wants} "
            f"({mapping.file}:{line})")


def skipped_record(mapping: SystemMapping, raw: Mapping[str, Any], record_id: str, *,
                   named_by: RecordRef | None = None) -> SkippedRecord | None:
    """``raw`` as a record skipped by scope, or None when it is in scope."""
    reason = scope_reason(mapping, raw)
    if reason is None:
        return None
    rule = mapping.fields.get("deal_name")
    name = raw.get(rule.system_field) if rule is not None and rule.system_field else None
    return SkippedRecord(mapping.system.value, mapping.object, record_id,
                         None if is_blank(name) else scope_text(name), reason, named_by)

