"""The "Partner readiness" section as HTML: headline figures with their definitions, each
partner's score (chart, and a partner x dimension table with under-threshold cells marked),
how each dimension is scored, the open training tasks, and every partner and dimension
with its applied weight (folded)."""

from __future__ import annotations

from html import escape

from handoff_sync.report import html_kit as kit
from handoff_sync.report import svg
from handoff_sync.report.figure import figures_of
from handoff_sync.report.figures import Report
from handoff_sync.report.readiness import ReadinessSection, cell_text, matrix
from handoff_sync.report.svg import PALETTE
from handoff_sync.report.text import num


def render(report: Report) -> str:
    r, least = report.readiness, report.min_sample
    if not r.enabled:
        return kit.figure_table(figures_of(r), least) + kit.note(r.note)
    parts = [kit.figure_table(figures_of(r), least), kit.note(r.note)]
    if r.partners:
        parts += [f"<h3>Readiness by partner (lowest first; dashed line: the threshold, "
                  f"{num(r.threshold)})</h3>", svg.hbars("Readiness by partner", [
                      (p.partner, [(p.score or 0, PALETTE["partner"])], num(p.score))
                      for p in r.partners], scale=100, target=r.threshold,
                      target_label=f"threshold {num(r.threshold)}"),
                  _matrix(r), kit.definitions(r.partner_columns)]
    parts += ["<h3>Dimensions: how each is scored</h3>", kit.table(
        [c.label for c in r.dimension_columns],
        [(f"{d.label} ({d.id})", d.source, f"{d.weight:g}", f"{d.threshold:g}",
          d.definition) for d in r.dimensions], wide=True, text=(0, 1, 4)),
        kit.definitions(r.dimension_columns)]
    parts.append(f"<h3>Open training tasks ({len(r.training_tasks)})</h3>")
    parts.append(kit.table([c.label for c in r.training_columns], [
        (t.group, t.assignee or "-", t.due_at.strftime("%Y-%m-%d") if t.due_at else "-")
        for t in r.training_tasks], text=2) + kit.definitions(r.training_columns)
        if r.training_tasks else "<p>none</p>")
    if r.breakdown:
        parts.append("<details><summary>Every partner and dimension, with its applied "
                     "weight</summary>" + kit.table(
                         [c.label for c in r.breakdown_columns],
                         [(b.group, num(b.score), b.value, "-" if b.n is None else b.n,
                           f"{b.weight:g}", num(b.applied_weight, "%"), f"{b.threshold:g}",
                           b.status) for b in r.breakdown])
                     + kit.definitions(r.breakdown_columns) + "</details>")
    return "".join(parts)


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
                    f'<td class="text">{escape(partner.channel_manager or "-")}</td></tr>')
    return (f'<table class="wide readiness"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")
