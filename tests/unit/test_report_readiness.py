"""The report's "Partner readiness" section on hand-built facts: scores and breakdown from
the partner accounts and their handoff history, dimensions under threshold, the open
training tasks, and the section in every format with its definitions."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from handoff_sync.mapping.policy.measures import Readiness
from handoff_sync.model import PartnerAccount
from handoff_sync.report import render
from handoff_sync.report.facts import (
    DIRECT,
    PARTNER,
    PRM_ONLY,
    ClockFact,
    DealFact,
    DecisionFact,
    PolicyFacts,
    ReportData,
    TaskFact,
)
from handoff_sync.report.figures import compute

NOW = datetime(2026, 12, 10, 12, tzinfo=UTC)
POLICY = Readiness.model_validate({
    "threshold": 60,
    "dimensions": [
        {"id": "technical_conversations", "label": "Runs technical conversations",
         "weight": 40, "source": "partner.technical_conversations",
         "scale": {"basic": 40, "expert": 100}},
        {"id": "technical_depth", "label": "Technical depth beyond one person",
         "weight": 30, "source": "partner.certified_engineers", "full_at": 3},
        {"id": "acceptance", "label": "Handoffs accepted", "weight": 30,
         "source": "history.acceptance", "min_sample": 2},
    ],
    "training_task": {"subject": "Train {partner_name}", "due": {"days": 14}},
}, strict=False)
PARTNERS = (
    PartnerAccount("001A", "Acme", "cm@vendor.example",
                   {"partner.technical_conversations": "basic",
                    "partner.certified_engineers": 3}),
    PartnerAccount("001B", "Beta", None, {"partner.technical_conversations": "expert",
                                         "partner.certified_engineers": None}),
    PartnerAccount("001C", "Gamma", "cm@vendor.example", {}),
)
DEALS = (
    DealFact("prm:1", PARTNER, partner="Acme", required=True, completeness_pct=80),
    DealFact("prm:2", PARTNER, partner="acme", required=True, completeness_pct=60),
    DealFact("prm:3", PRM_ONLY, partner="Beta", required=True, completeness_pct=20),
    DealFact("crm:4", DIRECT, required=True, completeness_pct=10),
)
DECISIONS = (  # Acme: prm:1 accepted; prm:2 rejected, re-submitted, rejected again
    DecisionFact("prm:1", "partner_to_direct", "accepted", NOW, partner="Acme"),
    DecisionFact("prm:2", "partner_to_direct", "rejected", NOW, partner="Acme"),
    DecisionFact("prm:2", "partner_to_direct", "resubmitted", NOW, partner="Acme"),
    DecisionFact("prm:2", "partner_to_direct", "rejected", NOW, partner="Acme"),
    DecisionFact("prm:3", "partner_to_direct", "accepted", NOW, partner="Beta"),
)
TASKS = (
    TaskFact("partner:001A", "readiness:technical_conversations", "open", "001A",
             "cm@vendor.example", datetime(2026, 12, 16, tzinfo=UTC), "partner"),
    TaskFact("partner:001A", "readiness:acceptance", "done", "001A", "cm@vendor.example",
             None, "partner"),
    TaskFact("prm:1", "complete_partner_facts", "open", "1", "rep@acme.example", None),
)
DATA = ReportData("p", deals=DEALS, decisions=DECISIONS, tasks=TASKS,
                  clocks=(ClockFact("prm:1", "partner_to_direct", "first_touch", NOW, NOW,
                                    "met", NOW),),
                  policy=PolicyFacts(readiness=POLICY, min_sample=5), partners=PARTNERS)


def test_each_partner_is_scored_with_its_breakdown_lowest_first() -> None:
    section = compute(DATA, now=NOW).readiness
    assert section.enabled
    # Acme: basic 40 (w40), 3 engineers 100 (w30), acceptance 1 of 2 = 50 (w30) -> 61.
    # Beta: expert 100 (w40); engineers blank; 1 decided handoff < 2: re-weighted -> 100.
    # Gamma: nothing filled, no history -> no score, last.
    assert [(p.partner, p.score, p.weight_with_data) for p in section.partners] == [
        ("Acme", 61.0, 100), ("Beta", 100.0, 40), ("Gamma", None, 0)]
    acme = {b.dimension: b for b in section.breakdown if b.partner == "Acme"}
    assert acme["Runs technical conversations"].status == "under threshold"
    assert acme["Handoffs accepted"].value == "50% of 2 decided handoffs"
    assert acme["Handoffs accepted"].status == "under threshold"
    beta = {b.dimension: b for b in section.breakdown if b.partner == "Beta"}
    assert beta["Technical depth beyond one person"].status == (
        "no data: certified_engineers is not filled on the partner account")
    assert beta["Handoffs accepted"].status == (
        "no data: 1 decided handoff, fewer than 2: not enough history")
    assert beta["Runs technical conversations"].applied_weight == 100.0
    assert (section.partners_scored.value, section.partners_scored.n) == (2, 3)
    assert (section.partners_under.value, section.under.value) == (1, 2)
    assert "never scored 0" in section.partners_scored.definition
    assert section.partners[0].under == "Runs technical conversations; Handoffs accepted"


def test_open_training_tasks_are_listed_with_their_assignee_and_due_date() -> None:
    section = compute(DATA, now=NOW).readiness
    assert section.open_training_tasks.value == 1
    assert "closes one once its dimension is back" in section.open_training_tasks.definition
    assert [(t.partner, t.dimension, t.assignee, t.due_at) for t in
            section.training_tasks] == [
        ("Acme", "Runs technical conversations", "cm@vendor.example",
         datetime(2026, 12, 16, tzinfo=UTC))]
    assert [p.open_training_tasks for p in section.partners] == [1, 0, 0]


def test_the_section_says_why_it_is_empty() -> None:
    bare = compute(ReportData("p", deals=DEALS), now=NOW).readiness
    assert not bare.enabled and "add measures.readiness to handoff.yaml" in bare.note
    unread = compute(ReportData("p", deals=DEALS, policy=PolicyFacts(readiness=POLICY)),
                     now=NOW).readiness
    assert unread.enabled and unread.partners == ()
    assert "No partner accounts read" in unread.note
    assert len(unread.dimensions) == 3  # the policy is still shown


def test_every_format_shows_the_scores_the_breakdown_and_the_definitions() -> None:
    report = compute(DATA, now=NOW)
    html = render(report, "html")
    section = html[html.index('<section id="readiness"'):]
    section = section[:section.index("</section>")]
    for text in ("Partner readiness", "Acme", "61", "under threshold",
                 '<td class="bad">40 (basic), under 60</td>',
                 '<td class="bad">50 (50% of 2 decided handoffs), under 60</td>',
                 "<td>n/a (n=1)</td>", "<td>n/a (blank)</td>",
                 "no data: 1 decided handoff, fewer than 2: not enough history",
                 "re-weighted, never scored 0",
                 "partner.certified_engineers on the partner account / 3 x 100",
                 "cm@vendor.example", "2026-12-16"):
        assert text in section, text
    assert "NaN" not in html
    table = render(report, "table")
    assert "Partner readiness (readiness)" in table
    assert "readiness by partner (lowest first)" in table and "never scored 0" in table
    assert "under 60" in table and "Runs technical conversations" in table
    data = json.loads(render(report, "json"))["readiness"]
    assert data["partners"][0] == {
        "partner": "Acme", "score": 61.0, "weight_with_data": 100.0,
        "under": "Runs technical conversations; Handoffs accepted",
        "open_training_tasks": 1, "channel_manager": "cm@vendor.example"}
    assert "Weighted mean" in data["partners_scored"]["definition"]
    assert data["partner_columns"][1]["definition"].startswith("Weighted mean")
    assert data["dimensions"][2]["definition"].startswith(
        "the partner's handoffs whose current decision is accepted")
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    cells = {(r["group"], r["metric"]): r["value"] for r in rows
             if r["section"] == "readiness"}
    assert cells[("Acme / acceptance", "breakdown.status")] == "under threshold"
    assert cells[("", "open_training_tasks.value")] == "1"
    assert cells[("", "open_training_tasks.definition")].startswith("Training tasks open")
    assert cells[("applied_weight", "breakdown_columns.definition")].startswith("Its share")
    assert cells[("technical_depth", "dimensions.definition")].endswith("capped at 100")


def test_each_column_is_defined_where_its_table_is_shown() -> None:
    import html as html_lib

    from handoff_sync.report.render_table import render_table

    report = compute(DATA, now=NOW)
    section = report.readiness
    wide = io.StringIO()
    render_table(report, wide, width=1000)
    page = html_lib.unescape(render(report, "html"))
    for column in (*section.partner_columns, *section.dimension_columns,
                   *section.training_columns):
        assert column.definition in page and column.definition in wide.getvalue(), column
    for column in section.breakdown_columns:  # the full breakdown: HTML, JSON and CSV
        assert column.definition in page, column
    for figure in (section.partners_scored, section.partners_under, section.under,
                   section.open_training_tasks):
        line = next(line for line in wide.getvalue().splitlines()
                    if line.startswith(figure.label + " "))
        assert figure.definition in line
