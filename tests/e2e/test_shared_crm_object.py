"""Issue 14 (11): two pipelines on one CRM object created duplicate tasks, no warning.

The config check compares connection settings, so two connections to one org spelt
differently pass it. Each cycle therefore claims its CRM object under the org its login
names (the instance URL), in the store: the later pipeline's cycle fails as a config
failure before writing anything, across restarts, unless the scopes are disjoint.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from simple_salesforce import Salesforce

from handoff_sync.config.load import load_config
from handoff_sync.config.settings import Config
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store import Store
from handoff_sync.store.types import RunOutcome
from handoff_sync.sync.cycle import CycleReport, PipelineRunner
from handoff_sync.sync.failures import classify_message
from tests.e2e.sync_support import configured_sandbox, handoff_tasks

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


def second_pipeline(config: Path, base_url: str, *, scopes: tuple[str, str] | None = None
                    ) -> None:
    """Add connection 'crm_mydomain' (the same org and user, logging in through another
    host name) and pipeline 'resellers' on it, with its own copy of the mappings."""
    text = config.read_text(encoding="utf-8")
    port = urlsplit(base_url).port
    crm = text[text.index("  crm:\n"):text.index("\n\n", text.index("  crm:\n"))]
    other = crm.replace("  crm:\n", "  crm_mydomain:\n").replace(
        f'login_url: "{base_url}"',
        f"login_url: https://localhost:{port}\n    jwt_audience: {base_url}")
    assert other != crm.replace("  crm:\n", "  crm_mydomain:\n")
    text = text.replace(crm, f"{crm}\n\n{other}")
    mappings = Path(text.split("mappings: ")[1].split("\n")[0].strip('"'))
    copy = config.parent / "mappings-resellers"
    shutil.copytree(mappings, copy)
    text += (f"  - name: resellers\n    prm: prm\n    crm: crm_mydomain\n"
             f"    mappings: {copy}\n")
    if scopes is not None:
        for folder, value in ((mappings, scopes[0]), (copy, scopes[1])):
            file = folder / "salesforce.yaml"
            yaml = file.read_text()
            file.write_text(yaml.replace("modified_field: SystemModstamp\n",
                                         f"modified_field: SystemModstamp\nscope: "
                                         f"{{Type: '{value}'}}\n", 1))
    config.write_text(text, encoding="utf-8")


@pytest.fixture
def world(sandbox: SandboxServer, tmp_path: Path, store_url: str,
          request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    repo_mappings = Path(__file__).resolve().parents[2] / "mappings"
    mappings = tmp_path / "mappings"
    shutil.copytree(repo_mappings, mappings, ignore=shutil.ignore_patterns("packs"))
    config_file = configured_sandbox(sandbox, tmp_path, database_url=store_url, deals=12)
    text = config_file.read_text()
    start = text.index("mappings: ", text.index("pipelines:"))
    end = text.index("\n", start)
    config_file.write_text(text[:start] + f"mappings: {mappings}" + text[end:])
    second_pipeline(config_file, sandbox.base_url, scopes=getattr(request, "param", None))
    config = load_config(config_file)  # the config check passes: the hosts differ
    store = Store.connect(config.database.url)
    store.migrate()
    yield {"config": config, "store": store, "url": config.database.url,
           "org": f"salesforce {sandbox.base_url}"}
    store.close()


def run(config: Config, store: Store, index: int, at: datetime) -> CycleReport:
    runner = PipelineRunner(config, config.pipelines[index], store, holder="test",
                            clock=lambda: at)
    try:
        return runner.run_cycle()
    finally:
        runner.close()


def duplicates(sf: Salesforce) -> int:
    pairs = [(t["WhatId"], t["Subject"]) for t in handoff_tasks(sf)]
    return len(pairs) - len(set(pairs))


def test_the_second_pipeline_on_one_org_is_refused_and_stays_refused(
        world: dict[str, Any], sf: Salesforce) -> None:
    config, store = world["config"], world["store"]
    first = run(config, store, 0, NOW)
    assert first.outcome in (RunOutcome.OK, RunOutcome.PARTIAL), first.message
    tasks = len(handoff_tasks(sf))
    assert tasks > 0

    refused = run(config, store, 1, NOW + timedelta(minutes=1))
    assert refused.outcome is RunOutcome.FAILED
    message = refused.message or ""
    assert message.startswith("CycleFailed: pipelines 'partners' and 'resellers' both write "
                              f"outputs and tasks to Opportunity of the org {world['org']} ")
    assert "connections 'crm' and 'crm_mydomain'" in message
    assert "make their scopes disjoint" in message and "enabled: false" in message
    assert "remove `outputs:` and `tasks:`" in message
    assert classify_message(message) == "config"  # /readyz and status show the class
    assert len(handoff_tasks(sf)) == tasks and duplicates(sf) == 0
    assert refused.counts == {}

    # A restart (a new store connection, new runners): the claim is in the store; the
    # refused pipeline runs first this time and is still refused; the first still runs.
    store.close()
    with Store.connect(world["url"]) as again:
        later = NOW + timedelta(hours=2)
        assert run(config, again, 1, later).outcome is RunOutcome.FAILED
        assert run(config, again, 0, later).outcome in (RunOutcome.OK, RunOutcome.PARTIAL)
        assert duplicates(sf) == 0
    world["store"] = Store.connect(world["url"])


def test_a_pipeline_disabled_or_no_longer_listed_blocks_nobody(
        world: dict[str, Any]) -> None:
    config, store = world["config"], world["store"]
    assert run(config, store, 0, NOW).outcome in (RunOutcome.OK, RunOutcome.PARTIAL)
    assert run(config, store, 1, NOW + timedelta(minutes=1)).outcome is RunOutcome.FAILED
    disabled = config.model_copy(update={"pipelines": [
        config.pipelines[0].model_copy(update={"enabled": False}), config.pipelines[1]]})
    removed = config.model_copy(update={"pipelines": [config.pipelines[1]]})
    for minute, edited in ((2, disabled), (3, removed)):
        report = run(edited, store, len(edited.pipelines) - 1,
                     NOW + timedelta(minutes=minute))
        assert report.outcome in (RunOutcome.OK, RunOutcome.PARTIAL), report.message


@pytest.mark.parametrize("world", [("New Business", "Existing Business")], indirect=True)
def test_disjoint_scopes_both_run(world: dict[str, Any], sf: Salesforce) -> None:
    config, store = world["config"], world["store"]
    for index, minute in ((0, 0), (1, 1), (0, 2)):
        report = run(config, store, index, NOW + timedelta(minutes=minute))
        assert report.outcome in (RunOutcome.OK, RunOutcome.PARTIAL), report.message
    assert duplicates(sf) == 0
