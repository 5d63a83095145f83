"""The in-memory Salesforce org behind the REST emulation.

Records live per object, keyed by their 18-character Id, as plain dicts of typed Python
values (str, float, bool, date, aware UTC datetime, None). A stored record is never
mutated: every write stores a new dict, so query cursors and Bulk jobs that hold the old
dicts page through a true snapshot, and a transaction journal can restore the old dict.

Writes validate and coerce the way Salesforce does (crm-api-reference.md 2.3-2.5) and
set the system fields and the values Salesforce derives (stage -> IsClosed/IsWon/
Probability, a stage change -> LastStageChangeDate, task status -> IsClosed, user full
name, auto-numbers). Errors are :class:`RecordError` (Salesforce errorCode + message +
fields; :mod:`.errors`) or, for a value whose JSON type the field cannot take at all,
:class:`JsonTypeError` (:mod:`.values`; the whole request fails in the deserializer,
before any record is written).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain, islice
from typing import Any

from handoff_sync.sandbox.salesforce.errors import MultipleMatches, RecordError
from handoff_sync.sandbox.salesforce.ids import POD, case_suffix, is_valid_id, salesforce_id
from handoff_sync.sandbox.salesforce.schema import (
    CLOSED_TASK_STATUSES,
    OBJECTS,
    OPPORTUNITY_STAGES,
    SfField,
    SfObject,
)
from handoff_sync.sandbox.salesforce.values import Changes, check_value

Record = dict[str, Any]

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SYSTEM_FIELDS = ("CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById",
                  "SystemModstamp")
_AUTO_NUMBER_RE = re.compile(r"DR-(\d+)")


@dataclass(frozen=True)
class ValidationRule:
    """A validation rule as an admin writes one: the record fails when ``field`` holds
    ``value`` (Salesforce answers FIELD_CUSTOM_VALIDATION_EXCEPTION naming the field)."""

    object: str
    field: str
    value: Any
    message: str


def normalize_id(value: Any) -> str | None:
    """The 18-character form of a well-formed id, or None when it is malformed."""
    if not isinstance(value, str) or not is_valid_id(value):
        return None
    return value if len(value) == 18 else value + case_suffix(value)


def _id_number(record_id: str) -> int:
    number = 0
    for ch in record_id[6:15]:
        number = number * 62 + _BASE62.index(ch)
    return number


@dataclass
class _Table:
    obj: SfObject
    live: dict[str, Record] = field(default_factory=dict)
    deleted: dict[str, Record] = field(default_factory=dict)
    # Unique and external-id fields: lower-cased value -> ids of live records holding it.
    index: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {f.name: {} for f in self.obj.fields if f.unique or f.external_id}

    def add_to_index(self, record: Record) -> None:
        for name, values in self.index.items():
            value = record.get(name)
            if value is not None:
                values.setdefault(value.lower(), []).append(record["Id"])

    def drop_from_index(self, record: Record) -> None:
        for name, values in self.index.items():
            value = record.get(name)
            if value is None:
                continue
            ids = values.get(value.lower())
            if ids and record["Id"] in ids:
                ids.remove(record["Id"])
                if not ids:
                    del values[value.lower()]

    def discard(self, record_id: str) -> None:
        old = self.live.pop(record_id, None)
        if old is not None:
            self.drop_from_index(old)
        self.deleted.pop(record_id, None)

    def put(self, record: Record) -> None:
        record_id = record["Id"]
        old = self.live.get(record_id)
        if old is not None:
            self.drop_from_index(old)
        if record.get("IsDeleted"):
            self.live.pop(record_id, None)
            self.deleted[record_id] = record
        else:
            self.deleted.pop(record_id, None)
            self.live[record_id] = record
            self.add_to_index(record)


class SalesforceStore:
    """All records of the emulated org, with the write rules Salesforce applies."""

    def __init__(self, now: Callable[[], datetime], integration_username: str) -> None:
        self._now = now
        self.integration_username = integration_username
        self.integration_user_id = ""
        self._prefixes = {obj.key_prefix: obj for obj in OBJECTS.values()}
        self.reset()

    # --- lifecycle
    def reset(self) -> None:
        self._tables = {name: _Table(obj) for name, obj in OBJECTS.items()}
        self._next_number = {obj.key_prefix: 1 for obj in OBJECTS.values()}
        self._auto_number = 0
        self._journal: list[tuple[str, str, Record | None]] | None = None
        self.validation_rules: list[ValidationRule] = []
        self.ensure_integration_user()

    def load(self, data: Mapping[str, list[Record]]) -> None:
        """Bulk-load seed records, keeping their values and filling missing system fields."""
        unknown = sorted(set(data) - set(OBJECTS))
        if unknown:
            raise ValueError(f"seed data has records of unknown object(s) {unknown}")
        self._adopt_seeded_user(data.get("User", []))
        # Users first: missing CreatedById/OwnerId values elsewhere name the integration user.
        for name in sorted(data, key=lambda n: n != "User"):
            self._load_rows(OBJECTS[name], data[name])
        self.ensure_integration_user()

    def _adopt_seeded_user(self, users: list[Record]) -> None:
        wanted = self.integration_username.lower()
        for row in users:
            if str(row.get("Username") or "").lower() == wanted and row.get("Id"):
                self._tables["User"].discard(_generated_user_id())
                self.integration_user_id = row["Id"]
                return

    def _load_rows(self, obj: SfObject, rows: list[Record]) -> None:
        self._advance_counters(obj, rows)  # first, so ids given to id-less rows are fresh
        table = self._tables[obj.name]
        defaults = self._load_defaults(obj, self.stamp())
        for row in rows:
            record = dict(row)
            for name, value in defaults:
                if record.get(name) is None:
                    record[name] = value
            # Salesforce sets each of these from the one before when nothing else moved it.
            if record.get("LastModifiedDate") is None:
                record["LastModifiedDate"] = record["CreatedDate"]
            if record.get("SystemModstamp") is None:
                record["SystemModstamp"] = record["LastModifiedDate"]
            if obj.name == "Opportunity" and record.get("LastStageChangeDate") is None:
                record["LastStageChangeDate"] = record["CreatedDate"]  # never moved since
            if record.get("Id") is None:
                record["Id"] = self._new_id(obj)
            table.put(record)

    def _load_defaults(self, obj: SfObject, stamp: datetime) -> list[tuple[str, Any]]:
        user = self.integration_user_id
        pairs: list[tuple[str, Any]] = [("IsDeleted", False), ("CreatedDate", stamp),
                                        ("CreatedById", user), ("LastModifiedById", user)]
        if obj.field("OwnerId") is not None:
            pairs.append(("OwnerId", user))
        return pairs

    def _advance_counters(self, obj: SfObject, rows: list[Record]) -> None:
        """New ids and auto-numbers continue after the highest ones the seed used."""
        ours = [r["Id"][6:15] for r in rows if r.get("Id") and r["Id"][3:6] == POD]
        if ours:
            top = _id_number("000000" + max(ours))
            prefix = obj.key_prefix
            self._next_number[prefix] = max(self._next_number[prefix], top + 1)
        if obj.name == "Deal_Registration__c":
            numbers = (_AUTO_NUMBER_RE.fullmatch(str(r.get("Name") or "")) for r in rows)
            top = max((int(m[1]) for m in numbers if m), default=0)
            self._auto_number = max(self._auto_number, top)

    def ensure_integration_user(self) -> None:
        """The user the API acts as: the seed's, when it has one, else a generated one."""
        users = self._tables["User"]
        wanted = self.integration_username.lower()
        for record in users.live.values():
            if str(record.get("Username") or "").lower() == wanted:
                self.integration_user_id = record["Id"]
                return
        user_id = _generated_user_id()
        self.integration_user_id = user_id
        stamp = self.stamp()
        users.put({
            "Id": user_id, "IsDeleted": False, "Username": self.integration_username,
            "Email": self.integration_username, "FirstName": "Integration",
            "LastName": "User", "Name": "Integration User", "IsActive": True,
            "TimeZoneSidKey": "America/Los_Angeles", "Title": None, "Department": None,
            "ManagerId": None, "CreatedDate": stamp, "CreatedById": user_id,
            "LastModifiedDate": stamp, "LastModifiedById": user_id, "SystemModstamp": stamp,
        })

    # --- reads
    def stamp(self) -> datetime:
        """Now, as Salesforce stores it: UTC, whole milliseconds."""
        now = self._now().astimezone(UTC)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)

    def object_for_id(self, record_id: str) -> SfObject | None:
        return self._prefixes.get(record_id[:3])

    def rows(self, obj: SfObject, *, include_deleted: bool) -> Iterable[Record]:
        table = self._tables[obj.name]
        if include_deleted:
            return chain(table.live.values(), table.deleted.values())
        return table.live.values()

    def count(self, obj: SfObject) -> int:
        return len(self._tables[obj.name].live)

    def recent(self, obj: SfObject, limit: int) -> list[Record]:
        live = self._tables[obj.name].live
        return [live[key] for key in islice(reversed(live), limit)]

    def fetch(self, obj: SfObject, record_id: str) -> Record:
        """A record by well-formed id: 404 NOT_FOUND, or 404 ENTITY_IS_DELETED when binned."""
        table = self._tables[obj.name]
        record = table.live.get(record_id)
        if record is not None:
            return record
        if record_id in table.deleted:
            raise RecordError("ENTITY_IS_DELETED", "entity is deleted", status=404)
        raise RecordError("NOT_FOUND", "The requested resource does not exist", None, 404)

    def lookup(self, obj: SfObject, fld: SfField, value: str) -> list[Record]:
        """Live records whose unique/external-id field equals ``value`` (case-insensitively)."""
        table = self._tables[obj.name]
        if fld.name == "Id":
            record_id = normalize_id(value)
            found = table.live.get(record_id) if record_id else None
            return [found] if found is not None else []
        ids = table.index[fld.name].get(value.lower(), [])
        return [table.live[i] for i in ids]

    # --- writes
    def create(self, obj: SfObject, changes: Changes) -> Record:
        if "Id" in changes.values:
            raise RecordError("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
        self._check_fields(obj, changes, creating=True)
        record = self._defaults(obj)
        record.update(changes.values)
        self._derive(obj, record, changes.values, creating=True)
        self._check_required(obj, record, changes.values, creating=True)
        self._check_rules(obj, record)
        record["Id"] = self._new_id(obj)
        self._check_unique(obj, record)
        stamp = self.stamp()
        user = self.integration_user_id
        record.update(CreatedDate=stamp, CreatedById=user, LastModifiedDate=stamp,
                      LastModifiedById=user, SystemModstamp=stamp)
        if obj.name == "Opportunity":
            record["LastStageChangeDate"] = stamp
        self._store(obj, record)
        return record

    def update(self, obj: SfObject, record_id: str, changes: Changes) -> Record:
        current = self.fetch(obj, record_id)
        given = dict(changes.values)
        if given.get("Id") is not None and normalize_id(given["Id"]) == record_id:
            del given["Id"]
        self._check_fields(obj, Changes(given, changes.unknown), creating=False)
        record = {**current, **given}
        self._derive(obj, record, given, creating=False)
        self._check_required(obj, record, given, creating=False)
        self._check_rules(obj, record)
        self._check_unique(obj, record)
        self._touch(record)
        if obj.name == "Opportunity" and record.get("StageName") != current.get("StageName"):
            record["LastStageChangeDate"] = record["LastModifiedDate"]
        self._store(obj, record)
        return record

    def upsert(
        self, obj: SfObject, fld: SfField, key: str, changes: Changes
    ) -> tuple[Record, bool]:
        """Update the one record whose ``fld`` equals ``key``, or create it; (record, created)."""
        matches = self.lookup(obj, fld, key)
        if len(matches) > 1:
            raise MultipleMatches([r["Id"] for r in matches])
        if matches:
            current = matches[0]
            given = {k: v for k, v in changes.values.items()
                     if not (k == fld.name and str(v).lower() == key.lower())}
            return self.update(obj, current["Id"], Changes(given, changes.unknown)), False
        if fld.name == "Id":
            raise RecordError("NOT_FOUND", "The requested resource does not exist", None, 404)
        values = {**changes.values, fld.name: key}
        return self.create(obj, Changes(values, changes.unknown)), True

    def delete(self, obj: SfObject, record_id: str) -> None:
        """Soft delete: the record goes to the recycle bin, where queryAll still sees it."""
        record = {**self.fetch(obj, record_id), "IsDeleted": True}
        self._touch(record)
        self._store(obj, record)

    def _check_rules(self, obj: SfObject, record: Record) -> None:
        """An admin's validation rules: the saved record may not hold a rule's value."""
        for rule in self.validation_rules:
            if rule.object == obj.name and record.get(rule.field) == rule.value:
                raise RecordError("FIELD_CUSTOM_VALIDATION_EXCEPTION", rule.message,
                                  [rule.field])

    # --- transactions (allOrNone): a journal of the dicts each write replaced
    def begin(self) -> None:
        self._journal = []

    def commit(self) -> None:
        self._journal = None

    def rollback(self) -> None:
        journal, self._journal = self._journal or [], None
        for name, record_id, old in reversed(journal):
            table = self._tables[name]
            table.discard(record_id)
            if old is not None:
                table.put(old)

    # --- helpers
    def _store(self, obj: SfObject, record: Record) -> None:
        table = self._tables[obj.name]
        if self._journal is not None:
            record_id = record["Id"]
            old = table.live.get(record_id) or table.deleted.get(record_id)
            self._journal.append((obj.name, record_id, old))
        table.put(record)

    def _touch(self, record: Record) -> None:
        stamp = self.stamp()
        record.update(LastModifiedDate=stamp, LastModifiedById=self.integration_user_id,
                      SystemModstamp=stamp)

    def _new_id(self, obj: SfObject) -> str:
        number = self._next_number[obj.key_prefix]
        self._next_number[obj.key_prefix] = number + 1
        return salesforce_id(obj.key_prefix, number)

    def _defaults(self, obj: SfObject) -> Record:
        record: Record = {}
        # Every field of the object, also those a schema overlay hides: the org still has them.
        for fld in OBJECTS[obj.name].fields:
            if fld.type == "boolean":
                record[fld.name] = fld.name == "IsActive"  # new users are active
            else:
                record[fld.name] = fld.default
        if "OwnerId" in record:
            record["OwnerId"] = self.integration_user_id
        return record

    def _check_fields(self, obj: SfObject, changes: Changes, *, creating: bool) -> None:
        if changes.unknown:
            name = changes.unknown[0]
            raise RecordError("INVALID_FIELD",
                              f"No such column '{name}' on sobject of type {obj.name}")
        locked = [name for name in changes.values
                  if not _writable(obj.field(name), creating=creating)]
        if locked:
            raise RecordError(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(locked)}. Please check the "
                "security settings of this field and verify that it is read/write for your "
                "profile or permission set.",
                locked,
            )
        for name, value in changes.values.items():
            fld = obj.field(name)
            assert fld is not None  # parse_changes only keeps known fields
            check_value(fld, value)
            if fld.type == "reference" and value is not None:
                self._check_reference(fld, value)

    def _check_reference(self, fld: SfField, value: str) -> None:
        record_id = normalize_id(value)
        if record_id is None:
            raise RecordError("MALFORMED_ID", f"{fld.label}: id value of incorrect type: {value}",
                              [fld.name])
        target = self.object_for_id(record_id)
        if target is not None and target.name not in fld.reference_to:
            raise RecordError("FIELD_INTEGRITY_EXCEPTION",
                              f"{fld.label}: id value of incorrect type: {value}", [fld.name])
        table = self._tables[target.name] if target is not None else None
        if table is None or record_id not in table.live:
            raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id",
                              [fld.name])

    def _check_required(
        self, obj: SfObject, record: Record, given: Mapping[str, Any], *, creating: bool
    ) -> None:
        for fld in obj.fields:
            if fld.type == "boolean" and record.get(fld.name) is None:
                record[fld.name] = False  # Salesforce stores a nulled checkbox as false
        missing = [
            f.name for f in obj.fields
            if not f.nillable and record.get(f.name) is None
            and (f.name in given or (creating and f.createable and not f.defaulted_on_create))
        ]
        if missing:
            raise RecordError("REQUIRED_FIELD_MISSING",
                              f"Required fields are missing: [{', '.join(missing)}]", missing)

    def _check_unique(self, obj: SfObject, record: Record) -> None:
        table = self._tables[obj.name]
        for fld in obj.fields:
            value = record.get(fld.name)
            if not fld.unique or value is None:
                continue
            others = [i for i in table.index[fld.name].get(value.lower(), [])
                      if i != record["Id"]]
            if others:
                raise RecordError(
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {fld.name} duplicates value on record with id: "
                    f"{others[0]}",
                    [fld.name],
                )

    def _derive(
        self, obj: SfObject, record: Record, given: Mapping[str, Any], *, creating: bool
    ) -> None:
        """The values Salesforce computes from others on save."""
        if obj.name == "Opportunity" and (creating or "StageName" in given):
            probability, closed, won = OPPORTUNITY_STAGES.get(record.get("StageName") or "",
                                                              (None, False, False))
            record["IsClosed"], record["IsWon"] = closed, won
            if "Probability" not in given and probability is not None:
                record["Probability"] = float(probability)
        elif obj.name == "Task":
            record["IsClosed"] = record.get("Status") in CLOSED_TASK_STATUSES
        elif obj.name == "User" and (creating or {"FirstName", "LastName"} & set(given)):
            parts = (record.get("FirstName"), record.get("LastName"))
            record["Name"] = " ".join(p for p in parts if p)
        elif obj.name == "Deal_Registration__c" and creating:
            self._auto_number += 1
            record["Name"] = f"DR-{self._auto_number:06d}"


def _generated_user_id() -> str:
    """A User id far above any counter: new and seeded users (numbered from 1) never reach it."""
    return salesforce_id("005", 62**8)


def _writable(fld: SfField | None, *, creating: bool) -> bool:
    if fld is None:
        return False
    return fld.createable if creating else fld.updateable
