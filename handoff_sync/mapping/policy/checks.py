"""Check the meaning of handoff.yaml (its parts that loaded) against the system mappings.

Every field the policy names (in conditions, gates, templates, matching and routing
rules, SLA events, roles) must be a canonical field that some mapping reads; operators must suit
the field's type and values must be of that type; ids must be unique and references
(calendars, stages, SLA clocks) must exist. All problems are collected.

A part that did not load - a system file's broken entry, a whole system file, a broken
stage of this file - may define what a reference names. Such a reference is passed over
in silence (its cause is reported where it is): see ``FieldCatalog.maybe_provided`` and
``policy.defined``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from connectors.reading import did_you_mean
from handoff_sync.mapping.policy.conditions import OPERATORS_FOR, operand
from handoff_sync.mapping.policy.defined import Defined, ids_of, keys_of
from handoff_sync.mapping.policy.file_model import (
    FORMAT_VERSION,
    Brief,
    BusinessCalendar,
    Condition,
    Duration,
    Event,
    HandoffPolicy,
    HandoffType,
    Ownership,
    Stage,
)
from handoff_sync.mapping.policy.funnel_checks import check_funnels
from handoff_sync.mapping.policy.improvement_checks import check_improvement_owners
from handoff_sync.mapping.policy.measures_checks import check_measures
from handoff_sync.mapping.policy.readiness_checks import (
    UNKNOWN_PARTNERS,
    PartnerFields,
    check_readiness,
)
from handoff_sync.mapping.policy.routing_checks import check_routing
from handoff_sync.mapping.policy.templates import COMPUTED_PLACEHOLDERS, placeholders
from handoff_sync.mapping.system.bounds import PERCENT_FIELDS, percent_problem
from handoff_sync.mapping.system.compile import check_version
from handoff_sync.mapping.system.transforms import ValueProblem, read_email
from handoff_sync.model import (
    CANONICAL_FIELDS,
    ROLE_FIELDS,
    FieldType,
    PersonRole,
    Role,
    is_custom_field,
)
from handoff_sync.problems.partial import NO_GAPS, Gaps, Parts
from handoff_sync.problems.report import KeyPath, Problem, one_of
from handoff_sync.problems.yaml_source import YamlDocument

_ID = re.compile(r"[a-z][a-z0-9_]{0,62}")
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_TEXTUAL = (FieldType.TEXT, FieldType.EMAIL, FieldType.DOMAIN)
MAX_YEARS = 10  # the longest duration (SLA, task due, stage window) a policy may name

POLICY_PARTS: Parts = MappingProxyType({
    HandoffPolicy: MappingProxyType({
        "version": FORMAT_VERSION, "handoff_types": {},
        "ownership": Ownership.model_construct(fallback_owner_email="")}),
    HandoffType: MappingProxyType({
        "label": "", "stages": [], "brief": Brief.model_construct(title="", sections=[])}),
    Stage: MappingProxyType({"label": "", "days": [1, 1], "owner": "crm_owner"}),
})
"""What handoff.yaml's validation builds key by key when broken (``problems.partial``),
with a stand-in for each required key whose own checks below are skipped when it is lost:
a stage with a misspelt owner still has its gate checked against the system files."""


@dataclass(frozen=True)
class FieldCatalog:
    """The canonical fields the mappings provide: their types and which sides read them.

    ``unsure`` and ``unknown_sides`` say what the system files may provide beyond that:
    the names of entries that did not load (a typo in the entry), and the sides whose
    entries are unknown (the file, or its ``fields:``, did not load).
    """

    types: Mapping[str, FieldType]
    read_by: Mapping[str, frozenset[Role]]
    files: tuple[str, ...]  # the mapping file names, for messages
    unsure: Mapping[Role, frozenset[str]] = field(default_factory=dict)
    unknown_sides: frozenset[Role] = frozenset()
    # The PRM's partner account fields (its partners: section): partner.<name> -> type;
    # ``partners_unsure``: the section, or the PRM file, did not load (do not guess).
    partner_types: Mapping[str, FieldType] = field(default_factory=dict)
    partners_unsure: bool = False

    def provided(self, name: str) -> bool:
        return bool(self.read_by.get(name))

    def may_read(self, name: str, role: Role) -> bool:
        """``role``'s file may read ``name`` in an entry that did not load."""
        return role in self.unknown_sides or name in self.unsure.get(role, frozenset())

    def maybe_provided(self, name: str) -> bool:
        """Not known to be provided, but an entry that did not load may provide it."""
        spec = CANONICAL_FIELDS.get(name)
        mappable = spec.mappable if spec is not None else is_custom_field(name)
        return mappable and any(self.may_read(name, role) for role in Role)

    def type_of(self, name: str) -> FieldType | None:
        """The field's type, if known (a custom field's type is its entry's)."""
        spec = CANONICAL_FIELDS.get(name)
        return self.types.get(name) or (spec.type if spec is not None else None)


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


class _Checker:
    """Collects problems; ``path`` arguments are paths into the model (see ``Gaps``)."""

    def __init__(self, document: YamlDocument, catalog: FieldCatalog,
                 calendars: Mapping[str, BusinessCalendar], gaps: Gaps) -> None:
        self.document = document
        self.catalog = catalog
        self.calendars = calendars
        self.gaps = gaps
        self.problems: list[Problem] = []

    def add(self, path: KeyPath, message: str, hint: str = "", *, at_key: bool = False) -> None:
        self.problems.append(self.document.problem(self.gaps.in_file(path), message, hint,
                                                   at_key=at_key))

    def known(self, path: KeyPath) -> bool:
        """What the file writes at ``path`` loaded whole (else a stand-in, or a list that
        lost items, holds its place, and checks of its value would be guesses)."""
        return self.gaps.whole(self.gaps.in_file(path))

    def field(self, path: KeyPath, name: str, *, both_sides: bool = False) -> FieldType | None:
        """The field's type if it is known and provided; a problem if it is not provided
        (None and no problem when an entry that did not load may provide it)."""
        catalog = self.catalog
        if catalog.provided(name):
            if both_sides and len(catalog.read_by[name]) < 2:
                side = next(iter(catalog.read_by[name]))
                if catalog.may_read(name, Role.CRM if side is Role.PRM else Role.PRM):
                    return None
                self.add(path, f"'{name}' is read only from the {side.value} side; matching "
                         "compares both sides", "map it in both system files, or remove it")
                return None
            return catalog.type_of(name)
        if catalog.maybe_provided(name):
            return catalog.type_of(name)
        if name in CANONICAL_FIELDS or name.startswith("custom."):
            self.add(path, f"no mapping provides '{name}'",
                     f"map it (direction read or both) in {' or '.join(self.catalog.files)}")
        else:
            known = [n for n in self.catalog.types if self.catalog.provided(n)]
            hint = did_you_mean(name, known) or did_you_mean(name, CANONICAL_FIELDS) or \
                "see the canonical field list in docs/admin-guide.md"
            self.add(path, f"unknown canonical field '{name}'", hint)
        return None

    def condition(self, path: KeyPath, condition: Condition) -> None:
        if condition.all is not None or condition.any is not None:
            key = "all" if condition.all is not None else "any"
            for index, child in enumerate(condition.all or condition.any or []):
                self.condition((*path, key, index), child)
            return
        if condition.not_ is not None:
            self.condition((*path, "not"), condition.not_)
            return
        assert condition.field is not None and condition.op is not None
        field_type = self.field((*path, "field"), condition.field)
        if field_type is None:
            return
        allowed = OPERATORS_FOR[field_type]
        if condition.op not in allowed:
            self.add((*path, "op"), f"operator '{condition.op}' does not apply to "
                     f"'{condition.field}' ({field_type.value})", f"use {one_of(allowed)}")
            return
        if condition.op in ("is_blank", "is_filled", "is_true", "is_false"):
            return
        try:
            value = operand(condition, field_type)
        except ValueProblem as exc:
            self.add((*path, "value"), f"value does not fit '{condition.field}' "
                     f"({field_type.value}): {exc}")
            return
        if condition.field in PERCENT_FIELDS:
            for item in value if isinstance(value, tuple) else (value,):
                problem = percent_problem(item)
                if problem:
                    self.add((*path, "value"), f"'{condition.field}': {problem}",
                             "write the percentage itself, e.g. 15 for 15%")

    def template(self, path: KeyPath, text: str) -> None:
        names, errors = placeholders(text)
        for error in errors:
            self.add(path, f"template: {error}")
        for name in names:
            if name in COMPUTED_PLACEHOLDERS:
                continue
            if self.catalog.provided(name) or self.catalog.maybe_provided(name):
                continue
            if name in CANONICAL_FIELDS or name.startswith("custom."):
                self.add(path, f"placeholder {{{name}}}: no mapping provides '{name}'",
                         f"map it in {' or '.join(self.catalog.files)}")
                continue
            choices = [*COMPUTED_PLACEHOLDERS, *(n for n in self.catalog.types
                                                 if self.catalog.provided(n))]
            self.add(path, f"unknown placeholder {{{name}}}",
                     did_you_mean(name, choices) or "placeholders name canonical fields or "
                     f"{one_of(COMPUTED_PLACEHOLDERS)}")

    def role(self, path: KeyPath, role: str) -> None:
        name = ROLE_FIELDS[PersonRole(role)]
        if not (self.catalog.provided(name) or self.catalog.maybe_provided(name)):
            self.add(path, f"role '{role}' needs '{name}', which no mapping provides",
                     f"map '{name}' in {' or '.join(self.catalog.files)}")

    def duration(self, path: KeyPath, duration: Duration, calendar: str | None, *,
                 calendar_lost: bool = False) -> None:
        if duration.uses_calendar and calendar is None and not calendar_lost:
            self.add((*path, duration.unit), f"'{duration.unit}' needs a business calendar, "
                     "but this handoff type names none",
                     "add 'calendar: <name>' to the handoff type, or use hours/days")
            return
        limit = duration_limit(duration.unit, self.calendars.get(calendar or ""))
        # `not <=`: also true for infinity (pydantic already refuses NaN).
        if limit is not None and not duration.amount <= limit:
            where = f" of calendar '{calendar}'" if duration.uses_calendar else ""
            self.add((*path, duration.unit), f"{duration.amount:g} {duration.unit} is more "
                     f"than {MAX_YEARS} years (at most {limit:g}{where})",
                     "a typo? Deadlines this far out can never be met or missed")

    def unique(self, path: KeyPath, ids: Iterable[str], what: str) -> None:
        seen: set[str] = set()
        for index, value in enumerate(ids):
            if not _ID.fullmatch(value):
                self.add((*path, index), f"{what} id '{value}' must be lower-case letters, "
                         "digits and underscores, starting with a letter")
            if value in seen:
                self.add((*path, index), f"duplicate {what} id '{value}'",
                         "ids must be unique within the handoff type")
            seen.add(value)


def duration_limit(unit: str, calendar: BusinessCalendar | None) -> float | None:
    """The most of ``unit`` that fits in MAX_YEARS (None: the calendar is unusable, which
    is reported on its own). Working time counts a calendar's weekly days and hours."""
    days = MAX_YEARS * 365.25
    if unit == "days":
        return days
    if unit == "hours":
        return days * 24
    if calendar is None or not calendar.working_days \
            or not (_CLOCK.fullmatch(calendar.day_starts) and _CLOCK.fullmatch(calendar.day_ends)):
        return None
    working_days = days / 7 * len(set(calendar.working_days))
    if unit == "business_days":
        return round(working_days)
    day_hours = (_minutes(calendar.day_ends) - _minutes(calendar.day_starts)) / 60
    return round(working_days * day_hours) if day_hours > 0 else None


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def check_policy(document: YamlDocument, policy: HandoffPolicy, catalog: FieldCatalog,
                 gaps: Gaps = NO_GAPS,
                 partners: PartnerFields = UNKNOWN_PARTNERS) -> list[Problem]:
    """Every problem with the meaning of handoff.yaml; ``gaps``: its parts that did not
    load (nothing is said about what they might have held); ``partners``: what the PRM
    file's partners: section maps (for measures.readiness)."""
    # A calendar that lost a working day would make business-time limits wrong: left out.
    check = _Checker(document, catalog, {name: calendar for name, calendar
                                         in policy.calendars.items()
                                         if gaps.whole(("calendars", name))}, gaps)
    check.problems.extend(check_version(document, policy.version))
    for name, calendar in policy.calendars.items():
        path: KeyPath = ("calendars", name)
        try:
            if calendar.timezone not in _timezones():
                ZoneInfo(calendar.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            check.add((*path, "timezone"), f"unknown time zone '{calendar.timezone}'",
                      did_you_mean(calendar.timezone, _timezones()) or
                      "use an IANA name such as Europe/Berlin")
        for key in ("day_starts", "day_ends"):
            if not _CLOCK.fullmatch(getattr(calendar, key)):
                check.add((*path, key), f"expected a time like 09:00, got "
                          f"'{getattr(calendar, key)}'", "write it in quotes as HH:MM")
        if (_CLOCK.fullmatch(calendar.day_starts) and _CLOCK.fullmatch(calendar.day_ends)
                and calendar.day_starts >= calendar.day_ends):
            check.add((*path, "day_ends"), "the working day must end after it starts")
        if not calendar.working_days and check.known((*path, "working_days")):
            check.add((*path, "working_days"), "a calendar needs at least one working day")
        if len(set(calendar.working_days)) != len(calendar.working_days):
            check.add((*path, "working_days"), "a day is listed twice")
    if not gaps.lost(("ownership",)):
        try:
            read_email(policy.ownership.fallback_owner_email)
        except ValueProblem as exc:
            check.add(("ownership", "fallback_owner_email"), str(exc))
        stand_in = policy.ownership.channel_manager_field
        # Unmapped is allowed (a file-drop PRM names no channel manager: no stand-in), so
        # one handoff.yaml serves every PRM; a name no mapping could provide is a typo.
        if stand_in is not None and stand_in not in CANONICAL_FIELDS \
                and not stand_in.startswith("custom."):
            check.add(("ownership", "channel_manager_field"),
                      f"unknown canonical field '{stand_in}'",
                      did_you_mean(stand_in, CANONICAL_FIELDS) or
                      "name a canonical field or custom.<name> holding an email")
    if not gaps.lost(("matching",)):
        _check_matching(check, policy)
    if policy.creation is not None and check.known(("creation", "when")):
        check.condition(("creation", "when"), policy.creation.when)
    if policy.routing is not None:
        check_routing(check, policy.routing)
    if not gaps.lost(("measures", "funnels")):
        check_funnels(check, policy.measures.funnels)
    if not gaps.lost(("measures",)):
        check_improvement_owners(check, policy.measures)
        check_measures(check, policy.measures)
    calendars = keys_of(document.data, ("calendars",))
    readiness = policy.measures.readiness
    if readiness is not None and not gaps.lost(("measures", "readiness")):
        check_readiness(check, readiness, partners, calendars)
    for type_id, handoff in policy.handoff_types.items():
        if not _ID.fullmatch(type_id):
            check.add(("handoff_types", type_id), f"handoff type id '{type_id}' must be "
                      "lower-case letters, digits and underscores", at_key=True)
        _check_type(check, ("handoff_types", type_id), handoff, calendars)
        _check_takes_over(check, ("handoff_types", type_id), type_id, handoff,
                          keys_of(document.data, ("handoff_types",)))
    return check.problems


def _check_takes_over(check: _Checker, path: KeyPath, type_id: str, handoff: HandoffType,
                      types: Defined) -> None:
    """takes_over names other handoff types, and needs applies_when to say when."""
    for index, other in enumerate(handoff.takes_over):
        if other == type_id:
            check.add((*path, "takes_over", index), "a handoff type cannot take over its "
                      "own deals", "name another handoff type")
        elif types.lacks(other):
            check.add((*path, "takes_over", index), f"no handoff type '{other}'",
                      did_you_mean(other, types.ids) or f"types: {one_of(types.ids)}")
    if handoff.takes_over and handoff.applies_when is None:
        check.add((*path, "takes_over"), "'takes_over' needs 'applies_when': it says when "
                  "a deal moves to this handoff type", "add applies_when")


def _check_matching(check: _Checker, policy: HandoffPolicy) -> None:
    matching = policy.matching
    for key in ("exact", "fuzzy"):
        for index, name in enumerate(getattr(matching, key)):
            field_type = check.field(("matching", key, index), name, both_sides=True)
            if field_type is not None and field_type not in _TEXTUAL:
                check.add(("matching", key, index), f"'{name}' is {field_type.value}; "
                          "matching compares text fields", "amount and close date have "
                          "their own tolerance settings")
    if matching.review_min_confidence > matching.auto_link_min_confidence:
        check.add(("matching", "review_min_confidence"), "must not be above "
                  "auto_link_min_confidence")


def _check_type(check: _Checker, path: KeyPath, handoff: HandoffType,
                calendars: Defined) -> None:
    if handoff.calendar is not None and calendars.lacks(handoff.calendar):
        check.add((*path, "calendar"), f"no calendar named '{handoff.calendar}'",
                  did_you_mean(handoff.calendar, calendars.ids) or
                  "define it under 'calendars:'")
    for key in ("applies_when", "required_when"):
        condition = getattr(handoff, key)
        if condition is not None:
            check.condition((*path, key), condition)
    stage_ids = [stage.id for stage in handoff.stages]
    check.unique((*path, "stages"), stage_ids, "stage")
    # What a reference may name: also the stages and clocks that did not load.
    stages = ids_of(check.document.data, (*path, "stages"), required=True)
    clocks = ids_of(check.document.data, (*path, "slas"))
    calendar_lost = not check.known((*path, "calendar"))
    previous_last = 0
    for index, stage in enumerate(handoff.stages):
        stage_path: KeyPath = (*path, "stages", index)
        if check.known((*stage_path, "days")):
            previous_last = _check_days(check, (*stage_path, "days"), stage.days,
                                        previous_last)
        if check.known((*stage_path, "owner")):
            check.role((*stage_path, "owner"), stage.owner)
        if stage.auto_advance and index == len(handoff.stages) - 1 \
                and check.known((*path, "stages")):
            check.add((*stage_path, "auto_advance"), "the last stage has no next stage to "
                      "advance to", "remove auto_advance, or add a stage after it")
        # A canonical history field no mapping provides is only blank: the stage's entry
        # is then the moment handoff-sync moved the deal (handoff.yaml stays portable).
        if stage.entered_at is not None and not (stage.entered_at in CANONICAL_FIELDS
                                                 and not check.catalog.provided(
                                                     stage.entered_at)):
            entered_type = check.field((*stage_path, "entered_at"), stage.entered_at)
            if entered_type is not None and entered_type is not FieldType.DATETIME:
                check.add((*stage_path, "entered_at"), f"'{stage.entered_at}' is "
                          f"{entered_type.value}; entered_at names a datetime field",
                          "e.g. approved_at, won_at, or a custom field mapped with "
                          "transform: datetime")
        for number, requirement in enumerate(stage.gate):
            req_path: KeyPath = (*stage_path, "gate", number)
            if requirement.field is None and requirement.check is None:
                check.add(req_path, "a gate requirement needs 'field' (must be filled) "
                          "or 'check' (a condition)")
            if requirement.field is None and requirement.check is not None \
                    and not requirement.label:
                check.add(req_path, "a requirement with only a 'check' needs a 'label' "
                          "(what people see when it is missing)", "add 'label: ...'")
            if requirement.field is not None:
                check.field((*req_path, "field"), requirement.field)
            if requirement.check is not None:
                check.condition((*req_path, "check"), requirement.check)
            if requirement.when is not None:
                check.condition((*req_path, "when"), requirement.when)
    sla_ids = [sla.id for sla in handoff.slas]
    check.unique((*path, "slas"), sla_ids, "SLA clock")
    for index, sla in enumerate(handoff.slas):
        sla_path: KeyPath = (*path, "slas", index)
        _check_event(check, (*sla_path, "start"), sla.start, stages)
        if isinstance(sla.stop, list):
            if not sla.stop:
                check.add((*sla_path, "stop"), "the list of stop events is empty",
                          "name at least one event")
            for number, event in enumerate(sla.stop):
                _check_event(check, (*sla_path, "stop", number), event, stages)
        else:
            _check_event(check, (*sla_path, "stop"), sla.stop, stages)
        check.duration((*sla_path, "duration"), sla.duration, handoff.calendar,
                       calendar_lost=calendar_lost)
        if sla.escalate_to is not None:
            check.role((*sla_path, "escalate_to"), sla.escalate_to)
    if handoff.acceptance is not None:
        _check_acceptance(check, (*path, "acceptance"), handoff, stages)
    check.unique((*path, "tasks"), [task.kind for task in handoff.tasks], "task kind")
    for index, task in enumerate(handoff.tasks):
        task_path: KeyPath = (*path, "tasks", index)
        if task.open_while.startswith("sla_"):
            if task.sla is None:
                check.add(task_path, f"'{task.open_while}' tasks need 'sla: <clock id>'",
                          f"one of {one_of(sla_ids)}" if sla_ids else "define an SLA clock")
            elif clocks.lacks(task.sla):
                check.add((*task_path, "sla"), f"no SLA clock '{task.sla}' in this handoff "
                          "type", did_you_mean(task.sla, clocks.ids))
        elif task.open_while == "handoff_rejected" and handoff.acceptance is None \
                and check.known((*path, "acceptance")):
            check.add((*task_path, "open_while"), "'handoff_rejected' tasks need the handoff "
                      "type's 'acceptance' section", "add 'acceptance: {}' to the handoff "
                      "type, so the receiving owner can reject it")
        if task.sla is not None and not task.open_while.startswith("sla_"):
            check.add((*task_path, "sla"), f"'sla' only applies to sla_at_risk/sla_breached "
                      f"tasks, not '{task.open_while}'", "remove it")
        for number, stage_id in enumerate(task.stages or []):
            if stages.lacks(stage_id):
                check.add((*task_path, "stages", number), f"no stage '{stage_id}' in this "
                          "handoff type", did_you_mean(stage_id, stages.ids) or
                          f"stages: {one_of(stages.ids)}")
        if task.when is not None:
            check.condition((*task_path, "when"), task.when)
        check.template((*task_path, "subject"), task.subject)
        check.template((*task_path, "body"), task.body)
        check.role((*task_path, "assignee"), task.assignee)
        check.duration((*task_path, "due"), task.due, handoff.calendar,
                       calendar_lost=calendar_lost)
    check.template((*path, "brief", "title"), handoff.brief.title)
    for index, section in enumerate(handoff.brief.sections):
        check.template((*path, "brief", "sections", index, "text"), section.text)


def _check_days(check: _Checker, path: KeyPath, days: list[int], previous_last: int) -> int:
    """A stage's [first day, last day]; returns the last day of the stages so far."""
    first, last = days
    if first < 1 or last < first:
        check.add(path, f"expected [first day, last day] with 1 <= first <= last, got "
                  f"[{first}, {last}]")
    elif last > MAX_YEARS * 366:
        check.add(path, f"day {last} is more than {MAX_YEARS} years after the handoff "
                  "starts", "a typo? Stage windows count days")
    elif first <= previous_last:
        check.add(path, f"day {first} overlaps the previous stage, which ends on day "
                  f"{previous_last}", f"start this stage on day {previous_last + 1} or later")
    return max(previous_last, last)


def _check_acceptance(check: _Checker, path: KeyPath, handoff: HandoffType,
                      stages: Defined) -> None:
    """The acceptance section: the decision field is mapped, the reopened stage exists."""
    acceptance = handoff.acceptance
    assert acceptance is not None
    check.field(path, "handoff_acceptance")
    for key in ("receiver", "sender"):
        check.role((*path, key), getattr(acceptance, key))
    if acceptance.reopens is not None and stages.lacks(acceptance.reopens):
        check.add((*path, "reopens"), f"no stage '{acceptance.reopens}' in this handoff type",
                  did_you_mean(acceptance.reopens, stages.ids) or
                  f"stages: {one_of(stages.ids)}")


def _check_event(check: _Checker, path: KeyPath, event: Event, stages: Defined) -> None:
    needs_stage = event.on in ("stage_entered", "gate_passed")
    needs_field = event.on == "field_filled"
    if event.on == "handoff_accepted":
        check.field(path, "handoff_acceptance")
    if needs_stage:
        if event.stage is None:
            check.add(path, f"event '{event.on}' needs 'stage: <stage id>'",
                      f"one of {one_of(stages.ids)}")
        elif stages.lacks(event.stage):
            check.add((*path, "stage"), f"no stage '{event.stage}' in this handoff type",
                      did_you_mean(event.stage, stages.ids) or f"stages: {one_of(stages.ids)}")
    elif event.stage is not None:
        check.add((*path, "stage"), f"event '{event.on}' takes no stage", "remove it")
    if needs_field:
        if event.field is None:
            check.add(path, "event 'field_filled' needs 'field: <canonical field>'")
        else:
            check.field((*path, "field"), event.field)
    elif event.field is not None:
        check.add((*path, "field"), f"event '{event.on}' takes no field", "remove it")
