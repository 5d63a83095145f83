"""The benchmark scripts still run, at a size that takes seconds.

They print figures and assert nothing about time; but a script that no longer starts (a
config it writes that validation now refuses, an API it calls that moved) reports
nothing, and is found broken only when someone needs its figures. Each runs here as
people run it, in its own process, and must end with its last figure.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

RUNS = {
    "sync": (["benchmarks/sync.py", "--sizes", "200"], "sync: "),
    # Its summary line is for 100,000 pairs only; at 200 the last cycle's line ends it.
    "engine": (["benchmarks/engine.py", "--sizes", "200"], "200 pairs, incremental cycle"),
    "file_drop": (["benchmarks/file_drop.py", "--sizes", "1000"], "file-drop: "),
    "footprint": (["benchmarks/footprint.py", "--sizes", "200"], "footprint: "),
    "connectors": (["benchmarks/connectors.py", "--sizes", "200"], "api-call-ratio: "),
    "console": (["benchmarks/console.py", "--deals", "200", "--repeat", "2"], "console: "),
    "sandbox": (["benchmarks/sandbox.py", "--deals", "200", "--repeat", "1"],
                "sandbox-page-"),
    "whatif": (["benchmarks/whatif.py", "--sizes", "120", "--check"], "whatif: "),
    # The demo's store copied once (it runs the demo: ~15 s), in its own cache folder.
    "report_figures": (["benchmarks/report_figures.py", "--deals", "600", "--repeat", "1",
                        "--cache", "{tmp}"], "report: "),
}


@pytest.mark.parametrize("name", sorted(RUNS))
def test_the_benchmark_runs_and_prints_its_figure(name: str, tmp_path: Path) -> None:
    argv, last = RUNS[name]
    argv = [arg.replace("{tmp}", str(tmp_path)) for arg in argv]
    done = subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert lines and last in lines[-1], done.stdout[-2000:]


def test_the_scale_benchmark_ends_with_its_headline() -> None:
    """benchmarks/scale.py at 200 deals: three processes (sandbox, daemon, a fresh quiet
    one), the sandbox's real quotas; its last line names the size and every figure in it
    is a positive number (times are not bounded: they depend on the machine)."""
    done = subprocess.run([sys.executable, "benchmarks/scale.py", "--sizes", "200"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert lines, done.stderr[-3000:]
    number = r"(\d+(?:\.\d+)?)"
    found = re.fullmatch(rf"scale: first-sync {number}x api-minimum at 200, "
                         rf"quiet {number} ms {number} MB at 200", lines[-1])
    assert found is not None, done.stdout[-2000:]
    assert all(float(figure) > 0 for figure in found.groups()), lines[-1]
    for phase in ("first sync", "echo cycle", "quiet cycle", "quiet, fresh process",
                  "1% changed cycle", "API-bound minimum", "bytes per deal"):
        assert phase in done.stdout, phase
