"""The report as one self-contained HTML file: inline CSS, static inline SVG charts.

No script and no external resource: the file opens offline, in a mail attachment or a
locked-down browser, and renders the same everywhere. Each section shows its headline
figures as tiles (value, n, target and verdict), then every figure with its definition,
then its group tables with what each column means.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from handoff_sync.report import html_kit as kit
from handoff_sync.report import html_maturity, html_readiness, svg
from handoff_sync.report.figure import figures_of
from handoff_sync.report.figures import SECTION_TITLES, SECTIONS, Report
from handoff_sync.report.html_breakdown import breakdown_html
from handoff_sync.report.html_funnel import render_funnel
from handoff_sync.report.html_quality import quality_html
from handoff_sync.report.svg import PALETTE
from handoff_sync.report.text import num, pct, shown, signed, subtitle

CHART_ROWS = 20


def render_html(report: Report) -> str:
    body = [f"<h1>Handoff report</h1><p class=\"sub\">{escape(subtitle(report))}</p>"]
    body += [section_html(report, section) for section in SECTIONS]
    body.append(notes_html(report))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>Handoff report: {escape(report.pipeline)}</title>"
            f"<style>{kit.CSS}</style></head><body><main>{''.join(body)}</main></body></html>\n")


def section_html(report: Report, section: str) -> str:
    """One section of SECTIONS, titled, as the file shows it (the console shows the same)."""
    content = SECTION_RENDERERS[section](report)
    return (f'<section id="{section}" data-section="{section}">'
            f"<h2>{escape(SECTION_TITLES[section])}</h2>{content}</section>")


def notes_html(report: Report) -> str:
    """The footnotes: the period, small samples, what the store could not give."""
    notes = "".join(f"<li>{escape(note)}</li>" for note in report.notes)
    return f"<footer><ul>{notes}</ul></footer>"


def _volume(report: Report) -> str:
    v = report.volume
    rows = v.rows[:CHART_ROWS]
    title = f"Deals by {v.columns[0].label}{shown(len(rows), len(v.rows), '; all in the table')}"
    chart = svg.hbars(title, [
        (r.group, [(r.partner, PALETTE["partner"]), (r.direct, PALETTE["direct"]),
                   (r.prm_only, PALETTE["prm_only"])], str(r.total)) for r in rows],
        width=svg.MAIN)
    table = kit.table([c.label for c in v.columns],
                      [(r.group, r.partner, r.direct, r.prm_only, r.total) for r in v.rows]
                      + [("all", v.partner.value, v.direct.value, v.prm_only.value,
                          v.total.value)])
    legend = kit.legend(("partner", "partner"), ("direct", "direct"),
                        ("prm_only", "registered, not in CRM"))
    return (kit.kpis(figures_of(v), report.min_sample)
            + kit.figure_table(figures_of(v), report.min_sample)
            + kit.cols(f"<h3>{escape(title)}</h3>{legend}{chart}",
                       f"<h3>Deals by {escape(v.columns[0].label)}</h3>{table}"
                       f"{kit.definitions(v.columns)}"))


def _completeness(report: Report) -> str:
    c, least = report.completeness, report.min_sample
    target = c.mean.target
    histogram = svg.columns("Completeness score distribution",
                            [(b.label, b.count) for b in c.histogram], width=svg.HALF,
                            target_at=None if target is None else target / 10,
                            target_label=f"target {target:g}%")
    missing = kit.counts_chart("Most-missing fields", c.most_missing, PALETTE["breached"],
                               total=c.most_missing_of, noun="missing facts")
    return (kit.kpis([c.mean, c.median, c.at_target], least)
            + kit.figure_table(figures_of(c), least)
            + kit.grid(f"<h3>Completeness score distribution (deals per 10-point band)</h3>"
                       f"{histogram}{kit.note(c.histogram_definition)}",
                       f"<h3>Most-missing fields</h3>{missing}"
                       f"{kit.note(c.most_missing_definition)}"))


def _sla(report: Report) -> str:
    s, least = report.sla, report.min_sample
    target = report.sla.within_sla.target
    chart = svg.hbars("Within SLA by clock (finished clocks)", [
        (k.label, [(k.within.value or 0, PALETTE["within"])],
         f"{pct(k.within.value)} ({k.met}/{k.decided})") for k in s.by_clock],
        scale=100, target=target, target_label=f"target {target:g}%"
        if target is not None else None) if s.by_clock else ""
    table = kit.table([c.label for c in s.by_clock_columns],
                      [(k.label, k.decided, k.met, k.breached, kit.cell(k.within, least),
                        k.on_track, k.at_risk, k.past_due, k.cancelled) for k in s.by_clock],
                      wide=True)
    target_note = "" if target is None else \
        f" The dashed line is the target ({target:g}%)."
    touches = "".join(
        f"<h3>Time to first touch: {escape(t.label)}</h3>"
        + kit.kpis([t.median, t.mean, t.in_time], least)
        + kit.figure_table(figures_of(t), least) for t in s.first_touch)
    return (kit.kpis([s.within_sla, s.breached, s.on_track, s.at_risk], least)
            + kit.figure_table(figures_of(s), least) + touches
            + f"<h3>Within SLA by clock</h3>{chart}"
              f"{kit.note('Share of each clock met out of those finished.' + target_note)}"
              f"{table}{kit.definitions(s.by_clock_columns)}")


def _preservation(report: Report) -> str:
    p, least = report.preservation, report.min_sample
    rates = svg.hbars("Closed won / closed", [
        ("partner", [(p.preservation.value or 0, PALETTE["partner"])],
         f"{pct(p.preservation.value)} (n={p.preservation.n})"),
        ("direct", [(p.direct_win_rate.value or 0, PALETTE["direct"])],
         f"{pct(p.direct_win_rate.value)} (n={p.direct_win_rate.n})")],
        scale=100, target=p.preservation.target, width=svg.HALF,
        target_label=None if p.preservation.target is None
        else f"target {p.preservation.target:g}%")
    cycles = svg.hbars("Median cycle length (days, closed won)", [
        ("partner", [(p.partner_cycle.value or 0, PALETTE["partner"])],
         f"{num(p.partner_cycle.value, ' d')} (n={p.partner_cycle.n})"),
        ("direct", [(p.direct_cycle.value or 0, PALETTE["direct"])],
         f"{num(p.direct_cycle.value, ' d')} (n={p.direct_cycle.n})")], width=svg.HALF)
    return (kit.kpis([p.preservation, p.direct_win_rate, p.cycle_impact], least)
            + kit.figure_table(figures_of(p), least)
            + kit.grid(f"<h3>Closed won / closed</h3>{rates}"
                       f"{kit.note('Dashed line: the preservation target.')}",
                       f"<h3>Median cycle length</h3>{cycles}"))


def _acceptance(report: Report) -> str:
    a, least = report.acceptance, report.min_sample
    alerts = "".join(f'<p class="alert">{escape(line)}</p>' for line in a.alerts)
    table = kit.table([c.label for c in a.partner_columns],
                      [(x.partner, x.decided, x.rejected, kit.cell(x.rate, least))
                       for x in a.partners])
    reasons = kit.counts_chart("Rejection reasons", a.top_reasons, PALETTE["prm_only"],
                               total=a.top_reasons_of, noun="reasons")
    return (kit.kpis([a.decided, a.rejection_rate, a.resubmitted], least)
            + kit.figure_table(figures_of(a), least) + alerts
            + kit.grid(f"<h3>Rejection rate by partner</h3>{table}"
                       f"{kit.definitions(a.partner_columns)}",
                       f"<h3>Rejection reasons</h3>{reasons}"
                       f"{kit.note(a.top_reasons_definition)}"))


def _reviews(report: Report) -> str:
    r = report.reviews
    return (kit.figure_table(figures_of(r), report.min_sample)
            + '<div class="grid"><div><h3>Open items by kind</h3>'
              f"{kit.counts_chart('Open review items', r.by_kind, PALETTE['prm_only'])}"
              f"{kit.note(r.by_kind_definition)}</div><div><h3>Conflicts by field</h3>"
              f"{kit.counts_chart('Conflicts', r.conflicts_by_field, PALETTE['direct'])}"
              f"{kit.note(r.conflicts_by_field_definition)}</div></div>")


def _scorecard(report: Report) -> str:
    sc, least = report.scorecard, report.min_sample
    ranked = [x for x in sc.partners if x.rank is not None]
    chart = svg.hbars("Handoff outcome score, ranked partners", [
        (f"{x.rank}. {x.partner}", [(x.outcome_score or 0, PALETTE["partner"])],
         f"{num(x.outcome_score)} (n={x.handoffs})") for x in ranked],
        scale=100) if ranked else "<p>No partner has enough handoffs to rank.</p>"
    table = kit.table([c.label for c in sc.partner_columns], [
        (x.partner, x.rank or "", x.deals, x.handoffs,
         kit.cell(x.completeness, least), kit.cell(x.sla, least),
         kit.cell(x.preservation, least), num(x.outcome_score),
         ", ".join(x.score_parts) or "-",
         f"{num(x.trend_start_pct)} \u2192 {num(x.trend_now_pct)} ({signed(x.trend_delta)})")
        for x in sc.partners], wide=True)
    target = report.completeness.mean.target
    trend = svg.line("Mean completeness of handoff deals over the period",
                     [(t.at, t.mean_pct) for t in sc.trend], target=target,
                     target_label=None if target is None else f"target {target:g}%")
    return (kit.figure_table(figures_of(sc), least)
            + f"<h3>Handoff outcome score (ranked: at least {least} handoffs)</h3>{chart}"
              f"{table}{kit.definitions(sc.partner_columns)}"
              f"<h3>Completeness trend (mean of deals needing a handoff)</h3>{trend}"
              f"{kit.note(sc.trend_definition)}")


# One renderer per section of figures.SECTIONS; a section's renderer may live in a module
# of its own (html_<section>.py) built from html_kit.
SECTION_RENDERERS: dict[str, Callable[[Report], str]] = {
    "volume": _volume, "breakdown": breakdown_html, "completeness": _completeness,
    "sla": _sla, "acceptance": _acceptance, "preservation": _preservation,
    "quality": quality_html, "funnel": render_funnel, "reviews": _reviews,
    "scorecard": _scorecard, "readiness": html_readiness.render,
    "maturity": html_maturity.render,
}
