"""The "key figures by group" section as HTML: one row per group, every rate with its n
and Wilson interval, coloured only where the sample is large enough to judge."""

from __future__ import annotations

from html import escape

from handoff_sync.report import html_kit as kit
from handoff_sync.report.figures import Report


def breakdown_html(report: Report) -> str:
    b, least = report.breakdown, report.min_sample
    table = kit.table([c.label for c in b.columns], [
        (r.group, r.deals, r.handoffs, kit.cell(r.completeness, least),
         kit.cell(r.within_sla, least), kit.cell(r.preservation, least),
         kit.cell(r.rejection, least)) for r in b.rows])
    return (f"<h3>By {escape(b.by_label)}: {len(b.rows)} groups, in volume order "
            f"(not a ranking)</h3>{table}{kit.definitions(b.columns)}")
