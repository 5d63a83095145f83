"""The HTML report's charts read on their own: target lines carry their label, a chart
showing the top of a longer list says so, and labels are not cut where they fit above
their bars."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

from handoff_sync.report import render, svg
from handoff_sync.report.facts import PARTNER, DealFact
from handoff_sync.report.figures import compute
from tests.unit.test_report_figures import DATA, NOW


def texts(chart: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", chart)


def test_a_target_line_is_dashed_and_labelled() -> None:
    chart = svg.hbars("Closed won / closed", [("partner", [(60, "#000")], "60%")],
                      scale=100, target=85, target_label="target 85%")
    assert 'stroke-dasharray="5 3"' in chart and "target 85%" in texts(chart)
    line = svg.line("Trend", [(datetime(2026, 1, 1, tzinfo=UTC), 50.0)], target=90)
    assert "target 90" in texts(line)
    histogram = svg.columns("Bands", [("0-9", 1), ("90-100", 2)], target_at=1.0,
                            target_label="target 90%")
    assert "target 90%" in texts(histogram)


def test_a_capped_chart_says_how_many_it_leaves_out() -> None:
    rows = [(f"partner {i}", [(i, "#000")], str(i)) for i in range(20)]
    assert "top 20 of 57 partners shown" in texts(svg.hbars("Deals", rows, total=57,
                                                             noun="partners"))
    assert not any("top" in t for t in texts(svg.hbars("Deals", rows, total=20)))


def test_the_volume_chart_of_57_partners_says_top_20_of_57_and_the_table_lists_all() -> None:
    deals = tuple(DealFact(f"prm:{i}", PARTNER, partner=f"Partner {i:02d}")
                  for i in range(57))
    html = render(compute(replace(DATA, deals=deals), now=NOW), "html")
    volume = html[html.index('id="volume"'):html.index('id="completeness"')]
    assert "Deals by partner (top 20 of 57; all in the table)" in volume
    assert all(f"<td class=\"text\">Partner {i:02d}</td>" in volume for i in range(57))


def test_long_labels_stand_above_their_bars_whole() -> None:
    label = "Stage 1 incomplete: Stakeholder relationships documented (who decides)"
    chart = svg.hbars("Most-missing", [(label, [(3, "#000")], "3"), ("Budget", [(1, "#000")],
                                                                      "1")], width=svg.HALF)
    assert label in texts(chart) and "Budget" in texts(chart)
    short = svg.hbars("Short", [("Budget", [(1, "#000")], "1")], width=svg.HALF)
    assert re.search(r'text-anchor="end"[^>]*>Budget<', short)  # beside its bar: it fits


def test_the_most_missing_facts_say_how_many_there_are_in_all() -> None:
    """Ten bars of twelve missing facts: the chart, the table and JSON say 10 of 12."""
    import json

    facts = tuple(f"Fact {i:02d}" for i in range(12))
    deals = tuple(DealFact(f"prm:{i}", PARTNER, required=True, completeness_pct=10,
                           missing=facts[:i + 1]) for i in range(12))
    report = compute(replace(DATA, deals=deals), now=NOW)
    assert (len(report.completeness.most_missing), report.completeness.most_missing_of) == (
        10, 12)
    assert "top 10 of 12 missing facts shown" in render(report, "html")
    assert "most-missing fields (top 10 of 12)" in render(report, "table")
    assert json.loads(render(report, "json"))["completeness"]["most_missing_of"] == 12
