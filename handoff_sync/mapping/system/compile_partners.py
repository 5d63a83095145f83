"""Check the PRM file's ``partners:`` section and build its PartnerRules.

The section names the object holding the partner companies (Salesforce Account with
Type = Partner, HubSpot companies of type PARTNER), the account field that holds the
partner's name as deals name it, the owner (the channel manager) and the capability
fields handoff-sync reads as ``partner.<name>``. Partner accounts are only read: nothing
in the section may be written. Tasks for a partner (training tasks) are written with the
file's own ``tasks:`` section and attached to the account as ``task_link`` says.
"""

from __future__ import annotations

from types import MappingProxyType

from connectors.registry import SYSTEMS
from handoff_sync.mapping.system.convert import FieldRule, PartnerRules
from handoff_sync.mapping.system.entries import entry_transform, literal, value_map
from handoff_sync.mapping.system.file_model import FieldMap, SystemFile
from handoff_sync.model import FieldType, Role, SystemName, is_partner_field
from handoff_sync.problems.partial import NO_GAPS, Gaps
from handoff_sync.problems.report import KeyPath, Problem
from handoff_sync.problems.yaml_source import YamlDocument

SECTION = "partners"
OWNER_TRANSFORMS = ("email", "owner_email")


def compile_partners(document: YamlDocument, model: SystemFile, system: SystemName,
                     problems: list[Problem], gaps: Gaps = NO_GAPS) -> PartnerRules | None:
    """The section's rules, or None (no section, or one that does not make sense: its
    problems are added to ``problems``)."""
    section = model.partners
    if section is None:
        return None
    before = len(problems)
    if model.role != Role.PRM.value:
        problems.append(document.problem((SECTION,), "partner accounts are read from the "
                                         "PRM; this file is the CRM side",
                                         "move the partners section to the prm file",
                                         at_key=True))
        return None
    read_only = SYSTEMS[system.value].read_only
    if read_only is not None:
        problems.append(document.problem((SECTION,), f"a {SYSTEMS[system.value].title} "
                                         "holds deal registrations only, no partner "
                                         "accounts handoff-sync can read",
                                         "remove the partners section", at_key=True))
        return None
    for key, value in (("object", section.object), ("modified_field", section.modified_field),
                       ("name_field", section.name_field)):
        if not value.strip():
            problems.append(document.problem((SECTION, key), f"'{key}' is empty",
                                             "name the account object or field"))
    owner = None
    if section.owner is not None:
        owner = _rule(document, (SECTION, "owner"), "owner", section.owner, problems,
                      field_type=FieldType.EMAIL)
        if owner is not None and owner.transform.name not in OWNER_TRANSFORMS:
            problems.append(document.problem(
                (SECTION, "owner", "transform"), f"the owner is an email; transform "
                f"'{owner.transform.name}' does not give one",
                "use transform: owner_email for an owner id, or email for an email field"))
    fields: dict[str, FieldRule] = {}
    for name, entry in section.fields.items():
        path: KeyPath = (SECTION, "fields", name)
        if not is_partner_field(name):
            problems.append(document.problem(
                path, f"'{name}' is not a partner field name", "partner fields are written "
                "'partner.<name>', lower-case letters, digits and underscores (e.g. "
                "partner.certified_engineers)", at_key=True))
            continue
        rule = _rule(document, path, name, entry, problems)
        if rule is not None:
            fields[name] = rule
    link = section.task_link
    if link is not None and model.tasks is None and not gaps.lost(("tasks",)):
        problems.append(document.problem(
            (SECTION, "task_link"), "tasks for partners are written with this file's "
            "tasks: section, which it lacks", "add a tasks: section (see "
            "docs/admin-guide.md), or remove task_link", at_key=True))
    if link is not None and model.tasks is not None \
            and link.field is not None and link.field.lower() == model.tasks.key_field.lower():
        problems.append(document.problem(
            (SECTION, "task_link", "field"), f"{link.field} holds the task key "
            "(tasks: key_field); the account id needs a field of its own",
            "name the task's lookup field (Salesforce: WhatId)"))
    if len(problems) > before:
        return None
    return PartnerRules(section.object, section.modified_field,
                        MappingProxyType(dict(section.scope)), section.name_field, owner,
                        MappingProxyType(fields), link.field if link else None,
                        link.association_type_id if link else None)


def _rule(document: YamlDocument, path: KeyPath, name: str, entry: FieldMap,
          problems: list[Problem], *, field_type: FieldType | None = None) -> FieldRule | None:
    """One read-only entry: its transform, value map, constant and default, checked like
    a deal field's. Its type is ``field_type``, else what the transform or map gives."""
    before = len(problems)
    has_constant = "constant" in entry.model_fields_set
    if has_constant == (entry.field is not None):
        problems.append(document.problem(path, "give exactly one of 'field' (a system "
                                         "field) or 'constant' (a fixed value)"))
        return None
    transform = entry_transform(document, path, entry.transform, entry.values, field_type,
                                problems)
    if transform is None:
        return None
    if field_type is None:
        field_type = FieldType.TEXT if entry.values is not None else transform.produces
    constant = (literal(document, (*path, "constant"), field_type, entry.constant, problems)
                if has_constant else None)
    values, inverse = value_map(document, path, entry.values, field_type, writes=False,
                                problems=problems)
    default = None
    if "default" in entry.model_fields_set and entry.default is not None:
        default = literal(document, (*path, "default"), field_type, entry.default, problems)
    if entry.direction != "read":
        problems.append(document.problem((*path, "direction"), "partner accounts are only "
                                         "read; handoff-sync never writes them",
                                         "remove 'direction' (it defaults to read)"))
    if entry.policy is not None:
        problems.append(document.problem((*path, "policy"), "a field that is only read "
                                         "needs no conflict policy", "remove 'policy'"))
    if len(problems) > before:
        return None
    return FieldRule(name, field_type, entry.field, transform, constant, values, inverse,
                     default, "read", None, path)
