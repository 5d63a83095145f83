"""The leakage funnel as terminal tables: the headline, one row per step, the
breakdowns by partner, segment, region, AE and handoff type, the weekly cohorts and the
definitions of every figure."""

from __future__ import annotations

from rich.table import Table

from handoff_sync.report import funnel_text as say
from handoff_sync.report import table_kit as kit
from handoff_sync.report.figures import Report
from handoff_sync.report.funnel import FunnelFigures
from handoff_sync.report.text import num, pct


def render_funnel(report: Report) -> list[Table]:
    section = report.funnel
    if not section.funnels:
        return [kit.table(None, ("funnel",), [(say.NONE_DECLARED,)])]
    tables: list[Table] = []
    for figures in section.funnels:
        tables.extend(_funnel(figures))
    tables.append(kit.table("definitions", ("figure", "definition"),
                            say.definitions(section)))
    return tables


def _funnel(figures: FunnelFigures) -> list[Table]:
    title = f"{figures.label} ({figures.funnel})"
    tables = [kit.table(title, ("figure", "value", "definition"), say.headline(figures))]
    if not figures.entered:
        return [*tables, kit.table(None, ("funnel",), [(say.NO_DEALS,)])]
    tables.append(kit.table(
        "steps", ("#", "step", "reached", "from previous", "from start",
                  "median days from previous (n)", "lost", say.amount_header(figures),
                  "survived (n)",
                  "in flight"),
        ((i, s.label, s.reached, pct(s.from_previous_pct), pct(s.from_start_pct),
          f"{num(s.median_days, ' d')} (n={s.timed})" if i > 1 else "",
          s.lost, say.money(s.lost_amount, None),
          f"{pct(s.survived_pct)} (n={s.settled})" if s.settled else "", s.in_flight)
         for i, s in enumerate(figures.steps, 1))))
    tables.append(kit.table("what each step means", ("#", "step", "definition"),
                            ((i, s.step, s.definition)
                             for i, s in enumerate(figures.steps, 1))))
    key = f"steps: {say.step_numbers(figures)}"
    for breakdown in figures.by:
        tables.append(kit.table(f"by {breakdown.label} ({key})",
                                say.group_headers(figures, breakdown.label),
                                ([row.group, *say.group_cells(figures, row)]
                                 for row in breakdown.groups)))
    if figures.weekly:
        tables.append(kit.table("weekly cohorts: deals by the week they reached the first "
                                f"step ({key})", say.group_headers(figures, "week of"),
                                ([row.group, *say.group_cells(figures, row)]
                                 for row in figures.weekly)))
    elif figures.weekly_note:
        tables.append(kit.table(None, ("weekly cohorts",), [(figures.weekly_note,)]))
    return tables
