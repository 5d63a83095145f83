"""The state store: checkpoints, mirror, links, bases, task ledger, clocks, verdicts and
their history, SLA events, conflicts, sync runs and errors, the review queue, leases.

Revision ID: 0001
Revises:
Create Date: 2026-12-05

Written out in full (not imported from handoff_sync.store.schema), so this revision keeps
creating the same tables when the models move on; a test checks that the models and the
migrated schema agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 64-bit ids for append-only tables; SQLite auto-increments only INTEGER PRIMARY KEY.
HISTORY_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _text(name: str, *, null: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.String(), nullable=null)


def _long_text(name: str, *, null: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.Text(), nullable=null)


def _instant(name: str, *, null: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=null)


def _json(name: str, *, null: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.JSON(), nullable=null)


def _int(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.Integer(), nullable=False)


def _bool(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.Boolean(), nullable=False)


def _id() -> sa.Column[Any]:
    return sa.Column("id", HISTORY_ID, autoincrement=True, nullable=False)


def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*columns, name=op.f(f"pk_{table}"))


def _index(table: str, *columns: str) -> None:
    op.create_index(f"ix_{table}_{'_'.join(columns)}", table, list(columns), unique=False)


def _verdict_columns() -> list[sa.Column[Any]]:
    return [
        _text("crm_id", null=True), _text("prm_id", null=True),
        _text("handoff_type", null=True), _text("stage", null=True),
        _bool("required"), _text("status"), _int("completeness_pct"), _json("missing"),
        _text("stage_owner_email", null=True), _json("ahead_of_gate"),
    ]


def upgrade() -> None:
    op.create_table(
        "checkpoints",
        _text("pipeline"), _text("system"), _text("object"),
        _instant("modified_at"), _text("last_id"), _instant("updated_at"),
        _pk("checkpoints", "pipeline", "system", "object"))
    op.create_table(
        "pipeline_meta",
        _text("pipeline"), _text("mappings_hash", null=True), _instant("last_full_at", null=True),
        _json("drift"), _instant("updated_at"),
        _pk("pipeline_meta", "pipeline"))
    op.create_table(
        "mirror",
        _text("pipeline"), _text("role"), _text("record_id"),
        _instant("modified_at", null=True), _json("fields"), _bool("deleted"),
        _pk("mirror", "pipeline", "role", "record_id"))
    op.create_table(
        "links",
        _text("pipeline"), _text("prm_id"), _text("crm_id"), _text("method"),
        sa.Column("confidence", sa.Float(), nullable=False), _instant("created_at"),
        _pk("links", "pipeline", "prm_id"))
    _index("links", "pipeline", "crm_id")
    op.create_table(
        "bases",
        _text("pipeline"), _text("deal"), _json("prm"), _json("crm"), _json("agreed"),
        _instant("updated_at"),
        _pk("bases", "pipeline", "deal"))
    op.create_table(
        "tasks",
        _text("pipeline"), _text("task_key"), _text("deal", null=True), _json("spec"),
        _text("system_task_id", null=True), _text("status"), _bool("closed_by_user"),
        _instant("updated_at"),
        _pk("tasks", "pipeline", "task_key"))
    _index("tasks", "pipeline", "status")
    op.create_table(
        "clocks",
        _text("pipeline"), _text("deal"), _text("handoff_type"), _text("clock"),
        _instant("started_at"), _instant("due_at"), _text("status"),
        _instant("stopped_at", null=True),
        _pk("clocks", "pipeline", "deal", "handoff_type", "clock"))
    op.create_table(
        "verdicts",
        _text("pipeline"), _text("deal"), *_verdict_columns(), _instant("updated_at"),
        _pk("verdicts", "pipeline", "deal"))
    op.create_table(
        "gate_history",
        _id(), _text("pipeline"), _text("run_id"), _instant("recorded_at"), _text("deal"),
        *_verdict_columns(),
        _pk("gate_history", "id"))
    _index("gate_history", "pipeline", "deal", "recorded_at")
    _index("gate_history", "pipeline", "recorded_at")
    op.create_table(
        "sla_events",
        _id(), _text("pipeline"), _text("run_id"), _instant("recorded_at"), _text("deal"),
        _text("handoff_type"), _text("clock"), _text("kind"), _instant("at"),
        _text("escalate_to", null=True),
        _pk("sla_events", "id"))
    _index("sla_events", "pipeline", "at")
    op.create_table(
        "conflicts",
        _id(), _text("pipeline"), _text("run_id"), _instant("recorded_at"), _text("deal"),
        _text("field"), _text("policy"), _json("base", null=True), _json("prm", null=True),
        _json("crm", null=True), _text("winner", null=True), _json("kept", null=True),
        _json("lost", null=True),
        _pk("conflicts", "id"))
    _index("conflicts", "pipeline", "recorded_at")
    op.create_table(
        "sync_runs",
        _text("run_id"), _text("pipeline"), _text("kind"), _instant("started_at"),
        _instant("ended_at", null=True), _text("outcome"), _int("records_read"),
        _int("records_written"), _int("tasks_created"), _int("tasks_updated"),
        _int("tasks_closed"), _int("errors"), _json("api_calls"),
        _long_text("message", null=True), _text("holder", null=True),
        _pk("sync_runs", "run_id"))
    _index("sync_runs", "pipeline", "started_at")
    op.create_table(
        "sync_errors",
        _text("pipeline"), _text("role"), _text("record_id"), _text("kind"), _text("system"),
        _text("object"), _text("deal", null=True), _text("code"), _long_text("message"),
        _json("fields"), _bool("retriable"), _int("attempts"), _instant("first_seen"),
        _instant("last_seen"), _instant("next_retry_at", null=True),
        _pk("sync_errors", "pipeline", "role", "record_id", "kind"))
    _index("sync_errors", "pipeline", "next_retry_at")
    op.create_table(
        "reviews",
        _text("pipeline"), _text("key"), _text("kind"), _text("deal"), _long_text("summary"),
        _json("candidates"), _json("details"), _text("status"), _instant("first_seen"),
        _instant("last_seen"), _instant("resolved_at", null=True),
        _text("resolved_by", null=True), _long_text("resolution", null=True),
        _pk("reviews", "pipeline", "key"))
    _index("reviews", "pipeline", "status")
    op.create_table(
        "leases",
        _text("name"), _text("holder"), _instant("expires_at"),
        _pk("leases", "name"))


def downgrade() -> None:
    for table in ("leases", "reviews", "sync_errors", "sync_runs", "conflicts", "sla_events",
                  "gate_history", "verdicts", "clocks", "tasks", "bases", "links", "mirror",
                  "pipeline_meta", "checkpoints"):
        op.drop_table(table)
