"""End-to-end support: a seeded sandbox and a working config for it, as `init` writes it."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

from handoff_sync.config.load import load_config
from handoff_sync.config.settings import Config
from handoff_sync.daemon.scheduler import Daemon
from handoff_sync.demo.sandbox_config import write_sandbox_config
from handoff_sync.engine.types import EngineState, TaskState, Verdict
from handoff_sync.mapping.loader import load_mappings
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.mapping.policy.gates import evaluate_gate
from handoff_sync.model import Deal, Role, TaskStatus
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store import Store
from handoff_sync.sync.cycle import PipelineRunner


def configured_sandbox(server: SandboxServer, folder: Path, *, database_url: str,
                       deals: int = 40, partners: int = 4, random_seed: int = 3,
                       interval_seconds: int | None = None, pack: str | None = None,
                       mappings: Path | None = None) -> Path:
    """Seed the sandbox and write `handoff-sync init --sandbox`'s config for it (for
    ``pack``, default the default pack; or for the pack folder ``mappings``)."""
    server.sandbox.seed(deals=deals, partners=partners, random_seed=random_seed)
    config = folder / "handoff-sync.yaml"
    write_sandbox_config(server.base_url, config, database=database_url, pack=pack,
                         mappings=mappings)
    if interval_seconds is not None:
        text = config.read_text(encoding="utf-8")
        lines = [f"  interval_seconds: {interval_seconds}" if line.strip().startswith(
            "interval_seconds:") else line for line in text.splitlines()]
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


REPO = Path(__file__).resolve().parents[2]


@contextmanager
def sync_world(server: SandboxServer, folder: Path, *, database_url: str, now: datetime,
               deals: int = 40, pack: str | None = None,
               mappings: Path | None = None) -> Iterator[dict[str, Any]]:
    """A seeded sandbox, a migrated store and a PipelineRunner whose clock stands at
    ``now``: config, store, runner and mappings, closed afterwards."""
    config = load_config(configured_sandbox(server, folder, database_url=database_url,
                                            deals=deals, pack=pack, mappings=mappings))
    store = Store.connect(config.database.url)
    store.migrate()
    runner = PipelineRunner(config, config.pipelines[0], store, holder="test",
                            clock=lambda: now)
    try:
        yield {"config": config, "store": store, "runner": runner,
               "mappings": load_mappings(config.pipelines[0].mappings)}
    finally:
        runner.close()
        store.close()


@contextmanager
def running_daemon(config: Path, log_file: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A `handoff-sync run` process logging JSON lines to ``log_file``, killed on the way
    out if it is still alive."""
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "handoff_sync.cli", "--log-format", "json", "run",
             "--config", str(config)],
            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=log, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


def handoff_tasks(sf: Any) -> list[dict[str, Any]]:
    """Every handoff task in Salesforce (the ones carrying a task key)."""
    return sf.query_all("SELECT Id, Handoff_Task_Key__c, Status, OwnerId, WhatId, Subject "
                        "FROM Task WHERE Handoff_Task_Key__c != null")["records"]


def hubspot_handoff_tasks(hs: Any) -> list[dict[str, Any]]:
    """Every handoff task in HubSpot (the ones carrying a task key): key, status, owner."""
    tasks = hs.crm.objects.get_all("tasks", properties=["handoff_task_key", "hs_task_status",
                                                        "hubspot_owner_id"])
    return [{"key": t.properties["handoff_task_key"], "status": t.properties["hs_task_status"],
             "owner": t.properties.get("hubspot_owner_id")}
            for t in tasks if t.properties.get("handoff_task_key")]


def hubspot_task_status(hs: Any, task_key: str) -> str:
    """A HubSpot task's hs_task_status, found by its handoff task key (vendor client)."""
    task = hs.crm.objects.basic_api.get_by_id("tasks", task_key, id_property="handoff_task_key",
                                              properties=["hs_task_status"])
    return str(task.properties["hs_task_status"])


def sample_value(rule: Any) -> Any:
    """A plausible Salesforce value for a mapped field, as an AE would type it."""
    if rule.values:
        return next(iter(rule.values))
    kind = "percent" if rule.name.endswith("_pct") else rule.type.value
    return {"currency": 50000, "number": 50000, "integer": 3, "percent": 20,
            "boolean": True, "date": "2026-12-20", "datetime": "2026-12-01T10:00:00.000+0000",
            "multi_select": "Acme;Globex"}.get(kind, "Filled by the AE")


def fillable_blocked_deal(state: EngineState, mappings: MappingSet,
                          exclude: Collection[str] = ()) -> tuple[Verdict, list[str]] | None:
    """A blocked deal whose every missing gate field the CRM side can fill, and those fields
    (not one blocked by an earlier stage's gate too: filling its own would not clear it)."""
    for key, base in sorted(state.bases.items()):
        verdict = state.verdicts.get(key)
        if (verdict is None or verdict.crm_id is None or verdict.status.value != "blocked"
                or verdict.crm_id in exclude or verdict.ahead_of_gate):
            continue
        gate = evaluate_gate(mappings.policy, Deal.from_values(base.agreed))
        fields = [m.field for m in gate.missing if m.field]
        if fields and len(fields) == len(gate.missing) and all(
                f in mappings.crm.fields and mappings.crm.fields[f].writes for f in fields):
            return verdict, fields
    return None


def owner_assigned_tasks(state: EngineState, sf: Any,
                         exclude: Collection[str] = ()) -> tuple[str, list[TaskState]] | None:
    """An opportunity with open tasks assigned to its owner, and those tasks."""
    users = {u["Id"]: u["Email"].lower() for u in sf.query_all(
        "SELECT Id, Email FROM User WHERE IsActive = true")["records"]}
    by_deal: dict[str, list[TaskState]] = {}
    for task in state.tasks.values():
        if task.spec.status is TaskStatus.OPEN and task.spec.side is Role.CRM \
                and task.spec.crm_id not in exclude:
            by_deal.setdefault(task.spec.crm_id, []).append(task)
    for crm_id, tasks in sorted(by_deal.items()):
        owner = users.get(sf.Opportunity.get(crm_id)["OwnerId"])
        mine = [t for t in tasks if t.spec.assignee_email == owner]
        if mine:
            return crm_id, mine
    return None


def other_active_user(sf: Any, user_id: str) -> str:
    users = sf.query_all("SELECT Id FROM User WHERE IsActive = true ORDER BY Id")["records"]
    return next(u["Id"] for u in users if u["Id"] != user_id)


def sandbox_schema(server: SandboxServer, method: str, body: Any = None) -> None:
    """Drift the sandbox's schema (POST an overlay), read it (GET) or restore it (DELETE)."""
    answer = requests.request(method, f"{server.base_url}/__sandbox__/schema", json=body,
                              verify=str(server.ca_file), timeout=30)
    assert answer.status_code == 200, answer.text


def held_in_portal(server: SandboxServer, deal_id: str, name: str, value: str) -> None:
    """A value the portal holds though its API refuses it today (an old import, a
    property whose type changed): the sync must cope with whatever it reads."""
    api = server.sandbox.hubspot
    with server.sandbox.lock:
        obj = api.store.table("deals").get(int(deal_id))
        assert obj is not None
        api.store.table("deals").modify(obj, {name: value}, api.now_ms(),
                                        api.store.unique_names("deals"))


def http_get(url: str) -> tuple[int, str]:
    """Status and body of a GET, error statuses included (/readyz answers 503)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def daemon_for(config: Config) -> Daemon:
    """The daemon `handoff-sync run` builds for ``config``, on its own store connection."""
    store = Store.connect(config.database.url)
    return Daemon(config, store, lambda pipeline: PipelineRunner(config, pipeline, store,
                                                                 holder="e2e"), holder="e2e")


def clean_cycle(world: dict[str, Any]) -> Any:
    """One cycle of ``sync_world``'s runner that must end ok with no record failure."""
    from handoff_sync.store.types import RunOutcome

    report = world["runner"].run_cycle()
    assert report.outcome is RunOutcome.OK, (report.message, report.failures)
    assert report.failures == ()
    return report


def invalid_value_items(world: dict[str, Any], status: str | None = "open"
                        ) -> dict[str, Any]:
    """The pipeline's invalid_value review items by key."""
    return {item["key"]: item for item in world["store"].reviews("partners", status=status)
            if item["kind"] == "invalid_value"}


def run_cli(capsys: Any, *argv: str) -> tuple[int, str, str]:
    """`handoff-sync ARGV` in this process, quiet logs: (exit code, stdout, stderr), and
    never a traceback (a person would have seen one)."""
    from handoff_sync.cli.main import main

    capsys.readouterr()
    code = main(["--log-level", "error", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err

