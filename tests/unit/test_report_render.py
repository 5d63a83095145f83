"""The renderers: every section present, CSV and JSON carry the same figures, the HTML is
self-contained, and the command's errors are one clear line."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from handoff_sync.cli.report import since_value
from handoff_sync.report import SECTIONS, render
from handoff_sync.report.figures import SECTION_TITLES, Report, compute
from tests.unit.test_report_figures import DATA, NOW


@pytest.fixture
def report() -> Report:
    return compute(DATA, now=NOW)


def test_json_has_every_section_and_the_figures(report: Report) -> None:
    data = json.loads(render(report, "json"))
    assert [s["id"] for s in data["sections"]] == list(SECTIONS)
    assert all(section in data for section in SECTIONS)
    assert data["sla"]["within_pct"] == 66.7
    assert data["preservation"]["cycle_impact_pct"] == 22.2
    assert data["scorecard"]["weights"] == {"completeness": 0.4, "sla": 0.3,
                                            "preservation": 0.3}
    assert data["scorecard"]["partners"][0]["partner"] == "A"


def test_json_writes_instants_with_their_offset_through_the_one_to_jsonable(
        report: Report) -> None:
    # One to_jsonable (engine.serialise) for the plan, the store and the report; the plan
    # writes instants in UTC with a Z, the report as it always has: with their offset.
    from datetime import UTC, datetime, timedelta, timezone

    from handoff_sync.engine.serialise import to_jsonable
    from handoff_sync.model import Role

    data = json.loads(render(report, "json"))
    assert data["generated_at"] == report.generated_at.isoformat()
    assert data["generated_at"].endswith("+00:00")
    paris = datetime(2026, 11, 18, 16, 30, tzinfo=timezone(timedelta(hours=1)))
    value = {"at": paris, "sides": {Role.CRM, Role.PRM}}
    assert to_jsonable(value) == {"at": "2026-11-18T15:30:00Z", "sides": ["crm", "prm"]}
    assert to_jsonable(value, instant=datetime.isoformat) == {
        "at": "2026-11-18T16:30:00+01:00", "sides": ["crm", "prm"]}
    with pytest.raises(TypeError, match="cannot put object in JSON"):
        to_jsonable({"at": datetime.now(UTC), "what": object()})


def test_csv_parses_and_carries_the_json_figures(report: Report) -> None:
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    data = json.loads(render(report, "json"))
    cells = {(r["section"], r["group"], r["metric"]): r["value"] for r in rows}
    assert {r["section"] for r in rows} == {"report", *SECTIONS}
    assert cells[("completeness", "", "mean_pct")] == str(data["completeness"]["mean_pct"])
    assert cells[("sla", "", "within_pct")] == "66.7"
    assert cells[("volume", "A", "rows.partner")] == "2"
    assert cells[("scorecard", "C", "partners.readiness")] == "32.9"
    assert cells[("scorecard", "C", "partners.preservation_pct")] == ""  # n/a
    assert cells[("scorecard", "", "weights.completeness")] == "0.4"
    for partner in data["scorecard"]["partners"]:
        assert cells[("scorecard", partner["partner"], "partners.readiness")] == str(
            partner["readiness"] if partner["readiness"] is not None else "")


def test_table_names_every_section(report: Report) -> None:
    text = render(report, "table")
    for section in SECTIONS:
        assert f"{SECTION_TITLES[section]} ({section})" in text
    assert "readiness = weighted mean of completeness 40%, sla 30%, preservation 30%" in text


def test_html_is_self_contained_with_every_section(report: Report) -> None:
    html = render(report, "html")
    for section in SECTIONS:
        assert f'<section id="{section}"' in html
    assert not re.search(r"""(src|href)\s*=\s*["']?https?://""", html)
    assert "<script" not in html
    assert html.count("<svg") >= 8  # bars, histogram, line and the rest


def test_since_accepts_dates_and_instants_and_names_the_format() -> None:
    assert since_value("2026-11-01").isoformat() == "2026-11-01T00:00:00+00:00"
    assert since_value("2026-11-01T10:00:00+02:00").isoformat() == \
        "2026-11-01T08:00:00+00:00"
    import argparse

    with pytest.raises(argparse.ArgumentTypeError, match="ISO date"):
        since_value("last tuesday")


def run_command(argv: list[str]) -> int:
    """The command as `handoff-sync` runs it: cli.main says the errors a person can fix."""
    from handoff_sync.cli.main import main

    return main(argv)


def test_bad_since_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        run_command(["report", "--since", "yesterday"])
    assert exit_.value.code == 2
    assert "ISO date" in capsys.readouterr().err


def test_every_format_shows_the_rejection_rate_by_partner_and_its_alert() -> None:
    import dataclasses

    from handoff_sync.report.facts import DecisionFact, PolicyFacts
    from tests.unit.test_report_figures import at

    decisions = (DecisionFact("prm:1", "partner_to_direct", "rejected", at(11, 20), None,
                              "Budget <unconfirmed>", "A"),
                 DecisionFact("prm:2", "partner_to_direct", "accepted", at(11, 21), None,
                              None, "B"))
    report = compute(dataclasses.replace(DATA, decisions=decisions,
                                         policy=PolicyFacts(rejection_alert_pct=5)), now=NOW)
    alert = "A: 1 of 1 handoffs rejected (100%), above 5%: investigate"
    table = render(report, "table")
    assert "rejection rate by partner" in table and alert in table
    html = render(report, "html")
    assert 'data-section="acceptance"' in html and f'<p class="alert">{alert}</p>' in html
    assert "Budget &lt;unconfirmed&gt;" in html  # reasons are people's text: escaped
    data = json.loads(render(report, "json"))["acceptance"]
    assert data["alerts"] == [alert] and data["rejection_rate_pct"] == 50.0
    cells = {(r["group"], r["metric"]): r["value"]
             for r in csv.DictReader(io.StringIO(render(report, "csv")))
             if r["section"] == "acceptance"}
    assert cells[("A", "partners.rate_pct")] == "100.0" and cells[("", "alerts")] == alert
