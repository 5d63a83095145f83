"""A pipeline's state serial: one counter every writer of its cycle state bumps.

``load_pipeline`` reads the serial in its own snapshot. A writer bumps it in the
transaction that changes the state: a recorded cycle (``record_cycle``) and a person's
review decision (links made or removed, items dismissed). So a daemon that kept the state
its last cycle left in memory knows with one keyed read whether the store still holds
exactly that, and whether anyone else wrote while its cycle ran (the bump it made is then
not the one right after the serial it loaded).
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from handoff_sync.store.schema import PipelineMeta, table


def read_serial(connection: Connection, pipeline: str) -> int:
    """The pipeline's serial (0 before its first recorded cycle)."""
    meta = table(PipelineMeta)
    found = connection.execute(select(meta.c.state_serial)
                               .where(meta.c.pipeline == pipeline)).scalar()
    return int(found) if found is not None else 0


def bump_serial(connection: Connection, pipeline: str) -> int:
    """Count one more change of the pipeline's state; the new serial. Inside the writer's
    transaction: on PostgreSQL the row lock orders concurrent writers, so each gets its own
    value. A pipeline without a meta row has no recorded cycle yet (its first cycle's
    record creates the row, then bumps it)."""
    meta = table(PipelineMeta)
    connection.execute(update(meta).where(meta.c.pipeline == pipeline)
                       .values(state_serial=meta.c.state_serial + 1))
    return read_serial(connection, pipeline)
