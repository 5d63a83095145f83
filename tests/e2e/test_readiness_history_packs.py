"""Training tasks on a history.* dimension, with both packs: the sync cycle opens one for
every partner the report shows under the threshold, whichever side holds the deals'
partner name (the reversed pack's Salesforce registrations hold only the partner
account's id; the name is on the HubSpot deal)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from handoff_sync.engine.readiness_tasks import training_key
from handoff_sync.model import TaskAnchor, TaskStatus
from handoff_sync.report.figures import compute
from handoff_sync.report.source import read_report_data
from handoff_sync.sandbox.server import SandboxServer
from tests.e2e.sync_support import REPO, sync_world

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
DIMENSION = "past_handoff_quality"


def pack_with_quality_threshold(pack: str | None, folder: Path, threshold: int) -> Path:
    source = REPO / "mappings" if pack is None else REPO / "mappings" / "packs" / pack
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("packs"))
    policy = folder / "handoff.yaml"
    text = policy.read_text(encoding="utf-8")
    assert text.count("source: history.completeness") == 1
    policy.write_text(text.replace(
        "source: history.completeness",
        f"source: history.completeness\n        threshold: {threshold}"), encoding="utf-8")
    return folder


@pytest.mark.parametrize("pack", [None, "salesforce-prm-hubspot-crm"],
                         ids=["default", "salesforce-prm"])
def test_history_dimensions_under_threshold_open_the_tasks_the_report_shows(
        sandbox: SandboxServer, tmp_path: Path, pack: str | None) -> None:
    mappings = pack_with_quality_threshold(pack, tmp_path / "mappings", 70)
    with sync_world(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path / 'store.db'}",
                    now=NOW, deals=200, mappings=mappings) as world:
        runner, store = world["runner"], world["store"]
        runner.run_cycle()
        runner.run_cycle()
        data = read_report_data(store, runner.name, world["mappings"])
        section = compute(data, now=NOW).readiness
        ids = {p.name: p.id for p in data.partners}
        quality = [b for b in section.breakdown if b.group.endswith(f" / {DIMENSION}")]
        under = {training_key(runner.name, ids[b.partner], DIMENSION)
                 for b in quality if b.status == "under threshold"}
        assert under, "the seed leaves a partner's past handoff quality under 70"
        opened = {key for key, task in store.load_pipeline(runner.name).engine.tasks.items()
                  if task.spec.anchor is TaskAnchor.PARTNER
                  and task.spec.kind == f"readiness:{DIMENSION}"
                  and task.spec.status is TaskStatus.OPEN}
        assert opened == under
