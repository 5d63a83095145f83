"""Narrowing a report to partners, segments, regions and handoff types (report.selection),
on the hand-worked data set of test_report_figures: which deals stay, that the rows about
a deal follow it, and that a narrowed report says so in every format."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

import pytest

from handoff_sync.report import render
from handoff_sync.report.facts import DecisionFact, SlaEventFact
from handoff_sync.report.figures import compute
from handoff_sync.report.html_kit import CSS, scoped_css
from handoff_sync.report.selection import FILTERS, Selection, options, select, unknown
from handoff_sync.report.text import subtitle
from tests.unit.test_report_figures import DATA, NOW, at
from tests.unit.test_report_readiness import DATA as READINESS


def keys(selection: Selection) -> list[str]:
    return [deal.key for deal in select(DATA, selection).deals]


def test_a_selection_keeps_the_deals_of_the_groups_named() -> None:
    assert keys(Selection.of({"partner": ["A"]})) == ["prm:1", "prm:2"]
    # The groups the report's tables show: direct deals are the partner "(direct)".
    assert keys(Selection.of({"partner": ["(direct)"]})) == ["crm:6", "crm:7", "crm:8"]
    assert keys(Selection.of({"segment": ["Enterprise"]})) == ["prm:1", "prm:2", "prm:4"]
    assert keys(Selection.of({"region": ["EMEA", "APAC"]})) == [
        "prm:1", "prm:2", "prm:3", "prm:4", "prm:5"]
    assert keys(Selection.of({"handoff_type": ["closed_won_to_cs"]})) == ["prm:2", "prm:4"]
    # Several dimensions: all of them hold.
    assert keys(Selection.of({"segment": ["Enterprise"], "partner": ["B"]})) == ["prm:4"]
    # Nothing chosen (blank values are nothing): the data as it is.
    assert select(DATA, Selection.of({"partner": ["", " "]})) is DATA


def test_the_rows_about_a_deal_follow_it() -> None:
    mine = select(DATA, Selection.of({"partner": ["A"]}))
    assert {c.deal for c in mine.clocks} == {"prm:1", "prm:2"}
    assert {h.deal for h in mine.history} == {"prm:1", "prm:2"}
    assert [(t.deal, t.kind) for t in mine.tasks] == [("prm:1", "complete_partner_facts")]
    assert [r.deal for r in mine.reviews] == ["prm:1", "prm:2"]
    assert [c.deal for c in mine.conflicts] == ["prm:1", "prm:2"]
    assert mine.events == ()  # the SLA events are prm:4's and prm:5's


def test_handoff_types_also_narrow_the_rows_that_carry_a_type() -> None:
    # prm:2 is in its customer-success handoff now; a partner_to_direct clock (and its SLA
    # event), decision and gate-history row of it from before stay out of a
    # closed_won_to_cs report.
    data = replace(
        DATA, clocks=(*DATA.clocks, replace(DATA.clocks[0], deal="prm:2")),
        events=(*DATA.events, SlaEventFact("prm:2", "first_touch", "started", at(11, 2))),
        history=(*DATA.history, replace(DATA.history[1], handoff_type="partner_to_direct")),
        decisions=(DecisionFact("prm:2", "partner_to_direct", "accepted", at(11, 2)),
                   DecisionFact("prm:2", "closed_won_to_cs", "accepted", at(11, 22))))
    mine = select(data, Selection.of({"handoff_type": ["closed_won_to_cs"]}))
    assert {(c.deal, c.clock) for c in mine.clocks} == {("prm:2", "cs_handoff"),
                                                        ("prm:4", "cs_handoff")}
    assert [(e.deal, e.clock) for e in mine.events] == [("prm:4", "cs_handoff")]
    assert [d.handoff_type for d in mine.decisions] == ["closed_won_to_cs"]
    assert {h.handoff_type for h in mine.history} == {None}  # untyped rows follow the deal


def test_partners_named_keep_their_accounts_and_training_tasks() -> None:
    by_acme = select(READINESS, Selection.of({"partner": ["acme"]}))
    # Deals match their group exactly; the account by partner_key (case and spaces).
    assert [d.key for d in by_acme.deals] == ["prm:2"]
    assert [p.id for p in by_acme.partners] == ["001A"]
    assert [(t.deal, t.kind) for t in by_acme.tasks] == [
        ("partner:001A", "readiness:technical_conversations"),
        ("partner:001A", "readiness:acceptance")]
    by_beta = select(READINESS, Selection.of({"partner": ["Beta"]}))
    assert [p.id for p in by_beta.partners] == ["001B"] and by_beta.tasks == ()
    # Other dimensions leave the accounts and their training tasks as they are.
    by_kind = select(READINESS, Selection.of({"segment": ["(none)"]}))
    assert by_kind.partners == READINESS.partners
    assert [t.deal for t in by_kind.tasks] == [t.deal for t in READINESS.tasks]


def test_the_figures_of_a_narrowed_report_are_the_selections_own() -> None:
    everyone = compute(DATA, now=NOW)
    only_b = compute(DATA, now=NOW, selection=Selection.of({"partner": ["B"]}))
    assert everyone.volume.total.value == 8
    assert only_b.volume.total.value == 2
    assert [(r.group, r.total) for r in only_b.volume.rows] == [("B", 2)]
    # B's handoff needing one: prm:4 at 100%.
    assert (only_b.completeness.mean.value, only_b.completeness.mean.n) == (100.0, 1)
    # B: prm:3 closed lost, prm:4 closed won.
    assert (only_b.preservation.preservation.value,
            only_b.preservation.preservation.n) == (50.0, 2)
    assert only_b.filters == {"partner": ("B",)}
    assert everyone.filters == {}


def test_readiness_scores_the_selected_partners_on_their_whole_history() -> None:
    whole = compute(READINESS, now=NOW).readiness
    # Only "Acme"'s deal prm:1 is selected; Acme's score still counts prm:2 ("acme").
    narrowed = compute(READINESS, now=NOW,
                       selection=Selection.of({"partner": ["Acme"]})).readiness
    assert [p.partner for p in narrowed.partners] == ["Acme"]
    assert narrowed.partners[0] == next(p for p in whole.partners if p.partner == "Acme")
    assert narrowed.partners[0].open_training_tasks == 1


def test_options_list_the_groups_and_unknown_names_the_values_no_deal_has() -> None:
    found = options(DATA)
    assert list(found) == list(FILTERS)
    assert found["partner"] == ("(direct)", "A", "B", "C")
    assert found["segment"] == ("(none)", "Enterprise", "Mid-Market", "SMB")
    assert found["handoff_type"] == ("(none)", "closed_won_to_cs", "partner_to_direct")
    wanted = Selection.of({"partner": ["A", "Nobody"], "region": ["Mars"],
                           "segment": ["SMB"]})
    assert unknown(DATA, wanted) == {"partner": ("Nobody",), "region": ("Mars",)}
    with pytest.raises(ValueError, match="no report filter colour"):
        Selection.of({"colour": ["red"]})


def test_a_narrowed_report_says_so_in_every_format() -> None:
    report = compute(DATA, now=NOW, selection=Selection.of(
        {"partner": ["A"], "handoff_type": ["partner_to_direct", "closed_won_to_cs"]}))
    assert "pipeline partners, only partner A, only handoff type closed_won_to_cs, " \
           "partner_to_direct, since" in subtitle(report)
    assert json.loads(render(report, "json"))["filters"] == {
        "partner": ["A"], "handoff_type": ["closed_won_to_cs", "partner_to_direct"]}
    rows = list(csv.reader(io.StringIO(render(report, "csv"))))
    assert ["report", "", "filter.partner", "A"] in rows
    assert ["report", "", "filter.handoff_type", "closed_won_to_cs;partner_to_direct"] in rows
    assert any(note.startswith("Only partner A; handoff type") for note in report.notes)
    assert "only partner A" in render(report, "html")
    plain = compute(DATA, now=NOW)
    assert not any(r[2].startswith("filter.")
                   for r in csv.reader(io.StringIO(render(plain, "csv"))))


def test_scoped_css_puts_every_rule_under_the_scope() -> None:
    scoped = scoped_css(".report")
    rules = [line for line in scoped.splitlines() if "{" in line]
    assert ".report{font-family" in scoped  # body is the scope itself
    assert "main{" not in scoped.replace(".report", "") and "*{" not in scoped
    for line in rules:
        head = line.split("{", 1)[0]
        if head.startswith("@media"):
            inner = line.split("{", 1)[1]
            head = inner.split("{", 1)[0]
        assert all(part.strip().startswith(".report") for part in head.split(",")), line
    assert scoped.count("@media") == CSS.count("@media")
    assert scoped_css(".x", "a,b{color:red}@media print{c{color:blue}}") == \
        ".x a,.x b{color:red}\n@media print{.x c{color:blue}}"
