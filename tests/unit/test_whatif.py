"""The what-if summary: two plans from one state, compared deal by deal (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from handoff_sync.engine.types import (
    ClockState,
    EngineState,
    Plan,
    TaskAction,
    TaskActionKind,
    TaskState,
    Verdict,
)
from handoff_sync.model import GateStatus, SlaStatus, TaskPriority, TaskSpec, TaskStatus
from handoff_sync.sync.whatif import summarise

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


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
