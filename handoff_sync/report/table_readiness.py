"""The "Partner readiness" section as terminal tables: headline counts with their
definitions, the dimensions, each partner's score, the breakdown and the open training
tasks."""

from __future__ import annotations

from rich.table import Table

from handoff_sync.report import table_kit as kit
from handoff_sync.report.figures import Report
from handoff_sync.report.text import num


def render(report: Report) -> list[Table]:
    r = report.readiness
    if not r.enabled:
        return [kit.table(None, ("note",), [(r.note,)])]
    d = r.definitions
    tables = [
        kit.table(None, ("figure", "value", "definition"), [
            ("partners with a readiness score", f"{r.partners_scored}/{len(r.partners)}",
             d["score"]),
            ("partners with a dimension under threshold", r.partners_under,
             d["under_threshold"]),
            ("dimensions under threshold", r.under, d["under_threshold"]),
            ("open training tasks", len(r.open_training_tasks), d["open_training_tasks"]),
            ("applied weight", "", d["applied_weight"]),
            ("history", "", d["history"])]),
        kit.table("dimensions", ("dimension", "source", "weight", "threshold",
                                 "how it is scored"),
                  [(f"{x.label} ({x.id})", x.source, f"{x.weight:g}", f"{x.threshold:g}",
                    x.definition) for x in r.dimensions]),
        kit.table("readiness by partner (lowest first)",
                  ("partner", "readiness", "weight with data", "under threshold",
                   "open training tasks", "channel manager"),
                  [(p.partner, num(p.score), f"{p.weight_with_data:g} of 100",
                    p.under or "none", p.open_training_tasks, p.channel_manager or "-")
                   for p in r.partners]),
        kit.table("breakdown by dimension",
                  ("partner", "dimension", "score", "scored value", "n", "weight",
                   "applied weight", "threshold", "status"),
                  [(b.partner, b.dimension, num(b.score), b.value,
                    "-" if b.n is None else b.n, f"{b.weight:g}", num(b.applied_weight, "%"),
                    f"{b.threshold:g}", b.status) for b in r.breakdown]),
        kit.table(f"open training tasks: {len(r.open_training_tasks)}",
                  ("partner", "dimension", "assignee", "due"),
                  [(t.partner, t.dimension, t.assignee or "-",
                    t.due_at.strftime("%Y-%m-%d") if t.due_at else "-")
                   for t in r.open_training_tasks] or [("(none)", "", "", "")])]
    return tables
