"""The "Handoff quality" section of the HTML report: a tile per figure, then each figure
with its n, target and definition, then the details behind the new ones."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from handoff_sync.report import html_kit as kit
from handoff_sync.report import svg
from handoff_sync.report.figures import Report
from handoff_sync.report.quality import TOP_ROWS
from handoff_sync.report.svg import PALETTE
from handoff_sync.report.table_quality import shown, target_text, value_text
from handoff_sync.report.text import num, pct


def quality_html(report: Report) -> str:
    q = report.quality
    tiles = "".join(kit.kpi(value_text(f), f"{f.label} (n={f.n}"
                            + (f", target {f.target})" if f.target else ")"),
                            f.status if f.status in ("ok", "above target", "below target")
                            else "")
                    for f in q.figures)
    alerts = "".join(f'<p class="alert">{escape(line)}</p>' for line in q.alerts)
    figures = table(("figure", "value", "n", "target", "note", "definition"),
                    [(f.label, value_text(f), f.n, target_text(f), f.note, f.definition)
                     for f in q.figures], numbers=(1, 2))
    a, k, at = q.asks, q.kickoff, q.attribution
    asks = kit.table(("asks for missing context", "count"), [
        ("deals that needed a handoff (n)", a.handoffs),
        ("with at least one ask", f"{a.asked} ({pct(a.asked_pct)})"),
        ("rejections", a.rejections), ("gates reopened without a rejection", a.reopened)])
    kickoff = kit.table((f"kickoff (target: at most {k.target_days:g} business days)",
                         "count"), [
        ("won deals that needed a handoff", k.won), ("kickoff held (n)", k.held),
        ("median / mean business days", f"{num(k.median_days)} / {num(k.mean_days)}"),
        (f"held within {k.target_days:g} business days", f"{k.within} ({pct(k.within_pct)})"),
        ("waiting for a kickoff (already past the target)",
         f"{k.waiting} ({k.waiting_past_target})"),
        ("won without a won time (not measured)", k.no_won_time)])
    gaps = kit.table(("missing attribution field", "won partner deals without it"),
                     [(g.field, g.deals) for g in q.attribution_gaps] or [("(none)", 0)])
    parts = [f'<div class="kpis">{tiles}</div>{alerts}{figures}',
             f'<div class="grid"><div>{asks}</div><div>{kickoff}</div></div>',
             f"<h3>Attribution: documented when every one of "
             f"{escape(', '.join(at.fields))} is filled "
             f"({at.documented} of {at.won} won partner deals)</h3>{gaps}"]
    if q.recycled:
        parts.append(f"<h3>{escape(shown(len(q.recycled), 'Recycled deals'))}</h3>"
                     + kit.table(("deal", "partner", "handoff type", "restarts",
                                  "last restarted"),
                                 [(r.deal, r.partner, r.handoff_type, r.restarts,
                                   r.last_restarted_at.strftime("%Y-%m-%d %H:%M"))
                                  for r in q.recycled[:TOP_ROWS]]))
    if q.bonus is not None:
        b = q.bonus
        chart = svg.hbars("On-time bonus owed by partner", [
            (f"{p.partner} ({p.currency})" if p.currency else p.partner,
             [(float(p.amount), PALETTE["within"])], f"{p.amount:,.2f}")
            for p in q.bonus_partners[:TOP_ROWS] if p.amount > 0], label_width=260)
        rows = kit.table(("partner", "currency", "judged (n)", "on time", "late",
                          "no original date", "bonus owed"),
                         [(p.partner, p.currency or "-", p.judged, p.on_time, p.late,
                           p.no_baseline, f"{p.amount:,.2f}")
                          for p in q.bonus_partners[:TOP_ROWS]]
                         + [("all", t.currency or "-", "", t.deals, "", "", f"{t.amount:,.2f}")
                            for t in q.bonus_totals])
        parts.append(
            f"<h3>{escape(shown(len(q.bonus_partners), 'On-time bonus by partner'))}: "
            f"{b.pct:g}% of the amount; {b.on_time} of {b.judged} judged deals on time, "
            f"{b.no_baseline} without an original close date</h3>"
            + (chart if any(p.amount > 0 for p in q.bonus_partners) else "") + rows)
    parts.append(
        f'<h3>By {escape(q.by)}</h3><p class="sub">{escape(q.groups_definition)}</p>'
        + table((q.by, "handoffs (n)", "asked", "recycled", "kickoffs (n)",
                 "kickoff median (business days)", "won partner (n)", "documented"),
                [(g.group + (" (small)" if g.small else ""), g.handoffs,
                  _rate(g.asked_pct, g.asked_low, g.asked_high), g.recycled, g.kickoffs,
                  num(g.kickoff_median_days), g.won_partner,
                  _rate(g.documented_pct, g.documented_low, g.documented_high))
                 for g in q.groups], numbers=(1, 2, 3, 4, 5, 6, 7)))
    return "".join(parts)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *,
          numbers: Sequence[int]) -> str:
    """A table whose text columns read left-aligned and whose ``numbers`` columns (by
    index) right-aligned on one line; everything escaped."""
    def cell(tag: str, index: int, value: Any) -> str:
        style = ("text-align:right;white-space:nowrap" if index in numbers
                 else "text-align:left")
        return f'<{tag} style="{style}">{escape(str(value))}</{tag}>'

    head = "".join(cell("th", i, h) for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _rate(value: float | None, low: float | None, high: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{pct(value)} [{num(low)}\u2013{num(high)}]"
