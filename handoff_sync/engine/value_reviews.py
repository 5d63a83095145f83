"""Review items for values that do not sync: unreadable at one side, or too big for the other.

Either way the field is left as each side holds it for this deal until a person fixes the
value at its source; the item says which record, field and value.
"""

from __future__ import annotations

from handoff_sync.engine.reconcile import Rejected
from handoff_sync.engine.types import ReviewItem, ReviewKind
from handoff_sync.mapping.system.convert import MappedRecord, SystemMapping, ValueIssue
from handoff_sync.mapping.system.transforms import shown


def unwritable_review(side: SystemMapping, key: str, rejected: Rejected,
                      record: MappedRecord | None) -> ReviewItem:
    """A review item for a value one side's field cannot hold (not written)."""
    rule = side.fields[rejected.field]
    record_id = record.record_id if record is not None else None
    where = f"{side.system.value} {side.object} {record_id}" if record_id else \
        f"{side.system.value} {side.object}"
    return ReviewItem(
        f"invalid_value:{key}:{rejected.role.value}:{rejected.field}",
        ReviewKind.INVALID_VALUE, key,
        f"{rejected.field} {shown(rejected.value)} {rejected.message}, so it is not "
        f"written to {where}; fix the value at its source or widen {rule.system_field}",
        details={"record": record_id, "system": side.system.value,
                 "field": rule.system_field, "value": shown(rejected.value)})


def invalid_value_review(key: str, read: MappedRecord, issue: ValueIssue) -> ReviewItem:
    """A review item for a value a side's record holds that could not be converted: the
    field is not synced for this deal until the value is fixed at its source."""
    return ReviewItem(
        f"invalid_value:{key}:{read.role.value}:{issue.name}",
        ReviewKind.INVALID_VALUE, key,
        f"{read.system.value} record {read.record_id}: {issue}; {issue.name} is not synced "
        f"for this deal until the value is fixed in {read.system.value}",
        details={"record": read.record_id, "system": read.system.value,
                 "field": issue.system_field, "value": shown(issue.value)})
