"""Issue 16 (5): the receiving owner accepts or rejects a handoff on the CRM record.

Both shipped packs against the sandbox with the real clients, on SQLite and PostgreSQL, the
way a new user runs them (`init --sandbox`, `migrate`, `sync`, `report`): the AE rejects
a handoff with a reason on the opportunity -> the decision is recorded with who and when, a
task goes back to the partner on its registration (side: prm) with the reason, the first
stage's gate is reopened and both records moved back to that stage, and the report counts
the rejection (rejection rate by partner with its n; one handoff is too few to judge
against the 5% alert); the partner re-submits on the
registration -> the decision is back to Pending and the task closed; the AE accepts -> the
first-touch clock stops.
"""

from __future__ import annotations

import json
import shutil
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.deals import SimplePublicObjectInput
from simple_salesforce import Salesforce

from handoff_sync.config.load import load_config
from handoff_sync.engine.types import DecisionKind, Verdict
from handoff_sync.model import GateStatus, Role, TaskStatus
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store import Store
from handoff_sync.store.load import load_pipeline
from handoff_sync.store.rows import decision_from
from handoff_sync.store.schema import DecisionRow, table
from tests.e2e.sync_support import REPO, run_cli
from tests.store_support import BACKENDS, fresh_database_url, require_postgres

PACKS = {"default": REPO / "mappings",
         "salesforce-prm-hubspot-crm": REPO / "mappings" / "packs" /
         "salesforce-prm-hubspot-crm"}
REASON = "Economic buyer is the IT director, not the CFO; budget not confirmed"
REOPENED = "Handoff rejected: " + REASON + " (re-submit when fixed)"
# The reopened stage as each system spells it (Salesforce picklist, HubSpot property).
STAGE_ONE = {"1 Pre-Handoff Assessment", "pre_handoff_assessment"}


@dataclass
class Systems:
    """The pack's two sides through the real clients: who holds what, in its own words."""

    pack: str
    sf: Salesforce
    hs: HubSpot

    @property
    def crm_is_salesforce(self) -> bool:
        return self.pack == "default"

    def decide(self, crm_id: str, acceptance: str, reason: str | None = None) -> None:
        """The AE sets the decision (Pending/Accepted/Rejected) on the CRM record."""
        if self.crm_is_salesforce:
            self.sf.Opportunity.update(crm_id, {"Handoff_Acceptance__c": acceptance,
                                                "Handoff_Rejection_Reason__c": reason})
        else:
            self.hs.crm.deals.basic_api.update(crm_id, SimplePublicObjectInput(properties={
                "handoff_acceptance": acceptance.lower(),
                "handoff_rejection_reason": reason or ""}))

    def crm(self, crm_id: str) -> dict[str, Any]:
        """Decision, reason and the missing-fields output of the CRM record."""
        if self.crm_is_salesforce:
            row = self.sf.Opportunity.get(crm_id)
            return {"acceptance": row["Handoff_Acceptance__c"],
                    "reason": row["Handoff_Rejection_Reason__c"],
                    "missing": row["Handoff_Missing_Fields__c"] or "",
                    "stage": row["Handoff_Stage__c"]}
        props = self.hs.crm.deals.basic_api.get_by_id(crm_id, properties=[
            "handoff_acceptance", "handoff_rejection_reason",
            "handoff_missing_fields", "handoff_stage"]).properties
        return {"acceptance": (props["handoff_acceptance"] or "").title() or None,
                "reason": props["handoff_rejection_reason"] or None,
                "missing": props["handoff_missing_fields"] or "",
                "stage": props["handoff_stage"]}

    def resubmit(self, prm_id: str) -> None:
        """The partner ticks "Re-submit handoff" on its registration."""
        if self.crm_is_salesforce:
            self.hs.crm.deals.basic_api.update(prm_id, SimplePublicObjectInput(
                properties={"handoff_resubmit": "true"}))
        else:
            self.sf.Deal_Registration__c.update(prm_id, {"Handoff_Resubmit__c": True})

    def prm(self, prm_id: str) -> dict[str, Any]:
        """The registration's re-submit tick and missing-fields output."""
        if self.crm_is_salesforce:
            props = self.hs.crm.deals.basic_api.get_by_id(prm_id, properties=[
                "handoff_resubmit", "handoff_missing_fields", "handoff_stage"]).properties
            return {"resubmit": props["handoff_resubmit"] == "true",
                    "missing": props["handoff_missing_fields"] or "",
                    "stage": props["handoff_stage"]}
        row = self.sf.Deal_Registration__c.get(prm_id)
        return {"resubmit": row["Handoff_Resubmit__c"],
                "missing": row["Handoff_Missing_Fields__c"] or "",
                "stage": row["Handoff_Stage__c"]}

    def task(self, task_id: str, side: Role) -> dict[str, Any]:
        """A task in the system of ``side``: open or not, its description and record."""
        if (side is Role.CRM) == self.crm_is_salesforce:
            row = self.sf.Task.get(task_id)
            return {"open": row["Status"] != "Completed", "body": row["Description"],
                    "on": row["WhatId"]}
        task = self.hs.crm.objects.tasks.basic_api.get_by_id(
            task_id, properties=["hs_task_status", "hs_task_body"], associations=["deals"])
        props = task.properties
        deals = task.associations["deals"].results if task.associations else []
        return {"open": props["hs_task_status"] != "COMPLETED", "body": props["hs_task_body"],
                "on": deals[0].id if deals else None}


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "postgresql":
        require_postgres()
    with ExitStack() as stack:
        yield stack.enter_context(fresh_database_url(request.param, tmp_path))


def sync(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, out, err = run_cli(capsys, "sync", "--config", str(config), "--json")
    assert code == 0, err
    [summary] = json.loads(out)
    assert summary["outcome"] == "ok", summary["errors"]


def a_handoff(store: Store, pipeline: str) -> Verdict:
    """A linked deal that needs a handoff (the decision is the AE's to make) and whose
    first-touch clock still runs (nobody has held the intro call)."""
    state = store.load_pipeline(pipeline).engine

    def waiting(key: str) -> bool:
        clock = state.clocks.get((key, "partner_to_direct", "first_touch"))
        return clock is not None and clock.stopped_at is None

    return next(v for key, v in sorted(state.verdicts.items())
                if v.required and v.handoff_type == "partner_to_direct" and v.crm_id
                and v.prm_id and waiting(key))


def decisions(store: Store, pipeline: str, deal: str) -> list[Any]:
    rows = table(DecisionRow)
    with store.engine.connect() as connection:
        return [decision_from(r) for r in connection.execute(
            rows.select().where(rows.c.pipeline == pipeline, rows.c.deal == deal)
            .order_by(rows.c.id))]


@pytest.mark.parametrize("pack", list(PACKS))
def test_reject_with_a_reason_goes_back_to_the_partner_and_is_counted(
        pack: str, database_url: str, sandbox: SandboxServer, sf: Salesforce, hs: HubSpot,
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sandbox.sandbox.seed(deals=30, partners=3, random_seed=5)
    config = tmp_path / "handoff-sync.yaml"
    code, _, err = run_cli(capsys, "init", "--sandbox", sandbox.base_url, "--pack", pack,
                           "--database", database_url, "--out", str(config))
    assert code == 0, err
    assert run_cli(capsys, "migrate", "--config", str(config))[0] == 0
    sync(capsys, config)
    systems = Systems(pack, sf, hs)
    pipeline = load_config(config, environ={}).pipelines[0].name
    store = Store.connect(database_url)
    try:
        deal = a_handoff(store, pipeline)
        assert deal.crm_id is not None and deal.prm_id is not None
        key = deal.deal

        # The AE rejects with a reason; `plan` shows what the next cycle records.
        systems.decide(deal.crm_id, "Rejected", REASON)
        code, out, err = run_cli(capsys, "plan", "--config", str(config), "--deal",
                                 deal.crm_id)
        assert code == 0, err
        assert "handoff rejected by " in out and f": {REASON}" in out
        assert any(line.split() == ["handoff", "decisions:", "1", "(1", "rejected)"]
                   for line in out.splitlines())
        sync(capsys, config)
        [rejected] = decisions(store, pipeline, key)
        assert (rejected.decision, rejected.reason) == (DecisionKind.REJECTED, REASON)
        assert rejected.by and rejected.at is not None
        # Salesforce says who changed the opportunity (LastModifiedById: in the sandbox
        # every API write is the integration user's); HubSpot's deal owner is recorded.
        assert rejected.by_system is systems.crm_is_salesforce
        with store.engine.connect() as connection:
            state = load_pipeline(connection, pipeline).engine
        verdict = state.verdicts[key]
        assert (verdict.stage, verdict.status) == ("pre_handoff_assessment",
                                                   GateStatus.BLOCKED)
        assert verdict.missing[0] == REOPENED
        assert REOPENED in systems.crm(deal.crm_id)["missing"]
        assert REOPENED in systems.prm(deal.prm_id)["missing"]  # the partner sees it too
        # Both records are back at the reopened stage, entered when it was rejected.
        assert systems.crm(deal.crm_id)["stage"] in STAGE_ONE
        assert systems.prm(deal.prm_id)["stage"] in STAGE_ONE
        assert verdict.stage_entered_at == rejected.at
        # The task goes back to the partner, on the registration (side: prm), owned by a
        # partner-side user (the rep, else the channel manager), never RevOps.
        [task] = [t for t in state.tasks.values() if t.spec.kind == "handoff_rejected"]
        assert (task.spec.side, task.spec.crm_id) == (Role.PRM, deal.prm_id)
        assert task.spec.status is TaskStatus.OPEN and task.system_task_id
        on_registration = systems.task(task.system_task_id, Role.PRM)
        assert on_registration["open"] and REASON in on_registration["body"]
        assert on_registration["on"] == deal.prm_id
        assert task.spec.assignee_email != "revops@example.com"

        # The report counts it: 1 of 1 decided handoffs of the partner rejected; one
        # handoff is under min_sample (5): shown with its n, not judged, no alert.
        code, out, err = run_cli(capsys, "report", "--config", str(config),
                                 "--format", "json")
        assert code == 0, err
        report = json.loads(out)
        acceptance = report["acceptance"]
        assert (acceptance["decided"]["value"], acceptance["rejected"]["value"]) == (1, 1)
        rate = acceptance["rejection_rate"]
        assert (rate["value"], rate["n"], rate["target"], rate["status"]) == (
            100.0, 1, 5, "small sample")
        [row] = acceptance["partners"]
        assert (row["partner"], row["decided"], row["rejected"], row["alert"]) == (
            rejected.partner, 1, 1, False)
        assert acceptance["alerts"] == []
        # The quality section shows the same rate, and the rejection as an ask.
        assert report["quality"]["rejection_rate"] == rate
        assert report["quality"]["rejections"]["value"] == 1
        code, out, err = run_cli(capsys, "report", "--config", str(config))
        assert code == 0 and "rejection rate by partner" in out
        assert "not judged: n < 5" in out

        # The partner re-submits: the decision is back to Pending, the task closed.
        systems.resubmit(deal.prm_id)
        sync(capsys, config)
        assert [d.decision for d in decisions(store, pipeline, key)] == [
            DecisionKind.REJECTED, DecisionKind.RESUBMITTED]
        crm = systems.crm(deal.crm_id)
        assert (crm["acceptance"], crm["reason"]) == ("Pending", None)
        assert REOPENED not in crm["missing"]
        assert not systems.task(task.system_task_id, Role.PRM)["open"]
        # The tick is cleared once the decision reads pending: the next cycle.
        assert systems.prm(deal.prm_id)["resubmit"] is True
        sync(capsys, config)
        assert systems.prm(deal.prm_id)["resubmit"] is False
        assert len(decisions(store, pipeline, key)) == 2

        # The AE accepts: recorded, and the first-touch clock stops.
        systems.decide(deal.crm_id, "Accepted")
        sync(capsys, config)
        assert [d.decision for d in decisions(store, pipeline, key)][-1] is \
            DecisionKind.ACCEPTED
        with store.engine.connect() as connection:
            clocks = load_pipeline(connection, pipeline).engine.clocks
        first_touch = clocks[(key, "partner_to_direct", "first_touch")]
        accepted = decisions(store, pipeline, key)[-1]
        assert first_touch.stopped_at == max(accepted.at, first_touch.started_at)
        # A cycle more changes nothing: each decision is recorded once.
        sync(capsys, config)
        assert len(decisions(store, pipeline, key)) == 3
    finally:
        store.close()


CRM_FILES = {"default": ("salesforce.yaml", "Rejected: rejected}", "Declined: rejected}",
                         "Opportunity.Handoff_Acceptance__c"),
             "salesforce-prm-hubspot-crm": ("hubspot.yaml", "rejected: rejected}",
                                            "declined: rejected}",
                                            "deals.handoff_acceptance")}


@pytest.mark.parametrize("pack", list(PACKS))
def test_a_rejection_value_the_crm_lacks_is_named_at_its_line(
        pack: str, sandbox: SandboxServer, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The admin calls the rejection "Declined" but the CRM's picklist says "Rejected":
    offline the map is whole (every decision has a value), so only the live describe can
    tell, and it names the file and line; no traceback."""
    sandbox.sandbox.seed(deals=5, partners=2, random_seed=5)
    config = tmp_path / "handoff-sync.yaml"
    assert run_cli(capsys, "init", "--sandbox", sandbox.base_url, "--pack", pack,
                   "--database", f"sqlite:///{tmp_path}/v.db", "--out", str(config))[0] == 0
    file, old, new, field = CRM_FILES[pack]
    folder = tmp_path / "edited"
    shutil.copytree(PACKS[pack], folder, ignore=shutil.ignore_patterns("packs"))
    text = (folder / file).read_text()
    assert old in text
    (folder / file).write_text(text.replace(old, new, 1))
    assert run_cli(capsys, "mappings", "validate", "--mappings", str(folder))[0] == 0
    code, out, err = run_cli(capsys, "mappings", "validate", "--live", "--config",
                             str(config), "--mappings", str(folder))
    assert code == 1
    line = next(n for n, text in enumerate((folder / file).read_text().splitlines(), 1)
                if new in text)
    declined = new.split(":")[0]
    assert f"{folder / file}:{line}:" in out + err
    assert f"'{declined}' is not a value of {field}" in out + err
