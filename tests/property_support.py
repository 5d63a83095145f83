"""Hypothesis profiles for the suite: fixed examples by default, many random ones at night.

A property test that draws new examples every run can fail on one machine and pass on the
next, so a rare seed would block a landing. The suite therefore runs two ways:

- ``python -m pytest`` (the README's command, CI): the ``fixed`` profile. Examples are
  derived from each test's own code (``derandomize``), no example database is read or
  written and no deadline is timed, so every run on every machine tries the same
  examples and gets the same result. A failure once found by a random run is kept as an
  explicit ``@example`` on its test.
- ``python -m pytest -m slow`` (the nightly run): only the property tests (conftest marks
  every Hypothesis test ``slow``), under the ``deep`` profile: random examples,
  ``DEEP_FACTOR`` times as many, and the failing example printed in full.

``--hypothesis-seed N`` without ``-m slow`` runs the ``seeded`` profile (the default
counts, drawn from that seed), and ``--hypothesis-profile NAME`` is left to Hypothesis.

A test that sets its own count writes ``@settings(max_examples=examples(400))``, so the
deep run multiplies it too (an explicit count would otherwise override the profile's).
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, settings

BASE_EXAMPLES = 100  # Hypothesis's own default count; examples(n) scales n against it
DEEP_FACTOR = 20

FIXED = "fixed"
SEEDED = "seeded"
DEEP = "deep"

# Nothing that depends on the clock or the machine: no deadline, no too_slow health check.
_STEADY = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}

settings.register_profile(FIXED, max_examples=BASE_EXAMPLES, derandomize=True,
                          database=None, print_blob=True, **_STEADY)
settings.register_profile(SEEDED, max_examples=BASE_EXAMPLES, derandomize=False,
                          database=None, print_blob=True, **_STEADY)
settings.register_profile(DEEP, max_examples=BASE_EXAMPLES * DEEP_FACTOR,
                          derandomize=False, print_blob=True, **_STEADY)


def examples(count: int) -> int:
    """``count`` examples in the default run; as many more as the loaded profile asks for
    over Hypothesis's default of 100 (the deep run: ``DEEP_FACTOR`` times ``count``).
    Read when the test module is imported, which is after conftest loaded the profile."""
    return max(1, count * settings.default.max_examples // BASE_EXAMPLES)


_WORDS = re.compile(r"[()]|[^\s()]+")
_OPERATORS = frozenset({"and", "or", "not", "(", ")"})


def _holds(markexpr: str, marks: frozenset[str]) -> bool:
    """Whether ``-m markexpr`` selects a test carrying exactly ``marks``."""
    words = [word if word in _OPERATORS else str(word in marks)
             for word in _WORDS.findall(markexpr)]
    try:  # only True, False, and, or, not and parentheses reach eval
        return bool(eval(" ".join(words), {"__builtins__": {}}))
    except SyntaxError:  # marker arguments, a typo: pytest itself reports the expression
        return False


def selects_slow(markexpr: str) -> bool:
    """Whether ``-m markexpr`` asks for the slow tests rather than everything: it selects a
    test marked ``slow`` and not an unmarked one (``slow``, ``slow and not heavy``; not
    ``not slow`` nor ``slow or not heavy``)."""
    return (bool(markexpr.strip()) and _holds(markexpr, frozenset({"slow"}))
            and not _holds(markexpr, frozenset()))


def profile_for(markexpr: str, seed: object | None) -> str:
    """The profile a run loads, from its ``-m`` expression and ``--hypothesis-seed``."""
    if selects_slow(markexpr):
        return DEEP
    return SEEDED if seed is not None else FIXED
