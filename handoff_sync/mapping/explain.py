"""`mappings explain`: what one raw record becomes, and what its gate says (pure).

The record is mapped with its system's mapping; fields that only the other system
provides are blank here, and the report says which, so a "missing" that the other side
would fill is not mistaken for a gap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.registry import SYSTEMS
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.mapping.policy.gates import evaluate_gate
from handoff_sync.mapping.policy.templates import format_value
from handoff_sync.mapping.system.convert import (
    SystemMapping,
    ValueIssue,
    flatten_record,
    to_canonical,
)
from handoff_sync.mapping.system.scope import scope_reason
from handoff_sync.model import (
    CANONICAL_FIELDS,
    Deal,
    GateResult,
    GateStatus,
    OwnerDirectory,
    SystemName,
)
from handoff_sync.safety.sanitise import for_terminal


def guess_system(raw: Mapping[str, Any]) -> SystemName | None:
    """The first system whose API shape the record has, as each registry row tells it
    (HubSpot objects nest values under 'properties'; Salesforce records carry 'attributes'
    or API names such as Id and *__c); None when none recognises it."""
    return next((SystemName(name) for name, row in SYSTEMS.items()
                 if row.looks_like is not None and row.looks_like(raw)), None)


@dataclass(frozen=True, slots=True)
class Explanation:
    """What one raw record becomes: its canonical values (and where each comes from),
    the values that could not be mapped, the gate verdict and what is missing; the text
    `mappings explain` prints and its JSON are both made from this."""

    system: SystemName
    mapping: SystemMapping
    other: SystemMapping  # the other side's mapping
    record_id: str | None
    in_scope: bool
    outside_scope: str | None  # why the daemon skips it (None: in scope)
    values: Mapping[str, Any]  # canonical field -> value, for every field the side reads
    sources: Mapping[str, str]  # canonical field -> system field (or "constant")
    issues: tuple[ValueIssue, ...]
    owners_given: bool
    gate: GateResult
    handoff_label: str | None
    stage_label: str | None
    stage_days: tuple[int, int] | None
    provided_elsewhere: frozenset[str]  # missing fields only the other side maps
    only_other_side: tuple[str, ...]  # canonical fields only the other side provides


def explain(mappings: MappingSet, system: SystemName, raw: Mapping[str, Any],
            owners: OwnerDirectory) -> Explanation:
    mapping = mappings.for_system(system)
    if mapping is None:
        raise ValueError(f"the mappings in {mappings.folder} do not map {system.value}")
    record = flatten_record(system, raw)
    mapped = to_canonical(mapping, record, owners)
    deal = Deal.from_values({k: v for k, v in mapped.values.items() if v is not None})
    other = mappings.crm if mapping is mappings.prm else mappings.prm
    reads = [(name, rule) for name, rule in mapping.fields.items() if rule.reads]
    result = evaluate_gate(mappings.policy, deal)
    handoff = (mappings.policy.handoff_types[result.handoff_type]
               if result.handoff_type is not None else None)
    stage = (next(s for s in handoff.stages if s.id == result.stage)
             if handoff is not None else None)
    return Explanation(
        system=system, mapping=mapping, other=other, record_id=mapped.record_id,
        in_scope=(outside := scope_reason(mapping, record)) is None, outside_scope=outside,
        values={name: mapped.values.get(name) for name, _ in reads},
        sources={name: rule.system_field or "constant" for name, rule in reads},
        issues=tuple(mapped.issues), owners_given=bool(len(owners)), gate=result,
        handoff_label=handoff.label if handoff is not None else None,
        stage_label=stage.label if stage is not None else None,
        stage_days=(stage.days[0], stage.days[1]) if stage is not None else None,
        provided_elsewhere=frozenset(
            item.field for item in result.missing if item.field
            and item.field not in mapping.fields and item.field in other.fields),
        only_other_side=tuple(sorted(
            n for n in other.fields if n not in mapping.fields
            and (n in CANONICAL_FIELDS or n.startswith("custom.")))))


def explain_record(mappings: MappingSet, system: SystemName, raw: Mapping[str, Any],
                   owners: OwnerDirectory) -> str:
    """The explanation as `mappings explain` prints it."""
    return render_explanation(explain(mappings, system, raw, owners))


def render_explanation(found: Explanation) -> str:
    mapping, other = found.mapping, found.other
    lines = [f"Record: {found.system.value} {mapping.object} {found.record_id or '(no id)'} "
             f"({mapping.role.value} side, {mapping.file})"]
    if found.outside_scope is not None:
        lines.append(f"  note: outside the mapping's scope: {found.outside_scope}; "
                     "the daemon skips it")
    lines += ["", "Canonical deal:"]
    width = max(len(name) for name in mapping.fields)
    for name, value in found.values.items():
        lines.append(f"  {name:<{width}}  {format_value(value) if value is not None else '-'}"
                     f"    <- {found.sources[name]}")
    if found.issues:
        lines += ["", "Values that could not be mapped:"]
        lines += [f"  {issue}" for issue in found.issues]
        if not found.owners_given and any("owner directory" in i.message
                                          for i in found.issues):
            lines.append("  (owners are looked up in the live system at run time; pass "
                         "--owners FILE to resolve them here)")
    result = found.gate
    lines += ["", "Handoff:"]
    if result.handoff_type is None or found.stage_days is None:
        lines.append("  no handoff type applies to this deal")
        return _printable(lines)
    lines.append(f"  type:       {result.handoff_type} ({found.handoff_label})")
    lines.append(f"  stage:      {result.stage} ({found.stage_label}, days "
                 f"{found.stage_days[0]}-{found.stage_days[1]})")
    lines.append(f"  required:   {'yes' if result.required else 'no'}")
    verdict = {GateStatus.PASSED: "PASSED", GateStatus.BLOCKED: "BLOCKED",
               GateStatus.NOT_REQUIRED: "NOT REQUIRED"}[result.status]
    lines.append(f"  gate:       {verdict}, {result.completeness_pct}% complete")
    if result.missing:
        lines.append("  missing:")
        for item in result.missing:
            note = ""
            if item.field in found.provided_elsewhere:
                note = f"  (provided by {other.file.name}, not in this record)"
            field = f" [{item.field}]" if item.field else ""
            lines.append(f"    - {item.label}{field}{note}")
    if found.only_other_side:
        lines += ["", f"Only {other.file.name} provides: {', '.join(found.only_other_side)}"]
    return _printable(lines)


def _printable(lines: list[str]) -> str:
    # The record is whatever the user pasted from a system: show its values, not its escapes.
    return "\n".join(for_terminal(line) for line in lines) + "\n"
