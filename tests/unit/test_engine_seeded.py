"""The engine over the sandbox's seeded org pair, checked against the seed's own truth.

The seed generator knows, per scenario, whether a registration is linked by an explicit
id, findable only by fuzzy matching, ambiguous (a decoy opportunity competes), in a
channel conflict with another partner's registration, or has no opportunity at all. The
engine has to reach the same verdicts from the records alone.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from handoff_sync.engine.plan import plan
from handoff_sync.engine.types import LinkMethod, Plan, ReviewKind
from handoff_sync.model import GateStatus, Role
from handoff_sync.testing.builders import SeededInputs, apply_plan, seeded_inputs

NOW = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def seeded() -> SeededInputs:
    return seeded_inputs(deals=400, now=NOW)


@pytest.fixture(scope="module")
def first(seeded: SeededInputs) -> Plan:
    return plan(seeded.engine_input(NOW))


def test_registrations_with_an_explicit_id_are_linked_to_that_opportunity(
        seeded: SeededInputs, first: Plan) -> None:
    links = {change.link.prm_id: change.link for change in first.links}
    explicit = [t for t in seeded.truth.scenarios if t.link == "explicit"]
    assert explicit
    for scenario in explicit:
        link = links[scenario.hs_registration_id]
        assert (link.crm_id, link.method) == (scenario.sf_opportunity_id, LinkMethod.ID_FIELD)


def test_fuzzy_only_registrations_are_matched_or_sent_to_review_never_mislinked(
        seeded: SeededInputs, first: Plan) -> None:
    links = {change.link.prm_id: change.link for change in first.links}
    reviewed = {item.deal for item in first.reviews if item.kind is ReviewKind.AMBIGUOUS_LINK}
    outcome = Counter()
    for scenario in seeded.truth.scenarios:
        if scenario.link != "fuzzy":
            continue
        link = links.get(scenario.hs_registration_id)
        if link is not None:
            assert link.crm_id == scenario.sf_opportunity_id, scenario
            outcome["linked"] += 1
        else:
            outcome["reviewed" if f"prm:{scenario.hs_registration_id}" in reviewed
                    else "missed"] += 1
    assert outcome["linked"] >= 0.8 * sum(outcome.values()), outcome
    assert outcome["missed"] == 0, outcome


def test_a_registration_with_a_decoy_opportunity_is_never_guessed(
        seeded: SeededInputs, first: Plan) -> None:
    links = {change.link.prm_id: change.link for change in first.links}
    for scenario in seeded.truth.scenarios:
        if scenario.link == "ambiguous":
            link = links.get(scenario.hs_registration_id)
            assert link is None or link.crm_id == scenario.sf_opportunity_id, scenario


def test_conflicting_partner_registrations_become_one_channel_conflict_review(
        seeded: SeededInputs, first: Plan) -> None:
    conflicts = [item for item in first.reviews if item.kind is ReviewKind.CHANNEL_CONFLICT]
    by_index = {t.number: t for t in seeded.truth.scenarios}
    pairs = [(t, by_index[t.conflicts_with]) for t in seeded.truth.scenarios
             if t.link == "conflict" and t.conflicts_with is not None]
    assert pairs
    for one, other in pairs:
        assert any(one.hs_registration_id in item.key and other.hs_registration_id in item.key
                   for item in conflicts), (one, other)
    # Other registrations of the same customer are separate opportunities, not conflicts.
    assert len(conflicts) <= 2 * len(pairs)


def test_every_blocked_required_gate_on_a_crm_deal_has_an_open_task(first: Plan) -> None:
    # On the opportunity, or for the partner's stage on the registration (side: prm).
    tasked = {(action.task.side, action.task.crm_id) for action in first.tasks}
    for verdict in first.verdicts:
        if verdict.status is GateStatus.BLOCKED and verdict.crm_id is not None:
            assert ((Role.CRM, verdict.crm_id) in tasked
                    or (Role.PRM, verdict.prm_id) in tasked), verdict


def test_planning_after_the_plan_was_applied_finds_nothing_to_do(
        seeded: SeededInputs, first: Plan) -> None:
    again = plan(apply_plan(seeded.engine_input(NOW), first))
    assert again.is_empty(), again.counts()
