"""The codebase stays ruff clean (the house standard) and mypy clean, checked with the
test suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_reports_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.heavy  # 30-60 s with a cold cache; later runs reuse .mypy_cache (git-ignored)
def test_mypy_reports_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "handoff_sync", "connectors"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
