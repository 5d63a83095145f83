"""The schema of mappings/<system>.yaml: what keys exist, their types and their meaning.

These frozen pydantic models are the structural check (types, allowed keys and values);
meaning that needs more than one key - a canonical field that exists, a transform that
suits it, references to the other files - is checked in checks.py. Extra keys are
forbidden everywhere so a misspelt key is an error, not a silently ignored line.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from handoff_sync.mapping.system.conflicts import ConflictPolicy

FORMAT_VERSION = 1

TransformName = Literal["text", "email", "domain", "number", "currency", "integer", "bool",
                        "date", "datetime", "multi_select", "lines", "owner_email"]
Direction = Literal["read", "write", "both"]
PolicyName = Annotated[ConflictPolicy, Field(strict=False)]  # the file writes the value
OutputName = Literal["handoff_required", "gate_status", "completeness", "missing_fields",
                     "sla_due", "sla_status", "brief", "last_synced"]
TaskAttribute = Literal["subject", "body", "due", "assignee", "status", "priority"]


class FileModel(BaseModel):
    """Base of every mappings-file model: frozen, strict, no unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True,
                              use_attribute_docstrings=True, populate_by_name=False)


def _shorthand(value: Any) -> Any:
    """``amount: Amount`` is short for ``amount: {field: Amount}``."""
    return {"field": value} if isinstance(value, str) else value


class FieldMap(FileModel):
    """How one canonical field is read from, and written to, one system field."""

    field: str | None = None
    """The system field (API name) that holds the value; leave out only with `constant`."""
    constant: Any = None
    """A fixed canonical value instead of a system field (e.g. a currency code)."""
    transform: TransformName | None = None
    """How the value is converted; by default the natural one for the canonical type."""
    values: dict[str, Any] | None = None
    """Picklist/stage value map, system value: canonical value (written back inverted)."""
    default: Any = None
    """The canonical value to use when the system value is blank (and to write for blank)."""
    direction: Direction = "read"
    """read: only read from this system; write: only written to it; both: read and written."""
    policy: PolicyName | None = None
    """Who wins when both systems changed the field since the last sync."""


class OutputMap(FileModel):
    """Where one engine output (or one task attribute) is written in this system."""

    field: str
    """The system field (API name) to write."""
    transform: TransformName | None = None
    """How the value is converted; by default the natural one for the output's type."""
    values: dict[str, Any] | None = None
    """Value map, system value: handoff-sync value (e.g. Passed: passed)."""
    default: Any = None
    """The value to write when the output is blank."""


FieldEntry = Annotated[FieldMap, BeforeValidator(_shorthand)]
OutputEntry = Annotated[OutputMap, BeforeValidator(_shorthand)]


class DealLink(FileModel):
    """How a task is attached to its deal: a lookup field or an association type."""

    field: str | None = None
    """The task field that holds the deal/opportunity id (Salesforce: WhatId)."""
    association_type_id: int | None = None
    """The task-to-deal association type (HubSpot: 216)."""

    @model_validator(mode="after")
    def _exactly_one(self) -> DealLink:
        if (self.field is None) == (self.association_type_id is None):
            raise ValueError("give exactly one of 'field' or 'association_type_id'")
        return self


class TaskMapping(FileModel):
    """Where follow-up tasks are created and how their attributes map to task fields."""

    object: str
    """The task object (Salesforce: Task, HubSpot: tasks)."""
    key_field: str
    """The unique field holding the deterministic task key (makes upserts idempotent)."""
    deal_link: DealLink
    """How a task is attached to the deal."""
    fields: dict[TaskAttribute, OutputEntry]
    """Task attribute: system field (subject, body, due, assignee, status, priority)."""


class AccountLookup(FileModel):
    """Where the customer account of a created deal is looked up (by domain, then by
    name) and created when there is none."""

    object: str
    """The account object (Salesforce: Account, HubSpot: companies)."""
    name_field: str
    """The account field holding the company name (Salesforce: Name, HubSpot: name)."""
    domain_field: str | None = None
    """The account field holding its web domain (Salesforce: Website, HubSpot: domain)."""
    link_field: str | None = None
    """The deal field that names the account (Salesforce: AccountId)."""
    association_type_id: int | None = None
    """The deal-to-account association type (HubSpot deal -> company: 5)."""

    @model_validator(mode="after")
    def _exactly_one(self) -> AccountLookup:
        if (self.link_field is None) == (self.association_type_id is None):
            raise ValueError("give exactly one of 'link_field' or 'association_type_id'")
        return self


class CreateSection(FileModel):
    """How handoff-sync creates a deal for a registration no deal matches (CRM side)."""

    external_id_field: str
    """A unique field (Salesforce External ID, HubSpot property with unique values) that
    holds the creation key: creating twice finds the first record instead of a second."""
    defaults: dict[str, Any] = Field(default_factory=dict)
    """System field: value written on every created deal (e.g. StageName: Prospecting)."""
    account: AccountLookup | None = None
    """Find or create the customer account and attach the deal to it."""


class TaskLink(FileModel):
    """How a task is attached to a partner account: a lookup field or an association."""

    field: str | None = None
    """The task field that holds the account id (Salesforce: WhatId)."""
    association_type_id: int | None = None
    """The task-to-account association type (HubSpot task -> company: 192)."""

    @model_validator(mode="after")
    def _exactly_one(self) -> TaskLink:
        if (self.field is None) == (self.association_type_id is None):
            raise ValueError("give exactly one of 'field' or 'association_type_id'")
        return self


class PartnersSection(FileModel):
    """The PRM's partner companies: where they are, what handoff-sync reads of them (for
    partner readiness) and where tasks for a partner attach (training tasks)."""

    object: str
    """The partner account object (Salesforce: Account, HubSpot: companies)."""
    modified_field: str
    """The account's last-modified timestamp field (incremental reads)."""
    scope: dict[str, str] = Field(default_factory=dict)
    """Only accounts whose fields equal these values are partners (e.g. Type: Partner)."""
    name_field: str
    """The account field holding the partner's name as deals hold it in partner_account."""
    owner: FieldEntry | None = None
    """The account's owner, the partner's channel manager: an email field, or an owner id
    with transform: owner_email."""
    fields: dict[str, FieldEntry] = Field(default_factory=dict)
    """partner.<name>: the account field it is read from (written like a deal field's
    entry; partner fields are only read)."""
    task_link: TaskLink | None = None
    """How a task for a partner attaches to its account; the task object and attributes
    are this file's tasks: section."""


class SystemFile(FileModel):
    """mappings/<system>.yaml: one system's side of a pipeline."""

    version: int
    """Format version of this file; this handoff-sync reads version 1."""
    role: Literal["prm", "crm"]
    """prm: partner deal registrations come from here; crm: the direct team works here."""
    object: str
    """The object (Salesforce) or object type (HubSpot) holding the deals."""
    modified_field: str
    """The record's last-modified timestamp field (incremental reads, newest_wins)."""
    scope: dict[str, str] = Field(default_factory=dict)
    """Only records whose fields equal these values belong to this pipeline."""
    fields: dict[str, FieldEntry]
    """Canonical field: how it maps to this system (see docs/admin-guide.md)."""
    outputs: dict[OutputName, OutputEntry] = Field(default_factory=dict)
    """Engine output: the system field it is written to."""
    tasks: TaskMapping | None = None
    """Where follow-up tasks are written: the CRM's, and on the PRM side the partner's
    (task templates with side: prm)."""
    create: CreateSection | None = None
    """How deals are created for registrations nothing matched (the CRM side only)."""
    partners: PartnersSection | None = None
    """The partner companies and their capability fields (the PRM side only)."""
