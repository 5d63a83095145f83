"""Config problems as an operator reads them: ``file:line: key.path: what is wrong``.

The words come from the one pydantic-error translator (``problems.pydantic_errors``), as
for the mappings files; this module puts each at the line of its key in the YAML and
keeps the config's own shape (no column, the hint in parentheses after the message).
``ConfigError`` is the config branch of the error tree (``handoff_sync.errors``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError

from handoff_sync.errors import ConfigError
from handoff_sync.problems.pydantic_errors import KeyProblems, Wording, explain_errors
from handoff_sync.problems.report import KeyPath, format_path
from handoff_sync.problems.yaml_source import SourceMap, YamlDocument

__all__ = ["ConfigError", "ConfigProblem", "KeyProblems", "line_of", "validation_problems"]


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong with the config file."""

    file: Path
    line: int  # 1-based
    path: KeyPath
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {format_path(self.path)}: {self.message}"

    @property
    def sort_key(self) -> tuple[int, str, str]:
        return (self.line, format_path(self.path), self.message)


def line_of(source: SourceMap, path: KeyPath) -> int:
    """The 1-based line of the key at ``path`` (or its value, for list items), else of the
    nearest ancestor that is written in the file."""
    probe = tuple(path)
    while True:
        for table in (source.keys, source.values):
            if probe in table:
                return table[probe][0] + 1
        if not probe:
            return 1
        probe = probe[:-1]


def validation_problems(model: type[BaseModel], error: ValidationError, document: YamlDocument,
                        patterns: Mapping[str, str]) -> list[ConfigProblem]:
    """Every pydantic error of ``error`` as a ConfigProblem at its key and line;
    ``patterns`` says in words what each ``pattern=`` of the models allows."""
    wording = Wording(guide=None, patterns=patterns)  # the admin guide covers the mappings
    return [ConfigProblem(document.file, line_of(document.source, e.path), e.path, e.text)
            for e in explain_errors(model, error, document.data, wording)]
