"""Two-sided tasks end to end: partner to-dos land on the PRM record, owned by partner-side
users, through the real clients against the sandbox, with both shipped packs and both
store backends.

The default pack writes the partner-facts task as a HubSpot task associated with the
registration deal; the reversed pack as a Salesforce Task whose WhatId is the
Deal_Registration__c. Its owner is the partner rep's PRM user, else the registration's
owner (the channel manager); RevOps gets a task only when neither is a user, and then one
review item per person, listing the deals.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hubspot import HubSpot
from simple_salesforce import Salesforce

from handoff_sync.config.load import load_config
from handoff_sync.demo.sandbox_config import write_sandbox_config
from handoff_sync.engine.types import TaskState
from handoff_sync.model import Role, TaskAnchor, TaskStatus
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store import Store
from handoff_sync.sync.cycle import PipelineRunner
from tests.e2e.sync_support import clean_cycle, handoff_tasks

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # a Wednesday afternoon: business hours
FALLBACK = "revops@example.com"
PACKS = ("default", "salesforce-prm-hubspot-crm")  # default: HubSpot PRM, Salesforce CRM
PARTNER_TASK = "complete_partner_facts"


@dataclass(frozen=True)
class PrmTask:
    """A handoff task as the PRM holds it."""

    key: str
    registration: str
    owner_email: str
    done: bool


class Prm:
    """The PRM side of a pack, read and edited through its vendor client."""

    def __init__(self, pack: str, sf: Salesforce, hs: HubSpot) -> None:
        self.pack, self.sf, self.hs = pack, sf, hs
        self.hubspot = pack == PACKS[0]

    def users(self) -> dict[str, str]:
        """Active PRM users: id -> email."""
        if self.hubspot:
            owners = self.hs.crm.owners.owners_api.get_page(limit=500).results
            return {str(o.id): o.email.lower() for o in owners if not o.archived}
        return {u["Id"]: u["Email"].lower() for u in self.sf.query_all(
            "SELECT Id, Email FROM User WHERE IsActive = true")["records"]}

    def tasks(self) -> list[PrmTask]:
        if not self.hubspot:
            users = {u["Id"]: u["Email"].lower() for u in self.sf.query_all(
                "SELECT Id, Email FROM User")["records"]}
            return [PrmTask(t["Handoff_Task_Key__c"], t["WhatId"], users[t["OwnerId"]],
                            t["Status"] == "Completed")
                    for t in handoff_tasks(self.sf) if t["WhatId"].startswith("a0D")]
        owners = {str(o.id): o.email.lower() for o in self.hs.crm.owners.owners_api.get_page(
            limit=500, archived=False).results}
        found, after = [], None
        while True:
            page = self.hs.crm.objects.basic_api.get_page(
                "tasks", limit=100, after=after,
                properties=["handoff_task_key", "hubspot_owner_id", "hs_task_status"])
            for task in page.results:
                key = task.properties.get("handoff_task_key")
                if not key:
                    continue  # a rep's own to-do
                deals = self.hs.crm.associations.v4.basic_api.get_page(
                    "tasks", task.id, "deals").results
                if not deals:
                    continue  # on a partner company (a readiness training task)
                [deal] = deals
                found.append(PrmTask(key, str(deal.to_object_id),
                                     owners[task.properties["hubspot_owner_id"]],
                                     task.properties["hs_task_status"] == "COMPLETED"))
            if page.paging is None or page.paging.next is None:
                return found
            after = page.paging.next.after

    def registration(self, record_id: str) -> tuple[str | None, str | None]:
        """(partner rep email, owner id) of a registration."""
        if self.hubspot:
            deal = self.hs.crm.deals.basic_api.get_by_id(
                record_id, properties=["partner_rep_email", "hubspot_owner_id", "pipeline"])
            assert deal.properties["pipeline"] == "9004451"  # the partner pipeline
            return deal.properties.get("partner_rep_email"), deal.properties.get(
                "hubspot_owner_id")
        record = self.sf.Deal_Registration__c.get(record_id)
        return record.get("Partner_Rep_Email__c"), record["OwnerId"]

    def complete(self, task_key: str) -> None:
        """A partner marks the task done where they work."""
        if self.hubspot:
            self.hs.crm.objects.basic_api.update(
                "tasks", task_key, {"properties": {"hs_task_status": "COMPLETED"}},
                id_property="handoff_task_key")
        else:
            self.sf.Task.update(f"Handoff_Task_Key__c/{task_key}", {"Status": "Completed"})

    def set_rep(self, record_id: str, email: str) -> None:
        """The partner names another rep on the registration."""
        if self.hubspot:
            self.hs.crm.deals.basic_api.update(
                record_id, {"properties": {"partner_rep_email": email}})
        else:
            self.sf.Deal_Registration__c.update(record_id, {"Partner_Rep_Email__c": email})

    def orphan(self, record_ids: list[str], owner_ids: set[str]) -> None:
        """Leave these registrations without a channel manager who is a user: HubSpot's
        owner cleared; in Salesforce (OwnerId is required) the owners leave the company."""
        if self.hubspot:
            for record_id in record_ids:
                self.hs.crm.deals.basic_api.update(
                    record_id, {"properties": {"hubspot_owner_id": ""}})
        else:
            for owner_id in sorted(owner_ids):
                self.sf.User.update(owner_id, {"IsActive": False})


@pytest.fixture(params=PACKS)
def world(request: pytest.FixtureRequest, sandbox: SandboxServer, tmp_path: Path,
          store_url: str, sf: Salesforce, hs: HubSpot) -> Iterator[dict[str, Any]]:
    pack = request.param
    sandbox.sandbox.seed(deals=60, partners=4, random_seed=3)
    path = tmp_path / "handoff-sync.yaml"
    write_sandbox_config(sandbox.base_url, path, pack=pack, database=store_url)
    config = load_config(path)
    store = Store.connect(config.database.url)
    store.migrate()
    runner = PipelineRunner(config, config.pipelines[0], store, holder="test",
                            clock=lambda: NOW)
    try:
        yield {"store": store, "runner": runner, "prm": Prm(pack, sf, hs)}
    finally:
        runner.close()
        store.close()


def ledger(world: dict[str, Any]) -> dict[str, TaskState]:
    return dict(world["store"].load_pipeline("partners").engine.tasks)


def reviews(world: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [item for item in world["store"].reviews("partners", status="open")
            if item["kind"] == kind]


def expected_owner(prm: Prm, users: dict[str, str], registration: str) -> str:
    """The partner rep if they are a PRM user, else the channel manager if they are one,
    else the fallback owner."""
    rep, owner_id = prm.registration(registration)
    rep = rep.strip().lower() if rep else None
    if rep is not None and rep in users.values():
        return rep
    if owner_id and owner_id in users:
        return users[owner_id]
    return FALLBACK


def test_partner_tasks_land_on_the_registration_owned_by_partner_side_users(
        world: dict[str, Any]) -> None:
    prm: Prm = world["prm"]
    clean_cycle(world)
    held = ledger(world)
    partner = {key: t for key, t in held.items() if t.spec.kind == PARTNER_TASK}
    assert partner and all(t.spec.side is Role.PRM for t in partner.values())
    # The CRM gets none of the partner's to-dos (training tasks go on partner accounts).
    assert all(t.spec.side is Role.CRM for t in held.values() if t.spec.kind != PARTNER_TASK
               and t.spec.anchor is TaskAnchor.DEAL)
    on_prm = {t.key: t for t in prm.tasks()}
    assert set(on_prm) == set(partner)  # one task per key, each where the ledger says
    users = prm.users()
    owners = set()
    for key, task in on_prm.items():
        assert task.registration == partner[key].spec.crm_id
        assert task.owner_email == expected_owner(prm, users, task.registration)
        owners.add(task.owner_email)
    # Seated reps own their tasks, and the channel manager stands in for the others: while a
    # partner-side user exists, nothing lands on RevOps, and nobody is asked to review.
    assert FALLBACK not in owners
    reps = {prm.registration(t.registration)[0] for t in on_prm.values()}
    assert owners & {r.lower() for r in reps if r}
    assert not reviews(world, "unresolved_prm_owner")
    assert not [item for item in reviews(world, "unresolved_owner")
                if item["details"].get("role") == "prm_owner"]
    # Planned again, nothing moves: the PRM tasks are as the ledger holds them.
    assert clean_cycle(world).counts["tasks_created"] == 0


def test_a_rep_without_a_prm_user_hands_the_task_to_the_channel_manager(
        world: dict[str, Any]) -> None:
    prm: Prm = world["prm"]
    clean_cycle(world)
    task = next(t for t in sorted(prm.tasks(), key=lambda t: t.key) if not t.done)
    prm.set_rep(task.registration, "new.rep@unseated-partner.example")
    assert clean_cycle(world).counts["tasks_updated"] >= 1  # reassigned
    users = prm.users()
    [moved] = [t for t in prm.tasks() if t.key == task.key]
    _, owner_id = prm.registration(task.registration)
    assert moved.owner_email == users[str(owner_id)] != FALLBACK  # the channel manager
    assert not reviews(world, "unresolved_prm_owner")


def test_a_partner_completing_the_task_in_the_prm_is_never_fought(
        world: dict[str, Any]) -> None:
    prm: Prm = world["prm"]
    clean_cycle(world)
    key = sorted(k for k, t in ledger(world).items() if t.spec.side is Role.PRM
                 and t.spec.status is TaskStatus.OPEN and t.spec.anchor is TaskAnchor.DEAL)[0]
    prm.complete(key)
    clean_cycle(world)
    state = ledger(world)[key]
    assert state.closed_by_user and state.spec.status is TaskStatus.DONE
    clean_cycle(world)
    assert next(t for t in prm.tasks() if t.key == key).done  # not reopened


def test_revops_gets_one_item_per_unknown_person_only_when_no_fallback_applies(
        world: dict[str, Any]) -> None:
    prm: Prm = world["prm"]
    clean_cycle(world)
    users = prm.users()
    # Two registrations name the same rep, who has no PRM user: the channel manager
    # stands in...
    open_tasks = sorted((t for t in prm.tasks() if not t.done), key=lambda t: t.key)
    assert len(open_tasks) >= 3
    gone = "gone.rep@unseated-partner.example"
    for task in open_tasks[:2]:
        prm.set_rep(task.registration, gone)
    clean_cycle(world)
    assert not reviews(world, "unresolved_prm_owner")
    stood_in = sorted({t.registration for t in prm.tasks()
                       if not t.done and expected_owner(prm, users, t.registration)
                       != (prm.registration(t.registration)[0] or "").lower()})
    assert len(stood_in) >= 2
    # ... until the channel managers are gone too: then, and only then, RevOps.
    prm.orphan(stood_in, {str(prm.registration(r)[1]) for r in stood_in})
    # A user leaving is seen when the users are read again (every 15 minutes, or a full
    # cycle); a cleared owner at once.
    assert world["runner"].run_cycle(full=True).failures == ()
    users = prm.users()
    tasks = [t for t in prm.tasks() if not t.done]
    fallen: dict[str, set[str]] = {}
    for task in tasks:
        owner = expected_owner(prm, users, task.registration)
        assert task.owner_email == owner
        if owner == FALLBACK:
            rep = (prm.registration(task.registration)[0] or "-").lower()
            fallen.setdefault(rep, set()).add(f"prm:{task.registration}")
    assert fallen
    items = reviews(world, "unresolved_prm_owner")
    # One item per person, listing that person's deals; never one per deal.
    assert {item["details"]["email"] or "-": set(item["details"]["deals"])
            for item in items} == fallen
    assert len(items) < sum(len(deals) for deals in fallen.values()) or all(
        len(deals) == 1 for deals in fallen.values())
