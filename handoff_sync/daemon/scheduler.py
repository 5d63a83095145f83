"""The long-running daemon: scheduled sync cycles, leases, signals, health and metrics.

Per enabled pipeline the scheduler holds two jobs that call one function:

    sync:<name>   interval (jittered, coalesced, one instance, first run at once);
                  the runner decides whether the cycle is incremental or full
    full:<name>   crontab (``schedule.full_reconcile_cron``): a full reconcile for drift

One cycle of a pipeline at a time in this process (a per-pipeline lock: an interval job
that finds the pipeline busy is skipped, the nightly full job waits its turn), and one
replica at a time across processes (a lease row ``pipeline:<name>`` in the database).
A replica keeps its lease after a cycle and renews it with the next one (and every
third of ``lease_seconds`` during a long one, through the runner's heartbeat); if it dies,
the lease expires after ``lease_seconds`` and another replica's next interval run takes
the pipeline over: within ``lease_seconds + interval_seconds + jitter_seconds``. When
``lease_seconds`` is shorter than the interval (the defaults), the lease lapses between
cycles and replicas may take turns with a pipeline, which is harmless.

A person may ask for a cycle now (the console's "sync now": a row in ``sync_requests``).
A third job, ``requests``, looks for such rows every ``REQUEST_POLL_SECONDS`` and runs
the pipeline's cycle through the same lock and lease as a scheduled one: only a replica
that holds or can take the lease claims the requests (atomically, so two replicas never
both run them), and records the cycle's outcome on them. Every cycle, scheduled or not,
serves the requests pending for its pipeline. A requested run that finds nothing left
to claim (another replica was first) gives back a lease it took only for that. Each poll
also closes the running requests of replicas that died (``sync_requests.close_abandoned``).

A thread of its own (the lease keeper, as for a long cycle) renews this replica's presence
lease (``replica:<holder>``) every third of ``REPLICA_LEASE``, however long cycles take: by
it a console tells whether any daemon runs, and other replicas that this one's running
requests are still served.

With ``app_factory`` (the CLI's, when ``console.enabled``) the health port serves that
ASGI app under uvicorn, built around Starlette routes for /healthz, /readyz and
/metrics; without it, the stdlib ``HealthServer`` serves only those three.

SIGTERM/SIGINT ask the cycle in hand to stop after its batch (the runner checks
``should_stop`` between batches and records what it did; a connector waiting on the API
budget polls it too and gives up the wait within a second, recording nothing); then
leases are released and everything is closed. A second signal exits at once with code 130.
"""

from __future__ import annotations

import logging
import math
import os
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

import structlog
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobSubmissionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from handoff_sync.daemon.asgi import AsgiServer
from handoff_sync.daemon.health import HealthServer, one_line, store_readiness
from handoff_sync.daemon.health_routes import health_routes
from handoff_sync.daemon.lease_keeper import lease_kept
from handoff_sync.daemon.metrics import Metrics
from handoff_sync.daemon.progress import CycleProgressLog
from handoff_sync.daemon.requests import Claim, Requests
from handoff_sync.daemon.signals import StopSignals
from handoff_sync.errors import USER_ERRORS, CommandError
from handoff_sync.store.leases import pipeline_lease
from handoff_sync.store.types import LeaseLost, RunKind, RunOutcome, StoreError
from handoff_sync.sync.failures import failure_message
from handoff_sync.sync.progress import Progress

if TYPE_CHECKING:
    from handoff_sync.config.settings import Config, PipelineConfig
    from handoff_sync.store.types import CycleHealth
    from handoff_sync.sync.cycle import CycleReport

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
# A nightly full reconcile that starts up to an hour late (the process was busy or
# briefly down) is still worth running; later than that, the next night's will do.
FULL_MISFIRE_GRACE_SECONDS = 3600
LOCK_POLL_SECONDS = 0.2  # how often a waiting full job looks at the stop flag
REQUEST_POLL_SECONDS = 2.0  # how often the daemon looks for "sync now" requests
# A replica's presence lease outlives a few missed polls (a busy thread pool), no more.
REPLICA_LEASE = timedelta(seconds=30)
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class PortUnavailable(CommandError):
    """The health and metrics port cannot be bound: the daemon did not start."""

    exit_code = EXIT_USAGE


class Runner(Protocol):
    """What the daemon needs from ``sync.PipelineRunner`` (one per pipeline)."""

    def run_cycle(self, *, full: bool | None = None, dry_run: bool = False,
                  should_stop: Callable[[], bool] = ...,
                  lease: tuple[str, str] | None = None,
                  heartbeat: Callable[[], None] = ...,
                  progress: Progress = ...) -> CycleReport: ...

    def close(self) -> None: ...


class LeaseStore(Protocol):
    """The store calls the daemon makes itself (runners make their own)."""

    def require_current_schema(self) -> None: ...

    def schema_problem(self) -> str | None: ...

    def cycle_health(self, pipeline: str) -> CycleHealth: ...

    def start_run(self, pipeline: str, run_id: str, kind: RunKind, started_at: datetime,
                  holder: str) -> None: ...

    def finish_run(self, run_id: str, ended_at: datetime, outcome: RunOutcome,
                   message: str | None, api_calls: Mapping[str, Any],
                   counts: Mapping[str, int]) -> None: ...

    def try_lease(self, name: str, holder: str, ttl: timedelta, now: datetime) -> bool: ...

    def release_lease(self, name: str, holder: str) -> None: ...

    def release_replica(self, holder: str) -> None: ...

    def mark_replica(self, holder: str, ttl: timedelta, now: datetime) -> None: ...

    def pending_sync_pipelines(self) -> list[str]: ...

    def claim_sync_requests(self, pipeline: str, *, holder: str, token: str,
                            now: datetime) -> list[dict[str, Any]]: ...

    def finish_sync_requests(self, token: str, *, now: datetime, outcome: str,
                             run_id: str | None, message: str | None) -> None: ...

    def close_abandoned_sync_requests(self, now: datetime, *, pipeline: str | None = None,
                                      holder: str | None = None) -> int: ...

    def unclaim_sync_requests(self, token: str) -> None: ...

    def close(self) -> None: ...


RunnerFactory = Callable[["PipelineConfig"], Runner]
# The ASGI app the health port serves, built around the daemon's own routes
# (/healthz, /readyz, /metrics as Starlette routes): the CLI's console.
AppFactory = Callable[[Sequence[Any]], Any]


def utc_now() -> datetime:
    return datetime.now(UTC)


def default_holder() -> str:
    """This replica's lease holder id: host, process and a random part (pids get reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass
class _Slot:
    """One pipeline's share of the daemon: its lock, its runner and its lease."""

    pipeline: PipelineConfig
    lock: threading.Lock = field(default_factory=threading.Lock)
    runner: Runner | None = None
    renewed_at: datetime | None = None  # when this replica last took the lease; None: not held

    @property
    def name(self) -> str:
        return str(self.pipeline.name)


class Daemon:
    """Runs every enabled pipeline on its schedule until asked to stop."""

    def __init__(self, config: Config, store: LeaseStore, runner_factory: RunnerFactory, *,
                 holder: str | None = None, clock: Clock = utc_now,
                 metrics: Metrics | None = None, app_factory: AppFactory | None = None
                 ) -> None:
        self.config = config
        self.store = store
        self.holder = holder or default_holder()
        self.metrics = metrics or Metrics()
        self.stop_event = threading.Event()
        self.failed_cycles = 0  # cycles that raised or lost their lease (``run --once`` exit code)
        self._runner_factory = runner_factory
        self._clock = clock
        self._requests = Requests(store, self.holder, clock)
        schedule = config.schedule
        self._interval = float(schedule.interval_seconds)
        self._jitter = float(schedule.jitter_seconds or 0)
        self._ttl = timedelta(seconds=float(schedule.lease_seconds))
        self._tz = ZoneInfo(schedule.timezone)  # validated by config.py
        self._slots = {p.name: _Slot(p) for p in config.pipelines if p.enabled}
        for name in self._slots:
            self.metrics.add_pipeline(name)
        self._scheduler = self._build_scheduler()
        self._app_factory = app_factory
        self._health: HealthServer | AsgiServer | None = None
        self._signals = StopSignals("handoff-sync run")
        self._shut_down = False
        self._presence: ExitStack | None = None  # the thread renewing the replica lease

    # -- the one job function ------------------------------------------------------------

    def run_pipeline(self, name: str, *, full: bool = False) -> CycleReport | None:
        """One cycle of one pipeline, if the lock and the lease allow; never raises.

        ``full=True`` forces a full reconcile; otherwise the runner decides. Returns the
        report, or None when the cycle was skipped or failed (both are logged and counted).
        The pipeline's pending sync requests are served by this cycle.
        """
        return self._run(name, full=full, wait=full, requested=False)

    def serve_requests(self) -> list[CycleReport | None]:
        """The ``requests`` job: renew this replica's presence, then run one cycle of
        each pipeline someone asked to sync, where this replica may (lock free, lease
        held or free); never raises. The reports (None: skipped or failed) of the cycles
        that ran, for tests."""
        try:
            self.store.mark_replica(self.holder, REPLICA_LEASE, self._clock())
            self.store.close_abandoned_sync_requests(self._clock())
            pending = self.store.pending_sync_pipelines()
        except Exception as exc:  # the database is down: /readyz says so
            log.warning("sync_requests_not_read", error=type(exc).__name__)
            return []
        return [self._run(name, full=False, wait=False, requested=True)
                for name in pending if name in self._slots and not self.should_stop()]

    def _run(self, name: str, *, full: bool, wait: bool,
             requested: bool) -> CycleReport | None:
        """``requested``: only when a sync request is pending (the requests job, which
        polls often and so neither logs nor counts the skips)."""
        slot = self._slots[name]
        job_kind = "full" if full else "incremental"
        with structlog.contextvars.bound_contextvars(pipeline=name):
            if self.should_stop():
                return None
            if not self._take_lock(slot, wait=wait):
                if not self.should_stop() and not requested:
                    self._skip(name, "pipeline_busy")
                return None
            try:
                return self._locked_cycle(slot, full, job_kind, requested)
            finally:
                slot.lock.release()
                self._observe_health(name)

    def _take_lock(self, slot: _Slot, *, wait: bool) -> bool:
        if not wait:
            return slot.lock.acquire(blocking=False)
        while not self.should_stop():
            if slot.lock.acquire(timeout=LOCK_POLL_SECONDS):
                return True
        return False

    def _locked_cycle(self, slot: _Slot, full: bool, job_kind: str,
                      requested: bool) -> CycleReport | None:
        name = slot.name
        claim: Claim | None = None
        held_before = slot.renewed_at is not None
        try:
            if not self._acquire_lease(slot):
                if not requested:
                    self._skip(name, "lease_held_elsewhere")
                return None
            claim = self._requests.claim(name, pending_known=requested)
            if requested and claim is None:  # another replica was first
                if not held_before:
                    self._release_lease(slot)  # taken for this request only
                return None
            if claim is not None and claim.full and not full:
                full, job_kind = True, "full"
            if slot.runner is None:
                slot.runner = self._build_runner(slot, full)
            lease = pipeline_lease(name)
            progress = CycleProgressLog(name, self.metrics)
            with lease_kept(lambda: self.store.try_lease(lease, self.holder, self._ttl,
                                                         self._clock()),
                            self._ttl.total_seconds() / 3), closing(progress):
                report = slot.runner.run_cycle(
                    full=True if full else None, should_stop=self.should_stop,
                    lease=(lease, self.holder), heartbeat=lambda: self._heartbeat(slot),
                    progress=progress)
        except LeaseLost as exc:
            slot.renewed_at = None
            self.failed_cycles += 1
            self.metrics.observe_lease_lost(name)
            log.warning("lease_lost", kind=job_kind, lease=pipeline_lease(name),
                        message=one_line(exc))
            self._requests.give_back(claim)  # the replica that holds the lease now serves them
            return None
        except Exception as exc:
            self.failed_cycles += 1
            self.metrics.observe_exception(name, job_kind, exc)
            # Expected failures (a system or the database refused: errors a person can
            # fix) say enough in one line; anything else is a bug, and its traceback is
            # what fixes it.
            expected = isinstance(exc, USER_ERRORS)
            log.error("cycle_failed", kind=job_kind, error=type(exc).__name__,
                      message=one_line(exc), exc_info=not expected)
            self._requests.finish(claim, RunOutcome.FAILED, None, failure_message(exc))
            return None
        except BaseException:  # KeyboardInterrupt, SystemExit: the requests wait for a cycle
            self._requests.give_back(claim)
            raise
        self._requests.finish(claim, report.outcome, report.run_id, report.message)
        self._log_report(report)
        self.metrics.observe(report)
        return report

    def _build_runner(self, slot: _Slot, full: bool) -> Runner:
        """The pipeline's runner. When it cannot be built (a missing, blank or malformed
        secret), the cycle is recorded as a failed run before the error goes on: /readyz,
        the metrics and `status` count from run rows, and would otherwise see nothing."""
        try:
            return self._runner_factory(slot.pipeline)
        except Exception as exc:
            run_id, now = uuid.uuid4().hex[:12], self._clock()
            kind = RunKind.FULL if full else RunKind.INCREMENTAL
            try:
                self.store.start_run(slot.name, run_id, kind, now, self.holder)
                self.store.finish_run(run_id, now, RunOutcome.FAILED, failure_message(exc),
                                      {}, {})
            except StoreError as store_exc:  # the database is down: /readyz says so
                log.warning("run_not_recorded", run_id=run_id,
                            error=type(store_exc).__name__)
            raise

    def _observe_health(self, name: str) -> None:
        """The health gauges from the store's run rows (what /readyz and status read)."""
        try:
            self.metrics.observe_health(self.store.cycle_health(name))
        except Exception as exc:  # the database is down: /readyz says so already
            log.warning("health_not_read", error=type(exc).__name__)

    def _skip(self, name: str, reason: str) -> None:
        self.metrics.observe_skip(name, reason)
        log.debug("cycle_skipped", reason=reason)

    # -- leases --------------------------------------------------------------------------

    def _acquire_lease(self, slot: _Slot) -> bool:
        now = self._clock()
        held_before = slot.renewed_at is not None
        got = self.store.try_lease(pipeline_lease(slot.name), self.holder, self._ttl, now)
        slot.renewed_at = now if got else None
        self.metrics.set_lease_held(slot.name, got)
        if got and not held_before:
            log.info("lease_acquired", lease=pipeline_lease(slot.name), holder=self.holder)
        elif held_before and not got:
            log.info("lease_taken_over", lease=pipeline_lease(slot.name))
        return got

    def _heartbeat(self, slot: _Slot) -> None:
        """Renew the lease during a long cycle, at most every third of its lifetime."""
        now = self._clock()
        if slot.renewed_at is not None and now - slot.renewed_at < self._ttl / 3:
            return
        if not self.store.try_lease(pipeline_lease(slot.name), self.holder, self._ttl, now):
            slot.renewed_at = None
            raise LeaseLost(f"another replica holds {pipeline_lease(slot.name)}; "
                            "this cycle stops without recording")
        slot.renewed_at = now

    def _release_leases(self) -> None:
        for slot in self._slots.values():
            if slot.renewed_at is not None:
                self._release_lease(slot)

    def _release_lease(self, slot: _Slot) -> None:
        try:
            self.store.release_lease(pipeline_lease(slot.name), self.holder)
            log.info("lease_released", pipeline=slot.name, lease=pipeline_lease(slot.name))
        except Exception as exc:
            # It expires on its own after lease_seconds.
            log.warning("lease_release_failed", pipeline=slot.name,
                        error=type(exc).__name__, message=one_line(exc))
        slot.renewed_at = None
        self.metrics.set_lease_held(slot.name, False)

    def _keep_presence(self) -> None:
        """Mark this replica present now, then from a thread of its own every third of
        ``REPLICA_LEASE`` until shutdown: cycles of any length do not hold it up."""
        if self._presence is not None:
            return
        try:
            self._renew_presence()
        except Exception as exc:  # the database is down: /readyz says so; the thread retries
            log.warning("replica_not_marked", error=type(exc).__name__)
        self._presence = ExitStack()
        self._presence.enter_context(
            lease_kept(self._renew_presence, REPLICA_LEASE.total_seconds() / 3))

    def _renew_presence(self) -> bool:
        self.store.mark_replica(self.holder, REPLICA_LEASE, self._clock())
        return True

    # -- the canonical line ----------------------------------------------------------------

    def _log_report(self, report: CycleReport) -> None:
        duration_ms = round((report.ended_at - report.started_at).total_seconds() * 1000)
        api_calls = {system: int(usage.get("total") or 0)
                     for system, usage in report.api_calls.items()}
        throttled = sum(float(usage.get("throttled_seconds") or 0)
                        for usage in report.api_calls.values())
        fields: dict[str, Any] = {
            "kind": str(report.kind), "outcome": str(report.outcome),
            "duration_ms": duration_ms, "counts": dict(report.counts),
            "api_calls": api_calls, "throttled_seconds": round(throttled, 3),
            "failures": len(report.failures), "drift_fields": len(report.drift),
        }
        if report.message:
            fields["message"] = report.message
        emit = log.warning if report.outcome in (RunOutcome.PARTIAL, RunOutcome.FAILED) \
            else log.info
        with structlog.contextvars.bound_contextvars(run_id=report.run_id):
            emit("cycle_finished", **fields)

    # -- scheduler -----------------------------------------------------------------------

    def _build_scheduler(self) -> BackgroundScheduler:
        # Two workers per pipeline: a full job may wait on the lock while an interval
        # cycle runs, and must not starve another pipeline of a thread.
        workers = 2 * len(self._slots) + 1
        scheduler = BackgroundScheduler(
            timezone=self._tz, executors={"default": ThreadPoolExecutor(workers)})
        grace = max(1, math.ceil(self._interval))
        cron = self.config.schedule.full_reconcile_cron  # validated by config.py
        now = datetime.now(self._tz)  # the scheduler runs on wall time, whatever our clock
        for name in self._slots:
            scheduler.add_job(
                self.run_pipeline, IntervalTrigger(seconds=self._interval,
                                                   jitter=self._jitter or None, timezone=self._tz),
                args=[name], kwargs={"full": False}, id=f"sync:{name}",
                name=f"sync {name}", max_instances=1, coalesce=True, misfire_grace_time=grace,
                replace_existing=True, next_run_time=now)
            scheduler.add_job(
                self.run_pipeline, CronTrigger.from_crontab(cron, timezone=self._tz),
                args=[name], kwargs={"full": True}, id=f"full:{name}",
                name=f"full reconcile {name}", max_instances=1, coalesce=True,
                misfire_grace_time=FULL_MISFIRE_GRACE_SECONDS, replace_existing=True)
        if self._slots:
            scheduler.add_job(
                self.serve_requests, IntervalTrigger(seconds=REQUEST_POLL_SECONDS,
                                                     timezone=self._tz),
                id="requests", name="sync requests", max_instances=1, coalesce=True,
                misfire_grace_time=max(1, math.ceil(REQUEST_POLL_SECONDS)),
                replace_existing=True, next_run_time=now)
        scheduler.add_listener(self._on_not_run, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
        return scheduler

    @property
    def scheduler(self) -> BackgroundScheduler:
        return self._scheduler

    def _on_not_run(self, event: JobSubmissionEvent) -> None:
        # APScheduler would say this as a plain-text warning; say it as a log event.
        if event.job_id == "requests":
            return  # a poll every few seconds: a missed one is the next one
        _, _, name = event.job_id.partition(":")
        reason = "still_running" if event.code == EVENT_JOB_MAX_INSTANCES else "misfired"
        with structlog.contextvars.bound_contextvars(pipeline=name):
            self._skip(name, reason)

    # -- lifecycle -----------------------------------------------------------------------

    def should_stop(self) -> bool:
        """True once a stop was asked for (``stop()`` or a signal); runners poll this."""
        return self._signals.requested() or self.stop_event.is_set()

    def stop(self) -> None:
        """Ask the daemon to stop (any thread); ``run_forever`` then shuts down and returns."""
        self.stop_event.set()

    @property
    def health_url(self) -> str | None:
        return self._health.url if self._health else None

    def start(self) -> None:
        """Start the health server and the scheduler; returns at once.

        Raises OSError when the health port cannot be bound."""
        server = self.config.server
        for name in self._slots:  # the last success and the failing streak survive restarts
            self._observe_health(name)
        def liveness() -> bool:
            return bool(self._scheduler.running) and not self.should_stop()

        readiness = store_readiness(self.store, sorted(self._slots),
                                    failed_cycles=int(server.unready_after_failed_cycles))
        if self._app_factory is None:
            self._health = HealthServer(server.host, int(server.port), metrics=self.metrics,
                                        liveness=liveness, readiness=readiness)
        else:
            app = self._app_factory(health_routes(self.metrics, liveness, readiness))
            self._health = AsgiServer(app, server.host, int(server.port))
            log.info("console_listening", url=self._health.url)
        self._health.start()
        for logger in ("apscheduler.scheduler", "apscheduler.executors.default"):
            logging.getLogger(logger).setLevel(logging.ERROR)  # _on_not_run says it instead
        if not self._slots:
            log.warning("no_pipelines_enabled", hint="set enabled: true on a pipeline")
        self._keep_presence()
        self._scheduler.start()
        log.info("daemon_started", holder=self.holder, pipelines=sorted(self._slots),
                 interval_seconds=self._interval,
                 full_reconcile_cron=self.config.schedule.full_reconcile_cron)

    def run_forever(self) -> int:
        """Serve until SIGTERM/SIGINT or ``stop()``; 0 after a clean shutdown. Raises
        ``SchemaOutdated``/``StoreError`` before starting anything when the database is
        not ready, ``PortUnavailable`` when the health port cannot be bound."""
        self.store.require_current_schema()
        with self._signals:
            try:
                try:
                    self.start()
                except OSError as exc:
                    server = self.config.server
                    raise PortUnavailable(
                        f"cannot listen on {server.host}:{server.port}: "
                        f"{exc.strerror or exc}; set server.port to a free port (0 picks "
                        "one)") from None
                # Sleep, not Event.wait: setting an Event from a signal handler can deadlock.
                while not self.should_stop():
                    time.sleep(LOCK_POLL_SECONDS)
                self.stop_event.set()
            finally:
                self.shutdown()
        return EXIT_OK

    def run_once(self) -> int:
        """One cycle of each enabled pipeline (leases respected), then shut down.

        0 when every cycle ran or was skipped for another replica's lease; 1 when one
        raised, lost its lease or reported ``failed``. Raises as ``run_forever`` does when
        the database is not ready."""
        self.store.require_current_schema()
        failed = False
        with self._signals:
            try:
                self._keep_presence()  # its running requests are not abandoned ones
                for name in self._slots:
                    if self.should_stop():
                        break
                    report = self.run_pipeline(name)
                    failed = failed or (report is not None
                                        and report.outcome == RunOutcome.FAILED)
            finally:
                self.shutdown()
        return EXIT_FAILED if failed or self.failed_cycles else EXIT_OK

    def shutdown(self) -> None:
        """Let the cycle in hand finish its batch, release leases, close everything."""
        if self._shut_down:
            return
        self._shut_down = True
        self.stop_event.set()
        log.info("daemon_stopping", signal=self._signals.name or None)
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        self._release_leases()
        if self._presence is not None:
            self._presence.close()
        try:
            self.store.release_replica(self.holder)
        except Exception as exc:  # it expires on its own
            log.warning("replica_release_failed", error=type(exc).__name__)
        if self._health is not None:
            self._health.stop()
        for slot in self._slots.values():
            if slot.runner is not None:
                _close_quietly(slot.runner, pipeline=slot.name)
                slot.runner = None
        _close_quietly(self.store)
        log.info("daemon_stopped")


def _close_quietly(thing: Any, **context: str) -> None:
    try:
        thing.close()
    except Exception as exc:
        log.warning("close_failed", what=type(thing).__name__, error=type(exc).__name__,
                    message=one_line(exc), **context)
