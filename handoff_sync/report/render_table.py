"""The report as rich tables for a terminal (or a text file with --out).

Every section prints its figures as figure | value | n | target | definition, and each
group table is followed by what its columns mean."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO

from rich.console import Console
from rich.table import Table

from handoff_sync.report import table_kit as kit
from handoff_sync.report import table_maturity, table_readiness
from handoff_sync.report.figure import figures_of
from handoff_sync.report.figures import SECTION_TITLES, SECTIONS, Report
from handoff_sync.report.table_breakdown import breakdown_tables
from handoff_sync.report.table_funnel import render_funnel
from handoff_sync.report.table_quality import quality_tables
from handoff_sync.report.text import cell_with_mark, num, shown, signed, subtitle
from handoff_sync.safety.sanitise import for_rich


def render_table(report: Report, file: IO[str], *, width: int = 132) -> None:
    console = Console(file=file, width=width, no_color=not file.isatty(),
                      highlight=False, soft_wrap=False)
    console.print(f"[bold]Handoff report[/bold]  {for_rich(subtitle(report))}")
    for section in SECTIONS:
        tables = SECTION_RENDERERS[section](report)
        console.print()
        console.print(f"[bold]{SECTION_TITLES[section]}[/bold] [dim]({section})[/dim]")
        for table in tables:
            if table.title:  # above the table, not wrapped to the table's width
                console.print(f"[italic]{for_rich(table.title)}[/italic]")
                table.title = None
            console.print(table)
    console.print()
    for note in report.notes:
        console.print(f"[dim]* {for_rich(note)}[/dim]")


def _volume(report: Report) -> list[Table]:
    v = report.volume
    return [kit.figures(figures_of(v), report.min_sample),
            kit.table(None, [c.label for c in v.columns],
                      [(row.group, row.partner, row.direct, row.prm_only, row.total)
                       for row in v.rows]
                      + [("all", v.partner.value, v.direct.value, v.prm_only.value,
                          v.total.value)]),
            kit.definitions(v.columns)]


def _completeness(report: Report) -> list[Table]:
    c = report.completeness
    return [
        kit.figures(figures_of(c), report.min_sample),
        kit.table("completeness distribution", ("completeness %", "deals"),
                  ((b.label, b.count) for b in c.histogram)),
        kit.note(c.histogram_definition),
        kit.counts("most-missing fields" + shown(len(c.most_missing), c.most_missing_of),
                   "missing field", c.most_missing),
        kit.note(c.most_missing_definition)]


def _sla(report: Report) -> list[Table]:
    s, least = report.sla, report.min_sample
    return [
        kit.figures(figures_of(s), least),
        *(kit.figures(figures_of(t), least, title=f"time to first touch: {t.label}")
          for t in s.first_touch),
        kit.table("by clock", [c.label for c in s.by_clock_columns],
                  ((k.label, k.decided, k.met, k.breached, cell_with_mark(k.within, least),
                    k.on_track, k.at_risk, k.past_due, k.cancelled) for k in s.by_clock)),
        kit.definitions(s.by_clock_columns)]


def _acceptance(report: Report) -> list[Table]:
    a, least = report.acceptance, report.min_sample
    tables = [kit.figures(figures_of(a), least)]
    if a.alerts:
        tables.append(kit.table(None, ("ALERT",), ((line,) for line in a.alerts)))
    return [*tables,
            kit.table("rejection rate by partner", [c.label for c in a.partner_columns],
                      ((x.partner, x.decided, x.rejected, cell_with_mark(x.rate, least))
                       for x in a.partners)),
            kit.definitions(a.partner_columns),
            kit.counts("rejection reasons" + shown(len(a.top_reasons), a.top_reasons_of),
                       "reason", a.top_reasons),
            kit.note(a.top_reasons_definition)]


def _preservation(report: Report) -> list[Table]:
    return [kit.figures(figures_of(report.preservation), report.min_sample)]


def _reviews(report: Report) -> list[Table]:
    r = report.reviews
    return [kit.figures(figures_of(r), report.min_sample),
            kit.counts("open review items by kind", "kind", r.by_kind),
            kit.note(r.by_kind_definition),
            kit.counts("conflicts by field", "field", r.conflicts_by_field),
            kit.note(r.conflicts_by_field_definition)]


def _scorecard(report: Report) -> list[Table]:
    sc, least = report.scorecard, report.min_sample
    return [kit.figures(figures_of(sc), least),
            kit.table(None, [c.label for c in sc.partner_columns],
                      ((x.partner, x.rank or "", x.deals, x.handoffs,
                        cell_with_mark(x.completeness, least), cell_with_mark(x.sla, least),
                        cell_with_mark(x.preservation, least), num(x.outcome_score),
                        ", ".join(x.score_parts) or "-",
                        f"{num(x.trend_start_pct)} -> {num(x.trend_now_pct)} "
                        f"({signed(x.trend_delta)})") for x in sc.partners)),
            kit.definitions(sc.partner_columns)]


# One renderer per section of figures.SECTIONS; a section's renderer may live in a module
# of its own (table_<section>.py) built from table_kit.
SECTION_RENDERERS: dict[str, Callable[[Report], list[Table]]] = {
    "volume": _volume, "breakdown": breakdown_tables, "completeness": _completeness,
    "sla": _sla, "acceptance": _acceptance, "preservation": _preservation,
    "quality": quality_tables, "funnel": render_funnel, "reviews": _reviews,
    "scorecard": _scorecard, "readiness": table_readiness.render,
    "maturity": table_maturity.render,
}
