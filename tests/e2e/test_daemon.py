"""The daemon around sync cycles: locks, leases, the canonical log line, metrics, shutdown.

The pipeline runner is faked at our own seam (``run_cycle``); config and store are the
real ones (a SQLite file per test); scheduling is APScheduler's, started for real where
the test is about it.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from handoff_sync.config.settings import Config, PipelineConfig
from handoff_sync.daemon import scheduler
from handoff_sync.daemon.scheduler import REPLICA_LEASE, Daemon, PortUnavailable, default_holder
from handoff_sync.store.database import sqlite_url_for
from handoff_sync.store.sync_requests import ABANDONED
from handoff_sync.store.types import LeaseLost, RunKind, RunOutcome, SchemaOutdated
from handoff_sync.sync.cycle import CycleReport
from handoff_sync.testing.clock import FakeClock
from handoff_sync.testing.daemon import (
    T0,
    FakeRunner,
    ObservedStore,
    Overlap,
    make_config,
    make_report,
    open_store,
    usage,
    wait_for,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ObservedStore]:
    opened = open_store(tmp_path)
    yield opened
    opened.close()


def events(captured: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [entry for entry in captured if entry["event"] == name]


class Harness:
    """A daemon over a fake store, with one fake runner per pipeline built on demand."""

    def __init__(self, store: ObservedStore, config: Config | None = None, *,
                 clock: FakeClock | None = None, holder: str = "me:1:a",
                 runner: Callable[[str], Any] | None = None) -> None:
        self.config = config or make_config()
        self.store = store
        self.clock = clock or FakeClock()
        self.runners: dict[str, Any] = {}
        make = runner or (lambda name: FakeRunner(name))

        def factory(pipeline: PipelineConfig) -> Any:
            self.runners[pipeline.name] = make(pipeline.name)
            return self.runners[pipeline.name]

        self.daemon = Daemon(self.config, self.store, factory, holder=holder, clock=self.clock)

    def metric(self, name: str, **labels: str) -> float | None:
        return self.daemon.metrics.value(name, **labels)


class ReportingRunner:
    """Returns a prepared report (the canonical-line and metrics tests need exact values)."""

    def __init__(self, report: CycleReport) -> None:
        self.report = report
        self.calls: list[dict[str, Any]] = []
        self.closed = False

    def run_cycle(self, **kwargs: Any) -> CycleReport:
        self.calls.append(kwargs)
        return self.report

    def close(self) -> None:
        self.closed = True


def rich_report(pipeline: str = "alpha") -> CycleReport:
    return make_report(
        pipeline, kind=RunKind.FULL, outcome=RunOutcome.PARTIAL, run_id="r-42",
        started_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        ended_at=datetime(2026, 3, 2, 9, 0, 3, 250000, tzinfo=UTC),
        counts={"records_read": 40, "records_written": 7, "tasks_created": 3, "errors": 2},
        api_calls={"salesforce": usage({"query": 4, "write": 2}, daily_used=900,
                                       daily_limit=15000, throttled=1.5),
                   "hubspot": usage({"search": 3})},
        drift={"salesforce.Opportunity.Budget__c": "field missing"},
        message="2 record(s) failed and retry later")


# -- one cycle ----------------------------------------------------------------------------

def test_a_cycle_logs_one_canonical_line_with_run_id_and_totals(
        store: ObservedStore, logs: list[dict]) -> None:
    h = Harness(store, runner=lambda name: ReportingRunner(rich_report(name)))
    report = h.daemon.run_pipeline("alpha")
    assert report is not None and report.run_id == "r-42"
    [line] = events(logs, "cycle_finished")
    assert line["pipeline"] == "alpha" and line["run_id"] == "r-42"
    assert line["log_level"] == "warning"  # partial: some records failed
    assert line["kind"] == "full" and line["outcome"] == "partial"
    assert line["duration_ms"] == 3250
    assert line["counts"]["records_written"] == 7
    assert line["api_calls"] == {"salesforce": 6, "hubspot": 3}
    assert line["throttled_seconds"] == 1.5
    assert line["drift_fields"] == 1 and line["message"].startswith("2 record(s)")


def test_an_ok_cycle_line_is_info_and_carries_no_message(store: ObservedStore,
                                                          logs: list[dict]) -> None:
    Harness(store).daemon.run_pipeline("alpha")
    [line] = events(logs, "cycle_finished")
    assert line["log_level"] == "info" and line["outcome"] == "ok"
    assert "message" not in line


def test_the_runner_gets_the_lease_the_stop_flag_and_who_decides_full(
        store: ObservedStore) -> None:
    h = Harness(store, holder="host-a:7:ff")
    h.daemon.run_pipeline("alpha")
    h.daemon.run_pipeline("alpha", full=True)
    incremental, full = h.runners["alpha"].calls
    assert incremental["full"] is None  # the runner decides (first cycle, mappings changed)
    assert full["full"] is True
    assert incremental["lease"] == ("pipeline:alpha", "host-a:7:ff")
    assert incremental["should_stop"]() is False
    assert store.holder_of("pipeline:alpha") == "host-a:7:ff"  # kept after the cycle


def test_metrics_follow_the_report(store: ObservedStore) -> None:
    h = Harness(store, runner=lambda name: ReportingRunner(rich_report(name)))
    h.daemon.run_pipeline("alpha")
    assert h.metric("handoff_sync_cycles_total", pipeline="alpha", kind="full",
                    outcome="partial") == 1
    assert h.metric("handoff_sync_records_written_total", pipeline="alpha") == 7
    assert h.metric("handoff_sync_lease_held", pipeline="alpha") == 1


def test_one_runner_per_pipeline_reused_across_cycles(store: ObservedStore) -> None:
    h = Harness(store)
    first = h.daemon.run_pipeline("alpha")
    runner = h.runners["alpha"]
    h.daemon.run_pipeline("alpha")
    assert first is not None and h.runners["alpha"] is runner and len(runner.calls) == 2


# -- leases -------------------------------------------------------------------------------

def test_a_lease_held_by_another_replica_skips_the_cycle(store: ObservedStore,
                                                         logs: list[dict]) -> None:
    h = Harness(store)
    store.try_lease("pipeline:alpha", "other:9:b", timedelta(seconds=180), h.clock())
    assert h.daemon.run_pipeline("alpha") is None
    assert h.runners == {}  # no runner (no connectors) for a pipeline someone else runs
    [skip] = events(logs, "cycle_skipped")
    assert skip["reason"] == "lease_held_elsewhere" and skip["log_level"] == "debug"
    assert skip["pipeline"] == "alpha"
    assert h.metric("handoff_sync_cycles_skipped_total", pipeline="alpha",
                    reason="lease_held_elsewhere") == 1
    assert h.metric("handoff_sync_lease_held", pipeline="alpha") == 0


def test_a_dead_replicas_pipeline_is_taken_over_once_its_lease_expires(
        store: ObservedStore) -> None:
    clock = FakeClock()
    dead = Harness(store, clock=clock, holder="a:1:x")
    assert dead.daemon.run_pipeline("alpha") is not None  # then SIGKILLed: nothing released
    heir = Harness(store, clock=clock, holder="b:2:y")
    clock.advance(179)
    assert heir.daemon.run_pipeline("alpha") is None
    clock.advance(2)  # lease_seconds (180) after the dead replica's last renewal
    assert heir.daemon.run_pipeline("alpha") is not None
    assert store.holder_of("pipeline:alpha") == "b:2:y"


def test_heartbeat_renews_at_most_every_third_of_the_lease(store: ObservedStore) -> None:
    clock = FakeClock()
    # 12 batches, 20 s apart on the fake clock: 240 s of cycle against a 180 s lease.
    h = Harness(store, clock=clock,
                runner=lambda name: FakeRunner(name, batches=12, clock=clock, clock_step=20))
    report = h.daemon.run_pipeline("alpha")
    assert report is not None and report.outcome == RunOutcome.OK
    # One take at the start, then one renewal per 60 s: at 60, 120, 180 and 240 s.
    assert store.lease_calls == 1 + 4
    assert store.lease("pipeline:alpha") == ("me:1:a", clock() + timedelta(seconds=180))


def test_a_lease_lost_mid_cycle_is_logged_counted_and_the_daemon_goes_on(
        store: ObservedStore, logs: list[dict]) -> None:
    clock = FakeClock()
    thefts = [1]

    def steal() -> None:
        # Our lease lapses (a long GC pause, say) and another replica takes it, once.
        if thefts:
            thefts.pop()
            clock.advance(200)
            assert store.try_lease("pipeline:alpha", "other:9:b", timedelta(seconds=180),
                                   clock())

    h = Harness(store, clock=clock, runner=lambda name: FakeRunner(name, batches=2,
                                                                   on_start=steal))
    assert h.daemon.run_pipeline("alpha") is None
    [lost] = events(logs, "lease_lost")
    assert lost["log_level"] == "warning" and lost["pipeline"] == "alpha"
    assert not events(logs, "cycle_finished")
    assert h.metric("handoff_sync_leases_lost_total", pipeline="alpha") == 1
    assert h.metric("handoff_sync_lease_held", pipeline="alpha") == 0
    clock.advance(181)  # the thief's lease expires in turn
    assert h.daemon.run_pipeline("alpha") is not None


def test_lease_lost_raised_by_the_runner_is_handled_the_same_way(store: ObservedStore,
                                                                  logs: list[dict]) -> None:
    h = Harness(store, runner=lambda name: FakeRunner(
        name, fail=LeaseLost("taken before recording")))
    assert h.daemon.run_pipeline("alpha") is None
    assert events(logs, "lease_lost")[0]["message"] == "taken before recording"
    assert h.daemon.failed_cycles == 1


# -- failures -----------------------------------------------------------------------------

def test_a_cycle_that_raises_is_logged_counted_and_the_next_one_runs(
        store: ObservedStore, logs: list[dict]) -> None:
    failing = [True]

    class Flaky(FakeRunner):
        def run_cycle(self, **kwargs: Any) -> CycleReport:
            if failing:
                failing.pop()
                raise RuntimeError("upstream said no\nAuthorization: Bearer abc.def")
            return super().run_cycle(**kwargs)

    h = Harness(store, runner=lambda name: Flaky(name))
    assert h.daemon.run_pipeline("alpha") is None
    [failed] = events(logs, "cycle_failed")
    assert failed["error"] == "RuntimeError" and failed["message"] == "upstream said no"
    assert failed["pipeline"] == "alpha" and failed["log_level"] == "error"
    assert h.metric("handoff_sync_cycle_exceptions_total", pipeline="alpha",
                    kind="incremental", error="RuntimeError") == 1
    assert h.daemon.run_pipeline("alpha") is not None


def test_a_runner_that_cannot_be_built_fails_the_cycle_not_the_daemon(
        store: ObservedStore, logs: list[dict]) -> None:
    def factory(name: str) -> FakeRunner:
        raise KeyError("connections.crm")

    h = Harness(store, runner=factory)
    assert h.daemon.run_pipeline("alpha") is None
    assert events(logs, "cycle_failed")[0]["error"] == "KeyError"


# -- one cycle at a time ------------------------------------------------------------------

def test_a_busy_pipeline_skips_the_interval_run_and_the_full_run_waits(
        store: ObservedStore, logs: list[dict]) -> None:
    overlap = Overlap()
    h = Harness(store, runner=lambda name: FakeRunner(name, batches=6, batch_seconds=0.05,
                                                      overlap=overlap))
    first = threading.Thread(target=h.daemon.run_pipeline, args=("alpha",))
    first.start()
    assert wait_for(lambda: "alpha" in h.runners and h.runners["alpha"].started.is_set())
    assert h.daemon.run_pipeline("alpha") is None  # incremental: busy, skipped
    assert events(logs, "cycle_skipped")[0]["reason"] == "pipeline_busy"
    full = h.daemon.run_pipeline("alpha", full=True)  # waits for the lock, then runs
    first.join(5)
    assert full is not None and full.kind == RunKind.FULL
    assert overlap.kinds == ["incremental", "full"] and overlap.peak == 1


def test_scheduled_incremental_and_full_cycles_never_overlap(store: ObservedStore) -> None:
    overlap = Overlap()
    h = Harness(store, make_config(interval_seconds=5, lease_seconds=30),
                runner=lambda name: FakeRunner(name, batches=8, batch_seconds=0.05,
                                               overlap=overlap))

    def fire(job: str) -> None:
        h.daemon.scheduler.modify_job(job, next_run_time=datetime.now(UTC))

    def finished(kind: str) -> float | None:
        return h.metric("handoff_sync_cycles_total", pipeline="alpha", kind=kind,
                        outcome="ok")

    h.daemon.start()
    try:
        assert wait_for(lambda: "alpha" in h.runners and h.runners["alpha"].started.is_set())
        fire("full:alpha")  # the nightly job, while the first interval cycle runs: it waits
        assert wait_for(lambda: "full" in overlap.kinds)
        fire("sync:alpha")  # the interval job while the full one runs: skipped
        assert wait_for(lambda: finished("full") == 1)
        fire("sync:alpha")  # and once the pipeline is free again, it runs
        assert wait_for(lambda: finished("incremental") == 2)
    finally:
        h.daemon.stop()
        h.daemon.shutdown()
    assert overlap.kinds == ["incremental", "full", "incremental"] and overlap.peak == 1
    assert h.metric("handoff_sync_cycles_skipped_total", pipeline="alpha",
                    reason="pipeline_busy") == 1


def test_two_pipelines_run_side_by_side(store: ObservedStore) -> None:
    overlap = Overlap()
    gate = threading.Barrier(2, timeout=5)
    h = Harness(store, make_config("alpha", "beta"),
                runner=lambda name: FakeRunner(name, overlap=overlap, on_start=gate.wait))
    h.daemon.start()  # both first cycles start at once; the barrier needs both together
    try:
        for name in ("alpha", "beta"):
            assert wait_for(lambda name=name: h.metric(
                "handoff_sync_cycles_total", pipeline=name, kind="incremental",
                outcome="ok") == 1)
    finally:
        h.daemon.stop()
        h.daemon.shutdown()


# -- scheduler set-up -----------------------------------------------------------------------

def test_jobs_per_enabled_pipeline_with_scheduler_hygiene(store: ObservedStore) -> None:
    config = make_config("alpha", "off", disabled=("off",), interval_seconds=90,
                         jitter_seconds=10, full_reconcile_cron="30 2 * * 1-5",
                         timezone="Europe/Berlin")
    h = Harness(store, config)
    h.daemon.scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in h.daemon.scheduler.get_jobs()}
        assert set(jobs) == {"sync:alpha", "full:alpha", "requests"}
        assert isinstance(jobs["requests"].trigger, IntervalTrigger)
        assert jobs["requests"].max_instances == 1
        sync, full = jobs["sync:alpha"], jobs["full:alpha"]
        assert isinstance(sync.trigger, IntervalTrigger) and sync.trigger.jitter == 10
        assert sync.trigger.interval == timedelta(seconds=90)
        assert (sync.max_instances, sync.coalesce, sync.misfire_grace_time) == (1, True, 90)
        assert sync.next_run_time <= datetime.now(UTC)  # the first cycle starts at once
        assert sync.kwargs == {"full": False} and full.kwargs == {"full": True}
        assert isinstance(full.trigger, CronTrigger)
        assert str(full.trigger.timezone) == "Europe/Berlin"
        assert str(full.next_run_time.tzinfo) == "Europe/Berlin"
        assert (full.next_run_time.hour, full.next_run_time.minute) == (2, 30)
        assert full.next_run_time.isoweekday() <= 5
        assert (full.max_instances, full.coalesce) == (1, True)
    finally:
        h.daemon.scheduler.shutdown(wait=False)


def test_default_holder_names_host_and_process_and_differs_per_daemon() -> None:
    a, b = default_holder(), default_holder()
    assert a != b and a.count(":") == 2


# -- run_forever, run_once, shutdown ----------------------------------------------------------

def serve(h: Harness) -> tuple[threading.Thread, list[int]]:
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(h.daemon.run_forever()))
    thread.start()
    return thread, result


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_run_forever_stops_promptly_and_the_cycle_in_hand_sees_should_stop(
        store: ObservedStore, logs: list[dict]) -> None:
    h = Harness(store, runner=lambda name: FakeRunner(name, batches=400, batch_seconds=0.05))
    thread, result = serve(h)
    assert wait_for(lambda: "alpha" in h.runners and h.runners["alpha"].started.is_set())
    assert h.daemon.health_url is not None
    assert get(h.daemon.health_url + "/healthz") == (200, "ok\n")
    assert get(h.daemon.health_url + "/readyz") == (200, "ready\n")
    began = time.monotonic()
    h.daemon.stop()
    thread.join(10)
    assert not thread.is_alive() and result == [0]
    assert time.monotonic() - began < 3
    runner = h.runners["alpha"]
    assert runner.saw_stop and runner.closed and store.closed
    [line] = events(logs, "cycle_finished")
    assert line["outcome"] == "interrupted"
    assert store.holder_of("pipeline:alpha") is None  # released on shutdown
    assert h.metric("handoff_sync_lease_held", pipeline="alpha") == 0
    assert events(logs, "daemon_stopped")


def test_healthz_turns_503_while_the_daemon_is_stopping(store: ObservedStore) -> None:
    # The runner keeps going for about a second after the stop (a slow batch).
    h = Harness(store, runner=lambda name: FakeRunner(name, batches=20, batch_seconds=0.05,
                                                      ignore_stop=True))
    thread, _ = serve(h)
    assert wait_for(lambda: "alpha" in h.runners and h.runners["alpha"].started.is_set())
    url = h.daemon.health_url
    assert url is not None
    h.daemon.stop()
    assert get(url + "/healthz") == (503, "stopping\n")
    thread.join(10)
    assert not thread.is_alive()


def test_run_forever_refuses_an_outdated_schema_before_starting_anything(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    h = Harness(open_store(tmp_path, migrate=False))
    with pytest.raises(SchemaOutdated, match="handoff-sync migrate"):
        h.daemon.run_forever()
    assert not h.daemon.scheduler.running and h.daemon.health_url is None and h.runners == {}


def test_run_forever_reports_a_port_in_use(store: ObservedStore,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    first = Harness(store)
    first.daemon.start()
    try:
        port = int(str(first.daemon.health_url).rsplit(":", 1)[1])
        with pytest.raises(PortUnavailable, match=r"set server\.port") as refused:
            Harness(store, make_config(port=port)).daemon.run_forever()
        assert refused.value.exit_code == 2
    finally:
        first.daemon.shutdown()


def test_run_once_runs_each_pipeline_respecting_leases_then_releases(
        store: ObservedStore) -> None:
    h = Harness(store, make_config("alpha", "beta", "off", disabled=("off",)))
    store.try_lease("pipeline:beta", "other:9:b", timedelta(seconds=180), h.clock())
    assert h.daemon.run_once() == 0
    assert set(h.runners) == {"alpha"} and len(h.runners["alpha"].calls) == 1
    assert store.holder_of("pipeline:alpha") is None
    assert store.holder_of("pipeline:beta") == "other:9:b"
    assert h.runners["alpha"].closed and store.closed


def test_run_once_exits_1_when_a_cycle_failed(tmp_path: Path) -> None:
    assert Harness(open_store(tmp_path / "a"), runner=lambda name: FakeRunner(
        name, fail=RuntimeError("x"))).daemon.run_once() == 1
    failed = ReportingRunner(make_report(outcome=RunOutcome.FAILED, message="mappings"))
    assert Harness(open_store(tmp_path / "b"),
                   runner=lambda name: failed).daemon.run_once() == 1


def test_shutdown_is_idempotent_and_survives_a_failing_close(store: ObservedStore,
                                                             logs: list[dict]) -> None:
    class BadClose(FakeRunner):
        def close(self) -> None:
            raise OSError("socket already gone")

    h = Harness(store, runner=lambda name: BadClose(name))
    h.daemon.run_pipeline("alpha")
    h.daemon.shutdown()
    h.daemon.shutdown()
    assert [e["what"] for e in events(logs, "close_failed")] == ["BadClose"]
    assert len(events(logs, "daemon_stopped")) == 1 and store.closed


# -- health that tells the truth ----------------------------------------------------------

class RecordingRunner:
    """Records its run rows in the store as ``sync.PipelineRunner`` does: a failed report
    closes its row as failed, and so does a cycle that raises (before re-raising)."""

    def __init__(self, name: str, store: ObservedStore, clock: FakeClock,
                 script: list[str]) -> None:
        self.name, self.store, self.clock = name, store, clock
        self.script = script  # "ok", "failed" or "raise" per cycle; the last one repeats
        self.gate = threading.Event()
        self.gate.set()
        self.started = threading.Event()
        self.calls = 0

    def run_cycle(self, **kwargs: Any) -> CycleReport:
        self.calls += 1
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        self.clock.advance(60)
        run_id, started = f"run-{uuid.uuid4().hex[:8]}", self.clock()
        self.store.start_run(self.name, run_id, RunKind.INCREMENTAL, started, "me:1:a")
        self.started.set()
        self.gate.wait(10)
        ended = started + timedelta(seconds=2)
        if step == "raise":
            self.store.finish_run(run_id, ended, RunOutcome.FAILED,
                                  "ValueError: year 385333 is out of range", {}, {})
            raise ValueError("year 385333 is out of range")
        outcome = RunOutcome.OK if step == "ok" else RunOutcome.FAILED
        message = None if step == "ok" else "AuthError: hubspot: the token was refused"
        self.store.finish_run(run_id, ended, outcome, message, {}, {})
        return make_report(self.name, outcome=outcome, started_at=started, ended_at=ended,
                           run_id=run_id, message=message,
                           counts={"reviews_open": 2} if step == "ok" else {})

    def close(self) -> None:
        pass


def test_failed_cycles_turn_readyz_503_and_never_move_the_last_success(
        store: ObservedStore) -> None:
    clock = FakeClock()
    script = ["ok", "failed", "raise", "failed"]
    h = Harness(store, clock=clock,
                runner=lambda name: RecordingRunner(name, store, clock, script))
    for _ in range(4):
        h.daemon.run_pipeline("alpha")
    success = (T0 + timedelta(seconds=62)).timestamp()
    assert h.metric("handoff_sync_last_success_timestamp_seconds", pipeline="alpha") == success
    assert h.metric("handoff_sync_consecutive_failed_cycles", pipeline="alpha") == 3
    assert h.metric("handoff_sync_cycle_failures_total", pipeline="alpha", reason="auth") == 2
    assert h.metric("handoff_sync_cycle_failures_total", pipeline="alpha",
                    reason="internal") == 1
    assert h.metric("handoff_sync_review_items_open", pipeline="alpha") == 2
    assert h.metric("handoff_sync_sync_errors", pipeline="alpha") == 0
    h.daemon.start()  # its first cycle fails too (the script's last step repeats)
    try:
        url = h.daemon.health_url
        assert url is not None and wait_for(lambda: h.runners["alpha"].calls >= 5)
        status, body = get(url + "/readyz")
        assert status == 503 and body.startswith("not ready: pipeline alpha: ")
        assert "failed cycles in a row (auth; last at " in body
        assert body.endswith("AuthError: hubspot: the token was refused\n")
        script[:] = ["ok"]
        assert h.daemon.run_pipeline("alpha", full=True) is not None
        assert get(url + "/readyz") == (200, "ready\n")
        assert h.metric("handoff_sync_consecutive_failed_cycles", pipeline="alpha") == 0
        moved = h.metric("handoff_sync_last_success_timestamp_seconds", pipeline="alpha")
        assert moved is not None and moved > success
    finally:
        h.daemon.shutdown()


def test_a_restarted_daemon_knows_the_failing_streak_and_the_last_success(
        tmp_path: Path) -> None:
    clock = FakeClock()
    first = Harness(open_store(tmp_path), clock=clock, runner=lambda name: RecordingRunner(
        name, first.store, clock, ["ok", "failed"]))
    for _ in range(4):
        first.daemon.run_pipeline("alpha")
    first.daemon.shutdown()
    store = open_store(tmp_path)
    runners: list[RecordingRunner] = []

    def held(name: str) -> RecordingRunner:
        runners.append(RecordingRunner(name, store, clock, ["ok"]))
        runners[0].gate.clear()  # the first cycle after the restart waits for the test
        return runners[0]

    second = Harness(store, clock=clock, runner=held)
    second.daemon.start()
    try:
        assert wait_for(lambda: bool(runners) and runners[0].started.is_set())
        assert second.metric("handoff_sync_consecutive_failed_cycles", pipeline="alpha") == 3
        assert second.metric("handoff_sync_last_success_timestamp_seconds",
                             pipeline="alpha") == (T0 + timedelta(seconds=62)).timestamp()
        url = second.daemon.health_url
        assert url is not None and get(url + "/readyz")[0] == 503
        runners[0].gate.set()
        assert wait_for(lambda: get(url + "/readyz") == (200, "ready\n"))
    finally:
        runners[0].gate.set()
        second.daemon.shutdown()


# -- "sync now" requests --------------------------------------------------------------------


def test_a_request_whose_replica_died_is_closed_by_another_replica(
        store: ObservedStore) -> None:
    clock, release = FakeClock(), threading.Event()
    dead = Harness(store, clock=clock, holder="a:1:x",
                   runner=lambda name: FakeRunner(name, on_start=lambda: release.wait(10)))
    asked = store.ask_sync("alpha", by="ada", now=clock())
    stalled = threading.Thread(target=dead.daemon.serve_requests)
    stalled.start()
    try:
        assert wait_for(lambda: store.sync_request(asked)["status"] == "running")  # type: ignore[index]
        heir = Harness(store, clock=clock, holder="b:2:y")
        assert heir.daemon.serve_requests() == []
        assert store.sync_request(asked)["status"] == "running"  # type: ignore[index]
        clock.advance(REPLICA_LEASE.total_seconds())  # a:1:x no longer renews its presence
        assert heir.daemon.serve_requests() == []
        closed = store.sync_request(asked)
        assert closed is not None and (closed["status"], closed["outcome"],
                                       closed["message"]) == ("done", "interrupted", ABANDONED)
    finally:
        release.set()
        stalled.join(10)
    assert store.sync_request(asked)["outcome"] == "interrupted"  # type: ignore[index]
    # Asked again, the heir serves it once the dead replica's pipeline lease lapsed.
    again = store.ask_sync("alpha", by="ada", now=clock())
    clock.advance(180)
    [report] = heir.daemon.serve_requests()
    assert report is not None
    assert store.sync_request(again)["claimed_by"] == "b:2:y"  # type: ignore[index]


def test_a_cycle_stopped_by_a_base_exception_gives_its_requests_back(
        store: ObservedStore) -> None:
    h = Harness(store, runner=lambda name: FakeRunner(name, fail=KeyboardInterrupt()))
    asked = store.ask_sync("alpha", by="ada", now=h.clock())
    with pytest.raises(KeyboardInterrupt):
        h.daemon.serve_requests()
    request = store.sync_request(asked)
    assert request is not None and (request["status"], request["claimed_by"]) == (
        "pending", None)


def test_a_replicas_own_leftover_request_is_closed_by_its_next_cycle(
        store: ObservedStore) -> None:
    h = Harness(store)
    asked = store.ask_sync("alpha", by="ada", now=h.clock())
    # A cycle of this replica claimed it, then could not record the outcome (the
    # database was away): this replica is alive, so only it can tell.
    store.mark_replica("me:1:a", REPLICA_LEASE, h.clock())
    store.claim_sync_requests("alpha", holder="me:1:a", token="lost", now=h.clock())
    assert h.daemon.serve_requests() == []
    assert store.sync_request(asked)["status"] == "running"  # type: ignore[index]
    assert h.daemon.run_pipeline("alpha") is not None
    closed = store.sync_request(asked)
    assert closed is not None and (closed["status"], closed["message"]) == ("done", ABANDONED)


class ClaimedElsewhereMeanwhile(ObservedStore):
    """Another replica claims the pending requests between this one's look and its claim."""

    def pending_sync_pipelines(self) -> list[str]:
        pending = super().pending_sync_pipelines()
        for name in pending:
            self.claim_sync_requests(name, holder="other:9:b", token=uuid.uuid4().hex,
                                     now=T0)
        return pending


def test_a_requested_run_with_nothing_left_to_claim_gives_a_new_lease_back(
        tmp_path: Path, store: ObservedStore) -> None:
    racing = ClaimedElsewhereMeanwhile.connect(sqlite_url_for(tmp_path / "state.db"))
    try:
        h = Harness(racing)  # type: ignore[arg-type]
        racing.mark_replica("other:9:b", REPLICA_LEASE, h.clock())
        racing.ask_sync("alpha", by="ada", now=h.clock())
        assert h.daemon.serve_requests() == [None]
        assert racing.lease("pipeline:alpha") is None
        assert h.metric("handoff_sync_lease_held", pipeline="alpha") == 0
        # A lease this replica held already (from its scheduled cycle) it keeps, as
        # after any cycle.
        assert h.daemon.run_pipeline("alpha") is not None
        racing.ask_sync("alpha", by="ada", now=h.clock())
        assert h.daemon.serve_requests() == [None]
        assert store.holder_of("pipeline:alpha") == "me:1:a"
    finally:
        racing.close()


def test_the_replica_stays_present_through_a_long_requested_cycle(
        store: ObservedStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scheduler, "REPLICA_LEASE", timedelta(seconds=0.6))
    started, release = threading.Event(), threading.Event()
    h = Harness(store, runner=lambda name: FakeRunner(
        name, on_start=lambda: (started.set(), release.wait(20))))
    # The scheduled cycle at start is skipped (another replica's lease); the requests
    # job then runs the requested cycle, and is busy with it.
    store.try_lease("pipeline:alpha", "other:9:b", timedelta(seconds=180), h.clock())
    h.daemon.start()
    try:
        assert wait_for(lambda: h.metric("handoff_sync_cycles_skipped_total",
                                         pipeline="alpha", reason="lease_held_elsewhere") == 1)
        store.ask_sync("alpha", by="ada", now=h.clock())
        store.release_lease("pipeline:alpha", "other:9:b")
        assert started.wait(10)
        for _ in range(3):
            h.clock.advance(1)  # longer than the presence lease
            assert wait_for(lambda: store.live_replicas(h.clock()) == ["me:1:a"], timeout=3)
    finally:
        release.set()
        h.daemon.shutdown()
    assert store.live_replicas(h.clock()) == []
