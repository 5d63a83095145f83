"""Sync requests ("sync now"): a full ask never upgrades a request a replica claimed
meanwhile, and running requests nobody serves any more are closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection
from sqlalchemy.sql.dml import Update

from handoff_sync.store import Store, sync_requests
from handoff_sync.store.database import write_transaction

T0 = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)
PRESENCE = timedelta(seconds=30)


class ClaimedBeforeTheUpgrade:
    """A connection on which a replica claims the pending requests just before ``ask``'s
    UPDATE runs: the interleaving of two transactions, made deterministic."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.claimed = False

    def execute(self, statement: Any, *args: Any) -> Any:
        if isinstance(statement, Update) and not self.claimed:
            self.claimed = True
            sync_requests.claim(self.connection, "partners", holder="r:1:a", token="t",
                                now=T0)
        return self.connection.execute(statement, *args)


def test_a_full_ask_while_the_pending_request_is_claimed_asks_anew(store: Store) -> None:
    first = store.ask_sync("partners", by="ada", now=T0)
    with write_transaction(store.engine) as connection:
        racing = ClaimedBeforeTheUpgrade(connection)
        second = sync_requests.ask(cast(Connection, racing), "partners", full=True,
                                   by="vic", now=T0)
    assert racing.claimed and second != first
    claimed, fresh = store.sync_request(first), store.sync_request(second)
    assert claimed is not None and (claimed["status"], claimed["full"]) == ("running", False)
    assert fresh is not None and (fresh["status"], fresh["full"]) == ("pending", True)
    # Without the race the pending request is upgraded in place.
    assert store.ask_sync("partners", full=True, by="ada", now=T0) == second
    third = store.ask_sync("other", by="ada", now=T0)
    assert store.ask_sync("other", full=True, by="ada", now=T0) == third
    assert store.sync_request(third)["full"] is True  # type: ignore[index]


def test_running_requests_of_a_stopped_replica_are_closed(store: Store) -> None:
    for pipeline in ("partners", "resellers"):
        store.ask_sync(pipeline, by="ada", now=T0)
    store.mark_replica("a:1:x", PRESENCE, T0)
    store.mark_replica("b:2:y", PRESENCE, T0)
    [dead] = store.claim_sync_requests("partners", holder="a:1:x", token="ta", now=T0)
    [live] = store.claim_sync_requests("resellers", holder="b:2:y", token="tb", now=T0)
    assert store.close_abandoned_sync_requests(T0) == 0  # both replicas are alive
    store.mark_replica("b:2:y", PRESENCE, T0 + PRESENCE)  # a:1:x stopped renewing
    assert store.close_abandoned_sync_requests(T0 + PRESENCE) == 1
    closed = store.sync_request(dead["id"])
    assert closed is not None and (closed["status"], closed["outcome"]) == (
        "done", "interrupted")
    assert closed["message"] == sync_requests.ABANDONED
    # The late replica's finish changes nothing any more.
    store.finish_sync_requests("ta", now=T0, outcome="ok", run_id="r", message=None)
    assert store.sync_request(dead["id"])["outcome"] == "interrupted"  # type: ignore[index]
    # A live replica's own leftover of a pipeline (its cycle could not record the
    # outcome) is closed when it says so, under that pipeline's lock.
    assert store.sync_request(live["id"])["status"] == "running"  # type: ignore[index]
    assert store.close_abandoned_sync_requests(T0 + PRESENCE, pipeline="resellers",
                                               holder="a:1:x") == 0
    assert store.close_abandoned_sync_requests(T0 + PRESENCE, pipeline="resellers",
                                               holder="b:2:y") == 1
    assert store.sync_request(live["id"])["status"] == "done"  # type: ignore[index]
