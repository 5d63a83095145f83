"""Pieces every terminal report section is built from: rich tables of figures and
counts. Cells from the systems pass ``for_rich``: text, never markup or escapes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.table import Table

from handoff_sync.report.figures import Count
from handoff_sync.safety.sanitise import for_rich


def table(title: str | None, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for index, header in enumerate(headers):
        table.add_column(header, justify="left" if index == 0 else "right")
    for row in rows:
        # Partner names and labels come from the systems: text, never markup or escapes.
        table.add_row(*(for_rich(cell) for cell in row))
    return table


def figures(rows: Iterable[tuple[str, str, str]]) -> Table:
    return table(None, ("figure", "value", "target"), rows)


def counts(title: str, header: str, counts: Sequence[Count]) -> Table:
    return table(title, (header, "count"), ((c.label, c.count) for c in counts)
                  if counts else [("(none)", 0)])


def text_table(title: str | None, headers: Sequence[str],
               rows: Iterable[Sequence[Any]]) -> Table:
    """A table of sentences: every column left-aligned and wrapped to the terminal."""
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False,
                  show_lines=True)
    for header in headers:
        table.add_column(header, justify="left", overflow="fold")
    for row in rows:
        # Line breaks are kept (a list of steps in one cell); markup and escapes are not.
        table.add_row(*(for_rich(cell, layout=True) for cell in row))
    return table
