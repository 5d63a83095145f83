"""Canonical types: the deal the engine reasons about, and the types around it.

Every system-specific record is mapped (handoff_sync.mapping) into these types before the
engine sees it, and every engine decision is mapped back out of them. Canonical field
names form a closed, documented set (the fields of ``Deal`` below, listed with labels and
types in ``CANONICAL_FIELDS``) plus ``custom.<name>`` fields that admins add in the
mappings. A blank value is always ``None``: mapping turns "", whitespace and empty lists
into ``None``, so "is this filled?" is one test everywhere.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from operator import attrgetter
from types import MappingProxyType
from typing import Any, TypeVar

from connectors.base import Owner
from connectors.registry import SYSTEMS

# One canonical value: text, number, whole number, yes/no, date, instant (timezone-aware,
# UTC), or a list of texts (multi-select). None means blank.
Value = str | Decimal | int | bool | date | datetime | tuple[str, ...] | None

CUSTOM_PREFIX = "custom."
PARTNER_PREFIX = "partner."  # fields of a partner account (the PRM file's partners:)


_T = TypeVar("_T")


def quick_init(cls: type[_T]) -> type[_T]:
    """Give a frozen, slotted dataclass an ``__init__`` that sets its slots through their
    descriptors: the generated one calls ``object.__setattr__`` per field (frozen), which
    made building the engine's many small records (gate results, clocks, task specs,
    verdicts) a tenth of planning. Same signature, defaults, equality and immutability
    (tests/unit/test_model.py); classes with __post_init__, init=False or keyword-only
    fields are refused rather than half supported."""
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    if (not getattr(cls, "__slots__", None) or hasattr(cls, "__post_init__")
            or len(fields) != len(cls.__dataclass_fields__)  # type: ignore[attr-defined]
            or any(not f.init or f.kw_only for f in fields)):
        raise TypeError(f"quick_init needs a plain slotted dataclass, not {cls.__name__}")
    scope: dict[str, Any] = {"_NONE": dataclasses.MISSING}
    params, body = ["self"], []
    for i, f in enumerate(fields):
        scope[f"_set{i}"] = getattr(cls, f.name).__set__
        if f.default is not dataclasses.MISSING:
            scope[f"_default{i}"] = f.default
            params.append(f"{f.name}=_default{i}")
        elif f.default_factory is not dataclasses.MISSING:
            scope[f"_factory{i}"] = f.default_factory
            params.append(f"{f.name}=_NONE")
            body.append(f"    if {f.name} is _NONE: {f.name} = _factory{i}()")
        else:
            params.append(f.name)
        body.append(f"    _set{i}(self, {f.name})")
    exec(f"def __init__({', '.join(params)}):\n" + "\n".join(body or ["    pass"]), scope)
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls


class FieldType(StrEnum):
    """The kinds of canonical value; each mapping transform produces exactly one."""

    TEXT = "text"
    EMAIL = "email"  # lower-cased address
    DOMAIN = "domain"  # lower-cased host name without scheme, www. or path
    NUMBER = "number"  # Decimal
    INTEGER = "integer"
    BOOL = "bool"
    DATE = "date"
    DATETIME = "datetime"  # timezone-aware, normalised to UTC
    TEXT_LIST = "text_list"  # tuple of texts, order kept, no duplicates


class Role(StrEnum):
    """The two sides of a pipeline."""

    PRM = "prm"  # where partners register deals
    CRM = "crm"  # where the direct team works the opportunity


# The systems handoff-sync has mappings and connectors for (salesforce, hubspot, files),
# as connectors.registry lists them: the registry is the one list of systems.
SystemName = StrEnum(  # type: ignore[misc]  # members come from the registry
    "SystemName", [(name.upper(), name) for name in SYSTEMS], module=__name__)


class PersonRole(StrEnum):
    """Who a task or a stage belongs to, resolved to an email through the deal."""

    PRM_OWNER = "prm_owner"  # the partner rep of record (partner_rep_email)
    CRM_OWNER = "crm_owner"  # the direct account executive (ae_email)
    CS_OWNER = "cs_owner"  # the customer success owner (cs_owner_email)
    MANAGER = "manager"  # the CRM owner's manager, from the owner directory


class GateStatus(StrEnum):
    PASSED = "passed"
    BLOCKED = "blocked"
    NOT_REQUIRED = "not_required"


class Acceptance(StrEnum):
    """The receiving owner's decision on a handoff (handoff_acceptance)."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class SlaStatus(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    MET = "met"


class TaskPriority(StrEnum):
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class TaskAnchor(StrEnum):
    """The kind of record a task is attached to."""

    DEAL = "deal"  # the deal's record on the task's side (registration or opportunity)
    PARTNER = "partner"  # a partner account in the PRM (readiness training tasks)


class Output(StrEnum):
    """What the engine computes and a mapping may write back to a system field."""

    HANDOFF_REQUIRED = "handoff_required"
    GATE_STATUS = "gate_status"
    COMPLETENESS = "completeness"
    MISSING_FIELDS = "missing_fields"
    SLA_DUE = "sla_due"
    SLA_STATUS = "sla_status"
    BRIEF = "brief"
    LAST_SYNCED = "last_synced"


OUTPUT_TYPES: Mapping[Output, FieldType] = MappingProxyType({
    Output.HANDOFF_REQUIRED: FieldType.BOOL,
    Output.GATE_STATUS: FieldType.TEXT,  # a GateStatus value
    Output.COMPLETENESS: FieldType.INTEGER,  # percent, 0-100
    Output.MISSING_FIELDS: FieldType.TEXT_LIST,  # gate requirement labels, policy order
    Output.SLA_DUE: FieldType.DATETIME,
    Output.SLA_STATUS: FieldType.TEXT,  # an SlaStatus value
    Output.BRIEF: FieldType.TEXT,
    Output.LAST_SYNCED: FieldType.DATETIME,
})

# Outputs whose text values come from a closed set: their value maps must cover it.
OUTPUT_VALUES: Mapping[Output, tuple[str, ...]] = MappingProxyType({
    Output.GATE_STATUS: tuple(GateStatus),
    Output.SLA_STATUS: tuple(SlaStatus),
})


def _meta(type_: FieldType, label: str, doc: str, *, mappable: bool = True) -> dict[str, Any]:
    """A Deal field's catalogue entry: type, human label, one-line meaning."""
    return {"type": type_, "label": label, "doc": doc, "mappable": mappable}


T = FieldType


@quick_init
@dataclass(frozen=True, slots=True)
class Deal:
    """One deal as the engine sees it: PRM and CRM values merged into canonical fields."""

    # Identity
    pipeline: str | None = field(default=None, metadata=_meta(
        T.TEXT, "Pipeline", "the daemon pipeline this deal belongs to (set from the daemon "
        "config, not mapped)", mappable=False))
    prm_id: str | None = field(default=None, metadata=_meta(
        T.TEXT, "PRM registration id", "id of the deal registration in the PRM"))
    crm_id: str | None = field(default=None, metadata=_meta(
        T.TEXT, "CRM opportunity id", "id of the opportunity/deal in the CRM"))
    # The deal
    deal_name: str | None = field(default=None, metadata=_meta(
        T.TEXT, "Deal name", "name of the deal or opportunity"))
    account_name: str | None = field(default=None, metadata=_meta(
        T.TEXT, "Customer account", "the prospect's company name"))
    account_domain: str | None = field(default=None, metadata=_meta(
        T.DOMAIN, "Customer domain", "the prospect's web domain"))
    amount: Decimal | None = field(default=None, metadata=_meta(
        T.NUMBER, "Amount", "expected deal value"))
    currency: str | None = field(default=None, metadata=_meta(
        T.TEXT, "Currency", "ISO currency code of amount"))
    close_date: date | None = field(default=None, metadata=_meta(
        T.DATE, "Close date", "expected or actual close date"))
    crm_stage: str | None = field(default=None, metadata=_meta(
        T.TEXT, "CRM stage", "the opportunity/deal stage in the CRM"))
    is_closed: bool | None = field(default=None, metadata=_meta(
        T.BOOL, "Closed", "the deal is closed (won or lost)"))
    is_won: bool | None = field(default=None, metadata=_meta(
        T.BOOL, "Won", "the deal is closed won"))
    won_at: datetime | None = field(default=None, metadata=_meta(
        T.DATETIME, "Won at", "when the deal was marked closed won in the CRM"))
    registration_status: str | None = field(default=None, metadata=_meta(
        T.TEXT, "Registration status", "where the registration is in the PRM's approval flow"))
    approved_at: datetime | None = field(default=None, metadata=_meta(
        T.DATETIME, "Approved at", "when the registration was approved in the PRM"))
    # People and partners
    partner_account: str | None = field(default=None, metadata=_meta(
        T.TEXT, "Partner", "the partner company that registered the deal"))
    partner_rep_email: str | None = field(default=None, metadata=_meta(
        T.EMAIL, "Partner rep", "the partner rep of record"))
    ae_email: str | None = field(default=None, metadata=_meta(
        T.EMAIL, "Account executive", "the direct rep who owns the opportunity"))
    cs_owner_email: str | None = field(default=None, metadata=_meta(
        T.EMAIL, "CS owner", "the customer success owner"))
    # Handoff position
    handoff_type: str | None = field(default=None, metadata=_meta(
        T.TEXT, "Handoff type", "a handoff type id of handoff.yaml (e.g. partner_to_direct)"))
    handoff_stage: str | None = field(default=None, metadata=_meta(
        T.TEXT, "Handoff stage", "a stage id of the handoff type (e.g. pre_handoff_assessment)"))
    stage_entered_at: datetime | None = field(default=None, metadata=_meta(
        T.DATETIME, "Stage entered", "when the deal entered its current handoff stage"))
    # The receiving owner's decision (handoff.yaml's acceptance section)
    handoff_acceptance: str | None = field(default=None, metadata=_meta(
        T.TEXT, "Handoff acceptance",
        "the receiving owner's decision: pending, accepted or rejected"))
    handoff_rejection_reason: str | None = field(default=None, metadata=_meta(
        T.TEXT, "Rejection reason", "why the receiving owner rejected the handoff"))
    handoff_decided_by: str | None = field(default=None, metadata=_meta(
        T.EMAIL, "Decided by", "who last changed the record that holds the decision "
        "(e.g. Salesforce LastModifiedById), read when the decision is first seen"))
    handoff_resubmit: bool | None = field(default=None, metadata=_meta(
        T.BOOL, "Re-submit handoff",
        "the sender re-submits a rejected handoff; handoff-sync clears it"))
    # Qualification facts the gates ask for (domain.md, stages 1-5)
    budget: Decimal | None = field(default=None, metadata=_meta(
        T.NUMBER, "Budget", "the budget the prospect confirmed"))
    economic_buyer: str | None = field(default=None, metadata=_meta(
        T.TEXT, "Economic buyer", "who signs, identified and engaged"))
    need: str | None = field(default=None, metadata=_meta(
        T.TEXT, "Need", "the pain the prospect wants solved"))
    decision_date: date | None = field(default=None, metadata=_meta(
        T.DATE, "Decision timeline", "when the prospect will decide"))
    decision_process: str | None = field(default=None, metadata=_meta(
        T.TEXT, "Decision process", "how the decision is made and by whom"))
    technical_requirements: str | None = field(default=None, metadata=_meta(
        T.TEXT, "Technical requirements", "documented technical needs and integrations"))
    competitors: tuple[str, ...] | None = field(default=None, metadata=_meta(
        T.TEXT_LIST, "Competitors", "the competitive landscape"))
    stakeholder_map: str | None = field(default=None, metadata=_meta(
        T.TEXT, "Stakeholder map", "authority, approval path, evaluators, champions and blockers"))
    commitments: str | None = field(default=None, metadata=_meta(
        T.TEXT, "Commitments", "every promise made to the prospect"))
    success_criteria: str | None = field(default=None, metadata=_meta(
        T.TEXT, "Success criteria", "what success looks like in the first 90 days"))
    open_risks: str | None = field(default=None, metadata=_meta(
        T.TEXT, "Open risks", "known risks and objections"))
    partner_prepared_prospect: bool | None = field(default=None, metadata=_meta(
        T.BOOL, "Partner prepared prospect",
        "the partner confirmed the prospect is ready for the transition"))
    intro_call_at: datetime | None = field(default=None, metadata=_meta(
        T.DATETIME, "Three-party intro call",
        "when the partner-prospect-rep introduction was held"))
    joint_discovery_at: datetime | None = field(default=None, metadata=_meta(
        T.DATETIME, "Joint discovery", "when the joint discovery session was held"))
    kickoff_at: datetime | None = field(default=None, metadata=_meta(
        T.DATETIME, "Customer success kickoff",
        "when the customer-success kickoff meeting was held (closed-won handoff)"))
    communication_protocol: str | None = field(default=None, metadata=_meta(
        T.TEXT, "Communication protocol", "who stays cc'd and who joins which meetings"))
    co_led_meetings: int | None = field(default=None, metadata=_meta(
        T.INTEGER, "Co-led meetings", "meetings led jointly by partner and direct rep"))
    partner_feedback: str | None = field(default=None, metadata=_meta(
        T.TEXT, "Partner feedback", "the partner's feedback on the handoff"))
    partner_ongoing_role: str | None = field(default=None, metadata=_meta(
        T.TEXT, "Partner ongoing role", "what the partner keeps doing after the handoff"))
    partner_split_pct: Decimal | None = field(default=None, metadata=_meta(
        T.NUMBER, "Partner split %", "the partner's share of the commission, 0-100"))
    custom: Mapping[str, Value] = field(default_factory=lambda: MappingProxyType({}))

    def get(self, name: str) -> Value:
        """A canonical field's value by name, including ``custom.<name>``; None if blank."""
        read = _FIELD_READERS.get(name)  # conditions ask this ~50 times per deal per cycle
        if read is not None:
            value: Value = read(self)
            return value
        if name.startswith(CUSTOM_PREFIX):
            return self.custom.get(name)
        raise KeyError(f"no canonical field named {name!r}")

    def canonical(self) -> dict[str, Value]:
        """Every canonical field (blanks included), catalogue order; custom ones left out."""
        return dict(zip(CANONICAL_FIELDS, _READ_ALL(self), strict=True))

    def values(self) -> dict[str, Value]:
        """Every filled field, catalogue order, then custom fields by name."""
        filled = {name: getattr(self, name) for name in CANONICAL_FIELDS}
        filled.update(sorted(self.custom.items()))
        return {name: value for name, value in filled.items() if value is not None}

    @classmethod
    def from_values(cls, values: Mapping[str, Value], *, pipeline: str | None = None) -> Deal:
        """Build a deal from canonical name -> value (custom.* included); blanks stay None."""
        known = {name: value for name, value in values.items() if name in CANONICAL_FIELDS}
        custom = {name: value for name, value in values.items()
                  if name.startswith(CUSTOM_PREFIX)}
        unknown = set(values) - set(known) - set(custom)
        if unknown:
            raise KeyError(f"not canonical field names: {sorted(unknown)}")
        if pipeline is not None:
            known["pipeline"] = pipeline
        return cls(**known, custom=MappingProxyType(custom))  # type: ignore[arg-type]


def _deal_builders() -> tuple[Callable[..., Deal],
                              Callable[[Mapping[str, Value], str | None, Mapping[str, Value]],
                                       Deal]]:
    """``dataclasses.replace`` for a Deal, and a Deal read from a mapping, setting the
    slots through their descriptors (as quick_init does): the engine builds a deal two or
    three times per pair per cycle, ~50 fields each. The same frozen Deal comes out
    (tests/unit/test_model.py)."""
    names = [f.name for f in dataclasses.fields(Deal)]
    scope: dict[str, Any] = {"_new": object.__new__, "_Deal": Deal, "_KEEP": _KEEP}
    for i, name in enumerate(names):
        descriptor = getattr(Deal, name)
        scope[f"_s{i}"], scope[f"_g{i}"] = descriptor.__set__, descriptor.__get__
    keep = ", ".join(f"{n}=_KEEP" for n in names)
    copy = [f"def copy(d, /, *, {keep}):", "    o = _new(_Deal)"]
    copy += [f"    _s{i}(o, _g{i}(d) if {n} is _KEEP else {n})" for i, n in enumerate(names)]
    # Read by literal (interned) names: keyword arguments whose names are equal strings
    # but other objects (read from YAML) are matched by comparing every parameter name.
    read = ["def read(values, pipeline, custom, /):", "    o = _new(_Deal)",
            "    get = values.get"]
    read += [f"    _s{i}(o, {n if n in ('pipeline', 'custom') else f'get({n!r})'})"
             for i, n in enumerate(names)]
    exec("\n".join([*copy, "    return o", *read, "    return o"]), scope)
    return scope["copy"], scope["read"]


_KEEP: Any = object()  # deal_with: the field keeps the deal's value
# deal_with(deal, **changes): dataclasses.replace for a Deal (an unknown name is a
# TypeError); read_deal(values, pipeline, custom): a Deal of the canonical fields
# ``values`` holds but pipeline (other names ignored, a missing one None), that pipeline
# and those custom values. For hot paths.
deal_with, read_deal = _deal_builders()


@dataclass(frozen=True, slots=True)
class CanonicalField:
    """A catalogue entry: what a canonical field holds and how it is shown to people."""

    name: str
    type: FieldType
    label: str
    doc: str
    mappable: bool  # False: set by the daemon, never read from a system


CANONICAL_FIELDS: Mapping[str, CanonicalField] = MappingProxyType({
    f.name: CanonicalField(f.name, f.metadata["type"], f.metadata["label"], f.metadata["doc"],
                           f.metadata["mappable"])
    for f in dataclasses.fields(Deal) if f.metadata
})

# Canonical field -> its slot's reader, and all of them at once (Deal.get, Deal.canonical).
_FIELD_READERS: Mapping[str, Callable[[Deal], Value]] = MappingProxyType({
    name: getattr(Deal, name).__get__ for name in CANONICAL_FIELDS})
_READ_ALL = attrgetter(*CANONICAL_FIELDS)

# Canonical fields whose values come from a closed set: a value map must cover it.
FIELD_VALUES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "handoff_acceptance": tuple(Acceptance),
})

# The canonical field that holds each person role's email (manager comes from the directory).
ROLE_FIELDS: Mapping[PersonRole, str] = MappingProxyType({
    PersonRole.PRM_OWNER: "partner_rep_email",
    PersonRole.CRM_OWNER: "ae_email",
    PersonRole.CS_OWNER: "cs_owner_email",
    PersonRole.MANAGER: "ae_email",
})


_CUSTOM_NAME = re.compile(r"custom\.[a-z][a-z0-9_]{0,62}")
_PARTNER_NAME = re.compile(r"partner\.[a-z][a-z0-9_]{0,62}")


def is_custom_field(name: str) -> bool:
    """``custom.<name>``: lower-case letters, digits and underscores after the prefix."""
    return _CUSTOM_NAME.fullmatch(name) is not None


def is_partner_field(name: str) -> bool:
    """``partner.<name>``: a field of the partner account, named like a custom field."""
    return _PARTNER_NAME.fullmatch(name) is not None


@dataclass(frozen=True, slots=True)
class PartnerAccount:
    """One partner company as the PRM holds it (the PRM file's ``partners:`` section).

    ``name`` is the value deals carry in ``partner_account`` for this partner (the
    section's ``name_field``), so a deal belongs to the partner whose name it names
    (``partner_key`` compares them). ``owner_email`` is the account owner's email: the
    partner's channel manager. ``values`` holds every mapped ``partner.<name>`` field,
    blank ones as None.
    """

    id: str  # the account's record id in the PRM
    name: str
    owner_email: str | None
    values: Mapping[str, Value]


def partner_key(name: str) -> str:
    """A partner name as deals and partner accounts are matched by it: case and the
    spaces around and inside it do not count ("Acme  Partners " is "acme partners")."""
    return " ".join(name.split()).casefold()


class OwnerDirectory:
    """Owner id <-> email lookups for one system, built from its owner list at run time.

    Mapping functions take a directory argument instead of calling a system, so they stay
    pure; the daemon builds one per system per cycle, tests build them from literals.

    An email held by two or more active users names nobody: giving the work to one of them
    would be a guess (which one got it would depend on the order the system listed its
    users). ``id_for`` answers None for such an email, as for an unknown one, and
    ``duplicates`` lists them so the plan can ask a person to sort the users out.
    """

    __slots__ = ("_active", "_by_email", "_by_id")

    def __init__(self, owners: Iterable[Owner] = ()) -> None:
        self._by_id: dict[str, Owner] = {}
        self._by_email: dict[str, Owner] = {}
        self._active: dict[str, list[Owner]] = {}
        for owner in owners:
            self._by_id[owner.id] = owner
            email = owner.email.strip().lower()
            if owner.active and email:
                self._active.setdefault(email, []).append(owner)
            # An active user wins over an inactive one that shares the address.
            current = self._by_email.get(email)
            if current is None or (owner.active and not current.active):
                self._by_email[email] = owner

    def __len__(self) -> int:
        return len(self._by_id)

    def email_for(self, owner_id: str) -> str | None:
        owner = self._by_id.get(owner_id)
        return owner.email.strip().lower() if owner else None

    def id_for(self, email: str) -> str | None:
        """The one active owner with this email, or None: nobody active has it (inactive
        users get no new work), or several do (see ``duplicates``)."""
        holders = self._active.get(email.strip().lower(), ())
        return holders[0].id if len(holders) == 1 else None

    def active_holders(self, email: str) -> tuple[Owner, ...]:
        """The active owners with this email, by id."""
        return tuple(sorted(self._active.get(email.strip().lower(), ()), key=lambda o: o.id))

    def active_emails(self) -> tuple[str, ...]:
        """Every email an active owner has, sorted (for "did you mean" hints)."""
        return tuple(sorted(self._active))

    def duplicates(self) -> dict[str, tuple[Owner, ...]]:
        """Emails held by two or more active owners -> those owners (by id), by email."""
        return {email: self.active_holders(email) for email in sorted(self._active)
                if len(self._active[email]) > 1}

    def manager_email(self, email: str) -> str | None:
        """The manager of the user with this email (None too when several active users
        have the email: whose manager it is would be a guess)."""
        owner = self._by_email.get(email.strip().lower())
        if owner is None or owner.manager_id is None or len(self.active_holders(email)) > 1:
            return None
        return self.email_for(owner.manager_id)


@quick_init
@dataclass(frozen=True, slots=True)
class MissingRequirement:
    """A gate requirement the deal does not meet yet."""

    label: str  # what the admin called it in handoff.yaml
    field: str | None  # the canonical field to fill, when the requirement names one


@quick_init
@dataclass(frozen=True, slots=True)
class GateResult:
    """The verdict of one deal's current gate."""

    handoff_type: str | None  # None: no handoff type applies to this deal
    stage: str | None
    required: bool  # the handoff-required thresholds hold
    status: GateStatus
    completeness_pct: int  # weighted share of applicable requirements met, 0-100
    missing: tuple[MissingRequirement, ...]  # policy order

    @property
    def missing_labels(self) -> tuple[str, ...]:
        return tuple(item.label for item in self.missing)


@quick_init
@dataclass(frozen=True, slots=True)
class TaskSpec:
    """A task the engine wants to exist in a system, keyed so upserts are idempotent."""

    key: str  # deterministic: one open task per deal, side, handoff type, stage and kind
    kind: str  # the task template id in handoff.yaml
    # The deal record the task is attached to on ``side``: the CRM opportunity, or for a
    # PRM task the partner's registration (named crm_id when tasks lived in the CRM only).
    crm_id: str
    subject: str
    body: str
    assignee_email: str
    due_at: datetime
    priority: TaskPriority
    status: TaskStatus = TaskStatus.OPEN
    side: Role = Role.CRM  # the system the task is written to (TaskTemplate.side)
    # What ``crm_id`` names: a deal record, or a partner account (training tasks), which
    # the connector attaches the task to in its own way.
    anchor: TaskAnchor = TaskAnchor.DEAL

