"""The "Partner readiness" section as HTML: headline counts, each partner's score (chart
and table), the breakdown by dimension, the open training tasks, and every figure's
definition next to it."""

from __future__ import annotations

from html import escape

from handoff_sync.report import html_kit as kit
from handoff_sync.report import svg
from handoff_sync.report.figures import Report
from handoff_sync.report.readiness import ReadinessSection
from handoff_sync.report.svg import PALETTE
from handoff_sync.report.text import num


def render(report: Report) -> str:
    r = report.readiness
    note = f'<p class="def">{escape(r.note)}</p>'
    if not r.enabled:
        return note
    parts = [_kpis(r), note, _definitions(r), "<h3>Dimensions</h3>", kit.table(
        ("dimension", "source", "weight", "threshold", "how it is scored"),
        [(f"{d.label} ({d.id})", d.source, f"{d.weight:g}", f"{d.threshold:g}",
          d.definition) for d in r.dimensions])]
    if r.partners:
        parts += ["<h3>Readiness by partner (lowest first)</h3>", svg.hbars(
            "Readiness by partner", [
                (p.partner, [(p.score or 0, PALETTE["partner"])], num(p.score))
                for p in r.partners], scale=100, label_width=260),
            kit.table(("partner", "readiness", "weight with data", "under threshold",
                       "open training tasks", "channel manager"),
                      [(p.partner, num(p.score), f"{p.weight_with_data:g} of 100",
                        p.under or "none", p.open_training_tasks, p.channel_manager or "-")
                       for p in r.partners]),
            "<h3>Breakdown by dimension</h3>",
            kit.table(("partner", "dimension", "score", "scored value", "n", "weight",
                       "applied weight", "threshold", "status"),
                      [(b.partner, b.dimension, num(b.score), b.value,
                        "-" if b.n is None else b.n, f"{b.weight:g}",
                        num(b.applied_weight, "%"), f"{b.threshold:g}", b.status)
                       for b in r.breakdown])]
    parts.append(f"<h3>Open training tasks ({len(r.open_training_tasks)})</h3>")
    parts.append(kit.table(("partner", "dimension", "assignee", "due"), [
        (t.partner, t.dimension, t.assignee or "-",
         t.due_at.strftime("%Y-%m-%d") if t.due_at else "-")
        for t in r.open_training_tasks]) if r.open_training_tasks else "<p>none</p>")
    return "".join(parts)


def _kpis(r: ReadinessSection) -> str:
    return '<div class="kpis">' + "".join((
        kit.kpi(f"{r.partners_scored}/{len(r.partners)}", "partners with a readiness score"),
        kit.kpi(str(r.partners_under), "partners with a dimension under threshold"),
        kit.kpi(str(r.under), "dimensions under threshold"),
        kit.kpi(str(len(r.open_training_tasks)), "open training tasks"))) + "</div>"


def _definitions(r: ReadinessSection) -> str:
    names = {"score": "readiness", "dimension_score": "dimension score",
             "applied_weight": "applied weight", "under_threshold": "under threshold",
             "open_training_tasks": "open training tasks", "history": "history"}
    items = "".join(f"<dt>{escape(names.get(key, key))}</dt><dd>{escape(text)}</dd>"
                    for key, text in r.definitions.items())
    return f'<dl class="defs">{items}</dl>'
