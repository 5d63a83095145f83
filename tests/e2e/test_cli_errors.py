"""What each command says when a person must fix something: one line on stderr,
`handoff-sync COMMAND: message`, no traceback, and the exit code it always had. cli.main
catches every UserError and connector error once, for every command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from handoff_sync.cli.main import main
from handoff_sync.errors import (
    ConflictError,
    LeaseLost,
    MappingError,
    SchemaOutdated,
    UserError,
)
from handoff_sync.problems.report import Problem
from handoff_sync.store import Store, sqlite_url_for
from handoff_sync.sync.review_link import USAGE, LinkRefused
from handoff_sync.testing.builders import minimal_config

EXE = str(Path(sys.executable).with_name("handoff-sync"))
# `sync` alone is `sync --once` (issue 21): both are here.
STORE_COMMANDS = [["sync", "--once"], ["sync"], ["status"], ["review"], ["plan"], ["report"]]


def write_config(folder: Path) -> Path:
    """A valid config with a SQLite store beside it (not created: see ``migrated``)."""
    config = folder / "handoff-sync.yaml"
    config.write_text(minimal_config(sqlite_url_for(folder / 'state.db')))
    return config


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path)


@pytest.fixture
def migrated(config: Path) -> Path:
    with Store.connect(sqlite_url_for(config.parent / "state.db")) as store:
        store.migrate()
    return config


def said(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command", STORE_COMMANDS, ids=" ".join)
def test_a_missing_config_file(command: list[str], tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.yaml"
    code, out, err = said(capsys, *command, "--config", str(missing))
    assert (code, out) == (1, "")
    assert err == (f"handoff-sync {command[0]}: config file {missing} not found: create one "
                   f"with `handoff-sync init --out {missing}`\n")


@pytest.mark.parametrize("command", STORE_COMMANDS, ids=" ".join)
def test_a_database_at_an_older_schema(command: list[str], config: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    with Store.connect(sqlite_url_for(config.parent / "state.db")) as store, \
            pytest.raises(SchemaOutdated) as outdated:
        store.require_current_schema()
    problem = str(outdated.value)
    code, out, err = said(capsys, *command, "--config", str(config))
    assert (code, out) == (1, "")
    assert err == f"handoff-sync {command[0]}: {problem}\n"
    assert "handoff-sync migrate" in err


@pytest.mark.parametrize("command", [["sync", "--once"], ["plan"], ["status"]],
                         ids=lambda c: c[0])
def test_an_unknown_pipeline(command: list[str], migrated: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = said(capsys, *command, "--config", str(migrated), "--pipeline", "nope")
    assert (code, out) == (1, "")
    assert err == (f"handoff-sync {command[0]}: {migrated}: no pipeline named 'nope' "
                   "(known: partners)\n")


def test_a_report_before_any_cycle(migrated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = said(capsys, "report", "--config", str(migrated))
    assert (code, out) == (1, "")
    assert err == ("handoff-sync report: pipeline partners: no cycle has run yet: run "
                   "`handoff-sync sync` first\n")


def test_review_refusals(migrated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = said(capsys, "review", "link", "--config", str(migrated))
    assert (code, out, err) == (1, "", "handoff-sync review: review link needs the item's "
                                       "key (see `handoff-sync review`)\n")
    code, out, err = said(capsys, "review", "link", "k1", "006A", "--opportunity", "006B",
                          "--config", str(migrated))
    assert (code, out, err) == (2, "", "handoff-sync review: two opportunities given (006A "
                                       "and --opportunity 006B): give one\n")
    code, out, err = said(capsys, "review", "link", "k1", "006A", "--config", str(migrated))
    assert (code, out, err) == (1, "", "handoff-sync review: no review item 'k1' in pipeline "
                                       "'partners'; `handoff-sync review` lists the open "
                                       "ones\n")
    code, out, err = said(capsys, "review", "dismiss", "k1", "--config", str(migrated))
    assert (code, out) == (1, "")
    assert err.startswith("handoff-sync review: ") and err.count("\n") == 1


def test_the_demo_refuses_a_folder_in_use(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    code, out, err = said(capsys, "demo", "--dir", str(tmp_path))
    assert (code, out) == (1, "")
    assert err.endswith(f"handoff-sync demo: {tmp_path} is not empty; pass --force to run "
                        "the demo in it again (its database starts over) or --dir a new "
                        "folder\n")


# --- errors no command catches itself: cli.main says them -----------------------------


@pytest.mark.parametrize(("error", "code"), [
    (LeaseLost("the lease 'pipeline:partners' is held by other:1:cli"), 1),
    (MappingError([Problem(Path("m/salesforce.yaml"), 3, 1, ("object",), "missing")]), 1),
    (LinkRefused("say which registration with --registration ID", USAGE), 2),
    (ConflictError("another replica holds it", hint="wait for its cycle"), 1),
])
def test_a_user_error_from_deep_inside_a_command_is_one_line(
        error: UserError, code: int, migrated: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise error

    monkeypatch.setattr(Store, "status", refuse)
    assert said(capsys, "status", "--config", str(migrated)) == (
        code, "", f"handoff-sync status: {error}\n")


def test_no_traceback_in_a_real_process(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = subprocess.run([EXE, "status", "--config", str(missing)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr == (f"handoff-sync status: config file {missing} not found: create "
                             f"one with `handoff-sync init --out {missing}`\n")
