"""The report as one self-contained HTML file: inline CSS, static inline SVG charts.

No script and no external resource: the file opens offline, in a mail attachment or a
locked-down browser, and renders the same everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from handoff_sync.report import svg
from handoff_sync.report.figures import SECTION_TITLES, Count, Report
from handoff_sync.report.svg import PALETTE
from handoff_sync.report.text import num, pct, signed, subtitle, target_mark, weights

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
  background:#f7fafc;color:#1a202c}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:26px;margin:0 0 4px}
.sub{color:#4a5568;margin:0 0 20px}
section{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:16px 20px;
  margin:0 0 18px}
h2{font-size:19px;margin:0 0 12px}
h3{font-size:14px;margin:14px 0 6px;color:#4a5568}
table{border-collapse:collapse;font-size:13px;margin:4px 0 10px}
th,td{padding:4px 10px;border-bottom:1px solid #edf2f7;text-align:right}
th:first-child,td:first-child{text-align:left}
th{background:#edf2f7}
.kpis{display:flex;flex-wrap:wrap;gap:12px;margin:0 0 10px}
.kpi{border:1px solid #e2e8f0;border-radius:6px;padding:8px 12px;min-width:150px}
.kpi b{display:block;font-size:22px}
.kpi span{font-size:12px;color:#4a5568}
.ok{color:#2f855a}.bad{color:#c53030}.alert{color:#c53030;font-weight:600}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;
  vertical-align:middle}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px}
svg{max-width:100%;height:auto}
footer{font-size:12px;color:#4a5568}
"""


def render_html(report: Report) -> str:
    body = [f"<h1>Handoff report</h1><p class=\"sub\">{escape(subtitle(report))}</p>"]
    for section, content in (("volume", _volume(report)),
                             ("completeness", _completeness(report)),
                             ("sla", _sla(report)), ("acceptance", _acceptance(report)),
                             ("preservation", _preservation(report)),
                             ("reviews", _reviews(report)), ("scorecard", _scorecard(report))):
        body.append(f'<section id="{section}" data-section="{section}">'
                    f"<h2>{escape(SECTION_TITLES[section])}</h2>{content}</section>")
    notes = "".join(f"<li>{escape(note)}</li>" for note in report.notes)
    body.append(f"<footer><ul>{notes}</ul></footer>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>Handoff report: {escape(report.pipeline)}</title>"
            f"<style>{CSS}</style></head><body><main>{''.join(body)}</main></body></html>\n")


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    lines = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>"
                    for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{lines}</tbody></table>"


def _kpi(value: str, label: str, mark: str = "") -> str:
    cls = {"ok": ' class="ok"', "below target": ' class="bad"',
           "above target": ' class="bad"'}.get(mark, "")
    extra = f" ({escape(mark)})" if mark else ""
    return f'<div class="kpi"><b{cls}>{escape(value)}</b><span>{escape(label)}{extra}</span></div>'


def _legend(*names: tuple[str, str]) -> str:
    return '<p class="legend">' + "".join(
        f'<span style="background:{PALETTE[key]}"></span>{escape(label)}'
        for key, label in names) + "</p>"


def _counts_chart(title: str, counts: Sequence[Count], colour: str) -> str:
    if not counts:
        return "<p>none</p>"
    return svg.hbars(title, [(c.label, [(c.count, colour)], str(c.count)) for c in counts],
                     label_width=340)


def _volume(report: Report) -> str:
    v = report.volume
    rows = v.rows[:20]
    chart = svg.hbars(f"Deals by {v.by}", [
        (r.group, [(r.partner, PALETTE["partner"]), (r.direct, PALETTE["direct"]),
                   (r.prm_only, PALETTE["prm_only"])], str(r.total)) for r in rows])
    kpis = (_kpi(str(v.total), "deals") + _kpi(str(v.partner), "partner (linked)")
            + _kpi(str(v.direct), "direct") + _kpi(str(v.prm_only), "registered, not in CRM"))
    table = _table((v.by, "partner", "direct", "PRM only", "total"),
                   [(r.group, r.partner, r.direct, r.prm_only, r.total) for r in v.rows]
                   + [("all", v.partner, v.direct, v.prm_only, v.total)])
    legend = _legend(("partner", "partner"), ("direct", "direct"),
                     ("prm_only", "registered, not in CRM"))
    return f'<div class="kpis">{kpis}</div>{legend}{chart}{table}'


def _completeness(report: Report) -> str:
    c = report.completeness
    kpis = (_kpi(str(c.deals), "deals needing a handoff")
            + _kpi(pct(c.mean_pct), f"mean completeness (target {c.target_pct:g}%)",
                   target_mark(c.mean_pct, c.target_pct))
            + _kpi(pct(c.median_pct), "median completeness")
            + _kpi(f"{c.at_target} ({pct(c.at_target_pct)})", f"at >= {c.target_pct:g}%"))
    histogram = svg.columns("Completeness score distribution",
                            [(b.label, b.count) for b in c.histogram])
    missing = _counts_chart("Most-missing fields", c.most_missing, PALETTE["breached"])
    return (f'<div class="kpis">{kpis}</div><h3>Completeness score distribution (deals per '
            f"10-point band)</h3>{histogram}<h3>Most-missing fields</h3>{missing}")


def _sla(report: Report) -> str:
    s = report.sla
    kpis = (_kpi(pct(s.within_pct), f"within SLA (target > {s.target_pct:g}%)",
                 target_mark(s.within_pct, s.target_pct))
            + _kpi(str(s.breached), "breached clocks")
            + _kpi(str(s.escalations), "escalations")
            + _kpi(f"{s.escalation_tasks_open}/{s.escalation_tasks}",
                   "escalation tasks open/total")
            + _kpi(num(s.first_touch_median_hours, " h"), "median time to first touch"))
    chart = svg.hbars("SLA by clock", [
        (k.label, [(k.within, PALETTE["within"]), (k.breached, PALETTE["breached"])],
         pct(k.within_pct)) for k in s.by_clock], label_width=300) if s.by_clock else ""
    table = _table(("figure", "value"), [
        ("clocks counted (within + breached)", s.counted), ("met", s.met),
        ("running (on track or at risk)", s.running), ("at risk", s.at_risk),
        ("breached", s.breached), ("cancelled (not counted)", s.cancelled),
        ("breach events", s.breach_events), ("escalations", s.escalations),
        ("first touches recorded", s.first_touched),
        ("still waiting for a first touch", s.first_touch_waiting),
        ("time to first touch, median", num(s.first_touch_median_hours, " h")),
        ("time to first touch, mean", num(s.first_touch_mean_hours, " h"))])
    legend = _legend(("within", "within SLA"), ("breached", "breached"))
    return f'<div class="kpis">{kpis}</div>{legend}{chart}{table}'


def _preservation(report: Report) -> str:
    p = report.preservation
    kpis = (_kpi(pct(p.rate_pct), f"deal preservation (target {p.target_pct:g}%)",
                 target_mark(p.rate_pct, p.target_pct))
            + _kpi(pct(p.direct_rate_pct), "direct win rate")
            + _kpi(signed(p.cycle_impact_pct, "%"),
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
    table = _table(("figure", "partner", "direct"), [
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
    kpis = (_kpi(f"{a.accepted}/{a.decided}", "handoffs accepted / decided")
            + _kpi(pct(a.rejection_rate_pct), "handoffs rejected"
                   + (f" (investigate above {a.alert_pct:g}%)" if a.alert_pct is not None
                      else ""), mark)
            + _kpi(str(a.resubmitted), "re-submissions"))
    alerts = "".join(f'<p class="alert">{escape(line)}</p>' for line in a.alerts)
    table = _table(("partner", "decided (n)", "rejected", "rate", ""),
                   [(x.partner, x.decided, x.rejected, pct(x.rate_pct),
                     "alert" if x.alert else "") for x in a.partners])
    reasons = _counts_chart("Rejection reasons", a.top_reasons, PALETTE["prm_only"])
    return (f'<div class="kpis">{kpis}</div>{alerts}<h3>Rejection rate by partner</h3>{table}'
            f"<h3>Rejection reasons</h3>{reasons}")


def _reviews(report: Report) -> str:
    r = report.reviews
    kpis = _kpi(str(r.open), "open review items") + _kpi(str(r.conflicts), "conflicts")
    return (f'<div class="kpis">{kpis}</div><div class="grid"><div><h3>Open items by kind'
            f"</h3>{_counts_chart('Open review items', r.by_kind, PALETTE['prm_only'])}</div>"
            f"<div><h3>Conflicts by field</h3>"
            f"{_counts_chart('Conflicts', r.conflicts_by_field, PALETTE['direct'])}</div></div>")


def _scorecard(report: Report) -> str:
    sc = report.scorecard
    chart = svg.hbars("Readiness by partner", [
        (x.partner, [(x.readiness or 0, PALETTE["partner"])], num(x.readiness))
        for x in sc.partners], scale=100, label_width=260)
    table = _table(("partner", "deals", "handoffs", "completeness", "SLA", "preservation",
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
