"""The "Partner readiness" section as HTML: headline counts, each partner's score (chart
and a partner x dimension table, under-threshold cells marked), how each dimension is
scored, the open training tasks, and every figure's definition next to it."""

from __future__ import annotations

from html import escape

from handoff_sync.report import html_kit as kit
from handoff_sync.report import svg
from handoff_sync.report.figures import Report
from handoff_sync.report.readiness import ReadinessSection, cell_text, matrix
from handoff_sync.report.svg import PALETTE
from handoff_sync.report.text import num

FIGURE_NAMES = {"score": "readiness", "dimension_score": "dimension score",
                "applied_weight": "applied weight", "under_threshold": "under threshold",
                "open_training_tasks": "open training tasks", "history": "history"}


def render(report: Report) -> str:
    r = report.readiness
    note = f"<p>{escape(r.note)}</p>"
    if not r.enabled:
        return note
    parts = [_kpis(r), note]
    if r.partners:
        parts += ["<h3>Readiness by partner (lowest first)</h3>", svg.hbars(
            "Readiness by partner", [
                (p.partner, [(p.score or 0, PALETTE["partner"])], num(p.score))
                for p in r.partners], scale=100, label_width=260,
            target=r.threshold), _matrix(r)]
    parts += ["<h3>Dimensions: how each is scored</h3>", kit.table(
        ("dimension", "source", "weight", "threshold", "how it is scored"),
        [(f"{d.label} ({d.id})", d.source, f"{d.weight:g}", f"{d.threshold:g}",
          d.definition) for d in r.dimensions])]
    parts.append(f"<h3>Open training tasks ({len(r.open_training_tasks)})</h3>")
    parts.append(kit.table(("partner", "dimension", "assignee", "due"), [
        (t.partner, t.dimension, t.assignee or "-",
         t.due_at.strftime("%Y-%m-%d") if t.due_at else "-")
        for t in r.open_training_tasks]) if r.open_training_tasks else "<p>none</p>")
    parts += ["<h3>Definitions</h3>", kit.table(("figure", "definition"), [
        (FIGURE_NAMES.get(key, key), text) for key, text in r.definitions.items()])]
    if r.breakdown:
        parts.append("<details><summary>Every partner and dimension, with its applied "
                     "weight</summary>" + kit.table(
                         ("partner", "dimension", "score", "scored value", "n", "weight",
                          "applied weight", "threshold", "status"),
                         [(b.partner, b.dimension, num(b.score), b.value,
                           "-" if b.n is None else b.n, f"{b.weight:g}",
                           num(b.applied_weight, "%"), f"{b.threshold:g}", b.status)
                          for b in r.breakdown]) + "</details>")
    return "".join(parts)


def _kpis(r: ReadinessSection) -> str:
    return '<div class="kpis">' + "".join((
        kit.kpi(f"{r.partners_scored}/{len(r.partners)}", "partners with a readiness score"),
        kit.kpi(str(r.partners_under), "partners with a dimension under threshold"),
        kit.kpi(str(r.under), "dimensions under threshold"),
        kit.kpi(str(len(r.open_training_tasks)), "open training tasks"))) + "</div>"


def _matrix(r: ReadinessSection) -> str:
    """partner | readiness | weight with data | one column per dimension | open training
    tasks | channel manager; a dimension under its threshold in red."""
    head = "".join(f"<th>{escape(h)}</th>" for h in (
        "partner", "readiness", "weight with data", *(d.label for d in r.dimensions),
        "open training tasks", "channel manager"))
    rows = []
    for partner, cells in matrix(r):
        marked = "".join(
            f'<td class="bad">{escape(cell_text(c))}</td>' if c.status == "under threshold"
            else f"<td>{escape(cell_text(c))}</td>" for c in cells)
        rows.append(f"<tr><td>{escape(partner.partner)}</td><td>{escape(num(partner.score))}"
                    f"</td><td>{escape(f'{partner.weight_with_data:g} of 100')}</td>{marked}"
                    f"<td>{partner.open_training_tasks}</td>"
                    f"<td>{escape(partner.channel_manager or '-')}</td></tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
