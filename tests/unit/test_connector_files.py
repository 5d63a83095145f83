"""The PRM file-drop connector: which files are read, what rows become, what is reported.

Files are written into tmp_path and aged with os.utime (nothing sleeps); every expected
problem is the exact ``file:line: message`` an admin would read.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tracemalloc
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.base import Connector, RecordWrite, TaskTarget, TaskWrite
from connectors.errors import FatalError, PermissionDenied, SchemaError
from connectors.files import DropFile, FileDropConnector, FileDropSettings, FileRead
from connectors.files_formats import decoded_lines
from handoff_sync.mapping.convert import to_canonical
from handoff_sync.mapping.loader import load_mappings
from handoff_sync.model import OwnerDirectory, Role

ROOT = Path(__file__).resolve().parents[2]
HEADER = "Registration ID,Deal Name,Last Modified\n"
T1 = "2026-03-01T10:00:00Z"
NOW = 1_780_000_000.0  # the connector's clock; file times are set relative to it


def drop(folder: Path, name: str, content: str | bytes, *, age: float = 60.0) -> Path:
    """Write an export and make it ``age`` seconds old (settled unless age is small)."""
    path = folder / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    age_file(path, age)
    return path


def age_file(path: Path, age: float) -> None:
    moment = NOW - age
    os.utime(path, (moment, moment))


def connector(folder: Path, **overrides: object) -> FileDropConnector:
    options: dict[str, object] = {"folder": folder, "id_field": "Registration ID",
                                  "modified_field": "Last Modified"}
    options.update(overrides)
    return FileDropConnector(FileDropSettings(**options),  # type: ignore[arg-type]
                             clock=lambda: NOW)


def read_only_file(conn: FileDropConnector) -> FileRead:
    files = conn.pending(())
    assert len(files) == 1, files
    return conn.read(files[0])


def ids(result: FileRead) -> list[str]:
    return [change.id for change in result.changes]


def messages(result: FileRead) -> list[str]:
    return [str(problem) for problem in result.problems]


# ---------------------------------------------------------------- rows, good and bad

CSV_CASES = [
    pytest.param(
        HEADER + f"R-1,Acme,{T1}\nR-2,Globex,{T1}\n", ["R-1", "R-2"], [], id="good rows"),
    pytest.param(
        HEADER + f"R-1,Acme,{T1}\n,No id,{T1}\n  ,Blank id,{T1}\n", ["R-1"],
        ["regs.csv:3: no registration id in 'Registration ID'",
         "regs.csv:4: no registration id in 'Registration ID'"], id="missing id"),
    pytest.param(
        HEADER + "R-1,Acme,31/02/2026\nR-2,Globex,2026-03-02\n", ["R-2"],
        ["regs.csv:2: 'Last Modified' value '31/02/2026' is not a date and time (write it "
         "like 2026-03-31T14:05:00Z or in epoch milliseconds); row skipped"],
        id="unparseable modified time"),
    pytest.param(
        HEADER + f"R-1,Acme\nR-2,Globex,{T1}\nR-3,Acme, Inc.,{T1}\n", ["R-2"],
        ["regs.csv:2: 2 cells, but the header has 3; row skipped (an unquoted ',' inside a "
         "value, or a missing cell, would shift every value after it)",
         "regs.csv:4: 4 cells, but the header has 3; row skipped (an unquoted ',' inside a "
         "value, or a missing cell, would shift every value after it)"],
        id="wrong cell counts"),
    pytest.param(
        HEADER + f"R-1,Acme,{T1},,\nR-2,\"Acme, Inc.\",{T1}\n", ["R-1", "R-2"], [],
        id="blank padding cells and quoted delimiter are fine"),
    pytest.param(
        HEADER + f"R-1,\"Acme\" Inc,{T1}\nR-2,Globex,{T1}\n", ["R-2"],
        ["regs.csv:2: text follows a closing quote; a quote inside a quoted value must be "
         "doubled (\"\"); row skipped"], id="text after closing quote"),
    pytest.param(
        HEADER + f"R-1,Acme,{T1}\nR-2,\"Globex,{T1}\nR-3,Initech,{T1}\n", ["R-1"],
        ["regs.csv:3: a quoted value that starts in this row is never closed, so the rest "
         "of the file was read as part of it; row skipped (the row spans lines 3-4)"],
        id="unclosed quote swallows the rest"),
    pytest.param(
        "\n\n" + HEADER + f"R-1,Acme,{T1}\n\n,,\nR-2,,{T1}\n", ["R-1", "R-2"], [],
        id="blank lines and empty rows are ignored"),
    pytest.param(
        "\n" + HEADER + "R-1,Acme\n", [], ["regs.csv:3: 2 cells, but the header has 3; row "
                                           "skipped (an unquoted ',' inside a value, or a "
                                           "missing cell, would shift every value after it)"],
        id="blank lines before the header keep the file's numbering"),
]


@pytest.mark.parametrize(("content", "expected_ids", "expected_problems"), CSV_CASES)
def test_csv_rows_good_and_bad(tmp_path: Path, content: str, expected_ids: list[str],
                               expected_problems: list[str]) -> None:
    drop(tmp_path, "regs.csv", content)
    result = read_only_file(connector(tmp_path))
    assert ids(result) == expected_ids
    assert messages(result) == expected_problems
    assert not result.rejected


def test_row_becomes_a_record_change_with_raw_values(tmp_path: Path) -> None:
    drop(tmp_path, "regs.csv", " Registration ID , Deal Name ,Last Modified,Amount\n"
                               f" R-1 ,Acme,{T1},\n")
    [change] = read_only_file(connector(tmp_path)).changes
    assert change.id == "R-1"  # the id is trimmed; the values are not
    assert change.modified_at == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert dict(change.fields) == {"Registration ID": " R-1 ", "Deal Name": "Acme",
                                   "Last Modified": T1, "Amount": ""}
    assert change.deleted is False


def test_rows_without_a_modification_time_take_the_file_time(tmp_path: Path) -> None:
    path = drop(tmp_path, "regs.csv", "Registration ID,Deal Name\nR-1,Acme\n")
    result = read_only_file(connector(tmp_path, modified_field=None))
    file_time = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    assert [c.modified_at for c in result.changes] == [file_time]


def test_quoted_multiline_cells_keep_the_line_of_the_rows_first_line(tmp_path: Path) -> None:
    drop(tmp_path, "regs.csv", HEADER +
         f"R-1,\"Acme\nEurope\r\nholding\",{T1}\n"   # lines 2-4
         f"R-2,Globex\n"                              # line 5
         f"R-3,\"Initech\n\",bad-time\n"              # lines 6-7
         f"R-4,Hooli,{T1}\n")                         # line 8
    result = read_only_file(connector(tmp_path))
    assert ids(result) == ["R-1", "R-4"]
    assert result.changes[0].fields["Deal Name"] == "Acme\nEurope\r\nholding"
    assert messages(result) == [
        "regs.csv:5: 2 cells, but the header has 3; row skipped (an unquoted ',' inside a "
        "value, or a missing cell, would shift every value after it)",
        "regs.csv:6: 'Last Modified' value 'bad-time' is not a date and time (write it like "
        "2026-03-31T14:05:00Z or in epoch milliseconds); row skipped"]
    assert result.problems[1].record_id == "R-3"


def test_a_row_spanning_lines_says_so_when_its_cells_do_not_fit(tmp_path: Path) -> None:
    drop(tmp_path, "regs.csv", HEADER + "R-1,\"two\nlines\"\n")
    assert messages(read_only_file(connector(tmp_path))) == [
        "regs.csv:2: 2 cells, but the header has 3; row skipped (an unquoted ',' inside a "
        "value, or a missing cell, would shift every value after it) (the row spans lines "
        "2-3)"]


def test_duplicate_ids_in_one_file_the_later_row_wins(tmp_path: Path) -> None:
    drop(tmp_path, "regs.csv", HEADER + f"R-1,Old name,{T1}\nR-2,Globex,{T1}\n"
                                        f"R-1,New name,{T1}\n")
    result = read_only_file(connector(tmp_path))
    assert {c.id: c.fields["Deal Name"] for c in result.changes} == {
        "R-1": "New name", "R-2": "Globex"}
    assert messages(result) == [
        "regs.csv:2: registration 'R-1' appears again on line 4; the later row is used"]


def test_deleted_flag(tmp_path: Path) -> None:
    drop(tmp_path, "regs.csv", "Registration ID,Deleted\nR-1,yes\nR-2,\nR-3,false\n"
                               "R-4,maybe\nR-5,1\n")
    result = read_only_file(connector(tmp_path, modified_field=None, deleted_field="Deleted"))
    assert {c.id: c.deleted for c in result.changes} == {
        "R-1": True, "R-2": False, "R-3": False, "R-5": True}
    assert messages(result) == [
        "regs.csv:5: 'Deleted' value 'maybe' is not true or false (yes/no, 1/0 also work); "
        "row skipped rather than guess whether the registration was deleted"]


# ---------------------------------------------------------------- whole-file problems


def test_duplicate_header_names_reject_the_file(tmp_path: Path) -> None:
    drop(tmp_path, "regs.csv", "Registration ID,Amount,Deal Name,Amount \nR-1,5,Acme,7\n")
    result = read_only_file(connector(tmp_path, modified_field=None))
    assert result.rejected and result.changes == ()
    assert messages(result) == [
        "regs.csv:1: the header names a column more than once: 'Amount' (columns 2, 4). The "
        "file was not read because each row would hold two values for one name and nothing "
        "says which is meant; rename or remove the extra column and export again"]


def test_a_missing_configured_column_rejects_the_file_with_a_hint(tmp_path: Path) -> None:
    drop(tmp_path, "regs.csv", "Registration Id,Last Modified\nR-1,2026-03-01\n")
    result = read_only_file(connector(tmp_path))
    assert result.rejected
    assert messages(result) == [
        "regs.csv:1: the header has no column 'Registration ID' (the file drop's 'id_field' "
        "setting; did you mean 'Registration Id'? Names are case-sensitive); the file was "
        "not read"]


def test_undecodable_bytes_reject_the_file_and_name_the_setting(tmp_path: Path) -> None:
    latin1 = (HEADER + f"R-1,Acme,{T1}\nR-2,Société Générale,{T1}\n").encode("latin-1")
    drop(tmp_path, "regs.csv", latin1)
    result = read_only_file(connector(tmp_path))
    assert result.rejected and result.changes == ()
    assert messages(result) == [
        "regs.csv:3: the byte 0xe9 is not valid utf-8-sig; the file was not read. Export it as "
        "UTF-8, or set the file drop's 'encoding' setting (now 'utf-8-sig') to the encoding "
        "the PRM uses, e.g. 'cp1252' for Windows exports"]
    fixed = read_only_file(connector(tmp_path, encoding="latin-1"))
    assert [c.fields["Deal Name"] for c in fixed.changes] == ["Acme", "Société Générale"]


def test_a_file_that_changes_after_listing_is_not_used(tmp_path: Path) -> None:
    path = drop(tmp_path, "regs.csv", HEADER + f"R-1,Acme,{T1}\n")
    conn = connector(tmp_path)
    [listed] = conn.pending(())
    path.write_text(HEADER + f"R-1,Acme,{T1}\nR-2,Globex,{T1}\n")
    result = conn.read(listed)
    assert result.rejected and result.changes == ()
    assert messages(result) == [
        "regs.csv: the file changed while it was being read; it is read again once it has "
        "settled"]


def test_a_missing_folder_is_a_schema_error_naming_folder_and_setting(tmp_path: Path) -> None:
    conn = connector(tmp_path / "exports")
    with pytest.raises(SchemaError) as caught:
        conn.pending(())
    assert str(caught.value) == (
        f"files: the file drop folder {tmp_path / 'exports'} does not exist; create it or "
        "point the file drop's 'folder' setting at the folder the PRM exports into")


# ---------------------------------------------------------------- encodings and dialects


def test_excel_bom_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    content = "\ufeff" + HEADER + f"R-1,Acme,{T1}\n"
    drop(tmp_path, "sig.csv", content.encode("utf-8"))
    assert ids(read_only_file(connector(tmp_path))) == ["R-1"]
    # Also when the admin set plain utf-8, which leaves the BOM in the text.
    assert ids(read_only_file(connector(tmp_path, encoding="utf-8"))) == ["R-1"]


def test_semicolon_csv_with_decimal_commas_is_sniffed(tmp_path: Path) -> None:
    drop(tmp_path, "regs.csv", "Registration ID;Amount;Last Modified\r\n"
                               f"R-1;1500,50;{T1}\r\nR-2;\"12;5\";{T1}\r\n")
    result = read_only_file(connector(tmp_path))
    assert [c.fields["Amount"] for c in result.changes] == ["1500,50", "12;5"]
    assert result.problems == ()


def test_tab_separated_utf16_export(tmp_path: Path) -> None:
    text = "Registration ID\tDeal Name\tLast Modified\r\nR-1\tZürich AG\t2026-03-01\r\n"
    drop(tmp_path, "regs.csv", text.encode("utf-16"))
    result = read_only_file(connector(tmp_path, encoding="utf-16"))
    assert [c.fields["Deal Name"] for c in result.changes] == ["Zürich AG"]


def test_an_explicit_delimiter_overrides_sniffing(tmp_path: Path) -> None:
    drop(tmp_path, "regs.csv", "Registration ID|Deal Name, Inc|Last Modified\n"
                               f"R-1|Acme, Inc|{T1}\n")
    result = read_only_file(connector(tmp_path, delimiter="|"))
    assert [c.fields["Deal Name, Inc"] for c in result.changes] == ["Acme, Inc"]


@pytest.mark.parametrize("size", [1, 2, 3, 7])
@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1252"])
def test_lines_do_not_depend_on_how_bytes_are_chunked(size: int, encoding: str) -> None:
    text = "a,b\r\n1,\"Zoë\n€\"\n2,3"
    data = text.encode(encoding)
    chunks = [data[i:i + size] for i in range(0, len(data), size)]
    assert list(decoded_lines(chunks, encoding)) == ["a,b\r\n", "1,\"Zoë\n", "€\"\n", "2,3"]


# ---------------------------------------------------------------- JSON Lines


def test_jsonl_rows_good_and_bad(tmp_path: Path) -> None:
    drop(tmp_path, "regs.jsonl", "\n".join([
        '{"Registration ID": "R-1", "Deal Name": "Acme", "Last Modified": "2026-03-01"}',
        '',
        '   ',
        '{"Registration ID": "R-2", "Deal Name": "Glo',
        '["R-3", "Initech"]',
        '{"Registration ID": 4, "Contacts": [{"name": "Ann"}], "Amount": 1500.5}',
        '{"Registration ID": "R-5", "Registration ID": "R-6"}',
        '{"Deal Name": "no id"}',
        '{"Registration ID": true}',
        '{"Registration ID": "R-7", "Last Modified": 1772359200000}',
        '',
    ]))
    result = read_only_file(connector(tmp_path))
    assert ids(result) == ["R-1", "4", "R-7"]
    nested = result.changes[1]
    assert nested.fields["Contacts"] == [{"name": "Ann"}]
    assert nested.fields["Amount"] == 1500.5
    assert result.changes[2].modified_at == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert messages(result) == [
        "regs.jsonl:4: not valid JSON at column 41 (unterminated string starting); line "
        "skipped",
        "regs.jsonl:5: expected a JSON object {...}, found a list [...]; line skipped",
        "regs.jsonl:7: the key 'Registration ID' appears twice in one object, so its value "
        "is ambiguous; line skipped",
        "regs.jsonl:8: no registration id in 'Registration ID'",
        "regs.jsonl:9: the id in 'Registration ID' must be text or a whole number, found "
        "True",
    ]


# ---------------------------------------------------------------- which files, once


def test_unsettled_files_wait_until_they_are_old_enough(tmp_path: Path) -> None:
    path = drop(tmp_path, "regs.csv", HEADER, age=0)
    conn = connector(tmp_path, settle_seconds=30)
    assert conn.pending(()) == []
    age_file(path, 31)
    assert [f.name for f in conn.pending(())] == ["regs.csv"]


def test_only_matching_finished_exports_are_listed_oldest_first(tmp_path: Path) -> None:
    drop(tmp_path, "b.csv", HEADER + "b\n", age=100)
    drop(tmp_path, "a.csv", HEADER + "a\n", age=100)
    drop(tmp_path, "NEWER.CSV", HEADER + "n\n", age=50)
    drop(tmp_path, "oldest.jsonl", "{}\n", age=200)
    drop(tmp_path, "notes.txt", "x")
    drop(tmp_path, "~$regs.csv", "lock")
    drop(tmp_path, ".regs.csv.swp", "lock")
    (tmp_path / "sub.csv").mkdir()
    names = [f.name for f in connector(tmp_path).pending(())]
    assert names == ["oldest.jsonl", "a.csv", "b.csv", "NEWER.CSV"]


def test_each_content_is_read_once_and_new_content_again(tmp_path: Path) -> None:
    path = drop(tmp_path, "regs.csv", HEADER + f"R-1,Acme,{T1}\n", age=300)
    conn = connector(tmp_path)
    [first] = conn.pending(())
    seen = {first.checksum}
    assert conn.pending(seen) == []
    shutil.copy(path, tmp_path / "regs-copy.csv")
    age_file(tmp_path / "regs-copy.csv", 60)
    assert conn.pending(seen) == []  # the same content under a new name
    drop(tmp_path, "regs.csv", HEADER + f"R-1,Acme Corp,{T1}\n")
    [changed] = conn.pending(seen)
    assert changed.name == "regs.csv" and changed.checksum not in seen
    assert [c.fields["Deal Name"] for c in conn.read(changed).changes] == ["Acme Corp"]


def test_identical_unseen_files_are_listed_once(tmp_path: Path) -> None:
    drop(tmp_path, "monday.csv", HEADER, age=100)
    drop(tmp_path, "tuesday.csv", HEADER, age=50)
    assert [f.name for f in connector(tmp_path).pending(())] == ["monday.csv"]


def test_drop_file_identifies_the_content(tmp_path: Path) -> None:
    content = HEADER + f"R-1,Acme,{T1}\n"
    path = drop(tmp_path, "regs.csv", content)
    [listed] = connector(tmp_path).pending(())
    assert listed == DropFile(path, hashlib.sha256(content.encode()).hexdigest(),
                              len(content), datetime.fromtimestamp(path.stat().st_mtime, UTC))


def test_usage_counts_files_and_rows_like_api_calls(tmp_path: Path) -> None:
    drop(tmp_path, "a.csv", HEADER + f"R-1,Acme,{T1}\n\nR-2,bad\n", age=100)
    drop(tmp_path, "b.jsonl", '{"Registration ID": "R-3"}\n', age=50)
    conn = connector(tmp_path)
    for file in conn.pending(()):
        conn.read(file)
    assert conn.usage.calls == {"file": 2, "row": 3}


def test_reading_streams_instead_of_loading_the_file(tmp_path: Path) -> None:
    filler = (" " * 1023 + "\n").encode() * 16 * 1024  # 16 MiB of blank lines
    drop(tmp_path, "big.jsonl", b'{"Registration ID": "R-1"}\n' + filler +
         b'{"Registration ID": "R-2"}\n')
    conn = connector(tmp_path, modified_field=None)
    [listed] = conn.pending(())
    tracemalloc.start()
    try:
        result = conn.read(listed)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert ids(result) == ["R-1", "R-2"]
    assert peak < 2 * 1024 * 1024


# ---------------------------------------------------------------- describe


def test_describe_lists_columns_and_keys_as_read_only_text(tmp_path: Path) -> None:
    drop(tmp_path, "a.csv", "Registration ID;Deal Name;Amount\n", age=100)
    drop(tmp_path, "b.jsonl", '{"Registration ID": "R-1", "Region": "EMEA"}\n', age=50)
    schema = connector(tmp_path).describe("registrations")
    assert schema.name == "registrations"
    assert list(schema.fields) == ["Registration ID", "Deal Name", "Amount", "Region"]
    amount = schema.fields["Amount"]
    assert (amount.type, amount.createable, amount.updateable) == ("string", False, False)


def test_describe_without_any_export_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="holds no readable export matching"):
        connector(tmp_path).describe("registrations")


def test_describe_is_cached_until_the_next_cycle(tmp_path: Path) -> None:
    drop(tmp_path, "a.csv", "Registration ID,Deal Name\n", age=100)
    conn = connector(tmp_path)
    assert list(conn.describe("registrations").fields) == ["Registration ID", "Deal Name"]
    drop(tmp_path, "b.csv", "Registration ID,Region\n", age=50)
    assert "Region" not in conn.describe("registrations").fields
    conn.start_cycle()
    assert "Region" in conn.describe("registrations").fields


# ---------------------------------------------------------------- the rest of Connector


def test_the_connector_is_a_connector_that_refuses_writes(tmp_path: Path) -> None:
    # The cycle asks every side for its owners: a file drop once had no owners() at all.
    conn = connector(tmp_path)
    assert isinstance(conn, Connector)
    assert conn.owners() == []
    [written] = conn.write("registrations", [RecordWrite("w1", "R-1", {"Deal Name": "x"})])
    [task] = conn.upsert_tasks(TaskTarget("followups", "Key"), [TaskWrite("k1", "R-1", {})])
    for result, ref in ((written, "w1"), (task, "k1")):
        assert (result.ref, result.ok) == (ref, False)
        assert result.error is not None and result.error.code == "READ_ONLY"
    with pytest.raises(FatalError, match="not pulled"):
        conn.pull("registrations", ["Deal Name"], None)
    with pytest.raises(FatalError, match="by id"):
        conn.fetch("registrations", ["R-1"], ["Deal Name"])


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize(("overrides", "message"), [
    ({"id_field": " "}, "id_field: name the column"),
    ({"encoding": "utf-9"}, "encoding: unknown encoding 'utf-9'"),
    ({"delimiter": ",;"}, "delimiter: one character"),
    ({"patterns": ()}, "patterns: at least one"),
    ({"settle_seconds": -1}, "settle_seconds: zero or more"),
])
def test_settings_refuse_values_that_cannot_work(tmp_path: Path, overrides: dict[str, object],
                                                 message: str) -> None:
    options: dict[str, object] = {"folder": tmp_path, "id_field": "id"}
    options.update(overrides)
    with pytest.raises(ValueError, match=message):
        FileDropSettings(**options)  # type: ignore[arg-type]


# ---------------------------------------------------------------- through the mappings

PRM_FILE = """\
version: 1
role: prm
object: registrations
modified_field: Last Modified
fields:
  prm_id: Registration ID
  deal_name: Deal Name
  account_name: Customer
  account_domain: Website
  amount: {field: Amount, transform: currency}
  currency: {constant: USD}
  close_date: {field: Close Date, transform: date}
  registration_status:
    field: Status
    values: {Submitted: submitted, Approved: approved, Rejected: rejected}
  partner_account: Partner
  partner_rep_email: Partner Rep
  competitors: {field: Competitors, transform: multi_select}
  partner_prepared_prospect: {field: Prospect Prepared, transform: bool}
"""


def test_a_csv_row_becomes_a_canonical_deal_through_the_mappings(tmp_path: Path) -> None:
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    for name in ("handoff.yaml", "salesforce.yaml"):
        shutil.copy(ROOT / "mappings" / name, mappings / name)
    (mappings / "files.yaml").write_text(PRM_FILE)  # the PRM side names CSV columns
    prm = load_mappings(mappings).prm

    exports = tmp_path / "exports"
    exports.mkdir()
    drop(exports, "registrations.csv",
         "Registration ID;Deal Name;Customer;Website;Amount;Close Date;Status;Partner;"
         "Partner Rep;Competitors;Prospect Prepared;Last Modified\n"
         "R-1;Acme rollout;Acme Corp;https://www.acme.example/;125000.50;2026-06-30;"
         "Approved;Channel Co;Pat@Partner.example;Globex;yes;2026-03-01T10:00:00Z\n")
    [change] = read_only_file(connector(exports)).changes

    deal = to_canonical(prm, change.fields, OwnerDirectory([]))
    assert (deal.role, deal.record_id, deal.issues) == (Role.PRM, "R-1", ())
    assert deal.modified_at == change.modified_at == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert dict(deal.values) == {
        "prm_id": "R-1", "deal_name": "Acme rollout", "account_name": "Acme Corp",
        "account_domain": "acme.example", "amount": Decimal("125000.50"), "currency": "USD",
        "close_date": date(2026, 6, 30), "registration_status": "approved",
        "partner_account": "Channel Co", "partner_rep_email": "pat@partner.example",
        "competitors": ("Globex",), "partner_prepared_prospect": True,
    }


def test_an_unreadable_export_stops_with_the_path_to_fix(tmp_path: Path) -> None:
    path = drop(tmp_path, "regs.csv", HEADER)
    path.chmod(0)
    try:
        path.read_bytes()
        pytest.skip("this process reads files whatever their mode (root)")
    except PermissionError:
        pass
    with pytest.raises(PermissionDenied) as caught:
        connector(tmp_path).pending(())
    assert str(caught.value) == (
        f"files: cannot read {path}: give the daemon's user read access to the file drop "
        "folder and its files, or remove the file")
