"""With the shipped overlap windows (Salesforce 60 s, HubSpot 120 s), a cycle's writes are
read back by the next cycle once, and quiet cycles after it read nothing.

The systems' clocks (the sandbox's) move by the daemon's interval between cycles, as they
do between the daemon's cycles (300 s by default, more than either overlap). The pulls,
connectors and store are the real ones; ``tests/connectors/test_connector_settled_cursor``
covers changes made during a burst and changes that show late inside the window.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store.types import RunOutcome
from handoff_sync.sync.cycle import CycleReport
from tests.e2e.sync_support import sync_world

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
INTERVAL = 300.0  # the daemon's default interval_seconds


@pytest.fixture
def world(sandbox: SandboxServer, tmp_path: Path, store_url: str) -> Iterator[dict[str, Any]]:
    with sync_world(sandbox, tmp_path, database_url=store_url, now=NOW) as world:
        yield world
    sandbox.sandbox.clock.reset()


def cycle(world: dict[str, Any]) -> CycleReport:
    report: CycleReport = world["runner"].run_cycle()
    assert report.outcome is RunOutcome.OK, report.message
    return report


def test_a_write_burst_is_read_back_once_and_quiet_cycles_then_read_nothing(
        world: dict[str, Any], sandbox: SandboxServer) -> None:
    config = world["config"]
    connections = {c.system: c for c in config.connections.values()}
    assert connections["salesforce"].overlap_seconds == 60  # the shipped windows
    assert connections["hubspot"].overlap_seconds == 120

    first = cycle(world)
    assert first.counts["records_written"] > 0
    sandbox.sandbox.clock.shift(INTERVAL)
    echo = cycle(world)
    # Exactly the records written, each once: nothing else changed.
    assert echo.counts["records_read"] == first.counts["records_written"]
    assert echo.counts["records_written"] == 0

    for pause in (INTERVAL, 0.0, INTERVAL):
        sandbox.sandbox.clock.shift(pause)
        quiet = cycle(world)
        assert quiet.counts["records_read"] == 0 and quiet.counts["records_written"] == 0
        # One read per object: each side's deal object and tasks, the PRM's partners.
        objects = {"salesforce": 2, "hubspot": 3}
        for system, usage in quiet.api_calls.items():
            assert usage["total"] <= objects[system], (system, usage)
