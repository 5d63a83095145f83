"""A running cycle's progress in the daemon's logs and metrics.

The cycle reports ``sync.progress`` events; ``CycleProgressLog`` turns them into a
``cycle_progress`` log line when a step ends, and during a long step at most one every
``every_seconds`` (a full reconcile of a large org pulls for many minutes: the log says
it is still moving, and how fast), and keeps the ``handoff_sync_cycle_step_*`` gauges
current. The cycle binds pipeline and run_id to the log context, so the lines carry them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

from handoff_sync.daemon.metrics import Metrics
from handoff_sync.sync.progress import PhaseMeter, ProgressEvent

log = structlog.get_logger(__name__)

# A long step logs its progress at most this often (each step's end logs regardless).
PROGRESS_LOG_SECONDS = 30.0


class CycleProgressLog:
    """One cycle's progress listener (``sync.progress.Progress``) for one pipeline."""

    def __init__(self, pipeline: str, metrics: Metrics, *,
                 every_seconds: float = PROGRESS_LOG_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.pipeline = pipeline
        self.metrics = metrics
        self.every_seconds = every_seconds
        self.clock = clock
        self._meters: dict[str, PhaseMeter] = {}
        self._logged_at: dict[str, float] = {}
        self._ended: set[str] = set()
        metrics.start_progress(pipeline)

    def __call__(self, event: ProgressEvent) -> None:
        now = self.clock()
        step = event.step
        meter = self._meters.get(step)
        if meter is None or step in self._ended:  # the step starts (again: a second pull)
            meter = self._meters[step] = PhaseMeter(started=now)
            self._logged_at[step] = now
            self._ended.discard(step)
        if event.ended:
            self._ended.add(step)
        meter.update(event, now)
        self.metrics.observe_progress(self.pipeline, event)
        if event.ended or now - self._logged_at[step] >= self.every_seconds:
            self._logged_at[step] = now
            self._log(event, meter)

    def close(self) -> None:
        self.metrics.end_progress(self.pipeline)

    @staticmethod
    def _log(event: ProgressEvent, meter: PhaseMeter) -> None:
        fields: dict[str, object] = {
            "phase": event.phase.value, "done": meter.done, "total": meter.total,
            "seconds": round(meter.elapsed, 3), "ended": event.ended}
        if event.side is not None:
            fields["side"] = event.side
        rate = meter.rate
        if rate is not None:
            fields["rate_per_second"] = round(rate, 1)
        eta = meter.eta
        if eta is not None and not event.ended:
            fields["eta_seconds"] = round(eta, 1)
        log.info("cycle_progress", **fields)
