"""Check handoff.yaml's ``measures.improvement_owners``: who owns improving each figure.

Part of every `mappings validate` (through ``check_policy``): a key that names no figure
the report measures (a typo would otherwise leave the figure without an owner while the
file looks complete), an owner that is not an email address, and one person listed for a
figure under two spellings of its id cannot happen (keys are unique in YAML).
"""

from __future__ import annotations

from connectors.reading import did_you_mean
from handoff_sync.mapping.policy.measures import IMPROVABLE_FIGURES, Measures
from handoff_sync.mapping.policy.routing_checks import Checker
from handoff_sync.mapping.system.transforms import ValueProblem, read_email
from handoff_sync.problems.report import KeyPath, one_of

_PATH: KeyPath = ("measures", "improvement_owners")


def check_improvement_owners(check: Checker, measures: Measures) -> None:
    """Every problem with ``measures.improvement_owners`` that the file alone shows."""
    for figure, owner in measures.improvement_owners.items():
        path: KeyPath = (*_PATH, figure)
        if figure not in IMPROVABLE_FIGURES:
            check.add(path, f"no figure '{figure}' to own the improvement of",
                      did_you_mean(figure, IMPROVABLE_FIGURES) or
                      f"figures: {one_of(IMPROVABLE_FIGURES, limit=20)}", at_key=True)
        try:
            read_email(owner)
        except ValueProblem as exc:
            check.add(path, f"the owner of '{figure}': {exc}",
                      "name the person by email, e.g. completeness: revops@example.com")
