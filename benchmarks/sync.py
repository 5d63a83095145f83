"""Sync cycles end to end: the real connectors against the sandbox, a SQLite store.

For each size N (default 2,000 and 10,000 seeded deal scenarios) it seeds the sandbox,
writes the `init --sandbox` config, and times

  first cycle   a full reconcile: pull both sides, plan every deal, write every flag and
                task, record it all;
  echo cycle    the next cycle, which reads its own writes back and writes nothing;
  quiet cycle   nothing changed: one read per object, no writes.

It prints seconds, records read and written, API calls per system and store size for
each, and last `sync: <S> s per quiet cycle at <N> deals` for the largest size.

By default the config has no overlap window (the pulls re-read nothing behind their
cursors), so the quiet cycle costs what a long-running daemon's costs when nothing
changed: one read per object, and planning only the deals whose SLA clocks run. The echo
cycle reads all the first cycle's writes back (and plans every deal they touch),
HubSpot's pacing (5 searches per second) included.

``--overlap shipped`` keeps the shipped overlap windows (Salesforce 60 s, HubSpot 120 s
with a 30 s search lag) and ``--pause S`` moves the sandbox's clock S seconds forward
before each cycle after the first, as the daemon's interval (300 s by default) lets the
systems' clocks run between cycles: with the shipped overlaps, whether the quiet cycle
still re-reads the first cycle's writes is what this measures.

    .venv/bin/python benchmarks/sync.py [--sizes 2000,10000] [--overlap 0|shipped]
        [--pause 300]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package

from handoff_sync.config.load import load_config  # noqa: E402
from handoff_sync.daemon.logs import configure_logging  # noqa: E402
from handoff_sync.demo.sandbox_config import write_sandbox_config  # noqa: E402
from handoff_sync.sandbox.core.usage import Quotas  # noqa: E402
from handoff_sync.sandbox.server import SandboxServer  # noqa: E402
from handoff_sync.store import Store  # noqa: E402
from handoff_sync.sync.cycle import CycleReport, PipelineRunner  # noqa: E402

QUOTAS = Quotas(salesforce_daily=10_000_000, hubspot_daily=10_000_000, hubspot_per_10s=None,
                hubspot_search_per_second=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,10000",
                        help="comma-separated deal counts (default: 2000,10000)")
    parser.add_argument("--overlap", choices=("0", "shipped"), default="0",
                        help="0: no overlap window (default); shipped: the config's own")
    parser.add_argument("--pause", type=float, default=0.0,
                        help="seconds the sandbox's clock moves on before each later cycle "
                             "(default 0)")
    args = parser.parse_args()
    if args.pause < 0:
        parser.error(f"--pause must be 0 or more seconds, not {args.pause:g}")
    configure_logging("error", "json")
    sizes = [int(s) for s in args.sizes.split(",")]
    seconds = 0.0
    for size in sizes:
        seconds = measure(size, shipped=args.overlap == "shipped", pause=args.pause)
    print(f"sync: {seconds:.2f} s per quiet cycle at {sizes[-1]:,} deals")


def measure(deals: int, *, shipped: bool = False, pause: float = 0.0) -> float:
    with tempfile.TemporaryDirectory(prefix="hs-bench-") as tmp, \
            SandboxServer(quotas=QUOTAS) as server:
        folder = Path(tmp)
        server.sandbox.seed(deals=deals, partners=max(12, deals // 40), random_seed=7)
        config_file = folder / "handoff-sync.yaml"
        write_sandbox_config(server.base_url, config_file,
                             database=f"sqlite:///{folder}/handoff-sync.db")
        # No overlap window: the quiet cycle then reads what a long-running daemon reads
        # when nothing changed (nothing), instead of the first cycle's writes again. The
        # sandbox's search index here does not lag, so HubSpot may say so (the overlap
        # must cover the lag).
        if not shipped:
            text = config_file.read_text(encoding="utf-8").replace(
                "    ca_file: ca.pem\n", "    ca_file: ca.pem\n    overlap_seconds: 0\n")
            text = text.replace("    system: hubspot\n",
                                "    system: hubspot\n    search_lag_seconds: 0\n")
            config_file.write_text(text, encoding="utf-8")
        config = load_config(config_file)
        store = Store.connect(config.database.url)
        store.migrate()
        runner = PipelineRunner(config, config.pipelines[0], store, holder="bench")
        try:
            seconds = 0.0
            for name in ("first", "echo", "quiet"):
                if name != "first" and pause:
                    server.sandbox.clock.shift(pause)
                started = time.perf_counter()
                report = runner.run_cycle()
                seconds = time.perf_counter() - started
                print(_line(deals, name, seconds, report, folder))
            return seconds
        finally:
            runner.close()
            store.close()


def _line(deals: int, name: str, seconds: float, report: CycleReport, folder: Path) -> str:
    counts = report.counts
    calls = ", ".join(f"{system} {usage.get('total', 0)}"
                      for system, usage in sorted(report.api_calls.items()))
    size = (folder / "handoff-sync.db").stat().st_size / 1e6
    return (f"{deals:>7,} deals  {name:<5} cycle: {seconds:6.2f} s  "
            f"{counts.get('deals', 0):>6,} planned  read {counts.get('records_read', 0):>6,}  "
            f"wrote {counts.get('records_written', 0):>6,}  tasks +{counts.get('tasks_created', 0)}"
            f"  API calls: {calls}  store {size:.1f} MB  outcome {report.outcome.value}")


if __name__ == "__main__":
    main()
