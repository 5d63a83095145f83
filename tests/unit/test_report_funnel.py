"""The leakage funnel on hand-built deals: every expected number is worked out next to it.

The funnel under test has four steps (registered -> approved -> intro held -> won), enters
registered deals only, and loses a deal when its registration was rejected or it closed
lost. The shipped chain (mappings/handoff.yaml) is checked on its own at the end.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from handoff_sync.mapping.loader import load_mappings
from handoff_sync.mapping.policy.funnels import Funnel
from handoff_sync.model import Value
from handoff_sync.report import render
from handoff_sync.report.facts import DIRECT, PARTNER, PRM_ONLY, DealFact, PolicyFacts, ReportData
from handoff_sync.report.figures import compute
from handoff_sync.report.funnel import compute_funnel, compute_funnels
from handoff_sync.report.stats import wilson

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 10, 12, tzinfo=UTC)

FUNNEL = Funnel.model_validate({
    "id": "chain", "label": "Test chain",
    "applies_when": {"field": "prm_id", "op": "is_filled"},
    "lost_when": {"any": [
        {"field": "registration_status", "op": "==", "value": "rejected"},
        {"all": [{"field": "is_closed", "op": "is_true"},
                 {"field": "is_won", "op": "is_false"}]}]},
    "steps": [
        {"id": "registered", "label": "Registered",
         "reached_when": {"field": "prm_id", "op": "is_filled"},
         "at": "custom.registered_at"},
        {"id": "approved", "label": "Approved",
         "reached_when": {"field": "approved_at", "op": "is_filled"}, "at": "approved_at"},
        {"id": "intro", "label": "Intro held",
         "reached_when": {"field": "intro_call_at", "op": "is_filled"},
         "at": "intro_call_at"},
        {"id": "won", "label": "Won", "reached_when": {"field": "is_won", "op": "is_true"},
         "at": "close_date"},  # a date field: midnight UTC
    ],
})


def at(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def deal(key: str, *, partner: str = "A", region: str = "EMEA", amount: int | None = 1000,
         kind: str = PARTNER, **values: Value) -> DealFact:
    closed, won = values.get("is_closed") is True, values.get("is_won") is True
    prm = {"prm_id": key} if kind != DIRECT else {}
    return DealFact(key, kind, partner=partner if kind != DIRECT else None, region=region,
                    owner=f"ae-{region.lower()}@v.example", handoff_type="partner_to_direct",
                    amount=Decimal(amount) if amount is not None else None, is_closed=closed,
                    is_won=won, values={**prm, **values,
                                        "amount": Decimal(amount) if amount else None})


# Six registered deals and one direct deal (never enters: applies_when needs a prm_id).
DEALS = (
    # 1: registered Mon 2 Nov, approved a day later, intro after 2.5 more days, won 20 Nov.
    deal("p1", **{"custom.registered_at": at(11, 2, 12)},
         approved_at=at(11, 3, 12), intro_call_at=at(11, 6), is_closed=True, is_won=True,
         close_date=date(2026, 11, 20)),
    # 2: won with no intro call recorded: counts at "intro held" all the same (no time).
    deal("p2", amount=3000, **{"custom.registered_at": at(11, 4)}, approved_at=at(11, 5),
         is_closed=True, is_won=True, close_date=date(2026, 11, 25)),
    # 3: closed lost after its intro: lost at "intro held", 5,000 lost there.
    deal("p3", partner="B", region="NA", amount=5000,
         **{"custom.registered_at": at(11, 10)}, approved_at=at(11, 12),
         intro_call_at=at(11, 16), is_closed=True, is_won=False),
    # 4: registration rejected: lost at "registered", 2,000.
    deal("p4", partner="B", region="NA", amount=2000, kind=PRM_ONLY,
         **{"custom.registered_at": at(11, 11)}, registration_status="rejected"),
    # 5: approved, still open: in flight at "approved", never lost.
    deal("p5", partner="B", region="NA", **{"custom.registered_at": at(11, 12)},
         approved_at=at(11, 13)),
    # 6: approved before it was registered (out of order): no time for "approved".
    deal("p6", partner="C", amount=None, **{"custom.registered_at": at(11, 20)},
         approved_at=at(11, 19)),
    deal("d7", kind=DIRECT, is_closed=True, is_won=True, close_date=date(2026, 11, 30)),
)


@pytest.fixture
def figures() -> Any:
    return compute_funnel(DEALS, FUNNEL, min_sample=2)


def test_a_deal_that_reached_a_later_step_counts_at_every_earlier_one(figures: Any) -> None:
    reached = {s.step: s.reached for s in figures.steps}
    # registered: 6 (not the direct deal); approved: p1, p2, p3, p5, p6 = 5; intro: p1, p3
    # and p2 (won, so past the intro) = 3; won: p1, p2 = 2.
    assert reached == {"registered": 6, "approved": 5, "intro": 3, "won": 2}
    assert figures.entered == 6 and figures.completed == 2
    steps = {s.step: s for s in figures.steps}
    assert steps["approved"].from_previous_pct == 83.3  # 5 / 6
    assert steps["intro"].from_previous_pct == 60.0  # 3 / 5
    assert steps["won"].from_previous_pct == 66.7  # 2 / 3
    assert steps["won"].from_start_pct == 33.3  # 2 / 6
    assert steps["registered"].from_previous_pct is None


def test_lost_deals_die_at_their_furthest_step_and_in_flight_ones_are_not_lost(
        figures: Any) -> None:
    steps = {s.step: s for s in figures.steps}
    assert (steps["registered"].lost, steps["registered"].lost_amount) == (1, 2000.0)  # p4
    assert (steps["intro"].lost, steps["intro"].lost_amount) == (1, 5000.0)  # p3
    assert steps["approved"].lost == 0 and steps["won"].lost == 0
    # p5 and p6 are open at "approved": in flight, 1,000 and no amount.
    assert (steps["approved"].in_flight, steps["approved"].in_flight_amount) == (2, 1000.0)
    assert (figures.lost, figures.lost_amount) == (2, 7000.0)
    assert figures.in_flight == 2
    # Survival: of the deals that left "intro" (2 won, 1 lost), 2 moved on: 66.7%; "approved"
    # was left by 3 who all moved on (p5 and p6 are still in it): 100%.
    assert (steps["intro"].survived_pct, steps["intro"].settled) == (66.7, 3)
    assert (steps["approved"].survived_pct, steps["approved"].settled) == (100.0, 3)
    assert steps["won"].survived_pct is None  # the last step: nobody leaves it
    assert figures.biggest_loss == "intro"  # 5,000 beats 2,000
    assert figures.weakest_step == "intro"  # 66.7% beats registration's 5 / 6 = 83.3%


def test_median_days_use_each_steps_own_time_and_skip_out_of_order_deals(
        figures: Any) -> None:
    steps = {s.step: s for s in figures.steps}
    # registered -> approved: p1 1.0 d, p2 1.0 d, p3 2.0 d, p5 1.0 d; p6 out of order.
    assert (steps["approved"].median_days, steps["approved"].timed) == (1.0, 4)
    # approved -> intro: p1 2.5 d, p3 4.0 d (p2 has no intro time): median 3.25 -> 3.2.
    assert (steps["intro"].median_days, steps["intro"].timed) == (3.2, 2)
    # intro -> won: p1 from Nov 6 to the close date Nov 20 (midnight UTC) = 14 d.
    assert (steps["won"].median_days, steps["won"].timed) == (14.0, 1)
    assert steps["registered"].timed == 0


def test_breakdowns_and_weekly_cohorts(figures: Any) -> None:
    by = {b.dimension: b for b in figures.by}
    assert [b.dimension for b in figures.by] == ["partner", "segment", "region", "owner",
                                                 "handoff_type"]
    partners = {g.group: g for g in by["partner"].groups}
    assert [g.group for g in by["partner"].groups] == ["B", "A", "C"]  # most deals first
    assert partners["A"].reached == (2, 2, 2, 2)
    assert partners["B"].reached == (3, 2, 1, 0)
    assert (partners["B"].lost, partners["B"].lost_amount) == (2, 7000.0)
    assert partners["A"].to_last_pct == 100.0
    assert (partners["A"].to_last_low_pct, partners["A"].to_last_high_pct) == (34.2, 100.0)
    assert partners["C"].small and partners["C"].weakest_step is None  # n = 1 < 2
    assert partners["B"].weakest_step == "registered"  # 2 of 3 left alive (66.7%) vs 0 of 1
    # ... the intro: 0 of 1 moved on, but 1 deal left it (< min_sample 2): not judged.
    assert [g.group for g in by["segment"].groups] == ["(none)"]
    # Weeks (Monday): Nov 2 (p1, p2), Nov 9 (p3, p4, p5), Nov 16 (p6).
    weeks = {g.group: g.reached for g in figures.weekly}
    assert weeks == {"2026-11-02": (2, 2, 2, 2), "2026-11-09": (3, 2, 1, 0),
                     "2026-11-16": (1, 1, 0, 0)}
    assert figures.weekly_note is None


def test_no_closed_deals_nothing_lost_nothing_settled() -> None:
    open_deals = [deal(f"p{i}", **{"custom.registered_at": at(11, i)}, approved_at=at(11, 9))
                  for i in range(1, 4)]
    figures = compute_funnel(open_deals, FUNNEL, min_sample=2)
    assert [s.reached for s in figures.steps] == [3, 3, 0, 0]
    assert figures.lost == 0 and figures.lost_amount == 0.0
    assert figures.in_flight == 3 and figures.completed == 0
    assert figures.biggest_loss is None and figures.weakest_step is None
    assert all(s.survived_pct in (100.0, None) for s in figures.steps)


def test_one_deal() -> None:
    figures = compute_funnel([DEALS[0]], FUNNEL, min_sample=5)
    assert [s.reached for s in figures.steps] == [1, 1, 1, 1]
    assert figures.steps[-1].from_start_pct == 100.0
    group = figures.by[0].groups[0]
    assert group.small and group.weakest_step is None
    assert (group.to_last_low_pct, group.to_last_high_pct) == (20.7, 100.0)
    assert wilson(1, 1) == (20.7, 100.0)


def test_an_empty_period_gives_zeros_and_no_rates() -> None:
    figures = compute_funnel([], FUNNEL, min_sample=5)
    assert figures.entered == 0 and figures.by[0].groups == () and figures.weekly == ()
    assert all(s.reached == 0 and s.from_previous_pct is None and s.from_start_pct is None
               and s.median_days is None and s.survived_pct is None for s in figures.steps)
    report = compute(ReportData("p", policy=PolicyFacts(funnels=(FUNNEL,))), now=NOW)
    for fmt in ("table", "csv", "json", "html"):
        text = render(report, fmt)
        assert "nan" not in text.lower().replace("nance", ""), fmt
        assert "No deal entered this funnel in the period." in text or fmt in ("csv", "json")


def test_no_funnel_declared_says_how_to_declare_one() -> None:
    section = compute_funnels(DEALS, (), min_sample=5)
    assert not section.declared and section.funnels == ()
    report = compute(ReportData("p", deals=DEALS), now=NOW)
    assert "add measures.funnels to handoff.yaml" in render(report, "table")
    assert "add measures.funnels to handoff.yaml" in render(report, "html")


def test_wilson_interval() -> None:
    assert wilson(5, 10) == (23.7, 76.3)
    assert wilson(0, 10) == (0.0, 27.8)
    assert wilson(0, 0) is None


def test_every_format_carries_the_figures_and_their_definitions() -> None:
    report = compute(ReportData("p", deals=DEALS, policy=PolicyFacts(
        funnels=(FUNNEL,), min_sample=2)), now=NOW)
    data = json.loads(render(report, "json"))["funnel"]
    chain = data["funnels"][0]
    assert [s["reached"] for s in chain["steps"]] == [6, 5, 3, 2]
    assert "counts at every earlier one" in data["definitions"]["reached"]
    assert chain["steps"][1]["definition"] == ("reached when approved_at is filled (or a "
                                               "later step is reached); time: approved_at")
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    cells = {(r["group"], r["metric"]): r["value"] for r in rows if r["section"] == "funnel"}
    assert cells[("chain/intro", "funnels.steps.lost_amount")] == "5000.0"
    assert cells[("chain/partner/B", "funnels.by.groups.reached")] == "3;2;1;0"
    assert "counts at every earlier one" in cells[("", "definitions.reached")]
    table = render(report, "table")
    html = render(report, "html")
    for text in (table, html):
        assert "Intro held" in text and "counts at every earlier one" in text
        assert "reached when approved_at is filled" in text
        assert "5,000" in text  # the amount lost at the intro
    assert '<svg' in html.split('id="funnel"')[1].split("</section>")[0]


def test_the_shipped_chain_reads_the_systems_values() -> None:
    """mappings/handoff.yaml: a won deal whose registration says closed_won was approved
    (no approved_at needed), a closed_lost registration is lost, a kickoff ends the chain."""
    funnel = load_mappings(ROOT / "mappings").policy.measures.funnels[0]
    assert [s.id for s in funnel.steps] == ["registered", "approved", "opportunity_created",
                                            "intro_held", "stage_5", "closed_won",
                                            "cs_kickoff"]
    won = deal("w", registration_status="closed_won", crm_id="006A", is_closed=True,
               is_won=True, handoff_stage="kickoff", kickoff_at=at(12, 1))
    dead = deal("x", kind=PRM_ONLY, registration_status="closed_lost")
    moving = deal("m", registration_status="accepted", crm_id="006B",
                  handoff_stage="partnership_preservation", stage_entered_at=at(12, 2))
    figures = compute_funnel([won, dead, moving], funnel, min_sample=1)
    assert [s.reached for s in figures.steps] == [3, 2, 2, 2, 2, 1, 1]
    assert (figures.lost, figures.steps[0].lost) == (1, 1)
    assert figures.in_flight == 1 and figures.completed == 1
