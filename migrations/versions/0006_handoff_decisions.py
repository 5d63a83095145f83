"""Handoff decisions: each accept, reject, re-submission or withdrawal, with who and when.

Revision ID: 0006_handoff_decisions
Revises: 0005_stage_autopilot
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_handoff_decisions"
down_revision: str | Sequence[str] | None = "0005_stage_autopilot"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "handoff_decisions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("pipeline", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deal", sa.String(), nullable=False),
        sa.Column("handoff_type", sa.String(), nullable=False),
        sa.Column("decision", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(), nullable=True),
        sa.Column("by_system", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("partner", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_decisions")))
    op.create_index(op.f("ix_handoff_decisions_pipeline_deal_id"), "handoff_decisions",
                    ["pipeline", "deal", "id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_handoff_decisions_pipeline_deal_id"), table_name="handoff_decisions")
    op.drop_table("handoff_decisions")
