"""A Report as plain JSON data, and as long-format CSV rows (same figures, same names)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from handoff_sync.engine.serialise import to_jsonable
from handoff_sync.report.figures import SECTION_TITLES, SECTIONS, Report

CSV_HEADER = ("section", "group", "metric", "value")


def report_data(report: Report) -> dict[str, Any]:
    """The JSON document: header fields, then one object per section, in SECTIONS order.
    Instants keep the offset they carry (2026-11-18T15:30:00+00:00), as the report has
    always written them."""
    data: dict[str, Any] = to_jsonable(report, instant=datetime.isoformat)
    header = {k: v for k, v in data.items() if k not in SECTIONS}
    header["sections"] = [{"id": s, "title": SECTION_TITLES[s]} for s in SECTIONS]
    return {**header, **{s: data[s] for s in SECTIONS}}


def csv_rows(report: Report) -> Iterator[tuple[str, str, str, Any]]:
    """(section, group, metric, value): scalars with an empty group; list items grouped
    by their first field (a label, a partner, an instant), metric "<list>.<field>"; a list
    of items inside an item nests its group ("partner_chain/approved", metric
    "<list>.<list>.<field>"); a list of plain values is one cell joined by ';'."""
    data = report_data(report)
    for key in ("pipeline", "generated_at", "since", "by", "runs"):
        yield "report", "", key, data[key]
    for note in data["notes"]:
        yield "report", "", "note", note
    for section in SECTIONS:
        for name, value in data[section].items():
            if isinstance(value, dict):
                for sub, item in value.items():
                    yield section, "", f"{name}.{sub}", item
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                yield from _items(section, "", name, value)
            elif isinstance(value, list):
                yield section, "", name, ";".join(str(v) for v in value)
            else:
                yield section, "", name, value


def _items(section: str, prefix: str, name: str,
           items: list[dict[str, Any]]) -> Iterator[tuple[str, str, str, Any]]:
    for item in items:
        fields = list(item.items())
        group = f"{prefix}{fields[0][1]}"
        for sub, cell in fields[1:]:
            metric = f"{name}.{sub}"
            if isinstance(cell, list) and cell and isinstance(cell[0], dict):
                yield from _items(section, f"{group}/", metric, cell)
            elif isinstance(cell, list):
                yield section, group, metric, ";".join(str(v) for v in cell)
            elif isinstance(cell, dict):
                for key, inner in cell.items():
                    yield section, group, f"{metric}.{key}", inner
            else:
                yield section, group, metric, cell
