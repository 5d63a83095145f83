"""Check handoff.yaml's ``measures.funnels``: ids, the chain, and the fields steps name.

Part of every `mappings validate` (through ``check_policy``): a funnel with no steps (or
one: there is nothing to convert to), a step or funnel id given twice or not an id, a
condition naming a field no mapping provides (or one that does not exist), an ``at``
that is not a date or datetime field. Each problem names the file and line.
"""

from __future__ import annotations

import re

from handoff_sync.mapping.policy.funnels import Funnel
from handoff_sync.mapping.policy.routing_checks import Checker
from handoff_sync.model import FieldType
from handoff_sync.problems.report import KeyPath

_ID = re.compile(r"[a-z][a-z0-9_]{0,62}")
_PATH: KeyPath = ("measures", "funnels")
_TIMES = (FieldType.DATE, FieldType.DATETIME)
EXAMPLE_CHAIN = "registered, approved, opportunity_created, ..."


def check_funnels(check: Checker, funnels: list[Funnel]) -> None:
    """Every problem with ``measures.funnels`` that the files show."""
    _ids(check, _PATH, [funnel.id for funnel in funnels], "funnel", "among the funnels")
    for index, funnel in enumerate(funnels):
        path: KeyPath = (*_PATH, index)
        for key in ("applies_when", "lost_when"):
            condition = getattr(funnel, key)
            if condition is not None:
                check.condition((*path, key), condition)
        _chain(check, path, funnel)


def _chain(check: Checker, path: KeyPath, funnel: Funnel) -> None:
    steps = funnel.steps
    # Steps that did not load are reported on their own; their absence is no empty chain.
    if len(steps) < 2 and check.gaps.whole(check.gaps.in_file((*path, "steps"))):
        said = "has no steps" if not steps else "has one step"
        check.add((*path, "steps"),
                  f"funnel '{funnel.id}' {said}: a funnel needs at least two to measure "
                  "conversion", f"list the chain's steps in order, e.g. {EXAMPLE_CHAIN}",
                  at_key=True)
    _ids(check, (*path, "steps"), [step.id for step in steps], "step",
         f"within funnel '{funnel.id}'")
    for number, step in enumerate(steps):
        step_path: KeyPath = (*path, "steps", number)
        check.condition((*step_path, "reached_when"), step.reached_when)
        if step.at is None:
            continue
        at_type = check.field((*step_path, "at"), step.at)
        if at_type is not None and at_type not in _TIMES:
            check.add((*step_path, "at"), f"'{step.at}' is {at_type.value}; 'at' names a "
                      "date or datetime field (when the deal reached the step)",
                      "e.g. approved_at, intro_call_at, won_at, or a custom field mapped "
                      "with transform: datetime")


def _ids(check: Checker, path: KeyPath, ids: list[str], what: str, scope: str) -> None:
    seen: set[str] = set()
    for index, value in enumerate(ids):
        where: KeyPath = (*path, index, "id")
        if not _ID.fullmatch(value):
            check.add(where, f"{what} id '{value}' must be lower-case letters, digits and "
                      "underscores, starting with a letter")
        if value in seen:
            check.add(where, f"duplicate {what} id '{value}'",
                      f"rename one: ids are unique {scope}")
        seen.add(value)

