"""A Report as plain JSON data, and as long-format CSV rows (same figures, same names).

Each figure is an object with its value, n, target, status and definition, so both
formats carry the definition next to the number: in CSV the rows ``<figure>.value`` and
``<figure>.definition`` sit side by side, group tables come with their ``columns``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from handoff_sync.engine.serialise import to_jsonable
from handoff_sync.report.figures import SECTION_TITLES, SECTIONS, Report

CSV_HEADER = ("section", "group", "metric", "value")
HEADER_KEYS = ("pipeline", "generated_at", "since", "until", "by", "runs", "min_sample")


def report_data(report: Report) -> dict[str, Any]:
    """The JSON document: header fields, then one object per section, in SECTIONS order.
    Instants keep the offset they carry (2026-11-18T15:30:00+00:00), as the report has
    always written them."""
    data: dict[str, Any] = to_jsonable(report, instant=datetime.isoformat)
    header = {k: v for k, v in data.items() if k not in SECTIONS}
    header["sections"] = [{"id": s, "title": SECTION_TITLES[s]} for s in SECTIONS]
    return {**header, **{s: data[s] for s in SECTIONS}}


def csv_rows(report: Report) -> Iterator[tuple[str, str, str, Any]]:
    """(section, group, metric, value): scalars and figures with an empty group (a figure
    gives ``<name>.value``, ``<name>.n``, ``<name>.definition``...); list items grouped by
    their first field (a label, a partner, an instant), metric "<list>.<field>[.<sub>]"; a list
    of items inside an item nests its group ("partner_chain/approved", metric
    "<list>.<list>.<field>")."""
    data = report_data(report)
    for key in HEADER_KEYS:
        yield "report", "", key, data.get(key)
    for name, values in data["filters"].items():  # a narrowed report says so
        yield "report", "", f"filter.{name}", ";".join(values)
    for note in data["notes"]:
        yield "report", "", "note", note
    for section in SECTIONS:
        for name, value in data[section].items():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                yield from _items(section, "", name, value)
            else:
                for metric, flat in _flat(name, value):
                    yield section, "", metric, flat


def _items(section: str, prefix: str, name: str,
           items: list[dict[str, Any]]) -> Iterator[tuple[str, str, str, Any]]:
    """List items grouped by their first field; items nested in an item nest the group."""
    for item in items:
        fields = list(item.items())
        group = f"{prefix}{fields[0][1]}"
        for sub, cell in fields[1:]:
            metric = f"{name}.{sub}"
            if isinstance(cell, list) and cell and isinstance(cell[0], dict):
                yield from _items(section, f"{group}/", metric, cell)
            else:
                for flat_metric, flat in _flat(metric, cell):
                    yield section, group, flat_metric, flat


def _flat(name: str, value: Any) -> Iterator[tuple[str, Any]]:
    """Nested objects as dotted metrics; lists of plain values joined with ';'."""
    if isinstance(value, dict):
        for key, item in value.items():
            # A figure's blanks (no target, no interval, not signed) are noise in CSV.
            if key == "value" or not (item is None or item == "" or item is False):
                yield from _flat(f"{name}.{key}", item)
    elif isinstance(value, list):
        yield name, ";".join(str(v) for v in value)
    else:
        yield name, value
