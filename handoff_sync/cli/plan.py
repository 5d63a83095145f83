"""`handoff-sync plan`: what the next cycle would do, without doing it.

Two sources: the live systems and the store (`--config`, the default), or exported
record files (`--prm FILE --crm FILE`, no store: the plan of a first cycle). Both print
through ``cli.plan_view``: a summary, tasks by person, then deal by deal (names, owner,
gate, SLA, every field it would write as old -> new, its tasks), and the records the
mappings' scope leaves out. Live, it reads both systems exactly as a cycle would and says
what the writes would cost in API calls. Nothing is written anywhere, the store included.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

from handoff_sync.cli.plan_offline import add_offline_arguments, run_plan
from handoff_sync.cli.plan_view import (
    DEFAULT_LIMIT,
    PlanView,
    show,
    when,
)
from handoff_sync.cli.sync import (
    config_argument,
    failed_line,
    one_cycle,
    opened,
    selected_pipelines,
)
from handoff_sync.cli.time_arg import instant
from handoff_sync.engine.serialise import plan_to_dict, to_jsonable
from handoff_sync.sync.cycle import CycleReport
from handoff_sync.sync.plan_context import PlanContext

NOTHING = PlanContext({}, {})


def add_plan_command(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "plan", help="show what the next sync would write, deal by deal (writes nothing)",
        description=__doc__.splitlines()[0] + " Live with --config; from exported records "
        "with --prm and --crm (a JSON array, JSON lines, a SOQL result or a HubSpot page). "
        "Prints a summary, tasks by person, then each deal: its name, ids, account, "
        "partner, owner, gate and SLA, each field as old -> new, and its tasks; then the "
        "records the mappings' scope leaves out, and why.")
    config_argument(parser)
    parser.add_argument("--pipeline", metavar="NAME", default=None,
                        help="live: only this pipeline; offline: the pipeline name used in "
                             "task keys (default: offline)")
    parser.add_argument("--now", type=instant, default=None, metavar="ISO-8601",
                        help="plan as if it were this instant (default: now), e.g. "
                             "2026-11-18T15:30Z: SLA verdicts (at risk, breached) and "
                             "task due dates are computed from it, live and offline")
    parser.add_argument("--deal", metavar="ID|NAME", default=None,
                        help="show only this deal: a PRM or CRM record id, or the deal's "
                             "name (case-insensitive; a part of it matches too)")
    parser.add_argument("--limit", type=_limit, default=DEFAULT_LIMIT, metavar="N",
                        help=f"deals shown (default {DEFAULT_LIMIT}; 0: all)")
    parser.add_argument("--json", action="store_true",
                        help="print the whole plan as JSON (every deal; --deal and --limit "
                             "shape the text only)")
    add_offline_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.prm is not None or args.crm is not None:
        if args.prm is None or args.crm is None:
            print("handoff-sync plan: give both --prm FILE and --crm FILE (offline), or "
                  "neither (live, with --config)", file=sys.stderr)
            return 2
        return run_plan(args)
    clock = _fixed(args.now) if args.now is not None else None
    with opened(args.config) as (config, store):
        reports = [one_cycle(config, store, pipeline, full=False, dry_run=True, clock=clock)
                   for pipeline in selected_pipelines(config, args.pipeline)]
    if args.json:
        # ASCII only, as engine.serialise.dumps: no raw C1 control or bidi override.
        print(json.dumps([_as_json(r) for r in reports], indent=2, sort_keys=True))
        return 0 if all(r.plan is not None for r in reports) else 1
    failed = [r for r in reports if r.plan is None]
    for report in failed:  # why, in one line, as cli.main prints an error; first, so a
        # --deal that matches nothing (NoSuchDeal, exit 2) does not hide it
        print(failed_line("plan", report, "cannot plan"), file=sys.stderr)
    text = show([view_of(r) for r in reports if r.plan is not None], args.deal, args.limit)
    if text:
        print(text.rstrip())
    return 0 if not failed else 1


def _as_json(report: CycleReport) -> dict[str, Any]:
    context = report.context or NOTHING
    return {"pipeline": report.pipeline, "kind": report.kind.value,
            "outcome": report.outcome.value, "message": report.message,
            "changes": to_jsonable(list(report.changes)),
            "write_calls": dict(report.write_calls), "read_calls": {
                system: usage.get("total", 0) for system, usage in report.api_calls.items()},
            "plan": plan_to_dict(report.plan) if report.plan is not None else None,
            "skipped_by_scope": to_jsonable(list(context.skipped))}


def view_of(report: CycleReport) -> PlanView:
    """A cycle report that has a plan, as the pure renderer (cli.plan_view) takes it."""
    assert report.plan is not None
    writes = ", ".join(f"{s} {n}" for s, n in sorted(report.write_calls.items()))
    reads = ", ".join(f"{s} {u.get('total', 0)}" for s, u in sorted(report.api_calls.items()))
    return PlanView(
        f"pipeline {report.pipeline}: the next {report.kind.value} cycle, planned at "
        f"{when(report.plan.now)} (nothing written)",
        report.plan, report.changes, report.context or NOTHING,
        f"writing would cost {writes or 'nothing'}; planning read {reads or 'nothing'}")


def _fixed(now: datetime) -> Callable[[], datetime]:
    """The cycle's clock for --now: the plan's SLA and due dates are computed at it."""
    return lambda: now


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of deals (0: all)")
    return value
