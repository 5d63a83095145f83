"""engine.baselines through engine.plan: the close date a deal had when its handoff
started is recorded once and survives the deal's close date moving (the on-time bonus
needs the original timeline; close_date syncs both ways and slips)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

from handoff_sync.engine.baselines import baseline_for
from handoff_sync.engine.plan import plan
from handoff_sync.engine.types import EngineState, HandoffBaseline, Verdict
from handoff_sync.model import GateStatus
from handoff_sync.testing.builders import apply_plan
from tests.unit.test_engine_plan import NOW, inputs, opportunity, registration

ORIGINAL = date(2027, 1, 15)  # the opportunity's CloseDate in test_engine_plan
LATER = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_a_deal_first_seen_needing_its_handoff_records_todays_close_date() -> None:
    result = plan(inputs(registration(), opportunity()))
    assert result.baselines == (
        HandoffBaseline("prm:501", "partner_to_direct", NOW, ORIGINAL),)
    assert result.counts()["baselines"] == 1


def test_the_baseline_stays_when_the_close_date_moves_later() -> None:
    first = inputs(registration(), opportunity())
    after = apply_plan(first, plan(first))
    slipped = inputs(registration(), opportunity(CloseDate=date(2027, 3, 31)), after.state)
    result = plan(dataclasses.replace(slipped, now=LATER))
    assert result.baselines == ()
    assert after.state.baselines[("prm:501", "partner_to_direct")].close_date == ORIGINAL


def test_a_deal_that_needs_no_handoff_records_nothing() -> None:
    small = inputs(registration(amount="5000"), opportunity(Amount=5000.0))
    result = plan(small)
    assert [v.required for v in result.verdicts] == [False]
    assert result.baselines == ()


def test_a_handoff_that_starts_later_records_the_close_date_of_that_cycle() -> None:
    small = inputs(registration(amount="5000"), opportunity(Amount=5000.0))
    after = apply_plan(small, plan(small))
    grown = inputs(registration(), opportunity(CloseDate=date(2027, 2, 1)), after.state)
    result = plan(dataclasses.replace(grown, now=LATER))
    assert result.baselines == (
        HandoffBaseline("prm:501", "partner_to_direct", LATER, date(2027, 2, 1)),)


def verdict(required: bool, handoff_type: str | None = "partner_to_direct") -> Verdict:
    return Verdict("prm:1", None, "1", handoff_type, "s1", required, GateStatus.BLOCKED, 50, ())


def test_a_handoff_under_way_before_baselines_were_recorded_gets_none() -> None:
    # The store was migrated mid-handoff: today's date is not the original one.
    assert baseline_for(deal="prm:1", handoff_type="partner_to_direct", required=True,
                        close_date=ORIGINAL, previous=verdict(True), stored=None,
                        now=NOW) is None
    # Another handoff type of the same deal starting (won: customer success) is new.
    started = baseline_for(deal="prm:1", handoff_type="closed_won_to_cs", required=True,
                           close_date=ORIGINAL, previous=verdict(True), stored=None, now=NOW)
    assert started == HandoffBaseline("prm:1", "closed_won_to_cs", NOW, ORIGINAL)


def test_a_baseline_without_a_close_date_takes_the_first_one_given_then_keeps_it() -> None:
    blank = HandoffBaseline("prm:1", "partner_to_direct", NOW, None)
    filled = baseline_for(deal="prm:1", handoff_type="partner_to_direct", required=True,
                          close_date=ORIGINAL, previous=verdict(True), stored=blank,
                          now=LATER)
    assert filled == HandoffBaseline("prm:1", "partner_to_direct", NOW, ORIGINAL)
    assert baseline_for(deal="prm:1", handoff_type="partner_to_direct", required=True,
                        close_date=date(2027, 6, 1), previous=verdict(True), stored=filled,
                        now=LATER) is None
    # Stopping and starting again keeps the first baseline: it is the original timeline.
    assert baseline_for(deal="prm:1", handoff_type="partner_to_direct", required=True,
                        close_date=date(2027, 6, 1), previous=verdict(False), stored=filled,
                        now=LATER) is None


def test_a_redone_plan_from_the_recorded_state_records_nothing_again() -> None:
    first = inputs(registration(), opportunity())
    after = apply_plan(first, plan(first))
    assert after.state.baselines
    assert plan(after).baselines == ()
    assert EngineState().baselines == {}
