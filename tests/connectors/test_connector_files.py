"""The PRM file-drop connector: which files are read, what rows become, what is reported.

Files are written into tmp_path and aged with os.utime (nothing sleeps); every expected
problem is the exact ``file:line: message`` an admin would read.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import stat
import tracemalloc
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from connectors.base import Connector, DropFile, FileRead, RecordWrite, TaskTarget, TaskWrite
from connectors.errors import FatalError, PermissionDenied, SchemaError
from connectors.files.connector import FileDropConnector, FileDropSettings
from connectors.files.formats import MAX_LINE_CHARS, FileRejected, decoded_lines
from handoff_sync.mapping.loader import load_mappings
from handoff_sync.mapping.system.convert import SystemMapping, to_canonical
from handoff_sync.model import OwnerDirectory, Role
from handoff_sync.store.types import MirrorRecord
from handoff_sync.sync.pull import PullStopped, SidePull, pull_side
from handoff_sync.testing.file_drop import EXPORT_COLUMNS, file_drop_mappings

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
        "regs.csv:3: this line holds bytes that are not valid utf-8-sig; the file was not "
        "read. Export it as UTF-8, or set the file drop's 'encoding' setting (now "
        "'utf-8-sig') to the encoding the PRM uses, e.g. 'cp1252' for Windows exports"]
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


@pytest.mark.parametrize("record_id", ["R-1", "12345", "Réf 7/2026", "x" * 300])
def test_an_export_id_may_be_any_printable_text(tmp_path: Path, record_id: str) -> None:
    assert connector(tmp_path).id_problem("registrations", record_id) is None


@pytest.mark.parametrize(("record_id", "problem"), [
    ("", "'' is not a file-drop id: ids are never blank or padded"),
    (" R-1", "' R-1' is not a file-drop id: ids are never blank or padded"),
    ("R-1\n", "'R-1\\n' is not a file-drop id: ids are never blank or padded"),
    ("R-\x1b[2J1", "'R-\\x1b[2J1' is not a file-drop id: it holds a control character"),
    ("R\u202e1-", "'R\\u202e1-' is not a file-drop id: it holds a control character"),
    ("R-1\u2028R-2", "'R-1\\u2028R-2' is not a file-drop id: it holds a control character"),
])
def test_a_blank_padded_or_control_id_is_refused_showing_what_it_holds(
        tmp_path: Path, record_id: str, problem: str) -> None:
    # `review link` quotes this back on a terminal: the escape is shown, never performed.
    assert connector(tmp_path).id_problem("registrations", record_id) == problem


def test_a_long_bad_id_is_quoted_short_with_its_length(tmp_path: Path) -> None:
    problem = connector(tmp_path).id_problem("registrations", " " + "x" * 4999)
    assert problem == (f"' {'x' * 39}...' (5,000 characters) is not a file-drop id: ids "
                       "are never blank or padded")


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize(("overrides", "message"), [
    ({"id_field": " "}, "id_field: name the column"),
    ({"encoding": "utf-9"}, "encoding: unknown encoding 'utf-9'"),
    ({"delimiter": ",;"}, "delimiter: one character"),
    ({"patterns": ()}, "patterns: at least one"),
    ({"settle_seconds": -1}, "settle_seconds: zero or more"),
    ({"page_size": 0}, "page_size: one or more"),
])
def test_settings_refuse_values_that_cannot_work(tmp_path: Path, overrides: dict[str, object],
                                                 message: str) -> None:
    options: dict[str, object] = {"folder": tmp_path, "id_field": "id"}
    options.update(overrides)
    with pytest.raises(ValueError, match=message):
        FileDropSettings(**options)  # type: ignore[arg-type]


# ---------------------------------------------------------------- through the mappings


def test_a_csv_row_becomes_a_canonical_deal_through_the_mappings(tmp_path: Path) -> None:
    prm = load_mappings(file_drop_mappings(tmp_path / "mappings")).prm  # CSV columns

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


# ---------------------------------------------------------------- what may be read (issue 14)
# Whoever can write into the drop folder must not make the daemon read, or quote in a log
# line or message, anything outside it: links and special files are refused by name, and
# nothing a file holds is quoted before its header shows it is an export.

TOKEN = "pat-na1-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
PASSWD = "root:x:0:0:root:/root:/bin/bash"
LINK_REFUSED = ("a symbolic link: links are not followed, so that nothing outside the drop "
                "folder can be read through one. Not read: copy or move the export itself "
                "into the folder and remove the link")
GOOD_EXPORT = HEADER + f"R-1,Acme,{T1}\n"


def secret_file(tmp_path: Path, name: str = "token", text: str = TOKEN + "\n") -> Path:
    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    path = outside / name
    path.write_text(text)
    return path


def exports_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    drop(folder, "good.csv", GOOD_EXPORT, age=100)
    return folder


def read_all(conn: FileDropConnector) -> dict[str, FileRead]:
    return {file.name: conn.read(file) for file in conn.pending(())}


def assert_never_quoted(secret: str, logs: Sequence[Mapping[str, Any]],
                        results: dict[str, FileRead]) -> None:
    for entry in logs:
        assert secret not in repr(entry)
    for result in results.values():
        for problem in result.problems:
            assert secret not in str(problem)
        for change in result.changes:
            assert secret not in repr(change)


def link_targets(tmp_path: Path, folder: Path) -> dict[str, Path]:
    inside_dir = folder / "archive"
    inside_dir.mkdir()
    drop(inside_dir, "old.csv", GOOD_EXPORT)
    inside_file = drop(folder, "real-export.txt", GOOD_EXPORT)
    return {"file outside": secret_file(tmp_path), "folder outside": tmp_path / "outside",
            "file inside": inside_file, "folder inside": inside_dir,
            "dangling": tmp_path / "nowhere.csv"}


@pytest.mark.parametrize("target", ["file outside", "folder outside", "file inside",
                                    "folder inside", "dangling"])
def test_links_are_refused_by_name_and_the_rest_of_the_drop_is_read(
        tmp_path: Path, target: str) -> None:
    folder = exports_folder(tmp_path)
    (folder / "regs.csv").symlink_to(link_targets(tmp_path, folder)[target])
    results = read_all(connector(folder))
    assert set(results) == {"good.csv", "regs.csv"}
    assert ids(results["good.csv"]) == ["R-1"] and not results["good.csv"].rejected
    refused = results["regs.csv"]
    assert refused.rejected and refused.changes == ()
    assert messages(refused) == [f"regs.csv: {LINK_REFUSED}"]


@pytest.mark.parametrize(("content", "secret"), [
    (TOKEN + "\n", TOKEN), (PASSWD + "\n", PASSWD),
    (f"Registration ID,{TOKEN}\n{TOKEN},1\n", TOKEN)], ids=["token", "passwd", "csv"])
def test_a_link_to_a_secret_never_puts_it_in_a_log_line_or_message(
        tmp_path: Path, content: str, secret: str) -> None:
    target = secret_file(tmp_path, text=content)
    folder = exports_folder(tmp_path)
    (folder / "regs.csv").symlink_to(target)
    (folder / "regs.jsonl").symlink_to(target)
    conn = connector(folder)
    with capture_logs() as logs:
        results = read_all(conn)
        schema = conn.describe("registrations")
    assert [messages(results[name]) for name in ("regs.csv", "regs.jsonl")] == [
        [f"regs.csv: {LINK_REFUSED}"], [f"regs.jsonl: {LINK_REFUSED}"]]
    assert list(schema.fields) == ["Registration ID", "Deal Name", "Last Modified"]
    assert {entry["event"] for entry in logs} >= {"file drop read", "file drop rejected"}
    assert_never_quoted(secret, logs, results)


def test_a_file_that_is_not_an_export_is_rejected_without_quoting_it(tmp_path: Path) -> None:
    # A regular file in the folder: read, but its first line is not a header naming the id
    # column, so nothing of it is quoted (the issue's `columns: pat-na1-...`).
    folder = exports_folder(tmp_path)
    drop(folder, "token.csv", TOKEN + "\n" + TOKEN + "\n")
    drop(folder, "passwd.csv", f"{PASSWD}\nx,y,{TOKEN},{TOKEN}\n")
    drop(folder, "twice.csv", f"{TOKEN},{TOKEN}\n")  # a repeated name is not quoted either
    drop(folder, "token.jsonl", TOKEN + "\n")
    conn = connector(folder)
    with capture_logs() as logs:
        results = read_all(conn)
        schema = conn.describe("registrations")
    not_an_export = ("1: the header has no column 'Registration ID' (the file drop's "
                     "'id_field' setting); the file was not read. An export's first non-blank "
                     "line is its header and names that column: check that this file is an "
                     "export from the PRM (its content is not shown, in case it is not), or "
                     "correct the setting")
    assert {name: messages(result) for name, result in results.items()} == {
        "good.csv": [],
        "token.csv": [f"token.csv:{not_an_export}"],
        "passwd.csv": [f"passwd.csv:{not_an_export}"],
        "twice.csv": [f"twice.csv:{not_an_export}"],
        "token.jsonl": ["token.jsonl:1: not valid JSON at column 1 (expecting value); line "
                        "skipped"],
    }
    assert list(schema.fields) == ["Registration ID", "Deal Name", "Last Modified"]
    assert_never_quoted(TOKEN, logs, results)
    assert_never_quoted("root:x", logs, results)


def test_a_header_differing_only_in_case_or_punctuation_is_still_named(tmp_path: Path) -> None:
    drop(tmp_path, "regs.csv", "registration_id,Last Modified\nR-1,2026-03-01\n")
    assert messages(read_only_file(connector(tmp_path))) == [
        "regs.csv:1: the header has no column 'Registration ID' (the file drop's 'id_field' "
        "setting; did you mean 'registration_id'?); the file was not read"]


def test_undecodable_bytes_on_the_first_line_are_not_quoted(tmp_path: Path) -> None:
    drop(tmp_path, "key.csv", b"\x30\x82\x04\xa4\x02\x01\x00\x02\x82\x01\x01\x00\xc4\n")
    [problem] = messages(read_only_file(connector(tmp_path)))
    assert problem.startswith("key.csv:1: this line holds bytes that are not valid utf-8-sig")
    assert "0x" not in problem


def _special_entries(folder: Path) -> dict[str, str]:
    """Entries this process can make: name -> what the refusal calls it."""
    os.mkfifo(folder / "pipe.csv")
    made = {"pipe.csv": "a named pipe (FIFO)"}
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(folder / "sock.csv"))
        made["sock.csv"] = "a socket"
    except OSError:  # a socket path too long for AF_UNIX
        pass
    finally:
        server.close()
    try:
        os.mknod(folder / "null.csv", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
        made["null.csv"] = "a character device"
    except PermissionError:  # only root makes devices
        pass
    return made


def test_pipes_sockets_and_devices_are_refused_by_name(tmp_path: Path) -> None:
    folder = exports_folder(tmp_path)
    made = _special_entries(folder)
    results = read_all(connector(folder))
    assert ids(results.pop("good.csv")) == ["R-1"]
    assert {name: messages(result) for name, result in results.items()} == {
        name: [f"{name}: {kind}, not a regular file: only regular files are read. Not read: "
               "remove it from the drop folder"] for name, kind in made.items()}
    assert all(result.rejected for result in results.values())


@pytest.mark.parametrize("swap", ["link", "pipe"])
def test_an_export_swapped_after_listing_is_refused_not_followed(tmp_path: Path,
                                                                 swap: str) -> None:
    # The check is made again on the opened file: a link that replaces a listed export is
    # not followed (O_NOFOLLOW), and a pipe is not waited on (O_NONBLOCK).
    secret = secret_file(tmp_path)
    path = drop(tmp_path, "regs.csv", GOOD_EXPORT)
    conn = connector(tmp_path)
    [listed] = conn.pending(())
    path.unlink()
    if swap == "link":
        path.symlink_to(secret)
    else:
        os.mkfifo(path)
    with capture_logs() as logs:
        result = conn.read(listed)
    assert result.rejected and result.changes == ()
    expected = LINK_REFUSED if swap == "link" else (
        "a named pipe (FIFO), not a regular file: only regular files are read. Not read: "
        "remove it from the drop folder")
    assert messages(result) == [f"regs.csv: {expected}"]
    assert_never_quoted(TOKEN, logs, {"regs.csv": result})


def test_a_file_without_line_breaks_is_rejected_at_the_line_limit(tmp_path: Path) -> None:
    folder = exports_folder(tmp_path)
    drop(folder, "blob.csv", HEADER + "x" * (MAX_LINE_CHARS + 10))
    results = read_all(connector(folder))
    assert ids(results["good.csv"]) == ["R-1"]
    assert results["blob.csv"].rejected
    assert messages(results["blob.csv"]) == [
        "blob.csv:2: this line is longer than 1,048,576 characters, more than any export row "
        "needs; the file was not read. Check that it is a CSV or JSON Lines export (a file "
        "without line breaks is not)"]


@pytest.mark.parametrize("size", [1, 5, 64])
def test_the_line_limit_does_not_depend_on_how_bytes_are_chunked(size: int) -> None:
    data = b"ab\n" + b"c" * 10 + b"\nd\n"
    chunks = [data[i:i + size] for i in range(0, len(data), size)]
    assert list(decoded_lines(chunks, "utf-8", max_line_chars=10)) == ["ab\n", "c" * 10 + "\n",
                                                                        "d\n"]
    with pytest.raises(FileRejected) as caught:
        list(decoded_lines(chunks, "utf-8", max_line_chars=9))
    assert caught.value.line == 2


# ---------------------------------------------------------------- streaming in pages

WIDE_HEADER = ",".join(EXPORT_COLUMNS) + "\n"


def wide_rows(count: int, first: int = 0) -> str:
    return "".join(
        f"R-{i:06d},Rollout {i},Customer {i} Ltd,https://www.customer{i}.example/,{i}.50,"
        f"2026-06-30,Approved,Channel Co {i % 7},rep{i}@partner.example,Globex,yes,{T1}\n"
        for i in range(first, first + count))


def test_a_file_is_read_in_pages_of_the_page_size(tmp_path: Path) -> None:
    drop(tmp_path, "regs.csv", WIDE_HEADER + wide_rows(250))
    conn = connector(tmp_path, page_size=100)
    [listed] = conn.pending(())
    pages = list(conn.read_pages(listed))
    assert [len(page.changes) for page in pages] == [100, 100, 50]
    assert [c.id for page in pages for c in page.changes] == [f"R-{i:06d}" for i in range(250)]
    assert not any(page.rejected for page in pages)


def test_reading_pages_holds_a_page_not_the_file(tmp_path: Path) -> None:
    # 20,000 rows of 12 columns: about 30 MB as changes held at once (what a 300k-row drop
    # multiplied into 1.28 GB); streamed, a page and the id index.
    drop(tmp_path, "regs.csv", WIDE_HEADER + wide_rows(20_000))
    conn = connector(tmp_path, page_size=200)
    [listed] = conn.pending(())
    tracemalloc.start()
    try:
        count = sum(len(page.changes) for page in conn.read_pages(listed))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 20_000
    assert peak < 8 * 1024 * 1024


def test_an_id_repeated_across_pages_the_later_row_wins(tmp_path: Path) -> None:
    drop(tmp_path, "regs.csv", HEADER + f"R-1,Old name,{T1}\n" +
         "".join(f"R-{i},Deal {i},{T1}\n" for i in range(2, 8)) + f"R-1,New name,{T1}\n")
    result = read_only_file(connector(tmp_path, page_size=3))
    assert ids(result) == ["R-2", "R-3", "R-4", "R-5", "R-6", "R-7", "R-1"]
    assert result.changes[-1].fields["Deal Name"] == "New name"
    assert messages(result) == [
        "regs.csv:2: registration 'R-1' appears again on line 9; the later row is used"]


def bad_byte_after(rows: str) -> bytes:
    """An export whose last row is in latin-1: rejected once the reader gets that far."""
    assert len(rows) > 2 * 65536  # past the first chunks read, so pages come first
    return (WIDE_HEADER + rows).encode() + ("R-999999,Société" + ",x" * 10 + "\n").encode(
        "latin-1")


def test_a_file_rejected_after_some_pages_yields_nothing_usable(tmp_path: Path) -> None:
    drop(tmp_path, "regs.csv", bad_byte_after(wide_rows(1000)))
    conn = connector(tmp_path, page_size=100)
    [listed] = conn.pending(())
    pages = list(conn.read_pages(listed))
    assert len(pages) > 2 and [page.rejected for page in pages][-2:] == [False, True]
    assert [str(p) for p in pages[-1].problems] == [
        "regs.csv:1002: this line holds bytes that are not valid utf-8-sig; the file was not "
        "read. Export it as UTF-8, or set the file drop's 'encoding' setting (now "
        "'utf-8-sig') to the encoding the PRM uses, e.g. 'cp1252' for Windows exports"]
    result = conn.read(listed)
    assert result.rejected and result.changes == ()
    assert [p.line for p in result.problems] == [1002]


# ---------------------------------------------------------------- the cycle's pull of a drop


def files_mapping(tmp_path: Path) -> SystemMapping:
    return load_mappings(file_drop_mappings(tmp_path / "mappings")).prm


def pull(conn: FileDropConnector, mapping: SystemMapping,
         mirror: dict[str, MirrorRecord] | None = None) -> SidePull:
    return pull_side(conn, mapping, mirror=mirror or {}, since=None, drift={},
                     checkpoints={}, should_stop=lambda: False, heartbeat=lambda: None)


def test_the_cycle_pull_reports_refused_entries_and_keeps_the_rest(tmp_path: Path) -> None:
    mapping = files_mapping(tmp_path)
    folder = exports_folder(tmp_path)
    (folder / "regs.csv").symlink_to(secret_file(tmp_path))
    with capture_logs() as logs:
        pulled = pull(connector(folder), mapping)
    assert list(pulled.records) == ["R-1"]
    assert pulled.problems == [f"regs.csv: {LINK_REFUSED}"]
    assert len(pulled.checkpoints) == 1  # the good file only: the link is reported again
    assert all(TOKEN not in repr(entry) for entry in logs)


def test_the_cycle_pull_stages_pages_and_drops_a_rejected_file(tmp_path: Path) -> None:
    mapping = files_mapping(tmp_path)
    drop(tmp_path, "a.csv", WIDE_HEADER + wide_rows(11), age=200)
    # b.csv renames the same 11 deals (and more) in its first pages, then turns out bad.
    drop(tmp_path, "b.csv", bad_byte_after(wide_rows(1000).replace("Rollout", "Renamed")),
         age=100)
    mirror = {"R-000001": MirrorRecord("R-000001", None, {"Extra": "kept"}, False)}
    pulled = pull(connector(tmp_path, page_size=4), mapping, mirror)
    assert pulled.read == 11 and list(pulled.records) == [f"R-{i:06d}" for i in range(11)]
    assert {r.fields["Deal Name"] for r in pulled.records.values()} == {
        f"Rollout {i}" for i in range(11)}  # nothing of the rejected b.csv
    assert pulled.records["R-000001"].fields["Extra"] == "kept"
    assert [p.split(":")[:2] for p in pulled.problems] == [["b.csv", "1002"]]
    assert len(pulled.checkpoints) == 1


def test_read_keeps_what_the_caller_makes_of_each_row_and_reports_each_page(
        tmp_path: Path) -> None:
    # The cycle's pull goes through read: it keeps mirror records, not changes.
    drop(tmp_path, "regs.csv", HEADER + "".join(f"R-{i},Deal {i},{T1}\n" for i in range(5))
         + f"R-0,Renamed,{T1}\n")
    conn = connector(tmp_path, page_size=2)
    pages: list[int] = []
    result = conn.read(conn.pending(())[0], lambda change: change.fields["Deal Name"],
                       after_page=lambda: pages.append(len(pages)))
    assert result.changes == ("Deal 1", "Deal 2", "Deal 3", "Deal 4", "Renamed")
    assert len(pages) == 4 and not result.rejected


def test_a_stop_asked_for_between_pages_ends_the_pull_with_nothing_kept(
        tmp_path: Path) -> None:
    mapping = files_mapping(tmp_path)
    drop(tmp_path, "regs.csv", WIDE_HEADER + wide_rows(10))
    beats: list[None] = []
    with pytest.raises(PullStopped):
        pull_side(connector(tmp_path, page_size=4), mapping, mirror={}, since=None,
                  drift={}, checkpoints={}, should_stop=lambda: len(beats) == 2,
                  heartbeat=lambda: beats.append(None))
    assert len(beats) == 2  # stopped after the second page, not at the end of the file


def test_the_cycle_pull_a_later_row_replaces_an_earlier_one_whole(tmp_path: Path) -> None:
    # JSONL rows need not carry every key: the later row of an id is merged over the
    # record as it stood before the file, as if the earlier row were not there.
    mapping = files_mapping(tmp_path)
    drop(tmp_path, "regs.jsonl", "\n".join([
        '{"Registration ID": "R-1", "Deal Name": "Old", "Status": "Submitted"}',
        '{"Registration ID": "R-2", "Deal Name": "Other"}',
        '{"Registration ID": "R-3", "Deal Name": "Third"}',
        '{"Registration ID": "R-1", "Deal Name": "New"}', ""]))
    pulled = pull(connector(tmp_path, modified_field=None, page_size=1), mapping)
    assert pulled.records["R-1"].fields == {"Registration ID": "R-1", "Deal Name": "New"}
    assert list(pulled.records) == ["R-2", "R-3", "R-1"]
    assert pulled.problems == [
        "regs.jsonl:1: registration 'R-1' appears again on line 4; the later row is used"]
