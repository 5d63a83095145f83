"""The "Handoff quality" figures on hand-built histories, each worked out by hand in the
comment next to it, and the edge cases a manager meets: no closed deals, no direct deals,
n = 1, a bonus the policy does not define, a date recorded only once the deal was won."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from html import escape

import pytest

from handoff_sync.mapping.policy.file_model import BusinessCalendar
from handoff_sync.mapping.policy.measures import OnTimeBonus, Targets
from handoff_sync.report.facts import (
    DIRECT,
    PARTNER,
    BaselineFact,
    DealFact,
    DecisionFact,
    HistoryFact,
    PolicyFacts,
    ReportData,
)
from handoff_sync.report.figures import Report, compute
from handoff_sync.report.quality import QualityFigure, business_days, wilson


def at(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


NOW = at(12, 10, 12)  # a Thursday
# Monday to Friday, 09:00-17:00 UTC: a business day is 8 working hours.
WORKDAYS = BusinessCalendar(timezone="UTC")
STAGES = {"partner_to_direct": ("pre_handoff_assessment", "joint_discovery",
                                "knowledge_transfer"),
          "closed_won_to_cs": ("kickoff",)}
FIELDS = {"partner_account": "A", "partner_ongoing_role": "Co-sells", "partner_split_pct": 20}


def won(key: str, partner: str | None, *, close: date, won_at: datetime | None,
        kickoff_at: datetime | None = None, amount: int | None = 100_000,
        kind: str = PARTNER, **values: object) -> DealFact:
    """A won deal in its customer-success handoff."""
    held: dict[str, object] = {"currency": "USD", **values}
    if won_at is not None:
        held["won_at"] = won_at
    if kickoff_at is not None:
        held["kickoff_at"] = kickoff_at
    return DealFact(key, kind, partner=partner, handoff_type="closed_won_to_cs",
                    stage="kickoff", is_closed=True, is_won=True, close_date=close,
                    created_at=at(10, 1), amount=None if amount is None else Decimal(amount),
                    required=True, gate_status="passed", values=held)


def open_deal(key: str, partner: str, required: bool = True) -> DealFact:
    return DealFact(key, PARTNER, partner=partner, handoff_type="partner_to_direct",
                    stage="joint_discovery", required=required, gate_status="blocked",
                    completeness_pct=60)


def history(deal: str, when: datetime, stage: str | None, *, required: bool = True,
            handoff_type: str | None = "partner_to_direct") -> HistoryFact:
    return HistoryFact(deal, when, required, 50, handoff_type, stage)


POLICY = PolicyFacts(stage_order=STAGES, calendars={"closed_won_to_cs": WORKDAYS},
                     rejection_alert_pct=5,
                     on_time_bonus=OnTimeBonus(pct=7, handoff_type="partner_to_direct"))


def report(*deals: DealFact, policy: PolicyFacts = POLICY, since: datetime | None = None,
           by: str = "partner", **rows: object) -> Report:
    data = ReportData("partners", deals, policy=policy, **rows)  # type: ignore[arg-type]
    return compute(data, now=NOW, since=since, by=by)


def figure(result: Report, figure_id: str) -> QualityFigure:
    return next(f for f in result.quality.figures if f.id == figure_id)


def test_business_days_count_working_hours_of_the_calendar() -> None:
    # Fri 16:00 -> Tue 16:00: Fri 1 h + Mon 8 h + Tue 7 h = 16 h = 2 business days.
    assert business_days(at(11, 20, 16), at(11, 24, 16), WORKDAYS) == 2
    # In New York (09:00-17:00 local, 14:00-22:00 UTC in winter) a kickoff at 13:00 UTC on
    # Monday is before the working day: Fri 21:00 UTC -> Mon 13:00 UTC is 1 working hour.
    new_york = BusinessCalendar(timezone="America/New_York")
    assert business_days(at(11, 20, 21), at(11, 23, 13), new_york) == 1 / 8


def test_time_to_kickoff_in_business_days_against_the_target() -> None:
    result = report(
        # Tue 10:00 -> Fri 10:00: 3 business days, within 5.
        won("prm:1", "A", close=date(2026, 12, 1), won_at=at(12, 1, 10),
            kickoff_at=at(12, 4, 10)),
        # Fri 11-20 16:00 -> Tue 12-01 16:00: 1 + 8 x 6 + 7 h = 56 h = 7 business days.
        won("prm:2", "B", close=date(2026, 11, 20), won_at=at(11, 20, 16),
            kickoff_at=at(12, 1, 16)),
        # No kickoff yet: Tue 12-08 10:00 -> now (Thu 12:00) = 2.4 days, not past 5.
        won("prm:3", "A", close=date(2026, 12, 8), won_at=at(12, 8, 10)),
        # No kickoff, won Fri 11-20: far past 5 business days.
        won("crm:4", None, close=date(2026, 11, 20), won_at=at(11, 20, 10), kind=DIRECT),
        # Won without a won time: not measured.
        won("prm:5", "B", close=date(2026, 12, 2), won_at=None, kickoff_at=at(12, 3, 10)),
        # Won before go-live: needs no handoff, no kickoff is owed.
        dataclasses.replace(won("prm:6", "B", close=date(2026, 10, 1), won_at=at(10, 1)),
                            required=False),
        policy=dataclasses.replace(POLICY, min_sample=2))
    k = result.quality.kickoff
    assert (k.won, k.held, k.within, k.waiting, k.waiting_past_target, k.no_won_time) == (
        5, 2, 1, 2, 1, 1)
    assert (k.median_days, k.mean_days, k.within_pct) == (5.0, 5.0, 50.0)  # (3 + 7) / 2
    kickoff = figure(result, "kickoff")
    # The median at the target is within it (as the 5-business-day kickoff clock is met).
    assert (kickoff.value, kickoff.n, kickoff.target, kickoff.status) == (
        5.0, 2, "<= 5 business days", "ok")
    assert kickoff.note == ("1 of 2 within the target; 2 waiting (1 already past the "
                            "target); 1 without a won time (not measured)")
    assert "business days of the won deal's handoff-type calendar" in kickoff.definition


def test_a_stricter_kickoff_target_marks_the_median_above_it() -> None:
    policy = dataclasses.replace(POLICY, min_sample=1, targets=Targets(kickoff_business_days=2))
    result = report(won("prm:1", "A", close=date(2026, 12, 1), won_at=at(12, 1, 10),
                        kickoff_at=at(12, 4, 10)), policy=policy)
    kickoff = figure(result, "kickoff")
    assert (kickoff.value, kickoff.n, kickoff.status) == (3.0, 1, "above target")
    assert result.quality.kickoff.within == 0


def test_attribution_accuracy_counts_won_partner_deals_with_every_field_filled() -> None:
    result = report(
        won("prm:1", "A", close=date(2026, 12, 1), won_at=at(12, 1), **FIELDS),
        won("prm:2", "A", close=date(2026, 12, 1), won_at=at(12, 1),
            **{**FIELDS, "partner_split_pct": None}),
        won("prm:3", "B", close=date(2026, 12, 1), won_at=at(12, 1),
            **{**FIELDS, "partner_ongoing_role": "  "}),
        won("prm:4", "B", close=date(2026, 12, 1), won_at=at(12, 1), partner_account="B"),
        # Direct and open deals have no partner attribution to document.
        won("crm:5", None, close=date(2026, 12, 1), won_at=at(12, 1), kind=DIRECT),
        open_deal("prm:6", "A"))
    attribution = figure(result, "attribution")
    # 1 of 4 won partner deals documented; 4 < min_sample 5: shown, not marked.
    assert (attribution.value, attribution.n, attribution.status) == (
        25.0, 4, "not marked (n < 5)")
    assert attribution.target == ">= 100%"
    assert attribution.note == "1 of 4 documented"
    assert [(g.field, g.deals) for g in result.quality.attribution_gaps] == [
        ("partner_ongoing_role", 2), ("partner_split_pct", 2)]
    assert "(partner_account, partner_ongoing_role, partner_split_pct)" in \
        attribution.definition


def test_attribution_of_one_won_deal_with_a_sample_of_one_is_marked() -> None:
    policy = dataclasses.replace(POLICY, min_sample=1, attribution_fields=("partner_account",))
    result = report(won("prm:1", "A", close=date(2026, 12, 1), won_at=at(12, 1),
                        partner_account="A"), policy=policy)
    attribution = figure(result, "attribution")
    assert (attribution.value, attribution.n, attribution.status) == (100.0, 1, "ok")
    assert "(partner_account)" in attribution.definition


STARTED = at(10, 1)  # when the partner handoffs below started


def baseline(deal: str, close: date | None, recorded: datetime = STARTED,
             handoff_type: str = "partner_to_direct") -> BaselineFact:
    return BaselineFact(deal, handoff_type, recorded, close)


def test_the_on_time_bonus_judges_the_close_date_against_the_original_one() -> None:
    deals = (
        # Closed 12-01, originally due 12-05: on time; 7% of 100,000 = 7,000.
        won("prm:1", "A", close=date(2026, 12, 1), won_at=at(12, 1)),
        # Closed 12-08, originally due 11-30 (it slipped): late.
        won("prm:2", "A", close=date(2026, 12, 8), won_at=at(12, 8), amount=50_000),
        # Closed on its original date, 80,000 in EUR: on time, 5,600 owed in EUR.
        won("prm:3", "B", close=date(2026, 11, 20), won_at=at(11, 20), amount=80_000,
            currency="EUR"),
        # No original date on record (its handoff started before handoff-sync recorded it).
        won("prm:4", "B", close=date(2026, 11, 20), won_at=at(11, 20)),
        # On time without an amount: counted, nothing to pay on.
        won("prm:5", "B", close=date(2026, 11, 25), won_at=at(11, 25), amount=None),
        # Direct deals earn no partner bonus.
        won("crm:6", None, close=date(2026, 11, 25), won_at=at(11, 25), kind=DIRECT),
    )
    baselines = (baseline("prm:1", date(2026, 12, 5)), baseline("prm:2", date(2026, 11, 30)),
                 baseline("prm:3", date(2026, 11, 20)), baseline("prm:5", date(2026, 12, 31)),
                 baseline("crm:6", date(2026, 12, 31)),
                 # Another handoff type's date is not the one the bonus names.
                 baseline("prm:4", date(2026, 12, 31), handoff_type="closed_won_to_cs"))
    result = report(*deals, baselines=baselines)
    b = result.quality.bonus
    assert b is not None
    assert (b.won, b.judged, b.on_time, b.late, b.no_baseline, b.without_amount) == (
        5, 4, 3, 1, 1, 1)
    bonus = figure(result, "on_time_bonus")
    assert (bonus.label, bonus.value, bonus.n) == ("On-time bonus eligibility (7%)", 75.0, 4)
    assert bonus.note == ("bonus owed: EUR 5,600.00 on 1 deal; USD 7,000.00 on 1 deal; "
                          "1 won deal without an original close date on record")
    assert [(t.currency, t.deals, t.amount) for t in result.quality.bonus_totals] == [
        ("EUR", 1, Decimal("5600.00")), ("USD", 1, Decimal("7000.00"))]
    assert [(p.partner, p.currency, p.judged, p.on_time, p.late, p.no_baseline, p.amount)
            for p in result.quality.bonus_partners] == [
        ("A", "USD", 2, 1, 1, 0, Decimal("7000.00")),
        ("B", "EUR", 1, 1, 0, 0, Decimal("5600.00")),
        ("B", "USD", 1, 1, 0, 1, Decimal("0.00"))]
    assert "when their partner_to_direct handoff started" in bonus.definition
    assert "7% of its amount" in bonus.definition


def test_grace_days_stretch_the_original_timeline() -> None:
    deal = won("prm:1", "A", close=date(2026, 12, 8), won_at=at(12, 8))
    late = report(deal, baselines=(baseline("prm:1", date(2026, 12, 5)),))
    assert late.quality.bonus is not None and late.quality.bonus.late == 1
    graced = dataclasses.replace(POLICY, on_time_bonus=OnTimeBonus(
        pct=5, handoff_type="partner_to_direct", grace_days=3))
    result = report(deal, policy=graced, baselines=(baseline("prm:1", date(2026, 12, 5)),))
    assert result.quality.bonus is not None and result.quality.bonus.on_time == 1
    assert "plus 3 days" in figure(result, "on_time_bonus").definition


def test_without_a_named_type_the_first_handoff_counts_but_never_one_started_once_won(
        ) -> None:
    first = OnTimeBonus(pct=10)
    deals = (won("prm:1", "A", close=date(2026, 12, 8), won_at=at(12, 8)),
             won("prm:2", "A", close=date(2026, 12, 1), won_at=at(12, 1)))
    baselines = (
        # prm:1: its partner handoff (due 12-05) came before its CS one: late.
        baseline("prm:1", date(2026, 12, 5), at(10, 1)),
        baseline("prm:1", date(2026, 12, 8), at(12, 8, 1), "closed_won_to_cs"),
        # prm:2 was first seen already won: the date of its CS handoff is no original
        # timeline, so it is not judged.
        baseline("prm:2", date(2026, 12, 1), at(12, 2), "closed_won_to_cs"))
    result = report(*deals, policy=dataclasses.replace(POLICY, on_time_bonus=first),
                    baselines=baselines)
    b = result.quality.bonus
    assert b is not None and (b.judged, b.on_time, b.late, b.no_baseline) == (1, 0, 1, 1)
    assert "their first recorded handoff" in figure(result, "on_time_bonus").definition


def test_no_bonus_in_the_policy_shows_no_bonus() -> None:
    result = report(won("prm:1", "A", close=date(2026, 12, 1), won_at=at(12, 1)),
                    policy=dataclasses.replace(POLICY, on_time_bonus=None))
    assert result.quality.bonus is None and result.quality.bonus_partners == ()
    assert "on_time_bonus" not in [f.id for f in result.quality.figures]


def test_no_closed_deals_gives_no_values_and_says_why() -> None:
    result = report(open_deal("prm:1", "A"), open_deal("prm:2", "B"))
    values = {f.id: (f.value, f.n, f.status, f.note) for f in result.quality.figures}
    assert values["kickoff"] == (None, 0, "", "no won deal in the period needed a handoff")
    assert values["attribution"] == (None, 0, "", "no partner deal won in the period")
    assert values["cycle_impact"] == (
        None, 0, "", "no closed-won direct deals in the period to compare with")
    assert values["on_time_bonus"] == (None, 0, "", "no bonus owed")
    assert values["recycled"] == (0.0, 2, "", "0 deals")
    assert values["first_touch"][:2] == (None, 0)


def test_cycle_impact_without_direct_deals_is_clear_and_with_them_is_the_preservation_figure(
        ) -> None:
    partner = won("prm:1", "A", close=date(2026, 12, 1), won_at=at(12, 1))  # 61 days
    alone = figure(report(partner), "cycle_impact")
    assert (alone.value, alone.n, alone.status) == (None, 0, "")
    assert alone.note == "no closed-won direct deals in the period to compare with"
    direct = won("crm:2", None, close=date(2026, 11, 20), won_at=at(11, 20), kind=DIRECT)
    both = report(partner, direct, policy=dataclasses.replace(POLICY, min_sample=1))
    impact = figure(both, "cycle_impact")
    # 61 days against 50: +22%, over the +10% target.
    assert impact.value == both.preservation.cycle_impact_pct == 22.0
    assert (impact.n, impact.target, impact.status) == (1, "<= +10%", "above target")
    assert impact.note == "partner median 61 d (n=1), direct 50 d (n=1)"


def test_the_rejection_rate_is_the_acceptance_sections_with_its_alert() -> None:
    decisions = tuple(
        DecisionFact(f"prm:{n}", "partner_to_direct", "rejected" if n < 2 else "accepted",
                     at(12, 1), partner="A") for n in range(6))
    result = report(*(open_deal(f"prm:{n}", "A") for n in range(6)), decisions=decisions)
    rejection = figure(result, "rejection_rate")
    # 2 of 6 rejected = 33.3%, above the 5% alert, n = 6 >= 5: marked.
    assert rejection.value == result.acceptance.rejection_rate_pct == 33.3
    assert (rejection.n, rejection.target, rejection.status) == (6, "<= 5%", "above target")
    assert rejection.note == "1 partner above the alert"
    assert result.quality.alerts == result.acceptance.alerts == (
        "A: 2 of 6 handoffs rejected (33.3%), above 5%: investigate",)
    quiet = figure(report(open_deal("prm:1", "A"),
                          policy=dataclasses.replace(POLICY, rejection_alert_pct=None)),
                   "rejection_rate")
    assert (quiet.value, quiet.target, quiet.note) == (
        None, "", "no handoff type takes accept/reject")


def test_asks_count_rejections_and_gates_reopened_without_one() -> None:
    r1, r2, r3, r4 = at(11, 2), at(11, 5), at(11, 9), at(11, 12)
    rows = (
        history("prm:1", at(11, 1), "joint_discovery"),
        history("prm:1", r1, "pre_handoff_assessment"),  # the rejection reopened it
        history("prm:1", r2, "joint_discovery"),          # re-submitted, forward again
        history("prm:1", r3, "pre_handoff_assessment"),   # moved back by a person: an ask
        history("prm:1", r4, "knowledge_transfer"),
        history("prm:2", at(11, 1), "joint_discovery"),
        history("prm:2", r3, "knowledge_transfer"),       # only forward: no ask
        # A deal moving on to another handoff type starts at its first stage: no ask.
        history("prm:3", at(11, 1), "knowledge_transfer"),
        history("prm:3", r3, "kickoff", handoff_type="closed_won_to_cs"),
    )
    # Decided on 11-01, recorded by the cycle of 11-02 (the one that reopened the gate).
    decisions = (DecisionFact("prm:1", "partner_to_direct", "rejected", at(11, 1),
                              reason="No budget", partner="A", recorded_at=r1),
                 DecisionFact("prm:1", "partner_to_direct", "resubmitted", r2, partner="A",
                              recorded_at=r2))
    result = report(open_deal("prm:1", "A"), open_deal("prm:2", "A"),
                    won("prm:3", "B", close=date(2026, 11, 9), won_at=at(11, 9)),
                    open_deal("prm:4", "B", required=False), history=rows,
                    decisions=decisions)
    a = result.quality.asks
    # Handoffs: prm:1, 2, 3 (prm:4 never needed one). One deal asked twice.
    assert (a.handoffs, a.asked, a.rejections, a.reopened, a.asks) == (3, 1, 1, 1, 2)
    asked = figure(result, "asked_for_context")
    assert (asked.value, asked.n, asked.note) == (33.3, 3, "2 asks: 1 rejection, 1 gate "
                                                  "reopened")
    # The period: a reopening before it does not count (the rejection's decision time,
    # 11-01, is before it too).
    later = report(open_deal("prm:1", "A"), history=rows, decisions=decisions, since=at(11, 10))
    assert (later.quality.asks.rejections, later.quality.asks.reopened) == (0, 0)


def test_recycled_deals_ended_without_moving_on_and_started_again() -> None:
    rows = (
        # prm:1: lost (no longer needed, same type), reopened: recycled once.
        history("prm:1", at(11, 1), "joint_discovery"),
        history("prm:1", at(11, 5), "joint_discovery", required=False),
        history("prm:1", at(11, 8), "joint_discovery"),
        # prm:2: won, moved on to customer success: not recycled.
        history("prm:2", at(11, 1), "knowledge_transfer"),
        history("prm:2", at(11, 6), "kickoff", handoff_type="closed_won_to_cs"),
        # prm:3: first needed a handoff on 11-04 (grew over the threshold): a start, not
        # a restart.
        history("prm:3", at(11, 1), "pre_handoff_assessment", required=False),
        history("prm:3", at(11, 4), "pre_handoff_assessment"),
        # prm:4: no type applied for a while (verdict without one), then back: recycled
        # twice, the second time in the period.
        history("prm:4", at(11, 1), "joint_discovery"),
        history("prm:4", at(11, 2), None, required=False, handoff_type=None),
        history("prm:4", at(11, 3), "joint_discovery"),
        history("prm:4", at(11, 20), "joint_discovery", required=False),
        history("prm:4", at(11, 25), "joint_discovery"),
    )
    deals = (open_deal("prm:1", "A"), won("prm:2", "A", close=date(2026, 11, 6),
                                          won_at=at(11, 6)),
             open_deal("prm:3", "B"), open_deal("prm:4", "B"))
    result = report(*deals, history=rows)
    assert [(r.deal, r.partner, r.handoff_type, r.restarts, r.last_restarted_at)
            for r in result.quality.recycled] == [
        ("prm:4", "B", "partner_to_direct", 2, at(11, 25)),
        ("prm:1", "A", "partner_to_direct", 1, at(11, 8))]
    recycled = figure(result, "recycled")
    assert (recycled.value, recycled.n, recycled.note) == (50.0, 4, "2 deals")
    since = report(*deals, history=rows, since=at(11, 10)).quality.recycled
    assert [(r.deal, r.restarts) for r in since] == [("prm:4", 1)]


def test_first_touch_is_the_sla_sections_figure() -> None:
    from handoff_sync.report.facts import ClockFact
    clocks = (ClockFact("prm:1", "partner_to_direct", "first_touch", at(12, 1, 10),
                        at(12, 8), "met", at(12, 2, 16)),                  # 30 h
              ClockFact("prm:2", "partner_to_direct", "first_touch", at(12, 1, 10),
                        at(12, 8), "on_track"))                            # waiting
    result = report(open_deal("prm:1", "A"), open_deal("prm:2", "A"), clocks=clocks)
    touch = figure(result, "first_touch")
    assert (touch.value, touch.n, touch.note) == (30.0, 1, "mean 30 h; 1 still waiting")
    assert touch.value == result.sla.first_touch_median_hours


def test_groups_show_n_and_a_wilson_interval_and_mark_small_ones() -> None:
    deals = [*(open_deal(f"prm:{n}", "A") for n in range(5)),
             won("prm:9", "B", close=date(2026, 12, 1), won_at=at(12, 1), **FIELDS)]
    decisions = (DecisionFact("prm:0", "partner_to_direct", "rejected", at(12, 1),
                              partner="A"),)
    groups = {g.group: g for g in report(*deals, decisions=decisions).quality.groups}
    a, b = groups["A"], groups["B"]
    assert (a.handoffs, a.asked, a.asked_pct, a.small) == (5, 1, 20.0, False)
    assert (a.asked_low, a.asked_high) == wilson(1, 5) == (3.6, 62.4)
    assert (b.handoffs, b.won_partner, b.documented_pct, b.small) == (1, 1, 100.0, True)
    assert (b.documented_low, b.documented_high) == wilson(1, 1) == (20.7, 100.0)
    by_region = report(*deals, by="region").quality
    assert by_region.by == "region" and [g.group for g in by_region.groups] == ["(none)"]
    assert "By region, most handoffs first (not a ranking)" in by_region.groups_definition


@pytest.mark.parametrize(("successes", "n", "expected"), [
    (0, 10, (0.0, 27.8)), (5, 10, (23.7, 76.3)), (10, 10, (72.2, 100.0)), (0, 0, (None, None)),
])
def test_wilson_interval(successes: int, n: int, expected: tuple[float | None, ...]) -> None:
    assert wilson(successes, n) == expected


def test_every_figure_carries_its_definition_and_the_section_is_in_every_format() -> None:
    from handoff_sync.report import render

    result = report(won("prm:1", "A", close=date(2026, 12, 1), won_at=at(12, 1),
                        kickoff_at=at(12, 4, 10), **FIELDS),
                    baselines=(baseline("prm:1", date(2026, 12, 5)),))
    assert all(f.definition for f in result.quality.figures)
    assert [f.id for f in result.quality.figures] == [
        "rejection_rate", "asked_for_context", "recycled", "first_touch", "kickoff",
        "cycle_impact", "attribution", "on_time_bonus"]
    table, csv, json, html = (render(result, fmt) for fmt in ("table", "csv", "json", "html"))
    for figure_ in result.quality.figures:
        words = figure_.definition[:40]
        assert escape(words) in html and words in json and words in csv
    assert "Handoff quality (quality)" in table and "On-time bonus eligibility (7%)" in table
    assert "quality,on_time_bonus,figures.value,100.0" in csv
    assert 'id="quality"' in html and "7,000.00" in html
    assert not re.search(r"\bnan\b", html + table + csv + json, re.IGNORECASE)
