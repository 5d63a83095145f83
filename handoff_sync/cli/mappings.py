"""`handoff-sync mappings validate|explain`: check a mappings folder, explain one record.

With --json each prints one JSON document on stdout, problems included (they are what
validate is for); an input it cannot use is one line on stderr and no document, as for
every command.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.base import Owner
from connectors.registry import SYSTEMS
from handoff_sync.cli.completion import DIRECTORY, FILE, complete
from handoff_sync.cli.config_path import default_config, default_config_help
from handoff_sync.cli.output import print_json
from handoff_sync.cli.time_arg import instant
from handoff_sync.errors import CommandError
from handoff_sync.mapping.explain import Explanation, explain, guess_system, render_explanation
from handoff_sync.mapping.loader import POLICY_FILE, validate_mappings
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.mapping.policy.file_model import Routing
from handoff_sync.mapping.policy.routing_checks import routing_user_problems
from handoff_sync.mapping.system.describe import check_against_describe
from handoff_sync.model import OwnerDirectory, Role, SystemName
from handoff_sync.problems.report import Problem, format_path
from handoff_sync.problems.yaml_source import read_yaml_file
from handoff_sync.safety.sanitise import for_terminal
from handoff_sync.sync.explain_drive import drive, drive_lines

DEFAULT_FOLDER = Path("mappings")
MAX_JSON_BYTES = 5_000_000


class InputError(CommandError):
    """A command-line input file that cannot be used; the message says why and what to do."""

    hint = "fix the input file the message names, or pass another"


def add_mappings_command(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "mappings", help="validate the mappings folder, or explain how one record maps",
        description="Check the YAML that maps Salesforce/HubSpot fields and defines the "
                    "handoff policy, before the daemon syncs anything.")
    sub = parser.add_subparsers(dest="mappings_command", metavar="SUBCOMMAND", required=True)
    validate = sub.add_parser(
        "validate", help="check every file; list every problem with file:line:column",
        description="Load and check every file of the mappings folder. Prints each problem "
                    "(file:line:column: key path: what is wrong (hint)) and exits 1, or "
                    "prints one OK line and exits 0 (after a 'warning:' line for what "
                    "validates but deserves a look, e.g. a stage with no gate). With "
                    "--live, also checks each mapped object against what "
                    "Salesforce/HubSpot describe, through the connections of the daemon "
                    "config.")
    complete(validate.add_argument("--mappings", type=Path, default=None, metavar="DIR",
                                   help="the mappings folder (default: ./mappings; with "
                                        "--live, each pipeline's folder in the config)"),
             DIRECTORY)
    validate.add_argument("--live", action="store_true",
                          help="also describe each mapped object through the config's "
                               "connections and check every field, its type, whether it "
                               "can be written and its picklist values, and that every email "
                               "handoff.yaml's routing names is an active CRM user")
    complete(validate.add_argument("--config", type=Path, default=default_config(),
                                   metavar="FILE", help="with --live: the daemon config whose "
                                   f"connections to use (default: {default_config_help()})"),
             FILE)
    validate.add_argument("--pipeline", metavar="NAME",
                          help="with --live: only this pipeline (default: every enabled one)")
    validate.add_argument("--json", action="store_true",
                          help="print {ok, problems: [{file, line, column, path, message, "
                               "hint}], warnings: [the same], counts, ...} as JSON")
    validate.set_defaults(func=run_validate)
    explain = sub.add_parser(
        "explain", help="show the canonical deal, gate verdict and missing fields of a record",
        description="Map one raw record (a JSON object as the Salesforce or HubSpot API "
                    "returns it, or one file-drop row as column: value) and show the "
                    "canonical deal, the gate verdict and the missing fields, then what the "
                    "daemon would do with it alone (a first cycle): the stage autopilot, "
                    "the open tasks and their side, whether a registration gets an "
                    "opportunity and whom routing picks, and the acceptance.")
    complete(explain.add_argument("deal", type=Path, metavar="DEAL.json",
                                  help="the raw record"), FILE)
    complete(explain.add_argument("--mappings", type=Path, default=DEFAULT_FOLDER,
                                  metavar="DIR", help="the mappings folder (default: "
                                  "./mappings)"), DIRECTORY)
    explain.add_argument("--system", choices=[s.value for s in SystemName], default=None,
                         help="the record's system (default: guessed from its shape)")
    complete(explain.add_argument("--owners", type=Path, default=None, metavar="OWNERS.json",
                                  help="owner list [{id, email, active?, manager_id?}] to "
                                       "resolve owner ids, task assignees and routing's "
                                       "emails (default: unknown)"),
             FILE)
    explain.add_argument("--now", type=instant, default=None, metavar="INSTANT",
                         help="the time to plan at, ISO-8601 with a time zone (default: "
                              "now): stage windows and clocks are timed against it")
    explain.add_argument("--json", action="store_true",
                         help="print the mapped record, the gate verdict and the missing "
                              "fields as JSON")
    explain.set_defaults(func=run_explain)


def run_validate(args: argparse.Namespace) -> int:
    if args.live:
        return run_validate_live(args)
    if args.pipeline:
        print("handoff-sync mappings validate: --pipeline selects what --live checks; "
              "add --live", file=sys.stderr if args.json else sys.stdout)
        return 2
    folder = args.mappings if args.mappings is not None else DEFAULT_FOLDER
    mappings, problems = validate_mappings(folder)
    ok = not problems and mappings is not None
    if args.json:
        print_json({"live": False, **validation(folder, mappings, problems)})
    elif not ok:
        _print_problems(problems)
    else:
        assert mappings is not None
        _print_warnings(mappings)
        print(_ok_line(folder, mappings))
    return 0 if ok else 1


def _print_warnings(mappings: MappingSet) -> None:
    """What validates but deserves a look, before the OK line (which it does not change:
    the exit status stays 0)."""
    for warning in sorted(mappings.warnings, key=lambda p: p.sort_key):
        print(f"warning: {warning}")


def _print_problems(problems: list[Problem]) -> None:
    for problem in sorted(problems, key=lambda p: p.sort_key):
        print(problem)
    print(_problems_line(problems))


def _problems_line(problems: list[Problem]) -> str:
    files = len({p.file for p in problems})
    return (f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {files} "
            f"file{'s' if files != 1 else ''}; nothing was synced.")


def validation(folder: Path, mappings: MappingSet | None,
               problems: list[Problem]) -> dict[str, Any]:
    """What `validate --json` says of one folder (every key always there)."""
    loaded = mappings if not problems else None
    return {
        "ok": loaded is not None, "folder": str(folder),
        "prm": _side(loaded.prm) if loaded is not None else None,
        "crm": _side(loaded.crm) if loaded is not None else None,
        "counts": ({what.lower().replace(" ", "_"): n for what, n in loaded.counts().items()}
                   if loaded is not None else None),
        "problems": [problem_dict(p) for p in sorted(problems, key=lambda p: p.sort_key)],
        "warnings": [problem_dict(p) for p in
                     sorted(loaded.warnings if loaded is not None else (),
                            key=lambda p: p.sort_key)],
        "summary": _ok_line(folder, loaded) if loaded is not None else _problems_line(problems),
    }


def _side(mapping: Any) -> dict[str, str]:
    return {"system": mapping.system.value, "object": mapping.object,
            "file": str(mapping.file)}


def problem_dict(problem: Problem) -> dict[str, Any]:
    return {"file": str(problem.file), "line": problem.line, "column": problem.column,
            "path": format_path(problem.path), "message": problem.message,
            "hint": problem.hint or None}


def _ok_line(folder: Path, mappings: MappingSet) -> str:
    counts = ", ".join(f"{n} {what}" for what, n in mappings.counts().items())
    return (f"mappings OK: {folder} (prm: {mappings.prm.system.value} "
            f"{mappings.prm.object}, crm: {mappings.crm.system.value} {mappings.crm.object}; "
            f"{counts})")


def run_validate_live(args: argparse.Namespace) -> int:
    """Every check of `validate`, then each mapped object against what its system
    describes, through the connections of each selected pipeline of the daemon config."""
    from handoff_sync.config.load import load_config
    from handoff_sync.errors import ConfigError

    say = sys.stderr if args.json else sys.stdout  # --json: stdout is the document alone
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(exc, file=say)
        print("--live needs the daemon config to reach the systems (--config FILE)", file=say)
        return 1
    if args.pipeline:
        pipelines = [p for p in config.pipelines if p.name == args.pipeline]
        missing = f"no pipeline named {args.pipeline!r}"
    else:
        pipelines = [p for p in config.pipelines if p.enabled]
        missing = "no enabled pipeline"
    if not pipelines:
        known = ", ".join(p.name for p in config.pipelines)
        print(f"{config.path}: {missing} (pipelines: {known})", file=say)
        return 1
    failed = False
    checked: list[dict[str, Any]] = []
    for pipeline in pipelines:
        folder = args.mappings if args.mappings is not None else pipeline.mappings
        mappings, problems = validate_mappings(folder)
        notes: list[str] = []
        if mappings is not None:
            problems, notes = live_problems(config, pipeline, mappings)
        unreachable = any(note.startswith("cannot") for note in notes)
        failed = failed or bool(problems) or mappings is None or unreachable
        if args.json:
            found = validation(folder, mappings, problems)
            checked.append({"pipeline": pipeline.name, **found, "notes": notes,
                            "ok": found["ok"] and not unreachable})
            continue
        for note in notes:
            print(f"pipeline {pipeline.name}: {note}")
        if problems or mappings is None:
            _print_problems(problems)
        elif not unreachable:
            _print_warnings(mappings)
            print(_ok_line(folder, mappings) + f"; live: pipeline {pipeline.name}")
    if args.json:
        print_json({"ok": not failed, "live": True, "config": str(config.path),
                    "pipelines": checked,
                    "problems": [p for found in checked for p in found["problems"]]})
    return 1 if failed else 0


def live_problems(config: Any, pipeline: Any,
                  mappings: MappingSet) -> tuple[list[Problem], list[str]]:
    """The describe check of both sides of ``mappings`` through ``pipeline``'s connections:
    the problems, and notes on what could not be checked (a side whose system could not
    be reached starts with "cannot")."""
    from connectors.errors import ConnectorError
    from handoff_sync.sync.advice import explain
    from handoff_sync.sync.connect import build_connector

    problems: list[Problem] = []
    notes: list[str] = []
    for role in Role:
        mapping = mappings.side(role)
        name = getattr(pipeline, role.value)
        connection = config.connection(name)
        if connection.system != mapping.system.value:
            problems.append(Problem(mapping.file, 1, 1, (), f"this file maps "
                                    f"{mapping.system.value}, but the pipeline's {role.value} "
                                    f"connection '{name}' is {connection.system}",
                                    "pass the pipeline's mappings folder, or fix the config"))
            continue
        untyped = SYSTEMS[mapping.system].untyped
        if untyped is not None:
            notes.append(f"{mapping.file.name} not described: {untyped}")
            continue
        connector = None
        # Routing hands new opportunities to CRM users: its emails are checked against
        # the CRM's user list.
        routing = mappings.policy.routing if role is Role.CRM else None
        try:
            connector = build_connector(connection)
            deal_object = connector.describe(mapping.object)
            task_object = (connector.describe(mapping.tasks.object)
                           if mapping.tasks is not None else None)
            partner_object = (connector.describe(mapping.partners.object)
                              if mapping.partners is not None else None)
            owners = OwnerDirectory(connector.owners()) if routing is not None else None
        except ConnectorError as exc:
            notes.append(f"cannot describe {mapping.file.name}'s objects through "
                         f"{explain(exc, config, [name])}")
            continue
        finally:
            if connector is not None:
                connector.close()
        problems.extend(check_against_describe(mapping, deal_object, task_object,
                                               partner_object))
        if routing is not None and owners is not None:
            problems.extend(_routing_user_problems(mappings, routing, owners,
                                                   mapping.system.value))
    return problems, notes


def _routing_user_problems(mappings: MappingSet, routing: Routing, owners: OwnerDirectory,
                           system: str) -> list[Problem]:
    """handoff.yaml's routing emails that are no active CRM user, at their lines."""
    document, _ = read_yaml_file(mappings.folder / POLICY_FILE)
    if document is None:  # changed since it validated: the next run reports it
        return []
    return routing_user_problems(document, routing, owners, system)


def load_or_report(folder: Path) -> MappingSet | None:
    """The validated mappings folder, or None after printing every problem in it (for
    commands that need valid mappings before they can do anything)."""
    mappings, problems = validate_mappings(folder)
    if problems or mappings is None:
        for problem in sorted(problems, key=lambda p: p.sort_key):
            print(problem)
        print(f"the mappings in {folder} are invalid; fix them first "
              "(handoff-sync mappings validate)")
        return None
    return mappings


def run_explain(args: argparse.Namespace) -> int:
    if args.json:
        mappings, problems = validate_mappings(args.mappings)
        if problems or mappings is None:
            print_json(explanation_dict(None, problems))
            return 1
    else:
        mappings = load_or_report(args.mappings)
        if mappings is None:
            return 1
    try:
        raw = _read_json(args.deal)
        if not isinstance(raw, dict):
            raise InputError(f"{args.deal}: expected one JSON object (a record), got "
                             f"{type(raw).__name__}")
        system = SystemName(args.system) if args.system else _guess(mappings, raw)
        if system is None:
            shapes = " or a ".join(row.title for row in SYSTEMS.values()
                                   if row.looks_like is not None)
            raise InputError(f"{args.deal}: cannot tell whether this is a {shapes} record; "
                             f"pass --system {'|'.join(s.value for s in SystemName)}")
        if mappings.for_system(system) is None:
            raise InputError(f"{args.mappings} maps no {system.value} object; pass --system")
        owners = read_owners(args.owners) if args.owners else OwnerDirectory()
    except InputError as exc:
        print(f"handoff-sync mappings explain: {exc}",
              file=sys.stderr if args.json else sys.stdout)
        return 1
    found = explain(mappings, system, raw, owners)
    # What the daemon would do with it (sync.explain_drive runs the engine's plan).
    driven = drive(mappings, system, raw, owners, args.now or datetime.now(UTC))
    if args.json:
        print_json({**explanation_dict(found, []), **driven.as_dict()})
    else:
        print(render_explanation(found), end="")
        print("\n".join(for_terminal(line) for line in drive_lines(driven)))
    return 0



def explanation_dict(found: Explanation | None, problems: list[Problem]) -> dict[str, Any]:
    """What `explain --json` says (every key always there): the record, its canonical
    values, the gate verdict and what is missing; or the mappings' problems."""
    if found is None:
        return {"ok": False, "record": None, "deal": None, "sources": None, "issues": None,
                "verdict": None, "missing": None, "only_other_side": None,
                "stage": None, "tasks": None, "creation": None, "acceptance": None,
                "problems": [problem_dict(p) for p in sorted(problems,
                                                             key=lambda p: p.sort_key)]}
    mapping, gate = found.mapping, found.gate
    return {
        "ok": True,
        "record": {"system": found.system.value, "object": mapping.object,
                   "id": found.record_id, "side": mapping.role.value,
                   "file": str(mapping.file), "in_scope": found.in_scope,
                   "outside_scope": found.outside_scope,
                   "scope": dict(mapping.scope)},
        "deal": dict(found.values), "sources": dict(found.sources),
        "issues": [{"field": i.name, "system_field": i.system_field, "value": i.value,
                    "message": i.message} for i in found.issues],
        "verdict": {"handoff_type": gate.handoff_type, "handoff_label": found.handoff_label,
                    "stage": gate.stage, "stage_label": found.stage_label,
                    "required": gate.required, "status": gate.status.value,
                    "completeness_pct": gate.completeness_pct},
        "missing": [{"label": m.label, "field": m.field,
                     "provided_by": (found.other.file.name
                                     if m.field in found.provided_elsewhere else None)}
                    for m in gate.missing],
        "only_other_side": list(found.only_other_side),
        "problems": [],
    }


def _guess(mappings: MappingSet, raw: dict[str, Any]) -> SystemName | None:
    """A file-drop row has no API shape to guess from: when the folder maps such a system
    and the record does not look like a mapped API record, it is one of its rows."""
    guessed = guess_system(raw)
    if guessed is not None and mappings.for_system(guessed) is not None:
        return guessed
    shapeless = (m.system for m in (mappings.prm, mappings.crm)
                 if SYSTEMS[m.system].looks_like is None)
    return next(shapeless, guessed)


def _read_json(file: Path) -> Any:
    try:
        with file.open("rb") as handle:
            data = handle.read(MAX_JSON_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{file}: cannot read it: {exc.strerror}") from None
    if len(data) > MAX_JSON_BYTES:
        raise InputError(f"{file}: larger than {MAX_JSON_BYTES // 1_000_000} MB; "
                         "pass a single record")
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{file}: not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{file}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") \
            from None
    except RecursionError:
        raise InputError(f"{file}: nested too deeply to be a record") from None


def read_owners(file: Path) -> OwnerDirectory:
    data = _read_json(file)
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        data = data["results"]  # HubSpot's owners page
    if not isinstance(data, list):
        raise InputError(f"{file}: expected a JSON list of owners [{{id, email}}, ...]")
    owners = []
    for index, item in enumerate(data):
        owner_id = item.get("id", item.get("Id")) if isinstance(item, dict) else None
        email = item.get("email", item.get("Email")) if isinstance(item, dict) else None
        if not (isinstance(owner_id, str) and isinstance(email, str)):
            raise InputError(f"{file}: owner #{index + 1} needs text 'id' and 'email'")
        manager = item.get("manager_id", item.get("ManagerId"))
        # The person's name, for `plan` (a Salesforce User's Name, a HubSpot owner's parts).
        name = item.get("name", item.get("Name")) or " ".join(
            part for part in (item.get("firstName"), item.get("lastName"))
            if isinstance(part, str) and part)
        owners.append(Owner(owner_id, email,
                            bool(item.get("active", item.get("IsActive", True))),
                            manager if isinstance(manager, str) else None,
                            name if isinstance(name, str) else ""))
    return OwnerDirectory(owners)
