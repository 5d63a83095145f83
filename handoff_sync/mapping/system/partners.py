"""Partner accounts through the PRM file's ``partners:`` section: a raw account record as a
``PartnerAccount``, and where a task for a partner goes (pure; owners come from a
directory the caller built).

A task for a partner (e.g. a training task for its channel manager) is an ordinary task
of the PRM: same object, key field and attributes as the file's ``tasks:`` section, but
attached to the partner's account instead of a registration: a Salesforce Task's WhatId
names the Account, a HubSpot task is associated with the company (task -> company, type
192). ``partner_task_target`` and ``partner_task_values`` give the connector's
``upsert_tasks`` exactly that; the task key keeps upserts idempotent as for deal tasks.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from connectors.base import TaskTarget, TaskWrite
from connectors.reading import is_blank
from handoff_sync.mapping.system.convert import (
    PartnerRules,
    SystemMapping,
    SystemValues,
    ValueIssue,
    read_rule,
    task_to_system,
)
from handoff_sync.mapping.system.transforms import read_text, scope_text
from handoff_sync.model import OwnerDirectory, PartnerAccount, TaskSpec


def is_partner(rules: PartnerRules, raw: Mapping[str, Any]) -> bool:
    """The account matches the section's scope (e.g. Type = Partner)."""
    return all(scope_text(raw.get(name)) == value for name, value in rules.scope.items())


def to_partner(rules: PartnerRules, record_id: str, raw: Mapping[str, Any],
               owners: OwnerDirectory) -> tuple[PartnerAccount, tuple[ValueIssue, ...]]:
    """A raw account record (field -> API value) as a partner, and the values that could
    not be read (each left blank, or at its default)."""
    issues: list[ValueIssue] = []
    name = raw.get(rules.name_field)
    owner = read_rule(rules.owner, raw, owners, issues) if rules.owner is not None else None
    values = {field: read_rule(rule, raw, owners, issues)
              for field, rule in rules.fields.items()}
    account = PartnerAccount(record_id, "" if is_blank(name) else read_text(name).strip(),
                             owner if isinstance(owner, str) else None,
                             MappingProxyType(values))
    return account, tuple(issues)


def partner_task_target(mapping: SystemMapping) -> TaskTarget | None:
    """Where tasks on partner accounts go in ``mapping``'s system (the PRM): the tasks:
    section's object and key, attached as the partners: section's task_link says; None
    when the file maps no partners, no task_link or no tasks."""
    partners, tasks = mapping.partners, mapping.tasks
    if partners is None or tasks is None or (partners.task_link_field is None
                                             and partners.task_association_type_id is None):
        return None
    return TaskTarget(tasks.object, tasks.key_field, partners.task_link_field,
                      partners.task_association_type_id, partners.object)


def partner_task_values(mapping: SystemMapping, task: TaskSpec,
                        owners: OwnerDirectory) -> SystemValues:
    """The task's field values for a task on partner account ``task.crm_id``: its
    attributes as the tasks: section maps them, its key, and the account in the link
    field (never in the registration's link field, when that is another one)."""
    partners, tasks = mapping.partners, mapping.tasks
    if partners is None or tasks is None:
        raise ValueError(f"{mapping.file} maps no partners or no tasks")
    written = task_to_system(mapping, task, owners)
    values = dict(written.values)
    if tasks.deal_link_field:
        values.pop(tasks.deal_link_field, None)
    if partners.task_link_field:
        values[partners.task_link_field] = task.crm_id
    return SystemValues(MappingProxyType(values), written.issues)


def partner_task_write(mapping: SystemMapping, task: TaskSpec,
                       owners: OwnerDirectory) -> tuple[TaskWrite, tuple[ValueIssue, ...]]:
    """The connector's TaskWrite for a task on partner account ``task.crm_id`` (to send
    with ``partner_task_target``), and the attributes that could not be converted."""
    values = partner_task_values(mapping, task, owners)
    return TaskWrite(task.key, task.crm_id, values.values), values.issues
