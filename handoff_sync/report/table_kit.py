"""Pieces every terminal report section is built from: rich tables of figures (each with
its n, target and definition), group tables with their column definitions, and counts.
Cells from the systems pass ``for_rich``: text, never markup or escapes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.table import Table

from handoff_sync.report.basis import Count
from handoff_sync.report.figure import Column, Figure
from handoff_sync.report.text import n_text, target_text, value_text
from handoff_sync.safety.sanitise import for_rich


def table(title: str | None, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for index, header in enumerate(headers):
        # A group name (an AE's email) folds onto a second line rather than losing its end.
        table.add_column(header, justify="left" if index == 0 else "right",
                         overflow="fold" if index == 0 else "ellipsis")
    for row in rows:
        # Partner names and labels come from the systems: text, never markup or escapes.
        table.add_row(*(for_rich(cell) for cell in row))
    return table


def figures(items: Iterable[Figure], min_sample: int, title: str | None = None) -> Table:
    """figure | value | n | target | definition: one row per figure."""
    result = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    result.add_column("figure", justify="left", max_width=40)
    result.add_column("value", justify="right", max_width=28)
    result.add_column("n", justify="right", no_wrap=True)
    result.add_column("target", justify="left", max_width=44)
    result.add_column("definition", justify="left", style="dim", ratio=1)
    for item in items:
        result.add_row(*(for_rich(cell) for cell in (
            item.label, value_text(item, why=False), n_text(item),
            target_text(item, min_sample),
            item.definition)))
    return result


def definitions(columns: Sequence[Column], title: str | None = None) -> Table:
    """What each column of the group table above means, one line each."""
    grid = Table(title=title, title_justify="left", show_header=False, show_edge=False,
                 box=None, pad_edge=False)
    grid.add_column(justify="left", style="dim", no_wrap=True)
    grid.add_column(justify="left", style="dim", ratio=1)
    for column in columns:
        if column.label:
            grid.add_row(for_rich(f"  {column.label}:"), for_rich(column.definition))
    return grid


def note(text: str) -> Table:
    """One line of definition under a chart-like table."""
    grid = Table(show_header=False, show_edge=False, box=None, pad_edge=False)
    grid.add_column(justify="left", style="dim", ratio=1)
    grid.add_row(for_rich(text))
    return grid


def counts(title: str, header: str, counts: Sequence[Count]) -> Table:
    return table(title, (header, "count"), ((c.label, c.count) for c in counts)
                  if counts else [("(none)", 0)])
