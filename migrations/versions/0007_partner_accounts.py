"""Partner accounts: the PRM's partner companies, mapped, for partner readiness.

Revision ID: 0007_partner_accounts
Revises: 0006_handoff_decisions
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_partner_accounts"
down_revision: str | Sequence[str] | None = "0006_handoff_decisions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partner_accounts",
        sa.Column("pipeline", sa.String(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("owner_email", sa.String(), nullable=True),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("issues", sa.JSON(), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pipeline", "account_id", name=op.f("pk_partner_accounts")))


def downgrade() -> None:
    op.drop_table("partner_accounts")
