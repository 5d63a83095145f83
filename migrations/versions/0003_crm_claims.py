"""CRM claims: which pipeline writes outputs and tasks to which CRM object of which org.

Revision ID: 0003_crm_claims
Revises: 0002_budget
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_crm_claims"
down_revision: str | Sequence[str] | None = "0002_budget"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_claims",
        sa.Column("pipeline", sa.String(), nullable=False),
        sa.Column("org", sa.String(), nullable=False),
        sa.Column("object", sa.String(), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pipeline", name=op.f("pk_crm_claims")))


def downgrade() -> None:
    op.drop_table("crm_claims")
