"""Review names: what the console's partner and search filters look at, kept on each
review row so the page filters in SQL instead of naming every item from the mirror.

Rows recorded before this revision keep NULL names until a cycle names them (the next
cycle of their pipeline names every unnamed row, found through the partial index); until
then the console filters that pipeline's names the old way.

Revision ID: 0011_review_names
Revises: 0010_sync_requests
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_review_names"
down_revision: str | Sequence[str] | None = "0010_sync_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNNAMED = sa.text("search_text IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("partners", sa.Text(), nullable=True))
        batch.add_column(sa.Column("search_text", sa.Text(), nullable=True))
    op.create_index("ix_reviews_unnamed", "reviews", ["pipeline"],
                    sqlite_where=UNNAMED, postgresql_where=UNNAMED)


def downgrade() -> None:
    op.drop_index("ix_reviews_unnamed", table_name="reviews")
    with op.batch_alter_table("reviews") as batch:
        batch.drop_column("search_text")
        batch.drop_column("partners")
