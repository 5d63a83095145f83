"""The stage autopilot on verdicts: stage entry time, day window, and who set the position.

Revision ID: 0005_stage_autopilot
Revises: 0004_field_holds
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_stage_autopilot"
down_revision: str | Sequence[str] | None = "0004_field_holds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("verdicts", "gate_history")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("stage_entered_at", sa.DateTime(timezone=True),
                                       nullable=True))
            batch.add_column(sa.Column("stage_due_at", sa.DateTime(timezone=True),
                                       nullable=True))
            batch.add_column(sa.Column("stage_window", sa.String(), nullable=True))
            batch.add_column(sa.Column("placed_by_person", sa.String(), nullable=True))


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            for column in ("placed_by_person", "stage_window", "stage_due_at",
                           "stage_entered_at"):
                batch.drop_column(column)
