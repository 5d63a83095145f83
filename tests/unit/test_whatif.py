"""The what-if: two plans from one state, compared deal by deal (pure); and narrowed to
the deals a change can touch, the same answer as planning every deal twice."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import pytest

from handoff_sync.engine.merges import Merge
from handoff_sync.engine.plan import Dirty, EngineInput, plan
from handoff_sync.engine.types import (
    ClockState,
    EngineState,
    Plan,
    TaskAction,
    TaskActionKind,
    TaskState,
    Verdict,
)
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.mapping.policy.duration import Duration
from handoff_sync.mapping.policy.file_model import GateRequirement
from handoff_sync.model import GateStatus, SlaStatus, TaskPriority, TaskSpec, TaskStatus
from handoff_sync.sync.whatif import deals_of_types, policy_scope, summarise
from handoff_sync.testing.builders import apply_plan, seeded_inputs

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
SEED_NOW = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)


def _verdict(deal: str, status: GateStatus, pct: int, missing: tuple[str, ...] = ()) -> Verdict:
    return Verdict(deal, None, deal[4:], "partner_to_direct", "joint_discovery", True, status,
                   pct, missing)


def _task(key: str, email: str, status: TaskStatus = TaskStatus.OPEN) -> TaskSpec:
    return TaskSpec(key, "complete_stage_gate", "006" + key, f"Finish {key}", "", email,
                    NOW + timedelta(days=2), TaskPriority.NORMAL, status)


def _action(kind: TaskActionKind, spec: TaskSpec) -> TaskAction:
    return TaskAction(kind, spec, "prm:" + spec.key, "why")


STATE = EngineState(
    verdicts=MappingProxyType({f"prm:{n}": _verdict(f"prm:{n}", GateStatus.PASSED, 100)
                               for n in range(1, 5)}),
    tasks=MappingProxyType({"4": TaskState(_task("4", "dana@x.example"))}),
    clocks=MappingProxyType({("prm:1", "partner_to_direct", "first_touch"): ClockState(
        "prm:1", "partner_to_direct", "first_touch", NOW, NOW + timedelta(days=5),
        SlaStatus.ON_TRACK)}))


def test_flips_tasks_per_assignee_and_clocks_make_the_headline() -> None:
    before = Plan("p", NOW, deals=4)
    after = Plan("p", NOW, deals=4, verdicts=(
        _verdict("prm:1", GateStatus.BLOCKED, 80, ("Success criteria",)),
        _verdict("prm:2", GateStatus.BLOCKED, 75, ("Success criteria",)),
        _verdict("prm:3", GateStatus.PASSED, 100)),  # restated, unchanged: not a change
        tasks=(_action(TaskActionKind.OPEN, _task("1", "dana@x.example")),
               _action(TaskActionKind.OPEN, _task("2", "bo@x.example")),
               _action(TaskActionKind.OPEN, _task("3", "dana@x.example")),
               _action(TaskActionKind.CLOSE, _task("4", "dana@x.example", TaskStatus.DONE))),
        clocks=(ClockState("prm:1", "partner_to_direct", "first_touch", NOW,
                           NOW + timedelta(days=5), SlaStatus.MET, stopped_at=NOW),))
    result = summarise("p", before, after, STATE, names={"prm:1": "Acme"},
                       people={"dana@x.example": "Dana Reyes"})
    assert [(g.deal, g.before, g.after) for g in result.gates] == [
        ("prm:1", GateStatus.PASSED, GateStatus.BLOCKED),
        ("prm:2", GateStatus.PASSED, GateStatus.BLOCKED)]
    assert result.gates[0].name == "Acme" and result.gates[0].missing_after == ("Success criteria",)
    assert result.headline() == (
        "this change flips 2 deals to Blocked, creates 3 tasks: 2 for Dana Reyes, "
        "1 for bo@x.example, closes 1 task: 1 for Dana Reyes, changes 1 SLA clock")
    (clock,) = result.clocks
    assert clock.describe().startswith("on_track, due 2026-03-07") and "met" in clock.describe()


def test_what_both_plans_do_is_not_the_changes_doing() -> None:
    common = (_action(TaskActionKind.OPEN, _task("9", "dana@x.example")),)
    before = Plan("p", NOW, deals=4, tasks=common,
                  verdicts=(_verdict("prm:1", GateStatus.BLOCKED, 50),))
    after = Plan("p", NOW, deals=4, tasks=common,
                 verdicts=(_verdict("prm:1", GateStatus.BLOCKED, 40),))
    result = summarise("p", before, after, STATE)
    assert result.tasks == () and not result.gates[0].flips
    assert result.headline() == "this change changes the completeness of 1 deal"
    unchanged = summarise("p", before, before, STATE)
    assert unchanged.is_empty
    assert unchanged.headline() == "this change changes nothing for the 4 deals planned"


def test_a_task_given_to_someone_else_is_a_reassignment_with_both_names() -> None:
    after = Plan("p", NOW, deals=4, tasks=(
        _action(TaskActionKind.REASSIGN, _task("4", "bo@x.example")),))
    (task,) = summarise("p", Plan("p", NOW, deals=4), after, STATE).tasks
    assert (task.change, task.assignee, task.was) == ("reassign", "bo@x.example",
                                                      "dana@x.example")


# ------------------------------------------------ narrowed what-if == planning everything twice
LATER = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)  # two days on: clocks run, tasks fall due


def _with_type(mappings: MappingSet, type_id: str, **changes: Any) -> MappingSet:
    policy = mappings.policy
    handoff = policy.handoff_types[type_id].model_copy(update=changes)
    types = {**policy.handoff_types, type_id: handoff}
    return dataclasses.replace(mappings, policy=policy.model_copy(
        update={"handoff_types": types}))


def _gate_added(mappings: MappingSet) -> MappingSet:
    handoff = mappings.policy.handoff_types["partner_to_direct"]
    first = handoff.stages[0]
    gate = [*first.gate, GateRequirement(field="success_criteria", label="Success criteria",
                                         weight=3)]
    return _with_type(mappings, "partner_to_direct",
                      stages=[first.model_copy(update={"gate": gate}), *handoff.stages[1:]])


def _sla_shorter(mappings: MappingSet) -> MappingSet:
    handoff = mappings.policy.handoff_types["closed_won_to_cs"]
    slas = [s.model_copy(update={"duration": Duration(hours=1)}) for s in handoff.slas]
    return _with_type(mappings, "closed_won_to_cs", slas=slas)


@pytest.fixture(scope="module")
def stored() -> EngineInput:
    """The seeded deals after a first cycle was carried out, planned again two days on."""
    seeded = seeded_inputs(deals=240, now=SEED_NOW)
    first = seeded.engine_input(SEED_NOW)
    return dataclasses.replace(apply_plan(first, plan(first)), now=LATER)


@pytest.mark.parametrize("change", [_gate_added, _sla_shorter])
def test_planning_only_the_changed_types_deals_gives_the_full_plan(
        stored: EngineInput, change: Callable[[MappingSet], MappingSet]) -> None:
    candidate = change(stored.mappings)
    types = policy_scope(stored.mappings, candidate)
    assert types is not None and len(types) == 1
    before = plan(stored)
    full = plan(dataclasses.replace(stored, mappings=candidate))
    deals = deals_of_types(types, before, stored.state)
    assert 0 < len(deals) < before.deals  # narrowed, and not to nothing
    narrowed = plan(dataclasses.replace(stored, mappings=candidate, dirty=Dirty(deals=deals),
                                        carry=before))
    assert narrowed == full
    assert full != before  # the change does something the comparison can see
    assert summarise("p", before, narrowed, stored.state) == \
        summarise("p", before, full, stored.state)


@pytest.mark.parametrize("change", [_gate_added, _sla_shorter])
def test_the_baselines_field_merges_reused_give_the_full_plan(
        stored: EngineInput, change: Callable[[MappingSet], MappingSet]) -> None:
    candidate = change(stored.mappings)
    merges: dict[str, Merge] = {}
    before = plan(dataclasses.replace(stored, merges=merges))
    assert before == plan(stored) and len(merges) == before.deals  # filled, same plan
    full = plan(dataclasses.replace(stored, mappings=candidate))
    deals = deals_of_types(policy_scope(stored.mappings, candidate) or frozenset(), before,
                           stored.state)
    reused = plan(dataclasses.replace(stored, mappings=candidate, dirty=Dirty(deals=deals),
                                      carry=before, merges=MappingProxyType(merges)))
    assert reused == full


def test_a_merge_of_other_records_is_not_reused(stored: EngineInput) -> None:
    merges: dict[str, Merge] = {}
    plan(dataclasses.replace(stored, merges=merges))
    # Equal copies of the same records with another deal's merge: a memo is trusted only
    # for the very objects it was made of.
    other = next(m for m in merges.values() if m.prm is not None and m.crm is not None)
    tampered = {key: dataclasses.replace(m, merged=other.merged) for key, m in merges.items()}
    copies = dataclasses.replace(stored, prm=[dataclasses.replace(r) for r in stored.prm],
                                 crm=[dataclasses.replace(r) for r in stored.crm])
    assert plan(dataclasses.replace(copies, merges=MappingProxyType(tampered))) == \
        plan(stored)
    assert plan(dataclasses.replace(stored, merges=MappingProxyType(tampered))) != \
        plan(stored)  # the same objects: the memo is what the plan uses


def test_a_change_that_can_move_a_deal_to_another_type_plans_every_deal(
        stored: EngineInput) -> None:
    mappings = stored.mappings
    policy = mappings.policy
    assert policy_scope(mappings, mappings) == frozenset()
    threshold = _with_type(mappings, "partner_to_direct", required_when=None)
    claims = _with_type(mappings, "closed_won_to_cs", applies_when=None)
    moved = dataclasses.replace(mappings, policy=policy.model_copy(update={
        "handoff_types": dict(reversed(policy.handoff_types.items()))}))
    fallback = dataclasses.replace(mappings, policy=policy.model_copy(update={
        "ownership": policy.ownership.model_copy(update={
            "fallback_owner_email": "queue@example.com"})}))
    for candidate in (threshold, claims, moved, fallback):
        assert policy_scope(mappings, candidate) is None
