"""Mappings parsed once per content: an unchanged folder or file is not parsed again, and
any change to what is on disk is seen at once, even one that keeps the modification
time (a digest is the key, not a time)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from handoff_sync.console import mapping_cache, system_form
from handoff_sync.mapping.loader import validate_mappings

EXAMPLE = Path(__file__).resolve().parents[2] / "mappings"


def folder(tmp_path: Path) -> Path:
    copy = tmp_path / "mappings"
    shutil.copytree(EXAMPLE, copy)
    return copy


def rewrite_keeping_time(path: Path, text: str) -> None:
    stat = path.stat()
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_a_folder_is_validated_once_per_content(tmp_path: Path) -> None:
    mappings = folder(tmp_path)
    first, problems = mapping_cache.validated(mappings)
    assert first is not None and problems == []
    again, _problems = mapping_cache.validated(mappings)
    assert again is first  # the same parse, not a new one
    problems.append(problems)  # type: ignore[arg-type]  # a caller's list is its own
    assert mapping_cache.validated(mappings)[1] == []

    policy = mappings / "handoff.yaml"
    rewrite_keeping_time(policy, policy.read_text(encoding="utf-8") + "\nnot_a_section: 1\n")
    broken, found = mapping_cache.validated(mappings)
    assert (broken, [str(p) for p in found]) == (
        validate_mappings(mappings)[0], [str(p) for p in validate_mappings(mappings)[1]])
    assert found and any("not_a_section" in str(problem) for problem in found)
    (mappings / "extra.yaml").write_text("a: 1\n", encoding="utf-8")
    assert any("unexpected file 'extra.yaml'" in str(p)
               for p in mapping_cache.validated(mappings)[1])


def test_a_system_file_is_parsed_once_per_text(tmp_path: Path) -> None:
    text = (folder(tmp_path) / "salesforce.yaml").read_text(encoding="utf-8")
    rows = mapping_cache.file_rows(text)
    assert rows == {section: system_form.rows_of(text, section)
                    for section in system_form.SECTIONS}
    rows["fields"][0].values["field"] = "Changed__c"  # a caller's copy
    assert mapping_cache.file_rows(text)["fields"][0].values["field"] != "Changed__c"
    summary = mapping_cache.file_summary(text)
    assert summary["fields"] == len(rows["fields"])
    fewer = text.replace("  missing_fields: {field: Handoff_Missing_Fields__c, "
                         "transform: lines}\n", "")
    assert fewer != text
    assert mapping_cache.file_summary(fewer)["outputs"] == summary["outputs"] - 1
    assert mapping_cache.file_rows("fields: [unclosed\n") == {}
