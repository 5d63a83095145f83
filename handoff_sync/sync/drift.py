"""Schema drift: mapped fields a system no longer has, or no longer lets us write.

Pure: the same check as `mappings validate --live` (mapping.system.describe), keeping
the findings that mean a field must be left alone. The sync cycle leaves a
drifted field out of pulls and writes (its last value stays in the mirror, so the engine
sees no change and no gate flips) and reports it in status; once the field is back the
next describe finds nothing and syncing resumes.
"""

from __future__ import annotations

from connectors.base import ObjectSchema
from handoff_sync.mapping.system.convert import SystemMapping
from handoff_sync.mapping.system.describe import describe_findings

# Per-record error codes that mean "the schema is not what the mapping says": the next
# cycle describes the objects again instead of trusting the cached verdict.
SCHEMA_ERROR_CODES = frozenset({
    "INVALID_FIELD", "INVALID_FIELD_FOR_INSERT_UPDATE", "INVALID_FIELD_WHEN_USING_TEMPLATE",
    "NO_SUCH_COLUMN", "PROPERTY_DOESNT_EXIST", "READ_ONLY_VALUE", "INVALID_TYPE",
})


def drift_key(system: str, object_name: str, field: str) -> str:
    return f"{system}.{object_name}.{field}"


def detect_drift(mapping: SystemMapping, deal_object: ObjectSchema,
                 task_object: ObjectSchema | None = None,
                 partner_object: ObjectSchema | None = None) -> dict[str, str]:
    """``system.object.field`` -> why it is skipped, for every mapped field that drifted:
    the findings of `mappings validate --live`'s own check that mean drift."""
    system = mapping.system.value
    return {drift_key(system, found.drift.object, found.drift.field): found.drift.reason
            for found in describe_findings(mapping, deal_object, task_object, partner_object)
            if found.drift is not None}


def drifted_fields(drift: dict[str, str] | None, system: str, object_name: str) -> set[str]:
    """The field names of one object that drift says to leave alone."""
    prefix = f"{system}.{object_name}."
    return {key[len(prefix):] for key in (drift or {}) if key.startswith(prefix)}
