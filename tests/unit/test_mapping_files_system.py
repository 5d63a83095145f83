"""files.yaml: a PRM file drop mapped as its own system - read-only, columns as fields.

A valid files.yaml loads beside the default salesforce.yaml and handoff.yaml; every way of
asking handoff-sync to write to a file drop is reported at its file:line with a hint; and a
CSV row read by the file-drop connector maps to the canonical deal through files.yaml.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.base import FieldSchema, ObjectSchema
from connectors.files.connector import FileDropConnector, FileDropSettings
from handoff_sync.cli.mappings import add_mappings_command
from handoff_sync.mapping.loader import load_mappings, validate_mappings
from handoff_sync.mapping.system.convert import flatten_record, in_scope, to_canonical
from handoff_sync.mapping.system.describe import check_against_describe
from handoff_sync.model import OwnerDirectory, Role, SystemName
from handoff_sync.problems.report import Problem
from handoff_sync.testing.file_drop import FILES_YAML as FILES_EXPORT_YAML
from handoff_sync.testing.file_drop import file_drop_mappings

NOW = 1_780_000_000.0  # the connector's clock; the export is made older than it

# The export's mapping, scoped to one programme (the scope is what these tests check).
FILES_YAML = FILES_EXPORT_YAML.replace("modified_field: Last Modified\n",
                                       "modified_field: Last Modified\n"
                                       "scope: {Program: Partner Deals}\n")

OUTPUTS = """\
outputs:
  gate_status: {field: Gate, values: {Passed: passed, Blocked: blocked, N/A: not_required}}
"""

TASKS = """\
tasks:
  object: followups
  key_field: Key
  deal_link: {field: Registration ID}
  fields: {subject: Subject, due: Due, assignee: Owner}
"""

READ_ONLY = "a file drop is read-only: handoff-sync cannot write back to files"


def files_pack(tmp_path: Path, files_yaml: str = FILES_YAML) -> Path:
    return file_drop_mappings(tmp_path / "mappings", files_yaml)


def line_of(file: Path, marker: str) -> int:
    return next(n for n, line in enumerate(file.read_text().splitlines(), 1) if marker in line)


def test_a_file_drop_loads_as_the_prm_side_beside_the_default_crm(tmp_path: Path) -> None:
    mappings = load_mappings(files_pack(tmp_path))

    assert (mappings.prm.system, mappings.prm.role) == (SystemName.FILES, Role.PRM)
    assert mappings.crm.system is SystemName.SALESFORCE
    assert mappings.for_system(SystemName.FILES) is mappings.prm
    assert (mappings.prm.modified_field, dict(mappings.prm.scope)) == (
        "Last Modified", {"Program": "Partner Deals"})
    assert not mappings.prm.outputs and mappings.prm.tasks is None


def test_the_crm_files_conflict_policies_apply_and_the_file_side_is_never_written(
        tmp_path: Path) -> None:
    sync = load_mappings(files_pack(tmp_path)).sync

    # salesforce.yaml declares these policies; the file side reads the same fields.
    assert (sync["amount"].policy, sync["partner_rep_email"].policy) == (
        "newest_wins", "prm_wins")
    assert sync["amount"].prm_reads and sync["amount"].crm_writes
    assert not any(s.prm_writes for s in sync.values())


@pytest.mark.parametrize(("old", "new", "marker", "hint"), [
    ("  amount: {field: Amount, transform: currency}",
     "  amount: {field: Amount, transform: currency, direction: both}",
     "  amount:", "use direction: read and put outputs in the CRM file"),
    ("  deal_name: Deal Name", "  deal_name: {field: Deal Name, direction: write}",
     "  deal_name:", "use direction: read and put outputs in the CRM file"),
    ("fields:\n", OUTPUTS + "fields:\n", "outputs:",
     "use direction: read and put outputs in the CRM file"),
    ("fields:\n", TASKS + "fields:\n", "tasks:", "put tasks in the CRM file"),
], ids=["direction-both", "direction-write", "outputs", "tasks"])
def test_writing_to_a_file_drop_is_one_problem_at_its_line(
        tmp_path: Path, old: str, new: str, marker: str, hint: str) -> None:
    assert FILES_YAML.count(old) == 1
    folder = files_pack(tmp_path, FILES_YAML.replace(old, new))

    mappings, problems = validate_mappings(folder)

    assert mappings is None
    assert len(problems) == 1, "\n".join(map(str, problems))
    [problem] = problems
    file = folder / "files.yaml"
    assert (problem.file, problem.line) == (file, line_of(file, marker))
    assert (problem.message, problem.hint) == (READ_ONLY, hint)
    assert str(problem).startswith(f"{file}:{line_of(file, marker)}:")


def test_a_file_drop_cannot_be_the_crm_side(tmp_path: Path) -> None:
    folder = files_pack(tmp_path, FILES_YAML.replace("role: prm", "role: crm"))

    _, problems = validate_mappings(folder)

    file = folder / "files.yaml"
    on_role = [p for p in problems if p.file == file and p.path == ("role",)
               and "file drop" in p.message]
    assert on_role == [Problem(file, 2, 7, ("role",), "a file drop can only be the PRM side",
                               "write 'role: prm'; the CRM side is salesforce.yaml or "
                               "hubspot.yaml")]


def test_a_csv_row_becomes_the_canonical_deal_through_files_yaml(tmp_path: Path) -> None:
    prm = load_mappings(files_pack(tmp_path)).prm
    exports = tmp_path / "exports"
    exports.mkdir()
    export = exports / "registrations.csv"
    export.write_text(
        "Registration ID,Deal Name,Customer,Website,Amount,Close Date,Status,Partner,"
        "Partner Rep,Competitors,Prospect Prepared,Program,Last Modified\n"
        "R-1,Acme rollout,Acme Corp,https://www.acme.example/,125000.50,2026-06-30,"
        "Approved,Channel Co,Pat@Partner.example,Globex;Initech,yes,Partner Deals,"
        "2026-03-01T10:00:00Z\n"
        "R-2,Other,Other Corp,other.example,1,2026-06-30,Submitted,Channel Co,"
        "ann@partner.example,,no,Resale,2026-03-02T10:00:00Z\n")
    os.utime(export, (NOW - 60, NOW - 60))
    conn = FileDropConnector(FileDropSettings(folder=exports, id_field="Registration ID",
                                              modified_field="Last Modified"),
                             clock=lambda: NOW)
    [file] = conn.pending(())
    first, second = conn.read(file).changes

    row = flatten_record(SystemName.FILES, first.fields)
    deal = to_canonical(prm, row, OwnerDirectory([]))

    # scope compares a column with a value: the second row belongs to another program.
    assert (in_scope(prm, row), in_scope(prm, second.fields)) == (True, False)
    assert (deal.role, deal.record_id, deal.issues) == (Role.PRM, "R-1", ())
    # modified_field names the column holding the row's last change.
    assert deal.modified_at == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert dict(deal.values) == {
        "prm_id": "R-1", "deal_name": "Acme rollout", "account_name": "Acme Corp",
        "account_domain": "acme.example", "amount": Decimal("125000.50"), "currency": "USD",
        "close_date": date(2026, 6, 30), "registration_status": "approved",
        "partner_account": "Channel Co", "partner_rep_email": "pat@partner.example",
        "competitors": ("Globex", "Initech"), "partner_prepared_prospect": True,
    }


def test_a_column_named_attributes_is_kept_for_a_file_drop() -> None:
    row = {"Registration ID": "R-1", "attributes": "gold"}

    assert flatten_record(SystemName.FILES, row) == row
    assert "attributes" not in flatten_record(SystemName.SALESFORCE, row)


def test_live_check_accepts_any_transform_reading_a_text_column(tmp_path: Path) -> None:
    prm = load_mappings(files_pack(tmp_path)).prm
    columns = ["Registration ID", "Deal Name", "Customer", "Website", "Amount", "Close Date",
               "Status", "Partner", "Partner Rep", "Competitors", "Prospect Prepared",
               "Program", "Last Modified"]
    # What FileDropConnector.describe reports: every column a read-only string.
    described = ObjectSchema("registrations", {
        name: FieldSchema(name, "string", createable=False, updateable=False)
        for name in columns})

    assert check_against_describe(prm, described) == []
    without_amount = ObjectSchema("registrations", {
        n: f for n, f in described.fields.items() if n != "Amount"})
    [problem] = check_against_describe(prm, without_amount)
    assert problem.message == "registrations has no field 'Amount'"


def test_explain_takes_a_flat_row_as_a_file_drop_row(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    folder = files_pack(tmp_path)
    row = tmp_path / "row.json"
    row.write_text(json.dumps({"Registration ID": "R-9", "Deal Name": "Acme",
                               "Amount": "1500.5", "Last Modified": "2026-03-01T10:00:00Z"}))
    parser = argparse.ArgumentParser()
    add_mappings_command(parser.add_subparsers())
    args = parser.parse_args(["mappings", "explain", str(row), "--mappings", str(folder)])

    assert args.func(args) == 0
    assert "Record: files registrations R-9 (prm side" in capsys.readouterr().out


@pytest.mark.parametrize("extension", ["csv", "jsonl"])
def test_a_file_drop_number_out_of_range_is_an_issue_on_its_row_and_field(
        tmp_path: Path, extension: str) -> None:
    # 1e400 was accepted as a 401-digit number; 1e-400 became 0 (a JSON float even before
    # the mapping saw it); a JSON NaN became a float nan; 5,000 digits crashed the reader.
    prm = load_mappings(files_pack(tmp_path)).prm
    exports = tmp_path / "exports"
    exports.mkdir()
    amounts = ["1e400", "1e-400", "NaN", "9" * 5000, "125000.50"]
    if extension == "csv":
        content = "Registration ID,Amount,Program,Last Modified\n" + "".join(
            f"R-{n},{amount},Partner Deals,2026-03-01T10:00:00Z\n"
            for n, amount in enumerate(amounts, 1))
    else:  # JSON numbers, not strings
        content = "".join(
            f'{{"Registration ID": "R-{n}", "Amount": {amount}, "Program": "Partner Deals",'
            f' "Last Modified": "2026-03-01T10:00:00Z"}}\n'
            for n, amount in enumerate(amounts, 1))
    export = exports / f"registrations.{extension}"
    export.write_text(content)
    os.utime(export, (NOW - 60, NOW - 60))
    conn = FileDropConnector(FileDropSettings(folder=exports, id_field="Registration ID",
                                              modified_field="Last Modified"),
                             clock=lambda: NOW)
    [file] = conn.pending(())
    read = conn.read(file)
    assert read.problems == ()
    deals = [to_canonical(prm, flatten_record(SystemName.FILES, change.fields),
                          OwnerDirectory([])) for change in read.changes]
    issues = [[(issue.name, issue.system_field) for issue in deal.issues] for deal in deals]
    assert issues == [[("amount", "Amount")]] * 4 + [[]]
    messages = [deal.issues[0].message for deal in deals[:4]]
    assert "too large to sync" in messages[0] and "too small to sync" in messages[1]
    assert "not a finite number" in messages[2]
    assert "5,000 characters" in messages[3] and len(messages[3]) < 200
    assert [deal.values["amount"] for deal in deals] == [None] * 4 + [Decimal("125000.50")]
    assert all(deal.values["deal_name"] is None and deal.record_id for deal in deals)
