"""The "Partner readiness" section as terminal tables: headline figures with their
definitions, each partner's score with a column per dimension (under threshold said in
words), how each dimension is scored, and the open training tasks."""

from __future__ import annotations

from rich.table import Table

from handoff_sync.report import table_kit as kit
from handoff_sync.report.figure import figures_of
from handoff_sync.report.figures import Report
from handoff_sync.report.readiness import cell_text, matrix
from handoff_sync.report.text import num


def render(report: Report) -> list[Table]:
    r, least = report.readiness, report.min_sample
    if not r.enabled:
        return [kit.figures(figures_of(r), least), kit.note(r.note)]
    return [
        kit.figures(figures_of(r), least), kit.note(r.note),
        kit.table("readiness by partner (lowest first)",
                  ("partner", "readiness", "weight with data",
                   *(x.label for x in r.dimensions), "open training tasks",
                   "channel manager"),
                  [(p.partner, num(p.score), f"{p.weight_with_data:g} of 100",
                    *(cell_text(c) for c in cells), p.open_training_tasks,
                    p.channel_manager or "-") for p, cells in matrix(r)]
                  or [("(no partner accounts)",)]),
        kit.definitions(r.partner_columns),
        kit.table("dimensions: how each is scored", [c.label for c in r.dimension_columns],
                  [(f"{x.label} ({x.id})", x.source, f"{x.weight:g}", f"{x.threshold:g}",
                    x.definition) for x in r.dimensions]),
        kit.definitions(r.dimension_columns),
        kit.table(f"open training tasks: {len(r.training_tasks)}",
                  [c.label for c in r.training_columns],
                  [(t.group, t.assignee or "-",
                    t.due_at.strftime("%Y-%m-%d") if t.due_at else "-")
                   for t in r.training_tasks] or [("(none)", "", "")]),
        kit.definitions(r.training_columns)]
