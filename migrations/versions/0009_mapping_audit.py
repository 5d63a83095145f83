"""Mapping audit: who changed which mapping file, when, and how (the admin console).

Revision ID: 0009_mapping_audit
Revises: 0008_handoff_baselines
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_mapping_audit"
down_revision: str | Sequence[str] | None = "0008_handoff_baselines"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mapping_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("folder", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("diff", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mapping_audit")))
    op.create_index("ix_mapping_audit_folder_at", "mapping_audit", ["folder", "at"])


def downgrade() -> None:
    op.drop_index("ix_mapping_audit_folder_at", table_name="mapping_audit")
    op.drop_table("mapping_audit")
