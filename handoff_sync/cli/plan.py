"""`handoff-sync plan`: what the next cycle would do, without doing it.

Two sources: the live systems and the store (`--config`, the default), or exported
record files (`--prm FILE --crm FILE`, no store: the plan of a first cycle). Live, it
reads both systems exactly as a cycle would and prints, per system, every field it would
write with the old and the new value, the tasks it would create, update or close, and the
write calls that would cost. Nothing is written anywhere, the store included.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from handoff_sync.cli.plan_offline import add_offline_arguments, run_plan
from handoff_sync.cli.sync import (
    config_argument,
    failed_line,
    one_cycle,
    opened,
    selected_pipelines,
)
from handoff_sync.engine.serialise import plan_to_dict, to_jsonable
from handoff_sync.safety.sanitise import for_terminal
from handoff_sync.sync.cycle import CycleReport


def add_plan_command(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "plan", help="show what the next sync would write, field by field (writes nothing)",
        description=__doc__.splitlines()[0] + " Live with --config; from exported records "
        "with --prm and --crm (a JSON array, JSON lines, a SOQL result or a HubSpot page).")
    config_argument(parser)
    parser.add_argument("--pipeline", metavar="NAME", default=None,
                        help="live: only this pipeline; offline: the pipeline name used in "
                             "task keys (default: offline)")
    parser.add_argument("--json", action="store_true", help="print the whole plan as JSON")
    add_offline_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.prm is not None or args.crm is not None:
        if args.prm is None or args.crm is None:
            print("handoff-sync plan: give both --prm FILE and --crm FILE (offline), or "
                  "neither (live, with --config)", file=sys.stderr)
            return 2
        return run_plan(args)
    with opened(args.config) as (config, store):
        reports = [one_cycle(config, store, pipeline, full=False, dry_run=True)
                   for pipeline in selected_pipelines(config, args.pipeline)]
    if args.json:
        # ASCII only, as engine.serialise.dumps: no raw C1 control or bidi override.
        print(json.dumps([_as_json(r) for r in reports], indent=2, sort_keys=True))
    else:
        planned = [r for r in reports if r.plan is not None]
        if planned:
            print("\n\n".join(_as_text(r) for r in planned))
        for report in reports:
            if report.plan is None:  # why, in one line, as cli.main prints an error
                print(failed_line("plan", report, "cannot plan"), file=sys.stderr)
    return 0 if all(r.plan is not None for r in reports) else 1


def _as_json(report: CycleReport) -> dict[str, Any]:
    return {"pipeline": report.pipeline, "kind": report.kind.value,
            "outcome": report.outcome.value, "message": report.message,
            "changes": to_jsonable(list(report.changes)),
            "write_calls": dict(report.write_calls), "read_calls": {
                system: usage.get("total", 0) for system, usage in report.api_calls.items()},
            "plan": plan_to_dict(report.plan) if report.plan is not None else None}


def _as_text(report: CycleReport) -> str:
    plan = report.plan
    assert plan is not None, "a report without a plan is printed by failed_line"
    lines = [f"pipeline {report.pipeline}: the next {report.kind.value} cycle would "
             f"(nothing written)"]
    by_record: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for change in report.changes:
        by_record.setdefault((change["system"], change["object"], change["record"]),
                             []).append(change)
    for system in sorted({key[0] for key in by_record}):
        records = [key for key in by_record if key[0] == system]
        lines.append(f"  {system}: update {len(records)} records")
        for key in sorted(records)[:50]:
            lines.append(f"    {key[1]} {key[2]}")
            for change in by_record[key]:
                lines.append(f"      {change['field']}: {_show(change['old'])} -> "
                             f"{_show(change['new'])}")
        if len(records) > 50:
            lines.append(f"    ... and {len(records) - 50} more records (--json lists all)")
    if not by_record:
        lines.append("  no field writes")
    kinds: dict[str, int] = {}
    for action in plan.tasks:
        kinds[action.kind.value] = kinds.get(action.kind.value, 0) + 1
    lines.append("  tasks: " + (", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
                                or "none"))
    for action in plan.tasks[:30]:
        lines.append(f"    {action.kind.value:<8} {action.task.key} on {action.task.crm_id}: "
                     f"{action.task.subject} -> {action.task.assignee_email}")
    if len(plan.tasks) > 30:
        lines.append(f"    ... and {len(plan.tasks) - 30} more")
    lines.append(f"  links: {len(plan.links)} new or removed; reviews open: {len(plan.reviews)}"
                 f"; conflicts: {len(plan.conflicts)}")
    writes = ", ".join(f"{s} {n}" for s, n in sorted(report.write_calls.items()))
    reads = ", ".join(f"{s} {u.get('total', 0)}" for s, u in sorted(report.api_calls.items()))
    lines.append(f"  API calls: writing would cost {writes or 'nothing'}; "
                 f"planning read {reads}")
    return "\n".join(for_terminal(line) for line in lines)  # subjects, names: system text


def _show(value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    text = for_terminal(value)
    return repr(text[:60] + ("..." if len(text) > 60 else ""))
