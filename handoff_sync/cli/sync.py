"""`handoff-sync sync`, `status` and `review`: one cycle by hand, and what the store knows.

Thin: parse, open the config and the store, call sync/store, print. Every problem a user
can fix (config, schema, a system refusing) is a ``UserError`` or a connector error, which
``cli.main`` prints as one clear line with exit code 1 (2 when `review link` needs more).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.errors import ConnectorError
from handoff_sync.cli.completion import FILE, complete
from handoff_sync.cli.config_path import default_config, default_config_help
from handoff_sync.cli.review_view import render_reviews
from handoff_sync.daemon.lease_keeper import lease_kept
from handoff_sync.daemon.signals import StopSignals
from handoff_sync.errors import CommandError
from handoff_sync.safety.sanitise import for_terminal
from handoff_sync.store.types import RunOutcome, StoreError
from handoff_sync.sync.cycle import CycleReport, PipelineRunner, now_utc
from handoff_sync.sync.failures import classify_message, failure_text
from handoff_sync.sync.progress import Progress, no_progress

WATCH_SECONDS = 2.0


def config_argument(parser: argparse.ArgumentParser) -> None:
    complete(parser.add_argument("--config", type=Path, default=default_config(), metavar="FILE",
                                 help=f"the daemon config (default: {default_config_help()}; "
                                      "`handoff-sync init` writes one)"), FILE)


def add_sync_commands(commands: Any) -> None:
    sync = commands.add_parser("sync", help="run one sync cycle of each pipeline now",
                               description="Run one cycle of each enabled pipeline (or one), "
                               "print what it did and exit (the daemon, which syncs on a "
                               "schedule, is `handoff-sync run`). Respects other replicas' "
                               "leases.")
    config_argument(sync)
    # `sync` only ever runs one cycle; --once was required once and scripts still pass it.
    sync.add_argument("--once", action="store_true",
                      help="the same as without it: kept for scripts written when it was "
                           "required")
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
    status.add_argument("--watch", nargs="?", type=_seconds, const=WATCH_SECONDS,
                        metavar="SECONDS", help="redraw every SECONDS (default "
                        f"{WATCH_SECONDS:g}) until Ctrl-C")
    status.set_defaults(func=run_status)

    review = commands.add_parser("review", help="list and resolve review items",
                                 description="List open review items (ambiguous links, "
                                 "channel conflicts, unknown owners ...), or resolve one: "
                                 "`review link KEY CRM_ID` links the registration to that "
                                 "opportunity (after checking the id with the CRM and "
                                 "showing what changes), `review dismiss KEY` closes the item, "
                                 "`review dismiss --owner EMAIL` closes every "
                                 "unresolved_owner item of that person (and their "
                                 "unresolved_prm_owner item).")
    config_argument(review)
    review.add_argument("action", nargs="?", choices=["list", "link", "dismiss"],
                        default="list")
    review.add_argument("key", nargs="?", help="the review item's key (from the list)")
    review.add_argument("crm_id", nargs="?", help="for link: the CRM record to link to")
    review.add_argument("--pipeline", metavar="NAME", help="the pipeline (needed with more "
                        "than one)")
    review.add_argument("--owner", metavar="EMAIL", help="for dismiss: every open "
                        "unresolved_owner item naming this person (the list groups them)")
    review.add_argument("--registration", metavar="ID", help="for link: the registration "
                        "to link, when the item names several (a channel conflict)")
    review.add_argument("--opportunity", metavar="ID", help="for link: the CRM opportunity "
                        "to link to (the same as CRM_ID)")
    review.add_argument("--force", action="store_true", help="for link: take the "
                        "opportunity from another partner's registration (moves the "
                        "attribution; shown first)")
    review.add_argument("--dry-run", action="store_true", help="for link: check and show "
                        "what the link would change, link nothing")
    review.add_argument("--all", action="store_true", help="list resolved items too")
    review.add_argument("--json", action="store_true", help="print JSON")
    review.set_defaults(func=run_review)


@contextmanager
def opened(config_path: Path) -> Iterator[tuple[Any, Any]]:
    """The loaded config and a store at the current schema, closed afterwards
    (ConfigError, StoreError or SchemaOutdated when there are none)."""
    from handoff_sync.config.load import load_config
    from handoff_sync.store import Store

    config = load_config(config_path)
    store = Store.connect(config.database.url)
    try:
        store.require_current_schema()
        yield config, store
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


def run_sync(args: argparse.Namespace) -> int:
    from handoff_sync.cli.progress_view import CycleDisplay, wanted

    reports: list[CycleReport] = []
    # At a terminal, where each cycle stands while it runs (stderr; gone at the end).
    display = CycleDisplay() if wanted(as_json=args.json) else None
    with opened(args.config) as (config, store), StopSignals("handoff-sync sync") as stop, \
            display or nullcontext():
        for pipeline in selected_pipelines(config, args.pipeline):
            if stop.requested():
                break
            reports.append(one_cycle(
                config, store, pipeline, full=args.full, dry_run=args.dry_run,
                should_stop=stop.requested,
                progress=display.listener(pipeline.name) if display else no_progress))
    if args.json:
        print(json.dumps([r.summary() for r in reports], indent=2, sort_keys=True))
    else:
        for report in reports:
            if report.outcome is RunOutcome.FAILED:  # it did nothing: why, in one line
                print(failed_line("sync", report, "failed"), file=sys.stderr)
            else:
                print(_cycle_text(report.summary(), dry_run=args.dry_run))
    # A cycle a signal stopped is not a failure: it recorded nothing and the next redoes it.
    fine = ("ok", "partial", "dry_run", "interrupted") if stop.requested() else \
        ("ok", "partial", "dry_run")
    return 0 if all(r.outcome.value in fine for r in reports) else 1


def failed_line(command: str, report: CycleReport, verb: str) -> str:
    """``handoff-sync COMMAND: pipeline NAME: VERB (CLASS): what failed; what to check``:
    a failed cycle as the one line cli.main prints for an error. CLASS is the failure
    class `status` and the metrics use (unreachable, tls, auth ...)."""
    message = report.message or ""
    return for_terminal(f"handoff-sync {command}: pipeline {report.pipeline}: {verb} "
                        f"({classify_message(message)}): {failure_text(message)}")


def one_cycle(config: Any, store: Any, pipeline: Any, *, full: bool,
              dry_run: bool, should_stop: Callable[[], bool] = lambda: False,
              clock: Callable[[], datetime] | None = None,
              progress: Progress = no_progress) -> CycleReport:
    """One cycle of one pipeline under its lease (a dry run writes nothing: no lease).
    ``clock``: the instant the cycle plans at (`plan --now`); default the real time.
    ``progress``: hears where the cycle stands (sync.progress)."""
    holder = holder_id()
    lease_name = f"pipeline:{pipeline.name}"
    ttl = timedelta(seconds=config.schedule.lease_seconds)
    try:
        # Built before taking the lease: a missing or malformed secret stops here, with
        # no lease left behind for the next run to wait out.
        runner = PipelineRunner(config, pipeline, store, holder=holder,
                                clock=clock or now_utc)
    except ConnectorError as exc:
        raise CommandError(f"pipeline {pipeline.name}: {exc}") from None
    lease = None
    if not dry_run:
        if not store.try_lease(lease_name, holder, ttl, datetime.now(UTC)):
            runner.close()
            raise CommandError(f"pipeline {pipeline.name} is running elsewhere (another "
                               "replica holds its lease); try again when its cycle ends, "
                               "or, if that run was killed, once its lease expires "
                               f"(schedule.lease_seconds: {config.schedule.lease_seconds:g})")
        lease = (lease_name, holder)

    def renew() -> None:
        if lease is not None:
            store.try_lease(lease_name, holder, ttl, datetime.now(UTC))

    try:
        if lease is None:
            return runner.run_cycle(full=True if full else None, dry_run=True,
                                    should_stop=should_stop, progress=progress)
        with lease_kept(lambda: store.try_lease(lease_name, holder, ttl, datetime.now(UTC)),
                        ttl.total_seconds() / 3):
            return runner.run_cycle(full=True if full else None, dry_run=dry_run,
                                    lease=lease, heartbeat=renew, should_stop=should_stop,
                                    progress=progress)
    finally:
        try:
            runner.close()
        finally:
            if lease is not None:
                _release(store, lease_name, holder)


def _release(store: Any, lease_name: str, holder: str) -> None:
    """Release the lease after the cycle; a failure costs only a wait (it expires after
    ``schedule.lease_seconds``), not the cycle's result."""
    try:
        store.release_lease(lease_name, holder)
    except StoreError as exc:
        print(f"handoff-sync sync: could not release the lease {lease_name} ({exc}); "
              "it expires after schedule.lease_seconds", file=sys.stderr)


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
    return "\n".join(for_terminal(line) for line in lines)  # error messages: system text


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0.1 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds "
                                         "between 0.1 and 3600")
    return value


def run_status(args: argparse.Namespace, *, refreshes: int | None = None) -> int:
    """``refreshes`` bounds ``--watch`` (tests); None redraws until Ctrl-C."""
    from handoff_sync.cli.status_view import render_status, status_console, watch

    with opened(args.config) as (config, store):
        if args.pipeline is not None:
            selected_pipelines(config, args.pipeline)
        if getattr(args, "watch", None) and not args.json:
            console = status_console()

            def draw() -> None:
                try:
                    render_status(store.status(args.pipeline, now=datetime.now(UTC)), console)
                except StoreError as exc:  # the database may come back: keep watching
                    console.print(f"handoff-sync status: {exc}", markup=False)

            return watch(draw, args.watch, console=console, refreshes=refreshes)
        report = store.status(args.pipeline, now=datetime.now(UTC))
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True, default=str))
        return 0
    render_status(report)
    return 0


def run_review(args: argparse.Namespace) -> int:
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
        if args.action == "link":
            return _link(config, store, pipeline, args)
        item = store.resolve_review(pipeline, args.key, action=args.action,
                                    crm_id=args.crm_id, by=holder_id(), now=datetime.now(UTC))
    if args.json:
        print(json.dumps(item, indent=2, sort_keys=True, default=str))
    else:
        print(f"{item['key']}: {item['status']} ({item.get('resolution') or args.action}); "
              "the next cycle applies it")
    return 0


def _link(config: Any, store: Any, pipeline: str, args: argparse.Namespace) -> int:
    """`review link`: check the link with the CRM, show what it changes, then store it."""
    from connectors.errors import ConnectorError
    from handoff_sync.sync.advice import explain
    from handoff_sync.sync.connect import build_connector
    from handoff_sync.sync.review_link import USAGE, LinkRefused, check_link

    if args.crm_id and args.opportunity and args.crm_id != args.opportunity:
        raise LinkRefused(f"two opportunities given ({args.crm_id} and --opportunity "
                          f"{args.opportunity}): give one", USAGE)
    crm_id = args.crm_id or args.opportunity
    item = next((i for i in store.reviews(pipeline, status=None) if i["key"] == args.key),
                None)
    if item is None:
        raise CommandError(f"no review item {args.key!r} in pipeline {pipeline!r}",
                           hint="`handoff-sync review` lists the open ones")
    if item["status"] != "open":
        raise CommandError(f"review item {args.key!r} is already {item['status']}"
                           + (f" ({item['resolution']})" if item["resolution"] else ""))
    settings = selected_pipelines(config, pipeline)[0]
    try:
        crm = build_connector(config.connections[settings.crm])
    except ConnectorError as exc:
        raise LinkRefused(f"could not connect to the CRM to check the link: {exc}") from None
    try:
        preview = check_link(item, store.load_pipeline(pipeline), Path(settings.mappings),
                             crm, crm_id, args.registration, force=args.force,
                             words=lambda exc: explain(exc, config, [settings.crm]))
    finally:
        crm.close()
    result: dict[str, Any] | None = None
    if not args.dry_run:
        result = store.resolve_review(
            pipeline, args.key, action="link", crm_id=preview.opportunity.id,
            registration=preview.registration.id, by=holder_id(), now=datetime.now(UTC),
            displace=[other.id for other in preview.taken_from])
    if args.json:
        shown = {**(result or item), "link": preview.as_dict(), "dry_run": args.dry_run}
        print(json.dumps(shown, indent=2, sort_keys=True, default=str))
        return 0
    print("\n".join(preview.lines()))
    if result is None:
        print("dry run: nothing linked")
    else:
        print(f"{result['key']}: {result['status']} ({result['resolution']}); "
              "the next cycle applies it")
    return 0


def _dismiss_owner(store: Any, pipeline: str, args: argparse.Namespace) -> int:
    if args.action != "dismiss" or args.key:
        raise CommandError("--owner goes with dismiss and no key: "
                           "`handoff-sync review dismiss --owner EMAIL`")
    items = store.dismiss_owner_reviews(pipeline, args.owner, by=holder_id(),
                                        now=datetime.now(UTC))
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
