"""Sync cycles end to end: the real connectors against the sandbox, a real store.

Each test starts from a seeded org pair, runs cycles through ``PipelineRunner`` (the
code `handoff-sync sync --once` and the daemon run) and checks the CRM through the vendor
clients, as a rep would see it: flags on the opportunity, tasks on it, one per key.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hubspot import HubSpot
from simple_salesforce import Salesforce

from handoff_sync.engine.types import TaskActionKind
from handoff_sync.mapping.policy.gates import evaluate_gate
from handoff_sync.model import Deal, Role, TaskStatus
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store.kept import VERIFY_VARIABLE
from handoff_sync.store.types import RunOutcome
from handoff_sync.sync.cycle import CycleReport
from tests.e2e.sync_support import handoff_tasks, sample_value, sync_world

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # a Wednesday afternoon: business hours


@pytest.fixture
def world(sandbox: SandboxServer, tmp_path: Path, store_url: str) -> Iterator[dict[str, Any]]:
    with sync_world(sandbox, tmp_path, database_url=store_url, now=NOW) as world:
        yield world


def cycle(world: dict[str, Any], **kwargs: Any) -> CycleReport:
    report: CycleReport = world["runner"].run_cycle(**kwargs)
    assert report.outcome in (RunOutcome.OK, RunOutcome.PARTIAL), report.message
    return report


def opportunity(sf: Salesforce, crm_id: str) -> dict[str, Any]:
    return sf.Opportunity.get(crm_id)


def test_initial_sync_flags_every_deal_and_opens_one_task_per_gap(world: dict[str, Any],
                                                                  sf: Salesforce) -> None:
    report = cycle(world)
    assert report.kind.value == "full"  # the first cycle is a full reconcile
    assert report.counts["tasks_created"] > 0
    tasks = handoff_tasks(sf)
    keys = [t["Handoff_Task_Key__c"] for t in tasks]
    assert len(keys) == len(set(keys))  # one task per key
    open_in_crm = {t["Handoff_Task_Key__c"] for t in tasks if t["Status"] != "Completed"}
    state = world["store"].load_pipeline("partners").engine
    # The partner's tasks are on the registrations in HubSpot (tests/e2e/test_partner_tasks).
    open_in_ledger = {key for key, task in state.tasks.items()
                      if task.spec.status is TaskStatus.OPEN and task.spec.side is Role.CRM}
    assert open_in_crm == open_in_ledger
    # Every planned verdict is on its opportunity, as the rep sees it.
    for verdict in state.verdicts.values():
        if verdict.crm_id is None:
            continue
        record = opportunity(sf, verdict.crm_id)
        shown = {"passed": "Passed", "blocked": "Blocked", "not_required": "Not Required"}
        assert record["Handoff_Gate_Status__c"] == shown[verdict.status.value], verdict.deal
        # A deal that needs no handoff gets no score and no missing-fields list: blank.
        held = record["Handoff_Completeness__c"]
        assert (None if held is None else int(held)) == (
            verdict.completeness_pct if verdict.required else None), verdict.deal
        assert (record["Handoff_Missing_Fields__c"] is None) == (
            not verdict.required or not verdict.missing), verdict.deal


def test_a_second_cycle_writes_nothing_and_a_quiet_one_reads_once_per_object(
        world: dict[str, Any]) -> None:
    first = cycle(world)
    echo = cycle(world)  # reads its own writes back: plans nothing
    assert echo.counts["records_written"] == 0
    # Only deals whose records the engine sees otherwise are planned: not every deal the
    # first cycle wrote (a HubSpot date written as 2027-01-08 comes back as a datetime).
    assert echo.counts["deals"] < first.counts["deals"] / 2
    assert echo.counts["tasks_created"] + echo.counts["tasks_updated"] == 0
    quiet = cycle(world)
    assert quiet.counts["records_written"] == 0
    # Nothing changed: only deals whose SLA clocks run are planned again.
    assert quiet.plan is not None and quiet.plan.planned_deals is not None
    assert quiet.counts["deals"] < echo.counts["deals"]
    # Objects a quiet cycle reads: the deal object on each side, each side's tasks (to
    # notice the ones people completed: the AE's in the CRM, the partner's in the PRM),
    # and the PRM's partner accounts (HubSpot companies in the default pack).
    objects = {"salesforce": 2, "hubspot": 3}
    for system, usage in quiet.api_calls.items():
        writes = {k: n for k, n in usage["calls"].items() if k in ("write", "upsert", "batch")}
        assert not writes, (system, usage)
        assert usage["total"] <= objects[system], (system, usage)  # one read per object


def test_a_running_daemons_quiet_cycle_reads_no_per_deal_table_whole(
        world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The state a cycle plans on stays in memory between cycles (store.kept): a quiet
    cycle reads no table that grows with the deals, it only checks nobody else wrote."""
    from sqlalchemy import event

    monkeypatch.delenv(VERIFY_VARIABLE)  # its check loads the whole state on purpose
    cycle(world)
    cycle(world)
    statements: list[str] = []
    engine = world["store"].engine

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        quiet = cycle(world)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert quiet.counts["records_written"] == 0
    per_deal = ("mirror", "bases", "verdicts", "links", "tasks", "clocks", "baselines",
                "handoff_decisions")
    whole = [sql for sql in statements if sql.startswith("SELECT") and " IN (" not in sql
             and any(f"FROM {name} " in f"{sql} " for name in per_deal)]
    assert whole == []


def test_incremental_changes_on_each_side_cross_over(world: dict[str, Any], sf: Salesforce,
                                                     hs: HubSpot) -> None:
    cycle(world)
    cycle(world)
    state = world["store"].load_pipeline("partners").engine
    link = sorted(state.links.values(), key=lambda x: x.prm_id)[0]
    # The partner updates their rep of record in the PRM; the AE sets a stakeholder map.
    hs.crm.deals.basic_api.update(link.prm_id, {"properties": {
        "partner_rep_email": "new.rep@partner.example"}})
    sf.Opportunity.update(link.crm_id, {"Stakeholder_Map__c": "CFO signs; CTO decides"})
    report = cycle(world)
    assert report.kind.value == "incremental"
    assert report.counts["records_read"] >= 2
    assert opportunity(sf, link.crm_id)["Partner_Rep_Email__c"] == "new.rep@partner.example"
    deal = hs.crm.deals.basic_api.get_by_id(link.prm_id, properties=["stakeholder_map"])
    assert deal.properties["stakeholder_map"] == "CFO signs; CTO decides"


def test_filling_a_gate_closes_its_task_and_flips_the_flag(world: dict[str, Any],
                                                           sf: Salesforce) -> None:
    cycle(world)
    store, mappings = world["store"], world["mappings"]
    state = store.load_pipeline("partners").engine
    target = None
    for key, base in sorted(state.bases.items()):
        verdict = state.verdicts.get(key)
        if verdict is None or verdict.crm_id is None or verdict.status.value != "blocked":
            continue
        gate = evaluate_gate(mappings.policy, Deal.from_values(base.agreed))
        fields = [m.field for m in gate.missing]
        if fields and all(f in mappings.crm.fields and mappings.crm.fields[f].writes
                          for f in fields):
            target = (verdict, fields)
            break
    assert target is not None, "the seed has a blocked deal whose gaps the CRM can fill"
    verdict, fields = target
    open_before = [t for t in state.tasks.values() if t.spec.crm_id == verdict.crm_id
                   and t.spec.status is TaskStatus.OPEN]
    assert open_before
    sf.Opportunity.update(verdict.crm_id, {mappings.crm.fields[f].system_field: sample_value(
        mappings.crm.fields[f]) for f in fields})
    report = cycle(world)
    closed = {a.task.key for a in report.plan.tasks if a.kind is TaskActionKind.CLOSE
              and a.task.crm_id == verdict.crm_id}
    assert closed, "filling the gate closes the deal's gap task"
    record = opportunity(sf, verdict.crm_id)
    assert record["Handoff_Gate_Status__c"] == "Passed"
    assert not record["Handoff_Missing_Fields__c"]
    crm_tasks = {t["Handoff_Task_Key__c"]: t for t in handoff_tasks(sf)}
    for key in closed:
        assert crm_tasks[key]["Status"] == "Completed"


def test_conflicting_edits_follow_the_policy_and_are_recorded(world: dict[str, Any],
                                                              sf: Salesforce,
                                                              hs: HubSpot) -> None:
    cycle(world)
    cycle(world)
    state = world["store"].load_pipeline("partners").engine
    link = sorted(state.links.values(), key=lambda x: x.prm_id)[0]
    # close_date is crm_wins: both sides move it, the CRM's date must win on both.
    hs.crm.deals.basic_api.update(link.prm_id, {"properties": {"closedate": "2027-03-31"}})
    sf.Opportunity.update(link.crm_id, {"CloseDate": "2027-02-28"})
    report = cycle(world)
    conflicts = [c for c in report.plan.conflicts if c.field == "close_date"]
    assert conflicts and conflicts[0].winner.value == "crm"
    assert str(conflicts[0].lost) == "2027-03-31"
    deal = hs.crm.deals.basic_api.get_by_id(link.prm_id, properties=["closedate"])
    assert deal.properties["closedate"].startswith("2027-02-28")
    status = world["store"].status("partners", now=NOW)
    assert status["pipelines"]["partners"]["conflicts"]["count"] >= 1


def test_an_owner_change_reassigns_the_open_task(world: dict[str, Any],
                                                 sf: Salesforce) -> None:
    cycle(world)
    state = world["store"].load_pipeline("partners").engine
    by_owner = collections.defaultdict(list)
    for task in state.tasks.values():
        if task.spec.status is TaskStatus.OPEN:
            by_owner[task.spec.crm_id].append(task)
    users = sf.query_all("SELECT Id, Email FROM User WHERE IsActive = true")["records"]
    for crm_id, tasks in sorted(by_owner.items()):
        opp = opportunity(sf, crm_id)
        owner_tasks = [t for t in tasks if t.spec.assignee_email == _email(users, opp["OwnerId"])]
        if owner_tasks:
            break
    else:
        pytest.fail("no open task is assigned to its opportunity's owner in the seed")
    new_owner = next(u for u in users if u["Id"] != opp["OwnerId"])
    sf.Opportunity.update(crm_id, {"OwnerId": new_owner["Id"]})
    report = cycle(world)
    reassigned = {a.task.key for a in report.plan.tasks if a.kind is TaskActionKind.REASSIGN}
    assert {t.spec.key for t in owner_tasks} <= reassigned
    crm_tasks = {t["Handoff_Task_Key__c"]: t for t in handoff_tasks(sf)}
    for task in owner_tasks:
        assert crm_tasks[task.spec.key]["OwnerId"] == new_owner["Id"]


def _email(users: list[dict[str, Any]], user_id: str) -> str | None:
    return next((u["Email"].lower() for u in users if u["Id"] == user_id), None)


def test_a_task_a_person_completed_is_never_reopened(world: dict[str, Any],
                                                     sf: Salesforce) -> None:
    cycle(world)
    cycle(world)  # the first look at tasks starts the task checkpoint
    tasks = [t for t in handoff_tasks(sf) if t["Status"] != "Completed"]
    assert tasks
    done_by_rep = tasks[0]
    sf.Task.update(done_by_rep["Id"], {"Status": "Completed"})
    report = cycle(world)
    assert done_by_rep["Handoff_Task_Key__c"] not in {a.task.key for a in report.plan.tasks}
    ledger = world["store"].load_pipeline("partners").engine.tasks
    assert ledger[done_by_rep["Handoff_Task_Key__c"]].closed_by_user
    again = cycle(world)
    assert done_by_rep["Handoff_Task_Key__c"] not in {a.task.key for a in again.plan.tasks}
    crm_tasks = {t["Handoff_Task_Key__c"]: t for t in handoff_tasks(sf)}
    assert crm_tasks[done_by_rep["Handoff_Task_Key__c"]]["Status"] == "Completed"
