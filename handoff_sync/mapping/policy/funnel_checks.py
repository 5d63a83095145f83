"""Check handoff.yaml's ``measures.funnels``: ids, the chain, and the fields steps name.

Part of every `mappings validate` (through ``check_policy``): a funnel with no steps (or
one: there is nothing to convert to), a step or funnel id given twice or not an id, a
condition naming a field that does not exist (or with an operator or value that does not
suit it), an ``at`` that is not a date or datetime field. Each problem names the file and
line.

One handoff.yaml serves every PRM, so a real field that the system files do not map
(``approved_at`` beside a PRM file drop) is only blank, as it is for a stage's
``entered_at``: its step is not timed, or an ``any:`` reaches it another way. A condition
that only such fields decide can never hold, and that is a problem: a step nobody can
reach, a funnel nobody enters.
"""

from __future__ import annotations

import re
from typing import Protocol

from handoff_sync.mapping.policy.condition import Condition
from handoff_sync.mapping.policy.conditions import evaluate
from handoff_sync.mapping.policy.funnels import Funnel
from handoff_sync.mapping.policy.routing_checks import Checker
from handoff_sync.model import CANONICAL_FIELDS, FieldType, is_custom_field
from handoff_sync.problems.report import KeyPath

_ID = re.compile(r"[a-z][a-z0-9_]{0,62}")
_PATH: KeyPath = ("measures", "funnels")
_TIMES = (FieldType.DATE, FieldType.DATETIME)
EXAMPLE_CHAIN = "registered, approved, opportunity_created, ..."


class _Catalog(Protocol):
    @property
    def files(self) -> tuple[str, ...]: ...

    def provided(self, name: str) -> bool: ...

    def maybe_provided(self, name: str) -> bool: ...


class FunnelChecker(Checker, Protocol):
    """policy/checks.py's checker, with the catalog of what the system files map."""

    @property
    def catalog(self) -> _Catalog: ...


def check_funnels(check: FunnelChecker, funnels: list[Funnel]) -> None:
    """Every problem with ``measures.funnels`` that the files show."""
    _ids(check, _PATH, [funnel.id for funnel in funnels], "funnel", "among the funnels")
    for index, funnel in enumerate(funnels):
        path: KeyPath = (*_PATH, index)
        for key, what in (("applies_when", f"no deal can enter funnel '{funnel.id}'"),
                          ("lost_when", f"no deal can be lost in funnel '{funnel.id}'")):
            condition = getattr(funnel, key)
            if condition is not None:
                _decides(check, (*path, key), condition, what)
        _chain(check, path, funnel)


def _chain(check: FunnelChecker, path: KeyPath, funnel: Funnel) -> None:
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
        _decides(check, (*step_path, "reached_when"), step.reached_when,
                 f"step '{step.id}' can never be reached")
        if step.at is None or _only_blank(check, step.at):
            continue  # unmapped here: the step is not timed
        at_type = check.field((*step_path, "at"), step.at)
        if at_type is not None and at_type not in _TIMES:
            check.add((*step_path, "at"), f"'{step.at}' is {at_type.value}; 'at' names a "
                      "date or datetime field (when the deal reached the step)",
                      "e.g. approved_at, intro_call_at, won_at, or a custom field mapped "
                      "with transform: datetime")


def _decides(check: FunnelChecker, path: KeyPath, condition: Condition, what: str) -> None:
    """Check the condition's tests of fields the files map (or may map); when the fields
    no file maps, always blank, decide that it is false, it never holds: say so."""
    unmapped: list[str] = []
    if _holds(check, path, condition, unmapped) is False:
        check.add(path, f"{what}: no mapping provides {', '.join(map(repr, unmapped))}, "
                  "so this never holds", f"map it in {' or '.join(check.catalog.files)}, "
                  "or test another field", at_key=True)


def _holds(check: FunnelChecker, path: KeyPath, condition: Condition,
           unmapped: list[str]) -> bool | None:
    """The condition's value when it does not depend on the mapped fields (None: it
    does), checking the tests of mapped fields; real fields no file maps are blank, and
    are added to ``unmapped``."""
    if condition.all is not None or condition.any is not None:
        key = "all" if condition.all is not None else "any"
        values = [_holds(check, (*path, key, i), child, unmapped)
                  for i, child in enumerate(condition.all or condition.any or [])]
        decisive = key == "any"  # any: one true decides; all: one false does
        if decisive in values:
            return decisive
        return None if None in values else not decisive
    if condition.not_ is not None:
        inner = _holds(check, (*path, "not"), condition.not_, unmapped)
        return None if inner is None else not inner
    assert condition.field is not None
    if _only_blank(check, condition.field):
        unmapped.append(condition.field)
        return evaluate(condition, lambda name: None)
    check.condition(path, condition)
    return None


def _only_blank(check: FunnelChecker, name: str) -> bool:
    """A real field (canonical, or custom.<name>) that no system file maps, nor may."""
    spec = CANONICAL_FIELDS.get(name)
    real = spec.mappable if spec is not None else is_custom_field(name)
    return real and not check.catalog.provided(name) and not check.catalog.maybe_provided(name)


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
