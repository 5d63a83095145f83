"""The "key figures by group" section as HTML: one row per group, every rate with its n
and Wilson interval, coloured only where the sample is large enough to judge."""

from __future__ import annotations

from html import escape

from handoff_sync.report import html_kit as kit
from handoff_sync.report.figure import Cell
from handoff_sync.report.figures import Report
from handoff_sync.report.text import cell_with_mark


def breakdown_html(report: Report) -> str:
    b, least = report.breakdown, report.min_sample

    def cell(value: Cell) -> str:
        cls = kit.STATUS_CLASS.get(value.status, "")
        attr = f' class="{cls}"' if cls else ""
        return f"<td{attr}>{escape(cell_with_mark(value, least))}</td>"

    head = "".join(f"<th>{escape(c.label)}</th>" for c in b.columns)
    rows = "".join(
        f"<tr><td>{escape(r.group)}</td><td>{r.deals}</td><td>{r.handoffs}</td>"
        f"{cell(r.completeness)}{cell(r.within_sla)}{cell(r.preservation)}"
        f"{cell(r.rejection)}</tr>" for r in b.rows)
    return (f"<h3>By {escape(b.by_label)}: {len(b.rows)} groups, in volume order "
            "(not a ranking)</h3>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
            f"{kit.definitions(b.columns)}")
