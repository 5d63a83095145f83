"""Check a system mapping against what the system says about its fields (describe()).

This is the pure check behind `mappings validate --live`: the command fetches each
mapped object's describe through the connectors (which return ``ObjectSchema``) and calls
``check_against_describe``. Every incompatibility - a field the object lacks, a field
written that is read-only, a value map naming a value the picklist lacks or lacking one
it lists (for fields read) - is reported with the mapping file's line and column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from connectors.base import FieldSchema, ObjectSchema
from connectors.reading import did_you_mean
from connectors.registry import spec
from handoff_sync.mapping.system.convert import FieldRule, SystemMapping, written_value
from handoff_sync.mapping.system.transforms import ValueProblem
from handoff_sync.model import FieldType, OwnerDirectory, Value
from handoff_sync.problems.report import KeyPath, Problem

# System field types (Salesforce describe types and HubSpot property types) each transform
# can read and write. "enumeration" is HubSpot's picklist; "multi_enumeration" is a
# HubSpot enumeration shown as checkboxes (values separated by ';').
_TEXT_TYPES = frozenset({"id", "string", "textarea", "picklist", "combobox", "reference",
                         "email", "url", "phone", "enumeration"})
_NUMBER_TYPES = frozenset({"currency", "double", "percent", "int", "number"})
COMPATIBLE: Mapping[str, frozenset[str]] = {
    "text": _TEXT_TYPES,
    "email": frozenset({"email", "string"}),
    "domain": frozenset({"string", "url"}),
    "number": _NUMBER_TYPES,
    "currency": _NUMBER_TYPES,
    "integer": _NUMBER_TYPES,
    "bool": frozenset({"boolean", "bool"}),
    "date": frozenset({"date", "datetime"}),
    "datetime": frozenset({"datetime"}),
    "multi_select": frozenset({"multipicklist", "multi_enumeration"}),
    "lines": frozenset({"textarea", "string"}),
    "owner_email": frozenset({"reference", "enumeration"}),
}
# Reading is more forgiving than writing: any field can be read as text (HubSpot's record
# id is a number property, for instance), but text is never written into a number field.
_READABLE_AS_TEXT = frozenset({"number", "int", "double", "currency", "percent", "boolean",
                               "bool", "date", "datetime", "multipicklist",
                               "multi_enumeration"})
# Task attributes a TaskSpec always carries: never written blank.
_ALWAYS_SET_TASK_ATTRIBUTES = frozenset({"subject", "due", "assignee", "status", "priority"})
_PICKLIST_TYPES = frozenset({"picklist", "multipicklist", "combobox", "enumeration",
                             "multi_enumeration"})


class Report(Protocol):
    def __call__(self, path: KeyPath, message: str, hint: str = "", *,
                 drift: Drift | None = None) -> None: ...


@dataclass(frozen=True)
class Drift:
    """A finding that leaves one mapped field out of sync until the schema is back: the
    field is gone, or handoff-sync writes it and the system no longer lets it."""

    object: str  # as the mapping names it
    field: str
    reason: str  # in the words `status` shows


@dataclass(frozen=True)
class Finding:
    """One incompatibility between a mapping and what the system describes."""

    path: KeyPath
    message: str
    hint: str = ""
    drift: Drift | None = None


def limit_problem(described: FieldSchema, value: Any) -> str | None:
    """Why ``value``, in the form written to the system, does not fit the field as it is
    described (too long for its length, too many digits for its precision); None if it
    fits or the describe says nothing about it. The system would refuse the write."""
    if value is None or value == "":
        return None
    if described.type in _NUMBER_TYPES:
        if not described.precision or isinstance(value, bool):
            return None
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return None
        digits = described.precision - described.scale
        if not number.is_finite() or abs(number) >= Decimal(10) ** digits:
            return (f"is too large for {described.name}, which holds at most {digits} "
                    "digits before the decimal point")
        return None
    if isinstance(value, str) and described.length and len(value) > described.length:
        return (f"is {len(value):,} characters long; {described.name} holds at most "
                f"{described.length:,}")
    return None


def write_problem(mapping: SystemMapping, name: str, value: Value, owners: OwnerDirectory,
                  obj: ObjectSchema) -> str | None:
    """Why the canonical ``value`` of field ``name`` cannot be written to ``obj`` as the
    system describes it (see ``limit_problem``); None when it can, or when it cannot be
    converted at all (the write reports that itself)."""
    rule = mapping.fields.get(name)
    if rule is None or rule.system_field is None:
        return None
    described = obj.get(rule.system_field)
    if described is None:
        return None
    try:
        written = written_value(mapping.system, rule, value, owners)
    except ValueProblem:
        return None
    return limit_problem(described, written)


def check_against_describe(mapping: SystemMapping, deal_object: ObjectSchema,
                           task_object: ObjectSchema | None = None,
                           partner_object: ObjectSchema | None = None) -> list[Problem]:
    """Every incompatibility between the mapping and the described objects, with the
    mapping file's line and column (`mappings validate --live`)."""
    problems: list[Problem] = []
    for finding in describe_findings(mapping, deal_object, task_object, partner_object):
        line, column = mapping.position(finding.path)
        problems.append(Problem(mapping.file, line, column, finding.path, finding.message,
                                finding.hint))
    return problems


def describe_findings(mapping: SystemMapping, deal_object: ObjectSchema,
                      task_object: ObjectSchema | None = None,
                      partner_object: ObjectSchema | None = None) -> list[Finding]:
    """The one walk of a mapping against a describe: `mappings validate --live` reports
    every finding, the sync cycle skips the fields of those that are drift. The partners:
    section is checked against ``partner_object``, the account object as described, when
    it is given (the partner checks are left out without it)."""
    findings: list[Finding] = []

    def add(path: KeyPath, message: str, hint: str = "", *,
            drift: Drift | None = None) -> None:
        findings.append(Finding(path, message, hint, drift))

    if deal_object.name.lower() != mapping.object.lower():
        add(("object",), f"described object is '{deal_object.name}', the mapping reads "
            f"'{mapping.object}'")
    stage_values = _stage_values(mapping, deal_object, add)
    for name in (mapping.modified_field, *mapping.scope):
        path: KeyPath = ("modified_field",) if name == mapping.modified_field else (
            "scope", name)
        if deal_object.get(name) is None:
            add(path, f"{deal_object.name} has no field '{name}'",
                did_you_mean(name, deal_object.fields))
    # A system that does not type its fields (a file drop) holds text until a transform
    # reads it: any transform fits.
    all_text = spec(mapping.system).untyped is not None
    deal = _Target(deal_object, mapping.object, task=False)
    for rule in mapping.fields.values():
        if rule.system_field is not None:
            _check_rule(rule, deal, rule.reads, rule.writes, add, stage_values,
                        all_text=all_text)
    for rule in mapping.outputs.values():
        if rule.system_field is not None:
            _check_rule(rule, deal, False, True, add, stage_values)
    if mapping.create is not None:
        _check_create(mapping, deal_object, add)
    if mapping.tasks is not None:
        if task_object is None:
            add(("tasks",), "no description of the task object was given to check against")
        else:
            rules = mapping.tasks
            for task_field, path in ((rules.key_field, ("tasks", "key_field")),
                                     (rules.deal_link_field, ("tasks", "deal_link", "field"))):
                if task_field is None:
                    continue
                described = task_object.get(task_field)
                if described is None:
                    add(path, f"{task_object.name} has no field '{task_field}'",
                        did_you_mean(task_field, task_object.fields))
                elif not (described.createable and described.updateable):
                    add(path, f"{task_object.name}.{task_field} is not writable")
            task = _Target(task_object, rules.object, task=True)
            for rule in rules.fields.values():
                if rule.system_field is not None:
                    _check_rule(rule, task, False, True, add, None, creates=True)
    if mapping.partners is not None and partner_object is not None:
        _check_partners(mapping, partner_object, task_object, add)
    return findings


def _check_partners(mapping: SystemMapping, obj: ObjectSchema,
                    task_object: ObjectSchema | None, add: Report) -> None:
    """The partners: section against the account object: the fields it reads exist and
    suit their transforms and value maps (read only), and the task link is writable."""
    rules = mapping.partners
    assert rules is not None
    if obj.name.lower() != rules.object.lower():
        add(("partners", "object"), f"described object is '{obj.name}', the partners: "
            f"section reads '{rules.object}'")
    target = _Target(obj, rules.object, task=False)
    named: list[tuple[str, KeyPath]] = [(rules.modified_field, ("partners", "modified_field")),
                                        (rules.name_field, ("partners", "name_field"))]
    named += [(name, ("partners", "scope", name)) for name in rules.scope]
    for name, path in named:
        described = obj.get(name)
        if described is None:
            add(path, f"{obj.name} has no field '{name}'", did_you_mean(name, obj.fields))
            continue
        wanted = rules.scope.get(name) if path[1] == "scope" else None
        allowed = described.picklist_values
        if wanted is not None and allowed is not None and wanted not in allowed:
            add(path, f"{obj.name}.{name} has no value {wanted!r}, so no account would be "
                "a partner", did_you_mean(wanted, allowed) or f"values: {', '.join(allowed)}")
    for rule in (rules.owner, *rules.fields.values()):
        if rule is not None and rule.system_field is not None:
            _check_rule(rule, target, True, False, add, None)
    link = rules.task_link_field
    if link is not None and task_object is not None:
        described = task_object.get(link)
        if described is None:
            add(("partners", "task_link", "field"), f"{task_object.name} has no field "
                f"'{link}'", did_you_mean(link, task_object.fields))
        elif not (described.createable and described.updateable):
            add(("partners", "task_link", "field"), f"{task_object.name}.{link} is not "
                "writable")
        elif described.reference_to and not any(
                ref.lower() == rules.object.lower() for ref in described.reference_to):
            add(("partners", "task_link", "field"), f"{task_object.name}.{link} cannot "
                f"name a {rules.object} (it refers to {', '.join(described.reference_to)})")


def _check_create(mapping: SystemMapping, obj: ObjectSchema, add: Report) -> None:
    """The create section's fields on the deal object: present and creatable, and a
    picklist default one of its values (the account object is not described here)."""
    rules = mapping.create
    assert rules is not None
    wanted: list[tuple[str, KeyPath, Any]] = [
        (rules.external_id_field, ("create", "external_id_field"), None)]
    wanted += [(name, ("create", "defaults", name), value)
               for name, value in rules.defaults.items()]
    if rules.account is not None and rules.account.link_field:
        wanted.append((rules.account.link_field, ("create", "account", "link_field"), None))
    for name, path, value in wanted:
        described = obj.get(name)
        if described is None:
            add(path, f"{obj.name} has no field '{name}'", did_you_mean(name, obj.fields))
        elif not described.createable:
            add(path, f"{obj.name}.{name} cannot be set when a record is created")
        elif path[-1] == "external_id_field" and described.unique_key is False:
            # Only a unique key stops two racing creations making two records.
            add(path, f"{obj.name}.{name} is not a unique key, so two creations racing "
                "(two replicas, a lost reply sent again) could make two records",
                "name a text field marked External ID and Unique (Salesforce) or a "
                "property with unique values (HubSpot)")
        elif (value is not None and described.picklist_values is not None
              and str(value) not in described.picklist_values):
            add(path, f"{obj.name}.{name} has no value {str(value)!r}",
                did_you_mean(str(value), described.picklist_values))


@dataclass(frozen=True)
class _Target:
    """The described object a rule's field is on, and the mapping's name for it."""

    schema: ObjectSchema
    name: str  # as the mapping names it (drift keys use it)
    task: bool

    def gone(self, field: str) -> Drift:
        what = "" if self.task else " (deleted or renamed)"
        return Drift(self.name, field, f"{self.name} has no field {field} any more{what}")

    def read_only(self, field: str) -> Drift:
        why = "" if self.task else "; handoff-sync writes it"
        return Drift(self.name, field, f"{self.name}.{field} is read-only now{why}")


def _stage_values(mapping: SystemMapping, obj: ObjectSchema, add: Report,
                  ) -> tuple[str, ...] | None:
    if obj.pipeline_field is None or obj.pipeline_field not in mapping.scope:
        return None
    pipeline = mapping.scope[obj.pipeline_field]
    if pipeline not in obj.pipelines:
        add(("scope", obj.pipeline_field), f"no pipeline with id '{pipeline}'",
            did_you_mean(pipeline, obj.pipelines) or
            f"pipelines: {', '.join(obj.pipelines)}")
        return None
    return obj.pipelines[pipeline]


def _check_rule(rule: FieldRule, target: _Target, reads: bool, writes: bool, add: Report,
                stage_values: tuple[str, ...] | None, *, creates: bool = False,
                all_text: bool = False) -> None:
    report, obj = add, target.schema
    assert rule.system_field is not None
    path: KeyPath = (*rule.path, "field")
    described = obj.get(rule.system_field)
    if described is None:
        report(path, f"{obj.name} has no field '{rule.system_field}'",
               did_you_mean(rule.system_field, obj.fields),
               drift=target.gone(rule.system_field))
        return
    where = f"{obj.name}.{described.name}"
    fits = described.type in COMPATIBLE[rule.transform.name] or (all_text and not writes) or (
        rule.transform.name == "text" and not writes and described.type in _READABLE_AS_TEXT)
    if rule.values is None and not fits:
        report(path,
               f"{where} is of type '{described.type}', which transform "
               f"'{rule.transform.name}' cannot read or write",
               f"it fits types: {', '.join(sorted(COMPATIBLE[rule.transform.name]))}")
    if rule.values is not None and described.type in _NUMBER_TYPES | {"boolean", "bool"}:
        report(path, f"{where} is of type '{described.type}'; a value map needs a text or "
               "picklist field")
    if writes:
        # Tasks are created and later updated; deal fields are only updated.
        writable = described.updateable and (described.createable or not creates)
        if not writable:
            report(path, f"{where} is read-only in {obj.name}; handoff-sync would write it",
                   "make the mapping direction: read" if reads else "map another field",
                   drift=target.read_only(rule.system_field))
        may_be_blank = not (creates and rule.name in _ALWAYS_SET_TASK_ATTRIBUTES)
        if not described.nillable and rule.default is None and may_be_blank \
                and rule.type is not FieldType.BOOL:
            report(path, f"{where} cannot be blank, but the value written may be blank",
                   "add a 'default:'")
        if not described.nillable and rule.type is FieldType.BOOL and rule.default is None \
                and may_be_blank:
            report(path, f"{where} cannot be blank; a blank yes/no would be rejected",
                   "add 'default: false'")
    allowed = described.picklist_values
    if described.name == obj.stage_field and stage_values is not None:
        allowed = stage_values
    if rule.values is not None and allowed is not None:
        for key in rule.values:
            if key not in allowed:
                report((*rule.path, "values", key), f"'{key}' is not a value of {where}",
                       did_you_mean(key, allowed) or f"values: {', '.join(allowed[:10])}")
        # A value read that the map lacks is a problem on every record holding it (a
        # stage added to the org later, a map that forgot one): say so before any sync.
        unmapped = [value for value in allowed if value not in rule.values]
        if reads and unmapped:
            shown = ", ".join(f"'{v}'" for v in unmapped[:10]) + (
                f" ... ({len(unmapped) - 10} more)" if len(unmapped) > 10 else "")
            several = len(unmapped) > 1
            report((*rule.path, "values"), f"{where} has the value{'s' if several else ''} "
                   f"{shown}, which the value map lacks; records holding "
                   f"{'them' if several else 'it'} could not be read",
                   "add 'system value: canonical value' for each")
    # owner_email writes an owner id the owners API gave (HubSpot lists owners as the
    # options of owner properties): a value map in all but name.
    if writes and rule.values is None and described.restricted_picklist \
            and described.type in _PICKLIST_TYPES and rule.transform.name != "owner_email":
        report(path, f"{where} is a restricted picklist; writing free text would be "
               "rejected", "add a value map ('values:')")
    for literal, key in ((rule.default, "default"), (rule.constant, "constant")):
        if isinstance(literal, str) and described.length and len(literal) > described.length:
            report((*rule.path, key), f"longer than {where} allows ({described.length})")
