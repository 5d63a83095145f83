"""Check handoff.yaml's ``measures.readiness`` against itself and the PRM's partners section.

Part of every `mappings validate` (through ``check_policy``): dimension ids unique, weights
summing to 100, each source a field the PRM file's ``partners:`` section maps (scored in
a way that suits its type: a scale covering a picklist's values, full_at for a number,
nothing for a yes/no) or one of the history figures, and a training task whose
placeholders, calendar and due date make sense. Thresholds and scores out of 0-100 are
the structure check's (measures.py bounds them).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from connectors.reading import did_you_mean
from handoff_sync.mapping.policy.defined import Defined
from handoff_sync.mapping.policy.duration import Duration
from handoff_sync.mapping.policy.measures import (
    HISTORY_MEASURES,
    HISTORY_SOURCE,
    PARTNER_SOURCE,
    TRAINING_PLACEHOLDERS,
    Readiness,
    ReadinessDimension,
)
from handoff_sync.mapping.policy.templates import placeholders
from handoff_sync.model import FieldType
from handoff_sync.problems.partial import Gaps
from handoff_sync.problems.report import KeyPath, one_of
from handoff_sync.problems.yaml_source import YamlDocument

_ID = re.compile(r"[a-z][a-z0-9_]{0,62}")
_PATH: KeyPath = ("measures", "readiness")
_NUMBERS = (FieldType.NUMBER, FieldType.INTEGER)
_TEXTS = (FieldType.TEXT, FieldType.EMAIL, FieldType.DOMAIN)


@dataclass(frozen=True)
class PartnerField:
    """A partner.* field as the PRM file's partners: section maps it."""

    type: FieldType
    values: tuple[str, ...] | None = None  # a picklist's canonical values (its value map)


@dataclass(frozen=True)
class PartnerFields:
    """What the PRM file's partners: section provides, as far as it is known.

    ``fields`` None: the PRM file has no partners: section. ``unknown``: the PRM file, or
    its partners: section, did not load (its problems are reported there): checks that
    need it say nothing."""

    file: str  # the PRM mapping file's name, for messages
    fields: Mapping[str, PartnerField] | None = None
    unknown: bool = False
    attaches_tasks: bool = True  # the section says where training tasks go (task_link)
    unsure: frozenset[str] = field(default_factory=frozenset)  # entries that did not load


UNKNOWN_PARTNERS = PartnerFields("the PRM file", unknown=True)


class Checker(Protocol):
    """What policy/checks.py's checker offers."""

    document: YamlDocument
    gaps: Gaps

    def add(self, path: KeyPath, message: str, hint: str = "", *,
            at_key: bool = False) -> None: ...

    def known(self, path: KeyPath) -> bool: ...

    def duration(self, path: KeyPath, duration: Duration, calendar: str | None, *,
                 calendar_lost: bool = False) -> None: ...


def check_readiness(check: Checker, readiness: Readiness, partners: PartnerFields,
                    calendars: Defined) -> None:
    """Every problem with ``measures.readiness`` the files show; ``calendars``: the
    calendars handoff.yaml defines."""
    dimensions_path: KeyPath = (*_PATH, "dimensions")
    seen: set[str] = set()
    for index, dimension in enumerate(readiness.dimensions):
        path: KeyPath = (*dimensions_path, index)
        if not _ID.fullmatch(dimension.id):
            check.add((*path, "id"), f"dimension id '{dimension.id}' must be lower-case "
                      "letters, digits and underscores, starting with a letter")
        if dimension.id in seen:
            check.add((*path, "id"), f"duplicate dimension id '{dimension.id}'",
                      "ids must be unique among the readiness dimensions")
        seen.add(dimension.id)
        _check_source(check, path, dimension, partners)
    if check.known(dimensions_path):
        total = sum(d.weight for d in readiness.dimensions)
        if abs(total - 100) > 0.01:
            shown = ", ".join(f"{d.id} {d.weight:g}" for d in readiness.dimensions)
            check.add(dimensions_path, f"the readiness dimensions' weights sum to "
                      f"{total:g}, not 100 ({shown})",
                      "give each dimension its share of 100, e.g. 25 each for four",
                      at_key=True)
    if readiness.training_task is not None:
        _check_training(check, readiness, partners, calendars)


def _check_source(check: Checker, path: KeyPath, dimension: ReadinessDimension,
                  partners: PartnerFields) -> None:
    source = dimension.source
    if source.startswith(HISTORY_SOURCE):
        measure = source.removeprefix(HISTORY_SOURCE)
        if measure not in HISTORY_MEASURES:
            check.add((*path, "source"), f"unknown history figure '{source}'",
                      did_you_mean(source, [HISTORY_SOURCE + m for m in HISTORY_MEASURES])
                      or f"one of {one_of(HISTORY_SOURCE + m for m in HISTORY_MEASURES)}")
        for key in ("scale", "full_at"):
            if getattr(dimension, key) is not None:
                check.add((*path, key), f"'{key}' scores a partner field; {source} is "
                          "already a percentage", f"remove '{key}'")
        return
    if not source.startswith(PARTNER_SOURCE):
        check.add((*path, "source"), f"source '{source}' is neither a partner field nor a "
                  "history figure", f"write partner.<field> (a field of the "
                  f"{partners.file} partners: section) or one of "
                  f"{one_of(HISTORY_SOURCE + m for m in HISTORY_MEASURES)}")
        return
    if dimension.min_sample is not None:
        check.add((*path, "min_sample"), "'min_sample' counts handoffs: it applies to "
                  "history.* sources only", "remove it")
    if partners.unknown or source in partners.unsure:
        return
    if partners.fields is None:
        check.add((*path, "source"), f"'{source}' is a partner account field, but "
                  f"{partners.file} has no partners: section",
                  f"add one mapping {source} (see docs/admin-guide.md, 'Measuring "
                  "handoffs'), or score this dimension from history.*")
        return
    found = partners.fields.get(source)
    if found is None:
        check.add((*path, "source"), f"'{source}' is not mapped in the partners: section "
                  f"of {partners.file}", did_you_mean(source, partners.fields) or
                  (f"mapped there: {one_of(partners.fields)}" if partners.fields
                   else f"map it under partners: fields: in {partners.file}"))
        return
    _check_scoring(check, path, dimension, found)


def _check_scoring(check: Checker, path: KeyPath, dimension: ReadinessDimension,
                   found: PartnerField) -> None:
    """The dimension scores its field the way the field's type allows."""
    source, kind = dimension.source, found.type
    if kind in _NUMBERS:
        if dimension.scale is not None:
            check.add((*path, "scale"), f"{source} is a number: score it with 'full_at' "
                      "(the value that scores 100), not a scale", "replace scale with "
                      "full_at: <number>")
        elif dimension.full_at is None:
            check.add(path, f"{source} is a number: say which value scores 100",
                      "add full_at: <number> (e.g. full_at: 3 for three certified "
                      "engineers)")
    elif kind is FieldType.BOOL:
        for key in ("scale", "full_at"):
            if getattr(dimension, key) is not None:
                check.add((*path, key), f"{source} is yes/no: yes scores 100 and no 0",
                          f"remove '{key}'")
    elif kind in _TEXTS:
        if dimension.full_at is not None:
            check.add((*path, "full_at"), f"{source} is text: score it with a scale "
                      "(value: score), not full_at", "replace full_at with scale: {...}")
        elif dimension.scale is None:
            check.add(path, f"{source} is text: give each of its values a score",
                      "add scale: {<value>: <0-100>, ...}" + (
                          f" for {one_of(found.values)}" if found.values else ""))
        elif found.values is not None and check.known((*path, "scale")):
            _check_scale(check, path, dimension, found.values)
    else:
        check.add((*path, "source"), f"{source} is {kind.value}, which cannot be scored",
                  "score a picklist or text (scale), a number (full_at) or a yes/no field")


def _check_scale(check: Checker, path: KeyPath, dimension: ReadinessDimension,
                 values: tuple[str, ...]) -> None:
    """A picklist's scale names each of its values once, and nothing else."""
    scale = dimension.scale or {}
    meant: set[str] = set()  # values a misspelt key stands for: said once, at the key
    for key in scale:
        if key not in values:
            meant.update(difflib.get_close_matches(key, values, n=1, cutoff=0.6))
            check.add((*path, "scale", key), f"'{key}' is not a value of "
                      f"{dimension.source}", did_you_mean(key, values) or
                      f"its values: {one_of(values)}")
    missing = [value for value in values if value not in scale and value not in meant]
    if missing:
        check.add((*path, "scale"), f"the scale gives no score for {one_of(missing)} "
                  f"({dimension.source} takes that value)", "add a score for each value, "
                  "or a partner holding it is not scored on this dimension")


def _check_training(check: Checker, readiness: Readiness, partners: PartnerFields,
                    calendars: Defined) -> None:
    task = readiness.training_task
    assert task is not None
    path: KeyPath = (*_PATH, "training_task")
    if not partners.unknown:
        # A task_link without a tasks: section is reported in the PRM file, at task_link.
        lacks = ("has no partners: section" if partners.fields is None
                 else "has no task_link in its partners: section"
                 if not partners.attaches_tasks else None)
        if lacks is not None:
            check.add(path, f"training tasks go on the partner accounts, but "
                      f"{partners.file} {lacks}", f"add it to {partners.file} (see "
                      "docs/admin-guide.md, 'Measuring handoffs'), or remove training_task "
                      "to score only", at_key=True)
    fields = partners.fields or {}
    for key in ("subject", "body"):
        names, errors = placeholders(getattr(task, key))
        for error in errors:
            check.add((*path, key), f"template: {error}")
        for name in names:
            if name in TRAINING_PLACEHOLDERS or name in fields or name in partners.unsure \
                    or (partners.unknown and name.startswith(PARTNER_SOURCE)):
                continue
            choices = [*TRAINING_PLACEHOLDERS, *fields]
            check.add((*path, key), f"unknown placeholder {{{name}}} in the training task",
                      did_you_mean(name, choices) or f"one of {one_of(choices)}")
    if task.calendar is not None and calendars.lacks(task.calendar):
        check.add((*path, "calendar"), f"no calendar named '{task.calendar}'",
                  did_you_mean(task.calendar, calendars.ids) or "define it under 'calendars:'")
    elif task.due.uses_calendar and task.calendar is None:
        check.add((*path, "due", task.due.unit), f"'{task.due.unit}' needs a business "
                  "calendar, but the training task names none",
                  "add 'calendar: <name>' to training_task, or use hours/days")
    else:
        check.duration((*path, "due"), task.due, task.calendar)
