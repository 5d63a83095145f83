"""The leakage funnel of `handoff-sync demo`'s store, read back through `report`: the
shipped partner chain has deals at (nearly) every step, and its counts agree with what
the sandbox seeded and what the store holds. The reversed pack (Salesforce PRM, HubSpot
CRM) maps the dates its steps need too."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from handoff_sync.cli.main import main
from handoff_sync.report import build_report
from handoff_sync.sandbox.seed.generator import generate_with_truth
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store import Store, sqlite_url_for
from tests.e2e.create_support import REVERSED_PACK
from tests.e2e.sync_support import clean_cycle, sync_world

DEALS = 120
NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("funnel") / "demo"
    assert main(["demo", "--dir", str(folder), "--deals", str(DEALS), "--cycles", "1"]) == 0
    return folder


def test_the_demo_funnel_shows_where_deals_die(
        demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["report", "--config", str(demo / "handoff-sync.yaml"), "--format",
                 "json"]) == 0
    section = json.loads(capsys.readouterr().out)["funnel"]
    [chain] = section["funnels"]
    steps = {s["step"]: s for s in chain["steps"]}
    reached = [s["reached"] for s in chain["steps"]]

    # What the sandbox seeded (the demo's seed: 12 partners, random seed 42).
    _, truth = generate_with_truth(deals=DEALS, partners=12, random_seed=42,
                                   now=datetime.now(UTC))
    status = Counter(s.registration_status for s in truth.scenarios)
    dead = [s for s in truth.scenarios if s.registration_status in ("Rejected", "Expired")]
    assert chain["entered"] == steps["registered"]["reached"] == DEALS
    assert steps["approved"]["reached"] == status["Approved"] + status["Converted"]
    # Rejected and expired registrations die at the first step, with their amounts.
    assert steps["registered"]["lost"] == len(dead) > 0
    assert steps["registered"]["lost_amount"] == pytest.approx(sum(s.amount for s in dead))

    # What the store holds: linked deals have an opportunity; won ones are won.
    with Store.connect(sqlite_url_for(demo / "handoff-sync.db")) as store:
        state = store.load_pipeline("partners").engine
    agreed = [state.bases[f"prm:{link.prm_id}"].agreed for link in state.links.values()
              if f"prm:{link.prm_id}" in state.bases]
    assert steps["opportunity_created"]["reached"] == len(agreed)
    assert steps["closed_won"]["reached"] == sum(1 for a in agreed if a.get("is_won"))

    # Plausible: the chain narrows, deals stand at most steps, some die after approval,
    # and the steps' own dates give the time between them.
    assert reached == sorted(reached, reverse=True)
    assert sum(1 for n in reached if n > 0) >= 6
    assert 0 < steps["closed_won"]["from_start_pct"] < 50
    assert sum(s["lost"] for s in chain["steps"][1:]) > 0
    for step in ("approved", "opportunity_created", "intro_held"):
        assert steps[step]["timed"] > 0 and steps[step]["median_days"] >= 0
    assert chain["weakest_step"] in steps and chain["biggest_loss"] in steps
    assert {b["dimension"] for b in chain["by"]} == {"partner", "segment", "region", "owner",
                                                     "handoff_type"}
    partners = next(b for b in chain["by"] if b["dimension"] == "partner")["groups"]
    assert sum(g["entered"] for g in partners) == DEALS
    assert len(chain["weekly"]) >= 4 and sum(g["entered"] for g in chain["weekly"]) == DEALS


def test_the_demo_report_draws_the_funnel(demo: Path) -> None:
    html = (demo / "handoff-report.html").read_text(encoding="utf-8")
    section = html.split('<section id="funnel"', 1)[1].split("</section>", 1)[0]
    assert "<svg" in section and "Partner deal chain" in section
    assert "counts at every earlier one" in section  # the definitions print with it


def test_the_reversed_pack_dates_its_steps(sandbox: SandboxServer, tmp_path: Path,
                                           store_url: str) -> None:
    """Salesforce registrations (CreatedDate as custom.registered_at) and HubSpot deals
    (createdate as custom.created_at): the chain counts, times and cohorts them."""
    with sync_world(sandbox, tmp_path, database_url=store_url, now=NOW, deals=60,
                    pack=REVERSED_PACK) as world:
        clean_cycle(world)
        report = build_report(world["store"], world["config"], now=NOW)
    [chain] = report.funnel.funnels
    steps = {s.step: s for s in chain.steps}
    _, truth = generate_with_truth(deals=60, partners=4, random_seed=3, now=NOW)
    status = Counter(s.registration_status for s in truth.scenarios)
    assert steps["registered"].reached == chain.entered == 60
    assert steps["approved"].reached == status["Approved"] + status["Converted"]
    assert steps["registered"].lost == status["Rejected"] + status["Expired"]
    assert steps["opportunity_created"].reached > 0
    for step in ("approved", "opportunity_created"):  # dates on both sides of each gap
        assert steps[step].timed == steps[step].reached
    assert sum(week.entered for week in chain.weekly) == 60
    assert all(week.group != "(no date)" for week in chain.weekly)
