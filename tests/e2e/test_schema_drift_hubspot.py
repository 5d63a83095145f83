"""Schema drift end to end on the HubSpot side: a portal admin archives a mapped deal
property and locks one the sync writes.

HubSpot hides drift better than Salesforce: reading an archived property is not an error,
the value is just left out. The sync must still notice it in the cycle that meets it (a
partial cycle naming both properties), keep syncing everything else both ways, blank no
value on either side, stop writing to the locked property instead of failing on it every
cycle, and once the schema is restored a full cycle syncs the held-back budget again.
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
BUDGET = "hubspot.deals.budget"
MISSING = "hubspot.deals.handoff_missing_fields"
DRIFT = {"hubspot": {"deals": {"hidden": ["budget"],
                               "read_only": ["handoff_missing_fields"]}}}
SCHEMA_CODES = {"PROPERTY_DOESNT_EXIST", "READ_ONLY_VALUE"}
DEAL_PROPERTIES = ["budget", "partner_rep_email", "commitments", "handoff_gate_status",
                   "handoff_missing_fields"]
OPPORTUNITY_FIELDS = ("Budget__c, Partner_Rep_Email__c, Commitments__c, "
                      "Handoff_Gate_Status__c")


@pytest.fixture
def world(sandbox: SandboxServer, tmp_path: Path, store_url: str) -> Iterator[dict[str, Any]]:
    with sync_world(sandbox, tmp_path, database_url=store_url, now=NOW) as world:
        yield world


def hs_deals(hs: HubSpot, prm_ids: list[str]) -> dict[str, dict[str, str | None]]:
    """The mapped properties of each deal, as the API shows them now."""
    out = {}
    for prm_id in prm_ids:
        found = hs.crm.deals.basic_api.get_by_id(prm_id, properties=DEAL_PROPERTIES)
        out[prm_id] = {name: found.properties.get(name) for name in DEAL_PROPERTIES
                       if name in found.properties}
    return out


def sf_opportunities(sf: Salesforce, crm_ids: list[str]) -> dict[str, dict[str, Any]]:
    rows = sf.query_all(f"SELECT Id, {OPPORTUNITY_FIELDS} FROM Opportunity")["records"]
    return {r["Id"]: {k: v for k, v in r.items() if k not in ("attributes", "Id")}
            for r in rows if r["Id"] in crm_ids}


def budget(value: str | None) -> float | None:
    return None if value in (None, "") else float(value)


def test_sync_survives_an_archived_property_and_a_locked_output(
        world: dict[str, Any], sandbox: SandboxServer, sf: Salesforce, hs: HubSpot) -> None:
    runner: PipelineRunner = world["runner"]
    assert runner.run_cycle().outcome is RunOutcome.OK
    assert runner.run_cycle().outcome is RunOutcome.OK
    state = world["store"].load_pipeline("partners").engine
    links = sorted(state.links.values(), key=lambda x: x.prm_id)
    before_hs = hs_deals(hs, [x.prm_id for x in links])
    before_sf = sf_opportunities(sf, [x.crm_id for x in links])
    # Three linked deals with a budget on both sides: the partner changes one's rep in
    # HubSpot, the AE one's commitments and one's budget in Salesforce.
    rep_link, commit_link, budget_link = [
        x for x in links if before_hs[x.prm_id]["budget"] and before_sf[x.crm_id]["Budget__c"]
    ][:3]

    sandbox_schema(sandbox, "POST", DRIFT)
    hs.crm.deals.basic_api.update(rep_link.prm_id, {"properties": {
        "partner_rep_email": "x@y.example"}})
    sf.Opportunity.update(commit_link.crm_id, {"Commitments__c": "Weekly steering call"})
    sf.Opportunity.update(budget_link.crm_id, {"Budget__c": 98765})
    reports: list[CycleReport] = []
    for _ in range(2):  # both changes must cross in the cycles that meet the drift
        reports.append(runner.run_cycle())
        crossed = (sf.Opportunity.get(rep_link.crm_id)["Partner_Rep_Email__c"],
                   hs_deals(hs, [commit_link.prm_id])[commit_link.prm_id]["commitments"])
        if crossed == ("x@y.example", "Weekly steering call"):
            break
    assert crossed == ("x@y.example", "Weekly steering call"), [r.summary() for r in reports]
    for report in reports:
        assert report.outcome is RunOutcome.PARTIAL, report.summary()
        assert set(report.drift) == {BUDGET, MISSING}, report.summary()
        assert all(reason for reason in report.drift.values())
        assert not [f for f in report.failures if f.code in SCHEMA_CODES], report.summary()
    status = world["store"].status("partners", now=NOW)["pipelines"]["partners"]
    assert set(status["drift"]) == {BUDGET, MISSING}

    # No retry storm: a quiet cycle under drift writes nothing to HubSpot.
    quiet = runner.run_cycle()
    assert quiet.outcome is RunOutcome.PARTIAL and set(quiet.drift) == {BUDGET, MISSING}
    assert quiet.api_calls["hubspot"]["calls"].get("write", 0) == 0, quiet.summary()
    assert not quiet.failures, quiet.summary()

    # Nothing blanked: Salesforce keeps every budget and gate (but the AE's one change) ...
    changed_sf = {id_: dict(v) for id_, v in before_sf.items()}
    changed_sf[rep_link.crm_id]["Partner_Rep_Email__c"] = "x@y.example"
    changed_sf[commit_link.crm_id]["Commitments__c"] = "Weekly steering call"
    changed_sf[budget_link.crm_id]["Budget__c"] = 98765.0
    assert sf_opportunities(sf, list(before_sf)) == changed_sf

    sandbox_schema(sandbox, "DELETE")
    # ... and HubSpot kept its archived budgets and its locked outputs, the held-back
    # budget not yet among them.
    changed_hs = {id_: dict(v) for id_, v in before_hs.items()}
    changed_hs[rep_link.prm_id]["partner_rep_email"] = "x@y.example"
    changed_hs[commit_link.prm_id]["commitments"] = "Weekly steering call"
    assert hs_deals(hs, list(before_hs)) == changed_hs

    restored = runner.run_cycle(full=True)
    assert restored.outcome is RunOutcome.OK, restored.summary()
    assert dict(restored.drift) == {}
    assert world["store"].status("partners", now=NOW)["pipelines"]["partners"]["drift"] == {}
    # The budget the AE set while the property was archived reaches HubSpot now.
    after = hs_deals(hs, list(before_hs))
    assert budget(after[budget_link.prm_id]["budget"]) == 98765.0
    assert {id_: v for id_, v in after.items() if id_ != budget_link.prm_id} == {
        id_: v for id_, v in changed_hs.items() if id_ != budget_link.prm_id}
