"""`handoff-sync plan --prm FILE --crm FILE`: what the daemon would do with exported
records, without doing it.

Reads raw records as the APIs return them (a JSON array, JSON lines, a SOQL result with
`records` or a HubSpot page with `results`), maps them with the mappings folder and
prints the engine's plan through ``cli.plan_view``, as the live plan prints: links, field
writes (old -> new, old as the export holds it), tasks, verdicts, SLA clocks and review
items, deal by deal. A record outside its mapping's scope is left out, as the live pull
leaves it out, and listed with the reason. Offline there is no store, so it is the plan
of a first cycle: nothing linked before, no tasks open yet. Nothing is written anywhere.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from dataclasses import dataclass
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
from handoff_sync.cli.plan_view import PlanView, show, when
from handoff_sync.engine.plan import EngineInput, plan
from handoff_sync.engine.serialise import plan_to_dict, to_jsonable
from handoff_sync.engine.types import EngineState
from handoff_sync.mapping.system.convert import (
    MappedRecord,
    SystemMapping,
    flatten_record,
    to_canonical,
)
from handoff_sync.mapping.system.scope import SkippedRecord, skipped_record
from handoff_sync.model import OwnerDirectory, Role
from handoff_sync.store.types import MirrorRecord
from handoff_sync.sync.plan_context import plan_context
from handoff_sync.sync.write import field_changes

MAX_RECORDS_FILE_BYTES = 2_000_000_000


def add_offline_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `plan` from exported files (the live mode's live in cli.plan)."""
    for option, help_text in (("--prm", "the PRM side's records"),
                              ("--crm", "the CRM side's records")):
        complete(parser.add_argument(option, type=Path, metavar="FILE", help=help_text), FILE)
    complete(parser.add_argument("--mappings", type=Path, default=DEFAULT_FOLDER,
                                 metavar="DIR", help="the mappings folder (default: "
                                 "./mappings)"), DIRECTORY)
    complete(parser.add_argument("--crm-owners", type=Path, metavar="FILE",
                                 help="CRM users [{id, email, active?, manager_id?, name?}] "
                                      "for owner fields, task assignees and managers"), FILE)
    complete(parser.add_argument("--prm-owners", type=Path, metavar="FILE",
                                 help="PRM owners, same format"), FILE)


@dataclass(frozen=True)
class _Side:
    """A side of an offline plan: its mapping and owners (``sync.write.MappedSide``)."""

    mapping: SystemMapping
    owners: OwnerDirectory


def run_plan(args: argparse.Namespace) -> int:
    mappings = load_or_report(args.mappings)
    if mappings is None:
        return 1
    owners: dict[Role, OwnerDirectory] = {}
    read: dict[Role, _Read] = {}
    try:
        owners[Role.CRM] = read_owners(args.crm_owners) if args.crm_owners else OwnerDirectory()
        owners[Role.PRM] = read_owners(args.prm_owners) if args.prm_owners else OwnerDirectory()
        for role, file in ((Role.PRM, args.prm), (Role.CRM, args.crm)):
            read[role] = _mapped(file, mappings.side(role), owners[role])
    except InputError as exc:
        print(f"handoff-sync plan: {exc}")
        return 1
    now = args.now or datetime.now(UTC)
    result = plan(EngineInput(args.pipeline or "offline", mappings, read[Role.PRM].records,
                              read[Role.CRM].records, EngineState(), now, owners[Role.CRM],
                              owners[Role.PRM]))
    skipped = [record for role in Role for record in read[role].skipped]
    if args.json:
        data = {**plan_to_dict(result), "skipped_by_scope": to_jsonable(skipped)}
        print(json.dumps(data, indent=2, sort_keys=True))  # ASCII, as engine.serialise
        return 0
    sides = {role: _Side(mappings.side(role), owners[role]) for role in Role}
    mirror = {role: read[role].raw for role in Role}
    context = plan_context(result, mappings, {role: read[role].records for role in Role},
                           owners, EngineState(), skipped=skipped)
    view = PlanView(f"offline plan of {args.prm.name} and {args.crm.name} at "
                    f"{when(result.now)}: a first cycle, no store (nothing written)",
                    result, field_changes(result, sides, mirror), context)
    print(show([view], args.deal, args.limit), end="")  # NoSuchDeal: exit 2
    return 0


@dataclass
class _Read:
    """One side's file: the records the engine plans from, as the system's pull would
    return them (in scope), their raw fields, and the records the scope leaves out."""

    records: tuple[MappedRecord, ...]
    raw: dict[str, MirrorRecord]
    skipped: list[SkippedRecord]


def _mapped(file: Path, mapping: SystemMapping, owners: OwnerDirectory) -> _Read:
    """The file's records in canonical terms. A record outside the mapping's scope is left
    out, as a live pull leaves it out (the scope is part of its query), and said."""
    records: list[MappedRecord] = []
    raw: dict[str, MirrorRecord] = {}
    skipped: list[SkippedRecord] = []
    for where, item in _records(file):
        if not isinstance(item, dict):
            raise InputError(f"{where}: expected a record (a JSON object), got "
                             f"{type(item).__name__}")
        fields = flatten_record(mapping.system, item)
        mapped = to_canonical(mapping, fields, owners)
        outside = skipped_record(mapping, fields, mapped.record_id or where)
        if outside is not None:
            skipped.append(outside)
            continue
        records.append(mapped)
        if mapped.record_id:
            raw[mapped.record_id] = MirrorRecord(mapped.record_id, mapped.modified_at, fields)
    return _Read(tuple(records), raw, skipped)


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
