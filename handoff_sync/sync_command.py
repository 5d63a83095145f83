"""`handoff-sync sync --once`, `status` and `review`: one cycle by hand, and what the store knows.

Thin: parse, open the config and the store, call sync/store, print. Every problem a user
can fix (config, schema, a system refusing) is one clear line and exit code 1 or 2.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from handoff_sync.lease_keeper import lease_kept
from handoff_sync.review_view import render_reviews
from handoff_sync.store.types import LeaseLost, SchemaOutdated, StoreError
from handoff_sync.sync import CycleReport, PipelineRunner

DEFAULT_CONFIG = Path("handoff-sync.yaml")


class CommandError(Exception):
    """A problem the user can fix; printed as one line, exit 1."""


def config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, metavar="FILE",
                        help="the daemon config (default: ./handoff-sync.yaml; "
                             "`handoff-sync init` writes one)")


def add_sync_commands(commands: Any) -> None:
    sync = commands.add_parser("sync", help="run one sync cycle of each pipeline now",
                               description="Run one cycle of each enabled pipeline (or one) "
                               "and print what it did. Respects other replicas' leases.")
    config_argument(sync)
    sync.add_argument("--once", action="store_true", required=True,
                      help="one cycle, then exit (the daemon is `handoff-sync run`)")
    sync.add_argument("--pipeline", metavar="NAME", help="only this pipeline")
    sync.add_argument("--full", action="store_true",
                      help="a full reconcile: pull everything, not just changes")
    sync.add_argument("--dry-run", action="store_true",
                      help="read and plan, write nothing anywhere (the store included)")
    sync.add_argument("--json", action="store_true", help="print the summary as JSON")
    sync.set_defaults(func=run_sync)

    status = commands.add_parser("status", help="last runs, backlog, errors, reviews, budget")
    config_argument(status)
    status.add_argument("--pipeline", metavar="NAME", help="only this pipeline")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(func=run_status)

    review = commands.add_parser("review", help="list and resolve review items",
                                 description="List open review items (ambiguous links, "
                                 "channel conflicts, unknown owners ...), or resolve one: "
                                 "`review link KEY CRM_ID` links the registration to that "
                                 "opportunity, `review dismiss KEY` closes the item, "
                                 "`review dismiss --owner EMAIL` closes every "
                                 "unresolved_owner item of that person.")
    config_argument(review)
    review.add_argument("action", nargs="?", choices=["list", "link", "dismiss"],
                        default="list")
    review.add_argument("key", nargs="?", help="the review item's key (from the list)")
    review.add_argument("crm_id", nargs="?", help="for link: the CRM record to link to")
    review.add_argument("--pipeline", metavar="NAME", help="the pipeline (needed with more "
                        "than one)")
    review.add_argument("--owner", metavar="EMAIL", help="for dismiss: every open "
                        "unresolved_owner item naming this person (the list groups them)")
    review.add_argument("--all", action="store_true", help="list resolved items too")
    review.add_argument("--json", action="store_true", help="print JSON")
    review.set_defaults(func=run_review)


@contextmanager
def opened(config_path: Path) -> Iterator[tuple[Any, Any]]:
    """The loaded config and a store at the current schema, closed afterwards."""
    from handoff_sync.config import ConfigError, load_config
    from handoff_sync.store import Store

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
    try:
        store = Store.connect(config.database.url)
    except StoreError as exc:
        raise CommandError(str(exc)) from None
    try:
        store.require_current_schema()
        yield config, store
    except SchemaOutdated as exc:
        raise CommandError(str(exc)) from None
    finally:
        store.close()


def selected_pipelines(config: Any, name: str | None) -> list[Any]:
    pipelines = [p for p in config.pipelines if p.enabled or p.name == name]
    if name is not None:
        pipelines = [p for p in pipelines if p.name == name]
        if not pipelines:
            known = ", ".join(p.name for p in config.pipelines)
            raise CommandError(f"{config.path}: no pipeline named {name!r} (known: {known})")
    return pipelines


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:cli"


class _StopSignal:
    """SIGTERM/SIGINT ask the cycle in hand to stop (after its batch, or out of a budget
    wait within a second); a second signal exits at once with 130, as the daemon does."""

    def __init__(self) -> None:
        self.count = 0  # the handler only assigns: it may run while the main thread
        self._previous: dict[int, Any] = {}  # holds a lock (a log write, an Event)

    def __enter__(self) -> _StopSignal:
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.signal(sig, self._on_signal)
                              for sig in (signal.SIGTERM, signal.SIGINT)}
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _on_signal(self, _signum: int, _frame: object) -> None:
        self.count += 1
        if self.count > 1:
            os.write(2, b"handoff-sync sync: second signal, exiting without waiting\n")
            os._exit(130)

    def requested(self) -> bool:
        return self.count > 0


def run_sync(args: argparse.Namespace) -> int:
    reports: list[CycleReport] = []
    try:
        with opened(args.config) as (config, store), _StopSignal() as stop:
            for pipeline in selected_pipelines(config, args.pipeline):
                if stop.requested():
                    break
                reports.append(one_cycle(config, store, pipeline, full=args.full,
                                         dry_run=args.dry_run, should_stop=stop.requested))
    except (CommandError, LeaseLost) as exc:
        print(f"handoff-sync sync: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([r.summary() for r in reports], indent=2, sort_keys=True))
    else:
        for report in reports:
            print(_cycle_text(report.summary(), dry_run=args.dry_run))
    # A cycle a signal stopped is not a failure: it recorded nothing and the next redoes it.
    fine = ("ok", "partial", "dry_run", "interrupted") if stop.requested() else \
        ("ok", "partial", "dry_run")
    return 0 if all(r.outcome.value in fine for r in reports) else 1


def one_cycle(config: Any, store: Any, pipeline: Any, *, full: bool,
              dry_run: bool, should_stop: Callable[[], bool] = lambda: False) -> CycleReport:
    """One cycle of one pipeline under its lease (a dry run writes nothing: no lease)."""
    holder = holder_id()
    lease_name = f"pipeline:{pipeline.name}"
    ttl = timedelta(seconds=config.schedule.lease_seconds)
    lease = None
    if not dry_run:
        if not store.try_lease(lease_name, holder, ttl, datetime.now(UTC)):
            raise CommandError(f"pipeline {pipeline.name} is running elsewhere (another "
                               "replica holds its lease); try again when its cycle ends, "
                               "or, if that run was killed, once its lease expires "
                               f"(schedule.lease_seconds: {config.schedule.lease_seconds:g})")
        lease = (lease_name, holder)

    def renew() -> None:
        if lease is not None:
            store.try_lease(lease_name, holder, ttl, datetime.now(UTC))

    runner = PipelineRunner(config, pipeline, store, holder=holder)
    try:
        if lease is None:
            return runner.run_cycle(full=True if full else None, dry_run=True,
                                    should_stop=should_stop)
        with lease_kept(lambda: store.try_lease(lease_name, holder, ttl, datetime.now(UTC)),
                        ttl.total_seconds() / 3):
            return runner.run_cycle(full=True if full else None, dry_run=dry_run,
                                    lease=lease, heartbeat=renew, should_stop=should_stop)
    finally:
        runner.close()
        if lease is not None:
            store.release_lease(lease_name, holder)


def _cycle_text(summary: dict[str, Any], *, dry_run: bool) -> str:
    counts = summary["counts"]
    verb = "would write" if dry_run else "wrote"
    lines = [f"pipeline {summary['pipeline']}: {summary['kind']} cycle {summary['run_id']} "
             f"{summary['outcome']} in {summary['duration_seconds']:.1f}s",
             f"  read      {counts.get('records_read', 0)} records "
             f"(prm {counts.get('records_read_prm', 0)}, crm {counts.get('records_read_crm', 0)})"
             f", {counts.get('deals', 0)} deals planned",
             f"  {verb:<9} {counts.get('records_written', 0)} records",
             f"  tasks     {counts.get('tasks_created', 0)} created, "
             f"{counts.get('tasks_updated', 0)} updated, {counts.get('tasks_closed', 0)} closed",
             f"  reviews   {counts.get('reviews_open', 0)} open, conflicts "
             f"{counts.get('conflicts', 0)}, SLA breaches {counts.get('sla_breaches', 0)}"]
    calls = ", ".join(f"{system} {usage.get('total', 0)}"
                      for system, usage in sorted(summary["api_calls"].items()))
    lines.append(f"  API calls {calls}")
    for error in summary["errors"][:10]:
        lines.append(f"  error     {error['system']} {error['object']} {error['record']}: "
                     f"{error['code']}: {error['message']}")
    if len(summary["errors"]) > 10:
        lines.append(f"  ... and {len(summary['errors']) - 10} more (`handoff-sync status`)")
    for field, why in sorted(summary["schema_drift"].items()):
        lines.append(f"  skipped   {field}: {why}")
    if summary["message"]:
        lines.append(f"  note      {summary['message']}")
    return "\n".join(lines)


def run_status(args: argparse.Namespace) -> int:
    try:
        with opened(args.config) as (config, store):
            if args.pipeline is not None:
                selected_pipelines(config, args.pipeline)
            report = store.status(args.pipeline, now=datetime.now(UTC))
    except CommandError as exc:
        print(f"handoff-sync status: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True, default=str))
        return 0
    from handoff_sync.status_view import render_status

    render_status(report)
    return 0


def run_review(args: argparse.Namespace) -> int:
    try:
        with opened(args.config) as (config, store):
            if args.action == "list":
                items = store.reviews(args.pipeline, status=None if args.all else "open")
                _print_reviews(items, as_json=args.json)
                return 0
            pipeline = _one_pipeline(config, args.pipeline)
            if args.owner is not None:
                return _dismiss_owner(store, pipeline, args)
            if not args.key:
                raise CommandError(f"review {args.action} needs the item's key "
                                   "(see `handoff-sync review`)")
            if args.action == "link" and not args.crm_id:
                raise CommandError("review link needs the CRM record id to link to: "
                                   "`handoff-sync review link KEY CRM_ID`")
            try:
                item = store.resolve_review(pipeline, args.key, action=args.action,
                                            crm_id=args.crm_id, by=holder_id(),
                                            now=datetime.now(UTC))
            except StoreError as exc:
                raise CommandError(str(exc)) from None
    except CommandError as exc:
        print(f"handoff-sync review: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(item, indent=2, sort_keys=True, default=str))
    else:
        print(f"{item['key']}: {item['status']} ({item.get('resolution') or args.action}); "
              "the next cycle applies it")
    return 0


def _dismiss_owner(store: Any, pipeline: str, args: argparse.Namespace) -> int:
    if args.action != "dismiss" or args.key:
        raise CommandError("--owner goes with dismiss and no key: "
                           "`handoff-sync review dismiss --owner EMAIL`")
    try:
        items = store.dismiss_owner_reviews(pipeline, args.owner, by=holder_id(),
                                            now=datetime.now(UTC))
    except StoreError as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        print(json.dumps(items, indent=2, sort_keys=True, default=str))
    else:
        deals = len({item["deal"] for item in items})
        print(f"{args.owner}: {len(items)} unresolved_owner items dismissed ({deals} deals); "
              "new deals of this person raise new items")
    return 0


def _one_pipeline(config: Any, name: str | None) -> str:
    if name is not None:
        return str(selected_pipelines(config, name)[0].name)
    if len(config.pipelines) == 1:
        return str(config.pipelines[0].name)
    raise CommandError("more than one pipeline: say which with --pipeline NAME")


def _print_reviews(items: Sequence[dict[str, Any]], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(list(items), indent=2, sort_keys=True, default=str))
        return
    print(render_reviews(items), end="")
