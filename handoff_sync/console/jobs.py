"""Work that takes longer than a page may: run in the background, shown when it is done.

The first report after a cycle at 100,000 deals takes about 20 s (reading and mapping the
rows), a what-if over the whole mirror seconds to minutes. A page must answer within a
fraction of a second, and a reverse proxy cuts a request off at 60 s, so such work runs
as a job: the page starts it (or finds it already running), answers at once with what is
known, and htmx asks again every few seconds until the job is done. What is known is the
job's result once it has one; until then the last result of the same *family* (the same
report query at an older version of the store, say), which the page shows labelled with
its age; or, before any, that it is being computed and since when.

Jobs are keyed by everything their result depends on (the data's version included), so
visitors asking the same thing share one run; results are kept, a bounded number. Jobs
run on their own few threads, never the pages' (offload.py), so a queue of long jobs
cannot stall the pages or the probes; past ``queue`` waiting jobs, a new one is refused
with Busy (429, "try again") rather than queued for minutes. A named *lane* (what-ifs:
minutes each at 100,000 deals) runs its jobs one at a time on a thread of its own, with a
queue of its own, so they never take the threads the reports need.
"""

from __future__ import annotations

import contextlib
import queue
import secrets
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import structlog

from handoff_sync.console.offload import Busy
from handoff_sync.errors import UserError
from handoff_sync.safety.redaction import redact

T = TypeVar("T")
log = structlog.get_logger("handoff_sync.console")

CRASHED = ("The console could not compute this: it has been logged for the operator. "
           "Try again, or run the matching command (`handoff-sync report`, `plan`) to see "
           "the error.")


@dataclass(frozen=True)
class Done(Generic[T]):
    """A finished job: its value, when it was asked for and how long it ran."""

    id: str
    value: T
    started_at: float  # the Jobs clock (time.monotonic by default)
    seconds: float


@dataclass(frozen=True)
class Failed:
    """A job that raised: a UserError's own line, or CRASHED for a bug (logged)."""

    id: str
    message: str


@dataclass(frozen=True)
class Pending(Generic[T]):
    """A job queued or running, and the last finished job of its family, if any."""

    id: str
    started_at: float
    running: bool  # False while it waits for a free job thread
    previous: Done[T] | None = None


Status = Done[T] | Failed | Pending[T]


class _Run:
    def __init__(self, family: Hashable, key: Hashable, started_at: float, lane: str) -> None:
        self.id = secrets.token_urlsafe(12)  # unguessable: a poll URL names its job
        self.family, self.key, self.started_at, self.lane = family, key, started_at, lane
        self.running = False
        self.future: Future[Any] | None = None


class Jobs:
    """Background jobs shared by every request of one console (thread-safe)."""

    def __init__(self, *, workers: int = 2, queue: int = 8, kept: int = 32,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._pools = {"": _DaemonPool(workers, "console-job")}
        self._limits = {"": workers + queue}  # lane -> jobs unfinished at most
        self._lane_queue, self._kept, self._clock = queue, kept, clock
        self._lock = threading.Lock()
        self._runs: dict[Hashable, _Run] = {}  # key -> run not finished yet
        self._by_id: OrderedDict[str, Hashable] = OrderedDict()  # job id -> key
        self._done: OrderedDict[Hashable, Done[Any] | Failed] = OrderedDict()  # key ->
        self._latest: OrderedDict[Hashable, Done[Any]] = OrderedDict()  # family -> last

    def get(self, family: Hashable, key: Hashable, work: Callable[[], T], *,
            wait: float = 0.0, lane: str = "") -> Status[T]:
        """The job ``key`` (of ``family``): its result if done, else started (unless
        running already) and waited for up to ``wait`` seconds, so quick work is shown
        at once rather than after a poll. Busy when too many jobs wait already (in its
        ``lane``: a name runs them one at a time on a thread of its own)."""
        with self._lock:
            found = self._done.get(key)
            if isinstance(found, Done):
                self._done.move_to_end(key)
                return found
            # A failure is shown to the polls of its run; asking again runs it again
            # (the store or the mappings may have been fixed meanwhile).
            run = self._runs.get(key)
            if run is None:
                run = self._start(family, key, work, lane)
            future = run.future
        if wait > 0 and future is not None:
            # A failure was recorded by _execute; the status below says so.
            with contextlib.suppress(Exception):
                future.result(timeout=wait)
        return self.status(run.id) or Failed(run.id, CRASHED)

    def status(self, job_id: str) -> Status[Any] | None:
        """The job ``job_id`` as it stands; None for an id this console never gave or
        has forgotten (a poll then starts over from the page)."""
        with self._lock:
            key = self._by_id.get(job_id)
            if key is None:
                return None
            run = self._runs.get(key)
            if run is not None:
                return Pending(run.id, run.started_at, run.running,
                               self._latest.get(run.family))
            found = self._done.get(key)
            return found if found is not None and found.id == job_id else None

    def age(self, started_at: float) -> float:
        """Seconds since ``started_at`` (a Pending's), by this console's clock."""
        return max(0.0, self._clock() - started_at)

    def latest(self, family: Hashable) -> Done[Any] | None:
        """The last finished job of ``family``, whatever its key."""
        with self._lock:
            return self._latest.get(family)

    def cancel(self, job_id: str) -> bool:
        """Drop the job ``job_id`` if it has not started (a newer ask replaces it): its
        id is then unknown. False when it runs already, is done, or is unknown."""
        with self._lock:
            key = self._by_id.get(job_id)
            run = self._runs.get(key) if key is not None else None
            if run is None or run.id != job_id or run.running or run.future is None or \
                    not run.future.cancel():
                return False
            del self._runs[key]
            del self._by_id[job_id]
            return True

    def _start(self, family: Hashable, key: Hashable, work: Callable[[], T],
               lane: str) -> _Run:
        if lane not in self._pools:  # one thread of its own, from its first job
            self._pools[lane] = _DaemonPool(1, f"console-{lane}")
            self._limits[lane] = 1 + self._lane_queue
        if sum(run.lane == lane for run in self._runs.values()) >= self._limits[lane]:
            raise Busy()
        run = _Run(family, key, self._clock(), lane)
        self._runs[key] = run
        self._by_id[run.id] = key
        run.future = self._pools[lane].submit(self._execute, run, work)
        return run

    def _execute(self, run: _Run, work: Callable[[], T]) -> T:
        with self._lock:
            run.running = True
        started = self._clock()
        try:
            value = work()
        except UserError as exc:
            self._finish(run, Failed(run.id, str(exc)))
            raise
        except Exception as exc:
            log.error("console_job_failed", error=type(exc).__name__,
                      message=redact(" ".join(str(exc).split())),
                      traceback=redact("".join(traceback.format_exception(exc))))
            self._finish(run, Failed(run.id, CRASHED))
            raise
        self._finish(run, Done(run.id, value, run.started_at, self._clock() - started))
        return value

    def _finish(self, run: _Run, outcome: Done[Any] | Failed) -> None:
        with self._lock:
            self._runs.pop(run.key, None)
            self._done[run.key] = outcome
            if isinstance(outcome, Done):
                self._latest[run.family] = outcome
                self._latest.move_to_end(run.family)
            self._trim()

    def _trim(self) -> None:
        while len(self._done) > self._kept:
            self._done.popitem(last=False)
        while len(self._latest) > self._kept:
            self._latest.popitem(last=False)
        if len(self._by_id) > 4 * self._kept:  # forget the ids of forgotten jobs
            self._by_id = OrderedDict(
                (job_id, key) for job_id, key in self._by_id.items()
                if ((run := self._runs.get(key)) is not None and run.id == job_id)
                or ((done := self._done.get(key)) is not None and done.id == job_id))


class _DaemonPool:
    """ThreadPoolExecutor's work on daemon threads. Python joins an executor's threads
    when it exits, so a running report or what-if (minutes at 100,000 deals) would hold a
    stopping daemon up until it is killed; jobs only read, so they may stop with it."""

    def __init__(self, workers: int, prefix: str) -> None:
        self._tasks: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]]] = \
            queue.SimpleQueue()
        self._workers, self._prefix = workers, prefix
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def submit(self, work: Callable[..., T], *args: Any) -> Future[T]:
        future: Future[T] = Future()
        self._tasks.put((future, lambda: work(*args)))
        with self._lock:
            if len(self._threads) < self._workers:  # started as jobs come
                thread = threading.Thread(target=self._serve, daemon=True,
                                          name=f"{self._prefix}-{len(self._threads)}")
                thread.start()
                self._threads.append(thread)
        return future

    def _serve(self) -> None:
        while True:
            future, work = self._tasks.get()
            if not future.set_running_or_notify_cancel():
                continue  # cancelled before it started
            try:
                future.set_result(work())
            except BaseException as exc:  # the future carries it to its askers
                future.set_exception(exc)
