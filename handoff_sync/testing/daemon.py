"""The daemon's test kit: a real Config, CycleReports and usage figures as the daemon sees
them, a fake runner, an observed store; for the daemon, health, metrics, status and
secrets tests and the signal-test subprocess script.

Config and store are the real ones (the store on a SQLite file). The runner is a fake at
our own seam: it stands in for ``sync.PipelineRunner`` and returns the real
``CycleReport``. No connector is faked anywhere.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from handoff_sync.config.secrets import LoadContext
from handoff_sync.config.settings import Config
from handoff_sync.store import Store, sqlite_url_for
from handoff_sync.store.types import RunKind, RunOutcome
from handoff_sync.sync.cycle import CycleReport
from handoff_sync.sync.progress import Phase, Progress, ProgressEvent, no_progress
from handoff_sync.testing.clock import START, FakeClock

T0 = START


def make_config(*names: str, disabled: Sequence[str] = (), port: int = 0,
                **schedule: Any) -> Config:
    """A real ``Config`` (validated as a file would be) with one pipeline per name.

    Nothing on disk is needed: the daemon never opens the mappings or the connections
    (its runners do, and these tests fake the runner)."""
    pipelines = [{"name": name, "prm": "prm", "crm": "crm", "mappings": "mappings",
                  "enabled": name not in disabled} for name in (names or ("alpha",))]
    document = {
        "version": 1, "server": {"host": "127.0.0.1", "port": port},
        "schedule": {"interval_seconds": 60, "jitter_seconds": 0, "lease_seconds": 180,
                     **schedule},
        "connections": {"crm": {"system": "hubspot", "access_token": "${HS_TOKEN}"},
                        "prm": {"system": "files", "folder": "drops", "id_field": "id"}},
        "pipelines": pipelines,
    }
    return Config.model_validate(document, context=LoadContext(base=Path("/nonexistent"),
                                                               environ={}))


class ObservedStore(Store):
    """The real store (SQLite file), counting lease calls and noting when it is closed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lease_calls = 0
        self.closed = False

    def try_lease(self, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
        self.lease_calls += 1
        return super().try_lease(name, holder, ttl, now)

    def close(self) -> None:
        self.closed = True
        super().close()

    def holder_of(self, name: str) -> str | None:
        current = self.lease(name)
        return current[0] if current else None


def open_store(folder: Path, *, migrate: bool = True) -> ObservedStore:
    store = ObservedStore.connect(sqlite_url_for(folder / "state.db"))
    assert isinstance(store, ObservedStore)
    if migrate:
        store.migrate()
    return store


class Overlap:
    """Counts cycles running at once per pipeline; ``peak`` must stay 1."""

    def __init__(self) -> None:
        self.active: dict[str, int] = {}
        self.peak = 0
        self.kinds: list[str] = []
        self._lock = threading.Lock()

    def enter(self, pipeline: str, kind: str) -> None:
        with self._lock:
            self.active[pipeline] = self.active.get(pipeline, 0) + 1
            self.peak = max(self.peak, self.active[pipeline])
            self.kinds.append(kind)

    def leave(self, pipeline: str) -> None:
        with self._lock:
            self.active[pipeline] -= 1


class FakeRunner:
    """Runs ``batches`` batches of ``batch_seconds`` each, checking ``should_stop`` and
    calling ``heartbeat`` between them and reporting them as the write step's progress,
    as ``sync.PipelineRunner`` does."""

    def __init__(self, name: str, *, batches: int = 1, batch_seconds: float = 0.0,
                 overlap: Overlap | None = None, clock: FakeClock | None = None,
                 clock_step: float = 0.0, fail: BaseException | None = None,
                 on_start: Callable[[], None] | None = None,
                 on_end: Callable[[CycleReport], None] | None = None,
                 ignore_stop: bool = False) -> None:
        self.name = name
        self.batches = batches
        self.batch_seconds = batch_seconds
        self.overlap = overlap or Overlap()
        self.clock = clock
        self.clock_step = clock_step
        self.fail = fail
        self.on_start = on_start
        self.on_end = on_end
        self.ignore_stop = ignore_stop
        self.calls: list[dict[str, Any]] = []
        self.saw_stop = False
        self.closed = False
        self.started = threading.Event()

    def run_cycle(self, *, full: bool | None = None, dry_run: bool = False,
                  should_stop: Callable[[], bool] = lambda: False,
                  lease: tuple[str, str] | None = None,
                  heartbeat: Callable[[], None] = lambda: None,
                  progress: Progress = no_progress) -> CycleReport:
        self.calls.append({"full": full, "dry_run": dry_run, "lease": lease,
                           "should_stop": should_stop})
        kind = RunKind.FULL if full else RunKind.INCREMENTAL
        self.overlap.enter(self.name, kind.value)
        started = datetime.now(UTC)
        try:
            self.started.set()
            if self.on_start:
                self.on_start()
            if self.fail is not None:
                raise self.fail
            done = 0
            progress(ProgressEvent(Phase.WRITE, 0, self.batches))
            for _ in range(self.batches):
                if should_stop() and not self.ignore_stop:
                    self.saw_stop = True
                    break
                time.sleep(self.batch_seconds)
                if self.clock is not None:
                    self.clock.advance(self.clock_step)
                heartbeat()
                done += 1
                progress(ProgressEvent(Phase.WRITE, done, self.batches))
            progress(ProgressEvent(Phase.WRITE, done, self.batches, ended=True))
        finally:
            self.overlap.leave(self.name)
        outcome = RunOutcome.INTERRUPTED if self.saw_stop else RunOutcome.OK
        report = make_report(self.name, kind=kind, outcome=outcome, started_at=started,
                             ended_at=datetime.now(UTC), counts={"records_read": done})
        if self.on_end:
            self.on_end(report)
        return report

    def close(self) -> None:
        self.closed = True


def make_report(pipeline: str = "alpha", *, kind: RunKind = RunKind.INCREMENTAL,
                outcome: RunOutcome = RunOutcome.OK, started_at: datetime = T0,
                ended_at: datetime | None = None, counts: Mapping[str, int] | None = None,
                api_calls: Mapping[str, Mapping[str, Any]] | None = None,
                drift: Mapping[str, str] | None = None, run_id: str = "run-1",
                message: str | None = None) -> CycleReport:
    return CycleReport(
        pipeline=pipeline, run_id=run_id, kind=kind, outcome=outcome, started_at=started_at,
        ended_at=ended_at or started_at + timedelta(seconds=2.5),
        counts=dict(counts or {}), api_calls=dict(api_calls or {}), failures=(),
        drift=dict(drift or {}), message=message)


def usage(calls: Mapping[str, int], *, daily_used: int | None = None,
          daily_limit: int | None = None, throttled: float = 0.0) -> dict[str, Any]:
    """An ``ApiUsage.snapshot()`` as the connectors report it."""
    return {"calls": dict(calls), "total": sum(calls.values()), "daily_used": daily_used,
            "daily_limit": daily_limit, "window_remaining": None, "window_limit": None,
            "throttled_seconds": throttled, "budget_unshared": None, "org": {}}


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
