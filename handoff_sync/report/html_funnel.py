"""The leakage funnel in the HTML report: headline tiles, an SVG funnel chart, the steps
with their definitions, the breakdowns and the weekly cohorts."""

from __future__ import annotations

from html import escape

from handoff_sync.report import funnel_text as say
from handoff_sync.report import html_kit as kit
from handoff_sync.report import svg
from handoff_sync.report.figures import Report
from handoff_sync.report.funnel import FunnelFigures
from handoff_sync.report.text import num, pct


def render_funnel(report: Report) -> str:
    section = report.funnel
    if not section.funnels:
        return f"<p>{escape(say.NONE_DECLARED)}</p>"
    parts = [_funnel(figures) for figures in section.funnels]
    terms = "".join(f"<dt>{escape(term)}</dt><dd>{escape(text)}</dd>"
                    for term, text in say.definitions(section))
    return "".join(parts) + f'<h3>Definitions</h3><dl class="defs">{terms}</dl>'


def _funnel(figures: FunnelFigures) -> str:
    head = (f"<h3>{escape(figures.label)}</h3>"
            f'<p class="sub">{escape("Which deals: " + figures.definition)}</p>')
    rows = say.headline(figures)
    kpis = "".join(kit.kpi(value, figure) for figure, value, _ in rows)
    headline = kit.table(("figure", "value", "definition"), rows)
    if not figures.entered:
        return f'{head}<div class="kpis">{kpis}</div><p>{escape(say.NO_DEALS)}</p>'
    chart = svg.funnel(f"{figures.label}: deals reaching each step", [
        (s.label, s.reached, f"{s.reached}"
         + (f" \u00b7 {pct(s.from_previous_pct)} of previous" if i else "")
         + (f" \u00b7 {s.lost} lost" if s.lost else ""))
        for i, s in enumerate(figures.steps)])
    steps = kit.table(
        ("#", "step", "reached", "from previous", "from start",
         "median days from previous (n)", "lost", say.amount_header(figures),
         "survived (n)", "in flight",
         "definition"),
        [(i, s.label, s.reached, pct(s.from_previous_pct), pct(s.from_start_pct),
          f"{num(s.median_days, ' d')} (n={s.timed})" if i > 1 else "", s.lost,
          say.money(s.lost_amount, None),
          f"{pct(s.survived_pct)} (n={s.settled})" if s.settled else "", s.in_flight,
          s.definition)
         for i, s in enumerate(figures.steps, 1)])
    key = escape(f"Steps: {say.step_numbers(figures)}.")
    breakdowns = "".join(
        f"<h4>By {escape(b.label)}</h4>"
        + kit.table(say.group_headers(figures, b.label),
                    [[row.group, *say.group_cells(figures, row)] for row in b.groups])
        for b in figures.by)
    if figures.weekly:
        weekly = kit.table(say.group_headers(figures, "week of"),
                           [[row.group, *say.group_cells(figures, row)]
                            for row in figures.weekly])
    else:
        weekly = f"<p>{escape(figures.weekly_note or 'No weekly cohorts.')}</p>"
    return (f'{head}<div class="kpis">{kpis}</div>{chart}<h4>Steps</h4>{steps}'
            f"<h4>Where the funnel stands</h4>{headline}"
            f'<p class="sub">{key}</p>{breakdowns}'
            f"<h4>Weekly cohorts (deals by the week they reached the first step)</h4>"
            f"{weekly}")
