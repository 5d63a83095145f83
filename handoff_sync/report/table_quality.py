"""The "Handoff quality" section as terminal tables (report.quality's figures)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from handoff_sync.report import table_kit as kit
from handoff_sync.report.figures import Report
from handoff_sync.report.quality import TOP_ROWS, QualityFigure
from handoff_sync.report.text import num, pct
from handoff_sync.safety.sanitise import for_rich, for_terminal


def value_text(figure: QualityFigure) -> str:
    """A figure's value with its unit ("n/a" when there is none)."""
    if figure.value is None:
        return "n/a"
    if figure.unit == "%":
        text = pct(figure.value)
        return "+" + text if figure.id == "cycle_impact" and figure.value > 0 else text
    return num(figure.value, figure.unit)


def target_text(figure: QualityFigure) -> str:
    return " ".join(part for part in (figure.target, figure.status) if part)


def shown(total: int, what: str) -> str:
    """A long list's title says how much of it is shown."""
    return f"{what} (top {TOP_ROWS} of {total})" if total > TOP_ROWS else what


def figures_table(figures: tuple[QualityFigure, ...]) -> Table:
    """One row per figure, its definition in the row under it (dim, wrapped)."""
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("figure (definition below it)", ratio=3, overflow="fold")
    for header in ("value", "n"):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("target", ratio=1)
    table.add_column("note", ratio=2)
    for figure in figures:
        table.add_row(*(for_rich(cell) for cell in (
            figure.label, value_text(figure), figure.n, target_text(figure), figure.note)))
        table.add_row(Text(for_terminal(figure.definition), style="dim"), end_section=True)
    return table


def quality_tables(report: Report) -> list[Table]:
    q = report.quality
    tables = [figures_table(q.figures)]
    if q.alerts:
        tables.append(kit.table(None, ("ALERT",), [(line,) for line in q.alerts]))
    a = q.asks
    tables.append(kit.table("asks for missing context", ("", "count"), [
        ("deals that needed a handoff (n)", a.handoffs),
        ("with at least one ask", f"{a.asked} ({pct(a.asked_pct)})"),
        ("rejections", a.rejections), ("gates reopened without a rejection", a.reopened)]))
    if q.recycled:
        tables.append(kit.table(shown(len(q.recycled), "recycled deals"),
                                ("deal", "partner", "handoff type", "restarts",
                                 "last restarted"),
                                [(r.deal, r.partner, r.handoff_type, r.restarts,
                                  r.last_restarted_at.strftime("%Y-%m-%d %H:%M"))
                                 for r in q.recycled[:TOP_ROWS]]))
    k = q.kickoff
    tables.append(kit.table(f"kickoff (target: at most {k.target_days:g} business days)",
                            ("", "count"), [
        ("won deals that needed a handoff", k.won),
        ("kickoff held (n)", k.held),
        ("median / mean business days",
         f"{num(k.median_days)} / {num(k.mean_days)}"),
        (f"held within {k.target_days:g} business days", f"{k.within} ({pct(k.within_pct)})"),
        ("waiting for a kickoff (past the target)", f"{k.waiting} ({k.waiting_past_target})"),
        ("won without a won time (not measured)", k.no_won_time)]))
    at = q.attribution
    tables.append(kit.table(
        f"attribution: documented = every one of {', '.join(at.fields)} filled",
        ("missing field", "won partner deals without it"),
        [(g.field, g.deals) for g in q.attribution_gaps] or [("(none)", 0)]))
    if q.bonus is not None:
        b = q.bonus
        tables.append(kit.table(
            f"on-time bonus: {b.pct:g}% of the amount; {b.on_time} of {b.judged} judged deals "
            f"on time, {b.no_baseline} without an original close date, "
            f"{b.no_close_date} without a close date",
            ("partner", "currency", "judged (n)", "on time", "late", "no original date",
             "bonus owed"),
            [(p.partner, p.currency or "-", p.judged, p.on_time, p.late, p.no_baseline,
              f"{p.amount:,.2f}") for p in q.bonus_partners[:TOP_ROWS]]
            + [("all", t.currency or "-", "", t.deals, "", "", f"{t.amount:,.2f}")
               for t in q.bonus_totals]))
    tables.append(kit.table(
        q.groups_definition,
        (q.by, "handoffs (n)", "asked", "recycled", "kickoffs (n)", "kickoff median d",
         "won partner (n)", "documented"),
        [(g.group + (" (small)" if g.small else ""), g.handoffs, _rate(g.asked_pct,
          g.asked_low, g.asked_high), g.recycled, g.kickoffs, num(g.kickoff_median_days),
          g.won_partner, _rate(g.documented_pct, g.documented_low, g.documented_high))
         for g in q.groups]))
    return tables


def _rate(value: float | None, low: float | None, high: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{pct(value)} [{num(low)}-{num(high)}]"
