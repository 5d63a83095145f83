"""Store footprint: bytes per deal after a full cycle, broken down per table and column.

For each size N it seeds the sandbox, runs the first (full) cycle, the echo cycle and a
quiet one against a SQLite store (as ``benchmarks/sync.py`` does), then prints

  - the store file's size and bytes per deal after VACUUM (free pages do not count), and
    as the cycles left it;
  - per table and per index, the bytes SQLite's ``dbstat`` counts (pages, headers and
    free space in them included);
  - per column of the larger tables, the bytes of its stored values (``length`` of the
    value as a blob; numbers as SQLite stores them, 1 to 8 bytes).

and last `footprint: <B> bytes per deal at <N> deals` for the largest size.

    .venv/bin/python benchmarks/footprint.py [--sizes 10000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package

from handoff_sync.config.load import load_config  # noqa: E402
from handoff_sync.daemon.logs import configure_logging  # noqa: E402
from handoff_sync.demo.sandbox_config import write_sandbox_config  # noqa: E402
from handoff_sync.sandbox.core.usage import Quotas  # noqa: E402
from handoff_sync.sandbox.server import SandboxServer  # noqa: E402
from handoff_sync.store import Store  # noqa: E402
from handoff_sync.sync.cycle import PipelineRunner  # noqa: E402

QUOTAS = Quotas(salesforce_daily=10_000_000, hubspot_daily=10_000_000, hubspot_per_10s=None,
                hubspot_search_per_second=None)

# Tables whose columns are broken down (the rest are a few rows per pipeline).
MIN_TABLE_BYTES = 20_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000",
                        help="comma-separated deal counts (default: 10000)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="copy each store here as footprint-<N>.db")
    args = parser.parse_args()
    configure_logging("error", "json")
    sizes = [int(s) for s in args.sizes.split(",")]
    per_deal = 0.0
    for size in sizes:
        per_deal = measure(size, args.keep)
    print(f"footprint: {per_deal:,.0f} bytes per deal at {sizes[-1]:,} deals")


def measure(deals: int, keep: Path | None) -> float:
    with tempfile.TemporaryDirectory(prefix="hs-footprint-") as tmp, \
            SandboxServer(quotas=QUOTAS) as server:
        folder = Path(tmp)
        server.sandbox.seed(deals=deals, partners=max(12, deals // 40), random_seed=7)
        config_file = folder / "handoff-sync.yaml"
        database = folder / "handoff-sync.db"
        write_sandbox_config(server.base_url, config_file, database=f"sqlite:///{database}")
        config = load_config(config_file)
        store = Store.connect(config.database.url)
        store.migrate()
        runner = PipelineRunner(config, config.pipelines[0], store, holder="bench")
        try:
            for _ in ("first", "echo", "quiet"):
                runner.run_cycle()
        finally:
            runner.close()
            store.close()
        per_deal = report(database, deals)
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(database, keep / f"footprint-{deals}.db")
        return per_deal


def report(database: Path, deals: int) -> float:
    written = database.stat().st_size
    with sqlite3.connect(database) as db:
        db.execute("VACUUM")
    size = database.stat().st_size
    print(f"{deals:>7,} deals  store {size:,} bytes  {size / deals:,.0f} bytes per deal "
          f"(as the cycles left it: {written:,} bytes, {written / deals:,.0f} per deal)")
    with sqlite3.connect(database) as db:
        objects = db.execute(
            "SELECT s.name, m.type, m.tbl_name, SUM(s.pgsize) FROM dbstat s "
            "LEFT JOIN sqlite_master m ON m.name = s.name "
            "GROUP BY s.name ORDER BY SUM(s.pgsize) DESC").fetchall()
        for name, kind, owner, pgsize in objects:
            rows = db.execute(f'SELECT COUNT(*) FROM "{owner}"').fetchone()[0] if owner else 0
            what = f"{kind or 'table'} of {owner}" if kind == "index" else kind or "table"
            print(f"  {name:<46} {what:<26} {pgsize:>12,} B  {pgsize / deals:>8,.0f} B/deal"
                  f"  {rows:>8,} rows")
        for name, kind, _owner, pgsize in objects:
            if kind != "table" or pgsize < MIN_TABLE_BYTES:
                continue
            columns = [row[1] for row in db.execute(f'PRAGMA table_info("{name}")')]
            sums = db.execute("SELECT " + ", ".join(
                f'COALESCE(SUM(CASE typeof("{c}") WHEN \'integer\' THEN 4 '
                f'WHEN \'real\' THEN 8 WHEN \'null\' THEN 0 '
                f'ELSE length(CAST("{c}" AS BLOB)) END), 0)' for c in columns)
                + f' FROM "{name}"').fetchone()
            print(f"  {name} columns (value bytes, B/deal): " + ", ".join(
                f"{c} {s / deals:,.0f}" for c, s in sorted(zip(columns, sums, strict=True),
                                                           key=lambda pair: -pair[1])))
    return size / deals


if __name__ == "__main__":
    main()
