"""One system field, one meaning: refuse entries that would write two values into it.

A system field that two entries of one file name, where either entry writes it, gets two
values from one sync: the second write silently replaces the first (an Economic Buyer
overwritten with the Need text), and the next read brings the wrong value back as if a
person had typed it, so no conflict is ever recorded. Refused, whichever entries collide:
- two canonical fields (``fields:``) on one system field when either is written
  (direction write or both);
- an engine output (``outputs:``) on a field a canonical field or another output uses;
- two task attributes on one task field, or one on the task key or deal link field.

Two canonical fields that only read one system field are allowed: reading copies the
value and writes nothing, and it has uses (the record id kept as ``prm_id`` and as a
custom field for reports). API names are compared ignoring case: Salesforce treats them so,
and HubSpot property names are lower-case.
"""

from __future__ import annotations

from dataclasses import dataclass

from handoff_sync.mapping.system.file_model import SystemFile
from handoff_sync.problems.report import KeyPath, Problem
from handoff_sync.problems.yaml_source import YamlDocument


@dataclass(frozen=True, slots=True)
class _Use:
    what: str  # how the message names the entry: "canonical field 'need'", "output ..."
    path: KeyPath  # the entry's key path in the file
    writes: bool


def check_field_use(document: YamlDocument, model: SystemFile) -> list[Problem]:
    """A problem for each entry that shares a system field it must not share."""
    deal: list[tuple[str, _Use]] = []
    for name, entry in model.fields.items():
        if entry.field is not None:
            deal.append((entry.field, _Use(f"canonical field '{name}'", ("fields", name),
                                           entry.direction != "read")))
    for output, out in model.outputs.items():
        deal.append((out.field, _Use(f"output '{output}'", ("outputs", output), True)))
    problems = _collisions(document, model.object, deal)
    if model.tasks is not None:
        tasks = model.tasks
        used: list[tuple[str, _Use]] = [
            (tasks.key_field, _Use("the task key field", ("tasks", "key_field"), True))]
        if tasks.deal_link.field is not None:
            used.append((tasks.deal_link.field, _Use("the deal link field",
                                                     ("tasks", "deal_link", "field"), True)))
        for attribute, task_entry in tasks.fields.items():
            used.append((task_entry.field, _Use(f"task attribute '{attribute}'",
                                                ("tasks", "fields", attribute), True)))
        problems.extend(_collisions(document, tasks.object, used))
    return problems


def _collisions(document: YamlDocument, object_name: str,
                uses: list[tuple[str, _Use]]) -> list[Problem]:
    by_field: dict[str, list[tuple[str, _Use]]] = {}
    for field, use in uses:
        by_field.setdefault(field.lower(), []).append((field, use))
    problems: list[Problem] = []
    for group in by_field.values():
        for index, (field, use) in enumerate(group[1:], start=1):
            earlier = [e for _, e in group[:index]]
            writers = [e for e in earlier if e.writes]
            if not (use.writes or writers):
                continue  # only read so far: harmless
            first = earlier[0] if use.writes else writers[0]
            line = document.source.position(first.path, at_key=True)[0]
            both_fields = first.path[0] == use.path[0] == "fields"
            problems.append(document.problem(
                (*use.path, "field"),
                f"{object_name + '.' if object_name else ''}{field} is already used by "
                f"{first.what} (line {line}); "
                + _consequence(first, use),
                "give each its own system field" + (
                    "; two canonical fields may share one only when both are direction: "
                    "read" if both_fields else "")))
    return problems


def _consequence(first: _Use, use: _Use) -> str:
    if first.writes and use.writes:
        return "handoff-sync would write two values into one field, each sync overwriting " \
               "the other"
    writer, reader = (first, use) if first.writes else (use, first)
    return f"{writer.what} writes it, so {reader.what} would read that value back as its own"
