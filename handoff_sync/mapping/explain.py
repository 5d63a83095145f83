"""`mappings explain`: what one raw record becomes, and what its gate says (pure).

The record is mapped with its system's mapping; fields that only the other system
provides are blank here, and the report says which, so a "missing" that the other side
would fill is not mistaken for a gap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.registry import SYSTEMS
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.mapping.policy.gates import evaluate_gate
from handoff_sync.mapping.policy.templates import format_value
from handoff_sync.mapping.system.convert import flatten_record, to_canonical
from handoff_sync.mapping.system.scope import scope_reason
from handoff_sync.model import CANONICAL_FIELDS, Deal, GateStatus, OwnerDirectory, SystemName
from handoff_sync.safety.sanitise import for_terminal


def guess_system(raw: Mapping[str, Any]) -> SystemName | None:
    """The first system whose API shape the record has, as each registry row tells it
    (HubSpot objects nest values under 'properties'; Salesforce records carry 'attributes'
    or API names such as Id and *__c); None when none recognises it."""
    return next((SystemName(name) for name, row in SYSTEMS.items()
                 if row.looks_like is not None and row.looks_like(raw)), None)


def explain_record(mappings: MappingSet, system: SystemName, raw: Mapping[str, Any],
                   owners: OwnerDirectory) -> str:
    mapping = mappings.for_system(system)
    if mapping is None:
        raise ValueError(f"the mappings in {mappings.folder} do not map {system.value}")
    record = flatten_record(system, raw)
    mapped = to_canonical(mapping, record, owners)
    deal = Deal.from_values({k: v for k, v in mapped.values.items() if v is not None})
    other = mappings.crm if mapping is mappings.prm else mappings.prm
    lines = [f"Record: {system.value} {mapping.object} {mapped.record_id or '(no id)'} "
             f"({mapping.role.value} side, {mapping.file})"]
    if (outside := scope_reason(mapping, record)) is not None:
        lines.append(f"  note: outside the mapping's scope: {outside}; the daemon skips it")
    lines += ["", "Canonical deal:"]
    width = max(len(name) for name in mapping.fields)
    for name, rule in mapping.fields.items():
        if not rule.reads:
            continue
        source = rule.system_field or "constant"
        value = mapped.values.get(name)
        lines.append(f"  {name:<{width}}  {format_value(value) if value is not None else '-'}"
                     f"    <- {source}")
    if mapped.issues:
        lines += ["", "Values that could not be mapped:"]
        lines += [f"  {issue}" for issue in mapped.issues]
        if not len(owners) and any("owner directory" in i.message for i in mapped.issues):
            lines.append("  (owners are looked up in the live system at run time; pass "
                         "--owners FILE to resolve them here)")
    result = evaluate_gate(mappings.policy, deal)
    lines += ["", "Handoff:"]
    if result.handoff_type is None:
        lines.append("  no handoff type applies to this deal")
        return _printable(lines)
    handoff = mappings.policy.handoff_types[result.handoff_type]
    stage = next(s for s in handoff.stages if s.id == result.stage)
    lines.append(f"  type:       {result.handoff_type} ({handoff.label})")
    lines.append(f"  stage:      {stage.id} ({stage.label}, days {stage.days[0]}-"
                 f"{stage.days[1]})")
    lines.append(f"  required:   {'yes' if result.required else 'no'}")
    verdict = {GateStatus.PASSED: "PASSED", GateStatus.BLOCKED: "BLOCKED",
               GateStatus.NOT_REQUIRED: "NOT REQUIRED"}[result.status]
    lines.append(f"  gate:       {verdict}, {result.completeness_pct}% complete")
    if result.missing:
        lines.append("  missing:")
        for item in result.missing:
            note = ""
            if item.field and item.field not in mapping.fields and item.field in other.fields:
                note = f"  (provided by {other.file.name}, not in this record)"
            field = f" [{item.field}]" if item.field else ""
            lines.append(f"    - {item.label}{field}{note}")
    elsewhere = sorted(n for n in other.fields if n not in mapping.fields
                       and (n in CANONICAL_FIELDS or n.startswith("custom.")))
    if elsewhere:
        lines += ["", f"Only {other.file.name} provides: {', '.join(elsewhere)}"]
    return _printable(lines)


def _printable(lines: list[str]) -> str:
    # The record is whatever the user pasted from a system: show its values, not its escapes.
    return "\n".join(for_terminal(line) for line in lines) + "\n"
