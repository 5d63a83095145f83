"""``limit_problem``: the size limits of a YAML text, checked in linear time before any
other YAML library builds it (an alias bomb must not reach ruamel)."""

from __future__ import annotations

import time
from pathlib import Path

from handoff_sync.problems.yaml_source import MAX_DEPTH, MAX_VALUES, limit_problem

FILE = Path("posted.yaml")
BOMB = 'a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]\n' + "".join(
    f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 10)}]\n" for level in range(1, 9))


def test_an_alias_bomb_is_refused_at_once_at_its_line() -> None:
    began = time.monotonic()
    problem = limit_problem(BOMB, FILE)
    assert time.monotonic() - began < 2
    assert problem is not None and problem.file == FILE
    assert problem.message == f"more than {MAX_VALUES} values after expanding aliases"
    assert problem.line == 5  # a4: 10**5 values, past the limit with those above it


def test_deep_nesting_and_size_are_limits() -> None:
    deep = limit_problem("a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n", FILE)
    assert deep is not None and deep.message.startswith("nesting deeper than")
    big = limit_problem("a: b\n# " + "x" * 1_000_000, FILE)
    assert big is not None and "larger than 1000 KB" in big.message
    wide = limit_problem("a: é\n# " + "é" * 600_000, FILE)  # 1.2 MB as UTF-8
    assert wide is not None and "larger than" in wide.message


def test_other_problems_are_not_limits_the_loader_reports_them() -> None:
    assert limit_problem("version: 1\nfields: {a: 1}\n", FILE) is None
    assert limit_problem("a: 1\na: 2\n", FILE) is None  # a duplicate key
    assert limit_problem("a: [1, 2\n", FILE) is None  # a syntax error
    assert limit_problem("a: *nowhere\n", FILE) is None  # an undefined alias
    small = 'a: &a [1, 2]\nb: [*a, *a, *a]\n'
    assert limit_problem(small, FILE) is None
