"""Properties of engine.plan over generated deal sets (hypothesis), through the real packs.

Each example builds raw HubSpot registrations and Salesforce opportunities (as the APIs
return them), maps them with the default mappings, and plans. The properties are the
promises the daemon makes: applying a plan and planning again finds nothing to do; input
order does not matter; nothing is written that the record already holds; a filled gate
closes its task; a task key is never open twice.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from connectors.base import Owner
from handoff_sync.engine.plan import EngineInput, plan
from handoff_sync.engine.serialise import dumps
from handoff_sync.engine.stored import StoredForms
from handoff_sync.engine.types import EngineState, TaskActionKind
from handoff_sync.mapping.system.convert import MappedRecord, to_canonical
from handoff_sync.model import OwnerDirectory, Role, TaskStatus
from handoff_sync.testing.builders import apply_plan, default_mappings
from tests.property_support import examples

NOW = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)
MAPPINGS = default_mappings()
CRM_OWNERS = OwnerDirectory([
    Owner("005000000000001AAA", "ava.ae@vendor.example", True, "005000000000003AAA"),
    Owner("005000000000002AAA", "cs.carla@vendor.example", True, "005000000000003AAA"),
    Owner("005000000000003AAA", "max.manager@vendor.example", True),
    Owner("005000000000004AAA", "gone.gary@vendor.example", False),
])
PRM_OWNERS = OwnerDirectory([Owner("7001", "channel.cm@vendor.example")])
SF_USERS = ["005000000000001AAA", "005000000000002AAA", "005000000000004AAA"]

texts = st.sampled_from(["", "CFO Dana Lee", "Replace legacy ETL", "SSO and integration API",
                         "Board approves in Q1", "Champion: VP Data", "Net 60 promised"])
amounts = st.sampled_from([None, 50_000, 120_000, 120_000.5, 300_000])
stages = st.sampled_from(["", "pre_handoff_assessment", "joint_discovery",
                          "knowledge_transfer", "responsibility_transition"])
sf_stages = st.sampled_from([None, "1 Pre-Handoff Assessment", "2 Joint Discovery",
                             "3 Knowledge Transfer", "4 Responsibility Transition"])
reg_status = st.sampled_from(["9004452", "9004453", "9004454", "9004455", "9004457"])
# When the registration was approved / the opportunity won: none, days before the cycle
# (clocks breached at first sight), in the future (counts as now); ISO text or epoch ms.
approved_times = st.sampled_from(["", (NOW - timedelta(days=8)).isoformat(),
                                  str(int((NOW - timedelta(hours=2)).timestamp() * 1000)),
                                  (NOW + timedelta(days=2)).isoformat()])
won_times = st.sampled_from([None, NOW - timedelta(days=3), NOW + timedelta(hours=5)])


@st.composite
def deal_sets(draw: st.DrawFn) -> EngineInput:
    size = draw(st.integers(1, 6))
    prm: list[MappedRecord] = []
    crm: list[MappedRecord] = []
    for index in range(size):
        hs_id = str(60_000 + index)
        sf_id = f"006{index:012d}AAA"
        linked = draw(st.booleans())
        name = draw(st.sampled_from(["Acme data platform", "Globex CRM rollout",
                                     "Initech analytics", "Hooli search"])) + f" {index}"
        hs: dict[str, Any] = {
            "hs_object_id": hs_id, "pipeline": "9004451", "dealname": name,
            "dealstage": draw(reg_status), "amount": _hs(draw(amounts)),
            "customer_domain": f"customer{index}.example", "partner_account_name": "Bluebird",
            "partner_rep_email": draw(st.sampled_from(["", "pat@bluebird.example",
                                                       "ava.ae@vendor.example"])),
            "economic_buyer": draw(texts), "need": draw(texts), "budget": _hs(draw(amounts)),
            "technical_requirements": draw(texts), "stakeholder_map": draw(texts),
            "handoff_stage": draw(stages), "crm_opportunity_id": sf_id if linked else "",
            "partner_prepared_prospect": draw(st.sampled_from(["", "true", "false"])),
            "hs_date_entered_9004453": draw(approved_times),
            "hs_lastmodifieddate": (NOW - timedelta(hours=draw(st.integers(1, 48))))
            .isoformat(),
        }
        prm.append(to_canonical(MAPPINGS.prm, hs, PRM_OWNERS))
        if not linked and not draw(st.booleans()):
            continue
        sf: dict[str, Any] = {
            "Id": sf_id, "Name": name, "Amount": draw(amounts), "IsClosed": False,
            "IsWon": draw(st.booleans()), "StageName": "Qualification",
            "OwnerId": draw(st.sampled_from(SF_USERS)),
            "CS_Owner__c": draw(st.sampled_from([None, *SF_USERS])),
            "Partner_Registration_Id__c": hs_id if linked and draw(st.booleans()) else None,
            "Handoff_Stage__c": draw(sf_stages),
            "Economic_Buyer__c": draw(texts) or None, "Need__c": draw(texts) or None,
            "Stakeholder_Map__c": draw(texts) or None, "Commitments__c": draw(texts) or None,
            "Open_Risks__c": draw(texts) or None, "Success_Criteria__c": draw(texts) or None,
            "Technical_Requirements__c": draw(texts) or None,
            "CloseDate": date(2026, 12, 1), "Partner_Prepared_Prospect__c": False,
            "LastStageChangeDate": draw(won_times),
            "SystemModstamp": NOW - timedelta(hours=draw(st.integers(1, 48))),
        }
        crm.append(to_canonical(MAPPINGS.crm, sf, CRM_OWNERS))
    return EngineInput("partners", MAPPINGS, tuple(prm), tuple(crm), EngineState(), NOW,
                       CRM_OWNERS, PRM_OWNERS)


def _trigger_times_example() -> EngineInput:
    """Issue 16 (4): a registration approved a week ago (first touch breached at first
    sight, escalated), one approved in the future, one below the threshold (no handoff:
    blank score, no tasks), and a direct deal won days ago (CS clock breached)."""
    def reg(index: int, approved: str, amount: str) -> MappedRecord:
        return to_canonical(MAPPINGS.prm, {
            "hs_object_id": str(60_000 + index), "pipeline": "9004451",
            "dealname": f"Trigger deal {index}", "dealstage": "9004453", "amount": amount,
            "crm_opportunity_id": f"006{index:012d}AAA", "partner_account_name": "Bluebird",
            "partner_rep_email": "pat@bluebird.example", "hs_date_entered_9004453": approved,
            "hs_lastmodifieddate": (NOW - timedelta(hours=3)).isoformat()}, PRM_OWNERS)

    def opp(index: int, *, won: datetime | None = None, linked: bool = True,
            amount: int = 150_000) -> MappedRecord:
        return to_canonical(MAPPINGS.crm, {
            "Id": f"006{index:012d}AAA", "Name": f"Trigger deal {index}", "Amount": amount,
            "IsClosed": won is not None, "IsWon": won is not None, "StageName": "Qualification",
            "OwnerId": SF_USERS[0], "CS_Owner__c": SF_USERS[1],
            "Partner_Registration_Id__c": str(60_000 + index) if linked else None,
            "CloseDate": date(2026, 11, 10), "Partner_Prepared_Prospect__c": False,
            "LastStageChangeDate": won, "SystemModstamp": NOW - timedelta(hours=2)},
            CRM_OWNERS)

    prm = (reg(0, (NOW - timedelta(days=7, hours=2)).isoformat(), "150000"),
           reg(1, (NOW + timedelta(days=1)).isoformat(), "150000"),
           reg(2, (NOW - timedelta(days=20)).isoformat(), "50000"))
    crm = (opp(0), opp(1), opp(2, amount=50_000), opp(3, won=NOW - timedelta(days=3), linked=False))
    return EngineInput("partners", MAPPINGS, prm, crm, EngineState(), NOW, CRM_OWNERS,
                       PRM_OWNERS)


TRIGGER_TIMES = _trigger_times_example()


def test_the_trigger_times_example_holds_the_cases_it_names() -> None:
    result = plan(TRIGGER_TIMES)
    opened = {(a.task.crm_id[-6:], a.task.kind) for a in result.tasks}
    assert ("000AAA", "first_touch_overdue") in opened  # approved a week ago
    assert ("003AAA", "cs_handoff_overdue") in opened  # won three days ago
    assert not [t for t in opened if t[0] in ("001AAA", "002AAA") and "overdue" in t[1]]
    small = next(v for v in result.verdicts if v.prm_id == "60002")
    assert small.status.value == "not_required"
    assert not [a for a in result.tasks if a.deal == small.deal]


def _hs(value: float | None) -> str:
    return "" if value is None else str(value)


SETTINGS = settings(max_examples=examples(60), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(deal_sets())
@example(TRIGGER_TIMES)
def test_applying_a_plan_leaves_nothing_to_do(inputs: EngineInput) -> None:
    first = plan(inputs)
    applied = apply_plan(inputs, first)
    if first.creations:  # a created opportunity's pair is planned the cycle after
        then = plan(applied)
        assert not then.creations, dumps(then)
        applied = apply_plan(applied, then)
    second = plan(applied)
    assert second.is_empty(), dumps(second)


@SETTINGS
@given(deal_sets(), st.randoms(use_true_random=False))
def test_input_order_does_not_change_the_plan(inputs: EngineInput, rnd: random.Random) -> None:
    prm, crm = list(inputs.prm), list(inputs.crm)
    rnd.shuffle(prm)
    rnd.shuffle(crm)
    shuffled = dataclasses.replace(inputs, prm=tuple(prm), crm=tuple(crm))
    assert dumps(plan(shuffled)) == dumps(plan(inputs))


@SETTINGS
@given(deal_sets())
@example(TRIGGER_TIMES)
def test_no_write_repeats_what_the_record_holds(inputs: EngineInput) -> None:
    stored = StoredForms({Role.PRM: MAPPINGS.prm, Role.CRM: MAPPINGS.crm},
                         {Role.PRM: PRM_OWNERS, Role.CRM: CRM_OWNERS})
    records = {(r.role, r.record_id): r for r in (*inputs.prm, *inputs.crm)}
    for write in plan(inputs).writes:
        record = records[(write.role, write.record_id)]
        side = MAPPINGS.side(write.role)
        for name, value in write.values.items():
            if side.fields[name].reads:
                held = record.values.get(name)
                assert stored(write.role, name, value) != stored(write.role, name, held), name
        for output, value in write.outputs.items():
            if output in record.outputs and output.value != "last_synced":
                held = record.outputs[output]
                assert stored(write.role, output, value) != stored(write.role, output, held)


@SETTINGS
@given(deal_sets())
def test_a_filled_gate_closes_its_task(inputs: EngineInput) -> None:
    after = apply_plan(inputs, plan(inputs))
    filled = dataclasses.replace(after, crm=tuple(_fill_stage_one(r) for r in after.crm),
                                 prm=tuple(_fill_stage_one(r) for r in after.prm))
    final = apply_plan(filled, plan(filled))
    stage_one_tasks = [state for state in final.state.tasks.values()
                       if state.spec.kind == "complete_partner_facts"]
    for state in stage_one_tasks:
        # The partner-facts task is written on the registration (side: prm).
        assert state.spec.side is Role.PRM
        verdict = final.state.verdicts.get(next(
            key for key, v in final.state.verdicts.items() if v.prm_id == state.spec.crm_id))
        if verdict is not None and verdict.stage == "pre_handoff_assessment":
            assert state.spec.status is TaskStatus.DONE, state


@SETTINGS
@given(deal_sets())
@example(TRIGGER_TIMES)
def test_a_task_key_is_never_open_twice(inputs: EngineInput) -> None:
    first = plan(inputs)
    keys = Counter(action.task.key for action in first.tasks)
    assert all(count == 1 for count in keys.values())
    after = apply_plan(inputs, first)
    opened = [a for a in first.tasks if a.kind is TaskActionKind.OPEN]
    assert len({a.task.key for a in opened}) == len(opened)
    per_slot = Counter((s.spec.side, s.spec.crm_id, s.spec.kind, s.spec.subject) for s in
                       after.state.tasks.values() if s.spec.status is TaskStatus.OPEN)
    assert all(count == 1 for count in per_slot.values())


STAGE_ONE_FACTS: dict[str, Any] = {
    "budget": Decimal(150_000), "economic_buyer": "CFO Dana Lee", "need": "Replace ETL",
    "decision_date": date(2027, 1, 15), "decision_process": "Board in Q1",
    "technical_requirements": "SSO and integration API", "competitors": ("Acme",),
    "stakeholder_map": "Champion: VP Data", "partner_prepared_prospect": True,
    "registration_status": "approved",
}


def _fill_stage_one(record: MappedRecord) -> MappedRecord:
    side = MAPPINGS.side(record.role)
    values = dict(record.values)
    for name, value in STAGE_ONE_FACTS.items():
        rule = side.fields.get(name)
        if rule is not None and rule.reads:
            values[name] = value
    return dataclasses.replace(record, values=values)
