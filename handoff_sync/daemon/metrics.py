"""Prometheus metrics of the daemon, in a registry of its own.

A private ``CollectorRegistry`` (not prometheus_client's global one) keeps two daemons in
one test process apart and keeps library collectors out of ``/metrics``. Counters grow by
what each cycle report says; gauges hold the state after the pipeline's last cycle.
The health gauges (last success, failing streak, open errors) are read from the store
after every cycle, failed or not, so they agree with `/readyz` and `status` and survive
a restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from handoff_sync.store.types import RunOutcome
from handoff_sync.sync.failures import CLASSES, classify, classify_message
from handoff_sync.sync.progress import STEPS, ProgressEvent

if TYPE_CHECKING:
    from handoff_sync.store.types import CycleHealth
    from handoff_sync.sync.cycle import CycleReport

# Cycles run from seconds (an idle incremental poll) to most of an hour (a full reconcile
# of a large org behind a daily API budget).
DURATION_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
TASK_ACTIONS = ("created", "updated", "closed")


class Metrics:
    """Every ``handoff_sync_*`` metric, fed from cycle reports and the daemon's lease work."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        reg = self.registry
        self.cycles = Counter("handoff_sync_cycles", "Sync cycles recorded, by kind and outcome",
                              ["pipeline", "kind", "outcome"], registry=reg)
        self.cycle_duration = Histogram(
            "handoff_sync_cycle_duration_seconds", "Wall time of one sync cycle",
            ["pipeline", "kind"], buckets=DURATION_BUCKETS, registry=reg)
        self.records_read = Counter("handoff_sync_records_read", "Records read from both systems",
                                    ["pipeline"], registry=reg)
        self.records_written = Counter("handoff_sync_records_written",
                                       "Records written to either system", ["pipeline"],
                                       registry=reg)
        self.tasks = Counter("handoff_sync_tasks", "Follow-up tasks created, updated or closed",
                             ["pipeline", "action"], registry=reg)
        self.sync_errors = Gauge(
            "handoff_sync_sync_errors",
            "Per-record errors open in the store (waiting for a retry), after the last cycle",
            ["pipeline"], registry=reg)
        self.api_calls = Counter("handoff_sync_api_calls", "API calls made, by system",
                                 ["pipeline", "system"], registry=reg)
        self.api_budget_remaining = Gauge(
            "handoff_sync_api_budget_remaining",
            "Daily API calls left as the system last reported (limit minus used)",
            ["pipeline", "system"], registry=reg)
        self.sla_breaches = Counter("handoff_sync_sla_breaches", "SLA clocks that breached",
                                    ["pipeline"], registry=reg)
        self.review_items_open = Gauge("handoff_sync_review_items_open",
                                       "Review queue items open after the last cycle",
                                       ["pipeline"], registry=reg)
        self.schema_drift_fields = Gauge(
            "handoff_sync_schema_drift_fields",
            "Mapped fields skipped because the system no longer has them or cannot write them",
            ["pipeline"], registry=reg)
        self.lease_held = Gauge("handoff_sync_lease_held",
                                "1 while this replica holds the pipeline's lease, else 0",
                                ["pipeline"], registry=reg)
        self.last_cycle_timestamp = Gauge(
            "handoff_sync_last_cycle_timestamp_seconds",
            "Unix time the pipeline's last reported cycle ended, whatever its outcome",
            ["pipeline"], registry=reg)
        self.last_success_timestamp = Gauge(
            "handoff_sync_last_success_timestamp_seconds",
            "Unix time the pipeline's last completed (ok or partial) cycle ended",
            ["pipeline"], registry=reg)
        self.cycle_failures = Counter(
            "handoff_sync_cycle_failures",
            "Cycles that failed (reported failed or raised), by class of reason",
            ["pipeline", "reason"], registry=reg)
        self.consecutive_failures = Gauge(
            "handoff_sync_consecutive_failed_cycles",
            "Failed cycles since the pipeline's last completed one (/readyz turns 503 at "
            "server.unready_after_failed_cycles)", ["pipeline"], registry=reg)
        self.cycle_exceptions = Counter(
            "handoff_sync_cycle_exceptions",
            "Cycles that raised instead of reporting (the daemon logged it and went on)",
            ["pipeline", "kind", "error"], registry=reg)
        self.cycles_skipped = Counter("handoff_sync_cycles_skipped",
                                      "Scheduled cycles not run, by reason",
                                      ["pipeline", "reason"], registry=reg)
        self.leases_lost = Counter("handoff_sync_leases_lost",
                                   "Cycles abandoned because another replica took the lease",
                                   ["pipeline"], registry=reg)
        # Where a long cycle stands (sync.progress): per step of the running cycle, or of
        # the last one once it ended.
        self.cycle_step_running = Gauge(
            "handoff_sync_cycle_step_running",
            "1 for the step the pipeline's cycle is in now (describe, pull_prm, pull_crm, "
            "plan, write, record), else 0", ["pipeline", "phase"], registry=reg)
        self.cycle_step_done = Gauge(
            "handoff_sync_cycle_step_done",
            "Items the step has done in the current (or last) cycle: records read, objects "
            "described, deals planned, writes and tasks sent, mirror rows stored",
            ["pipeline", "phase"], registry=reg)
        self.cycle_step_total = Gauge(
            "handoff_sync_cycle_step_total",
            "Items the step has to do, where the cycle knows it beforehand (absent when not: "
            "a pull)", ["pipeline", "phase"], registry=reg)

    def add_pipeline(self, pipeline: str) -> None:
        """Show the pipeline's series at zero before its first cycle."""
        self.records_read.labels(pipeline)
        self.records_written.labels(pipeline)
        for action in TASK_ACTIONS:
            self.tasks.labels(pipeline, action)
        self.sla_breaches.labels(pipeline)
        self.leases_lost.labels(pipeline)
        self.lease_held.labels(pipeline).set(0)
        for reason in CLASSES:
            self.cycle_failures.labels(pipeline, reason)

    def observe(self, report: CycleReport) -> None:
        """Fold one cycle report into the metrics."""
        pipeline, kind = report.pipeline, str(report.kind)
        counts = report.counts
        self.cycles.labels(pipeline, kind, str(report.outcome)).inc()
        seconds = (report.ended_at - report.started_at).total_seconds()
        self.cycle_duration.labels(pipeline, kind).observe(max(0.0, seconds))
        self.records_read.labels(pipeline).inc(_count(counts, "records_read"))
        self.records_written.labels(pipeline).inc(_count(counts, "records_written"))
        for action in TASK_ACTIONS:
            self.tasks.labels(pipeline, action).inc(_count(counts, f"tasks_{action}"))
        self.sla_breaches.labels(pipeline).inc(_count(counts, "sla_breaches"))
        if "reviews_open" in counts:  # a failed cycle counted nothing: keep the last count
            self.review_items_open.labels(pipeline).set(_count(counts, "reviews_open"))
        if report.outcome == RunOutcome.FAILED:
            self.cycle_failures.labels(pipeline, classify_message(report.message)).inc()
        self.schema_drift_fields.labels(pipeline).set(len(report.drift))
        self.last_cycle_timestamp.labels(pipeline).set(report.ended_at.timestamp())
        for system, usage in report.api_calls.items():
            self.api_calls.labels(pipeline, system).inc(_count(usage, "total"))
            remaining = budget_remaining(usage)
            if remaining is not None:
                self.api_budget_remaining.labels(pipeline, system).set(remaining)

    def start_progress(self, pipeline: str) -> None:
        """A cycle starts: no step has done anything yet (a step this cycle skips, such
        as describe, shows 0, not the last cycle's figure)."""
        for step in STEPS:
            self.cycle_step_running.labels(pipeline, step).set(0)
            self.cycle_step_done.labels(pipeline, step).set(0)
            self._forget_total(pipeline, step)

    def observe_progress(self, pipeline: str, event: ProgressEvent) -> None:
        step = event.step
        for other in STEPS:
            running = other == step and not event.ended
            self.cycle_step_running.labels(pipeline, other).set(1 if running else 0)
        self.cycle_step_done.labels(pipeline, step).set(max(0, event.done))
        if event.total is None:
            self._forget_total(pipeline, step)
        else:
            self.cycle_step_total.labels(pipeline, step).set(max(0, event.total))

    def end_progress(self, pipeline: str) -> None:
        """The cycle ended (recorded, failed or stopped): no step is running."""
        for step in STEPS:
            self.cycle_step_running.labels(pipeline, step).set(0)

    def _forget_total(self, pipeline: str, step: str) -> None:
        with suppress(KeyError):  # never set (prometheus-client before 0.21 raises)
            self.cycle_step_total.remove(pipeline, step)

    def observe_exception(self, pipeline: str, kind: str, exc: BaseException) -> None:
        self.cycle_exceptions.labels(pipeline, kind, type(exc).__name__).inc()
        self.cycle_failures.labels(pipeline, classify(exc)).inc()

    def observe_health(self, health: CycleHealth) -> None:
        """The store's view after a cycle: a failed cycle never moves the last success."""
        pipeline = health.pipeline
        self.consecutive_failures.labels(pipeline).set(health.consecutive_failures)
        self.sync_errors.labels(pipeline).set(health.open_errors)
        if health.last_success_at is not None:
            self.last_success_timestamp.labels(pipeline).set(health.last_success_at.timestamp())

    def observe_skip(self, pipeline: str, reason: str) -> None:
        self.cycles_skipped.labels(pipeline, reason).inc()

    def observe_lease_lost(self, pipeline: str) -> None:
        self.leases_lost.labels(pipeline).inc()
        self.lease_held.labels(pipeline).set(0)

    def set_lease_held(self, pipeline: str, held: bool) -> None:
        self.lease_held.labels(pipeline).set(1 if held else 0)

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format (what ``/metrics`` serves)."""
        return generate_latest(self.registry)

    def value(self, name: str, **labels: str) -> float | None:
        """One sample's current value (tests and the status command read it this way)."""
        return self.registry.get_sample_value(name, labels)


def budget_remaining(usage: Mapping[str, Any]) -> int | None:
    """Daily calls left, when the system reported both its limit and its use."""
    limit, used = usage.get("daily_limit"), usage.get("daily_used")
    if limit is None or used is None:
        return None
    return max(0, int(limit) - int(used))


def _count(values: Mapping[str, Any], key: str) -> int:
    # Counters never go down; a missing or negative count adds nothing.
    value = values.get(key) or 0
    return max(0, int(value))
