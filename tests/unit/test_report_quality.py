"""The "Handoff quality" figures on hand-built histories, each worked out by hand in the
comment next to it, and the edge cases a manager meets: no closed deals, no direct deals,
n = 1, a bonus the policy does not define, a date recorded only once the deal was won."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from html import escape

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
from handoff_sync.report.figure import Figure
from handoff_sync.report.figures import Report, compute
from handoff_sync.report.quality import business_days, every_figure, headline
from handoff_sync.report.stats import ABOVE, BELOW, NO_DATA, OK, SMALL


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


def judged(figure: Figure) -> tuple[object, ...]:
    """What a reader sees of a figure: value, n, target and the verdict."""
    return figure.value, figure.n, figure.target, figure.status


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
    q = result.quality
    # The median at the target is within it (as the 5-business-day kickoff clock is met).
    assert judged(q.kickoff) == (5.0, 2, 5, OK)  # (3 + 7) / 2
    assert (q.kickoff.unit, q.kickoff.target_kind) == (" business days", "at most")
    assert (q.kickoff_in_time.value, q.kickoff_in_time.n) == (50.0, 2)
    assert (q.kickoff_waiting.value, q.kickoff_overdue.value,
            q.kickoff_unmeasured.value) == (2, 1, 1)
    assert "of 5" in q.kickoff_waiting.definition  # five won deals needed a handoff
    assert "business days of the won deal's handoff-type calendar" in q.kickoff.definition


def test_a_stricter_kickoff_target_marks_the_median_above_it() -> None:
    policy = dataclasses.replace(POLICY, min_sample=1, targets=Targets(kickoff_business_days=2))
    result = report(won("prm:1", "A", close=date(2026, 12, 1), won_at=at(12, 1, 10),
                        kickoff_at=at(12, 4, 10)), policy=policy)
    assert judged(result.quality.kickoff) == (3.0, 1, 2, ABOVE)
    assert result.quality.kickoff_in_time.value == 0.0


DEALS_OF_ATTRIBUTION = (
    won("prm:1", "A", close=date(2026, 12, 1), won_at=at(12, 1), **FIELDS),
    won("prm:2", "A", close=date(2026, 12, 1), won_at=at(12, 1),
        **{**FIELDS, "partner_split_pct": None}),
    won("prm:3", "B", close=date(2026, 12, 1), won_at=at(12, 1),
        **{**FIELDS, "partner_ongoing_role": "  "}),
    won("prm:4", "B", close=date(2026, 12, 1), won_at=at(12, 1), partner_account="B"),
    # Direct and open deals have no partner attribution to document.
    won("crm:5", None, close=date(2026, 12, 1), won_at=at(12, 1), kind=DIRECT),
    open_deal("prm:6", "A"))


def test_attribution_accuracy_counts_won_partner_deals_with_every_field_filled() -> None:
    result = report(*DEALS_OF_ATTRIBUTION)
    attribution = result.quality.attribution
    # 1 of 4 won partner deals documented; 4 < min_sample 5: shown, not judged.
    assert judged(attribution) == (25.0, 4, 100, SMALL)
    assert (attribution.low_pct, attribution.high_pct) == (4.6, 69.9)  # Wilson 95%
    # The same four won partner deals, judged at min_sample 4: below the target.
    four = dataclasses.replace(POLICY, min_sample=4)
    assert judged(compute(ReportData("partners", tuple(DEALS_OF_ATTRIBUTION), policy=four),
                          now=NOW).quality.attribution) == (25.0, 4, 100, BELOW)
    assert [(g.label, g.count) for g in result.quality.attribution_gaps] == [
        ("partner_ongoing_role", 2), ("partner_split_pct", 2)]
    assert "(partner_account, partner_ongoing_role, partner_split_pct:" in \
        attribution.definition


def test_attribution_of_one_won_deal_with_a_sample_of_one_is_marked() -> None:
    policy = dataclasses.replace(POLICY, min_sample=1, attribution_fields=("partner_account",))
    result = report(won("prm:1", "A", close=date(2026, 12, 1), won_at=at(12, 1),
                        partner_account="A"), policy=policy)
    attribution = result.quality.attribution
    assert judged(attribution) == (100.0, 1, 100, OK)
    assert "(partner_account:" in attribution.definition
    # The same deal under a stricter min_sample is shown, not judged.
    small = report(won("prm:1", "A", close=date(2026, 12, 1), won_at=at(12, 1),
                       partner_account="A"),
                   policy=dataclasses.replace(policy, min_sample=5))
    assert judged(small.quality.attribution) == (100.0, 1, 100, SMALL)


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
    assert (b.late.value, b.no_original.value, b.without_amount.value) == (1, 1, 1)
    bonus = b.on_time
    assert (bonus.label, bonus.value, bonus.n) == ("on-time bonus eligibility (7%)", 75.0, 4)
    assert [(t.currency, t.deals, t.amount) for t in b.totals] == [
        ("EUR", 1, Decimal("5600.00")), ("USD", 1, Decimal("7000.00"))]
    assert [(p.partner, p.currency, p.judged, p.on_time, p.late, p.no_original, p.amount)
            for p in b.partners] == [
        ("A", "USD", 2, 1, 1, 0, Decimal("7000.00")),
        ("B", "EUR", 1, 1, 0, 0, Decimal("5600.00")),
        ("B", "USD", 1, 1, 0, 1, Decimal("0.00"))]
    assert "when their partner_to_direct handoff started" in bonus.definition
    assert "7% of its amount" in bonus.definition


def test_grace_days_stretch_the_original_timeline() -> None:
    deal = won("prm:1", "A", close=date(2026, 12, 8), won_at=at(12, 8))
    late = report(deal, baselines=(baseline("prm:1", date(2026, 12, 5)),))
    assert late.quality.bonus is not None and late.quality.bonus.late.value == 1
    graced = dataclasses.replace(POLICY, on_time_bonus=OnTimeBonus(
        pct=5, handoff_type="partner_to_direct", grace_days=3))
    result = report(deal, policy=graced, baselines=(baseline("prm:1", date(2026, 12, 5)),))
    assert result.quality.bonus is not None
    assert (result.quality.bonus.on_time.value, result.quality.bonus.on_time.n) == (100.0, 1)
    assert "plus 3 days" in result.quality.bonus.on_time.definition


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
    assert b is not None
    assert (b.on_time.n, b.on_time.value, b.late.value, b.no_original.value) == (1, 0.0, 1, 1)
    assert "their first recorded handoff" in b.on_time.definition


def test_no_bonus_in_the_policy_shows_no_bonus() -> None:
    result = report(won("prm:1", "A", close=date(2026, 12, 1), won_at=at(12, 1)),
                    policy=dataclasses.replace(POLICY, on_time_bonus=None))
    assert result.quality.bonus is None
    assert not [f for f in every_figure(result.quality) if "bonus" in f.label]


def test_no_closed_deals_gives_no_values_and_says_why() -> None:
    q = report(open_deal("prm:1", "A"), open_deal("prm:2", "B")).quality
    seen = {f.label: (f.value, f.n, f.status, f.why) for f in every_figure(q)}
    assert seen["time to kickoff, median"] == (
        None, 0, NO_DATA, "no kickoff recorded for a won deal in the period")
    assert seen["attribution accuracy"] == (None, 0, NO_DATA,
                                            "no partner deal won in the period")
    assert seen["cycle-length impact vs direct deals"][:3] == (None, 0, NO_DATA)
    assert seen["on-time bonus eligibility (7%)"] == (
        None, 0, NO_DATA, "no won partner deal with its original close date on record")
    # Two handoffs, none recycled: 0% of 2, not judged (n < 5) and no target anyway.
    assert seen["recycled deals"] == (0.0, 2, SMALL, "")
    assert q.first_touch == ()  # no first-touch clock in the period


def test_cycle_impact_without_direct_deals_is_clear_and_with_them_is_the_preservation_figure(
        ) -> None:
    partner = won("prm:1", "A", close=date(2026, 12, 1), won_at=at(12, 1))  # 61 days
    alone = report(partner).quality.cycle_impact
    assert (alone.value, alone.n, alone.status) == (None, 0, NO_DATA)
    assert alone.why == "no closed-won direct deal to compare with"
    direct = won("crm:2", None, close=date(2026, 11, 20), won_at=at(11, 20), kind=DIRECT)
    both = report(partner, direct, policy=dataclasses.replace(POLICY, min_sample=1))
    impact = both.quality.cycle_impact
    # 61 days against 50: +22%, over the +10% target.
    assert judged(impact) == (22.0, 1, 10, ABOVE)
    assert impact.value == both.preservation.cycle_impact.value and impact.signed
    assert impact.definition == both.preservation.cycle_impact.definition


def test_the_rejection_rate_is_the_acceptance_sections_with_its_alert() -> None:
    decisions = tuple(
        DecisionFact(f"prm:{n}", "partner_to_direct", "rejected" if n < 2 else "accepted",
                     at(12, 1), partner="A") for n in range(6))
    result = report(*(open_deal(f"prm:{n}", "A") for n in range(6)), decisions=decisions)
    rejection = result.quality.rejection_rate
    # 2 of 6 rejected = 33.3%, above the 5% alert, n = 6 >= 5: judged.
    assert judged(rejection) == (33.3, 6, 5, ABOVE)
    assert rejection.value == result.acceptance.rejection_rate.value
    assert result.quality.alerts == result.acceptance.alerts == (
        "A: 2 of 6 handoffs rejected (33.3%), above 5%: investigate",)
    quiet = report(open_deal("prm:1", "A"),
                   policy=dataclasses.replace(POLICY, rejection_alert_pct=None))
    assert (quiet.quality.rejection_rate.value, quiet.quality.rejection_rate.target) == (
        None, None)


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
    q = result.quality
    # Handoffs: prm:1, 2, 3 (prm:4 never needed one). One deal asked twice.
    assert (q.asked_for_context.value, q.asked_for_context.n) == (33.3, 3)
    assert (q.rejections.value, q.reopened.value) == (1, 1)
    # The period: a reopening before it does not count (the rejection's decision time,
    # 11-01, is before it too).
    later = report(open_deal("prm:1", "A"), history=rows, decisions=decisions, since=at(11, 10))
    assert (later.quality.rejections.value, later.quality.reopened.value) == (0, 0)


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
            for r in result.quality.recycled_deals] == [
        ("prm:4", "B", "partner_to_direct", 2, at(11, 25)),
        ("prm:1", "A", "partner_to_direct", 1, at(11, 8))]
    recycled = result.quality.recycled
    assert (recycled.value, recycled.n, recycled.low_pct) == (50.0, 4, 15.0)
    since = report(*deals, history=rows, since=at(11, 10)).quality.recycled_deals
    assert [(r.deal, r.restarts) for r in since] == [("prm:4", 1)]


def test_first_touch_is_the_sla_sections_figure() -> None:
    from handoff_sync.report.facts import ClockFact
    clocks = (ClockFact("prm:1", "partner_to_direct", "first_touch", at(12, 1, 10),
                        at(12, 8), "met", at(12, 2, 16)),                  # 30 h
              ClockFact("prm:2", "partner_to_direct", "first_touch", at(12, 1, 10),
                        at(12, 8), "on_track"))                            # waiting
    result = report(open_deal("prm:1", "A"), open_deal("prm:2", "A"), clocks=clocks,
                    policy=dataclasses.replace(POLICY, clock_labels={"first_touch":
                                                                     "First touch"}))
    [touch] = result.quality.first_touch
    [sla] = result.sla.first_touch
    assert (touch.value, touch.n) == (sla.median.value, sla.median.n) == (30.0, 1)
    assert touch.label == "time to first touch, median: First touch"


def test_groups_show_n_and_a_wilson_interval_and_judge_only_large_ones() -> None:
    deals = [*(open_deal(f"prm:{n}", "A") for n in range(5)),
             won("prm:9", "B", close=date(2026, 12, 1), won_at=at(12, 1),
                 kickoff_at=at(12, 2), **FIELDS)]
    decisions = (DecisionFact("prm:0", "partner_to_direct", "rejected", at(12, 1),
                              partner="A"),)
    q = report(*deals, decisions=decisions).quality
    rows = {r.group: r for r in q.rows}
    a, b = rows["A"], rows["B"]
    # A: 1 of 5 asked, Wilson 95% [3.6-62.4]; no target for asks.
    assert (a.handoffs, a.asked.part, a.asked.value, a.asked.status) == (5, 1, 20.0, "")
    assert (a.asked.low_pct, a.asked.high_pct) == (3.6, 62.4)
    # B: one won deal, documented, kickoff the next day: shown, not judged (n < 5).
    assert (b.handoffs, b.attribution.value, b.attribution.status) == (1, 100.0, SMALL)
    assert (b.kickoff.value, b.kickoff.n, b.kickoff.status) == (1.0, 1, SMALL)
    assert [r.group for r in q.rows] == ["A", "B"]  # most handoffs first, not a ranking
    assert [c.label for c in q.columns] == [
        "partner", "handoffs", "asked for context", "recycled",
        "kickoff (<= 5 business days)", "attribution (>= 100%)"]
    by_region = report(*deals, by="region").quality
    assert (by_region.by, [r.group for r in by_region.rows]) == ("region", ["(none)"])


def test_every_figure_carries_its_definition_and_the_section_is_in_every_format() -> None:
    from handoff_sync.report import render

    result = report(won("prm:1", "A", close=date(2026, 12, 1), won_at=at(12, 1),
                        kickoff_at=at(12, 4, 10), **FIELDS),
                    baselines=(baseline("prm:1", date(2026, 12, 5)),))
    figures = every_figure(result.quality)
    assert all(f.definition for f in figures)
    assert [f.label for f in headline(result.quality)] == [
        "rejection rate", "receivers asked for missing context", "recycled deals",
        "time to kickoff, median", "cycle-length impact vs direct deals",
        "attribution accuracy", "on-time bonus eligibility (7%)"]
    table, csv, json, html = (render(result, fmt) for fmt in ("table", "csv", "json", "html"))
    for figure_ in figures:
        words = figure_.definition[:40]
        assert escape(words) in html and words in json and words in csv
    assert "Handoff quality (quality)" in table and "on-time bonus eligibility (7%)" in table
    assert "quality,,bonus.on_time.value,100.0" in csv
    assert 'id="quality"' in html and "7,000.00" in html
    assert not re.search(r"\bnan\b", html + table + csv + json, re.IGNORECASE)
