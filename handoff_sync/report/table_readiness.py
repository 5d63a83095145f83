"""The "Partner readiness" section as terminal tables: headline counts with their
definitions, each partner's score with a column per dimension (under threshold said in
words), how each dimension is scored, and the open training tasks."""

from __future__ import annotations

from rich.table import Table

from handoff_sync.report import table_kit as kit
from handoff_sync.report.figures import Report
from handoff_sync.report.readiness import cell_text, matrix
from handoff_sync.report.text import num


def render(report: Report) -> list[Table]:
    r = report.readiness
    if not r.enabled:
        return [kit.table(None, ("note",), [(r.note,)])]
    d = r.definitions
    return [
        kit.table(None, ("figure", "value", "definition"), [
            ("partners with a readiness score", f"{r.partners_scored}/{len(r.partners)}",
             d["score"]),
            ("partners with a dimension under threshold", r.partners_under,
             d["under_threshold"]),
            ("dimensions under threshold", r.under, d["under_threshold"]),
            ("open training tasks", len(r.open_training_tasks), d["open_training_tasks"]),
            ("dimension score", "", d["dimension_score"]),
            ("weight with data", "", d["applied_weight"]),
            ("history", "", d["history"])]),
        kit.table("readiness by partner (lowest first)",
                  ("partner", "readiness", "weight with data",
                   *(x.label for x in r.dimensions), "open training tasks",
                   "channel manager"),
                  [(p.partner, num(p.score), f"{p.weight_with_data:g} of 100",
                    *(cell_text(c) for c in cells), p.open_training_tasks,
                    p.channel_manager or "-") for p, cells in matrix(r)]
                  or [("(no partner accounts)",)]),
        kit.table("dimensions: how each is scored",
                  ("dimension", "source", "weight", "threshold", "how it is scored"),
                  [(f"{x.label} ({x.id})", x.source, f"{x.weight:g}", f"{x.threshold:g}",
                    x.definition) for x in r.dimensions]),
        kit.table(f"open training tasks: {len(r.open_training_tasks)}",
                  ("partner", "dimension", "assignee", "due"),
                  [(t.partner, t.dimension, t.assignee or "-",
                    t.due_at.strftime("%Y-%m-%d") if t.due_at else "-")
                   for t in r.open_training_tasks] or [("(none)", "", "", "")])]
