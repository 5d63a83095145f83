"""A hostile partner name reaches no terminal as escapes and no spreadsheet as a formula:
the helper itself, then every printer that shows data from a CRM or PRM."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.quoting import quoted as connector_quoted
from handoff_sync.cli import plan_view as plan_text
from handoff_sync.cli.main import main
from handoff_sync.cli.mappings import add_mappings_command
from handoff_sync.cli.plan import view_of
from handoff_sync.cli.review_view import render_reviews
from handoff_sync.cli.sync import _cycle_text, failed_line
from handoff_sync.engine.types import Plan
from handoff_sync.mapping.system.transforms import shown
from handoff_sync.report import render
from handoff_sync.report.figures import compute
from handoff_sync.safety.sanitise import csv_cell, for_rich, for_terminal, quoted
from handoff_sync.store.types import RunKind, RunOutcome
from handoff_sync.sync.cycle import CycleReport
from handoff_sync.sync.review_link import LinkPreview, Shown
from tests.unit.test_report_figures import DATA, NOW

ROOT = Path(__file__).resolve().parents[2]
ESCAPES = "\x1b]8;;http://evil\x1b\\Acme\x1b[2J"  # a hidden link, then a cleared screen
FORMULA = '=HYPERLINK("http://x","y")'
HOSTILE = ESCAPES + "\u202e\x9b31m\x07\r"


def assert_clean(text: str) -> None:
    assert "\x1b" not in text and "\x9b" not in text and "\x07" not in text
    assert "\r" not in text and "\u202e" not in text
    assert "http://evil" not in text and "[2J" not in text


@pytest.mark.parametrize(("raw", "shown"), [
    (ESCAPES, "Acme"),
    ("\x1b[31mred\x1b[0m", "red"),
    ("bell\x07 and nul\x00", "bell and nul"),
    ("osc to the end \x1b]0;title", "osc to the end "),
    ("c1 csi \x9b2J and osc \x9d8;;u\x9c.", "c1 csi  and osc ."),
    ("two\nlines\tand\rcr", "two lines and cr"),
    ("right\u202eto left", "rightto left"),
    ("line\u2028para\u2029graph", "lineparagraph"),
    ("Café Ünïcode ✓", "Café Ünïcode ✓"),
])
def test_for_terminal_drops_escapes_and_controls(raw: str, shown: str) -> None:
    assert for_terminal(raw) == shown


def test_quoted_shows_every_control_as_its_escape_and_cuts_long_values() -> None:
    text = quoted(HOSTILE)
    assert all(ch.isprintable() for ch in text)  # nothing a terminal acts on
    assert text.startswith("'\\x1b]8;;http://evil\\x1b\\Acme\\x1b[2J\\u202e\\x9b31m")
    assert quoted("line\u2028break\nand\ttab") == "'line\\u2028break\\nand\\ttab'"
    assert quoted("Café ✓") == "'Café ✓'"
    assert quoted("x" * 5000) == f"'{'x' * 40}...' (5,000 characters)"
    assert quoted("x" * 41, limit=41) == f"'{'x' * 41}'"


def test_a_value_problem_and_an_id_problem_quote_alike() -> None:
    # One rule for the product (sanitise) and one for the connectors, which import
    # nothing of handoff_sync: the same value reads the same in both messages.
    for value in (HOSTILE, "x" * 5000, "0065g00000ABCDE' OR Name != '"):
        assert quoted(value) == connector_quoted(value)
        assert shown(value) == quoted(value)


def test_link_preview_quotes_names_without_their_escapes() -> None:
    registration = Shown("501", HOSTILE, ESCAPES, "Partner " + ESCAPES + "x" * 100)
    opportunity = Shown("006000000000001AAA", ESCAPES, None, None)
    preview = LinkPreview("channel_conflict:prm:501", registration, opportunity, None,
                          (Shown("502", "Other", None, ESCAPES),))
    text = "\n".join(preview.lines())
    assert all(ch.isprintable() for line in preview.lines() for ch in line)
    assert quoted(HOSTILE) in text and "characters)" in text  # the long partner, cut
    assert f"{quoted(ESCAPES)} -> {quoted('Partner ' + ESCAPES + 'x' * 100)}" in text


def test_layout_keeps_newlines_and_tabs_only() -> None:
    assert for_terminal("a\nb\tc\rd\x1b[2J", layout=True) == "a\nb\tcd"


def test_for_rich_escapes_markup() -> None:
    assert for_rich("[link=http://evil]Acme[/link]") == "\\[link=http://evil]Acme\\[/link]"


@pytest.mark.parametrize(("value", "cell"), [
    (FORMULA, "'" + FORMULA), ("+1 555", "'+1 555"), ("-2+3", "'-2+3"), ("@SUM(A1)",
                                                                         "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\r=1+1", "'=1+1"), ("a\rb\nc", "ab\nc"), (ESCAPES, "Acme"),
    ("Acme", "Acme"), ("", ""),
    (-3.5, -3.5), (-12, -12), (0, 0), (None, None), (True, True),
])
def test_csv_cells_neutralise_formulas_and_leave_numbers(value: Any, cell: Any) -> None:
    assert csv_cell(value) == cell


def hostile_report() -> Any:
    deals = [dataclasses.replace(deal, partner=FORMULA if deal.partner == "A" else
                                 (HOSTILE if deal.partner == "B" else deal.partner))
             for deal in DATA.deals]
    return compute(dataclasses.replace(DATA, deals=deals), now=NOW)


def test_report_csv_neutralises_partner_formulas_and_keeps_negative_figures() -> None:
    report = hostile_report()
    # Partner deals closing faster than direct ones: a negative figure.
    p = report.preservation
    report = dataclasses.replace(report, preservation=dataclasses.replace(
        p, cycle_impact=dataclasses.replace(p.cycle_impact, value=-12.5)))
    rows = list(csv.reader(io.StringIO(render(report, "csv"))))
    groups = {row[1] for row in rows}
    assert "'" + FORMULA in groups and FORMULA not in groups
    assert "Acme" in groups  # the escapes went, the name stayed
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row)
    # Figures stay numbers: a quoted '-12.5 would be text a spreadsheet cannot sum.
    impact = next(row for row in rows if row[2] == "cycle_impact.value")
    assert impact[3] == "-12.5"


def test_report_table_prints_no_escape_and_no_markup_from_a_partner() -> None:
    text = render(hostile_report(), "table")
    assert_clean(text)
    assert "Acme" in text and FORMULA in text  # shown as text on a terminal


def test_review_list_strips_escapes_from_summaries() -> None:
    item = {"pipeline": "partners", "key": "channel_conflict:prm:1", "kind":
            "channel_conflict", "status": "open", "deal": "prm:1",
            "summary": f"{ESCAPES}{HOSTILE} and Globex registered one customer",
            "candidates": [["006" + ESCAPES, 0.9]], "details": {}}
    owner = {**item, "key": "unresolved_owner:prm:1:crm", "kind": "unresolved_owner",
             "summary": "no CRM user", "details": {"role": "crm", "email": ESCAPES}}
    text = render_reviews([item, owner])
    assert_clean(text)
    assert "AcmeAcme  and Globex registered one customer" in text


def test_plan_text_strips_escapes_from_records_and_values() -> None:
    now = datetime(2026, 3, 2, tzinfo=UTC)
    report = CycleReport("partners", "r1", RunKind.INCREMENTAL, RunOutcome.DRY_RUN, now, now,
                         {}, {}, plan=Plan("partners", now),
                         changes=({"system": "hubspot", "object": "deals",
                                   "record": "901" + ESCAPES, "field": "partner_name",
                                   "old": "x", "new": HOSTILE},))
    text = plan_text.render(view_of(report), plan_text.Shown())
    assert_clean(text)
    assert "901Acme" in text
    failed = dataclasses.replace(report, plan=None, message=f"AuthError: {HOSTILE}")
    assert_clean(failed_line("plan", failed, "cannot plan"))


def test_offline_plan_summary_strips_escapes_from_the_exported_records(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = ROOT / "tests" / "e2e" / "data"
    records = [json.loads(line) for line in
               (data / "plan_prm.jsonl").read_text().splitlines() if line.strip()]
    for record in records:  # a hostile id (the deal key), deal name and partner rep
        record["id"] = record["properties"]["hs_object_id"] = record["id"] + ESCAPES
        record["properties"]["dealname"] = HOSTILE
        record["properties"]["partner_rep_email"] = ESCAPES + "pat@bluebird.example"
    prm = tmp_path / "prm.jsonl"
    prm.write_text("\n".join(json.dumps(record) for record in records) + "\n")
    code = main(["plan", "--prm", str(prm), "--crm", str(data / "plan_crm.json"),
                 "--crm-owners", str(data / "plan_crm_users.json"), "--now",
                 "2026-11-18T15:30Z", "--mappings", str(ROOT / "mappings")])
    out = capsys.readouterr().out
    assert code == 0
    assert_clean(out)
    assert "\nAcme  [HubSpot deal 501Acme]\n" in out and "  HubSpot deal 502Acme:\n" in out
    assert "unresolved_prm_owner: Partner rep acmepat@bluebird.example has " in out


def test_plan_json_carries_c1_controls_and_bidi_overrides_only_as_escapes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """JSON escapes C0 controls itself, not C1 (\x9b is a CSI on many terminals) nor
    bidi overrides: `plan --json` on a terminal must not print them raw."""
    data = ROOT / "tests" / "e2e" / "data"
    records = [json.loads(line) for line in
               (data / "plan_prm.jsonl").read_text().splitlines() if line.strip()]
    name = "Acme\x9b2J \u202eevil\u202c naïve"
    for record in records:
        record["properties"]["dealname"] = name
    prm = tmp_path / "prm.jsonl"
    prm.write_text("\n".join(json.dumps(record) for record in records) + "\n")
    code = main(["plan", "--json", "--prm", str(prm), "--crm", str(data / "plan_crm.json"),
                 "--crm-owners", str(data / "plan_crm_users.json"), "--now",
                 "2026-11-18T15:30Z", "--mappings", str(ROOT / "mappings")])
    out = capsys.readouterr().out
    assert code == 0
    assert not set(out) & {"\x9b", "\u202e", "\u202c"}
    assert name in out.encode().decode("unicode_escape")  # the value itself is all there


def test_sync_summary_strips_escapes_from_error_messages() -> None:
    summary = {"pipeline": "partners", "kind": "full", "run_id": "r1", "outcome": "partial",
               "duration_seconds": 1.0, "counts": {}, "api_calls": {},
               "errors": [{"system": "salesforce", "object": "Opportunity",
                           "record": "006" + ESCAPES, "code": "X", "message": HOSTILE}],
               "schema_drift": {}, "message": HOSTILE}
    assert_clean(_cycle_text(summary, dry_run=False))


def test_mappings_explain_strips_escapes_from_the_record(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    import argparse

    deal = tmp_path / "deal.json"
    deal.write_text(json.dumps({"id": "901", "properties": {
        "dealname": HOSTILE, "pipeline": "9004451", "dealstage": "9004453",
        "economic_buyer": ESCAPES, "hubspot_owner_id": "71"}}))
    parser = argparse.ArgumentParser()
    add_mappings_command(parser.add_subparsers())
    args = parser.parse_args(["mappings", "explain", str(deal), "--mappings",
                              str(ROOT / "mappings")])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert_clean(out)
    assert "Acme" in out
