"""Both ways through a system mapping: raw record -> canonical values -> system values.

All functions here are pure: owner lookups go through an ``OwnerDirectory`` the caller
built, and a value that cannot be converted becomes a ``ValueIssue`` on the result (the
engine reports it per record) instead of an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from connectors.reading import is_blank
from connectors.registry import spec
from handoff_sync.mapping.system.conflicts import ConflictPolicy
from handoff_sync.mapping.system.transforms import (
    Transform,
    ValueProblem,
    read_datetime,
    read_text,
    scope_text,
    shown,
    text_values,
)
from handoff_sync.model import (
    FieldType,
    Output,
    OwnerDirectory,
    Role,
    SystemName,
    TaskSpec,
    Value,
    quick_init,
)
from handoff_sync.problems.report import KeyPath


@dataclass(frozen=True, slots=True)
class FieldRule:
    """One canonical name (field, output or task attribute) <-> one system field."""

    name: str  # canonical field, output name or task attribute
    type: FieldType
    system_field: str | None  # None: a constant
    transform: Transform
    constant: Value = None
    values: Mapping[str, Value] | None = None  # system value -> canonical value
    inverse: Mapping[Value, str] | None = None  # canonical value -> system value
    default: Value = None
    direction: str = "read"  # read | write | both
    policy: ConflictPolicy | None = None
    path: KeyPath = ()  # where it is declared in its file

    @property
    def reads(self) -> bool:
        return self.direction in ("read", "both")

    @property
    def writes(self) -> bool:
        return self.direction in ("write", "both")


@dataclass(frozen=True, slots=True)
class TaskRules:
    """Where tasks go in this system and how TaskSpec attributes map to task fields."""

    object: str
    key_field: str
    deal_link_field: str | None
    deal_association_type_id: int | None
    fields: Mapping[str, FieldRule]


@dataclass(frozen=True, slots=True)
class AccountRules:
    """Where a created deal's customer account is found or created (see file_model)."""

    object: str
    name_field: str
    domain_field: str | None
    link_field: str | None
    association_type_id: int | None


@dataclass(frozen=True, slots=True)
class CreateRules:
    """How this (CRM) system creates a deal: its key field, fixed values, account."""

    external_id_field: str
    defaults: Mapping[str, Any]  # system field -> raw value
    account: AccountRules | None


@dataclass(frozen=True, slots=True)
class PartnerRules:
    """The PRM's partner accounts (the partners: section): where they are and how their
    fields read. ``fields`` are keyed ``partner.<name>``; every rule only reads."""

    object: str
    modified_field: str
    scope: Mapping[str, str]
    name_field: str
    owner: FieldRule | None  # the channel manager's email
    fields: Mapping[str, FieldRule]
    task_link_field: str | None  # Salesforce: WhatId
    task_association_type_id: int | None  # HubSpot: task -> company (192)

    def system_fields(self) -> set[str]:
        """Every account field a pull reads (scope fields too: a record is checked)."""
        names = {rule.system_field for rule in self.fields.values() if rule.system_field}
        if self.owner is not None and self.owner.system_field:
            names.add(self.owner.system_field)
        return names | {self.name_field, self.modified_field, *self.scope}


@dataclass(frozen=True)
class SystemMapping:
    """One loaded, validated mappings/<system>.yaml."""

    file: Path
    system: SystemName
    role: Role
    object: str
    modified_field: str
    scope: Mapping[str, str]
    fields: Mapping[str, FieldRule]
    outputs: Mapping[Output, FieldRule]
    tasks: TaskRules | None
    positions: Mapping[KeyPath, tuple[int, int]] = field(default_factory=dict, repr=False)
    create: CreateRules | None = None
    partners: PartnerRules | None = None  # the PRM's partner accounts, when it maps them

    @property
    def id_field(self) -> str:
        """The canonical field holding this system's own record id."""
        return "prm_id" if self.role is Role.PRM else "crm_id"

    def position(self, path: KeyPath) -> tuple[int, int]:
        """1-based line and column where ``path`` (or its nearest parent) is written."""
        probe = tuple(path)
        while probe and probe not in self.positions:
            probe = probe[:-1]
        line, column = self.positions.get(probe, (0, 0))
        return line + 1, column + 1

    def system_fields(self) -> set[str]:
        """Every system field this mapping reads or writes on the deal object."""
        names = {rule.system_field for rule in self.fields.values() if rule.system_field}
        names |= {rule.system_field for rule in self.outputs.values() if rule.system_field}
        return names | {self.modified_field, *self.scope}


@quick_init
@dataclass(frozen=True, slots=True)
class ValueIssue:
    """A value in one record that could not be converted."""

    name: str  # canonical field, output or task attribute
    system_field: str | None
    value: Any
    message: str

    def __str__(self) -> str:
        where = f"{self.system_field} -> {self.name}" if self.system_field else self.name
        return f"{where}: {self.message}"


@quick_init
@dataclass(frozen=True, slots=True)
class MappedRecord:
    """One system record in canonical terms (only the fields this system reads)."""

    system: SystemName
    role: Role
    record_id: str | None
    modified_at: datetime | None
    in_scope: bool  # the record matches the mapping's scope (e.g. the partner pipeline)
    values: Mapping[str, Value]
    issues: tuple[ValueIssue, ...] = ()
    # Engine outputs as the record holds them now (read back through the output rules),
    # so the engine writes only what differs: its own earlier writes come back as no-ops.
    outputs: Mapping[Output, Value] = field(default_factory=lambda: MappingProxyType({}))
    deleted: bool = False  # the system reports the record deleted/archived


@dataclass(frozen=True, slots=True)
class SystemValues:
    """Field values to write to one system record, and what could not be converted."""

    values: Mapping[str, Any]
    issues: tuple[ValueIssue, ...] = ()


def in_scope(mapping: SystemMapping, raw: Mapping[str, Any]) -> bool:
    return all(scope_text(raw.get(name)) == value for name, value in mapping.scope.items())


def to_canonical(mapping: SystemMapping, raw: Mapping[str, Any],
                 owners: OwnerDirectory) -> MappedRecord:
    """A raw record (system field -> value, as the API returns it) in canonical terms."""
    values: dict[str, Value] = {}
    issues: list[ValueIssue] = []
    for name, rule in _reading(mapping):
        values[name] = _read(rule, raw, owners, issues)
    modified_at = None
    if not is_blank(raw.get(mapping.modified_field)):
        try:
            modified_at = read_datetime(raw[mapping.modified_field])
        except ValueProblem as exc:
            issues.append(ValueIssue("modified_at", mapping.modified_field,
                                     raw[mapping.modified_field], str(exc)))
    outputs: dict[Output, Value] = {}
    ignored: list[ValueIssue] = []  # an output we cannot read back is simply rewritten
    for output, rule in mapping.outputs.items():
        if rule.system_field is not None and rule.system_field in raw:
            outputs[output] = _read(rule, raw, owners, ignored)
    record_id = values.get(mapping.id_field)
    return MappedRecord(mapping.system, mapping.role,
                        record_id if isinstance(record_id, str) else None, modified_at,
                        in_scope(mapping, raw), MappingProxyType(values), tuple(issues),
                        MappingProxyType(outputs))


# id(mapping) -> it and its (name, rule) pairs that read: records are mapped by the
# thousand, and asking each rule's direction per record cost a sixth of mapping one. An
# entry keeps its (frozen) mapping alive, so the id is not reused while it is held.
_READING: dict[int, tuple[SystemMapping, tuple[tuple[str, FieldRule], ...]]] = {}


def _reading(mapping: SystemMapping) -> tuple[tuple[str, FieldRule], ...]:
    held = _READING.get(id(mapping))
    if held is not None and held[0] is mapping:
        return held[1]
    rules = tuple((name, rule) for name, rule in mapping.fields.items() if rule.reads)
    if len(_READING) >= 64:
        _READING.clear()
    _READING[id(mapping)] = (mapping, rules)
    return rules


def to_system(mapping: SystemMapping, values: Mapping[str, Value],
              owners: OwnerDirectory) -> SystemValues:
    """System field values for the canonical values given, for fields this system writes.

    Canonical names the mapping does not write are skipped: the caller passes what it
    wants changed and gets back only what this system can take.
    """
    return _write_all(mapping.system, mapping.fields, values, owners, only_writable=True)


def outputs_to_system(mapping: SystemMapping, outputs: Mapping[Output, Value],
                      owners: OwnerDirectory) -> SystemValues:
    """System field values for engine outputs this system has a field for."""
    return _write_all(mapping.system, mapping.outputs, outputs, owners, only_writable=False)


def as_stored(mapping: SystemMapping, name: str | Output, value: Value,
              owners: OwnerDirectory) -> Value:
    """``value`` as this system would hold it once written and read back.

    A datetime written to a date field comes back as a date, a number to a currency field
    comes back rounded: the engine compares desired values in this form with what it
    read, so a value it wrote earlier never looks changed (no echo writes).
    """
    rule = mapping.outputs.get(name) if isinstance(name, Output) else mapping.fields.get(name)
    if rule is None or rule.system_field is None:
        return value
    try:
        written = _write(mapping.system, rule, value, owners)
    except ValueProblem:
        return value  # cannot be written: the write itself will report it
    return _read(rule, {rule.system_field: written}, owners, [])


def task_to_system(mapping: SystemMapping, task: TaskSpec,
                   owners: OwnerDirectory) -> SystemValues:
    """Task object field values (including the task key and the deal link field)."""
    if mapping.tasks is None:
        raise ValueError(f"{mapping.file} has no tasks section")
    rules = mapping.tasks
    attributes: dict[str, Value] = {
        "subject": task.subject, "body": task.body, "due": task.due_at,
        "assignee": task.assignee_email, "status": task.status.value,
        "priority": task.priority.value,
    }
    written = _write_all(mapping.system, rules.fields, attributes, owners, only_writable=False)
    values = dict(written.values)
    values[rules.key_field] = task.key
    if rules.deal_link_field:
        values[rules.deal_link_field] = task.crm_id
    return SystemValues(MappingProxyType(values), written.issues)


def creation_to_system(mapping: SystemMapping, values: Mapping[str, Value],
                       owners: OwnerDirectory, *, creatable: Callable[[str], bool]
                       ) -> SystemValues:
    """The fields of a deal to create: every mapped canonical value given (whatever the
    field's direction: a new record has nothing to merge with), then the mapping's scope
    (the record must land where this mapping reads) and the create section's defaults.
    Fields ``creatable`` refuses (read-only in the system's describe) are left out."""
    if mapping.create is None:
        raise ValueError(f"{mapping.file} has no create section")
    own = mapping.fields.get(mapping.id_field)
    rules = {name: rule for name, rule in mapping.fields.items()
             if rule is not own and rule.system_field and creatable(rule.system_field)}
    written = _write_all(mapping.system, rules, values, owners, only_writable=False)
    fields = {name: value for name, value in written.values.items() if not is_blank(value)}
    fields.update(mapping.scope)
    fields.update(mapping.create.defaults)
    return SystemValues(MappingProxyType(fields), written.issues)


def read_rule(rule: FieldRule, raw: Mapping[str, Any], owners: OwnerDirectory,
              issues: list[ValueIssue]) -> Value:
    """One rule's canonical value in a raw record; a value that cannot be read is added
    to ``issues`` and read as the rule's default."""
    return _read(rule, raw, owners, issues)


def _read(rule: FieldRule, raw: Mapping[str, Any], owners: OwnerDirectory,
          issues: list[ValueIssue]) -> Value:
    if rule.system_field is None:
        return rule.constant
    value = raw.get(rule.system_field)
    if is_blank(value):
        return rule.default
    try:
        if rule.values is not None:
            result = _map_values(rule, value)
        elif rule.transform.name == "owner_email":
            owner_id = read_text(value).strip()
            result = owners.email_for(owner_id)
            if result is None:
                raise ValueProblem(f"owner id {shown(owner_id)} is not in the owner directory")
        else:
            result = rule.transform.read(value)
    except ValueProblem as exc:
        issues.append(ValueIssue(rule.name, rule.system_field, value, str(exc)))
        return rule.default
    return rule.default if is_blank(result) else result


def _map_values(rule: FieldRule, value: Any) -> Value:
    assert rule.values is not None
    if rule.type is FieldType.TEXT_LIST:
        items = rule.transform.read(value)
        assert isinstance(items, tuple)
        return tuple(_lookup(rule, item) for item in items)
    return _lookup(rule, read_text(value))


def _lookup(rule: FieldRule, text: str) -> Any:
    assert rule.values is not None
    if text in rule.values:
        return rule.values[text]
    if text.strip() in rule.values:
        return rule.values[text.strip()]
    raise ValueProblem(f"value {shown(text)} has no entry in the value map "
                       f"(known: {', '.join(map(repr, list(rule.values)[:8]))})")


def _write_all(system: SystemName, rules: Mapping[Any, FieldRule], values: Mapping[Any, Value],
               owners: OwnerDirectory, *, only_writable: bool) -> SystemValues:
    out: dict[str, Any] = {}
    issues: list[ValueIssue] = []
    for name, value in values.items():
        rule = rules.get(name)
        if rule is None or rule.system_field is None or (only_writable and not rule.writes):
            continue
        try:
            out[rule.system_field] = _write(system, rule, value, owners)
        except ValueProblem as exc:
            issues.append(ValueIssue(str(name), rule.system_field, value, str(exc)))
    return SystemValues(MappingProxyType(out), tuple(issues))


def written_value(system: SystemName, rule: FieldRule, value: Value,
                  owners: OwnerDirectory) -> Any:
    """``value`` as it is sent to ``system`` for ``rule``; raises ValueProblem."""
    return _write(system, rule, value, owners)


def _write(system: SystemName, rule: FieldRule, value: Value, owners: OwnerDirectory) -> Any:
    if is_blank(value):
        value = rule.default
    if is_blank(value):
        return "" if text_values(system) else None
    if rule.inverse is not None:
        if isinstance(value, tuple):
            return rule.transform.write(tuple(_unlookup(rule, item) for item in value), system)
        return _unlookup(rule, value)
    if rule.transform.name == "owner_email":
        owner_id = owners.id_for(str(value))
        if owner_id is None:
            shared = owners.active_holders(str(value))
            if len(shared) > 1:
                raise ValueProblem(f"{len(shared)} active owners share the email {value!r} "
                                   f"({', '.join(o.id for o in shared)}): none is guessed")
            raise ValueProblem(f"no active owner with email {value!r} in the owner directory")
        return owner_id
    return rule.transform.write(value, system)


def _unlookup(rule: FieldRule, value: Value) -> str:
    assert rule.inverse is not None
    if value in rule.inverse:
        return rule.inverse[value]
    raise ValueProblem(f"value {value!r} has no entry in the value map, so it cannot be "
                       "written")


def flatten_record(system: SystemName, raw: Mapping[str, Any]) -> dict[str, Any]:
    """A record as the system's API returns it -> field name: value, as the system's
    registry row flattens it (HubSpot nests values under ``properties``, Salesforce adds
    an ``attributes`` block, a file-drop row is already flat)."""
    return spec(system).flatten(raw)
