"""A report's period end (report.period, figures.compute(until=...)) on the hand-worked
data sets of test_report_figures, test_report_quality and test_report_funnel: the rows
as they stood at the end, and the figures' "now" the end when it is past. Every expected
number is worked out next to it."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from handoff_sync.report import render
from handoff_sync.report.facts import (
    PARTNER,
    PRM_ONLY,
    DealFact,
    PolicyFacts,
    ReportData,
    SlaEventFact,
)
from handoff_sync.report.figures import compute
from handoff_sync.report.funnel import FunnelMemo
from handoff_sync.report.period import parse_end, parse_start
from handoff_sync.report.text import period, subtitle
from tests.unit.test_report_figures import DATA, DEALS, EVENTS, NOW, ONE, SINCE, at
from tests.unit.test_report_funnel import DEALS as FUNNEL_DEALS
from tests.unit.test_report_funnel import FUNNEL

ONE_DATA = dataclasses.replace(DATA, policy=ONE)


def test_a_day_given_as_the_end_is_in_the_period() -> None:
    assert parse_end("2026-09-30").isoformat() == "2026-10-01T00:00:00+00:00"
    assert parse_end("2026-09-30T17:00:00+02:00").isoformat() == \
        "2026-09-30T15:00:00+00:00"
    with pytest.raises(ValueError):
        parse_end("end of Q3")
    assert period(parse_start("2026-07-01"), parse_end("2026-09-30")) == \
        "1 Jul 2026 – 30 Sep 2026"
    assert period(None, parse_end("2026-09-30")) == "up to 30 Sep 2026"
    assert period(parse_start("2026-07-01"), None) == "since 1 Jul 2026"
    assert period(None, None) == "since the first cycle"


def test_deals_closed_after_the_end_were_open_and_later_ones_did_not_exist() -> None:
    created_later = DealFact("crm:9", "direct", owner="ae1@v.example", region="NA",
                             created_at=at(12, 5))
    registered_later = DealFact("prm:10", PRM_ONLY, partner="C", values={
        "custom.registered_at": at(12, 3)})
    data = dataclasses.replace(ONE_DATA, deals=(*DEALS, created_later, registered_later))
    until = parse_end("2026-11-30")  # 1 Dec 00:00
    report = compute(data, now=NOW, since=SINCE, until=until)
    # In: prm:1 (open), prm:2 (won 11-20), prm:3 (lost 11-25), prm:4 (closed 12-01:
    # after the end, so open then), prm:5 (no creation date: kept), crm:6 (won 11-30).
    # Out: crm:7, crm:8 (closed before 11-15), crm:9 and prm:10 (created after the end).
    assert (report.volume.total.value, report.volume.partner.value) == (6, 4)
    # Partner deals closed in the period: prm:2 won, prm:3 lost (prm:4 was still open).
    p = report.preservation.preservation
    assert (p.value, p.n) == (50.0, 2)
    everything = compute(data, now=NOW, since=SINCE)
    assert (everything.preservation.preservation.value,
            everything.preservation.preservation.n) == (66.7, 3)
    assert (report.until, report.generated_at) == (until, NOW)
    assert "15 Nov 2026 – 30 Nov 2026" in subtitle(report)
    assert any(n.startswith("Period: deals open at its end") for n in report.notes)


def test_clocks_are_as_they_stood_at_the_end_and_later_rows_are_left_out() -> None:
    events = (*EVENTS,
              SlaEventFact("prm:5", "handoff_complete", "at_risk", at(11, 30)),
              SlaEventFact("prm:1", "handoff_complete", "at_risk", at(12, 5)))
    data = dataclasses.replace(ONE_DATA, events=events)
    report = compute(data, now=NOW, since=SINCE, until=parse_end("2026-12-01"))  # 12-02
    sla = report.sla
    # prm:2's met on 11-21: met. prm:5's first touch, due 11-27: past due. prm:1's first
    # touch (met 12-02 16:00) and prm:4's CS clock (due 12-03, breached 12-05) were
    # running then, in time: on track, with prm:1's handoff clock. prm:5's handoff clock
    # had its at-risk event on 11-30 (prm:1's came after the end).
    assert (sla.met.value, sla.past_due.value, sla.breached.value) == (1, 1, 1)
    assert (sla.on_track.value, sla.at_risk.value) == (3, 1)
    assert (sla.within_sla.value, sla.within_sla.n) == (50.0, 2)
    # prm:4's breach on 12-03 is after the end; so are the conflicts of 12-02 and 12-03.
    assert sla.breach_events.value == 1
    assert report.reviews.conflicts.value == 0
    # The scorecard's "now" is the end: prm:1 stood at 40, prm:2 at 80 (start 50).
    a = next(s for s in report.scorecard.partners if s.partner == "A")
    assert (a.trend_start_pct, a.trend_now_pct, a.trend_delta) == (50.0, 60.0, 10.0)
    assert [t.mean_pct for t in report.scorecard.trend] == [47.5, 52.5, 60.0]  # no 12-02
    # Review items are open now, whatever the period.
    assert report.reviews.open.value == 3


def test_an_end_in_the_future_is_the_report_so_far() -> None:
    so_far = compute(ONE_DATA, now=NOW, since=SINCE, until=parse_end("2026-12-31"))
    plain = compute(ONE_DATA, now=NOW, since=SINCE)
    assert (so_far.volume, so_far.sla, so_far.scorecard) == (
        plain.volume, plain.sla, plain.scorecard)


def test_an_end_before_the_start_is_refused() -> None:
    with pytest.raises(ValueError, match="the period ends"):
        compute(DATA, now=NOW, since=SINCE, until=parse_end("2026-11-14"))


def test_a_kickoff_held_after_the_end_was_still_awaited() -> None:
    won = DealFact("prm:9", PARTNER, partner="A", handoff_type="closed_won_to_cs",
                   is_closed=True, is_won=True, close_date=date(2026, 11, 20),
                   required=True, values={"won_at": at(11, 20, 10),
                                          "kickoff_at": at(12, 4, 10)})
    data = ReportData(pipeline="p", deals=(won,), policy=ONE)
    held = compute(data, now=NOW).quality
    assert (held.kickoff.n, held.kickoff_waiting.value) == (1, 0)
    quarter = compute(data, now=NOW, until=parse_end("2026-11-30")).quality
    assert (quarter.kickoff.n, quarter.kickoff_waiting.value) == (0, 1)
    # 20 Nov 10:00 to 1 Dec 00:00 is over the 5 business days' target.
    assert quarter.kickoff_overdue.value == 1


def test_a_funnel_step_reached_after_the_end_was_not_reached_yet() -> None:
    # The funnel tests' deals carry their close date in their values only.
    deals = tuple(dataclasses.replace(d, close_date=d.values.get("close_date"))
                  for d in FUNNEL_DEALS)
    data = ReportData(pipeline="p", deals=deals,
                      policy=PolicyFacts(funnels=(FUNNEL,), min_sample=1))
    funnel = compute(data, now=NOW, until=parse_end("2026-11-12")).funnel.funnels[0]
    # p6 was registered on 11-20: not yet. p3 closed with no close date: in no period.
    # p1 and p2 closed after the end: open, not won. p5's approval is at 11-13 00:00.
    assert funnel.entered == 4  # p1, p2, p4, p5
    assert {s.step: s.reached for s in funnel.steps} == {
        "registered": 4, "approved": 2, "intro": 1, "won": 0}
    assert funnel.lost == 1  # p4's registration rejected
    whole = compute(data, now=NOW).funnel.funnels[0]
    assert {s.step: s.reached for s in whole.steps} == {
        "registered": 6, "approved": 5, "intro": 3, "won": 2}


def test_every_format_carries_the_end() -> None:
    report = compute(DATA, now=NOW, since=SINCE, until=parse_end("2026-11-30"))
    assert '"until": "2026-12-01T00:00:00+00:00"' in render(report, "json")
    assert "report,,until,2026-12-01T00:00:00+00:00" in render(report, "csv")
    assert "15 Nov 2026 – 30 Nov 2026" in render(report, "html")
    assert "15 Nov 2026 – 30 Nov 2026" in render(report, "table")


def test_reports_with_an_end_reuse_one_memo_without_growing_it() -> None:
    """The console's memo (one per rows read) across the minute tick: the deals closed
    after the end are taken back to it once per end, so the funnel section is found again
    and the memo's size stays put; the figures are those computed without it."""
    deals = tuple(dataclasses.replace(d, close_date=d.values.get("close_date"))
                  for d in FUNNEL_DEALS)
    data = ReportData(pipeline="p", deals=deals,
                      policy=PolicyFacts(funnels=(FUNNEL,), min_sample=1))
    until, memo = parse_end("2026-11-12"), FunnelMemo()
    first = compute(data, now=NOW, until=until, memo=memo)
    kept = memo.kept()
    for minute in range(1, 5):
        again = compute(data, now=NOW + timedelta(minutes=minute), until=until, memo=memo)
        assert again.funnel is first.funnel
    assert memo.kept() == kept
    assert first.funnel == compute(data, now=NOW, until=until).funnel
    assert first.funnel.funnels[0].entered == 4  # p1 and p2 closed after it: open then
