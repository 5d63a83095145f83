"""Planning only the deals that changed gives the same plan as planning every deal.

The sync layer passes ``Dirty`` (records read with new content, deals with running SLA
clocks) so a quiet cycle does not re-plan a whole org. That is only safe if every action
a full plan would take belongs to a planned deal, and the planned deals' actions are the
same either way. Checked over the seeded org, after random edits on both sides and after
time passes.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest

from handoff_sync.engine.plan import Dirty, EngineInput, plan
from handoff_sync.engine.time_driven import clock_driven_deals
from handoff_sync.engine.types import Plan
from handoff_sync.mapping.system.convert import MappedRecord
from handoff_sync.testing.builders import apply_plan, seeded_inputs

NOW = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)
EDITS = {  # canonical field -> values an edit may set (either side)
    "stakeholder_map": ["CFO signs", None],
    "budget": [125000, None],
    "partner_rep_email": ["someone.new@partner.example", None],
    "intro_call_at": [NOW - timedelta(hours=3), None],
    "handoff_stage": ["joint_discovery", "knowledge_transfer", "pre_handoff_assessment"],
    "economic_buyer": ["Dana Ruiz (CFO)", None],
    # Trigger times (issue 16): an approval or a win dated days ago, in the future, unknown.
    "approved_at": [NOW - timedelta(days=9), NOW + timedelta(days=1), None],
    "won_at": [NOW - timedelta(days=4), None],
}


def with_trigger_times(inputs: EngineInput) -> EngineInput:
    """Approval and won times on some of the seeded records (the seed has none yet): clocks
    that start in the past, some breached at first sight, and others at first sight."""
    def dated(records: tuple[MappedRecord, ...], name: str) -> tuple[MappedRecord, ...]:
        out = []
        for index, record in enumerate(records):
            if index % 3:
                at = NOW - timedelta(days=index % 11, hours=index % 7)
                record = dataclasses.replace(record, values=MappingProxyType(
                    {**record.values, name: at}))
            out.append(record)
        return tuple(out)

    return dataclasses.replace(inputs, prm=dated(tuple(inputs.prm), "approved_at"),
                               crm=dated(tuple(inputs.crm), "won_at"))


@pytest.fixture(scope="module")
def settled() -> EngineInput:
    inputs = with_trigger_times(seeded_inputs(deals=150, now=NOW).engine_input(NOW))
    for _ in range(3):
        inputs = apply_plan(inputs, plan(inputs))
    assert plan(inputs).is_empty()
    return inputs


def edited(records: tuple[MappedRecord, ...], rng: random.Random,
           count: int) -> tuple[tuple[MappedRecord, ...], frozenset[str]]:
    chosen = set(rng.sample(range(len(records)), count))
    out, changed = [], set()
    for index, record in enumerate(records):
        if index in chosen and record.record_id:
            name = rng.choice(sorted(EDITS))
            values = {**record.values, name: rng.choice(EDITS[name])}
            record = dataclasses.replace(record, values=MappingProxyType(values))
            changed.add(record.record_id)
        out.append(record)
    return tuple(out), frozenset(changed)


def moved_clocks(inputs: EngineInput) -> frozenset[str]:
    return clock_driven_deals(inputs.state, inputs.mappings.policy, inputs.now)


def assert_same_actions(full: Plan, incremental: Plan) -> None:
    assert incremental.planned_deals is not None
    for name in ("links", "writes", "tasks", "verdicts", "sla_events", "clocks", "bases",
                 "conflicts", "decisions"):
        assert getattr(incremental, name) == getattr(full, name), name
    planned = incremental.planned_deals
    assert {item.key for item in incremental.reviews} <= {item.key for item in full.reviews}
    for item in full.reviews:
        if item.deal in planned:
            assert item in incremental.reviews, item.key


@pytest.mark.parametrize("seed", range(6))
def test_edits_on_both_sides_plan_the_same_with_only_the_changed_deals(
        settled: EngineInput, seed: int) -> None:
    rng = random.Random(seed)
    prm, prm_changed = edited(tuple(settled.prm), rng, 8)
    crm, crm_changed = edited(tuple(settled.crm), rng, 8)
    later = NOW + timedelta(hours=rng.choice([0, 5, 30]))
    inputs = dataclasses.replace(settled, prm=prm, crm=crm, now=later)
    full = plan(inputs)
    assert not full.is_empty()
    incremental = plan(dataclasses.replace(inputs, dirty=Dirty(
        prm_changed, crm_changed, moved_clocks(inputs))))
    assert_same_actions(full, incremental)
    assert incremental.deals < full.deals


@pytest.mark.parametrize("hours", [1, 6, 26, 72, 192, 960])
def test_time_passing_alone_moves_only_deals_whose_clocks_moved(settled: EngineInput,
                                                                 hours: int) -> None:
    inputs = dataclasses.replace(settled, now=NOW + timedelta(hours=hours))
    full = plan(inputs)
    incremental = plan(dataclasses.replace(inputs, dirty=Dirty(deals=moved_clocks(inputs))))
    assert_same_actions(full, incremental)
    if hours >= 192:
        assert full.sla_events  # the clocks did move
    assert incremental.deals <= full.deals


def test_without_dirty_every_deal_is_planned(settled: EngineInput) -> None:
    result = plan(settled)
    assert result.planned_deals is None
