"""Schema drift: mapped fields a system no longer has, or no longer lets us write.

Pure: compares a mapping with the connector's describe() answer. The sync cycle leaves a
drifted field out of pulls and writes (its last value stays in the mirror, so the engine
sees no change and no gate flips) and reports it in status; once the field is back the
next describe finds nothing and syncing resumes.
"""

from __future__ import annotations

from connectors.base import ObjectSchema
from handoff_sync.mapping.system.convert import SystemMapping

# Per-record error codes that mean "the schema is not what the mapping says": the next
# cycle describes the objects again instead of trusting the cached verdict.
SCHEMA_ERROR_CODES = frozenset({
    "INVALID_FIELD", "INVALID_FIELD_FOR_INSERT_UPDATE", "INVALID_FIELD_WHEN_USING_TEMPLATE",
    "NO_SUCH_COLUMN", "PROPERTY_DOESNT_EXIST", "READ_ONLY_VALUE", "INVALID_TYPE",
})


def drift_key(system: str, object_name: str, field: str) -> str:
    return f"{system}.{object_name}.{field}"


def detect_drift(mapping: SystemMapping, deal_object: ObjectSchema,
                 task_object: ObjectSchema | None = None) -> dict[str, str]:
    """``system.object.field`` -> why it is skipped, for every mapped field that drifted."""
    system = mapping.system.value
    drift: dict[str, str] = {}
    for rule in (*mapping.fields.values(), *mapping.outputs.values()):
        name = rule.system_field
        if name is None:
            continue
        described = deal_object.get(name)
        key = drift_key(system, mapping.object, name)
        if described is None:
            drift[key] = f"{mapping.object} has no field {name} any more (deleted or renamed)"
        elif (rule.writes or rule in mapping.outputs.values()) and not described.updateable:
            drift[key] = f"{mapping.object}.{name} is read-only now; handoff-sync writes it"
    if mapping.tasks is not None and task_object is not None:
        for rule in mapping.tasks.fields.values():
            name = rule.system_field
            if name is None:
                continue
            described = task_object.get(name)
            key = drift_key(system, mapping.tasks.object, name)
            if described is None:
                drift[key] = f"{mapping.tasks.object} has no field {name} any more"
            elif not (described.createable and described.updateable):
                drift[key] = f"{mapping.tasks.object}.{name} is read-only now"
    return drift


def drifted_fields(drift: dict[str, str] | None, system: str, object_name: str) -> set[str]:
    """The field names of one object that drift says to leave alone."""
    prefix = f"{system}.{object_name}."
    return {key[len(prefix):] for key in (drift or {}) if key.startswith(prefix)}
