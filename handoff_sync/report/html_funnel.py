"""The leakage funnel in the HTML report: headline tiles and where deals die, an SVG
funnel whose bars split into deals that moved on, are still there and died there, the
steps and what each means, the breakdowns and the weekly cohorts, with the definitions."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from handoff_sync.report import funnel_text as say
from handoff_sync.report import html_kit as kit
from handoff_sync.report import svg
from handoff_sync.report.figures import Report
from handoff_sync.report.funnel import FunnelFigures
from handoff_sync.report.svg import PALETTE
from handoff_sync.report.text import num, pct

TILES = 4  # the headline's counts; its last rows (where deals die) read as sentences


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
            f'<p class="note">{escape("Which deals: " + figures.definition)}</p>')
    rows = say.headline(figures)
    kpis = "".join(kit.kpi(value, figure) for figure, value, _ in rows[:TILES])
    leaks = "".join(f'<p class="leak"><b>{escape(figure.capitalize())}</b> '
                    f"{escape(value)}</p>" for figure, value, _ in rows[TILES:])
    headline = _textual(("figure", "value", "definition"), rows)
    if not figures.entered:
        return f'{head}<div class="kpis">{kpis}</div><p>{escape(say.NO_DEALS)}</p>'
    return (f'{head}<div class="kpis">{kpis}</div>{leaks}{_chart(figures)}'
            f"<h4>Steps</h4>{_steps(figures)}<h4>What each step means</h4>"
            + _textual(("#", "step", "definition"),
                       [(i, s.label, s.definition) for i, s in enumerate(figures.steps, 1)])
            + f"<h4>Where the funnel stands</h4>{headline}{_breakdowns(figures)}")


def _chart(figures: FunnelFigures) -> str:
    last = len(figures.steps) - 1
    bars = []
    for i, s in enumerate(figures.steps):
        moved_on = figures.steps[i + 1].reached if i < last else s.reached
        text = f"{s.reached}" + (f" \u00b7 {pct(s.from_previous_pct)} of previous" if i
                                 else "")
        if s.lost:
            text += f" \u00b7 {s.lost} lost ({say.money(s.lost_amount, figures.currency)})"
        bars.append((s.label, [(moved_on, PALETTE["partner"]),
                               (s.in_flight, PALETTE["in_flight"]),
                               (s.lost, PALETTE["lost"])], text))
    legend = kit.legend(("partner", "moved on to the next step (or completed)"),
                        ("in_flight", "still at this step (in flight)"),
                        ("lost", "died at this step (lost)"))
    return legend + svg.funnel(f"{figures.label}: deals reaching each step", bars)


def _steps(figures: FunnelFigures) -> str:
    return kit.table(
        ("#", "step", "reached", "from previous", "from start",
         "median days from previous (n)", "lost", say.amount_header(figures),
         "survived (n)", "in flight"),
        [(i, s.label, s.reached, pct(s.from_previous_pct), pct(s.from_start_pct),
          f"{num(s.median_days, ' d')} (n={s.timed})" if i > 1 else "", s.lost,
          say.money(s.lost_amount, None),
          f"{pct(s.survived_pct)} (n={s.settled})" if s.settled else "", s.in_flight)
         for i, s in enumerate(figures.steps, 1)])


def _breakdowns(figures: FunnelFigures) -> str:
    key = f'<p class="note">{escape(f"Steps: {say.step_numbers(figures)}.")}</p>'
    parts = [f"<h4>By {escape(b.label)}</h4>{key}"
             + kit.table(say.group_headers(figures, b.label),
                         [[row.group, *say.group_cells(figures, row)] for row in b.groups])
             for b in figures.by]
    parts.append("<h4>Weekly cohorts (deals by the week they reached the first step)</h4>")
    if figures.weekly:
        parts.append(key + kit.table(say.group_headers(figures, "week of"),
                                     [[row.group, *say.group_cells(figures, row)]
                                      for row in figures.weekly]))
    else:
        parts.append(f"<p>{escape(figures.weekly_note or 'No weekly cohorts.')}</p>")
    return "".join(parts)


def _textual(headers: tuple[str, ...], rows: Sequence[Sequence[object]]) -> str:
    """A table of words: left-aligned, unlike the tables of figures."""
    return f'<div class="textual">{kit.table(headers, rows)}</div>'
