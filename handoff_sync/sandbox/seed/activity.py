"""Ordinary rep to-dos on some CRM deals: Salesforce Tasks and HubSpot tasks that are
not the daemon's."""

from __future__ import annotations

from datetime import timedelta

from handoff_sync.sandbox.salesforce.schema import CLOSED_TASK_STATUSES
from handoff_sync.sandbox.seed.draw import (
    DAY_MS,
    between,
    modified_between,
    moment,
    one_of,
    utc_day,
)
from handoff_sync.sandbox.seed.records import Builder
from handoff_sync.sandbox.seed.words import HS_TASK_SUBJECTS, SF_TASK_SUBJECTS

_SF_TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Completed",
                     "Waiting on someone else", "Deferred")
_HS_TASK_STATUSES = ("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "COMPLETED")


def sf_task(b: Builder, what_id: str, owner_id: str, since_ms: int) -> None:
    """An ordinary rep to-do, not one of the daemon's (no Handoff_Task_Key__c)."""
    r = b.r
    created_ms = modified_between(r, since_ms, since_ms, b.now_ms)
    status = one_of(r, _SF_TASK_STATUSES)
    b.sf("Task", b.sf_id("Task"), b.stamps(created_ms, created_ms), {
        "OwnerId": owner_id, "Subject": one_of(r, SF_TASK_SUBJECTS), "WhatId": what_id,
        "ActivityDate": utc_day(created_ms) + timedelta(days=int(r() * 14)),
        "Status": status, "Priority": one_of(r, ("High", "Normal", "Normal", "Low")),
        "Type": one_of(r, ("Call", "Email", "Meeting", "Other")),
        "IsClosed": status in CLOSED_TASK_STATUSES,
         })


def hs_task(b: Builder, deal_id: str, owner_id: str, since_ms: int) -> None:
    r = b.r
    task_id = str(b.hs_number("tasks"))
    created_ms = modified_between(r, since_ms, since_ms, b.now_ms)
    due_ms = created_ms + int(between(r, 1, 14) * DAY_MS)  # due dates may lie ahead
    b.hs("tasks", task_id, b.stamps(created_ms, created_ms), {
        "hubspot_owner_id": owner_id, "hs_timestamp": moment(due_ms)[1],
        "hs_task_subject": one_of(r, HS_TASK_SUBJECTS),
        "hs_task_status": one_of(r, _HS_TASK_STATUSES),
        "hs_task_priority": one_of(r, ("LOW", "MEDIUM", "HIGH")),
        "hs_task_type": one_of(r, ("TODO", "CALL", "EMAIL")),
         })
    b.associate("tasks", task_id, "deals", deal_id)
