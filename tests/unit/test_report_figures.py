"""Report figures against values computed by hand on a small fixed data set.

Eight deals: partner A (two linked deals), partner B (two linked), partner C (one
registration not in the CRM yet), three direct opportunities. Every expected number below
is worked out in the comment next to it. The edge cases (running clocks, n = 1, a group
under min_sample, no direct deals, no closed deals, an empty period) have data of their
own at the end.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, date, datetime

import pytest

from handoff_sync.report.facts import (
    DIRECT,
    PARTNER,
    PRM_ONLY,
    ClockFact,
    ConflictFact,
    DealFact,
    DecisionFact,
    HistoryFact,
    PolicyFacts,
    ReportData,
    ReviewFact,
    SlaEventFact,
    TaskFact,
)
from handoff_sync.report.figure import figures_of
from handoff_sync.report.figures import compute, histogram
from handoff_sync.report.scorecard import outcome_score
from handoff_sync.report.stats import ABOVE, BELOW, NO_DATA, OK, SMALL


def at(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


NOW = at(12, 10, 12)
SINCE = at(11, 15)

DEALS = (
    DealFact("prm:1", PARTNER, partner="A", handoff_type="partner_to_direct",
             stage="pre_handoff_assessment", owner="ae1@v.example", region="EMEA",
             segment="Enterprise",
             created_at=at(10, 1), required=True, gate_status="blocked", completeness_pct=50,
             missing=("Budget", "Need")),
    DealFact("prm:2", PARTNER, partner="A", handoff_type="closed_won_to_cs", stage="kickoff",
             owner="ae1@v.example", region="EMEA", segment="Enterprise", is_closed=True,
             is_won=True,
             created_at=at(10, 1), close_date=date(2026, 11, 20), required=True,
             gate_status="blocked", completeness_pct=80, missing=("Open risks",)),
    DealFact("prm:3", PARTNER, partner="B", owner="ae2@v.example", region="APAC",
             segment="Mid-Market", is_closed=True, created_at=at(10, 15),
             close_date=date(2026, 11, 25)),
    DealFact("prm:4", PARTNER, partner="B", handoff_type="closed_won_to_cs", stage="kickoff",
             owner="ae2@v.example", region="APAC", segment="Enterprise", is_closed=True,
             is_won=True,
             created_at=at(10, 2), close_date=date(2026, 12, 1), required=True,
             gate_status="passed", completeness_pct=100),
    DealFact("prm:5", PRM_ONLY, partner="C", handoff_type="partner_to_direct",
             stage="pre_handoff_assessment", region="EMEA", segment="SMB", required=True,
             gate_status="blocked", completeness_pct=20,
             missing=("Budget", "Registration approved")),
    DealFact("crm:6", DIRECT, owner="ae1@v.example", region="NA", segment="Mid-Market",
             is_closed=True, is_won=True, created_at=at(10, 21), close_date=date(2026, 11, 30)),
    DealFact("crm:7", DIRECT, owner="ae2@v.example", region="NA", segment="SMB",
             is_closed=True,
             created_at=at(8, 1), close_date=date(2026, 9, 1)),
    DealFact("crm:8", DIRECT, owner="ae1@v.example", region="NA", is_closed=True,
             is_won=True, created_at=at(9, 21), close_date=date(2026, 11, 10)),
)
CLOCKS = (
    ClockFact("prm:1", "partner_to_direct", "first_touch", at(12, 1, 10), at(12, 8),
              "met", at(12, 2, 16)),                                   # met, 30 h
    ClockFact("prm:1", "partner_to_direct", "handoff_complete", at(12, 1, 10), at(12, 31),
              "on_track"),                                             # running, on track
    ClockFact("prm:5", "partner_to_direct", "first_touch", at(11, 20), at(11, 27),
              "breached"),                                             # running, past due
    ClockFact("prm:2", "closed_won_to_cs", "cs_handoff", at(11, 20, 12), at(11, 22, 12),
              "met", at(11, 21)),                                      # met
    ClockFact("prm:4", "closed_won_to_cs", "cs_handoff", at(12, 1), at(12, 3), "breached",
              at(12, 5)),                                              # breached (late)
    ClockFact("prm:3", "partner_to_direct", "first_touch", at(10, 20), at(10, 27),
              "on_track", at(10, 21)),                                 # cancelled
    ClockFact("prm:5", "partner_to_direct", "handoff_complete", at(11, 20), at(12, 20),
              "at_risk"),                                              # running, at risk
)
EVENTS = (
    SlaEventFact("prm:5", "first_touch", "started", at(11, 20)),
    SlaEventFact("prm:5", "first_touch", "breached", at(11, 27), "mgr@v.example"),
    SlaEventFact("prm:4", "cs_handoff", "breached", at(12, 3)),
)
HISTORY = (
    HistoryFact("prm:1", at(11, 1), True, 30),
    HistoryFact("prm:2", at(11, 1), True, 60),
    HistoryFact("prm:3", at(11, 1), False, 100),
    HistoryFact("prm:4", at(11, 5), True, 70),
    HistoryFact("prm:1", at(11, 10), True, 40),
    HistoryFact("prm:5", at(11, 20), True, 20),
    HistoryFact("prm:2", at(11, 21), True, 80),
    HistoryFact("prm:4", at(12, 1), True, 100),
    HistoryFact("prm:1", at(12, 2), True, 50),
)
DATA = ReportData(
    pipeline="partners", deals=DEALS, clocks=CLOCKS, events=EVENTS, history=HISTORY,
    tasks=(TaskFact("prm:5", "first_touch_overdue", "open"),
           TaskFact("prm:4", "cs_handoff_overdue", "done"),
           TaskFact("prm:1", "complete_partner_facts", "open")),
    reviews=(ReviewFact("prm:5", "unresolved_owner", "open"),
             ReviewFact("prm:1", "unresolved_owner", "open"),
             ReviewFact("prm:3", "channel_conflict", "open"),
             ReviewFact("prm:2", "ambiguous_link", "resolved")),
    conflicts=(ConflictFact("prm:1", "amount", at(12, 2)),
               ConflictFact("prm:2", "amount", at(11, 14)),
               ConflictFact("prm:4", "close_date", at(12, 3))),
    policy=PolicyFacts(frozenset({"first_touch"}),
                       frozenset({"first_touch_overdue", "cs_handoff_overdue"}),
                       {"first_touch": "First touch"}),
    runs=3)


ONE = PolicyFacts(frozenset({"first_touch"}), frozenset(), {}, min_sample=1)


def test_volume_by_partner_splits_partner_direct_and_registrations() -> None:
    volume = compute(DATA, now=NOW).volume
    # (direct): crm:6-8 = 3; A: prm:1-2 = 2; B: prm:3-4 = 2; C: prm:5 registration only.
    assert [(r.group, r.partner, r.direct, r.prm_only, r.total) for r in volume.rows] == [
        ("(direct)", 0, 3, 0, 3), ("A", 2, 0, 0, 2), ("B", 2, 0, 0, 2), ("C", 0, 0, 1, 1)]
    assert [f.value for f in (volume.partner, volume.direct, volume.prm_only,
                              volume.total)] == [4, 3, 1, 8]


@pytest.mark.parametrize(("by", "expected"), [
    ("region", [("NA", 3), ("EMEA", 3), ("APAC", 2)]),  # ties: alphabetical after count
    ("owner", [("ae1@v.example", 4), ("ae2@v.example", 3), ("(none)", 1)]),
    ("handoff_type", [("(none)", 4), ("closed_won_to_cs", 2), ("partner_to_direct", 2)]),
    ("segment", [("Enterprise", 3), ("Mid-Market", 2), ("SMB", 2), ("(none)", 1)]),
])
def test_volume_by_other_dimensions(by: str, expected: list[tuple[str, int]]) -> None:
    rows = compute(DATA, now=NOW, by=by).volume.rows
    assert sorted(((r.group, r.total) for r in rows), key=lambda x: (-x[1], x[0])) == sorted(
        expected, key=lambda x: (-x[1], x[0]))


def test_completeness_distribution_and_most_missing() -> None:
    c = compute(DATA, now=NOW).completeness
    # Deals needing a handoff: prm:1 50, prm:2 80, prm:4 100, prm:5 20.
    assert c.handoffs.value == 4
    assert (c.mean.value, c.mean.n, c.mean.target) == (62.5, 4, 90)  # 250 / 4
    assert c.median.value == 65.0  # (50 + 80) / 2
    assert (c.at_target.value, c.at_target.n) == (25.0, 4)  # only prm:4 reaches 90
    # Four deals are under the default min_sample of 5: shown, not judged.
    assert c.mean.status == SMALL
    assert [b.count for b in c.histogram] == [0, 0, 1, 0, 0, 1, 0, 0, 1, 1]
    # Budget is missing on prm:1 and prm:5; the others once each, alphabetical.
    assert [(m.label, m.count) for m in c.most_missing] == [
        ("Budget", 2), ("Need", 1), ("Open risks", 1), ("Registration approved", 1)]


def test_histogram_puts_100_in_the_last_band() -> None:
    bands = histogram([0, 9, 10, 89, 90, 100])
    assert [(b.label, b.count) for b in bands if b.count] == [
        ("0-9", 2), ("10-19", 1), ("80-89", 1), ("90-100", 2)]


def test_sla_counts_only_clocks_whose_outcome_is_known() -> None:
    s = compute(DATA, now=NOW).sla
    # Known outcomes: met prm:1 first_touch and prm:2 cs_handoff; breached prm:4
    # cs_handoff (stopped late) and prm:5 first_touch (still running, past due). prm:1
    # and prm:5 handoff_complete are still running in time: shown apart, not counted;
    # prm:3's clock was cancelled. Within SLA: 2 / 4.
    assert (s.within_sla.value, s.within_sla.n) == (50.0, 4)
    assert (s.within_sla.low_pct, s.within_sla.high_pct) == (15.0, 85.0)  # Wilson 2/4
    assert (s.within_sla.target, s.within_sla.target_kind) == (90, "at least")
    assert [f.value for f in (s.met, s.breached, s.on_track, s.at_risk, s.past_due,
                              s.cancelled)] == [2, 2, 1, 1, 1, 1]
    rows = {k.clock: k for k in s.by_clock}
    assert [(k.clock, k.decided, k.met, k.breached, k.within.value) for k in s.by_clock] == [
        ("cs_handoff", 2, 1, 1, 50.0), ("first_touch", 2, 1, 1, 50.0),
        ("handoff_complete", 0, 0, 0, None)]
    assert (rows["handoff_complete"].on_track, rows["handoff_complete"].at_risk) == (1, 1)
    assert (rows["first_touch"].past_due, rows["first_touch"].cancelled) == (1, 1)
    assert rows["first_touch"].label == "First touch"
    # Two breach events, one named a manager; escalation tasks: the two *_overdue ones.
    assert (s.breach_events.value, s.escalations.value) == (2, 1)
    assert (s.escalation_tasks.value, s.escalation_tasks_open.value) == (2, 1)


def test_first_touch_shows_median_and_mean_with_n_and_the_share_in_time() -> None:
    s = compute(DATA, now=NOW).sla
    # One first-touch clock in the policy (a clock that stops at the receiver's touch).
    assert [(t.clock, t.label) for t in s.first_touch] == [("first_touch", "First touch")]
    touch = s.first_touch[0]
    # prm:1 touched 30 h after the clock started (12-01 10:00 -> 12-02 16:00); prm:5
    # still waits, past its due time: 1 met of 2 known.
    assert (touch.median.value, touch.mean.value) == (30.0, 30.0)
    assert touch.median.n == touch.mean.n == 1
    assert (touch.in_time.value, touch.in_time.n) == (50.0, 2)
    assert (touch.waiting.value, touch.overdue.value) == (1, 1)


def test_a_0_h_median_is_shown_with_the_mean_and_the_touches_made_before_the_start() -> None:
    # Two intro calls held before the handoff started (0 h), one 141 h late: the median
    # alone would say "0 h".
    start = at(12, 1)
    clocks = (ClockFact("prm:1", "p2d", "first_touch", start, at(12, 3), "met", start),
              ClockFact("prm:2", "p2d", "first_touch", start, at(12, 3), "met", start),
              ClockFact("prm:3", "p2d", "first_touch", start, at(12, 3), "breached",
                        at(12, 6, 21)))
    deals = tuple(DealFact(f"prm:{i}", PARTNER, partner="A", required=True)
                  for i in (1, 2, 3))
    touch = compute(ReportData("p", deals, clocks, policy=ONE), now=NOW).sla.first_touch[0]
    assert (touch.median.value, touch.mean.value) == (0.0, 47.0)  # 141 / 3
    assert touch.median.n == 3
    assert touch.at_start.value == 2
    assert (touch.in_time.value, touch.in_time.n) == (66.7, 3)


def test_first_touch_is_measured_per_clock_never_mixed() -> None:
    # An intro call 2 h in and a CS kickoff 100 h in are different promises: one median
    # over both would describe neither.
    policy = PolicyFacts(frozenset({"first_touch", "kickoff"}), frozenset(),
                         {"kickoff": "Kickoff held"}, min_sample=1)
    clocks = (ClockFact("prm:1", "p2d", "first_touch", at(12, 1), at(12, 3), "met",
                        at(12, 1, 2)),
              ClockFact("prm:2", "cs", "kickoff", at(12, 1), at(12, 8), "met",
                        at(12, 5, 4)),
              ClockFact("prm:2", "cs", "cs_handoff", at(12, 1), at(12, 3), "met",
                        at(12, 2)))
    deals = (DealFact("prm:1", PARTNER, required=True), DealFact("prm:2", PARTNER,
                                                                 required=True))
    touches = compute(ReportData("p", deals, clocks, policy=policy), now=NOW).sla.first_touch
    assert [(t.clock, t.label, t.median.value, t.median.n) for t in touches] == [
        ("first_touch", "first_touch", 2.0, 1), ("kickoff", "Kickoff held", 100.0, 1)]


def test_running_clocks_are_not_a_rate_and_a_clock_past_due_counts_as_breached() -> None:
    # All running: nothing finished, so no rate at all (not 100%). One is past its due
    # time although no cycle marked it yet: its outcome is known, breached.
    clocks = (ClockFact("prm:1", "p2d", "first_touch", at(12, 9), at(12, 11), "on_track"),
              ClockFact("prm:2", "p2d", "first_touch", at(12, 8), at(12, 10, 13), "at_risk"))
    deals = (DealFact("prm:1", PARTNER, required=True), DealFact("prm:2", PARTNER,
                                                                 required=True))
    s = compute(ReportData("p", deals, clocks, policy=ONE), now=NOW).sla
    assert (s.within_sla.value, s.within_sla.n, s.within_sla.status) == (None, 0, NO_DATA)
    assert s.within_sla.why == "no clock has finished yet"
    assert (s.on_track.value, s.at_risk.value, s.past_due.value) == (1, 1, 0)
    later = compute(ReportData("p", deals, clocks, policy=ONE), now=at(12, 10, 14)).sla
    assert (later.past_due.value, later.breached.value) == (1, 1)
    assert (later.within_sla.value, later.within_sla.n) == (0.0, 1)


def test_preservation_and_cycle_length_impact() -> None:
    p = compute(DATA, now=NOW).preservation
    # Partner closed: prm:2 won, prm:3 lost, prm:4 won -> 2/3.
    assert (p.preservation.value, p.preservation.n) == (66.7, 3)
    assert (p.preservation.low_pct, p.preservation.high_pct) == (20.8, 93.9)
    # Direct closed: crm:6 won, crm:7 lost, crm:8 won -> 2/3.
    assert (p.direct_win_rate.value, p.direct_win_rate.n) == (66.7, 3)
    # Won cycles: partner 50 d (10-01 -> 11-20) and 60 d (10-02 -> 12-01): median 55;
    # direct 40 d (10-21 -> 11-30) and 50 d (09-21 -> 11-10): median 45.
    assert (p.partner_cycle.value, p.direct_cycle.value) == (55.0, 45.0)
    assert (p.cycle_impact.value, p.cycle_impact.n) == (22.2, 2)  # 55 / 45 - 1
    assert (p.cycle_impact.target, p.cycle_impact.target_kind) == (10, "at most")


def test_targets_come_from_the_policy_and_mark_figures_at_min_sample() -> None:
    from handoff_sync.mapping.policy.measures import Targets

    policy = PolicyFacts(frozenset({"first_touch"}), frozenset(), {},
                         targets=Targets(completeness_pct=60, within_sla_pct=40,
                                         preservation_pct=70, cycle_impact_pct=25),
                         min_sample=2)
    report = compute(ReportData("p", DEALS, CLOCKS, policy=policy), now=NOW)
    assert (report.completeness.mean.target, report.completeness.mean.status) == (60, OK)
    assert report.sla.within_sla.status == OK  # 50% >= 40%, n = 4
    assert (report.preservation.preservation.status, report.preservation.cycle_impact.status
            ) == (BELOW, OK)  # 66.7% < 70%; +22.2% <= +25%
    assert report.completeness.at_target.label == "deals at >= 60%"


def test_review_queue_and_conflicts() -> None:
    r = compute(DATA, now=NOW).reviews
    assert r.open.value == 3  # the resolved ambiguous link does not count
    assert [(c.label, c.count) for c in r.by_kind] == [("unresolved_owner", 2),
                                                       ("channel_conflict", 1)]
    assert r.conflicts.value == 3
    assert [(c.label, c.count) for c in r.conflicts_by_field] == [("amount", 2),
                                                                  ("close_date", 1)]


def test_outcome_score_blends_components_and_ranks_every_partner_at_min_sample_1() -> None:
    sc = compute(dataclasses.replace(DATA, policy=ONE), now=NOW).scorecard
    assert sc.weights == {"completeness": 0.4, "sla": 0.3, "preservation": 0.3}
    scores = {s.partner: s for s in sc.partners}
    assert [(s.rank, s.partner) for s in sc.partners] == [(1, "A"), (2, "B"), (3, "C")]
    a, b, c = scores["A"], scores["B"], scores["C"]
    # A: completeness (50 + 80) / 2 = 65; its finished clocks both met (prm:1's running
    # one is not counted); prm:2 won: 100%. 0.4 * 65 + 0.3 * 100 + 0.3 * 100 = 86.
    assert (a.completeness.value, a.sla.value, a.preservation.value, a.outcome_score) == (
        65.0, 100.0, 100.0, 86.0)
    # Trend from the first history row: prm:1 30 -> 50, prm:2 60 -> 80: 45 -> 65.
    assert (a.trend_start_pct, a.trend_now_pct, a.trend_delta) == (45.0, 65.0, 20.0)
    # B: only prm:4 needs a handoff (100); its clock breached, prm:3's was cancelled:
    # 0/1; one of two closed won: 50. 40 + 0 + 15 = 55.
    assert (b.completeness.value, b.sla.value, b.preservation.value, b.outcome_score) == (
        100.0, 0.0, 50.0, 55.0)
    assert (b.trend_start_pct, b.trend_now_pct) == (70.0, 100.0)
    # C: 20% complete; its first touch is past due (0/1) and its other clock still runs;
    # nothing closed, so the weights re-normalise: (0.4 * 20 + 0.3 * 0) / 0.7 = 11.43.
    assert (c.completeness.value, c.sla.value, c.preservation.value, c.outcome_score) == (
        20.0, 0.0, None, 11.4)
    assert c.score_parts == ("completeness", "sla") and c.trend_delta == 0.0


def test_a_partner_with_one_perfect_handoff_is_listed_but_not_ranked() -> None:
    # SOLO: one handoff, complete, touched in time, won: "100" on n = 1. BIG: six
    # handoffs at 70%, three of six clocks met, three of five closed won.
    solo = (DealFact("prm:s", PARTNER, partner="SOLO", required=True, completeness_pct=100,
                     is_closed=True, is_won=True),)
    big = tuple(DealFact(f"prm:b{i}", PARTNER, partner="BIG", required=True,
                         completeness_pct=70, is_closed=i < 5, is_won=i < 3)
                for i in range(6))
    clocks = (ClockFact("prm:s", "p2d", "first_touch", at(12, 1), at(12, 2), "met",
                        at(12, 1, 5)),
              *(ClockFact(f"prm:b{i}", "p2d", "first_touch", at(12, 1), at(12, 2),
                          "met" if i < 3 else "breached", at(12, 1, 5) if i < 3 else None)
                for i in range(6)))
    sc = compute(ReportData("p", solo + big, clocks), now=NOW).scorecard  # min_sample 5
    assert [(s.partner, s.rank) for s in sc.partners] == [("BIG", 1), ("SOLO", None)]
    big_score, solo_score = sc.partners
    # BIG: 0.4 * 70 + 0.3 * 50 + 0.3 * 60 = 61, every component on n >= 5.
    assert big_score.outcome_score == 61.0
    assert (big_score.sla.value, big_score.sla.n, big_score.preservation.n) == (50.0, 6, 5)
    # SOLO: no component has 5 cases: no score, shown with n = 1 and the interval.
    assert (solo_score.outcome_score, solo_score.handoffs) == (None, 1)
    assert (solo_score.preservation.value, solo_score.preservation.status) == (100.0, SMALL)
    assert (solo_score.preservation.low_pct, solo_score.preservation.high_pct) == (20.7,
                                                                                 100.0)
    assert (sc.outcome_score.value, sc.unranked.value) == (1, 1)


def test_trend_line_replays_gate_history() -> None:
    points = compute(DATA, now=NOW).scorecard.trend
    # Mean completeness of deals needing a handoff after each instant:
    # 11-01 (30, 60) 45; 11-05 +70: 53.3; 11-10 prm:1 40: 56.7; 11-20 +20: 47.5;
    # 11-21 prm:2 80: 52.5; 12-01 prm:4 100: 60; 12-02 prm:1 50: 62.5 (= the mean now).
    assert [p.mean_pct for p in points] == [45.0, 53.3, 56.7, 47.5, 52.5, 60.0, 62.5]
    assert [p.deals for p in points] == [2, 3, 3, 4, 4, 4, 4]


def test_since_limits_deals_clocks_conflicts_and_moves_the_trend_start() -> None:
    report = compute(dataclasses.replace(DATA, policy=ONE), now=NOW, since=SINCE)
    # crm:7 (closed 09-01) and crm:8 (closed 11-10) closed before 11-15.
    assert (report.volume.total.value, report.volume.direct.value) == (6, 1)
    # crm:6 is the only direct deal left: 1/1 won, cycle 40 d; impact 55 / 40 - 1.
    p = report.preservation
    assert (p.direct_win_rate.value, p.direct_win_rate.n, p.direct_cycle.value) == (
        100.0, 1, 40.0)
    assert p.cycle_impact.value == 37.5
    # prm:3's cancelled clock started 10-20: outside; the four known outcomes are inside.
    assert (report.sla.within_sla.n, report.sla.cancelled.value) == (4, 0)
    assert report.reviews.conflicts.value == 2  # the 11-14 amount conflict is outside
    a = next(s for s in report.scorecard.partners if s.partner == "A")
    # At 11-15 prm:1 stood at 40 (its 11-10 row), prm:2 at 60: start 50, now 65.
    assert (a.trend_start_pct, a.trend_now_pct, a.trend_delta) == (50.0, 65.0, 15.0)
    # The line starts at the first change inside the period (11-20), the earlier state
    # replayed: (40 + 60 + 70 + 20) / 4 = 47.5.
    assert [p.mean_pct for p in report.scorecard.trend] == [47.5, 52.5, 60.0, 62.5]


def test_a_closed_deal_without_a_close_date_counts_only_without_a_period() -> None:
    """It cannot be placed in a period: left out with --since, and the report says so."""
    undated = DealFact("crm:9", DIRECT, owner="ae1@v.example", region="NA",
                       is_closed=True, is_won=True, created_at=at(6, 1))
    data = dataclasses.replace(DATA, deals=(*DEALS, undated), policy=ONE)
    period = compute(data, now=NOW, since=SINCE)
    assert (period.volume.total.value, period.volume.direct.value) == (6, 1)
    assert ("1 closed deal has no close date: it cannot be placed in the period, so it "
            "is left out.") in period.notes
    assert "close date" in period.volume.total.definition
    everything = compute(data, now=NOW)
    assert (everything.volume.total.value, everything.volume.direct.value) == (9, 4)
    assert not any("no close date" in note for note in everything.notes)


def test_outcome_score_without_any_component_is_none() -> None:
    assert outcome_score({"completeness": None, "sla": None, "preservation": None}) is None
    assert outcome_score({"completeness": 80.0, "sla": None, "preservation": None}) == 80.0


def test_unknown_dimension_is_refused() -> None:
    with pytest.raises(ValueError, match="--by must be one of"):
        compute(DATA, now=NOW, by="colour")


DECISIONS = (
    # A: 2 decided handoffs, prm:1 rejected then (re-submitted and) accepted -> 1/2.
    DecisionFact("prm:1", "partner_to_direct", "rejected", at(11, 20), "ae1@v.example",
                 "No budget", "A"),
    DecisionFact("prm:1", "partner_to_direct", "resubmitted", at(11, 21), None, None, "A"),
    DecisionFact("prm:1", "partner_to_direct", "accepted", at(11, 22), None, None, "A"),
    DecisionFact("prm:2", "partner_to_direct", "accepted", at(11, 22), None, None, "A"),
    # Before the period: left out.
    DecisionFact("prm:9", "partner_to_direct", "rejected", at(11, 1), None, "Old", "A"),
    # B: 20 decided, 1 rejected -> 5.0%, at the threshold: no alert.
    DecisionFact("prm:30", "partner_to_direct", "rejected", at(11, 25), None, None, "B"),
    *(DecisionFact(f"prm:3{n}", "partner_to_direct", "accepted", at(11, 26), None, None,
                   "B") for n in range(1, 20)),
    # C: 1 accepted; a withdrawal is no decision.
    DecisionFact("prm:40", "partner_to_direct", "accepted", at(11, 27), None, None, "C"),
    DecisionFact("prm:40", "partner_to_direct", "withdrawn", at(11, 28), None, None, "C"),
    # D: 6 decided, 2 rejected -> 33.3%, above 5% on n = 6: an alert.
    *(DecisionFact(f"prm:5{n}", "partner_to_direct", "rejected" if n < 2 else "accepted",
                   at(11, 29), None, "Thin", "D") for n in range(6)),
)


def test_rejection_rate_by_partner_alerts_only_on_samples_large_enough() -> None:
    data = ReportData("partners", DEALS, decisions=DECISIONS,
                      policy=PolicyFacts(rejection_alert_pct=5))  # min_sample 5
    figures = compute(data, now=NOW, since=SINCE).acceptance
    # Decided: A 2 + B 20 + C 1 + D 6 = 29; rejected at least once 1 + 1 + 2 = 4; latest
    # decision an acceptance: A 2 (prm:1 after its re-submission) + B 19 + C 1 + D 4 = 26.
    assert (figures.decided.value, figures.accepted.value, figures.rejected.value) == (
        29, 26, 4)
    assert (figures.rejection_rate.value, figures.rejection_rate.n) == (13.8, 29)
    assert (figures.rejection_rate.status, figures.resubmitted.value) == (ABOVE, 1)
    rows = {p.partner: (p.decided, p.rejected, p.rate.value, p.rate.status, p.alert)
            for p in figures.partners}
    assert rows == {"A": (2, 1, 50.0, SMALL, False), "B": (20, 1, 5.0, OK, False),
                    "C": (1, 0, 0.0, SMALL, False), "D": (6, 2, 33.3, ABOVE, True)}
    # Judged partners by rate first, then the small samples (largest n first).
    assert [p.partner for p in figures.partners] == ["D", "B", "A", "C"]
    assert figures.alerts == ("D: 2 of 6 handoffs rejected (33.3%), above 5%: investigate",)
    assert [(c.label, c.count) for c in figures.top_reasons] == [
        ("Thin", 2), ("(no reason given)", 1), ("No budget", 1)]
    # No handoff type takes accept/reject: nothing to alert on.
    quiet = compute(ReportData("partners", DEALS), now=NOW).acceptance
    assert not quiet.enabled and quiet.alerts == () and quiet.decided.value == 0
    assert quiet.rejection_rate.value is None


def test_breakdown_by_segment_gives_each_key_figure_with_n_and_interval() -> None:
    decisions = (DecisionFact("prm:1", "partner_to_direct", "rejected", at(11, 20), None,
                              None, "A"),
                 DecisionFact("prm:4", "partner_to_direct", "accepted", at(11, 20), None,
                              None, "B"))
    policy = PolicyFacts(frozenset({"first_touch"}), frozenset(), {},
                         rejection_alert_pct=5, min_sample=2)
    b = compute(ReportData("p", DEALS, CLOCKS, decisions=decisions, policy=policy),
                now=NOW, by="segment").breakdown
    assert (b.by, b.by_label) == ("segment", "segment")
    assert [(r.group, r.deals, r.handoffs) for r in b.rows] == [
        ("Enterprise", 3, 3), ("Mid-Market", 2, 0), ("SMB", 2, 1), ("(none)", 1, 0)]
    ent, mid, smb, _ = b.rows
    # Enterprise: prm:1 50, prm:2 80, prm:4 100 -> 76.7 on n = 3, under the 90 target.
    assert (ent.completeness.value, ent.completeness.n, ent.completeness.status) == (
        76.7, 3, BELOW)
    # Clocks with a known outcome: prm:1 first touch met, prm:2 met, prm:4 breached.
    assert (ent.within_sla.part, ent.within_sla.n, ent.within_sla.value) == (2, 3, 66.7)
    assert (ent.within_sla.low_pct, ent.within_sla.high_pct) == (20.8, 93.9)
    # prm:2 and prm:4 closed won: 2/2, at the 85 target; n = 2 reaches min_sample 2.
    assert (ent.preservation.value, ent.preservation.status) == (100.0, OK)
    # prm:1 rejected, prm:4 accepted: 1/2 = 50%, above the 5% alert threshold.
    assert (ent.rejection.value, ent.rejection.n, ent.rejection.status) == (50.0, 2, ABOVE)
    # Mid-Market: prm:3 closed lost (0/1: one case, not judged), its clock cancelled.
    assert (mid.preservation.value, mid.preservation.status) == (0.0, SMALL)
    assert (mid.within_sla.value, mid.within_sla.status) == (None, NO_DATA)
    # SMB: prm:5 (20%, first touch past due: 0/1) and a direct deal (no preservation).
    assert (smb.within_sla.value, smb.within_sla.n, smb.preservation.n) == (0.0, 1, 0)


@pytest.mark.parametrize("by", ["partner", "segment", "region", "owner", "handoff_type",
                                "stage"])
def test_breakdown_takes_every_dimension_and_covers_every_deal(by: str) -> None:
    report = compute(DATA, now=NOW, by=by)
    assert sum(r.deals for r in report.breakdown.rows) == 8
    assert {r.group for r in report.breakdown.rows} == {r.group for r in report.volume.rows}


# --- edge cases: n = 1, no direct deals, no closed deals, an empty period -------------
def test_n_1_is_shown_with_its_interval_and_never_judged() -> None:
    deal = DealFact("prm:1", PARTNER, partner="A", required=True, completeness_pct=100,
                    is_closed=True, is_won=True, created_at=at(10, 1),
                    close_date=date(2026, 11, 1))
    p = compute(ReportData("p", (deal,)), now=NOW).preservation
    assert (p.preservation.value, p.preservation.n, p.preservation.status) == (100.0, 1,
                                                                              SMALL)
    assert (p.preservation.low_pct, p.preservation.high_pct) == (20.7, 100.0)


def test_no_direct_deals_leaves_the_cycle_impact_unmeasured_and_says_why() -> None:
    partner_only = tuple(d for d in DEALS if d.kind != DIRECT)
    p = compute(ReportData("p", partner_only, policy=ONE), now=NOW).preservation
    assert (p.direct_win_rate.value, p.direct_win_rate.why) == (
        None, "no direct deal closed in the period")
    assert (p.cycle_impact.value, p.cycle_impact.status) == (None, NO_DATA)
    assert p.cycle_impact.why == "no closed-won direct deal to compare with"
    assert p.partner_cycle.value == 55.0  # the partner side still measured


def test_no_closed_deals_leaves_preservation_unmeasured_and_says_why() -> None:
    open_only = tuple(dataclasses.replace(d, is_closed=False, is_won=False) for d in DEALS)
    p = compute(ReportData("p", open_only, policy=ONE), now=NOW).preservation
    assert (p.preservation.value, p.preservation.n) == (None, 0)
    assert p.preservation.why == "no partner deal closed in the period"
    assert (p.partner_cycle.value, p.cycle_impact.value) == (None, None)
    assert p.cycle_impact.why == "no closed-won partner deal with a cycle length"


def test_an_empty_period_gives_no_data_everywhere_and_no_nan() -> None:
    # Every deal closed before the period starts; no clock, decision or conflict after.
    closed = tuple(dataclasses.replace(d, is_closed=True, close_date=date(2026, 1, 1))
                   for d in DEALS)
    report = compute(dataclasses.replace(DATA, deals=closed), now=NOW, since=SINCE)
    assert report.volume.total.value == 0 and report.breakdown.rows == ()
    sections = (report.volume, report.completeness, report.sla, report.acceptance,
                report.preservation, report.reviews, report.scorecard, report.breakdown)
    for section in (*sections, *report.sla.first_touch):
        for figure in figures_of(section):
            assert figure.value is None or math.isfinite(figure.value), figure
            if figure.value is None:
                assert figure.why, f"{figure.label} is n/a without saying why"
    assert report.completeness.mean.why == "no deal needs a handoff"
    assert "No deal in the period: every figure is n/a." in report.notes


def test_every_figure_has_a_definition() -> None:
    report = compute(DATA, now=NOW)
    assert report.sla.first_touch  # the fixture has a first-touch clock
    for section in (report.volume, report.completeness, report.sla, report.acceptance,
                    report.preservation, report.reviews, report.scorecard,
                    report.breakdown, *report.sla.first_touch):
        for figure in figures_of(section):
            assert len(figure.definition) > 15, figure
    for columns in (report.volume.columns, report.sla.by_clock_columns,
                    report.acceptance.partner_columns, report.scorecard.partner_columns,
                    report.breakdown.columns):
        assert all(len(c.definition) > 10 for c in columns)
