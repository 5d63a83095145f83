"""`handoff-sync plan --prm FILE --crm FILE`: what the daemon would do with exported
records, without doing it.

Reads raw records as the APIs return them (a JSON array, JSON lines, a SOQL result with
`records` or a HubSpot page with `results`), maps them with the mappings folder and
prints the engine's plan: links, field writes, tasks, verdicts, SLA events and review
items. Offline there is no store, so it is the plan of a first cycle: nothing linked
before, no tasks open yet. Nothing is written anywhere. Record ids, stages and review
summaries come from the exports, so every one passes ``for_terminal`` before it prints.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from handoff_sync.cli.completion import DIRECTORY, FILE, complete
from handoff_sync.cli.mappings import (
    DEFAULT_FOLDER,
    InputError,
    load_or_report,
    read_owners,
)
from handoff_sync.engine.plan import EngineInput, plan
from handoff_sync.engine.serialise import dumps
from handoff_sync.engine.types import EngineState, Plan
from handoff_sync.mapping.system.convert import (
    MappedRecord,
    SystemMapping,
    flatten_record,
    to_canonical,
)
from handoff_sync.model import OwnerDirectory
from handoff_sync.safety.sanitise import for_terminal

MAX_RECORDS_FILE_BYTES = 2_000_000_000


def add_offline_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `plan` from exported files (the live mode's live in plan_command)."""
    for option, help_text in (("--prm", "the PRM side's records"),
                              ("--crm", "the CRM side's records")):
        complete(parser.add_argument(option, type=Path, metavar="FILE", help=help_text), FILE)
    complete(parser.add_argument("--mappings", type=Path, default=DEFAULT_FOLDER,
                                 metavar="DIR", help="the mappings folder (default: "
                                 "./mappings)"), DIRECTORY)
    complete(parser.add_argument("--crm-owners", type=Path, metavar="FILE",
                                 help="CRM users [{id, email, active?, manager_id?}] for owner "
                                      "fields, task assignees and managers"), FILE)
    complete(parser.add_argument("--prm-owners", type=Path, metavar="FILE",
                                 help="PRM owners, same format"), FILE)
    parser.add_argument("--now", type=_instant, default=None, metavar="ISO-8601",
                        help="the instant to plan at (default: now), e.g. 2026-11-18T15:30Z")


def run_plan(args: argparse.Namespace) -> int:
    mappings = load_or_report(args.mappings)
    if mappings is None:
        return 1
    try:
        crm_owners = read_owners(args.crm_owners) if args.crm_owners else OwnerDirectory()
        prm_owners = read_owners(args.prm_owners) if args.prm_owners else OwnerDirectory()
        prm = _mapped(args.prm, mappings.prm, prm_owners)
        crm = _mapped(args.crm, mappings.crm, crm_owners)
    except InputError as exc:
        print(f"handoff-sync plan: {exc}")
        return 1
    now = args.now or datetime.now(UTC)
    result = plan(EngineInput(args.pipeline or "offline", mappings, prm, crm, EngineState(), now,
                              crm_owners, prm_owners))
    print(dumps(result) if args.json else summary(result), end="\n" if args.json else "")
    return 0


def summary(result: Plan) -> str:
    """The plan for people: counts, one line per deal verdict, then the review items."""
    counts = result.counts()
    tasks = Counter(action.kind.value for action in result.tasks)
    links = Counter(change.link.method.value for change in result.links)
    lines = [f"plan at {result.now.isoformat()} for {counts['deals']} deals (nothing written)",
             f"  links:     {counts['links']} new" + _breakdown(links),
             f"  writes:    {counts['writes']} records",
             f"  tasks:     {counts['tasks']}" + _breakdown(tasks),
             f"  SLA:       {counts['sla_events']} events",
             f"  conflicts: {counts['conflicts']}",
             f"  reviews:   {counts['reviews']}", ""]
    if result.verdicts:
        lines.append(f"{'deal':<24} {'handoff':<20} {'stage':<28} {'gate':<13} {'done':>5}  "
                     "missing")
        for verdict in result.verdicts:
            missing = ", ".join(verdict.missing[:3]) + (
                f" (+{len(verdict.missing) - 3})" if len(verdict.missing) > 3 else "")
            lines.append(f"{for_terminal(verdict.deal):<24} "
                         f"{for_terminal(verdict.handoff_type or '-'):<20} "
                         f"{for_terminal(verdict.stage or '-'):<28} {verdict.status.value:<13} "
                         f"{verdict.completeness_pct:>4}%  {for_terminal(missing)}")
        lines.append("")
    for item in result.reviews:
        lines.append(f"review {item.kind.value}: {for_terminal(item.deal)}: "
                     f"{for_terminal(item.summary)}")
    return "\n".join(lines).rstrip() + "\n"


def _breakdown(counter: Counter[str]) -> str:
    if not counter:
        return ""
    return " (" + ", ".join(f"{n} {what}" for what, n in sorted(counter.items())) + ")"


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 instant: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone; add Z or +hh:mm")
    return value.astimezone(UTC)


def _mapped(file: Path, mapping: SystemMapping,
            owners: OwnerDirectory) -> tuple[MappedRecord, ...]:
    records = []
    for where, raw in _records(file):
        if not isinstance(raw, dict):
            raise InputError(f"{where}: expected a record (a JSON object), got "
                             f"{type(raw).__name__}")
        records.append(to_canonical(mapping, flatten_record(mapping.system, raw), owners))
    return tuple(records)


def _records(file: Path) -> Iterator[tuple[str, Any]]:
    """(file:line or file[index], record) for every record in the file."""
    try:
        if file.stat().st_size > MAX_RECORDS_FILE_BYTES:
            raise InputError(f"{file}: larger than 2 GB; split it")
        text = file.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{file}: cannot read it: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{file}: not UTF-8 (byte {exc.start})") from None
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")) and not _looks_like_lines(stripped):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{file}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") \
                from None
        if isinstance(data, dict):
            data = data.get("records", data.get("results", [data]))
        if not isinstance(data, list):
            raise InputError(f"{file}: expected a list of records")
        yield from ((f"{file}[{index}]", item) for index, item in enumerate(data))
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield f"{file}:{number}", json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{file}:{number}:{exc.colno}: not valid JSON: {exc.msg}") \
                from None


def _looks_like_lines(text: str) -> bool:
    """JSON lines: several objects, one per line (a pretty-printed document spans lines
    too, so the first line must be a whole object on its own)."""
    first = text.split("\n", 1)[0].strip()
    try:
        return isinstance(json.loads(first), dict) and "\n" in text.strip()
    except json.JSONDecodeError:
        return False
