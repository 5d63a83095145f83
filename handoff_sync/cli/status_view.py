"""`handoff-sync status` for people: one block per pipeline, in 80 columns.

Fixed-width lines rather than rich tables: a failed run's reason is the most important
thing on the screen and is often long, so it goes on its own wrapped lines under its
run instead of being squeezed into a column. Times are UTC to the second, run ids their
first 8 characters. Everything that came from a system or the store passes through
``sanitise.for_terminal``: a partner's text never reaches the terminal as escapes.
"""

from __future__ import annotations

import sys
import textwrap
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.text import Text

from handoff_sync.safety.sanitise import for_terminal
from handoff_sync.sync.failures import classify_message

WIDTH = 80  # off a terminal (a pipe, a log, a test) lines fit 80 columns
ID_CHARS = 8
LONG_ID = 24
RUNS_HEADER = (f"{'run':<8} {'kind':<4} {'outcome':<11} {'started (UTC)':<14} {'secs':>6} "
               f"{'read':>5} {'wrote':>5} {'tasks+~x':>8} {'errs':>4}")
REASON_INDENT = " " * 9
WHY_OUTCOMES = ("failed", "partial", "interrupted")
STOPPED = ("failed", "running", "stale")  # no records handled (yet)


def status_console() -> Console:
    return Console(highlight=False, width=None if sys.stdout.isatty() else WIDTH)


def render_status(report: dict[str, Any], console: Console | None = None) -> None:
    console = console or status_console()
    width = max(60, console.width)
    console.print(Text(_clean(f"database {report['database']} (schema "
                              f"{report['schema_revision']}, this version needs "
                              f"{report['head_revision']})")), soft_wrap=False)
    if not report["pipelines"]:
        console.print("no cycle has run yet: `handoff-sync sync` or "
                      "`handoff-sync run`", markup=False)
    for name, pipeline in sorted(report["pipelines"].items()):
        console.print()
        for line in pipeline_lines(name, pipeline, width):
            console.print(line, soft_wrap=True)


def pipeline_lines(name: str, p: dict[str, Any], width: int = WIDTH) -> list[Text]:
    """One pipeline's block, every line at most ``width`` columns."""
    lines = [Text(_clean(f"pipeline {name}"), style="bold")]
    lines += [Text(line) for line in _wrap(_health(p), width, "  ")]
    lease = p.get("lease")
    held = (f"held by {_short(lease['holder'], LONG_ID)} until {when(lease['expires_at'])}"
            if lease and lease.get("held") else "not held (no cycle running)")
    tasks = p.get("tasks", {})
    lines += [Text(line) for line in _wrap(
        f"lease {held}; last full reconcile {when(p.get('last_full_at'))}; "
        f"{p.get('links', 0)} links; tasks {tasks.get('open', 0)} open, "
        f"{tasks.get('done', 0)} done", width, "  ")]
    lines += [Text("last runs", style="italic"), Text(RUNS_HEADER, style="dim")]
    for run in p.get("runs", []):
        lines += [Text(line) for line in _run_lines(run, width)]
    lines += [Text(line) for line in _error_lines(p.get("errors", {}), width)]
    lines += [Text(line) for line in _other_lines(p, width)]
    return lines


def _health(p: dict[str, Any]) -> str:
    health = p.get("health") or {}
    failures = int(health.get("consecutive_failures") or 0)
    success = f"last success {when(health.get('last_success_at'))}"
    if not failures:
        return f"health: ok, {success}"
    reason = classify_message(health.get("last_failure"))
    return (f"health: FAILING, {failures} failed cycle{'s' if failures != 1 else ''} in a "
            f"row ({reason}), {success}: {health.get('last_failure') or 'no message'}")


def _run_lines(run: dict[str, Any], width: int) -> list[str]:
    outcome = str(run.get("outcome", ""))
    shown = "stale" if run.get("stale") else outcome
    tasks = (f"{run.get('tasks_created', 0)}/{run.get('tasks_updated', 0)}/"
             f"{run.get('tasks_closed', 0)}")
    # A cycle that stopped before handling records has no record-error count: "0" there
    # read as "all well" beside "failed". Its reason follows on the next lines.
    errors = "-" if shown in STOPPED else str(run.get("errors", 0))
    line = (f"{_short(run['run_id'], ID_CHARS, mark=False):<8} "
            f"{'full' if run.get('kind') == 'full' else 'incr':<4} {shown:<11} "
            f"{when(run.get('started_at')):<14} {run.get('duration_s') or 0:>6.1f} "
            f"{run.get('records_read', 0):>5} {run.get('records_written', 0):>5} "
            f"{tasks:>8} {errors:>4}")
    lines = [_clean(line)]
    message = run.get("message")
    if message and outcome in WHY_OUTCOMES:
        why = f"{classify_message(message)}: {message}" if outcome == "failed" else message
        lines += _wrap(why, width, REASON_INDENT)
    elif run.get("stale"):
        lines += _wrap("no daemon holds the lease: this cycle died without recording",
                       width, REASON_INDENT)
    return lines


def _error_lines(errors: dict[str, Any], width: int) -> list[str]:
    if not errors.get("count"):
        return []
    lines = [f"{errors['count']} record errors ({errors.get('retry_due', 0)} due for retry)"]
    for item in errors.get("items", []):
        lines.append(_clean(f"  {_short(item['record'], LONG_ID)}  {item['system']} "
                            f"{item['object']}  {item['code']}")[:width])
        lines += _wrap(f"attempt {item['attempts']}, next retry "
                       f"{when(item.get('next_retry_at'))}: {item['message']}", width, "      ")
    return lines


def _other_lines(p: dict[str, Any], width: int) -> list[str]:
    lines: list[str] = []
    for field, why in sorted((p.get("drift") or {}).items()):
        lines += _wrap(f"schema drift {field}: {why}", width, "  ")
    reviews = p.get("reviews", {}).get("open", {})
    if reviews:
        listed = ", ".join(f"{n} {kind}" for kind, n in sorted(reviews.items()))
        lines += _wrap(f"review queue: {listed} (`handoff-sync review`)", width, "")
    conflicts = p.get("conflicts", {})
    if conflicts.get("count"):
        lines.append(f"conflicts resolved by policy: {conflicts['count']}")
    for system, usage in sorted((p.get("api_calls") or {}).items()):
        budget = ""
        if usage.get("daily_limit"):
            budget = f"; today {usage.get('daily_used')}/{usage['daily_limit']}"
        lines += _wrap(f"API {system}: {usage.get('total', 0)} calls last run{budget}",
                       width, "")
        if usage.get("budget_unshared"):
            lines += _wrap(f"API {system} budget {usage['budget_unshared']}",
                           width, "")
    return lines


def when(value: Any) -> str:
    """An instant (ISO text from the status JSON) as ``MM-DD HH:MM:SS`` UTC."""
    if not value:
        return "never"
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return _clean(value)[:19]
    return moment.strftime("%m-%d %H:%M:%S")


def _short(value: Any, chars: int, *, mark: bool = True) -> str:
    text = _clean(value)
    if len(text) <= chars:
        return text
    return text[:chars - 1] + "~" if mark else text[:chars]


def _wrap(text: str, width: int, indent: str) -> list[str]:
    return textwrap.wrap(_clean(text), width=width, initial_indent=indent,
                         subsequent_indent=indent or "  ", break_on_hyphens=False) or [indent]


def _clean(value: Any) -> str:
    return for_terminal(value)


def watch(draw: Callable[[], None], seconds: float, *, console: Console,
          refreshes: int | None = None, sleep: Callable[[float], None] = time.sleep) -> int:
    """Clear the screen and ``draw`` every ``seconds`` until Ctrl-C (exit 0), or
    ``refreshes`` times (tests)."""
    done = 0
    try:
        while refreshes is None or done < refreshes:
            console.clear()
            draw()
            console.print(Text(f"refreshing every {seconds:g} s; Ctrl-C to stop",
                               style="dim"))
            done += 1
            if refreshes is None or done < refreshes:
                sleep(seconds)
    except KeyboardInterrupt:
        console.print()
    return 0
