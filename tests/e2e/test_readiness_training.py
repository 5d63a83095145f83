"""Partner readiness end to end: a partner under a readiness threshold gets exactly one
training task, on its account in the PRM, for its channel manager; a second cycle (and a
replica with a store that never saw the task) does not duplicate it; raising the
partner's field in the PRM closes it at the next cycle. Through the real clients against
the sandbox, with both shipped packs and both store backends.

The default pack's PRM is HubSpot (the task is associated with the partner company),
the reversed pack's is Salesforce (the Task's WhatId is the partner Account). Both packs
score "Runs technical conversations" with a threshold of 50: basic scores 40.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hubspot import HubSpot
from simple_salesforce import Salesforce

from handoff_sync.config.load import load_config
from handoff_sync.demo.sandbox_config import write_sandbox_config
from handoff_sync.engine.readiness_tasks import training_key
from handoff_sync.mapping.loader import load_mappings
from handoff_sync.model import TaskStatus
from handoff_sync.report.figures import compute
from handoff_sync.report.source import read_report_data
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store import Store
from handoff_sync.store.types import RunOutcome
from handoff_sync.sync.cycle import CycleReport, PipelineRunner
from tests.e2e.sync_support import configured_sandbox

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # a Wednesday afternoon: business hours
PACKS = ("default", "salesforce-prm-hubspot-crm")  # default: HubSpot PRM, Salesforce CRM
DIMENSION = "technical_conversations"
LABEL = "Runs technical conversations"
SF_CONVERSATIONS = {"basic": "Basic", "expert": "Expert"}


class Prm:
    """The PRM's partner accounts and the tasks on them, through the vendor client."""

    def __init__(self, pack: str, sf: Salesforce, hs: HubSpot) -> None:
        self.sf, self.hs = sf, hs
        self.hubspot = pack == PACKS[0]

    def users(self) -> dict[str, str]:
        """PRM user id -> email."""
        if self.hubspot:
            return {str(o.id): o.email.lower()
                    for o in self.hs.crm.owners.owners_api.get_page(limit=500).results}
        return {u["Id"]: u["Email"].lower()
                for u in self.sf.query_all("SELECT Id, Email FROM User")["records"]}

    def partners(self) -> dict[str, tuple[str, str]]:
        """Partner account id -> (name, the owner's email: its channel manager)."""
        users = self.users()
        if self.hubspot:
            return {str(c.id): (c.properties["name"], users[c.properties["hubspot_owner_id"]])
                    for c in self.hs.crm.companies.get_all(
                        properties=["name", "type", "hubspot_owner_id"])
                    if c.properties["type"] == "PARTNER"}
        return {a["Id"]: (a["Name"], users[a["OwnerId"]]) for a in self.sf.query_all(
            "SELECT Id, Name, OwnerId FROM Account WHERE Type = 'Partner'")["records"]}

    def set_conversations(self, account_id: str, value: str) -> None:
        """A channel manager records how well the partner runs technical conversations."""
        if self.hubspot:
            self.hs.crm.companies.basic_api.update(account_id, {"properties": {
                "technical_conversations": value}})
        else:
            self.sf.Account.update(account_id,
                                   {"Technical_Conversations__c": SF_CONVERSATIONS[value]})

    def tasks_on(self, account_id: str) -> list[dict[str, Any]]:
        """The handoff tasks attached to a partner account: key, subject, owner, done."""
        users = self.users()
        if not self.hubspot:
            return [{"key": t["Handoff_Task_Key__c"], "subject": t["Subject"],
                     "owner": users[t["OwnerId"]], "done": t["Status"] == "Completed"}
                    for t in self.sf.query_all(
                        "SELECT Handoff_Task_Key__c, Subject, OwnerId, Status FROM Task "
                        f"WHERE WhatId = '{account_id}'")["records"]]
        found = []
        for link in self.hs.crm.associations.v4.basic_api.get_page(
                "companies", account_id, "tasks", limit=500).results:
            task = self.hs.crm.objects.basic_api.get_by_id(
                "tasks", str(link.to_object_id), properties=[
                    "handoff_task_key", "hs_task_subject", "hubspot_owner_id",
                    "hs_task_status"])
            found.append({"key": task.properties["handoff_task_key"],
                          "subject": task.properties["hs_task_subject"],
                          "owner": users[task.properties["hubspot_owner_id"]],
                          "done": task.properties["hs_task_status"] == "COMPLETED"})
        return found

    def complete(self, task_key: str) -> None:
        """The channel manager marks a training task done where they work."""
        if self.hubspot:
            self.hs.crm.objects.basic_api.update(
                "tasks", task_key, {"properties": {"hs_task_status": "COMPLETED"}},
                id_property="handoff_task_key")
        else:
            self.sf.Task.update(f"Handoff_Task_Key__c/{task_key}", {"Status": "Completed"})

    def delete(self, account_id: str) -> None:
        """The partner leaves: its company archived in HubSpot, its Account deleted."""
        if self.hubspot:
            self.hs.crm.companies.basic_api.archive(account_id)
        else:
            self.sf.Account.delete(account_id)

    def task_done(self, task_key: str) -> bool:
        """Whether the PRM holds the task of this key as done (by key: its account may
        be gone)."""
        if self.hubspot:
            return self.hs.crm.objects.basic_api.get_by_id(
                "tasks", task_key, properties=["hs_task_status"],
                id_property="handoff_task_key").properties["hs_task_status"] == "COMPLETED"
        [task] = self.sf.query_all("SELECT Status FROM Task WHERE Handoff_Task_Key__c = "
                                   f"'{task_key}'")["records"]
        return bool(task["Status"] == "Completed")

    def all_task_keys(self) -> list[str]:
        """Every handoff task key in the PRM, duplicates kept."""
        if not self.hubspot:
            return [t["Handoff_Task_Key__c"] for t in self.sf.query_all(
                "SELECT Handoff_Task_Key__c FROM Task WHERE Handoff_Task_Key__c != null"
            )["records"]]
        return [t.properties["handoff_task_key"] for t in self.hs.crm.objects.get_all(
            "tasks", properties=["handoff_task_key"]) if t.properties.get("handoff_task_key")]


@pytest.fixture(params=PACKS)
def world(request: pytest.FixtureRequest, sandbox: SandboxServer, tmp_path: Path,
          store_url: str, sf: Salesforce, hs: HubSpot) -> Iterator[dict[str, Any]]:
    pack = request.param
    file = configured_sandbox(sandbox, tmp_path, database_url=store_url, deals=30,
                              partners=4, random_seed=11,
                              pack=None if pack == "default" else pack)
    config = load_config(file)
    store = Store.connect(config.database.url)
    store.migrate()
    runner = PipelineRunner(config, config.pipelines[0], store, holder="test",
                            clock=lambda: NOW)
    try:
        yield {"pack": pack, "prm": Prm(pack, sf, hs), "store": store, "runner": runner,
               "mappings": load_mappings(config.pipelines[0].mappings), "tmp": tmp_path,
               "sandbox": sandbox}
    finally:
        runner.close()
        store.close()


def cycle(runner: PipelineRunner) -> CycleReport:
    report = runner.run_cycle()
    assert report.outcome is RunOutcome.OK, (report.message, report.failures)
    return report


def readiness_of(world: dict[str, Any]) -> Any:
    runner: PipelineRunner = world["runner"]
    data = read_report_data(world["store"], runner.name, world["mappings"])
    return compute(data, now=NOW).readiness


def test_a_partner_under_threshold_gets_one_training_task_until_it_recovers(
        world: dict[str, Any]) -> None:
    prm: Prm = world["prm"]
    runner: PipelineRunner = world["runner"]
    partners = prm.partners()
    target = min(partners)
    name, channel_manager = partners[target]
    prm.set_conversations(target, "basic")  # 40, under the packs' threshold of 50
    key = training_key(runner.name, target, DIMENSION)

    cycle(runner)
    [task] = [t for t in prm.tasks_on(target) if t["key"] == key]
    assert task["owner"] == channel_manager and not task["done"]
    assert task["subject"] == f"Readiness training for {name}: {LABEL}"
    # Every training task in the PRM is one the report shows under threshold, and open.
    section = readiness_of(world)
    under = {training_key(runner.name, account_id, b.group.rsplit(" / ", 1)[1])
             for b in section.breakdown if b.status == "under threshold"
             for account_id, (partner, _) in partners.items() if partner == b.partner}
    on_accounts = {t["key"] for account_id in partners for t in prm.tasks_on(account_id)}
    assert key in under and on_accounts == under
    assert {(t.partner, t.dimension, t.assignee) for t in section.training_tasks} >= {
        (name, LABEL, channel_manager)}
    assert len(section.training_tasks) == len(under)
    assert section.open_training_tasks.value == len(under)
    row = next(b for b in section.breakdown if b.group == f"{name} / {DIMENSION}")
    assert (row.score, row.value, row.status) == (40.0, "basic", "under threshold")

    # A second cycle opens nothing more: one task per partner and dimension.
    cycle(runner)
    keys = prm.all_task_keys()
    assert keys.count(key) == 1 and len(set(keys)) == len(keys)
    assert [t["key"] for t in prm.tasks_on(target)].count(key) == 1

    # A replica whose store never saw the task (or a cycle redone after a crash before its
    # transaction) upserts the same key: still one task.
    replica = world["tmp"] / "replica"
    replica.mkdir()
    write_sandbox_config(world["sandbox"].base_url, replica / "handoff-sync.yaml",
                         database=f"sqlite:///{replica / 'store.db'}",
                         pack=None if world["pack"] == "default" else world["pack"])
    config = load_config(replica / "handoff-sync.yaml")
    other = Store.connect(config.database.url)
    other.migrate()
    second = PipelineRunner(config, config.pipelines[0], other, holder="replica",
                            clock=lambda: NOW)
    try:
        cycle(second)
    finally:
        second.close()
        other.close()
    keys = prm.all_task_keys()
    assert keys.count(key) == 1 and len(set(keys)) == len(keys)

    # Another training task the channel manager completed by hand stays completed, though
    # its dimension is still under the threshold: nobody's work is fought.
    assert len(under) > 1, "the seed leaves another partner dimension under threshold"
    other = sorted(under - {key})[0]
    prm.complete(other)
    cycle(runner)
    held = world["store"].load_pipeline(runner.name).engine.tasks[other]
    assert held.closed_by_user and held.spec.status is TaskStatus.DONE
    assert all(t["done"] for account_id in partners for t in prm.tasks_on(account_id)
               if t["key"] == other)

    # The channel manager records the partner's progress: the next cycle closes the task.
    prm.set_conversations(target, "expert")
    cycle(runner)
    [task] = [t for t in prm.tasks_on(target) if t["key"] == key]
    assert task["done"]
    state = world["store"].load_pipeline(runner.name)
    assert state.engine.tasks[key].spec.status is TaskStatus.DONE
    section = readiness_of(world)
    row = next(b for b in section.breakdown if b.group == f"{name} / {DIMENSION}")
    assert (row.score, row.status) == (100.0, "ok")
    assert (name, LABEL) not in {(t.partner, t.dimension)
                                 for t in section.training_tasks}
    # And a quiet cycle after that changes nothing.
    assert cycle(runner).counts.get("tasks_created", 0) == 0
    assert prm.all_task_keys().count(key) == 1


def test_a_partner_deleted_in_the_prm_has_its_training_task_closed(
        world: dict[str, Any]) -> None:
    """Archived in HubSpot, deleted in Salesforce: the next full cycle no longer reads it
    as a partner, closes its open training task and the report stops counting it."""
    prm: Prm = world["prm"]
    runner: PipelineRunner = world["runner"]
    partners = prm.partners()
    target = min(partners)
    name = partners[target][0]
    prm.set_conversations(target, "basic")  # 40, under the packs' threshold of 50
    key = training_key(runner.name, target, DIMENSION)
    cycle(runner)
    [task] = [t for t in prm.tasks_on(target) if t["key"] == key]
    assert not task["done"]
    assert name in {t.partner for t in readiness_of(world).training_tasks}
    kept = {k for k, state in world["store"].load_pipeline(runner.name).engine.tasks.items()
            if state.spec.crm_id != target and state.spec.status is TaskStatus.OPEN}

    prm.delete(target)
    report = runner.run_cycle(full=True)
    assert report.outcome is RunOutcome.OK, (report.message, report.failures)
    assert report.counts["tasks_closed"] >= 1
    tasks = world["store"].load_pipeline(runner.name).engine.tasks
    assert tasks[key].spec.status is TaskStatus.DONE and not tasks[key].closed_by_user
    # HubSpot keeps an archived company's tasks: the close was written. Salesforce deletes
    # an Account's Tasks with it (the sandbox leaves them, on a deleted Account, where
    # nobody sees them); its refusal of the close counts as the close, not a failure.
    if prm.hubspot:
        assert prm.task_done(key)
    # Only the gone partner's tasks closed; the report no longer lists it.
    assert {k for k in kept if tasks[k].spec.status is TaskStatus.OPEN} == kept
    section = readiness_of(world)
    assert name not in {t.partner for t in section.training_tasks}
    # A quiet cycle after that changes nothing and fails nothing.
    again = cycle(runner)
    assert again.counts.get("tasks_closed", 0) == 0 and again.counts["errors"] == 0
