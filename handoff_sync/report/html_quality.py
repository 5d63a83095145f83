"""The "Handoff quality" section of the HTML report: a tile per headline figure, every
figure with its n, target and definition, then the lists behind them."""

from __future__ import annotations

from html import escape

from handoff_sync.report import html_kit as kit
from handoff_sync.report import svg
from handoff_sync.report.figures import Report
from handoff_sync.report.quality import TOP_ROWS, every_figure, headline
from handoff_sync.report.svg import PALETTE
from handoff_sync.report.table_quality import shown


def quality_html(report: Report) -> str:
    q, least = report.quality, report.min_sample
    alerts = "".join(f'<p class="alert">{escape(line)}</p>' for line in q.alerts)
    parts = [kit.kpis(headline(q), least), alerts, kit.figure_table(every_figure(q), least),
             kit.note(q.reused_definition)]
    if q.recycled_deals:
        parts.append(f"<h3>{escape(shown(len(q.recycled_deals), 'Recycled deals'))}</h3>"
                     + kit.table(("deal", "partner", "handoff type", "restarts",
                                  "last restarted"),
                                 [(r.deal, r.partner, r.handoff_type, r.restarts,
                                   r.last_restarted_at.strftime("%Y-%m-%d %H:%M"))
                                  for r in q.recycled_deals[:TOP_ROWS]])
                     + kit.note(q.recycled_definition))
    parts.append("<h3>Attribution fields missing on won partner deals</h3>"
                 + kit.counts_chart("Attribution fields missing", q.attribution_gaps,
                                    PALETTE["breached"])
                 + kit.note(q.attribution_gaps_definition))
    if q.bonus is not None:
        b = q.bonus
        owed = [p for p in b.partners[:TOP_ROWS] if p.amount > 0]
        chart = svg.hbars("On-time bonus owed by partner", [
            (f"{p.partner} ({p.currency})" if p.currency else p.partner,
             [(float(p.amount), PALETTE["within"])], f"{p.amount:,.2f}") for p in owed],
            label_width=260) if owed else ""
        rows = kit.table([c.label for c in b.partner_columns],
                         [(p.partner, p.currency or "-", p.judged, p.on_time, p.late,
                           p.no_original, f"{p.amount:,.2f}") for p in b.partners[:TOP_ROWS]]
                         + [("all", t.currency or "-", "", t.deals, "", "", f"{t.amount:,.2f}")
                            for t in b.totals])
        title = shown(len(b.partners), f"On-time bonus ({b.pct:g}%) by partner")
        parts.append(f"<h3>{escape(title)}</h3>{chart}{rows}"
                     + kit.definitions(b.partner_columns) + kit.note(b.totals_definition))
    table = kit.table([c.label for c in q.columns],
                      [(r.group, r.handoffs, kit.cell(r.asked, least),
                        kit.cell(r.recycled, least), kit.cell(r.kickoff, least, " d"),
                        kit.cell(r.attribution, least)) for r in q.rows])
    parts.append(f"<h3>By {escape(q.by_label)}: {len(q.rows)} groups, most handoffs first "
                 f"(not a ranking)</h3>{table}{kit.definitions(q.columns)}")
    return "".join(parts)
