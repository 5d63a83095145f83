"""Training tasks (engine.readiness_tasks): one per partner and dimension under its
threshold, for the channel manager, opened once, closed when the dimension recovers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from connectors.base import Owner
from handoff_sync.engine.readiness import NO_HISTORY, PartnerHistory, score_partner
from handoff_sync.engine.readiness_tasks import training_actions, training_key
from handoff_sync.engine.types import TaskAction, TaskActionKind, TaskState
from handoff_sync.mapping.policy.measures import Readiness
from handoff_sync.model import (
    OwnerDirectory,
    PartnerAccount,
    Role,
    TaskAnchor,
    TaskStatus,
)

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
FALLBACK = "revops@example.com"
POLICY = Readiness.model_validate({
    "threshold": 60,
    "dimensions": [
        {"id": "technical_conversations", "label": "Runs technical conversations",
         "weight": 50, "source": "partner.technical_conversations",
         "scale": {"basic": 40, "expert": 100}},
        {"id": "handoff_quality", "label": "Past handoff quality", "weight": 50,
         "source": "history.completeness", "min_sample": 2},
    ],
    "training_task": {
        "subject": "Training for {partner_name}: {dimension_label}",
        "body": "Scored {dimension_score} ({dimension_value}), under {threshold}. "
                "Readiness {readiness_score}. Rating: {partner.technical_conversations}",
        "due": {"days": 14}},
}, strict=False)
OWNERS = OwnerDirectory([Owner("u1", "cm@vendor.example")])


def account(rating: str | None, owner: str | None = "cm@vendor.example") -> PartnerAccount:
    return PartnerAccount("001P", "Acme Partners", owner,
                          {"partner.technical_conversations": rating})


def plan(partner: PartnerAccount, history: PartnerHistory = NO_HISTORY,
         ledger: list[TaskState] | None = None,
         policy: Readiness | None = POLICY) -> list[TaskAction]:
    scores = {} if policy is None else {
        partner.id: score_partner(policy, partner, history, min_sample=5)}
    return training_actions("p", policy, {partner.id: partner}, scores, ledger or [],
                            owners=OWNERS, fallback_email=FALLBACK, calendars={}, now=NOW)


def recorded(actions: list[TaskAction], *, by_user: bool = False) -> list[TaskState]:
    """The ledger as the store keeps it after the actions were written."""
    return [TaskState(a.task, "T-" + a.task.key[-4:], by_user) for a in actions]


def test_a_dimension_under_its_threshold_opens_one_task_for_the_channel_manager() -> None:
    actions = plan(account("basic"))
    assert [a.kind for a in actions] == [TaskActionKind.OPEN]
    task = actions[0].task
    assert task.key == training_key("p", "001P", "technical_conversations")
    assert (task.kind, task.crm_id, task.side, task.anchor) == (
        "readiness:technical_conversations", "001P", Role.PRM, TaskAnchor.PARTNER)
    assert task.assignee_email == "cm@vendor.example"
    assert task.subject == "Training for Acme Partners: Runs technical conversations"
    assert task.body == ("Scored 40 (basic), under 60. Readiness 40. Rating: basic")
    assert task.due_at == datetime(2026, 12, 16, 15, 0, tzinfo=UTC)
    assert actions[0].deal == "partner:001P"


def test_a_second_cycle_opens_nothing_and_a_recovery_closes_the_task() -> None:
    first = plan(account("basic"))
    assert plan(account("basic"), ledger=recorded(first)) == []
    closed = plan(account("expert"), ledger=recorded(first))
    assert [(a.kind, a.task.status) for a in closed] == [(TaskActionKind.CLOSE,
                                                          TaskStatus.DONE)]
    # Under again later: the same task is reopened, not a second one opened.
    again = plan(account("basic"), ledger=recorded(closed))
    assert [(a.kind, a.task.key) for a in again] == [(TaskActionKind.REOPEN,
                                                      first[0].task.key)]


def test_a_task_a_person_closed_stays_closed() -> None:
    first = plan(account("basic"))
    done = [replace(state, spec=replace(state.spec, status=TaskStatus.DONE))
            for state in recorded(first, by_user=True)]
    assert plan(account("basic"), ledger=done) == []


def test_a_dimension_with_no_data_leaves_its_task_as_it_is() -> None:
    first = plan(account("basic"))
    assert plan(account(None), ledger=recorded(first)) == []


def test_history_under_the_threshold_opens_a_task_only_past_the_minimum_sample() -> None:
    assert plan(account("expert"), PartnerHistory(completeness=(10,))) == []
    [action] = plan(account("expert"), PartnerHistory(completeness=(10, 30)))
    assert action.task.kind == "readiness:handoff_quality"
    assert "Scored 20 (20% of 2 handoffs)" in action.task.body


def test_no_channel_manager_user_sends_the_task_to_the_fallback_owner() -> None:
    [action] = plan(account("basic", owner="gone@vendor.example"))
    assert action.task.assignee_email == FALLBACK
    [action] = plan(account("basic", owner=None))
    assert action.task.assignee_email == FALLBACK


def test_a_new_channel_manager_takes_the_open_task_over() -> None:
    first = plan(account("basic", owner="gone@vendor.example"))
    [action] = plan(account("basic"), ledger=recorded(first))
    assert (action.kind, action.task.assignee_email) == (TaskActionKind.REASSIGN,
                                                         "cm@vendor.example")


def test_removing_the_dimension_or_the_readiness_section_closes_the_tasks() -> None:
    first = plan(account("basic"))
    history_only = POLICY.model_copy(update={"dimensions": POLICY.dimensions[1:]})
    assert [a.kind for a in plan(account("basic"), ledger=recorded(first),
                                 policy=history_only)] == [TaskActionKind.CLOSE]
    assert [a.kind for a in plan(account("basic"), ledger=recorded(first),
                                 policy=None)] == [TaskActionKind.CLOSE]


def test_a_partner_no_longer_live_has_its_open_tasks_closed() -> None:
    first = plan(account("basic"))
    done_by_hand = TaskState(replace(first[0].task, key="hs1-done", status=TaskStatus.DONE),
                             "T-done", True)
    other = replace(account("basic"), id="002P")
    actions = training_actions(
        "p", POLICY, {other.id: other},
        {other.id: score_partner(POLICY, other, NO_HISTORY, min_sample=5)},
        [*recorded(first), done_by_hand], owners=OWNERS, fallback_email=FALLBACK,
        calendars={}, now=NOW)
    gone = [a for a in actions if a.task.crm_id == "001P"]
    # Its open task closes (the one a person completed is left as it is); the live
    # partner's task opens as before.
    assert [(a.kind, a.task.key, a.task.status, a.reason) for a in gone] == [
        (TaskActionKind.CLOSE, first[0].task.key, TaskStatus.DONE,
         "the account is no longer a live partner in the PRM")]
    assert [a.kind for a in actions if a.task.crm_id == "002P"] == [TaskActionKind.OPEN]
    # Once closed, nothing more is planned for it.
    assert training_actions("p", POLICY, {}, {}, recorded(gone), owners=OWNERS,
                            fallback_email=FALLBACK, calendars={}, now=NOW) == []


def test_deal_tasks_in_the_ledger_are_not_touched() -> None:
    first = plan(account("basic"))
    deal_task = replace(first[0].task, key="hs1-deal", kind="complete_partner_facts",
                        anchor=TaskAnchor.DEAL)
    assert plan(account("expert"), ledger=[TaskState(deal_task)]) == []
