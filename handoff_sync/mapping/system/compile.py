"""Check the meaning of one validated mappings/<system>.yaml and build its SystemMapping.

The structure (keys, types) was checked by the pydantic models; here each entry is
checked for sense: the canonical field exists, the transform suits its type, value maps
hold valid values and can be written back, the file maps its own record id, and so on.
Problems are collected, never raised one at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from connectors.reading import did_you_mean
from connectors.registry import SYSTEMS, SystemSpec
from handoff_sync.mapping.system.bounds import PERCENT_FIELDS, PERCENT_OUTPUTS, percent_problem
from handoff_sync.mapping.system.compile_partners import compile_partners
from handoff_sync.mapping.system.conflicts import ConflictPolicy
from handoff_sync.mapping.system.convert import (
    AccountRules,
    CreateRules,
    FieldRule,
    SystemMapping,
    TaskRules,
)
from handoff_sync.mapping.system.entries import entry_transform as _transform
from handoff_sync.mapping.system.entries import literal as _literal
from handoff_sync.mapping.system.entries import value_map as _value_map
from handoff_sync.mapping.system.field_use import check_field_use
from handoff_sync.mapping.system.file_model import (
    FORMAT_VERSION,
    FieldMap,
    OutputMap,
    SystemFile,
    TaskAttribute,
)
from handoff_sync.model import (
    CANONICAL_FIELDS,
    FIELD_VALUES,
    OUTPUT_TYPES,
    OUTPUT_VALUES,
    FieldType,
    Output,
    Role,
    SystemName,
    TaskPriority,
    TaskStatus,
    Value,
    is_custom_field,
)
from handoff_sync.problems.partial import NO_GAPS, Gaps, Parts
from handoff_sync.problems.report import KeyPath, Problem, one_of
from handoff_sync.problems.yaml_source import YamlDocument

MAPPABLE_FIELDS = tuple(name for name, spec in CANONICAL_FIELDS.items() if spec.mappable)

# Task attributes: their type, and the closed set of values a value map must cover.
TASK_ATTRIBUTES: Mapping[str, tuple[FieldType, tuple[str, ...]]] = MappingProxyType({
    "subject": (FieldType.TEXT, ()),
    "body": (FieldType.TEXT, ()),
    "due": (FieldType.DATETIME, ()),
    "assignee": (FieldType.EMAIL, ()),
    "status": (FieldType.TEXT, tuple(TaskStatus)),
    "priority": (FieldType.TEXT, tuple(TaskPriority)),
})
REQUIRED_TASK_ATTRIBUTES: tuple[TaskAttribute, ...] = ("subject", "due", "assignee")

SYSTEM_STAND_INS: Mapping[str, Any] = MappingProxyType({
    "version": FORMAT_VERSION, "object": "", "modified_field": "", "fields": {}})
"""What a missing or broken required key of a system file stands in as, so the rest of
the file is still checked (``problems.partial``; ``role`` is the loader's to guess)."""


def system_parts(role: str | None) -> Parts:
    """How a system file is built key by key when broken; ``role``: a stand-in for a
    missing or wrong ``role:`` (without one, such a file builds no model)."""
    stand_ins = {**SYSTEM_STAND_INS, **({"role": role} if role else {})}
    return {SystemFile: stand_ins}


def check_version(document: YamlDocument, version: int) -> list[Problem]:
    if version == FORMAT_VERSION:
        return []
    if version > FORMAT_VERSION:
        return [document.problem(("version",), f"format version {version} is newer than "
                                 f"this handoff-sync reads ({FORMAT_VERSION})",
                                 "upgrade handoff-sync, or use a file written for it")]
    return [document.problem(("version",), f"format version {version} does not exist",
                             f"write 'version: {FORMAT_VERSION}'")]


def compile_system(document: YamlDocument, model: SystemFile, system: SystemName,
                   gaps: Gaps = NO_GAPS) -> tuple[SystemMapping, list[Problem]]:
    """The runtime mapping and every problem with the file's meaning. ``gaps``: parts of
    the file that did not load (their structural problems are reported); nothing is said
    about what they might have held, e.g. no "must map 'crm_id'" when its entry is broken."""
    problems = check_version(document, model.version)
    row = SYSTEMS[system]
    if row.read_only is not None:
        problems.extend(_read_only_problems(document, model, row, gaps))
        # Nothing more is said about what could never be written: no follow-on noise.
        model = model.model_copy(update={
            "fields": {n: e for n, e in model.fields.items() if e.direction == "read"},
            "outputs": {}, "tasks": None, "create": None})
    problems.extend(check_field_use(document, model))
    role = Role(model.role)
    fields: dict[str, FieldRule] = {}
    for name, entry in model.fields.items():
        rule = _field_rule(document, name, entry, problems)
        if rule is not None:
            fields[name] = rule
    own_id = "prm_id" if role is Role.PRM else "crm_id"
    if own_id not in model.fields and not gaps.lost(("fields", own_id)):
        problems.append(document.problem(("fields",), f"a {role.value} mapping must map "
                                         f"'{own_id}' (the record's own id)",
                                         f"add '{own_id}: <id field>' under fields"))
    elif own_id in fields and fields[own_id].writes:
        problems.append(document.problem(("fields", own_id, "direction"),
                                         f"'{own_id}' is the record's own id; it is only read",
                                         "remove 'direction' (it defaults to read)"))
    outputs: dict[Output, FieldRule] = {}
    for output_name, out_entry in model.outputs.items():
        output = Output(output_name)
        rule = _output_rule(document, ("outputs", output_name), output_name,
                            OUTPUT_TYPES[output], OUTPUT_VALUES.get(output, ()), out_entry,
                            problems)
        if rule is not None:
            outputs[output] = rule
    tasks = None
    if model.tasks is not None:
        # Both sides may hold tasks: a PRM's are the partner's to-dos (TaskTemplate.side).
        task_fields: dict[str, FieldRule] = {}
        for attribute, task_entry in model.tasks.fields.items():
            type_, closed = TASK_ATTRIBUTES[attribute]
            rule = _output_rule(document, ("tasks", "fields", attribute), attribute, type_,
                                closed, task_entry, problems)
            if rule is not None:
                task_fields[attribute] = rule
        for attribute in REQUIRED_TASK_ATTRIBUTES:
            if attribute not in model.tasks.fields \
                    and not gaps.lost(("tasks", "fields", attribute)):
                problems.append(document.problem(("tasks", "fields"),
                                                 f"task attribute '{attribute}' is not mapped",
                                                 f"add '{attribute}: <task field>'"))
        link = model.tasks.deal_link
        tasks = TaskRules(model.tasks.object, model.tasks.key_field, link.field,
                          link.association_type_id, MappingProxyType(task_fields))
    create = _create_rules(document, model, role, fields, problems)
    partners = compile_partners(document, model, system, problems, gaps)
    mapping = SystemMapping(
        file=document.file, system=system, role=role, object=model.object,
        modified_field=model.modified_field, scope=MappingProxyType(dict(model.scope)),
        fields=MappingProxyType(fields), outputs=MappingProxyType(outputs), tasks=tasks,
        positions=MappingProxyType(dict(document.source.values)), create=create,
        partners=partners,
    )
    return mapping, problems


def _create_rules(document: YamlDocument, model: SystemFile, role: Role,
                  fields: Mapping[str, FieldRule], problems: list[Problem]) -> CreateRules | None:
    """The create section, checked: only a CRM creates deals, a created deal must name its
    registration (so it links both ways), and its key field is nobody else's."""
    section = model.create
    if section is None:
        return None
    if role is not Role.CRM:
        problems.append(document.problem(("create",), "deals are created in the CRM; this "
                                         "file is the PRM side",
                                         "move the create section to the crm file",
                                         at_key=True))
        return None
    prm = fields.get("prm_id")
    if prm is None or prm.system_field is None:
        problems.append(document.problem(("create",), "a created deal must name its "
                                         "registration: map 'prm_id' to a field",
                                         "add 'prm_id: {field: <field>, direction: both}'",
                                         at_key=True))
    key = section.external_id_field
    taken = {rule.system_field: name for name, rule in fields.items() if rule.system_field}
    if key in taken or key == model.modified_field:
        problems.append(document.problem(("create", "external_id_field"), f"'{key}' is "
                                         f"mapped to '{taken.get(key, 'modified_field')}'; the "
                                         "creation key needs a field of its own",
                                         "create a unique text field for it"))
    for name, value in section.defaults.items():
        if isinstance(value, (list, dict)):
            problems.append(document.problem(
                ("create", "defaults", name), f"a default is one value; got a "
                f"{'list' if isinstance(value, list) else 'mapping'}",
                f"write one value, e.g. {name}: <value>"))
            continue
        if name in model.scope and str(value) != model.scope[name]:
            problems.append(document.problem(
                ("create", "defaults", name), f"a created deal with {name} {value!r} would "
                f"be outside this mapping's scope ({name}: {model.scope[name]})",
                f"write {model.scope[name]!r}, or leave it out (the scope is written anyway)"))
    account = section.account
    return CreateRules(key, MappingProxyType(dict(section.defaults)), None if account is None
                       else AccountRules(account.object, account.name_field,
                                         account.domain_field, account.link_field,
                                         account.association_type_id))


def _read_only_problems(document: YamlDocument, model: SystemFile, system: SystemSpec,
                        gaps: Gaps) -> list[Problem]:
    """A system handoff-sync cannot write (a file drop: a PRM's exports) can only be read,
    as the PRM side."""
    problems: list[Problem] = []
    if model.role != Role.PRM.value and not gaps.lost(("role",)):
        crm_files = " or ".join(f"{name}.yaml" for name, other in SYSTEMS.items()
                                if other.read_only is None)
        problems.append(document.problem(("role",), f"a {system.title} can only be the PRM "
                                         "side", f"write 'role: prm'; the CRM side is "
                                         f"{crm_files}"))
    read_only = system.read_only
    assert read_only is not None
    for name, entry in model.fields.items():
        if entry.direction != "read":
            problems.append(document.problem(("fields", name, "direction"), read_only,
                                             "use direction: read and put outputs in the "
                                             "CRM file"))
    if model.outputs:
        problems.append(document.problem(("outputs",), read_only, "use direction: read and "
                                         "put outputs in the CRM file", at_key=True))
    if model.tasks is not None:
        problems.append(document.problem(("tasks",), read_only,
                                         "put tasks in the CRM file", at_key=True))
    return problems


def _field_rule(document: YamlDocument, name: str, entry: FieldMap,
                problems: list[Problem]) -> FieldRule | None:
    path: KeyPath = ("fields", name)
    before = len(problems)
    spec = CANONICAL_FIELDS.get(name)
    if spec is None and not is_custom_field(name):
        hint = did_you_mean(name, MAPPABLE_FIELDS) or (
            "custom fields are written 'custom.<name>' with a lower-case name"
            if name.startswith("custom") else
            "see the canonical field list in docs/admin-guide.md, or use custom.<name>")
        problems.append(document.problem(path, f"unknown canonical field '{name}'", hint,
                                         at_key=True))
        return None
    if spec is not None and not spec.mappable:
        problems.append(document.problem(path, f"'{name}' is set by handoff-sync itself and "
                                         "cannot be mapped", "remove this entry",
                                         at_key=True))
        return None
    has_constant = "constant" in entry.model_fields_set
    if has_constant == (entry.field is not None):
        problems.append(document.problem(path, "give exactly one of 'field' (a system "
                                         "field) or 'constant' (a fixed value)"))
        return None
    transform = _transform(document, path, entry.transform, entry.values,
                           spec.type if spec else None, problems)
    if transform is None:
        return None
    field_type = spec.type if spec else (FieldType.TEXT if entry.values is not None
                                         else transform.produces)
    constant = None
    if has_constant:
        constant = _literal(document, (*path, "constant"), field_type, entry.constant,
                            problems)
        if entry.direction != "read":
            problems.append(document.problem((*path, "direction"), "a constant is only read",
                                             "remove 'direction'"))
    values, inverse = _value_map(document, path, entry.values, field_type,
                                 writes=entry.direction != "read", problems=problems)
    default = None
    if "default" in entry.model_fields_set and entry.default is not None:
        default = _literal(document, (*path, "default"), field_type, entry.default, problems)
    if name in FIELD_VALUES and not has_constant:
        _closed_values(document, path, name, FIELD_VALUES[name], values, problems)
    if name in PERCENT_FIELDS:
        _check_percent(document, path, constant, default, values, problems)
    if entry.policy is ConflictPolicy.READ_ONLY and entry.direction != "read":
        problems.append(document.problem((*path, "policy"), f"policy {entry.policy} means "
                                         f"handoff-sync never writes '{name}', but its "
                                         f"direction is '{entry.direction}'",
                                         "use direction: read, or another policy"))
    if len(problems) > before:
        return None
    return FieldRule(name, field_type, entry.field, transform, constant, values, inverse,
                     default, entry.direction, entry.policy, path)


def _output_rule(document: YamlDocument, path: KeyPath, name: str, field_type: FieldType,
                 closed: tuple[str, ...], entry: OutputMap,
                 problems: list[Problem]) -> FieldRule | None:
    before = len(problems)
    transform = _transform(document, path, entry.transform, entry.values, field_type,
                           problems, write_only=True)
    if transform is None:
        return None
    values, inverse = _value_map(document, path, entry.values, field_type, writes=True,
                                 problems=problems)
    if closed:
        _closed_values(document, path, name, closed, values, problems)
    default = None
    if "default" in entry.model_fields_set and entry.default is not None:
        default = _literal(document, (*path, "default"), field_type, entry.default, problems)
    if name in PERCENT_OUTPUTS:
        _check_percent(document, path, None, default, values, problems)
    if len(problems) > before:
        return None
    return FieldRule(name, field_type, entry.field, transform, None, values, inverse, default,
                     "write", None, path)


def _closed_values(document: YamlDocument, path: KeyPath, name: str, closed: tuple[str, ...],
                   values: Mapping[str, Value] | None, problems: list[Problem]) -> None:
    """A value map onto a closed set of values names only those and covers them all."""
    if values is None:
        problems.append(document.problem(path, f"'{name}' takes the values "
                                         f"{one_of(closed)}; map them to this system's "
                                         "values", "add 'values: {<system value>: "
                                         f"{closed[0]}, ...}}'"))
        return
    mapped = set(values.values())
    unknown = [(key, target) for key, target in values.items() if target not in closed]
    for key, target in unknown:
        problems.append(document.problem(
            (*path, "values", key), f"'{target}' is not a value of '{name}'; "
            f"expected {one_of(closed)}", did_you_mean(str(target), closed)))
    missing = [v for v in closed if v not in mapped]
    if missing and not unknown:  # a misspelt value is the missing one: said once
        problems.append(document.problem((*path, "values"), "no system value for "
                                         f"{one_of(missing)}",
                                         "every value must be writable"))


def _check_percent(document: YamlDocument, path: KeyPath, constant: Value, default: Value,
                   values: Mapping[str, Value] | None, problems: list[Problem]) -> None:
    """A percentage written in the file (constant, default, value-map target) is 0-100."""
    written: list[tuple[KeyPath, Value]] = [((*path, "constant"), constant),
                                            ((*path, "default"), default)]
    written += [((*path, "values", key), target) for key, target in (values or {}).items()]
    for where, value in written:
        problem = percent_problem(value)
        if problem:
            problems.append(document.problem(where, problem, "write the percentage itself, "
                                             "e.g. 15 for 15%"))
