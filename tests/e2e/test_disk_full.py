"""A full disk is worded once: the command line's last line and the store's message give
the same advice (a real process writing to /dev/full)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from handoff_sync.safety.local_files import disk_full_advice
from handoff_sync.store.database import reason


def test_a_full_disk_is_worded_once_for_the_command_line_and_the_store() -> None:
    """Writing to /dev/full fails with ENOSPC, as on a full disk: the command's last
    line gives the same advice as the store's full-disk message."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this host")
    with open("/dev/full", "w", encoding="utf-8") as full:
        result = subprocess.run(
            [sys.executable, "-m", "handoff_sync.cli", "mappings", "validate", "--mappings",
             str(Path(__file__).resolve().parents[2] / "mappings")],
            stdout=full, stderr=subprocess.PIPE, text=True, timeout=120, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"handoff-sync mappings: the disk is full: {disk_full_advice('its output')}")
    full_database = OperationalError("INSERT", {}, sqlite3.OperationalError(
        "database or disk is full"))
    assert reason(full_database) == \
        f"database or disk is full: {disk_full_advice('the database')}"

