"""Issue 16 (4) through engine.plan: clocks start at the trigger's own time, a clock started
at first sight says so in the brief, and a deal that needs no handoff gets no score, no
missing-fields list and no tasks.

Raw records are written the way the APIs return them and mapped with the default pack
(PRM = HubSpot partner registrations, CRM = Salesforce opportunities), as a cycle does.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any

import pytest

from connectors.base import Owner
from handoff_sync.engine.plan import EngineInput, plan
from handoff_sync.engine.types import EngineState, FieldWrite, Plan, TaskActionKind
from handoff_sync.mapping.system.convert import outputs_to_system, to_canonical
from handoff_sync.model import OwnerDirectory, Role, SlaStatus, TaskStatus
from handoff_sync.testing.builders import apply_plan, default_mappings
from tests.unit.test_engine_plan import opportunity, registration

NOW = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)  # a Wednesday
MAPPINGS = default_mappings()
AE, CS, MANAGER = "005000000000001AAA", "005000000000002AAA", "005000000000003AAA"
CRM_OWNERS = OwnerDirectory([Owner(AE, "ava.ae@vendor.example", True, MANAGER),
                             Owner(CS, "cs.carla@vendor.example", True, MANAGER),
                             Owner(MANAGER, "max.manager@vendor.example", True)])
# Approved a week (and a bit) before handoff-sync first sees the deal: the five business
# days of first touch ran out on Wednesday 2026-11-18 at 14:00 UTC.
APPROVED = datetime(2026, 11, 11, 14, 0, tzinfo=UTC)
FIRST_SEEN = ("SLA clocks started when handoff-sync first saw this deal (no approval time "
              "in the data).")

def won_opportunity(**extra: Any) -> dict[str, Any]:
    """A direct deal (no registration) won on Friday 2026-11-13 at 16:00 UTC."""
    return opportunity(**{"Partner_Registration_Id__c": None, "IsClosed": True,
                          "IsWon": True, "StageName": "Closed Won", "CS_Owner__c": CS,
                          "CloseDate": date(2026, 11, 13), **extra})


def inputs(prm: dict[str, Any] | None, crm: dict[str, Any] | None,
           state: EngineState | None = None) -> EngineInput:
    return EngineInput(
        "partners", MAPPINGS,
        (to_canonical(MAPPINGS.prm, prm, OwnerDirectory()),) if prm else (),
        (to_canonical(MAPPINGS.crm, crm, CRM_OWNERS),) if crm else (),
        state or EngineState(), NOW, CRM_OWNERS, OwnerDirectory())


def written(result: Plan, role: Role) -> dict[str, Any]:
    """The output fields a side's record is written, as that system is sent them."""
    [write] = [w for w in result.writes if w.role is role]
    return dict(outputs_to_system(MAPPINGS.side(role), write.outputs, CRM_OWNERS).values)


def crm_write(result: Plan) -> FieldWrite:
    [write] = [w for w in result.writes if w.role is Role.CRM]
    return write


@pytest.mark.parametrize("approved", [
    pytest.param("2026-11-11T14:00:00Z", id="ISO text"),
    pytest.param(str(int(APPROVED.timestamp() * 1000)), id="epoch milliseconds"),
])
def test_a_deal_approved_a_week_before_first_sight_is_breached_and_escalated(
        approved: str) -> None:
    result = plan(inputs(registration(hs_date_entered_9004453=approved), opportunity()))
    clocks = {c.clock: c for c in result.clocks}
    assert clocks["first_touch"].started_at == APPROVED
    assert clocks["first_touch"].status is SlaStatus.BREACHED
    [breach] = [e for e in result.sla_events if e.kind.value == "breached"]
    assert (breach.clock, breach.escalate_to) == ("first_touch", "max.manager@vendor.example")
    [overdue] = [a for a in result.tasks if a.task.kind == "first_touch_overdue"]
    assert overdue.kind is TaskActionKind.OPEN
    assert overdue.task.assignee_email == "max.manager@vendor.example"
    sent = written(result, Role.CRM)
    assert sent["Handoff_SLA_Status__c"] == "Breached"
    assert FIRST_SEEN not in sent["Handoff_Brief__c"]


def test_without_an_approval_time_the_brief_says_the_clocks_started_at_first_sight() -> None:
    first_inputs = inputs(registration(), opportunity())
    result = plan(first_inputs)
    assert {c.started_at for c in result.clocks} == {NOW}
    brief = written(result, Role.CRM)["Handoff_Brief__c"]
    assert brief.endswith("\n\n" + FIRST_SEEN + "\n")
    # Said from the deal and its clocks each cycle, not stored: the next cycle agrees.
    assert plan(apply_plan(first_inputs, result)).is_empty()


def test_the_cs_handoff_clock_starts_when_the_deal_was_won() -> None:
    # Won Friday 16:00, first seen Wednesday: the 48 hours ran out on Sunday.
    result = plan(inputs(None, won_opportunity(
        LastStageChangeDate="2026-11-13T16:00:00.000+0000")))
    clocks = {c.clock: c for c in result.clocks}  # and the kickoff clock beside it
    clock = clocks["cs_handoff"]
    assert (clock.clock, clock.started_at, clock.status) == (
        "cs_handoff", datetime(2026, 11, 13, 16, tzinfo=UTC), SlaStatus.BREACHED)
    assert clocks["kickoff"].started_at == clock.started_at
    assert "cs_handoff_overdue" in {a.task.kind for a in result.tasks}
    assert "first saw this deal" not in written(result, Role.CRM)["Handoff_Brief__c"]


def test_a_won_deal_without_a_won_time_starts_its_clock_now_and_says_so() -> None:
    result = plan(inputs(None, won_opportunity()))
    assert {(c.clock, c.started_at, c.status) for c in result.clocks} == {
        ("cs_handoff", NOW, SlaStatus.ON_TRACK), ("kickoff", NOW, SlaStatus.ON_TRACK)}
    assert ("SLA clocks started when handoff-sync first saw this deal (no won time in the "
            "data).") in written(result, Role.CRM)["Handoff_Brief__c"]


def test_an_approval_time_in_the_future_counts_as_now_and_is_not_first_sight() -> None:
    result = plan(inputs(registration(hs_date_entered_9004453="2026-11-20T09:00:00Z"),
                         opportunity()))
    assert {(c.started_at, c.status) for c in result.clocks} == {(NOW, SlaStatus.ON_TRACK)}
    assert FIRST_SEEN not in written(result, Role.CRM)["Handoff_Brief__c"]


SMALL = {"amount": "50000"}  # under the threshold, no integration: no handoff needed


def test_a_deal_that_needs_no_handoff_gets_blank_completeness_and_no_tasks() -> None:
    # The fields still hold what an earlier version wrote: 8% and a list.
    result = plan(inputs(registration(**SMALL, handoff_completeness="8",
                                      handoff_missing_fields="Budget confirmed (BANT)"),
                         opportunity(Amount=50000.0, Handoff_Completeness__c=8.0,
                                     Handoff_Missing_Fields__c="Budget confirmed (BANT)")))
    [verdict] = result.verdicts
    assert verdict.status.value == "not_required"
    crm = written(result, Role.CRM)
    assert crm["Handoff_Gate_Status__c"] == "Not Required"
    assert crm["Handoff_Completeness__c"] is None
    assert crm["Handoff_Missing_Fields__c"] is None
    prm = written(result, Role.PRM)  # HubSpot blanks a property with ""
    assert (prm["handoff_gate_status"], prm["handoff_completeness"],
            prm["handoff_missing_fields"]) == ("not_required", "", "")
    assert result.tasks == () and result.clocks == ()


def test_a_deal_that_stops_needing_a_handoff_closes_its_tasks_and_blanks_its_score() -> None:
    first_inputs = inputs(registration(), opportunity())
    after = apply_plan(first_inputs, plan(first_inputs))
    assert [s.spec.kind for s in after.state.tasks.values()] == ["complete_partner_facts"]
    small = dataclasses.replace(inputs(registration(**SMALL), opportunity(Amount=50000.0),
                                       after.state))
    result = plan(small)
    assert [(a.kind, a.task.kind, a.task.status) for a in result.tasks] == [
        (TaskActionKind.CLOSE, "complete_partner_facts", TaskStatus.DONE)]
    assert {e.kind.value for e in result.sla_events} == {"cancelled"}
    sent = written(result, Role.CRM)
    assert (sent["Handoff_Completeness__c"], sent["Handoff_Missing_Fields__c"]) == (None, None)


def test_a_deal_no_handoff_type_applies_to_any_more_closes_its_tasks() -> None:
    # A won direct deal is reopened: no handoff type claims it, so its CS tasks close.
    first_inputs = inputs(None, won_opportunity(
        LastStageChangeDate="2026-11-17T16:00:00.000+0000"))
    after = apply_plan(first_inputs, plan(first_inputs))
    opened = sorted(s.spec.kind for s in after.state.tasks.values())
    assert opened == ["complete_cs_handoff", "hold_kickoff"]
    reopened = inputs(None, won_opportunity(IsWon=False, IsClosed=False,
                                            StageName="Negotiation"), after.state)
    result = plan(reopened)
    assert sorted((a.kind, a.task.kind) for a in result.tasks) == [
        (TaskActionKind.CLOSE, "complete_cs_handoff"), (TaskActionKind.CLOSE, "hold_kickoff")]
    assert plan(apply_plan(reopened, result)).tasks == ()
