"""A refused field's value digest on sync_errors: the field waits while the value stays.

Revision ID: 0004_field_holds
Revises: 0003_crm_claims
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_field_holds"
down_revision: str | Sequence[str] | None = "0003_crm_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_errors") as batch:
        batch.add_column(sa.Column("value_digest", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_errors") as batch:
        batch.drop_column("value_digest")
