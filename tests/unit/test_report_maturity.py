"""The governance maturity meter on hand-built stores: each dimension's level by the rule
its definition states, what the next level takes, and the overall level (the lowest)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from handoff_sync.mapping.policy.funnels import Funnel
from handoff_sync.report.facts import (
    DIRECT,
    PARTNER,
    PRM_ONLY,
    ClockFact,
    DealFact,
    GovernanceFacts,
    HandoffTypeFacts,
    PolicyFacts,
    ReportData,
    ReviewFact,
)
from handoff_sync.report.figures import compute
from handoff_sync.report.maturity import EVERY_PCT, MOST_PCT, Maturity, assess
from tests.unit.test_report_figures import DATA, NOW

START = datetime(2026, 10, 1, tzinfo=UTC)
PARTNER_TO_DIRECT = HandoffTypeFacts(
    "partner_to_direct", "Partner to direct sales",
    stage_owners={"assessment": "prm_owner", "discovery": "crm_owner"},
    slas=("first_touch",), acceptance=True)
CHAIN = Funnel.model_validate({"id": "chain", "label": "Partner chain", "steps": [
    {"id": "registered", "label": "Registered",
     "reached_when": {"field": "prm_id", "op": "is_filled"}},
    {"id": "won", "label": "Won", "reached_when": {"field": "is_won", "op": "is_true"}}]})
ALL_OWNERS = {"completeness": "revops@v.example", "within_sla": "dir@v.example",
              "preservation": "pm@v.example", "cycle_impact": "dir@v.example",
              "rejection_rate": "pm@v.example", "time_to_kickoff": "cs@v.example",
              "attribution": "pm@v.example"}


def handoff(number: int, *, stage: str | None = "discovery", ae: str | None = "ae@v.example",
            pct: int = 95, kind: str = PARTNER) -> DealFact:
    values = {"ae_email": ae, "partner_rep_email": "rep@p.example"}
    return DealFact(f"prm:{number}", kind, partner="P", handoff_type="partner_to_direct",
                    stage=stage, required=True, completeness_pct=pct,
                    values={k: v for k, v in values.items() if v is not None})


def closed(number: int, kind: str = PARTNER, *, won: bool = True) -> DealFact:
    return DealFact(f"{'prm' if kind == PARTNER else 'crm'}:{number}", kind, is_closed=True,
                    is_won=won, created_at=START, close_date=date(2026, 11, 1))


def clock(deal: DealFact) -> ClockFact:
    return ClockFact(deal.key, "partner_to_direct", "first_touch", START, NOW, "met", START)


def store(deals: list[DealFact], *, clocks: list[ClockFact] | None = None,
          types: tuple[HandoffTypeFacts, ...] = (PARTNER_TO_DIRECT,),
          owners: dict[str, str] | None = None, reviews: tuple[ReviewFact, ...] = (),
          min_sample: int = 2, funnels: tuple[Funnel, ...] = (CHAIN,)) -> ReportData:
    return ReportData(
        "partners", deals=tuple(deals),
        clocks=tuple(clock(d) for d in deals if d.required) if clocks is None
        else tuple(clocks), reviews=reviews,
        policy=PolicyFacts(min_sample=min_sample, funnels=funnels, governance=GovernanceFacts(
            types, ALL_OWNERS if owners is None else owners)))


# Level 3 on every dimension: owned, clocked, gated and complete handoffs; 2 closed partner
# deals and 2 won deals with a cycle length on each side (min_sample 2); every owner named.
MATURE = [handoff(1), handoff(2), closed(3), closed(4), closed(5, DIRECT), closed(6, DIRECT)]


def meter(data: ReportData) -> Maturity:
    return assess(data, data.deals)


def level(data: ReportData, dimension: str) -> int:
    return next(d.level for d in meter(data).dimensions if d.id == dimension)


def steps(data: ReportData, dimension: str) -> tuple[str, ...]:
    return next(d.next_steps for d in meter(data).dimensions if d.id == dimension)


def test_a_team_at_level_3_everywhere_has_nothing_left_to_do() -> None:
    m = meter(store(MATURE))
    assert [(d.id, d.level) for d in m.dimensions] == [
        ("ownership", 3), ("slas", 3), ("gates", 3), ("outcomes", 3),
        ("improvement_owners", 3)]
    assert (m.level, m.level_name, m.held_back_by) == (3, "orchestrated and measured", ())
    assert all(d.next_steps == () for d in m.dimensions)
    assert all("Level 1" in d.definition and "3:" in d.definition for d in m.dimensions)


def test_overall_is_the_lowest_dimension_and_names_it() -> None:
    m = meter(store(MATURE, owners={"completeness": "revops@v.example"}))
    assert (m.level, m.level_name) == (2, "defined but inconsistent")
    assert m.held_back_by == ("Named improvement owners",)


def test_nothing_needing_a_handoff_shows_nothing_yet() -> None:
    m = meter(store([closed(1), closed(2, DIRECT)]))
    for dimension in ("ownership", "slas", "gates"):
        found = next(d for d in m.dimensions if d.id == dimension)
        assert found.level == 1
        assert "no deal needs a handoff" in found.evidence
    assert m.level == 1


def test_ownership_reads_the_current_stages_owner_and_its_user() -> None:
    # prm:1 is in discovery (AE owns it) with no AE; prm:2 has no stage yet: the first
    # stage's owner, the partner rep, who is named. 1 of 2 owned = 50%: level 2.
    data = store([handoff(1, ae=None), handoff(2, stage=None, ae=None)])
    assert level(data, "ownership") == 2
    assert any("on 1 deal where it is blank" in s for s in steps(data, "ownership"))
    # An open unresolved-owner item for the stage's role: named, but no user.
    no_user = (ReviewFact("prm:2", "unresolved_owner", "open", "prm_owner"),)
    assert level(replace(data, reviews=no_user), "ownership") == 1
    # For another role, or resolved: the stage's owner still counts.
    other = (ReviewFact("prm:2", "unresolved_owner", "open", "cs_owner"),
             ReviewFact("prm:2", "unresolved_owner", "resolved", "prm_owner"))
    assert level(replace(data, reviews=other), "ownership") == 2


@pytest.mark.parametrize(("owned", "expected"), [(19, 3), (18, 2), (10, 2), (9, 1)])
def test_ownership_thresholds(owned: int, expected: int) -> None:
    deals = [handoff(i, ae="ae@v.example" if i < owned else None) for i in range(20)]
    assert (EVERY_PCT, MOST_PCT) == (95.0, 50.0)  # 19 of 20 = 95%, 10 of 20 = 50%
    data = store(deals)
    assert level(data, "ownership") == expected
    if expected == 2:
        assert steps(data, "ownership")[0] == (
            f"{19 - owned} more deal{'s' if 19 - owned > 1 else ''} needing a handoff with "
            "a named owner who has a user (95% of 20)")


def test_slas_need_clocks_on_every_handoff_and_an_escalation() -> None:
    deals = [handoff(1), handoff(2)]
    assert level(store(deals, clocks=[]), "slas") == 1
    assert level(store(deals, clocks=[clock(deals[0])]), "slas") == 2
    assert "start a clock on 1 more deal" in steps(store(deals, clocks=[clock(deals[0])]),
                                                   "slas")[0]
    silent = replace(PARTNER_TO_DIRECT, silent_slas=("First touch",))
    data = store(deals, types=(silent,))
    assert level(data, "slas") == 2
    assert steps(data, "slas") == (
        "escalate breaches of First touch (Partner to direct sales) to a person "
        "(escalate_to)",)
    unclocked = replace(PARTNER_TO_DIRECT, slas=())
    assert level(store(deals, types=(unclocked,), clocks=[]), "slas") == 1


def test_gates_need_every_stage_gated_and_the_completeness_target_met() -> None:
    assert level(store(MATURE), "gates") == 3
    half = replace(PARTNER_TO_DIRECT, ungated_stages=("Discovery",))
    assert level(store(MATURE, types=(half,)), "gates") == 2
    assert steps(store(MATURE, types=(half,)), "gates") == (
        "add gate requirements to Discovery (Partner to direct sales)",)
    none = replace(PARTNER_TO_DIRECT, ungated_stages=("Assessment", "Discovery"))
    assert level(store(MATURE, types=(none,)), "gates") == 1
    short = [handoff(1, pct=80), handoff(2, pct=90)]  # mean 85 < the default 90 target
    data = store(short)
    assert level(data, "gates") == 2
    assert steps(data, "gates")[0].startswith("raise the mean completeness from 85.0% to 90%")


def test_outcomes_need_closed_partner_deals_and_cycles_on_both_sides() -> None:
    handoffs = [handoff(1), handoff(2)]
    data = store(handoffs)
    assert level(data, "outcomes") == 1  # no partner deal closed
    one = store([*handoffs, closed(3)])  # n = 1 < min_sample 2
    assert level(one, "outcomes") == 2
    assert steps(one, "outcomes") == (
        "1 more closed partner deal for preservation to reach min_sample",
        "1 more won partner deal with a cycle length for the cycle-length impact to reach "
        "min_sample",
        "2 more won direct deals with a cycle length for the cycle-length impact to reach "
        "min_sample")
    no_direct = store([*handoffs, closed(3), closed(4)])  # nothing to compare with
    assert level(no_direct, "outcomes") == 2
    undated = [replace(d, created_at=None) for d in MATURE]
    assert any("custom.created_at" in s for s in steps(store(undated), "outcomes"))
    no_funnel = store(MATURE, funnels=())
    assert level(no_funnel, "outcomes") == 2
    assert steps(no_funnel, "outcomes") == (
        "declare a leakage funnel (handoff.yaml measures.funnels) so conversion through "
        "each handoff step, and the dollars lost at it, are measured",)


def test_improvement_owners_cover_every_targeted_figure() -> None:
    assert level(store(MATURE, owners={}), "improvement_owners") == 1
    some = store(MATURE, owners={"completeness": "revops@v.example"})
    assert level(some, "improvement_owners") == 2
    assert steps(some, "improvement_owners") == (
        "name who owns improving within_sla, rejection_rate, preservation, cycle_impact, "
        "time_to_kickoff, attribution in handoff.yaml measures.improvement_owners "
        "(figure: email)",)
    # Without accept/reject the rejection rate has no target, so needs no owner.
    no_acceptance = replace(PARTNER_TO_DIRECT, acceptance=False)
    four = {k: v for k, v in ALL_OWNERS.items() if k != "rejection_rate"}
    assert level(store(MATURE, types=(no_acceptance,), owners=four),
                 "improvement_owners") == 3
    # A figure without a target that someone owns is listed, not required.
    m = meter(store(MATURE, owners={**ALL_OWNERS, "first_touch": "sdr@v.example"}))
    assert [(o.figure, o.owner, o.targeted) for o in m.improvement_owners
            if o.figure == "first_touch"] == [("first_touch", "sdr@v.example", False)]


def test_outcome_counts_match_the_preservation_section() -> None:
    """The evidence quotes the preservation section's own n (same period, same rules)."""
    report = compute(DATA, now=NOW)
    p = report.preservation
    outcomes = next(d for d in report.maturity.dimensions if d.id == "outcomes")
    assert outcomes.evidence.startswith(
        f"preservation measured on {p.preservation.n} closed partner deals; cycle length on "
        f"{p.partner_cycle.n} won partner and {p.direct_cycle.n} won direct deals")


def test_registrations_not_in_the_crm_count_as_handoffs_of_their_first_stage() -> None:
    reg = handoff(1, stage=None, ae=None, kind=PRM_ONLY)
    m = meter(store([reg]))
    ownership = next(d for d in m.dimensions if d.id == "ownership")
    assert ownership.level == 3  # the partner rep owns the first stage
    assert ownership.evidence.startswith("1 of 1 (100.0%)")


def test_every_format_shows_the_levels_the_next_steps_and_the_rules() -> None:
    import csv
    import io
    import json
    from html import escape

    from handoff_sync.report import render

    data = store(MATURE, owners={"completeness": "revops@v.example"})
    report = compute(data, now=NOW)
    step = ("name who owns improving within_sla, rejection_rate, preservation, "
            "cycle_impact, time_to_kickoff, attribution in handoff.yaml "
            "measures.improvement_owners (figure: email)")
    rule = next(d.definition for d in report.maturity.dimensions if d.id == "outcomes")

    document = json.loads(render(report, "json"))["maturity"]
    assert (document["level"], document["held_back_by"]) == (2, ["Named improvement owners"])
    owners = next(d for d in document["dimensions"] if d["id"] == "improvement_owners")
    assert owners["next_steps"] == [step] and "Level 1: none named" in owners["definition"]

    rows = {(r["group"], r["metric"]): r["value"]
            for r in csv.DictReader(io.StringIO(render(report, "csv")))
            if r["section"] == "maturity"}
    assert rows[("", "level")] == "2"
    assert rows[("improvement_owners", "dimensions.next_steps")] == step
    assert rows[("outcomes", "dimensions.definition")] == rule
    assert rows[("completeness", "improvement_owners.owner")] == "revops@v.example"

    table = " ".join(render(report, "table").split())  # rich wraps long cells
    assert "Governance maturity (maturity)" in table
    assert "level 2 of 3: defined but inconsistent" in table
    assert "held back by Named improvement owners" in table
    assert "nobody named" in table and "revops@v.example" in table

    html = render(report, "html")
    assert 'id="maturity"' in html and "Level 2 of 3" in html
    assert "held back by Named improvement owners" in html
    assert escape(step) in html and escape(rule) in html and "nobody named" in html
