"""The report as one self-contained HTML file: inline CSS, static inline SVG charts.

No script and no external resource: the file opens offline, in a mail attachment or a
locked-down browser, and renders the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from handoff_sync.report import html_kit as kit
from handoff_sync.report import html_readiness, svg
from handoff_sync.report.figures import SECTION_TITLES, SECTIONS, Report
from handoff_sync.report.svg import PALETTE
from handoff_sync.report.text import num, pct, signed, subtitle, target_mark, weights


def render_html(report: Report) -> str:
    body = [f"<h1>Handoff report</h1><p class=\"sub\">{escape(subtitle(report))}</p>"]
    for section in SECTIONS:
        content = SECTION_RENDERERS[section](report)
        body.append(f'<section id="{section}" data-section="{section}">'
                    f"<h2>{escape(SECTION_TITLES[section])}</h2>{content}</section>")
    notes = "".join(f"<li>{escape(note)}</li>" for note in report.notes)
    body.append(f"<footer><ul>{notes}</ul></footer>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>Handoff report: {escape(report.pipeline)}</title>"
            f"<style>{kit.CSS}</style></head><body><main>{''.join(body)}</main></body></html>\n")


def _volume(report: Report) -> str:
    v = report.volume
    rows = v.rows[:20]
    chart = svg.hbars(f"Deals by {v.by}", [
        (r.group, [(r.partner, PALETTE["partner"]), (r.direct, PALETTE["direct"]),
                   (r.prm_only, PALETTE["prm_only"])], str(r.total)) for r in rows])
    kpis = (kit.kpi(str(v.total), "deals") + kit.kpi(str(v.partner), "partner (linked)")
            + kit.kpi(str(v.direct), "direct") + kit.kpi(str(v.prm_only), "registered, not in CRM"))
    table = kit.table((v.by, "partner", "direct", "PRM only", "total"),
                   [(r.group, r.partner, r.direct, r.prm_only, r.total) for r in v.rows]
                   + [("all", v.partner, v.direct, v.prm_only, v.total)])
    legend = kit.legend(("partner", "partner"), ("direct", "direct"),
                     ("prm_only", "registered, not in CRM"))
    return f'<div class="kpis">{kpis}</div>{legend}{chart}{table}'


def _completeness(report: Report) -> str:
    c = report.completeness
    kpis = (kit.kpi(str(c.deals), "deals needing a handoff")
            + kit.kpi(pct(c.mean_pct), f"mean completeness (target {c.target_pct:g}%)",
                   target_mark(c.mean_pct, c.target_pct))
            + kit.kpi(pct(c.median_pct), "median completeness")
            + kit.kpi(f"{c.at_target} ({pct(c.at_target_pct)})", f"at >= {c.target_pct:g}%"))
    histogram = svg.columns("Completeness score distribution",
                            [(b.label, b.count) for b in c.histogram])
    missing = kit.counts_chart("Most-missing fields", c.most_missing, PALETTE["breached"])
    return (f'<div class="kpis">{kpis}</div><h3>Completeness score distribution (deals per '
            f"10-point band)</h3>{histogram}<h3>Most-missing fields</h3>{missing}")


def _sla(report: Report) -> str:
    s = report.sla
    kpis = (kit.kpi(pct(s.within_pct), f"within SLA (target > {s.target_pct:g}%)",
                 target_mark(s.within_pct, s.target_pct))
            + kit.kpi(str(s.breached), "breached clocks")
            + kit.kpi(str(s.escalations), "escalations")
            + kit.kpi(f"{s.escalation_tasks_open}/{s.escalation_tasks}",
                   "escalation tasks open/total")
            + kit.kpi(num(s.first_touch_median_hours, " h"), "median time to first touch"))
    chart = svg.hbars("SLA by clock", [
        (k.label, [(k.within, PALETTE["within"]), (k.breached, PALETTE["breached"])],
         pct(k.within_pct)) for k in s.by_clock], label_width=300) if s.by_clock else ""
    table = kit.table(("figure", "value"), [
        ("clocks counted (within + breached)", s.counted), ("met", s.met),
        ("running (on track or at risk)", s.running), ("at risk", s.at_risk),
        ("breached", s.breached), ("cancelled (not counted)", s.cancelled),
        ("breach events", s.breach_events), ("escalations", s.escalations),
        ("first touches recorded", s.first_touched),
        ("still waiting for a first touch", s.first_touch_waiting),
        ("time to first touch, median", num(s.first_touch_median_hours, " h")),
        ("time to first touch, mean", num(s.first_touch_mean_hours, " h"))])
    legend = kit.legend(("within", "within SLA"), ("breached", "breached"))
    return f'<div class="kpis">{kpis}</div>{legend}{chart}{table}'


def _preservation(report: Report) -> str:
    p = report.preservation
    kpis = (kit.kpi(pct(p.rate_pct), f"deal preservation (target {p.target_pct:g}%)",
                 target_mark(p.rate_pct, p.target_pct))
            + kit.kpi(pct(p.direct_rate_pct), "direct win rate")
            + kit.kpi(signed(p.cycle_impact_pct, "%"),
                   f"cycle-length impact (target <= +{p.cycle_target_pct:g}%)",
                   target_mark(p.cycle_impact_pct, p.cycle_target_pct, below=True)))
    rates = svg.hbars("Closed won / closed", [
        ("partner", [(p.rate_pct or 0, PALETTE["partner"])], pct(p.rate_pct)),
        ("direct", [(p.direct_rate_pct or 0, PALETTE["direct"])], pct(p.direct_rate_pct))],
        scale=100, target=p.target_pct, label_width=120)
    cycles = svg.hbars("Median cycle length (days, closed won)", [
        ("partner", [(p.partner_cycle_days or 0, PALETTE["partner"])],
         num(p.partner_cycle_days, " d")),
        ("direct", [(p.direct_cycle_days or 0, PALETTE["direct"])],
         num(p.direct_cycle_days, " d"))], label_width=120)
    table = kit.table(("figure", "partner", "direct"), [
        ("closed", p.partner_closed, p.direct_closed), ("closed won", p.partner_won,
                                                        p.direct_won),
        ("won / closed", pct(p.rate_pct), pct(p.direct_rate_pct)),
        ("won deals with a cycle length", p.partner_cycle_deals, p.direct_cycle_deals),
        ("median cycle", num(p.partner_cycle_days, " d"), num(p.direct_cycle_days, " d"))])
    return (f'<div class="kpis">{kpis}</div><div class="grid"><div><h3>Closed won / closed'
            f"</h3>{rates}</div><div><h3>Median cycle length</h3>{cycles}</div></div>{table}")


def _acceptance(report: Report) -> str:
    a = report.acceptance
    mark = "" if a.alert_pct is None else target_mark(a.rejection_rate_pct, a.alert_pct,
                                                       below=True)
    kpis = (kit.kpi(f"{a.accepted}/{a.decided}", "handoffs accepted / decided")
            + kit.kpi(pct(a.rejection_rate_pct), "handoffs rejected"
                   + (f" (investigate above {a.alert_pct:g}%)" if a.alert_pct is not None
                      else ""), mark)
            + kit.kpi(str(a.resubmitted), "re-submissions"))
    alerts = "".join(f'<p class="alert">{escape(line)}</p>' for line in a.alerts)
    table = kit.table(("partner", "decided (n)", "rejected", "rate", ""),
                   [(x.partner, x.decided, x.rejected, pct(x.rate_pct),
                     "alert" if x.alert else "") for x in a.partners])
    reasons = kit.counts_chart("Rejection reasons", a.top_reasons, PALETTE["prm_only"])
    return (f'<div class="kpis">{kpis}</div>{alerts}<h3>Rejection rate by partner</h3>{table}'
            f"<h3>Rejection reasons</h3>{reasons}")


def _reviews(report: Report) -> str:
    r = report.reviews
    kpis = kit.kpi(str(r.open), "open review items") + kit.kpi(str(r.conflicts), "conflicts")
    return (f'<div class="kpis">{kpis}</div><div class="grid"><div><h3>Open items by kind'
            f"</h3>{kit.counts_chart('Open review items', r.by_kind, PALETTE['prm_only'])}</div>"
            f"<div><h3>Conflicts by field</h3>"
            f"{kit.counts_chart('Conflicts', r.conflicts_by_field, PALETTE['direct'])}</div></div>")


def _scorecard(report: Report) -> str:
    sc = report.scorecard
    chart = svg.hbars("Readiness by partner", [
        (x.partner, [(x.readiness or 0, PALETTE["partner"])], num(x.readiness))
        for x in sc.partners], scale=100, label_width=260)
    table = kit.table(("partner", "deals", "handoffs", "completeness", "SLA", "preservation",
                    "readiness", "completeness trend"),
                   [(x.partner, x.deals, x.handoffs, pct(x.completeness_pct), pct(x.sla_pct),
                     pct(x.preservation_pct), num(x.readiness),
                     f"{num(x.trend_start_pct)} \u2192 {num(x.trend_now_pct)} "
                     f"({signed(x.trend_delta)})") for x in sc.partners])
    trend = svg.line("Mean completeness of handoff deals over the period",
                     [(t.at, t.mean_pct) for t in sc.trend],
                     target=report.completeness.target_pct)
    return (f"<p>{escape(weights(report))}</p>{chart}{table}"
            f"<h3>Completeness trend (mean of deals needing a handoff)</h3>{trend}")


# One renderer per section of figures.SECTIONS; a section's renderer may live in a module
# of its own (html_<section>.py) built from html_kit.
SECTION_RENDERERS: dict[str, Callable[[Report], str]] = {
    "volume": _volume, "completeness": _completeness, "sla": _sla,
    "acceptance": _acceptance, "preservation": _preservation, "reviews": _reviews,
    "scorecard": _scorecard, "readiness": html_readiness.render,
}
