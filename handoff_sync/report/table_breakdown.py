"""The "key figures by group" section as a terminal table."""

from __future__ import annotations

from rich.table import Table

from handoff_sync.report import table_kit as kit
from handoff_sync.report.figures import Report
from handoff_sync.report.text import cell_with_mark


def breakdown_tables(report: Report) -> list[Table]:
    b, least = report.breakdown, report.min_sample
    return [kit.table(f"by {b.by_label} ({len(b.rows)} groups, in volume order)",
                      [c.label for c in b.columns],
                      ((r.group, r.deals, r.handoffs, cell_with_mark(r.completeness, least),
                        cell_with_mark(r.within_sla, least),
                        cell_with_mark(r.preservation, least),
                        cell_with_mark(r.rejection, least)) for r in b.rows)),
            kit.definitions(b.columns)]
