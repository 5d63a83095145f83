"""`handoff-sync status` as people read it: the failure reason in the table, 80 columns,
times to the second, short ids, no escape sequences, and `--watch` redrawing."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from rich.console import Console

from handoff_sync.cli.main import build_parser
from handoff_sync.cli.status_view import render_status, watch
from handoff_sync.cli.sync import run_status
from handoff_sync.engine.types import Plan
from handoff_sync.model import Role
from handoff_sync.store import Store, sqlite_url_for
from handoff_sync.store.types import (
    CycleOutcome,
    FailureKind,
    RecordFailure,
    RunKind,
    RunOutcome,
)
from handoff_sync.testing.builders import minimal_config
from handoff_sync.testing.daemon import T0

HOSTILE = "\x1b]8;;http://evil\x1b\\Acme\x1b[2J"
LONG_REASON = ("AuthError: hubspot: the private app token was refused (401 "
               "INVALID_AUTHENTICATION); check connections.prm.access_token and that the "
               "app is still installed in portal 12345678 " + HOSTILE)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store.connect(sqlite_url_for(tmp_path / "state.db"))
    opened.migrate()
    return opened


def add_run(store: Store, run_id: str, minutes: int, outcome: RunOutcome,
            message: str | None = None) -> None:
    started = T0 + timedelta(minutes=minutes)
    store.start_run("partners", run_id, RunKind.INCREMENTAL, started, "host:1:abcd")
    store.finish_run(run_id, started + timedelta(seconds=1.5), outcome, message,
                     {}, {"records_read": 12} if outcome == RunOutcome.OK else {})


def rendered(store: Store, width: int = 80) -> str:
    out = io.StringIO()
    render_status(store.status(now=T0 + timedelta(hours=1)),
                  Console(file=out, width=width, highlight=False))
    return out.getvalue()


def test_a_failing_pipeline_shows_why_in_80_columns(store: Store) -> None:
    add_run(store, "aaaaaaaa1111", 0, RunOutcome.OK)
    for minute, run_id in enumerate(("bbbbbbbb2222", "cccccccc3333", "dddddddd4444"), 1):
        add_run(store, run_id, minute, RunOutcome.FAILED, LONG_REASON)
    text = rendered(store)
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    assert ("health: FAILING, 3 failed cycles in a row (auth), last success "
            "03-02 09:00:01:") in text
    row = next(line for line in lines if line.startswith("dddddddd "))
    assert row.split()[:5] == ["dddddddd", "incr", "failed", "03-02", "09:03:00"]
    assert row.split()[-1] == "-"  # no record was handled: not "0 errors"
    assert "dddddddd4444" not in text  # short ids
    reason = text[text.index(row):]
    assert "auth: AuthError: hubspot: the private app token was refused" in \
        " ".join(reason.split())
    assert "\x1b" not in text and "http://evil" not in text and "Acme" in text


def test_a_healthy_pipeline_and_its_record_errors(store: Store) -> None:
    add_run(store, "aaaaaaaa1111", 0, RunOutcome.OK)
    store.record_cycle(_failing_record_outcome(store))
    text = rendered(store)
    assert "health: ok, last success " in text
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "1 record errors" in text and "FIELD_CUSTOM_VALIDATION_EXCEPTION" in text
    assert "\x1b" not in text and "[2J" not in text and "Acme must" in text


def _failing_record_outcome(store: Store) -> CycleOutcome:
    started = T0 + timedelta(minutes=5)
    store.start_run("partners", "eeeeeeee5555", RunKind.INCREMENTAL, started, "h")
    failure = RecordFailure(kind=FailureKind.RECORD, role=Role.CRM, system="salesforce",
                            object="Opportunity", record_id="006000000000001AAA",
                            code="FIELD_CUSTOM_VALIDATION_EXCEPTION",
                            message=f"{HOSTILE} must have an amount above zero")
    return CycleOutcome(pipeline="partners", run_id="eeeeeeee5555",
                        kind=RunKind.INCREMENTAL, started_at=started,
                        ended_at=started + timedelta(seconds=2), outcome=RunOutcome.PARTIAL,
                        plan=Plan("partners", started), written_deals=frozenset(),
                        task_ids={}, mirror={},
                        failures=(failure,))


def test_watch_redraws_until_ctrl_c_and_exits_0() -> None:
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=True)
    draws: list[int] = []
    assert watch(lambda: draws.append(1), 0.5, console=console, refreshes=3,
                 sleep=lambda s: None) == 0
    assert len(draws) == 3 and out.getvalue().count("\x1b[2J") == 3  # cleared each time

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    assert watch(lambda: draws.append(1), 2, console=console, sleep=interrupted) == 0
    assert len(draws) == 4


def test_status_watch_from_the_command_line(store: Store, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    add_run(store, "aaaaaaaa1111", 0, RunOutcome.FAILED, "CycleFailed: the mappings folder "
            "does not validate")
    config = tmp_path / "handoff-sync.yaml"
    config.write_text(minimal_config(sqlite_url_for(tmp_path / 'state.db')))
    args = build_parser().parse_args(["status", "--config", str(config), "--watch", "0.1"])
    assert args.watch == 0.1
    assert run_status(args, refreshes=2) == 0
    out = capsys.readouterr().out
    assert out.count("pipeline partners") == 2
    assert out.count("config: CycleFailed: the mappings folder") == 2
    assert build_parser().parse_args(["status", "--watch"]).watch == 2.0
    with pytest.raises(SystemExit):
        build_parser().parse_args(["status", "--watch", "0"])


def test_every_status_line_fits_80_columns_whatever_the_ids(store: Store) -> None:
    add_run(store, "f" * 40, 0, RunOutcome.FAILED, "x" * 500)
    text = rendered(store)
    assert all(len(line) <= 80 for line in text.splitlines())
    assert re.search(r"^f{8} incr failed", text, re.MULTILINE)


def test_an_api_budget_that_is_not_shared_is_said_in_the_table(store: Store) -> None:
    reason = ("counted by this process only: GET /account-info/v3/details did not name the "
              "portal (hubspot: the HubSpot app lacks the scope(s) (HubSpot did not say "
              "which) needed for read the account details; add them in the app's settings, "
              "then re-install the app or rotate its token); pipelines and replicas on this "
              "portal can together spend more than the share until it does (asked each cycle)")
    started = T0 + timedelta(minutes=1)
    store.start_run("partners", "aaaaaaaa1111", RunKind.INCREMENTAL, started, "host:1:abcd")
    store.finish_run("aaaaaaaa1111", started + timedelta(seconds=1), RunOutcome.OK, None,
                     {"hubspot": {"total": 7, "budget_unshared": reason},
                      "salesforce": {"total": 3, "budget_unshared": None}}, {})
    text = rendered(store)
    assert all(len(line) <= 80 for line in text.splitlines())
    flat = " ".join(text.split())
    assert "API hubspot budget counted by this process only: GET /account-info" in flat
    assert "lacks the scope(s)" in flat and "API salesforce: 3 calls last run" in flat
    assert "API salesforce budget" not in flat
