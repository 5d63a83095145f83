"""`handoff-sync status` for people: one block per pipeline, tables drawn by rich."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.table import Table


def render_status(report: dict[str, Any], console: Console | None = None) -> None:
    # Off a terminal (a pipe, a log) rich would wrap at 80 columns: give tables room.
    console = console or Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    console.print(f"database {report['database']} (schema {report['schema_revision']}, "
                  f"this version needs {report['head_revision']})")
    if not report["pipelines"]:
        console.print("no cycle has run yet: `handoff-sync sync --once` or "
                      "`handoff-sync run`")
    for name, pipeline in sorted(report["pipelines"].items()):
        _pipeline(console, name, pipeline)


def _pipeline(console: Console, name: str, p: dict[str, Any]) -> None:
    lease = p.get("lease")
    held = (f"held by {lease['holder']} until {lease['expires_at']}"
            if lease and lease.get("held") else "not held (no cycle running)")
    console.print(f"\n[bold]pipeline {name}[/bold]: lease {held}; last full reconcile "
                  f"{p.get('last_full_at') or 'never'}; {p.get('links', 0)} links; tasks "
                  f"{p['tasks'].get('open', 0)} open, {p['tasks'].get('done', 0)} done")
    runs = Table("run", "kind", "outcome", "started", "secs", "read", "written", "tasks +/~/x",
                 "errors", title="last runs", title_justify="left")
    for run in p.get("runs", []):
        outcome = run["outcome"] + (" (stale)" if run.get("stale") else "")
        runs.add_row(run["run_id"], run["kind"], outcome, run["started_at"],
                     f"{run.get('duration_s') or 0:.1f}", str(run.get("records_read", 0)),
                     str(run.get("records_written", 0)),
                     f"{run.get('tasks_created', 0)}/{run.get('tasks_updated', 0)}/"
                     f"{run.get('tasks_closed', 0)}", str(run.get("errors", 0)))
    console.print(runs)
    errors = p.get("errors", {})
    if errors.get("count"):
        table = Table("record", "system", "code", "attempts", "next retry", "message",
                      title=f"{errors['count']} record errors ({errors.get('retry_due', 0)} "
                      "due for retry)", title_justify="left")
        for item in errors.get("items", []):
            table.add_row(item["record"], f"{item['system']} {item['object']}", item["code"],
                          str(item["attempts"]), item["next_retry_at"], item["message"])
        console.print(table)
    for field, why in sorted((p.get("drift") or {}).items()):
        console.print(f"[yellow]schema drift[/yellow] {field}: {why}")
    reviews = p.get("reviews", {}).get("open", {})
    if reviews:
        listed = ", ".join(f"{n} {kind}" for kind, n in sorted(reviews.items()))
        console.print(f"review queue: {listed} (`handoff-sync review`)")
    conflicts = p.get("conflicts", {})
    if conflicts.get("count"):
        console.print(f"conflicts resolved by policy: {conflicts['count']}")
    for system, usage in sorted((p.get("api_calls") or {}).items()):
        budget = ""
        if usage.get("daily_limit"):
            budget = f"; today {usage.get('daily_used')}/{usage['daily_limit']}"
        console.print(f"API {system}: {usage.get('total', 0)} calls last run{budget}")
