"""A mappings change is checked as `mappings validate` checks it, saved only when valid
and unchanged on disk meanwhile, and logged: who, when, the diff."""

from __future__ import annotations

import os
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from handoff_sync.console.drafts import (
    LOCK_FILE,
    AuditFailed,
    Draft,
    InvalidDraft,
    SaveConflict,
    edit_lock,
)
from handoff_sync.console.yaml_edit import Change
from handoff_sync.errors import UserError
from handoff_sync.mapping.loader import validate_mappings
from handoff_sync.store import Store

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
AT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
POLICY_CHANGE = Change(("fields", "competitors", "policy"), "crm_wins")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    copy = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, copy, ignore=shutil.ignore_patterns("packs"))
    return copy


def test_a_bad_policy_gets_the_validators_message_and_nothing_is_written(
        folder: Path) -> None:
    before = (folder / "salesforce.yaml").read_text()
    draft = Draft(folder).change("salesforce.yaml",
                                 Change(("fields", "competitors", "policy"), "sometimes"))
    (folder / "salesforce.yaml").write_text(draft.texts["salesforce.yaml"])
    _mappings, expected = validate_mappings(folder)  # what `mappings validate` says
    (folder / "salesforce.yaml").write_text(before)
    _mappings, problems = draft.check()
    assert problems and [str(p) for p in problems] == [str(p) for p in expected]
    assert all(Path(p.file).parent == folder for p in problems)
    assert (folder / "salesforce.yaml").read_text() == before


def test_a_valid_change_is_saved_with_its_diff_in_the_audit_log(
        folder: Path, store: Store) -> None:
    draft = Draft(folder).change("salesforce.yaml", POLICY_CHANGE)
    assert draft.check()[1] == []
    draft.save(store, by="ada", at=AT, summary="competitors: crm wins")
    text = (folder / "salesforce.yaml").read_text()
    assert "policy: crm_wins}" in text and "# a Salesforce checkbox is never blank" in text
    [entry] = store.mapping_edits(str(folder))
    assert entry["by"] == "ada" and entry["summary"] == "competitors: crm wins"
    # the entry keeps its wrapping (key line, then the flow mapping): a one-line diff
    assert "\n-    {field: Competitors__c, transform: multi_select, direction: both, policy: " \
        "prm_unless_blank}\n+    {field: Competitors__c, transform: multi_select, " \
        "direction: both, policy: crm_wins}\n" in entry["diff"]["salesforce.yaml"]


def test_a_file_changed_on_disk_meanwhile_is_not_overwritten(folder: Path,
                                                              store: Store) -> None:
    draft = Draft(folder).change("salesforce.yaml", POLICY_CHANGE)
    path = folder / "salesforce.yaml"
    path.write_text(path.read_text() + "# edited by hand\n")
    with pytest.raises(SaveConflict, match="changed on disk"):
        draft.save(store, by="ada", at=AT, summary="x")
    assert path.read_text().endswith("# edited by hand\n")
    assert store.mapping_edits() == []


def test_an_invalid_or_empty_draft_saves_nothing(folder: Path, store: Store) -> None:
    with pytest.raises(InvalidDraft, match="nothing to save"):
        Draft(folder).change("salesforce.yaml").save(store, by="ada", at=AT, summary="x")
    bad = Draft(folder).change("salesforce.yaml", Change(("fields", "amount", "policy"), "x"))
    with pytest.raises(InvalidDraft, match="nothing was saved"):
        bad.save(store, by="ada", at=AT, summary="x")
    assert store.mapping_edits() == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_named_with_what_to_do(folder: Path, store: Store) -> None:
    draft = Draft(folder).change("salesforce.yaml", POLICY_CHANGE)
    folder.chmod(0o555)
    try:
        with pytest.raises(UserError, match="mount the mappings folder read-write"):
            draft.save(store, by="ada", at=AT, summary="x")
    finally:
        folder.chmod(0o755)


def test_a_file_name_outside_the_folder_is_refused(folder: Path) -> None:
    with pytest.raises(UserError, match="not a mappings file name"):
        Draft(folder).set_text("../handoff-sync.yaml", "x")


def test_a_save_waits_for_the_folders_edit_lock_then_sees_the_other_save(
        folder: Path, store: Store) -> None:
    path = folder / "salesforce.yaml"
    before = path.read_text()
    draft = Draft(folder).change("salesforce.yaml", POLICY_CHANGE)
    outcome: list[object] = []

    def save() -> None:
        try:
            outcome.append(draft.save(store, by="ada", at=AT, summary="x"))
        except UserError as exc:
            outcome.append(exc)

    # The lock as another console process holds it between its check and its audit row
    # (a draft check takes ~40 ms: unlocked, this save would be written within the wait).
    with edit_lock(folder):
        worker = threading.Thread(target=save)
        worker.start()
        worker.join(1.0)
        assert worker.is_alive() and not outcome
        assert path.read_text() == before
        path.write_text(before + "# the other process's save\n")
    worker.join(30)
    assert len(outcome) == 1 and isinstance(outcome[0], SaveConflict), outcome
    assert path.read_text() == before + "# the other process's save\n"
    assert store.mapping_edits() == []
    assert (folder / LOCK_FILE).exists() and draft.check()[1] == []  # the check skips it


def test_two_saves_from_one_digest_save_once(folder: Path, store: Store) -> None:
    drafts = [Draft(folder).change("salesforce.yaml", POLICY_CHANGE),
              Draft(folder).change("salesforce.yaml",
                                   Change(("fields", "competitors", "policy"), "prm_wins"))]
    outcome: list[object] = []
    start = threading.Barrier(2)

    def save(draft: Draft) -> None:
        start.wait()
        try:
            outcome.append(draft.save(store, by="ada", at=AT, summary="x"))
        except UserError as exc:
            outcome.append(exc)

    workers = [threading.Thread(target=save, args=(draft,)) for draft in drafts]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert sorted(type(item).__name__ for item in outcome) == ["SaveConflict", "int"]
    assert len(store.mapping_edits()) == 1


def test_a_lock_held_too_long_refuses_the_save_with_a_message(folder: Path,
                                                               store: Store) -> None:
    draft = Draft(folder).change("salesforce.yaml", POLICY_CHANGE)
    with edit_lock(folder), pytest.raises(UserError, match=r"another save of .* is still "
                                                           r"running; nothing was saved"):
        draft.save(store, by="ada", at=AT, summary="x", lock_wait=0.2)


def test_an_audit_row_that_fails_after_the_write_says_the_change_was_saved(
        folder: Path, tmp_path: Path) -> None:
    unmigrated = Store.connect(f"sqlite:///{tmp_path}/unmigrated.db")  # no audit table
    try:
        draft = Draft(folder).change("salesforce.yaml", POLICY_CHANGE)
        with pytest.raises(AuditFailed, match=r"the change was saved \(salesforce.yaml\), "
                                              "but its audit entry could not be written"):
            draft.save(unmigrated, by="ada", at=AT, summary="x")
    finally:
        unmigrated.close()
    assert "policy: crm_wins}" in (folder / "salesforce.yaml").read_text()
    with edit_lock(folder, wait=0.1):  # released
        pass
