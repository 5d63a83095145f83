"""Report figures against values computed by hand on a small fixed data set.

Eight deals: partner A (two linked deals), partner B (two linked), partner C (one
registration not in the CRM yet), three direct opportunities. Every expected number below
is worked out in the comment next to it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from handoff_sync.report.facts import (
    DIRECT,
    PARTNER,
    PRM_ONLY,
    ClockFact,
    ConflictFact,
    DealFact,
    HistoryFact,
    PolicyFacts,
    ReportData,
    ReviewFact,
    SlaEventFact,
    TaskFact,
)
from handoff_sync.report.figures import compute, histogram, readiness


def at(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


NOW = at(12, 10, 12)
SINCE = at(11, 15)

DEALS = (
    DealFact("prm:1", PARTNER, partner="A", handoff_type="partner_to_direct",
             stage="pre_handoff_assessment", owner="ae1@v.example", region="EMEA",
             created_at=at(10, 1), required=True, gate_status="blocked", completeness_pct=50,
             missing=("Budget", "Need")),
    DealFact("prm:2", PARTNER, partner="A", handoff_type="closed_won_to_cs", stage="kickoff",
             owner="ae1@v.example", region="EMEA", is_closed=True, is_won=True,
             created_at=at(10, 1), close_date=date(2026, 11, 20), required=True,
             gate_status="blocked", completeness_pct=80, missing=("Open risks",)),
    DealFact("prm:3", PARTNER, partner="B", owner="ae2@v.example", region="APAC",
             is_closed=True, created_at=at(10, 15), close_date=date(2026, 11, 25)),
    DealFact("prm:4", PARTNER, partner="B", handoff_type="closed_won_to_cs", stage="kickoff",
             owner="ae2@v.example", region="APAC", is_closed=True, is_won=True,
             created_at=at(10, 2), close_date=date(2026, 12, 1), required=True,
             gate_status="passed", completeness_pct=100),
    DealFact("prm:5", PRM_ONLY, partner="C", handoff_type="partner_to_direct",
             stage="pre_handoff_assessment", region="EMEA", required=True,
             gate_status="blocked", completeness_pct=20,
             missing=("Budget", "Registration approved")),
    DealFact("crm:6", DIRECT, owner="ae1@v.example", region="NA", is_closed=True,
             is_won=True, created_at=at(10, 21), close_date=date(2026, 11, 30)),
    DealFact("crm:7", DIRECT, owner="ae2@v.example", region="NA", is_closed=True,
             created_at=at(8, 1), close_date=date(2026, 9, 1)),
    DealFact("crm:8", DIRECT, owner="ae1@v.example", region="NA", is_closed=True,
             is_won=True, created_at=at(9, 21), close_date=date(2026, 11, 10)),
)
CLOCKS = (
    ClockFact("prm:1", "partner_to_direct", "first_touch", at(12, 1, 10), at(12, 8),
              "met", at(12, 2, 16)),                                   # within, 30 h
    ClockFact("prm:1", "partner_to_direct", "handoff_complete", at(12, 1, 10), at(12, 31),
              "on_track"),                                             # within, running
    ClockFact("prm:5", "partner_to_direct", "first_touch", at(11, 20), at(11, 27),
              "breached"),                                             # breached, waiting
    ClockFact("prm:2", "closed_won_to_cs", "cs_handoff", at(11, 20, 12), at(11, 22, 12),
              "met", at(11, 21)),                                      # within
    ClockFact("prm:4", "closed_won_to_cs", "cs_handoff", at(12, 1), at(12, 3), "breached",
              at(12, 5)),                                              # breached (late)
    ClockFact("prm:3", "partner_to_direct", "first_touch", at(10, 20), at(10, 27),
              "on_track", at(10, 21)),                                 # cancelled
    ClockFact("prm:5", "partner_to_direct", "handoff_complete", at(11, 20), at(12, 20),
              "at_risk"),                                              # within, at risk
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


def test_volume_by_partner_splits_partner_direct_and_registrations() -> None:
    volume = compute(DATA, now=NOW).volume
    # (direct): crm:6-8 = 3; A: prm:1-2 = 2; B: prm:3-4 = 2; C: prm:5 registration only.
    assert [(r.group, r.partner, r.direct, r.prm_only, r.total) for r in volume.rows] == [
        ("(direct)", 0, 3, 0, 3), ("A", 2, 0, 0, 2), ("B", 2, 0, 0, 2), ("C", 0, 0, 1, 1)]
    assert (volume.partner, volume.direct, volume.prm_only, volume.total) == (4, 3, 1, 8)


@pytest.mark.parametrize(("by", "expected"), [
    ("region", [("NA", 3), ("EMEA", 3), ("APAC", 2)]),  # ties: alphabetical after count
    ("owner", [("ae1@v.example", 4), ("ae2@v.example", 3), ("(none)", 1)]),
    ("handoff_type", [("(none)", 4), ("closed_won_to_cs", 2), ("partner_to_direct", 2)]),
])
def test_volume_by_other_dimensions(by: str, expected: list[tuple[str, int]]) -> None:
    rows = compute(DATA, now=NOW, by=by).volume.rows
    assert sorted(((r.group, r.total) for r in rows), key=lambda x: (-x[1], x[0])) == sorted(
        expected, key=lambda x: (-x[1], x[0]))


def test_completeness_distribution_and_most_missing() -> None:
    c = compute(DATA, now=NOW).completeness
    # Deals needing a handoff: prm:1 50, prm:2 80, prm:4 100, prm:5 20.
    assert c.deals == 4
    assert c.mean_pct == 62.5  # (50 + 80 + 100 + 20) / 4
    assert c.median_pct == 65.0  # (50 + 80) / 2
    assert (c.at_target, c.at_target_pct) == (1, 25.0)  # only prm:4 reaches 90
    assert [b.count for b in c.histogram] == [0, 0, 1, 0, 0, 1, 0, 0, 1, 1]
    # Budget is missing on prm:1 and prm:5; the others once each, alphabetical.
    assert [(m.label, m.count) for m in c.most_missing] == [
        ("Budget", 2), ("Need", 1), ("Open risks", 1), ("Registration approved", 1)]


def test_histogram_puts_100_in_the_last_band() -> None:
    bands = histogram([0, 9, 10, 89, 90, 100])
    assert [(b.label, b.count) for b in bands if b.count] == [
        ("0-9", 2), ("10-19", 1), ("80-89", 1), ("90-100", 2)]


def test_sla_compliance_breaches_escalations_and_first_touch() -> None:
    s = compute(DATA, now=NOW).sla
    # within: two met (prm:1 first_touch, prm:2 cs_handoff) + two running (prm:1
    # handoff_complete, prm:5 handoff_complete at risk); breached: prm:5 first_touch and
    # prm:4 cs_handoff; prm:3's clock was cancelled and is not counted.
    assert (s.within, s.breached, s.counted, s.cancelled) == (4, 2, 6, 1)
    assert s.within_pct == 66.7  # 4 / 6
    assert (s.met, s.running, s.at_risk) == (2, 2, 1)
    assert [(k.clock, k.within, k.breached, k.within_pct) for k in s.by_clock] == [
        ("cs_handoff", 1, 1, 50.0), ("first_touch", 1, 1, 50.0),
        ("handoff_complete", 2, 0, 100.0)]
    assert s.by_clock[1].label == "First touch"
    # Two breach events, one named a manager; escalation tasks: the two *_overdue ones.
    assert (s.breach_events, s.escalations) == (2, 1)
    assert (s.escalation_tasks, s.escalation_tasks_open) == (2, 1)
    # First touch: prm:1 touched 30 h after the clock started (12-01 10:00 -> 12-02 16:00);
    # prm:5 still waits (breached, not stopped).
    assert (s.first_touched, s.first_touch_waiting) == (1, 1)
    assert s.first_touch_median_hours == s.first_touch_mean_hours == 30.0


def test_preservation_and_cycle_length_impact() -> None:
    p = compute(DATA, now=NOW).preservation
    # Partner closed: prm:2 won, prm:3 lost, prm:4 won -> 2/3.
    assert (p.partner_won, p.partner_closed, p.rate_pct) == (2, 3, 66.7)
    # Direct closed: crm:6 won, crm:7 lost, crm:8 won -> 2/3.
    assert (p.direct_won, p.direct_closed, p.direct_rate_pct) == (2, 3, 66.7)
    # Won cycles: partner 50 d (10-01 -> 11-20) and 60 d (10-02 -> 12-01): median 55;
    # direct 40 d (10-21 -> 11-30) and 50 d (09-21 -> 11-10): median 45.
    assert (p.partner_cycle_days, p.direct_cycle_days) == (55.0, 45.0)
    assert p.cycle_impact_pct == 22.2  # 55 / 45 - 1


def test_review_queue_and_conflicts() -> None:
    r = compute(DATA, now=NOW).reviews
    assert r.open == 3  # the resolved ambiguous link does not count
    assert [(c.label, c.count) for c in r.by_kind] == [("unresolved_owner", 2),
                                                       ("channel_conflict", 1)]
    assert r.conflicts == 3
    assert [(c.label, c.count) for c in r.conflicts_by_field] == [("amount", 2),
                                                                  ("close_date", 1)]


def test_partner_scorecard_readiness_and_trend() -> None:
    sc = compute(DATA, now=NOW).scorecard
    assert sc.weights == {"completeness": 0.4, "sla": 0.3, "preservation": 0.3}
    scores = {s.partner: s for s in sc.partners}
    assert [s.partner for s in sc.partners] == ["A", "B", "C"]  # by readiness
    a, b, c = scores["A"], scores["B"], scores["C"]
    # A: completeness (50 + 80) / 2 = 65; clocks all within; prm:2 won: 100%.
    # readiness 0.4 * 65 + 0.3 * 100 + 0.3 * 100 = 86.
    assert (a.completeness_pct, a.sla_pct, a.preservation_pct, a.readiness) == (
        65.0, 100.0, 100.0, 86.0)
    # Trend from the first history row: prm:1 30 -> 50, prm:2 60 -> 80: 45 -> 65.
    assert (a.trend_start_pct, a.trend_now_pct, a.trend_delta) == (45.0, 65.0, 20.0)
    # B: only prm:4 needs a handoff (100); its clock breached, prm:3's was cancelled:
    # 0/1; one of two closed won: 50. readiness 40 + 0 + 15 = 55.
    assert (b.completeness_pct, b.sla_pct, b.preservation_pct, b.readiness) == (
        100.0, 0.0, 50.0, 55.0)
    assert (b.trend_start_pct, b.trend_now_pct) == (70.0, 100.0)
    # C: 20% complete, one clock within of two; nothing closed, so readiness re-weights:
    # (0.4 * 20 + 0.3 * 50) / 0.7 = 32.857.
    assert (c.completeness_pct, c.sla_pct, c.preservation_pct, c.readiness) == (
        20.0, 50.0, None, 32.9)
    assert c.trend_delta == 0.0


def test_trend_line_replays_gate_history() -> None:
    points = compute(DATA, now=NOW).scorecard.trend
    # Mean completeness of deals needing a handoff after each instant:
    # 11-01 (30, 60) 45; 11-05 +70: 53.3; 11-10 prm:1 40: 56.7; 11-20 +20: 47.5;
    # 11-21 prm:2 80: 52.5; 12-01 prm:4 100: 60; 12-02 prm:1 50: 62.5 (= the mean now).
    assert [p.mean_pct for p in points] == [45.0, 53.3, 56.7, 47.5, 52.5, 60.0, 62.5]
    assert [p.deals for p in points] == [2, 3, 3, 4, 4, 4, 4]


def test_since_limits_deals_clocks_conflicts_and_moves_the_trend_start() -> None:
    report = compute(DATA, now=NOW, since=SINCE)
    # crm:7 (closed 09-01) and crm:8 (closed 11-10) closed before 11-15.
    assert (report.volume.total, report.volume.direct) == (6, 1)
    # crm:6 is the only direct deal left: 1/1 won, cycle 40 d; impact 55 / 40 - 1.
    p = report.preservation
    assert (p.direct_won, p.direct_closed, p.direct_cycle_days) == (1, 1, 40.0)
    assert p.cycle_impact_pct == 37.5
    # prm:3's cancelled clock started 10-20: outside; the rest started after 11-15.
    assert (report.sla.counted, report.sla.cancelled) == (6, 0)
    assert report.reviews.conflicts == 2  # the 11-14 amount conflict is outside
    a = next(s for s in report.scorecard.partners if s.partner == "A")
    # At 11-15 prm:1 stood at 40 (its 11-10 row), prm:2 at 60: start 50, now 65.
    assert (a.trend_start_pct, a.trend_now_pct, a.trend_delta) == (50.0, 65.0, 15.0)
    # The line starts at the first change inside the period (11-20), the earlier state
    # replayed: (40 + 60 + 70 + 20) / 4 = 47.5.
    assert [p.mean_pct for p in report.scorecard.trend] == [47.5, 52.5, 60.0, 62.5]


def test_readiness_without_any_component_is_none() -> None:
    assert readiness({"completeness": None, "sla": None, "preservation": None}) is None
    assert readiness({"completeness": 80.0, "sla": None, "preservation": None}) == 80.0


def test_unknown_dimension_is_refused() -> None:
    with pytest.raises(ValueError, match="--by must be one of"):
        compute(DATA, now=NOW, by="colour")


def test_rejection_rate_by_partner_counts_handoffs_rejected_at_least_once() -> None:
    # A: 2 decided handoffs, prm:1 rejected then (re-submitted and) accepted -> 1/2 = 50%.
    # B: 20 decided, 1 rejected -> 5.0%, at the threshold: no alert. C: 1 accepted.
    # A decision before the period (prm:9) is left out; a withdrawal is no decision, so
    # prm:40 counts by its acceptance. Accepted: A 2 + B 19 + C 1 = 22 of 23.
    from handoff_sync.report.facts import DecisionFact
    decisions = [
        DecisionFact("prm:1", "partner_to_direct", "rejected", at(11, 20), "ae1@v.example",
                     "No budget", "A"),
        DecisionFact("prm:1", "partner_to_direct", "resubmitted", at(11, 21), None, None, "A"),
        DecisionFact("prm:1", "partner_to_direct", "accepted", at(11, 22), None, None, "A"),
        DecisionFact("prm:2", "partner_to_direct", "accepted", at(11, 22), None, None, "A"),
        DecisionFact("prm:9", "partner_to_direct", "rejected", at(11, 1), None, "Old", "A"),
        DecisionFact("prm:30", "partner_to_direct", "rejected", at(11, 25), None, None, "B"),
        *(DecisionFact(f"prm:3{n}", "partner_to_direct", "accepted", at(11, 26), None,
                       None, "B") for n in range(1, 20)),
        DecisionFact("prm:40", "partner_to_direct", "accepted", at(11, 27), None, None, "C"),
        DecisionFact("prm:40", "partner_to_direct", "withdrawn", at(11, 28), None, None, "C"),
    ]
    data = ReportData("partners", DEALS, decisions=tuple(decisions),
                      policy=PolicyFacts(rejection_alert_pct=5))
    figures = compute(data, now=NOW, since=SINCE).acceptance
    assert (figures.decided, figures.accepted, figures.rejected) == (23, 22, 2)
    assert figures.rejection_rate_pct == 8.7 and figures.resubmitted == 1  # 2/23
    rows = {p.partner: (p.decided, p.rejected, p.rate_pct, p.alert) for p in figures.partners}
    assert rows == {"A": (2, 1, 50.0, True), "B": (20, 1, 5.0, False),
                    "C": (1, 0, 0.0, False)}
    assert figures.alerts == ("A: 1 of 2 handoffs rejected (50%), above 5%: investigate",)
    assert [(c.label, c.count) for c in figures.top_reasons] == [("(no reason given)", 1),
                                                                ("No budget", 1)]
    # No handoff type takes accept/reject: nothing to alert on.
    quiet = compute(ReportData("partners", DEALS), now=NOW).acceptance
    assert not quiet.enabled and quiet.alerts == () and quiet.decided == 0
