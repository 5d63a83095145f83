"""The demo's people: partners, channel managers and AEs editing deals between sync cycles.

Every edit goes through the real vendor clients (simple-salesforce, hubspot-api-client)
pointed at the sandbox, as a person working in Salesforce or HubSpot would make it. The
people read what the daemon wrote where they work (the gate status and the missing
fields on each opportunity) and act on it; they never look at the daemon's database.

Field names and value formats come from the mappings folder, so the edits stay valid for
whatever the shipped mappings say. The choices are a pure function of the random seed and
of what the systems hold, so the same demo makes the same edits.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
from hubspot import HubSpot
from hubspot.crm.deals import BatchInputSimplePublicObjectBatchInput, SimplePublicObjectBatchInput
from simple_salesforce import Salesforce

from connectors.base import Owner
from handoff_sync.errors import UserError
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.mapping.policy.file_model import Condition, GateRequirement
from handoff_sync.mapping.policy.gates import evaluate_gate, requirement_label
from handoff_sync.mapping.system.convert import (
    MappedRecord,
    SystemMapping,
    flatten_record,
    to_canonical,
    to_system,
)
from handoff_sync.model import Deal, GateStatus, Output, OwnerDirectory, SlaStatus, Value
from handoff_sync.sandbox.core.control_client import ControlClient, SandboxCredentials

SF_API_VERSION = "59.0"
SF_BATCH = 200  # Salesforce sObject Collections maximum
HS_BATCH = 100  # HubSpot batch maximum
PARTNER_TYPE, CS_TYPE = "partner_to_direct", "closed_won_to_cs"
REGISTRATION_STATUS = "registration_status"
APPROVED = "approved"
CLOSED_WON_STAGE = "Closed Won"  # the Salesforce Opportunity stage for a won deal
# The week that passes: long enough for a 5-business-day SLA to run out whatever the
# weekday (weekends and a holiday included), short of the 30-day handoff clock.
TIME_PASSES = timedelta(days=8)

# What the people type, by canonical field (dates and times are set from the clock).
_TEXT: Mapping[str, str] = {
    "economic_buyer": "Dana Whitfield, CFO",
    "need": "Consolidate three legacy billing systems before the next fiscal year",
    "decision_process": "Steering committee review, then CFO sign-off; legal in parallel",
    "technical_requirements": "SSO via Okta, EU data residency, REST API to SAP S/4HANA",
    "stakeholder_map": "CFO signs; IT program manager champions; security lead reviews",
    "commitments": "Pilot pricing held until quarter end; named solution engineer",
    "success_criteria": "Invoices issued from one system within 90 days",
    "open_risks": "Budget freeze possible in Q3; incumbent offering a renewal discount",
    "communication_protocol": "Partner cc'd on exec emails; weekly joint sync on Tuesdays",
    "partner_feedback": "Smooth intro; AE responsive; keep us in the QBRs",
}
_NUMBERS: Mapping[str, Value] = {
    "budget": Decimal(150_000), "partner_split_pct": Decimal(40), "co_led_meetings": 2,
    "partner_prepared_prospect": True, "partner_ongoing_role": "co_sell",
    "competitors": ("Acme", "Globex"),
}


@dataclass(frozen=True)
class StepResult:
    """What one generator step did, in the words of the people who did it."""

    title: str
    lines: tuple[str, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Opportunity:
    raw: Mapping[str, Any]
    deal: MappedRecord

    @property
    def id(self) -> str:
        return str(self.raw["Id"])

    @property
    def name(self) -> str:
        return str(self.deal.values.get("deal_name") or self.id)

    def value(self, name: str) -> Value:
        return self.deal.values.get(name)

    def output(self, name: Output) -> Value:
        return self.deal.outputs.get(name)

    @property
    def missing(self) -> tuple[str, ...]:
        labels = self.output(Output.MISSING_FIELDS)
        return tuple(str(label) for label in labels) if isinstance(labels, tuple) else ()


def salesforce_client(base_url: str, ca_file: Path,
                      credentials: SandboxCredentials) -> Salesforce:
    """simple-salesforce on the sandbox, logged in as a rep (the sandbox's session)."""
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would silently override verify
    session.verify = str(ca_file)
    return Salesforce(instance_url=base_url, session_id=credentials.salesforce.session_id,
                      session=session, version=SF_API_VERSION)


def hubspot_client(base_url: str, ca_file: Path, credentials: SandboxCredentials) -> HubSpot:
    """hubspot-api-client on the sandbox, with a partner portal's private-app token."""
    return HubSpot(access_token=credentials.hubspot.access_token, host=base_url,
                   ssl_ca_cert=str(ca_file))


class DemoGenerator:
    """The sandbox edits between the demo's cycles; one method per step of the story."""

    def __init__(self, base_url: str, ca_file: Path, control: ControlClient,
                 mappings: MappingSet, *, random_seed: int, share: float = 0.5) -> None:
        self.control = control
        self.mappings = mappings
        self.share = share  # of the candidates, how many act in a step
        self.rng = random.Random(random_seed)
        credentials = control.credentials()
        self.sf = salesforce_client(base_url, ca_file, credentials)
        self.hs = hubspot_client(base_url, ca_file, credentials)
        self.clock: Callable[[], datetime] = control.now
        self._requirements = {
            type_id: {requirement_label(r): r for stage in handoff.stages for r in stage.gate}
            for type_id, handoff in mappings.policy.handoff_types.items()}

    # -- the story ---------------------------------------------------------------------

    def steps(self, count: int) -> list[tuple[str, Callable[[], StepResult]]]:
        """The first ``count`` steps: the four-step story, then again from the top."""
        story: list[tuple[str, Callable[[], StepResult]]] = [
            ("partners fill registrations", self.partners_fill_registrations),
            ("AEs work their handoffs", self.aes_work_handoffs),
            ("a week passes", self.time_passes),
            ("AEs answer escalations", self.aes_answer_escalations),
        ]
        return [story[i % len(story)] for i in range(count)]

    def partners_fill_registrations(self) -> StepResult:
        """Partners complete the stage-1 facts listed on their HubSpot registrations, and
        channel managers approve registrations still waiting for approval."""
        crm = self._opportunities()
        stage_one = self.mappings.policy.handoff_types[PARTNER_TYPE].stages[0].id
        candidates = [o for o in crm if self._blocked(o) and o.value("handoff_type") ==
                      PARTNER_TYPE and o.value("handoff_stage") in (stage_one, None)
                      and o.value("prm_id")]
        updates: dict[str, dict[str, Value]] = {}
        approvals = fields_filled = complete = 0
        for opportunity in self._pick(candidates):
            everything = self.rng.random() < 0.7  # some partners fill only part of it
            values = self._values_for(opportunity, PARTNER_TYPE, everything)
            if not values:
                continue
            fields_filled += len(values) - (REGISTRATION_STATUS in values)
            approvals += REGISTRATION_STATUS in values
            complete += everything
            updates[str(opportunity.value("prm_id"))] = values
        unmatched = self._unmatched_waiting()
        for prm_id in unmatched:
            updates.setdefault(prm_id, {})[REGISTRATION_STATUS] = APPROVED
        written = self._update_registrations(updates)
        lines = [f"{len(written) - len(unmatched)} registrations edited by partner reps: "
                 f"{fields_filled} fields filled, {complete} registrations completely"]
        if approvals:
            lines.append(f"{approvals} registrations approved by channel managers")
        if unmatched:
            lines.append(f"{len(unmatched)} registrations with no opportunity yet approved "
                         "by channel managers: handoff-sync creates and routes them")
        return StepResult(
            "Partners fill the missing facts on their HubSpot registrations", tuple(lines),
            {"registrations_edited": len(written) - len(unmatched),
             "fields_filled": fields_filled, "approvals": approvals,
             "approved_without_opportunity": len(unmatched)})

    def _unmatched_waiting(self, most: int = 3) -> list[str]:
        """Up to ``most`` registrations waiting for approval that no opportunity has and
        that will need a handoff once approved: the channel manager approves them, and
        the next cycle creates their opportunities (engine.create)."""
        prm = self.mappings.prm
        waiting = []
        for record in self._registrations():
            values = {**record.values, REGISTRATION_STATUS: APPROVED}
            if record.in_scope and record.record_id and record.values.get(
                    REGISTRATION_STATUS) == "submitted" and not record.values.get("crm_id") \
                    and evaluate_gate(self.mappings.policy, Deal.from_values(
                        {k: v for k, v in values.items() if k in prm.fields})).required:
                waiting.append(record.record_id)
        return sorted(waiting)[:most]  # not drawn: the rest of the story keeps its draws

    def aes_work_handoffs(self) -> StepResult:
        """AEs fill the CRM-side gate fields, move handoff and opportunity stages; one
        deal closes won, and one opportunity changes hands (a territory change)."""
        now = self.clock()
        crm = self._opportunities()
        owners = self._owners()
        updates: dict[str, dict[str, Any]] = {}
        stage_one = self.mappings.policy.handoff_types[PARTNER_TYPE].stages[0].id
        gaps = [o for o in crm if self._blocked(o) and not o.value("is_closed")
                and o.value("handoff_stage") not in (stage_one, None)]
        filled = 0
        for opportunity in self._pick(gaps):
            values = self._values_for(opportunity, str(opportunity.value("handoff_type")),
                                      everything=True)
            system = self._crm_values(values, owners)
            if system:
                filled += len(system)
                updates.setdefault(opportunity.id, {}).update(system)
        moved = self._advance_stages(crm, updates, now, owners)
        won = self._close_one_won(crm, updates, now, owners)
        handed = self._change_one_owner(crm, updates, owners)
        written = self._update_opportunities(updates)
        lines = [f"{filled} gate fields filled by AEs on {len(gaps)} blocked opportunities "
                 f"(they worked {math.ceil(len(gaps) * self.share)} of them)"]
        if moved:
            lines.append(f"{moved} opportunities moved to their next handoff stage by hand")
        if won:
            lines.append(f"closed won: {won} (the customer-success handoff starts)")
        if handed:
            lines.append(f"territory change: {handed}")
        return StepResult("AEs work their handoffs in Salesforce", tuple(lines),
                          {"opportunities_edited": len(written), "fields_filled": filled,
                           "stages_moved": moved, "closed_won": int(bool(won)),
                           "owner_changes": int(bool(handed))})

    def time_passes(self) -> StepResult:
        """The sandbox clock jumps ahead past the earliest running SLA's due time."""
        now = self.clock()
        running = (SlaStatus.ON_TRACK.value, SlaStatus.AT_RISK.value)
        dues = [o.output(Output.SLA_DUE) for o in self._opportunities()
                if o.output(Output.SLA_STATUS) in running]
        earliest = min((d for d in dues if isinstance(d, datetime)), default=None)
        shift = TIME_PASSES
        if earliest is not None:
            shift = max(shift, earliest - now + timedelta(hours=1))
        self.control.shift_clock(shift.total_seconds())
        days = shift.total_seconds() / 86_400
        return StepResult(
            f"{days:.0f} days pass (the sandbox clock moves ahead)",
            (f"sandbox time is now {self.clock():%Y-%m-%d %H:%M} UTC; first-touch SLAs "
             "without an intro call run out",),
            {"clock_shift_seconds": int(shift.total_seconds())})

    def aes_answer_escalations(self) -> StepResult:
        """AEs whose first-touch SLA breached hold the three-party intro call at last."""
        now = self.clock()
        breached = SlaStatus.BREACHED.value
        late = [o for o in self._opportunities() if o.output(Output.SLA_STATUS) == breached
                and not o.value("is_closed") and o.value("intro_call_at") is None]
        owners = self._owners()
        updates = {o.id: self._crm_values({"intro_call_at": now - timedelta(hours=3)}, owners)
                   for o in self._pick(late)}
        written = self._update_opportunities(updates)
        return StepResult(
            "AEs answer the escalations: overdue intro calls are held",
            (f"{len(written)} of {len(late)} breached opportunities got their three-party "
             "intro call",),
            {"opportunities_edited": len(written)})

    # -- reading the systems -----------------------------------------------------------

    def _registrations(self) -> list[MappedRecord]:
        """Every HubSpot deal as the PRM mapping reads it (registrations and the rest)."""
        prm = self.mappings.prm
        deals = self.hs.crm.deals.get_all(properties=sorted(prm.system_fields()))
        return [to_canonical(prm, flatten_record(prm.system, {"id": deal.id,
                                                              "properties": deal.properties}),
                             OwnerDirectory()) for deal in deals]

    def _opportunities(self) -> list[_Opportunity]:
        mapping = self.mappings.crm
        names = sorted(mapping.system_fields() | {"Id"})
        records = self.sf.query_all(
            f"SELECT {', '.join(names)} FROM {mapping.object} ORDER BY Id")["records"]
        owners = self._owners()
        return [_Opportunity(r, to_canonical(mapping, r, owners)) for r in records]

    def _owners(self) -> OwnerDirectory:
        users = self.sf.query_all("SELECT Id, Email, IsActive, ManagerId FROM User")["records"]
        return OwnerDirectory(Owner(u["Id"], str(u["Email"]).lower(), bool(u["IsActive"]),
                                    u.get("ManagerId")) for u in users if u.get("Email"))

    def _blocked(self, opportunity: _Opportunity) -> bool:
        rule = self.mappings.crm.outputs.get(Output.GATE_STATUS)
        return rule is not None and opportunity.output(Output.GATE_STATUS) == \
            GateStatus.BLOCKED.value

    def _pick(self, candidates: Sequence[_Opportunity]) -> list[_Opportunity]:
        count = math.ceil(len(candidates) * self.share)
        return sorted(self.rng.sample(list(candidates), count), key=lambda o: o.id)

    # -- what people type ----------------------------------------------------------------

    def _values_for(self, opportunity: _Opportunity, type_id: str,
                    everything: bool) -> dict[str, Value]:
        """Canonical values that meet the opportunity's missing requirements."""
        requirements = self._requirements.get(type_id, {})
        wanted = [requirements[label] for label in opportunity.missing if label in requirements]
        if not everything:
            wanted = wanted[: max(1, len(wanted) // 2)]
        values: dict[str, Value] = {}
        for requirement in wanted:
            values.update(self._meeting(requirement))
        return values

    def _meeting(self, requirement: GateRequirement) -> dict[str, Value]:
        values: dict[str, Value] = {}
        if requirement.field is not None:
            value = self._typical(requirement.field)
            if value is not None:
                values[requirement.field] = value
        check = requirement.check
        if check is not None and check.field is not None:
            value = _satisfying(check)
            if value is not None:
                values[check.field] = value
        return values

    def _typical(self, name: str) -> Value:
        now = self.clock()
        if name in _TEXT:
            return _TEXT[name]
        if name in _NUMBERS:
            return _NUMBERS[name]
        if name == "decision_date":
            return (now + timedelta(days=45)).date()
        if name in ("intro_call_at", "joint_discovery_at"):
            return now - timedelta(hours=2)
        return None  # people fields (e.g. the CS owner) are assigned elsewhere

    def _crm_values(self, values: Mapping[str, Value], owners: OwnerDirectory,
                    ) -> dict[str, Any]:
        return dict(to_system(self.mappings.crm, values, owners).values)

    # -- AE moves ------------------------------------------------------------------------

    def _advance_stages(self, crm: Iterable[_Opportunity], updates: dict[str, dict[str, Any]],
                        now: datetime, owners: OwnerDirectory) -> int:
        policy_stages = self.mappings.policy.handoff_types[PARTNER_TYPE].stages
        stages = [s.id for s in policy_stages]
        # Stages with auto_advance move on their own (handoff-sync's stage autopilot).
        by_hand = [s.id for s in policy_stages[:-1] if not s.auto_advance]
        passed = [o for o in crm if o.output(Output.GATE_STATUS) == GateStatus.PASSED.value
                  and o.value("handoff_type") == PARTNER_TYPE and not o.value("is_closed")
                  and o.value("handoff_stage") in by_hand]
        sales_stages = _open_sales_stages(self.sf)
        stage_field = self.mappings.crm.fields["crm_stage"].system_field
        moved = 0
        for opportunity in self._pick(passed):
            following = stages[stages.index(str(opportunity.value("handoff_stage"))) + 1]
            change = self._crm_values({"handoff_stage": following, "stage_entered_at": now},
                                      owners)
            current = str(opportunity.value("crm_stage"))
            if stage_field and current in sales_stages[:-1]:
                change[stage_field] = sales_stages[sales_stages.index(current) + 1]
            updates.setdefault(opportunity.id, {}).update(change)
            moved += 1
        return moved

    def _close_one_won(self, crm: Sequence[_Opportunity], updates: dict[str, dict[str, Any]],
                       now: datetime, owners: OwnerDirectory) -> str | None:
        """The most advanced open partner deal with a passed gate signs."""
        stages = [s.id for s in self.mappings.policy.handoff_types[PARTNER_TYPE].stages]
        open_deals = [o for o in crm if not o.value("is_closed") and o.id not in updates
                      and o.value("handoff_type") == PARTNER_TYPE
                      and o.value("handoff_stage") in stages]
        if not open_deals:
            return None
        winner = max(open_deals, key=lambda o: (
            stages.index(str(o.value("handoff_stage"))),
            o.output(Output.GATE_STATUS) == GateStatus.PASSED.value, o.id))
        rules = self.mappings.crm.fields
        change = self._crm_values({"handoff_type": CS_TYPE}, owners)
        for name, value in (("crm_stage", CLOSED_WON_STAGE), ("close_date", now.date())):
            rule = rules.get(name)
            if rule is not None and rule.system_field:
                change[rule.system_field] = value.isoformat() if isinstance(value, date) \
                    else value
        updates[winner.id] = change
        return winner.name

    def _change_one_owner(self, crm: Sequence[_Opportunity],
                          updates: dict[str, dict[str, Any]],
                          owners: OwnerDirectory) -> str | None:
        """An opportunity with open handoff tasks for its owner moves to another AE."""
        rules = self.mappings.crm.tasks
        owner_rule = self.mappings.crm.fields.get("ae_email")
        if rules is None or owner_rule is None or not owner_rule.system_field:
            return None
        link = rules.deal_link_field or "WhatId"
        tasks = self.sf.query_all(
            f"SELECT {link}, OwnerId FROM {rules.object} WHERE {rules.key_field} != null "
            "AND IsClosed = false ORDER BY Id")["records"]
        mine = {t[link] for t in tasks if t[link]}
        owner_field = owner_rule.system_field
        with_tasks = {t[link] for t in tasks if any(
            o.id == t[link] and o.raw.get(owner_field) == t["OwnerId"] for o in crm)}
        candidates = [o for o in crm if o.id in mine and o.id in with_tasks
                      and o.id not in updates and not o.value("is_closed")]
        aes = sorted({str(o.raw.get(owner_field)) for o in crm if o.raw.get(owner_field)})
        if not candidates or len(aes) < 2:
            return None
        moving = self.rng.choice(candidates)
        before = str(moving.raw.get(owner_field))
        after = self.rng.choice([ae for ae in aes if ae != before])
        updates[moving.id] = {owner_field: after}
        return (f"{moving.name} moves from {owners.email_for(before) or before} to "
                f"{owners.email_for(after) or after}")

    # -- writing -------------------------------------------------------------------------

    def _update_opportunities(self, updates: Mapping[str, Mapping[str, Any]]) -> list[str]:
        """sObject Collections PATCH, 200 records a call; the ids that saved."""
        records = [{"attributes": {"type": self.mappings.crm.object}, "Id": record_id,
                    **fields} for record_id, fields in sorted(updates.items()) if fields]
        saved: list[str] = []
        for start in range(0, len(records), SF_BATCH):
            batch = records[start:start + SF_BATCH]
            results = self.sf.restful("composite/sobjects", method="PATCH",
                                      json={"allOrNone": False, "records": batch}) or []
            failed = [r for r in results if not r.get("success")]
            if failed:
                raise GeneratorError(f"Salesforce refused a demo edit: {failed[0]}")
            saved.extend(str(r["id"]) for r in results)
        return saved

    def _update_registrations(self, updates: Mapping[str, Mapping[str, Value]]) -> list[str]:
        """HubSpot batch update of the registrations, 100 a call; the ids updated."""
        prm = self.mappings.prm
        inputs = [SimplePublicObjectBatchInput(id=record_id, properties=_registration_props(
            prm, values)) for record_id, values in sorted(updates.items())]
        saved: list[str] = []
        for start in range(0, len(inputs), HS_BATCH):
            batch = BatchInputSimplePublicObjectBatchInput(inputs=inputs[start:start + HS_BATCH])
            answer = self.hs.crm.deals.batch_api.update(
                batch_input_simple_public_object_batch_input=batch)
            saved.extend(str(r.id) for r in answer.results)
        return saved


class GeneratorError(UserError):
    """A system refused one of the demo's own edits (a demo bug, not the user's)."""

    hint = "a bug in the demo, not in your setup: report it with the message"


def _registration_props(prm: SystemMapping, values: Mapping[str, Value]) -> dict[str, str]:
    """HubSpot properties (all strings) for canonical values; the registration status,
    which the mapping only reads, through its value map in reverse."""
    facts = {k: v for k, v in values.items() if k != REGISTRATION_STATUS}
    props = {k: "" if v is None else str(v)
             for k, v in to_system(prm, facts, OwnerDirectory()).values.items()}
    status = values.get(REGISTRATION_STATUS)
    rule = prm.fields.get(REGISTRATION_STATUS)
    if status is not None and rule is not None and rule.system_field and rule.values:
        stage = next((raw for raw, canonical in rule.values.items() if canonical == status),
                     None)
        if stage is not None:
            props[rule.system_field] = stage
    return props


def _satisfying(check: Condition) -> Value:
    """A value that makes a simple ``{field, op, value}`` check hold, or None."""
    op, value = check.op, check.value
    if op is None:
        return None
    if op == "is_true":
        return True
    if op in (">=", "=="):
        return value
    if op == ">" and isinstance(value, int):
        return value + 1
    if op == ">" and isinstance(value, float):  # a Value holds decimals, not floats
        return Decimal(str(value)) + 1
    if op == "in" and isinstance(value, list) and value:
        return APPROVED if APPROVED in value else value[0]
    return None


def _open_sales_stages(sf: Salesforce) -> list[str]:
    """The Opportunity stages in picklist order, without the closed ones."""
    described = sf.restful("sobjects/Opportunity/describe")
    if not isinstance(described, dict):  # restful answers None to an empty response
        raise RuntimeError(f"Salesforce described Opportunity as {described!r}")
    stage = next(f for f in described["fields"] if f["name"] == "StageName")
    return [v["value"] for v in stage["picklistValues"] if v.get("active", True)
            and not v["value"].startswith("Closed")]
