"""A cycle's progress: the events (sync.progress), their rate and ETA, and what the daemon
(cycle_progress lines, gauges) and the terminal display (cli.progress_view) make of them."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console

from handoff_sync.cli.progress_view import CycleDisplay, wanted
from handoff_sync.daemon.metrics import Metrics
from handoff_sync.daemon.progress import CycleProgressLog
from handoff_sync.sync.progress import (
    STEPS,
    Phase,
    PhaseMeter,
    ProgressEvent,
    estimated_total,
    no_progress,
)


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now



def progress_lines(captured: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in captured if entry["event"] == "cycle_progress"]


# -- the events and the arithmetic ----------------------------------------------------------

def test_a_step_is_its_phase_with_the_side_of_a_pull() -> None:
    assert ProgressEvent(Phase.PULL, 3, side="prm").step == "pull_prm"
    assert ProgressEvent(Phase.WRITE, 3, 10).step == "write"
    assert {ProgressEvent(p, side=s).step for p, s in [
        (Phase.DESCRIBE, None), (Phase.PULL, "prm"), (Phase.PULL, "crm"), (Phase.PLAN, None),
        (Phase.WRITE, None), (Phase.RECORD, None)]} == set(STEPS)
    assert no_progress(ProgressEvent(Phase.PLAN)) is None


def test_rate_and_eta_from_the_done_count_and_the_clock() -> None:
    meter = PhaseMeter(started=100.0)
    assert meter.rate is None and meter.eta is None  # no time has passed
    meter.update(ProgressEvent(Phase.WRITE, 50, 200), now=110.0)
    assert meter.elapsed == 10.0
    assert meter.rate == 5.0
    assert meter.eta == 30.0  # 150 left at 5 a second
    meter.update(ProgressEvent(Phase.WRITE, 150, 200), now=120.0)
    assert meter.rate == 7.5 and meter.eta == pytest.approx(50 / 7.5)
    meter.update(ProgressEvent(Phase.WRITE, 200, 200, ended=True), now=125.0)
    assert meter.eta == 0.0 and meter.rate == 8.0


def test_no_eta_without_a_total_or_before_anything_is_done() -> None:
    pull = PhaseMeter(started=0.0)
    pull.update(ProgressEvent(Phase.PULL, 400, side="crm"), now=8.0)
    assert pull.rate == 50.0 and pull.total is None and pull.eta is None
    write = PhaseMeter(started=0.0)
    write.update(ProgressEvent(Phase.WRITE, 0, 10), now=5.0)
    assert write.rate == 0.0 and write.eta is None  # nothing done: no rate to go by
    # A total known from an earlier event stays when a later one does not repeat it.
    write.update(ProgressEvent(Phase.WRITE, 5), now=10.0)
    assert write.total == 10 and write.eta == 10.0


def test_an_estimated_total_never_falls_below_what_is_done() -> None:
    assert estimated_total(300, None) is None  # no estimate: no total
    assert estimated_total(300, 1000) == 1000
    assert estimated_total(1000, 1000) == 1000
    assert estimated_total(1010, 1000) == 1010  # records arrived after the estimate
    assert estimated_total(0, -5) == 0
    # A meter whose total (kept from an earlier event) is overtaken: 100%, ETA 0, never
    # negative.
    pull = PhaseMeter(started=0.0)
    pull.update(ProgressEvent(Phase.PULL, 400, 1000, side="crm"), now=8.0)
    assert pull.total == 1000 and pull.eta == 12.0
    pull.update(ProgressEvent(Phase.PULL, 1010, side="crm"), now=20.0)
    assert pull.total == 1010 and pull.eta == 0.0
    pull.update(ProgressEvent(Phase.PULL, 1020, 1000, side="crm"), now=21.0)
    assert pull.total == 1020 and pull.eta == 0.0


def test_a_pull_with_an_estimate_logs_its_eta(logs: list[dict[str, Any]]) -> None:
    ticks = Ticks()
    listener = CycleProgressLog("alpha", Metrics(), every_seconds=30.0, clock=ticks)
    listener(ProgressEvent(Phase.PULL, 0, side="crm"))
    ticks.now += 40
    listener(ProgressEvent(Phase.PULL, 400, 1200, side="crm"))
    ticks.now += 40
    listener(ProgressEvent(Phase.PULL, 1200, 1200, side="crm", ended=True))
    first, last = progress_lines(logs)
    assert (first["done"], first["total"], first["eta_seconds"]) == (400, 1200, 80.0)
    assert last["ended"] and last["total"] == 1200


# -- the daemon: cycle_progress lines and gauges ----------------------------------------------

def test_each_step_end_logs_one_line_and_a_long_step_at_most_every_interval(
        logs: list[dict[str, Any]]) -> None:
    ticks, metrics = Ticks(), Metrics()
    listener = CycleProgressLog("alpha", metrics, every_seconds=30.0, clock=ticks)
    listener(ProgressEvent(Phase.PULL, 0, side="crm"))
    for read in range(200, 2001, 200):  # a page of 200 every 10 s
        ticks.now += 10
        listener(ProgressEvent(Phase.PULL, read, side="crm"))
    ticks.now += 5
    listener(ProgressEvent(Phase.PULL, 2000, side="crm", ended=True))
    lines = progress_lines(logs)
    # 105 s of pulling: lines at 30, 60 and 90 s, then the end.
    assert [line["done"] for line in lines] == [600, 1200, 1800, 2000]
    assert [line["ended"] for line in lines] == [False, False, False, True]
    assert all(line["phase"] == "pull" and line["side"] == "crm" and line["total"] is None
               for line in lines)
    assert lines[0]["rate_per_second"] == 20.0 and lines[0]["seconds"] == 30.0
    assert all("eta_seconds" not in line for line in lines)  # no total: no ETA
    assert lines[-1]["seconds"] == 105.0


def test_a_line_with_a_total_carries_the_eta(logs: list[dict[str, Any]]) -> None:
    ticks = Ticks()
    listener = CycleProgressLog("alpha", Metrics(), every_seconds=30.0, clock=ticks)
    listener(ProgressEvent(Phase.WRITE, 0, 1000))
    ticks.now += 40
    listener(ProgressEvent(Phase.WRITE, 400, 1000))
    ticks.now += 20
    listener(ProgressEvent(Phase.WRITE, 1000, 1000, ended=True))
    first, last = progress_lines(logs)
    assert (first["done"], first["total"], first["rate_per_second"], first["eta_seconds"]) \
        == (400, 1000, 10.0, 60.0)
    assert "side" not in first
    assert last["ended"] and last["done"] == 1000 and "eta_seconds" not in last


def test_a_short_step_logs_only_its_end(logs: list[dict[str, Any]]) -> None:
    ticks = Ticks()
    listener = CycleProgressLog("alpha", Metrics(), clock=ticks)
    listener(ProgressEvent(Phase.PLAN))
    ticks.now += 2
    listener(ProgressEvent(Phase.PLAN, 40, 40, ended=True))
    (line,) = progress_lines(logs)
    assert (line["phase"], line["done"], line["total"], line["seconds"]) == ("plan", 40, 40, 2.0)


def test_gauges_follow_the_running_step_and_reset_with_the_next_cycle() -> None:
    metrics, ticks = Metrics(), Ticks()
    v = metrics.value
    listener = CycleProgressLog("alpha", metrics, clock=ticks)
    listener(ProgressEvent(Phase.PULL, 0, side="prm"))
    listener(ProgressEvent(Phase.PULL, 300, side="prm"))
    assert v("handoff_sync_cycle_step_running", pipeline="alpha", phase="pull_prm") == 1
    assert v("handoff_sync_cycle_step_running", pipeline="alpha", phase="write") == 0
    assert v("handoff_sync_cycle_step_done", pipeline="alpha", phase="pull_prm") == 300
    assert v("handoff_sync_cycle_step_total", pipeline="alpha", phase="pull_prm") is None
    listener(ProgressEvent(Phase.PULL, 320, side="prm", ended=True))
    listener(ProgressEvent(Phase.WRITE, 0, 90))
    listener(ProgressEvent(Phase.WRITE, 45, 90))
    assert v("handoff_sync_cycle_step_running", pipeline="alpha", phase="pull_prm") == 0
    assert v("handoff_sync_cycle_step_running", pipeline="alpha", phase="write") == 1
    assert v("handoff_sync_cycle_step_done", pipeline="alpha", phase="pull_prm") == 320
    assert v("handoff_sync_cycle_step_done", pipeline="alpha", phase="write") == 45
    assert v("handoff_sync_cycle_step_total", pipeline="alpha", phase="write") == 90
    assert b'handoff_sync_cycle_step_total{phase="write",pipeline="alpha"} 90.0' \
        in metrics.exposition()
    listener.close()  # the cycle ended mid-write (a stop): nothing runs, figures stay
    assert all(v("handoff_sync_cycle_step_running", pipeline="alpha", phase=step) == 0
               for step in STEPS)
    assert v("handoff_sync_cycle_step_done", pipeline="alpha", phase="write") == 45
    CycleProgressLog("alpha", metrics, clock=ticks)  # the next cycle starts from nothing
    assert v("handoff_sync_cycle_step_done", pipeline="alpha", phase="write") == 0
    assert v("handoff_sync_cycle_step_total", pipeline="alpha", phase="write") is None


# -- the terminal ------------------------------------------------------------------------------

class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_drawn_only_for_people_at_a_terminal_that_redraws() -> None:
    assert wanted(as_json=False, stream=Tty(), environ={"TERM": "xterm-256color"})
    assert wanted(as_json=False, stream=Tty(), environ={"NO_COLOR": "1", "TERM": "xterm"})
    assert not wanted(as_json=True, stream=Tty(), environ={"TERM": "xterm"})
    assert not wanted(as_json=False, stream=Tty(), environ={"TERM": "dumb"})
    assert not wanted(as_json=False, stream=io.StringIO(), environ={"TERM": "xterm"})


def test_the_display_shows_each_step_with_its_count_and_total() -> None:
    out = Tty()
    console = Console(file=out, force_terminal=True, width=120, color_system=None)
    with CycleDisplay(console) as display:
        listen = display.listener("partners")
        listen(ProgressEvent(Phase.PULL, 0, side="prm"))
        listen(ProgressEvent(Phase.PULL, 1234, side="prm"))
        listen(ProgressEvent(Phase.PULL, 1500, side="prm", ended=True))
        listen(ProgressEvent(Phase.PULL, 0, side="crm"))
        listen(ProgressEvent(Phase.PULL, 600, 1200, side="crm"))  # the system's estimate
        listen(ProgressEvent(Phase.WRITE, 0, 300))
        listen(ProgressEvent(Phase.WRITE, 200, 300))
    text = out.getvalue()
    assert "partners pull prm" in text and "1,500 records" in text
    assert "partners write" in text and "200/300 writes" in text
    assert "partners pull crm" in text and "600/1,200 records" in text
