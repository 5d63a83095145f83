"""`handoff-sync sync` at a terminal: where a long cycle stands, drawn by rich on stderr.

One line per step of each pipeline's cycle (describe, pull per side, plan, write, record):
the count so far (of the total where the cycle knows it), the rate, the time left (only
with a total) and the time taken. The lines go away when the command ends: the summary
on stdout is what stays. Drawn only when stderr is a terminal that can redraw (not
TERM=dumb) and the output is for people (not --json); rich leaves colour out under
NO_COLOR. Piped or under cron, the command prints exactly what it printed before.
"""

from __future__ import annotations

import os
import sys
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from handoff_sync.safety.sanitise import for_terminal
from handoff_sync.sync.progress import Phase, ProgressEvent

# What each phase counts.
UNITS = {Phase.DESCRIBE: "objects", Phase.PULL: "records", Phase.PLAN: "deals",
         Phase.WRITE: "writes", Phase.RECORD: "rows"}


def wanted(*, as_json: bool, stream: TextIO | None = None,
           environ: dict[str, str] | None = None) -> bool:
    """Whether to draw progress: for people at a terminal that can redraw."""
    stream = sys.stderr if stream is None else stream
    environ = dict(os.environ) if environ is None else environ
    if as_json or environ.get("TERM", "") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class _Count(ProgressColumn):
    """``120/300 writes``, or ``120 records`` when the total is not known."""

    def render(self, task: Task) -> Text:
        unit = task.fields.get("unit", "")
        done = int(task.completed)
        if task.total is None:
            return Text(f"{done:,} {unit}", style="progress.download")
        return Text(f"{done:,}/{int(task.total):,} {unit}", style="progress.download")


class _Rate(ProgressColumn):
    """Items per second over rich's recent window (blank until it has two samples)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if speed is None:
            return Text("")
        return Text(f"{speed:,.1f}/s", style="progress.data.speed")


class CycleDisplay:
    """The steps of the cycles one `sync` runs, as rich progress lines on stderr."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False)
        self._progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}", markup=False), BarColumn(), _Count(),
            _Rate(), TimeRemainingColumn(elapsed_when_finished=False), TimeElapsedColumn(),
            console=self.console, transient=True)
        self._tasks: dict[tuple[str, str], TaskID] = {}

    def __enter__(self) -> CycleDisplay:
        self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._progress.stop()

    def listener(self, pipeline: str) -> _Listener:
        """The ``sync.progress.Progress`` callback for one pipeline's cycle."""
        return _Listener(self, for_terminal(pipeline))

    def show(self, pipeline: str, event: ProgressEvent) -> None:
        key = (pipeline, event.step)
        task = self._tasks.get(key)
        if task is None:
            label = event.step.replace("_", " ")
            task = self._tasks[key] = self._progress.add_task(
                f"{pipeline} {label}", total=event.total, unit=UNITS[event.phase])
        elif event.done == 0 and not event.ended:  # the step starts again (a second pull)
            self._progress.reset(task, total=event.total)
        total = event.total
        if event.ended and total is None:
            total = event.done  # it ended: what it did was all of it
        self._progress.update(task, completed=event.done, total=total)
        if event.ended:
            self._progress.stop_task(task)


class _Listener:
    def __init__(self, display: CycleDisplay, pipeline: str) -> None:
        self.display = display
        self.pipeline = pipeline

    def __call__(self, event: ProgressEvent) -> None:
        self.display.show(self.pipeline, event)
