"""/health: a pipeline's cycles, its failure with the reason and what to do, its record
errors by type with the records named and linked, the API budget; "sync now" served by a
real daemon through its lock and lease, and waiting visibly when no daemon runs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import requests
from hubspot import HubSpot

from handoff_sync.console.context import ConsoleContext
from handoff_sync.daemon.scheduler import REPLICA_LEASE, Daemon
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.sync.cycle import PipelineRunner
from tests.console.support import NOW, VIEWER, client_for, console_world, csrf_of
from tests.e2e.sync_support import daemon_for

PIPELINE = "partners"
LATER = NOW + timedelta(hours=1)  # a cycle after the world's (the failing streak counts it)
BAD_TOKEN = "pat-na1-00000000-0000-0000-0000-000000000000"


@pytest.fixture
def world(sandbox: SandboxServer, tmp_path: Path) -> Any:
    with console_world(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/state.db",
                       deals=12) as world:
        yield world


def wall_now() -> datetime:
    """The wall clock, which the daemon's lease and presence calls use."""
    return datetime.now(UTC)


def cycle_at(world: dict[str, Any], when: Any) -> Any:
    """One cycle of a new runner (it reads the secrets afresh) at ``when``."""
    config = world["config"]
    runner = PipelineRunner(config, config.pipelines[0], world["store"], holder="test",
                            clock=lambda: when)
    try:
        return runner.run_cycle()
    finally:
        runner.close()


def text_of(html: str) -> str:
    """The page as a person reads it: tags gone, entities read, whitespace collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_a_healthy_pipeline_shows_its_cycles_and_budget(world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    assert client.get("/", follow_redirects=False).headers["location"] == "/health"
    page = client.get("/health")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "partners" in text and "last successful cycle: just now" in text
    assert 'class="badge ok">ok<' in page.text and "failing" not in text
    assert "full ok" in text  # the world's one cycle, in the cycles table
    assert re.search(r"salesforce \d+ [\d]+ of 1000000 \(0%\) \d+ 200000 a day \(20%\)", text), text
    assert "No record errors." in text and "None: every mapped field" in text
    nav = re.findall(r'<nav>(.*?)</nav>', page.text, flags=re.S)[0]
    assert nav.index("Health") < nav.index("Audit")


def test_a_failing_pipeline_shows_its_reason_and_what_to_do(
        world: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "secrets" / "hubspot-access-token").write_text(BAD_TOKEN, encoding="utf-8")
    assert cycle_at(world, LATER).outcome.value == "failed"
    page = client_for(world["context"], VIEWER).get("/health")
    text = text_of(page.text)
    assert 'class="badge bad">failing<' in page.text
    assert "1 failed cycle in a row — reason: auth" in text
    assert ("What to do: credentials refused: check the connection's token or key."
            in text)
    # The message names the connection and the key to check, at its line, without the
    # exception's name; the cycle's row says no record was handled rather than "0 errors".
    assert "hubspot connection 'prm'" in text and "check connections.prm.access_token" in text
    assert "AuthError:" not in text.split("Last cycles")[0]
    assert re.search(r"incremental failed \S+ \S+ [\d.]+ 0 0 0/0/0 — \d+ auth: hubspot", text)
    assert "last successful cycle: just now (2026-03-02 15:00:00 UTC)" in text  # NOW's


def test_record_errors_are_grouped_by_type_with_the_deals_named_and_linked(
        world: dict[str, Any], sandbox: SandboxServer, hs: HubSpot) -> None:
    store = world["store"]
    links = sorted(store.load_pipeline(PIPELINE).engine.links.values(),
                   key=lambda link: link.prm_id)[:3]
    answer = requests.post(f"{sandbox.base_url}/__sandbox__/validation-rules", json={
        "salesforce": [{"object": "Opportunity", "field": "Amount", "value": 13,
                        "message": "Amount 13 is <b>reserved</b>"}]},
        verify=str(sandbox.ca_file), timeout=10)
    assert answer.status_code == 200, answer.text
    for link in links:
        hs.crm.deals.basic_api.update(link.prm_id, {"properties": {"amount": "13"}})
    assert cycle_at(world, LATER).outcome.value in ("ok", "partial")

    page = client_for(world["context"]).get("/health")
    text = text_of(page.text)
    assert "3 FIELD_CUSTOM_VALIDATION_EXCEPTION on salesforce Opportunity" in text
    names = {deal.prm_id: hs.crm.deals.basic_api.get_by_id(
        deal.prm_id, properties=["dealname"]).properties["dealname"] for deal in links}
    base = sandbox.base_url
    for link in links:
        url = f"{base}/lightning/r/Opportunity/{link.crm_id}/view"
        assert f'<a href="{url}" target="_blank" rel="noopener noreferrer">{link.crm_id}</a>' \
            in page.text
        assert names[link.prm_id].replace("&", "&amp;") in page.text
    # The CRM's text is text, never markup.
    assert "Amount 13 is &lt;b&gt;reserved&lt;/b&gt;" in page.text


def test_a_hubspot_record_error_links_to_the_portal_the_cycle_learned(
        world: dict[str, Any], sandbox: SandboxServer, hs: HubSpot) -> None:
    # The store learned the portal from the cycle's usage (the account details the
    # connector reads to key its budget), not from a setting: none holds it.
    portal = str(sandbox.sandbox.credentials.hs_portal_id)
    assert world["store"].learned_orgs(PIPELINE)["hubspot"] == {
        "portal_id": portal, "ui_domain": "app.hubspot.com"}
    link = sorted(world["store"].load_pipeline(PIPELINE).engine.links.values(),
                  key=lambda link: link.prm_id)[0]
    # Someone edits the verdict the daemon writes on the registration; the correction
    # is refused (each batch update answers 400), so it becomes that record's error.
    gate = hs.crm.deals.basic_api.get_by_id(link.prm_id, properties=[
        "handoff_gate_status", "dealname"]).properties
    wrong = "passed" if gate["handoff_gate_status"] != "passed" else "blocked"
    hs.crm.deals.basic_api.update(link.prm_id, {"properties": {"handoff_gate_status": wrong}})
    answer = requests.post(f"{sandbox.base_url}/__sandbox__/faults", json={"rules": [
        {"api": "hubspot", "method": "POST", "path": "/objects/deals/batch/update",
         "count": 20, "effect": 400}]}, verify=str(sandbox.ca_file), timeout=10)
    assert answer.status_code == 200, answer.text
    assert cycle_at(world, LATER).outcome.value in ("ok", "partial")

    page = client_for(world["context"]).get("/health")
    assert "on hubspot deals" in text_of(page.text), text_of(page.text)
    url = f"https://app.hubspot.com/contacts/{portal}/record/0-3/{link.prm_id}"
    assert f'<a href="{url}" target="_blank" rel="noopener noreferrer">{link.prm_id}</a>' \
        in page.text
    assert gate["dealname"].replace("&", "&amp;") in page.text


def test_sync_now_waits_without_a_daemon_then_a_daemon_runs_it(
        world: dict[str, Any]) -> None:
    context, store = world["context"], world["store"]
    viewer = client_for(context, VIEWER)
    assert "the viewer role cannot start a sync" in viewer.get("/health").text
    refused = viewer.post(f"/health/{PIPELINE}/sync",
                          data={"csrf_token": csrf_of(viewer, "/health")})
    assert refused.status_code == 403 and store.latest_sync_requests(PIPELINE) == []

    admin = client_for(context)
    answer = admin.post(f"/health/{PIPELINE}/sync", headers={"HX-Request": "true"},
                        data={"csrf_token": csrf_of(admin, "/health")})
    assert answer.status_code == 200
    assert 'data-status="pending"' in answer.text and 'hx-trigger="every 2s"' in answer.text
    assert "No daemon is running against this database: the request waits" in \
        text_of(answer.text)
    again = admin.post(f"/health/{PIPELINE}/sync", headers={"HX-Request": "true"},
                       data={"csrf_token": csrf_of(admin, "/health")})
    assert again.text.count("data-status=") == 1  # one pending request serves both asks
    unknown = admin.post("/health/nope/sync", data={"csrf_token": csrf_of(admin, "/health")})
    assert unknown.status_code == 400 and "no pipeline 'nope'" in text_of(unknown.text)

    daemon = daemon_for(world["config"])
    try:
        [report] = daemon.serve_requests()  # what the daemon's requests job does
    finally:
        daemon.shutdown()
    assert report is not None and report.outcome.value == "ok"
    [request] = store.latest_sync_requests(PIPELINE)
    assert (request["status"], request["outcome"], request["run_id"]) == (
        "done", "ok", report.run_id)
    assert request["requested_by"] == "ada" and request["claimed_by"] == "e2e"
    fragment = admin.get(f"/health/{PIPELINE}/requests")
    assert 'data-status="done"' in fragment.text and "hx-trigger" not in fragment.text
    assert f"run {report.run_id[:8]}" in fragment.text


def test_only_the_replica_that_can_take_the_lease_runs_a_request(
        world: dict[str, Any]) -> None:
    store = world["store"]
    request_id = store.ask_sync(PIPELINE, by="ada", now=NOW)
    store.try_lease(f"pipeline:{PIPELINE}", "other:1:x", timedelta(minutes=10),
                    wall_now())
    daemon = daemon_for(world["config"])
    try:
        assert daemon.serve_requests() == [None]  # the lease is another replica's
        assert store.sync_request(request_id)["status"] == "pending"  # type: ignore[index]
        # It says it is alive, so the page no longer says the request waits for a daemon.
        assert store.live_replicas(wall_now()) == ["e2e"]
        assert "waits until one starts" not in client_for(world["context"]).get(
            f"/health/{PIPELINE}/requests").text
        store.release_lease(f"pipeline:{PIPELINE}", "other:1:x")
        [report] = daemon.serve_requests()
        assert report is not None
    finally:
        daemon.shutdown()
    done = store.sync_request(request_id)
    assert done is not None and done["status"] == "done" and done["run_id"] == report.run_id
    assert store.live_replicas(wall_now()) == []  # released on shutdown


def test_a_request_the_cycle_fails_records_the_reason(world: dict[str, Any],
                                                      tmp_path: Path) -> None:
    (tmp_path / "secrets" / "hubspot-access-token").write_text(BAD_TOKEN, encoding="utf-8")
    request_id = world["store"].ask_sync(PIPELINE, full=True, by="ada", now=NOW)
    daemon: Daemon = daemon_for(world["config"])
    try:
        [report] = daemon.serve_requests()
    finally:
        daemon.shutdown()
    assert report is not None and report.kind.value == "full"
    done = world["store"].sync_request(request_id)
    assert done is not None and (done["status"], done["outcome"]) == ("done", "failed")
    assert "hubspot connection 'prm'" in done["message"]
    fragment = client_for(world["context"]).get(f"/health/{PIPELINE}/requests").text
    assert "auth: hubspot connection &#39;prm&#39;" in fragment and "full reconcile" in fragment


def test_a_request_whose_replica_stopped_does_not_block_sync_now(
        world: dict[str, Any]) -> None:
    store, admin = world["store"], client_for(world["context"])
    asked = store.ask_sync(PIPELINE, by="ada", now=NOW)
    store.mark_replica("a:1:x", REPLICA_LEASE, wall_now())
    store.claim_sync_requests(PIPELINE, holder="a:1:x", token="t", now=wall_now())
    running = admin.get(f"/health/{PIPELINE}/requests").text
    assert 'disabled title="a request is already waiting or running"' in running
    store.release_replica("a:1:x")  # the replica died (its presence lease is gone)
    orphaned = admin.get(f"/health/{PIPELINE}/requests").text
    assert "that replica stopped; the next daemon poll closes this request" in \
        text_of(orphaned)
    assert "already waiting or running" not in orphaned and "hx-trigger" not in orphaned
    daemon = daemon_for(world["config"])
    try:
        assert daemon.serve_requests() == []  # nothing pending: it only closes the dead one
        closed = store.sync_request(asked)
        assert closed is not None and (closed["status"], closed["outcome"]) == (
            "done", "interrupted")
        assert "the replica running it stopped before recording the outcome" in text_of(
            admin.get(f"/health/{PIPELINE}/requests").text)
        again = admin.post(f"/health/{PIPELINE}/sync", headers={"HX-Request": "true"},
                           data={"csrf_token": csrf_of(admin, "/health")})
        assert 'data-status="pending"' in again.text
        [report] = daemon.serve_requests()
    finally:
        daemon.shutdown()
    assert report is not None and report.outcome.value == "ok"


def test_a_disabled_pipeline_cannot_be_synced_now(world: dict[str, Any]) -> None:
    config = world["config"]
    disabled = config.model_copy(update={"pipelines": [
        p.model_copy(update={"enabled": False}) for p in config.pipelines]})
    admin = client_for(ConsoleContext(disabled, world["store"], clock=lambda: NOW))
    page = admin.get("/health")
    assert 'disabled title="the pipeline is disabled: enable the pipeline first"' in page.text
    assert "Enable the pipeline first" in text_of(page.text)
    refused = admin.post(f"/health/{PIPELINE}/sync",
                         data={"csrf_token": csrf_of(admin, "/health")})
    assert refused.status_code == 400
    assert f"pipeline '{PIPELINE}' is disabled, so no daemon runs it; enable the pipeline " \
        "first" in text_of(refused.text)
    assert world["store"].latest_sync_requests(PIPELINE) == []
