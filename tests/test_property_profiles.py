"""The default test run is deterministic: its property tests try the same examples on every
run and every machine, so a rare random seed cannot block a landing; `-m slow` is the
deep random run (tests/property_support.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.property_support import DEEP, FIXED, SEEDED, examples, profile_for


def test_the_default_run_tries_the_same_examples_every_time(
        pytestconfig: pytest.Config) -> None:
    chosen = pytestconfig.getoption("--hypothesis-profile")
    if chosen or profile_for(pytestconfig.option.markexpr or "",
                             pytestconfig.getoption("--hypothesis-seed")) != FIXED:
        pytest.skip("this run asked for another Hypothesis profile")
    runs: list[list[list[int]]] = []

    @settings(max_examples=examples(20))  # as the suite's tests declare theirs
    @given(st.lists(st.integers()))
    def draw(values: list[int]) -> None:
        runs[-1].append(values)

    for _ in range(2):
        runs.append([])
        draw()
    assert runs[0] == runs[1]
    assert len(runs[0]) > 1
    # Nor does a machine replay failures it saved earlier: no example database at all.
    assert settings.default.database is None


@pytest.mark.parametrize(("markexpr", "seed", "profile"), [
    ("", None, FIXED),
    ("heavy", None, FIXED),
    ("not slow", None, FIXED),
    ("slow or not heavy", None, FIXED),  # still runs the unmarked tests
    ("slowish", None, FIXED),
    ("", "7", SEEDED),
    ("slow", None, DEEP),
    ("slow", "7", DEEP),
    ("slow and not heavy", None, DEEP),
    ("(slow or heavy) and not e2e", None, DEEP),
])
def test_the_profile_follows_the_command_line(markexpr: str, seed: str | None,
                                              profile: str) -> None:
    assert profile_for(markexpr, seed) == profile
