"""Schema drift end to end: a Salesforce admin hides a mapped field and locks an output.

The sync keeps running around the drifted fields (a partial cycle that names them), other
changes still cross over, no value is blanked on either side, and once the schema is
restored a full cycle syncs the held-back field again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hubspot import HubSpot
from simple_salesforce import Salesforce

from handoff_sync.sandbox.core.server import SandboxServer
from handoff_sync.store.types import RunOutcome
from handoff_sync.sync import CycleReport, PipelineRunner
from tests.e2e.sync_support import sandbox_schema, sync_world

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # a Wednesday afternoon: business hours
BUDGET = "salesforce.Opportunity.Budget__c"
BRIEF = "salesforce.Opportunity.Handoff_Brief__c"
DRIFT = {"salesforce": {"Opportunity": {"hidden": ["Budget__c"],
                                        "read_only": ["Handoff_Brief__c"]}}}


@pytest.fixture
def world(sandbox: SandboxServer, tmp_path: Path, store_url: str) -> Iterator[dict[str, Any]]:
    with sync_world(sandbox, tmp_path, database_url=store_url, now=NOW) as world:
        yield world


def hs_budgets(hs: HubSpot, prm_ids: list[str]) -> dict[str, str | None]:
    return {prm_id: hs.crm.deals.basic_api.get_by_id(prm_id, properties=["budget"])
            .properties.get("budget") for prm_id in prm_ids}


def sf_budgets(sf: Salesforce, crm_ids: list[str]) -> dict[str, float | None]:
    rows = sf.query_all("SELECT Id, Budget__c FROM Opportunity")["records"]
    return {r["Id"]: r["Budget__c"] for r in rows if r["Id"] in crm_ids}


def rep_email(sf: Salesforce, crm_id: str) -> str | None:
    value: str | None = sf.Opportunity.get(crm_id)["Partner_Rep_Email__c"]
    return value


def test_sync_survives_a_hidden_field_and_a_locked_output(
        world: dict[str, Any], sandbox: SandboxServer, sf: Salesforce, hs: HubSpot) -> None:
    runner: PipelineRunner = world["runner"]
    first = runner.run_cycle()
    assert first.outcome is RunOutcome.OK, first.message
    assert runner.run_cycle().outcome is RunOutcome.OK
    state = world["store"].load_pipeline("partners").engine
    links = sorted(state.links.values(), key=lambda x: x.prm_id)
    budgets_hs = hs_budgets(hs, [x.prm_id for x in links])
    budgets_sf = sf_budgets(sf, [x.crm_id for x in links])
    # Two linked deals with a budget on both sides: one gets a new rep, one a new budget.
    rep_link, budget_link = [x for x in links
                             if budgets_hs[x.prm_id] and budgets_sf[x.crm_id]][:2]

    sandbox_schema(sandbox, "POST", DRIFT)
    hs.crm.deals.basic_api.update(rep_link.prm_id, {"properties": {
        "partner_rep_email": "x@y.example"}})
    hs.crm.deals.basic_api.update(budget_link.prm_id, {"properties": {"budget": "98765"}})
    reports: list[CycleReport] = []
    for _ in range(2):  # the cycle that meets the drift may only describe and skip
        reports.append(runner.run_cycle())
        if rep_email(sf, rep_link.crm_id) == "x@y.example":
            break
    assert rep_email(sf, rep_link.crm_id) == "x@y.example", [
        (r.kind.value, r.outcome.value, r.message) for r in reports]
    for report in reports:
        assert report.outcome is RunOutcome.PARTIAL, report.summary()
        assert set(report.drift) == {BUDGET, BRIEF}, report.summary()
        assert all(reason for reason in report.drift.values())
        assert not [f for f in report.failures if f.code.startswith("INVALID_FIELD")], \
            report.summary()
    status = world["store"].status("partners", now=NOW)["pipelines"]["partners"]
    assert set(status["drift"]) == {BUDGET, BRIEF}
    # Nothing blanked: the PRM keeps every budget (but the one the partner changed) ...
    changed = {budget_link.prm_id: "98765"}
    assert hs_budgets(hs, list(budgets_hs)) == {**budgets_hs, **changed}

    sandbox_schema(sandbox, "DELETE")
    # ... and the CRM kept its hidden values, the held-back change not yet among them.
    assert sf_budgets(sf, list(budgets_sf)) == budgets_sf
    restored = runner.run_cycle(full=True)
    assert restored.outcome is RunOutcome.OK, restored.summary()
    assert dict(restored.drift) == {}
    assert world["store"].status("partners", now=NOW)["pipelines"]["partners"]["drift"] == {}
    # The budget the partner set while the field was hidden reaches Salesforce now.
    assert sf_budgets(sf, [budget_link.crm_id]) == {budget_link.crm_id: 98765.0}
    assert hs_budgets(hs, list(budgets_hs)) == {**budgets_hs, **changed}
