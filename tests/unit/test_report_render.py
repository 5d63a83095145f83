"""The renderers: every section present, CSV and JSON carry the same figures, the HTML is
self-contained, and the command's errors are one clear line."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re

import pytest

from handoff_sync.cli.report import since_value, until_value
from handoff_sync.report import SECTIONS, render
from handoff_sync.report.figures import Report, compute
from tests.unit.test_report_figures import DATA, NOW


@pytest.fixture
def report() -> Report:
    return compute(DATA, now=NOW)


def test_json_has_every_section_and_the_figures(report: Report) -> None:
    data = json.loads(render(report, "json"))
    assert [s["id"] for s in data["sections"]] == list(SECTIONS)
    assert all(section in data for section in SECTIONS)
    within = data["sla"]["within_sla"]
    assert (within["value"], within["n"], within["target"], within["status"]) == (
        50.0, 4, 90, "small sample")
    assert within["definition"].startswith("SLA clocks that finished in time (met)")
    assert data["preservation"]["cycle_impact"]["value"] == 22.2
    assert data["scorecard"]["weights"] == {"completeness": 0.4, "sla": 0.3,
                                            "preservation": 0.3}
    assert data["min_sample"] == 5
    assert data["breakdown"]["rows"][1]["within_sla"] == {
        "value": 100.0, "n": 2, "status": "small sample", "part": 2, "low_pct": 34.2,
        "high_pct": 100.0}


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
    assert cells[("completeness", "", "mean.value")] == str(
        data["completeness"]["mean"]["value"])
    assert cells[("sla", "", "within_sla.value")] == "50.0"
    assert cells[("sla", "", "within_sla.n")] == "4"
    assert cells[("sla", "", "within_sla.low_pct")] == "15.0"
    assert cells[("volume", "A", "rows.partner")] == "2"
    assert cells[("scorecard", "C", "partners.preservation.value")] == ""  # n/a
    assert cells[("scorecard", "C", "partners.preservation.n")] == "0"
    assert cells[("scorecard", "", "weights.completeness")] == "0.4"
    assert cells[("breakdown", "B", "rows.preservation.value")] == "50.0"
    for partner in data["scorecard"]["partners"]:
        score = partner["outcome_score"]
        assert cells[("scorecard", partner["partner"], "partners.outcome_score")] == str(
            score if score is not None else "")


def test_every_figure_has_its_definition_next_to_it_in_every_format(report: Report) -> None:
    """The README says so: the definition travels with the number, whatever the format."""
    import html as html_lib

    from handoff_sync.report.figure import Figure, figures_of
    from handoff_sync.report.render_table import render_table

    wide = io.StringIO()
    render_table(report, wide, width=1000)  # a wide terminal: no wrapping to undo
    table = wide.getvalue()
    page = html_lib.unescape(render(report, "html"))
    data = json.loads(render(report, "json"))
    rows = list(csv.reader(io.StringIO(render(report, "csv"))))
    def shown_with_definition(figure: Figure) -> None:
        line = next(line for line in table.splitlines()
                    if line.startswith(figure.label + " "))
        assert figure.definition in line, figure.label  # on the figure's own row
        assert f"<td>{figure.label}</td>" in page and figure.definition in page

    for section in SECTIONS:
        for name, figure in ((f.name, getattr(getattr(report, section), f.name))
                             for f in dataclasses.fields(getattr(report, section))):
            if figure not in figures_of(getattr(report, section)):
                continue
            shown_with_definition(figure)
            assert data[section][name]["definition"] == figure.definition
            at = next(i for i, row in enumerate(rows)
                      if row[0] == section and row[2] == f"{name}.value")
            assert rows[at + 1][2:] == [f"{name}.definition", figure.definition]
    for touch, item in zip(report.sla.first_touch, data["sla"]["first_touch"], strict=True):
        for figure in figures_of(touch):
            shown_with_definition(figure)
        assert item["median"]["definition"] == touch.median.definition
        assert [touch.clock, "first_touch.median.definition", touch.median.definition] in [
            row[1:] for row in rows]
        for columns in ("columns", "by_clock_columns", "partner_columns"):
            for column in getattr(getattr(report, section), columns, ()):
                assert column.definition in page and column.definition in table


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


def test_until_takes_the_whole_day_and_an_end_before_the_start_is_refused(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert until_value("2026-11-30").isoformat() == "2026-12-01T00:00:00+00:00"
    assert until_value("2026-11-30T18:00:00").isoformat() == "2026-11-30T18:00:00+00:00"
    # Any ISO form of a date is the whole day (Python 3.11 reads the basic form too).
    assert until_value("20261130").isoformat() == "2026-12-01T00:00:00+00:00"
    assert until_value(" 2026-W49-1 ").isoformat() == "2026-12-01T00:00:00+00:00"
    with pytest.raises(SystemExit) as exit_:
        run_command(["report", "--until", "end of Q3"])
    assert exit_.value.code == 2
    assert "'end of Q3' is not an ISO date (that day included)" in capsys.readouterr().err
    # Checked before the store is opened: no config needed to be told.
    assert run_command(["report", "--since", "2026-11-01", "--until", "2026-10-31"]) == 1
    err = capsys.readouterr().err
    assert "--until ends the period before --since starts it" in err
    assert "Traceback" not in err


def test_every_format_shows_the_rejection_rate_by_partner_and_its_alert() -> None:
    import dataclasses

    from handoff_sync.report.facts import DecisionFact, PolicyFacts
    from tests.unit.test_report_figures import at

    decisions = (DecisionFact("prm:1", "partner_to_direct", "rejected", at(11, 20), None,
                              "Budget <unconfirmed>", "A"),
                 DecisionFact("prm:2", "partner_to_direct", "accepted", at(11, 21), None,
                              None, "B"))
    policy = PolicyFacts(rejection_alert_pct=5, min_sample=1)
    report = compute(dataclasses.replace(DATA, decisions=decisions, policy=policy), now=NOW)
    alert = "A: 1 of 1 handoffs rejected (100%), above 5%: investigate"
    table = render(report, "table")
    assert "rejection rate by partner" in table and alert in table
    html = render(report, "html")
    assert 'data-section="acceptance"' in html and f'<p class="alert">{alert}</p>' in html
    assert "Budget &lt;unconfirmed&gt;" in html  # reasons are people's text: escaped
    data = json.loads(render(report, "json"))["acceptance"]
    assert data["alerts"] == [alert] and data["rejection_rate"]["value"] == 50.0
    cells = {(r["group"], r["metric"]): r["value"]
             for r in csv.DictReader(io.StringIO(render(report, "csv")))
             if r["section"] == "acceptance"}
    assert cells[("A", "partners.rate.value")] == "100.0" and cells[("", "alerts")] == alert


def test_an_empty_period_renders_in_every_format_without_nan_or_error() -> None:
    from handoff_sync.report.facts import ReportData
    from handoff_sync.report.render_table import render_table

    for data in (ReportData("empty"), dataclasses.replace(DATA, deals=())):
        report = compute(data, now=NOW)
        for fmt in ("table", "csv", "json", "html"):
            text = render(report, fmt)
            assert not re.search(r"\bnan\b", text, re.IGNORECASE), fmt
            assert "n/a" in text or fmt in ("csv", "json")
        assert json.loads(render(report, "json"))["sla"]["within_sla"]["value"] is None
        wide = io.StringIO()
        render_table(report, wide, width=1000)
        assert "n/a │ n=0 │ >= 90%: no data: no clock has finished yet" in wide.getvalue()


def test_report_by_segment_on_the_command_line_is_accepted() -> None:
    import argparse

    from handoff_sync.cli.report import add_report_command

    parser = argparse.ArgumentParser()
    add_report_command(parser.add_subparsers())
    for by in ("segment", "region", "owner", "handoff_type", "partner", "stage"):
        assert parser.parse_args(["report", "--by", by]).by == by
