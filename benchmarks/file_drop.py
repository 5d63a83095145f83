"""Reading a PRM file drop: rows per second and peak memory of a full pull (issue 14).

For each size N (default 300,000 rows) it writes one CSV export of N registrations (12
columns, about 190 bytes a row, as a PRM portal exports them) into a temporary folder and
runs two measurements, each in a fresh Python process so its peak RSS is its own:

  connector   ``pending()`` then every page of ``read_pages()``, each page dropped once
              counted: what the connector itself holds while it streams a file;
  cycle pull  the cycle's pull of the file side (``pull_side`` with a files mapping):
              the rows merged into the mirror records the cycle keeps for planning.

It prints rows/s, the process's peak RSS and the growth over the RSS before the pull,
and last `file-drop: <rows/s> rows/s, peak <MB> MB (connector) at <N> rows` for the
largest size.

    .venv/bin/python benchmarks/file_drop.py [--sizes 300000] [--mode connector,pull]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `connectors` is the package at the root, not this script

from handoff_sync.testing.file_drop import EXPORT_COLUMNS, file_drop_mappings  # noqa: E402

MODES = ("connector", "pull")
SETTLED = 3600  # seconds: the export is older than any settle time


def write_export(path: Path, rows: int) -> None:
    """N distinct registrations, written in blocks so the generator stays small too."""
    statuses = ("Submitted", "Approved", "Rejected")
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(EXPORT_COLUMNS) + "\r\n")
        block: list[str] = []
        for i in range(rows):
            block.append(
                f"R-{i:07d},Rollout {i} for Customer {i % 997},Customer {i % 997} Ltd,"
                f"https://www.customer{i % 997}.example/,{(i * 37) % 500_000}.50,"
                f"2026-{1 + i % 12:02d}-{1 + i % 28:02d},{statuses[i % 3]},"
                f"Channel Partner {i % 61},rep{i % 211}@partner{i % 61}.example,"
                f"\"Globex;Initech\",{'yes' if i % 2 else 'no'},"
                f"2026-03-01T10:{i % 60:02d}:{(i // 60) % 60:02d}Z\r\n")
            if len(block) == 10_000:
                out.write("".join(block))
                block.clear()
        out.write("".join(block))
    moment = time.time() - SETTLED
    os.utime(path, (moment, moment))


def child(mode: str, folder: Path) -> dict[str, float]:
    """One measurement in this (fresh) process; returns its figures."""
    from connectors.files.connector import FileDropConnector, FileDropSettings
    from handoff_sync.daemon.logs import configure_logging
    from handoff_sync.mapping.loader import load_mappings
    from handoff_sync.sync.pull import pull_side

    configure_logging("error", "json")
    mappings = load_mappings(folder / "mappings") if mode == "pull" else None
    conn = FileDropConnector(FileDropSettings(folder=folder / "exports",
                                              id_field="Registration ID",
                                              modified_field="Last Modified"))
    before = _rss_kb()
    started = time.perf_counter()
    if mode == "connector":
        rows = 0
        for drop in conn.pending(()):
            for page in conn.read_pages(drop):
                rows += len(page.changes)
    else:
        assert mappings is not None
        pulled = pull_side(conn, mappings.prm, mirror={}, since=None, drift={},
                           checkpoints={}, should_stop=lambda: False, heartbeat=lambda: None)
        rows = pulled.read
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"rows": rows, "seconds": seconds, "peak_kb": peak, "before_kb": before}


def _rss_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def measure(rows: int, modes: list[str]) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="hs-bench-drop-") as tmp:
        folder = Path(tmp)
        (folder / "exports").mkdir()
        write_export(folder / "exports" / "registrations.csv", rows)
        file_drop_mappings(folder / "mappings")
        size = (folder / "exports" / "registrations.csv").stat().st_size / 1e6
        for mode in modes:
            done = subprocess.run([sys.executable, __file__, "--child", mode, str(folder)],
                                  check=True, capture_output=True, text=True)
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            results[mode] = figures
            print(f"{rows:>9,} rows ({size:.0f} MB)  {mode:<9}  "
                  f"{figures['rows'] / figures['seconds']:>9,.0f} rows/s  "
                  f"{figures['seconds']:6.2f} s  peak RSS {figures['peak_kb'] / 1024:7.1f} MB  "
                  f"(+{(figures['peak_kb'] - figures['before_kb']) / 1024:.1f} MB over the "
                  "process before the pull)")
            if figures["rows"] != rows:
                print(f"  read {figures['rows']:,} rows, expected {rows:,}")
                sys.exit(1)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="300000",
                        help="comma-separated row counts (default: 300000)")
    parser.add_argument("--mode", default=",".join(MODES),
                        help=f"comma-separated measurements among {', '.join(MODES)}")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
        return
    modes = [m for m in args.mode.split(",") if m]
    unknown = sorted(set(modes) - set(MODES))
    if unknown:
        parser.error(f"--mode: unknown {', '.join(unknown)}; choose among {', '.join(MODES)}")
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[str, dict[str, float]] = {}
    for size in sizes:
        results = measure(size, modes)
    headline = results.get("connector") or results[modes[0]]
    which = "connector" if "connector" in results else modes[0]
    print(f"file-drop: {headline['rows'] / headline['seconds']:,.0f} rows/s, peak "
          f"{headline['peak_kb'] / 1024:.0f} MB ({which}) at {sizes[-1]:,} rows")


if __name__ == "__main__":
    main()
