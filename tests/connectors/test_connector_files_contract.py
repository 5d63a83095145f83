"""The file drop under the one connector contract (handoff_sync/testing/contract.py).

A drop folder is read, never pulled from a cursor or written to: ``FileDropAdapter``
declares what it lacks, with the reason, and the contract checks the rest (describe and
its cache, ``id_problem``) and that what it lacks is refused loudly. What only a file drop
does (which files are read, bad rows, refused entries, pages) is in test_connector_files.py.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from connectors.base import TaskTarget
from connectors.files.connector import FileDropConnector, FileDropSettings
from handoff_sync.model import Owner
from handoff_sync.testing.clock import FakeClock
from handoff_sync.testing.contract import SEEDED_AT, ConnectorContract, ContractAdapter
from handoff_sync.testing.contract_create import DealCreationContract

COLUMNS = ("Registration ID", "Deal Name", "Last Modified")


class FileDropAdapter(ContractAdapter):
    """A drop folder: the files in it are the system, read back with the csv module."""

    api = "files"
    deal_object = "registrations"
    deal_fields = COLUMNS
    text_field = "Deal Name"
    page_size = 10
    write_batch_size = 1  # nothing is written: see lacks
    task_target = TaskTarget("tasks", "Handoff Task Key")
    fault_paths = MappingProxyType({})
    missing_id = "R-404"
    malformed_ids = ("", " R-1", "R-1\n", "R-\x1b[2J1", "R\u202e1-")
    lacks = MappingProxyType({
        "pull": "exports are listed with pending() and read whole with read()",
        "fetch": "an export is read whole; rows cannot be looked up by id",
        "write": "a file drop is read-only",
        "tasks": "a file drop is read-only and holds no tasks",
        "create": "a file drop is read-only",
        "owners": "a drop folder has no user list",
        "faults": "there is no HTTP to break (refused and unreadable files are tested in "
                  "test_connector_files.py)",
        "usage": "a folder is read, not called: there are no API calls to count",
    })

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir()
        self._exports = 0
        self._rows = 0
        self._export([])  # the PRM's first export: no registrations yet, but its columns

    def make_connector(self, fake_time: FakeClock) -> FileDropConnector:
        settings = FileDropSettings(folder=self.folder, id_field="Registration ID",
                                    modified_field="Last Modified", page_size=self.page_size)
        return FileDropConnector(settings, clock=fake_time.time)

    def seed_deals(self, count: int) -> list[str]:
        ids = [f"R-{self._rows + i:05d}" for i in range(1, count + 1)]
        self._rows += count
        self._export([{"Registration ID": deal_id, "Deal Name": f"Deal {deal_id}",
                       "Last Modified": SEEDED_AT.isoformat()} for deal_id in ids])
        return ids

    def delete_deal(self, deal_id: str) -> None:
        raise NotImplementedError(f"files: {self.lacks['pull']}")

    def new_deal(self, marker: str) -> dict[str, Any]:
        return {"Registration ID": "R-new", "Deal Name": marker}

    def invalid_change(self) -> dict[str, Any]:
        raise NotImplementedError(f"files: {self.lacks['write']}")

    def read_text(self, deal_id: str) -> Any:
        [value] = [row["Deal Name"] for row in self._rows_on_disk()
                   if row["Registration ID"] == deal_id]
        return value

    def deals_with_text(self, marker: str) -> list[str]:
        return [row["Registration ID"] for row in self._rows_on_disk()
                if row["Deal Name"] == marker]

    def task_fields(self, subject: str) -> dict[str, Any]:
        return {"Subject": subject}

    def tasks_with_key(self, key: str) -> list[str]:
        """A folder of exports holds no tasks (and nothing may have added a file)."""
        assert sorted(p.name for p in self.folder.iterdir()) == [
            f"export-{n:03d}.csv" for n in range(1, self._exports + 1)]
        return []

    def task_deal(self, task_id: str) -> str | None:
        return None

    def seed_owners(self) -> list[Owner]:
        return []

    def _export(self, rows: list[dict[str, str]]) -> None:
        """A finished export (its time at SEEDED_AT, long settled on the FakeClock)."""
        self._exports += 1
        path = self.folder / f"export-{self._exports:03d}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        os.utime(path, (SEEDED_AT.timestamp(), SEEDED_AT.timestamp()))

    def _rows_on_disk(self) -> list[dict[str, str]]:
        rows: list[dict[str, str]] = []
        for path in sorted(self.folder.glob("*.csv")):
            with path.open(encoding="utf-8", newline="") as handle:
                rows += list(csv.DictReader(handle))
        return rows


class TestFileDropContract(ConnectorContract, DealCreationContract):
    @pytest.fixture
    def adapter(self, tmp_path: Path) -> ContractAdapter:
        return FileDropAdapter(tmp_path / "drops")
