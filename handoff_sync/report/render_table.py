"""The report as rich tables for a terminal (or a text file with --out)."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO

from rich.console import Console
from rich.table import Table

from handoff_sync.report import table_kit as kit
from handoff_sync.report import table_readiness
from handoff_sync.report.figures import SECTION_TITLES, SECTIONS, Report
from handoff_sync.report.text import num, pct, signed, subtitle, target_mark, weights
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
    return [kit.table(None, (v.by, "partner", "direct", "PRM only", "total"),
                   [(row.group, row.partner, row.direct, row.prm_only, row.total)
                    for row in v.rows] + [("all", v.partner, v.direct, v.prm_only,
                                           v.total)])]


def _completeness(report: Report) -> list[Table]:
    c = report.completeness
    return [
        kit.figures([("deals needing a handoff", str(c.deals), ""),
          ("mean completeness", pct(c.mean_pct), f">= {c.target_pct:g}%"),
          ("median completeness", pct(c.median_pct), ""),
          (f"deals at >= {c.target_pct:g}%", f"{c.at_target} ({pct(c.at_target_pct)})",
           "")]),
        kit.table("completeness distribution", ("completeness %", "deals"),
       ((b.label, b.count) for b in c.histogram)),
        kit.counts("most-missing fields", "missing field", c.most_missing)]


def _sla(report: Report) -> list[Table]:
    s = report.sla
    return [
         kit.figures([("handoffs within SLA", f"{s.within}/{s.counted} ({pct(s.within_pct)})",
                    f"> {s.target_pct:g}% {target_mark(s.within_pct, s.target_pct)}"),
                   ("met / running / at risk", f"{s.met} / {s.running} / {s.at_risk}", ""),
                   ("breached clocks", str(s.breached), ""),
                   ("cancelled clocks (not counted)", str(s.cancelled), ""),
                   ("breach events / escalations", f"{s.breach_events} / {s.escalations}", ""),
                   ("escalation tasks (open)", f"{s.escalation_tasks} ({s.escalation_tasks_open})",
                    ""),
                   ("time to first touch, median", num(s.first_touch_median_hours, " h"), ""),
                   ("time to first touch, mean", num(s.first_touch_mean_hours, " h"), ""),
                   ("first touches / still waiting",
                    f"{s.first_touched} / {s.first_touch_waiting}", "")]),
         kit.table("by clock", ("clock", "counted", "within", "breached", "within %"),
                ((k.label, k.counted, k.within, k.breached, pct(k.within_pct))
                 for k in s.by_clock))]


def _acceptance(report: Report) -> list[Table]:
    a = report.acceptance
    return [kit.figures([
        ("handoffs accepted / decided", f"{a.accepted}/{a.decided}", ""),
        ("handoffs rejected", f"{a.rejected} ({pct(a.rejection_rate_pct)})",
         f"<= {a.alert_pct:g}% {target_mark(a.rejection_rate_pct, a.alert_pct, below=True)}"
         if a.alert_pct is not None else "no handoff type takes accept/reject"),
        ("re-submissions", str(a.resubmitted), ""),
        *(("ALERT", line, "") for line in a.alerts)]),
        kit.table("rejection rate by partner", ("partner", "decided (n)", "rejected", "rate", ""),
         ((x.partner, x.decided, x.rejected, pct(x.rate_pct), "ALERT" if x.alert
           else "") for x in a.partners)),
        kit.counts("rejection reasons", "reason", a.top_reasons)]


def _preservation(report: Report) -> list[Table]:
    p = report.preservation
    return [kit.figures([
        ("partner deals closed won / closed", f"{p.partner_won}/{p.partner_closed}", ""),
        ("deal preservation rate", pct(p.rate_pct),
         f">= {p.target_pct:g}% {target_mark(p.rate_pct, p.target_pct)}"),
        ("direct deals closed won / closed", f"{p.direct_won}/{p.direct_closed}", ""),
        ("direct win rate", pct(p.direct_rate_pct), ""),
        ("median cycle, partner (won)", f"{num(p.partner_cycle_days, ' d')} "
         f"(n={p.partner_cycle_deals})", ""),
        ("median cycle, direct (won)", f"{num(p.direct_cycle_days, ' d')} "
         f"(n={p.direct_cycle_deals})", ""),
        ("cycle-length impact", signed(p.cycle_impact_pct, "%"),
         f"<= +{p.cycle_target_pct:g}% "
         f"{target_mark(p.cycle_impact_pct, p.cycle_target_pct, below=True)}")])]


def _reviews(report: Report) -> list[Table]:
    r = report.reviews
    return [kit.counts(f"open review items: {r.open}", "kind", r.by_kind),
            kit.counts(f"conflicts: {r.conflicts}", "field", r.conflicts_by_field)]


def _scorecard(report: Report) -> list[Table]:
    sc = report.scorecard
    return [kit.table(weights(report),
                   ("partner", "deals", "handoffs", "completeness", "SLA", "preservation",
                    "readiness", "trend"),
                   ((x.partner, x.deals, x.handoffs, pct(x.completeness_pct),
                     pct(x.sla_pct), pct(x.preservation_pct), num(x.readiness),
                     f"{num(x.trend_start_pct)} -> {num(x.trend_now_pct)} "
                     f"({signed(x.trend_delta)})") for x in sc.partners))]


# One renderer per section of figures.SECTIONS; a section's renderer may live in a module
# of its own (table_<section>.py) built from table_kit.
SECTION_RENDERERS: dict[str, Callable[[Report], list[Table]]] = {
    "volume": _volume, "completeness": _completeness, "sla": _sla,
    "acceptance": _acceptance, "preservation": _preservation, "reviews": _reviews,
    "scorecard": _scorecard, "readiness": table_readiness.render,
}
