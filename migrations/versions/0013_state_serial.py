"""State serial: a per-pipeline counter every writer of a pipeline's cycle state bumps in
its own transaction (a recorded cycle, a person's review decision), so a running daemon
can tell with one keyed read whether the state it kept in memory since its last cycle is
still the store's, and skip reloading it (store.serial).

Existing rows start at 0; a daemon started after the upgrade loads its state once anyway.

Revision ID: 0013_state_serial
Revises: 0012_store_footprint
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_state_serial"
down_revision: str | Sequence[str] | None = "0012_store_footprint"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pipeline_meta") as batch:
        batch.add_column(sa.Column("state_serial", sa.BigInteger(), nullable=False,
                                   server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("pipeline_meta") as batch:
        batch.drop_column("state_serial")
