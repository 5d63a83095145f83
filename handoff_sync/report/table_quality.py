"""The "Handoff quality" section as terminal tables (report.quality's figures)."""

from __future__ import annotations

from rich.table import Table

from handoff_sync.report import table_kit as kit
from handoff_sync.report.figures import Report
from handoff_sync.report.quality import TOP_ROWS, every_figure
from handoff_sync.report.text import cell_with_mark


def shown(total: int, what: str) -> str:
    """A long list's title says how much of it is shown."""
    return f"{what} (top {TOP_ROWS} of {total})" if total > TOP_ROWS else what


def quality_tables(report: Report) -> list[Table]:
    q, least = report.quality, report.min_sample
    tables = [kit.figures(every_figure(q), least), kit.note(q.reused_definition)]
    if q.alerts:
        tables.append(kit.table(None, ("ALERT",), [(line,) for line in q.alerts]))
    if q.recycled_deals:
        tables += [kit.table(shown(len(q.recycled_deals), "recycled deals"),
                             ("deal", "partner", "handoff type", "restarts", "last restarted"),
                             [(r.deal, r.partner, r.handoff_type, r.restarts,
                               r.last_restarted_at.strftime("%Y-%m-%d %H:%M"))
                              for r in q.recycled_deals[:TOP_ROWS]]),
                   kit.note(q.recycled_definition)]
    tables += [kit.counts("attribution fields missing on won partner deals", "field",
                          q.attribution_gaps), kit.note(q.attribution_gaps_definition)]
    if q.bonus is not None:
        b = q.bonus
        tables += [kit.table(
            shown(len(b.partners), f"on-time bonus ({b.pct:g}%) by partner"),
            [c.label for c in b.partner_columns],
            [(p.partner, p.currency or "-", p.judged, p.on_time, p.late, p.no_original,
              f"{p.amount:,.2f}") for p in b.partners[:TOP_ROWS]]
            + [("all", t.currency or "-", "", t.deals, "", "", f"{t.amount:,.2f}")
               for t in b.totals]),
            kit.definitions(b.partner_columns), kit.note(b.totals_definition)]
    tables += [kit.table(f"by {q.by_label} ({len(q.rows)} groups, most handoffs first; not "
                         "a ranking)", [c.label for c in q.columns],
                         [(r.group, r.handoffs, cell_with_mark(r.asked, least),
                           cell_with_mark(r.recycled, least),
                           cell_with_mark(r.kickoff, least, " d"),
                           cell_with_mark(r.attribution, least)) for r in q.rows]),
               kit.definitions(q.columns)]
    return tables
