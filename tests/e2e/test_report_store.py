"""The report read from a real store: two sync cycles against the seeded sandbox, and the
figures checked against what we compute independently from ``store.load_pipeline()``."""

from __future__ import annotations

import csv
import json
import statistics
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from handoff_sync.config.load import load_config
from handoff_sync.report import SECTIONS, build_report, write_report
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store import Store
from handoff_sync.store.types import RunOutcome
from handoff_sync.sync.cycle import PipelineRunner
from handoff_sync.testing.clock import FakeClock
from tests.e2e.sync_support import configured_sandbox
from tests.unit.test_report_render import run_command

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def synced(sandbox: SandboxServer, tmp_path: Path,
           store_url: str) -> Iterator[dict[str, Any]]:
    config_file = configured_sandbox(sandbox, tmp_path, database_url=store_url, deals=40)
    config = load_config(config_file)
    store = Store.connect(config.database.url)
    store.migrate()
    clock = FakeClock(NOW)
    runner = PipelineRunner(config, config.pipelines[0], store, holder="test", clock=clock)
    try:
        for step in range(2):
            if step:  # the second cycle, 8 days on, breaches SLAs
                clock.advance(timedelta(days=8).total_seconds())
            report = runner.run_cycle(full=True if step else None)
            assert report.outcome in (RunOutcome.OK, RunOutcome.PARTIAL), report.message
        yield {"config": config, "store": store, "file": config_file}
    finally:
        runner.close()
        store.close()


def test_figures_match_the_store(synced: dict[str, Any]) -> None:
    store, config = synced["store"], synced["config"]
    now = NOW + timedelta(days=9)
    report = build_report(store, config, now=now)
    state = store.load_pipeline(config.pipelines[0].name).engine
    verdicts = list(state.verdicts.values())
    linked = [v for v in verdicts if v.prm_id in state.links]
    assert report.volume.total.value == len(verdicts)
    assert report.volume.partner.value == len(linked)
    assert report.volume.direct.value == sum(1 for v in verdicts if v.prm_id is None)
    required = [v.completeness_pct for v in verdicts if v.required]
    assert report.completeness.handoffs.value == len(required)
    assert report.completeness.mean.value == pytest.approx(statistics.fmean(required),
                                                           abs=0.05)
    # Within SLA counts the clocks whose outcome is known: met, or breached (stopped or
    # still running, or running past its due time at the report's ``now``, a day after the
    # last cycle); the ones still running in time are shown apart. The seeded deals are
    # dated by the sandbox's (real) clock, so which clocks fall due in that day varies.
    clocks = list(state.clocks.values())
    met = sum(1 for c in clocks if c.status.value == "met")
    running = [c for c in clocks if c.stopped_at is None
               and c.status.value in ("on_track", "at_risk")]
    breached = (sum(1 for c in clocks if c.status.value == "breached")
                + sum(1 for c in running if c.due_at <= now))
    running = [c for c in running if c.due_at > now]
    s = report.sla
    assert (s.met.value, s.breached.value, s.within_sla.n) == (met, breached, met + breached)
    assert s.on_track.value + s.at_risk.value + s.past_due.value >= len(running)
    assert s.within_sla.value == pytest.approx(100 * met / (met + breached), abs=0.05)
    assert breached > 0  # the second cycle, eight days on, breached first-touch clocks
    bases = [state.bases[f"prm:{v.prm_id}"].agreed for v in linked]
    closed = [b for b in bases if b.get("is_closed") is True]
    assert report.preservation.preservation.n == len(closed)
    if closed:
        won = sum(1 for b in closed if b.get("is_won"))
        assert report.preservation.preservation.value == round(100 * won / len(closed), 1)
    assert report.reviews.open.value == len(store.reviews(config.pipelines[0].name,
                                                          status="open"))
    partners = {b.get("partner_account") for b in bases} - {None}
    assert partners <= {s.partner for s in report.scorecard.partners}
    assert report.scorecard.trend  # gate history replayed into a line


def test_write_report_in_every_format(synced: dict[str, Any], tmp_path: Path) -> None:
    for fmt in ("table", "csv", "json", "html"):
        out = write_report(synced["store"], synced["config"], tmp_path / f"r.{fmt}", fmt=fmt,
                           now=NOW + timedelta(days=9))
        assert out.stat().st_size > 500
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert [s["id"] for s in data["sections"]] == list(SECTIONS)


def test_command_writes_html_and_prints_the_table(synced: dict[str, Any], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.html"
    assert run_command(["report", "--config", str(synced["file"]), "--format", "html",
                        "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").count("<section id=") == len(SECTIONS)
    assert run_command(["report", "--config", str(synced["file"]), "--by", "region",
                        "--since", "2026-11-01"]) == 0
    out = capsys.readouterr().out
    assert "Handoff volume (volume)" in out and "by region (" in out
    quarter = tmp_path / "quarter.json"
    assert run_command(["report", "--config", str(synced["file"]), "--since", "2026-10-01",
                        "--until", "2026-11-30", "--format", "json", "--out",
                        str(quarter)]) == 0
    capsys.readouterr()
    data = json.loads(quarter.read_text(encoding="utf-8"))
    assert (data["since"], data["until"]) == ("2026-10-01T00:00:00+00:00",
                                              "2026-12-01T00:00:00+00:00")
    assert any(note.startswith("Period: deals open at its end") for note in data["notes"])
    assert run_command(["report", "--config", str(synced["file"]), "--pipeline",
                        "nope"]) == 1
    assert "no pipeline named 'nope'" in capsys.readouterr().err


def test_empty_store_says_to_sync_first(sandbox: SandboxServer, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    database = f"sqlite:///{tmp_path / 'hs.db'}"
    config = configured_sandbox(sandbox, tmp_path, database_url=database, deals=5)
    with Store.connect(database) as store:
        store.migrate()
    assert run_command(["report", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "no cycle has run yet: run `handoff-sync sync` first" in err
    assert "Traceback" not in err


def test_report_by_segment_in_every_format(synced: dict[str, Any], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The sandbox seeds custom.segment on both sides; the packs map it; `report --by
    segment` breaks the key figures down by it, defined and with n, in every format."""
    config = str(synced["file"])
    assert run_command(["report", "--config", config, "--by", "segment"]) == 0
    table = capsys.readouterr().out
    assert "by segment (" in table
    segments = {"Enterprise", "Mid-Market", "SMB"}
    data_file, csv_file, page = tmp_path / "r.json", tmp_path / "r.csv", tmp_path / "r.html"
    for fmt, out in (("json", data_file), ("csv", csv_file), ("html", page)):
        assert run_command(["report", "--config", config, "--by", "segment", "--format",
                            fmt, "--out", str(out)]) == 0
    data = json.loads(data_file.read_text(encoding="utf-8"))
    rows = data["breakdown"]["rows"]
    groups = {row["group"] for row in rows}
    assert groups & segments == segments  # every band occurs in the seed
    assert sum(row["deals"] for row in rows) == data["volume"]["total"]["value"]
    assert {c["id"] for c in data["breakdown"]["columns"]} >= {"within_sla", "rejection"}
    for row in rows:
        rate = row["within_sla"]
        assert rate["value"] is None or 0 <= rate["low_pct"] <= rate["value"] <= rate[
            "high_pct"] <= 100
    for segment in segments:
        assert segment in table and segment in page.read_text(encoding="utf-8")
    cells = list(csv.reader(csv_file.open(encoding="utf-8")))
    assert any(r[0] == "breakdown" and r[1] == "Enterprise" and r[2] == "rows.handoffs"
               for r in cells)
    definition = next(r[3] for r in cells
                      if r[:3] == ["breakdown", "within_sla", "columns.definition"])
    assert definition.startswith("SLA clocks met / clocks with a known outcome")
    assert "nan" not in data_file.read_text(encoding="utf-8").lower().split('"')
