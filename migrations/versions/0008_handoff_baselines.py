"""Handoff baselines: the close date each deal had when each of its handoffs started.

Revision ID: 0008_handoff_baselines
Revises: 0007_partner_accounts
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_handoff_baselines"
down_revision: str | Sequence[str] | None = "0007_partner_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Deals already in a handoff get none: their original close date is not known (the
    # report counts them apart, never as on time).
    op.create_table(
        "handoff_baselines",
        sa.Column("pipeline", sa.String(), nullable=False),
        sa.Column("deal", sa.String(), nullable=False),
        sa.Column("handoff_type", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("close_date", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("pipeline", "deal", "handoff_type",
                                name=op.f("pk_handoff_baselines")))


def downgrade() -> None:
    op.drop_table("handoff_baselines")
