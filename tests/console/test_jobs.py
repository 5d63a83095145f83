"""Background jobs (console/jobs.py): a page asks, gets what is known, polls until done."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from handoff_sync.console.jobs import CRASHED, Done, Failed, Jobs, Pending
from handoff_sync.console.offload import Busy
from handoff_sync.errors import UserError


def blocked(value: str, gate: threading.Event) -> str:
    assert gate.wait(10), "the test never released the job"
    return value


def test_a_slow_job_is_pending_then_done_and_shared_by_its_askers() -> None:
    jobs, gate, calls = Jobs(), threading.Event(), []

    def work() -> str:
        calls.append(1)
        return blocked("figures", gate)

    first = jobs.get("report", ("report", 1), work)
    again = jobs.get("report", ("report", 1), work)
    assert isinstance(first, Pending) and isinstance(again, Pending)
    assert again.id == first.id and first.previous is None
    gate.set()
    done = jobs.get("report", ("report", 1), work, wait=5)
    assert isinstance(done, Done) and done.value == "figures" and done.id == first.id
    assert jobs.status(first.id) == done
    assert calls == [1]  # two visitors, one run


def test_quick_work_is_answered_in_the_same_request() -> None:
    found = Jobs().get("f", "k", lambda: 42, wait=5)
    assert isinstance(found, Done) and found.value == 42


def test_while_a_new_version_runs_the_last_result_of_its_family_is_offered() -> None:
    jobs, gate = Jobs(), threading.Event()
    old = jobs.get("q", ("q", 1), lambda: "as of cycle 1", wait=5)
    assert isinstance(old, Done)
    fresh = jobs.get("q", ("q", 2), lambda: blocked("as of cycle 2", gate))
    assert isinstance(fresh, Pending) and fresh.previous == old
    other = jobs.get("other query", ("other", 2), lambda: blocked("x", gate))
    assert isinstance(other, Pending) and other.previous is None
    gate.set()
    assert jobs.get("q", ("q", 2), lambda: "unused", wait=5) == jobs.latest("q")


def test_a_user_error_is_shown_to_its_polls_and_asking_again_runs_it_again() -> None:
    jobs, attempts = Jobs(), []

    def work() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise UserError("pipeline main: no cycle has run yet")
        return "report"

    failed = jobs.get("f", "k", work, wait=5)
    assert failed == Failed(failed.id, "pipeline main: no cycle has run yet")
    assert jobs.status(failed.id) == failed
    retried = jobs.get("f", "k", work, wait=5)
    assert isinstance(retried, Done) and retried.value == "report"


def test_a_bug_is_logged_and_the_page_gets_a_plain_line() -> None:
    def work() -> str:
        raise RuntimeError("token=s3cr3t exploded")

    failed = Jobs().get("f", "k", work, wait=5)
    assert isinstance(failed, Failed) and failed.message == CRASHED
    assert "s3cr3t" not in failed.message


def test_too_many_waiting_jobs_are_refused_busy_not_queued_for_minutes() -> None:
    jobs, gate = Jobs(workers=1, queue=1), threading.Event()
    try:
        jobs.get("f", 1, lambda: blocked("a", gate))
        jobs.get("f", 2, lambda: blocked("b", gate))  # waits for the one thread
        with pytest.raises(Busy):
            jobs.get("f", 3, lambda: "c")
        assert isinstance(jobs.get("f", 1, lambda: "unused"), Pending)  # known: no refusal
    finally:
        gate.set()


def test_an_unknown_job_id_is_none() -> None:
    assert Jobs().status("made-up") is None


def test_results_kept_are_bounded() -> None:
    jobs = Jobs(kept=3)
    ids = [jobs.get("f", n, lambda n=n: n, wait=5).id for n in range(10)]
    assert jobs.status(ids[0]) is None and isinstance(jobs.status(ids[-1]), Done)


def test_a_pending_jobs_age_is_counted_on_the_consoles_clock() -> None:
    now, gate = [100.0], threading.Event()
    jobs = Jobs(clock=lambda: now[0])
    try:
        pending = jobs.get("f", "k", lambda: blocked("x", gate))
        assert isinstance(pending, Pending)
        now[0] = 137.5
        assert jobs.age(pending.started_at) == 37.5  # "started 37 s ago"
    finally:
        gate.set()


def test_a_job_not_started_is_cancelled_and_forgotten_a_running_one_is_not() -> None:
    jobs, gate, ran = Jobs(workers=1), threading.Event(), []
    try:
        running = jobs.get("f", 1, lambda: blocked("a", gate))
        waiting = jobs.get("f", 2, lambda: ran.append(2) or "b")
        assert isinstance(waiting, Pending) and not waiting.running
        assert jobs.cancel(waiting.id) and jobs.status(waiting.id) is None
        assert not jobs.cancel(waiting.id) and not jobs.cancel("made-up")
        for _ in range(1000):  # the first one runs (its thread took it)
            if (status := jobs.status(running.id)) is not None and \
                    isinstance(status, Pending) and status.running:
                break
            time.sleep(0.01)
        assert not jobs.cancel(running.id)
    finally:
        gate.set()
    assert isinstance(jobs.get("f", 1, lambda: "unused", wait=5), Done)
    again = jobs.get("f", 2, lambda: "b again", wait=5)  # asked again: runs anew
    assert isinstance(again, Done) and again.value == "b again" and ran == []


def test_a_lanes_jobs_run_one_at_a_time_on_a_thread_of_their_own() -> None:
    jobs, gate = Jobs(workers=1, queue=1), threading.Event()
    try:
        first = jobs.get("what-if", 1, lambda: blocked("a", gate), lane="what-if")
        second = jobs.get("what-if", 2, lambda: blocked("b", gate), lane="what-if")
        assert isinstance(second, Pending) and not second.running  # one at a time
        with pytest.raises(Busy):  # its own queue is full...
            jobs.get("what-if", 3, lambda: "c", lane="what-if")
        report = jobs.get("report", "r", lambda: "figures", wait=5)
        assert isinstance(report, Done) and report.value == "figures"  # ...not the reports'
        assert isinstance(jobs.status(first.id), Pending)
    finally:
        gate.set()


def test_a_running_job_does_not_hold_up_a_stopping_process() -> None:
    # A report or what-if runs for minutes at 100,000 deals: a daemon told to stop
    # must not wait for it (jobs only read). Before, the process stayed up with it.
    script = ("import threading, time\n"
              "from handoff_sync.console.jobs import Jobs\n"
              "started = threading.Event()\n"
              "Jobs().get('f', 'k', lambda: (started.set(), time.sleep(600)))\n"
              "started.wait(30)\n"
              "print('exiting', flush=True)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0 and done.stdout == "exiting\n", done.stderr
