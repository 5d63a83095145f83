"""Id fields follow the link: a re-link by hand and a deleted record, end to end.

Salesforce holds the registration id on opportunities in Partner_Registration_Id__c, a
unique external id: re-linking registration P from opportunity O1 to O2 must blank O1's
field before O2 takes the value, or Salesforce answers DUPLICATE_VALUE. The sandbox
enforces that uniqueness as Salesforce does; everything goes through the real clients.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from hubspot import HubSpot
from simple_salesforce import Salesforce

from handoff_sync.cli.main import main
from handoff_sync.config.load import load_config
from handoff_sync.engine.types import Link, LinkMethod
from handoff_sync.model import Role
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store import Store
from handoff_sync.store.types import RunOutcome
from handoff_sync.sync.cycle import CycleReport, PipelineRunner
from tests.e2e.sync_support import configured_sandbox

REGISTRATION_ID = "Partner_Registration_Id__c"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["--log-level", "error", *argv])
    return code, capsys.readouterr().out


def sync_once(capsys: pytest.CaptureFixture[str], config: Path) -> dict[str, Any]:
    code, out = run(capsys, "sync", "--once", "--config", str(config), "--json")
    [summary] = json.loads(out)
    assert code == 0, summary
    return summary


class Relink(NamedTuple):
    """A channel conflict a person resolves by linking: the item, the registration's link
    now, the other registrations of the conflict and a direct opportunity to link to."""

    item: dict[str, Any]
    old: Link
    rivals: list[str]
    target: str


def relink_candidate(store: Store) -> Relink:
    state = store.load_pipeline("partners")
    links = state.engine.links
    item = next(i for i in store.reviews("partners")
                if i["kind"] == "channel_conflict" and i["deal"].removeprefix("prm:") in links)
    prm_id = item["deal"].removeprefix("prm:")
    rivals = [r for r in item["details"]["registrations"] if r != prm_id]
    linked = {link.crm_id for link in links.values()}
    return Relink(item, links[prm_id], rivals, min(set(state.mirror[Role.CRM]) - linked))


def test_a_relink_by_hand_moves_the_registration_id(
        sandbox: SandboxServer, tmp_path: Path, sf: Salesforce, hs: HubSpot,
        capsys: pytest.CaptureFixture[str]) -> None:
    # This seed has a channel conflict on a registration linked by its id fields.
    config = configured_sandbox(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/hs.db",
                                deals=100, partners=12, random_seed=42)
    assert run(capsys, "migrate", "--config", str(config))[0] == 0
    assert sync_once(capsys, config)["outcome"] == "ok"
    with Store.connect(f"sqlite:///{tmp_path}/hs.db") as store:
        relink = relink_candidate(store)
    prm_id, old_opportunity, target = relink.old.prm_id, relink.old.crm_id, relink.target
    assert sf.Opportunity.get(old_opportunity)[REGISTRATION_ID] == prm_id
    for rival in relink.rivals:  # the other partner withdraws its registration
        hs.crm.deals.basic_api.archive(rival)

    code, out = run(capsys, "review", "link", relink.item["key"], target, "--registration",
                    prm_id, "--config", str(config))
    assert code == 0 and f"linked to {target}" in out
    summary = sync_once(capsys, config)

    assert summary["outcome"] == "ok" and summary["errors"] == []
    assert sf.Opportunity.get(old_opportunity)[REGISTRATION_ID] is None
    assert sf.Opportunity.get(target)[REGISTRATION_ID] == prm_id
    deal = hs.crm.deals.basic_api.get_by_id(prm_id, properties=["crm_opportunity_id"])
    assert deal.properties["crm_opportunity_id"] == target
    with Store.connect(f"sqlite:///{tmp_path}/hs.db") as store:
        links = store.load_pipeline("partners").engine.links
        open_items = store.reviews("partners")
        status = store.status("partners", now=datetime.now(UTC))["pipelines"]["partners"]
    assert links[prm_id] == Link(prm_id, target, LinkMethod.MANUAL, 1.0)
    assert not [i for i in open_items if i["kind"] == "link_conflict"]
    assert "DUPLICATE_VALUE" not in json.dumps(status, default=str)

    again = sync_once(capsys, config)
    assert again["outcome"] == "ok"
    assert again["counts"]["records_written"] == 0, again


# --- the daemon's way: one runner, incremental planning -----------------------------------


@pytest.fixture
def runner(sandbox: SandboxServer, tmp_path: Path,
           store_url: str) -> Iterator[tuple[PipelineRunner, Store]]:
    file = configured_sandbox(sandbox, tmp_path, database_url=store_url, deals=100,
                              partners=12, random_seed=42)
    # Scan HubSpot's archived deals every pull, so a withdrawn registration shows at once.
    text = file.read_text(encoding="utf-8")
    hubspot = "    ca_file: ca.pem\n\npipelines:"
    assert hubspot in text
    file.write_text(text.replace(hubspot, "    ca_file: ca.pem\n"
                                 "    archive_scan_interval_seconds: 0\n\npipelines:"),
                    encoding="utf-8")
    config = load_config(file)
    store = Store.connect(config.database.url)
    store.migrate()
    runner = PipelineRunner(config, config.pipelines[0], store, holder="test")
    try:
        yield runner, store
    finally:
        runner.close()
        store.close()


def cycle(runner: PipelineRunner) -> CycleReport:
    report = runner.run_cycle()
    assert report.outcome is RunOutcome.OK, (report.message, report.failures)
    return report


@pytest.mark.parametrize("rival_withdraws", [True, False],
                         ids=["old opportunity left over", "old opportunity taken by a rival"])
def test_a_relink_in_a_running_daemon_frees_the_id_first(
        runner: tuple[PipelineRunner, Store], sf: Salesforce, hs: HubSpot,
        rival_withdraws: bool) -> None:
    daemon, store = runner
    cycle(daemon)
    relink = relink_candidate(store)
    old = relink.old
    [rival] = relink.rivals
    if rival_withdraws:
        hs.crm.deals.basic_api.archive(rival)
    store.resolve_review("partners", relink.item["key"], action="link", crm_id=relink.target,
                         registration=old.prm_id, by="test", now=datetime.now(UTC))

    relinked = cycle(daemon)  # planned incrementally: only what changed, and what it frees
    # The old opportunity lets go of the id in a call before the one the new one takes it in.
    assert relinked.api_calls["salesforce"]["calls"]["write"] == 2
    assert relinked.plan is not None and relinked.plan.planned_deals is not None
    # Left over, the old opportunity is blanked; else the rival's id field links it.
    expected = None if rival_withdraws else rival
    assert sf.Opportunity.get(old.crm_id)[REGISTRATION_ID] == expected
    assert sf.Opportunity.get(relink.target)[REGISTRATION_ID] == old.prm_id
    assert (f"crm:{old.crm_id}" if rival_withdraws else f"prm:{rival}") in (
        relinked.plan.planned_deals)
    # The next cycle reads its own writes back and has nothing left to do.
    echo = cycle(daemon)
    assert echo.counts["records_written"] == 0, echo.plan


def test_a_deleted_opportunity_leaves_no_id_on_its_registration(
        runner: tuple[PipelineRunner, Store], sf: Salesforce, hs: HubSpot) -> None:
    daemon, store = runner
    cycle(daemon)
    links = store.load_pipeline("partners").engine.links
    link = links[min(links)]
    sf.Opportunity.delete(link.crm_id)

    removed = cycle(daemon)
    assert removed.plan is not None
    assert [change.kind.value for change in removed.plan.links] == ["remove"]
    deal = hs.crm.deals.basic_api.get_by_id(link.prm_id, properties=["crm_opportunity_id"])
    assert not deal.properties["crm_opportunity_id"]
    assert link.prm_id not in store.load_pipeline("partners").engine.links
    echo = cycle(daemon)
    assert echo.counts["records_written"] == 0, echo.plan


def test_a_failed_release_of_the_old_id_is_tried_again(
        runner: tuple[PipelineRunner, Store], sandbox: SandboxServer, sf: Salesforce,
        hs: HubSpot) -> None:
    daemon, store = runner
    cycle(daemon)
    relink = relink_candidate(store)
    old = relink.old
    for rival in relink.rivals:
        hs.crm.deals.basic_api.archive(rival)
    store.resolve_review("partners", relink.item["key"], action="link", crm_id=relink.target,
                         registration=old.prm_id, by="test", now=datetime.now(UTC))
    # Salesforce refuses the first record write of the cycle: the old opportunity's blank.
    sandbox.sandbox.faults.set_rules([{"api": "salesforce", "method": "PATCH",
                                       "path": "composite/sobjects$", "count": 1,
                                       "status": 400}])
    try:
        failed = daemon.run_cycle()
    finally:
        sandbox.sandbox.faults.clear()
    assert sf.Opportunity.get(old.crm_id)[REGISTRATION_ID] == old.prm_id
    assert {f.record_id for f in failed.failures} >= {old.crm_id}

    # Once the failed writes' backoff has run out, the blank goes first and the id moves.
    later = datetime.now(UTC) + timedelta(hours=7)
    daemon.clock = lambda: later
    retried = cycle(daemon)
    assert sf.Opportunity.get(old.crm_id)[REGISTRATION_ID] is None
    assert sf.Opportunity.get(relink.target)[REGISTRATION_ID] == old.prm_id
    assert not [i for i in store.reviews("partners") if i["kind"] == "link_conflict"]
    assert not retried.failures
    echo = cycle(daemon)
    assert echo.counts["records_written"] == 0, echo.plan
