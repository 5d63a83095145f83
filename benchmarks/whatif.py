"""The policy page's what-if: a gate change previewed against a store of N deals.

For each size N (default 500, 3,000 and 10,000 seeded deal scenarios) it seeds the
sandbox, syncs it into a SQLite store (a first cycle, then the echo cycle that reads its
writes back: the state a running daemon leaves), and times ``sync.whatif.what_if`` for
the change admins make most: a required field added to a stage's gate (Success criteria
on partner_to_direct's first stage), as the console previews it. Timed:

  first preview   the store read, owners rebuilt, the mirror mapped and planned with the
                  mappings in force, the candidate's deals planned, the plans compared;
  again           the same preview once more (an admin editing the form further: the
                  plan with the mappings in force is reused while the store has not moved);
  other change    another candidate on the same store (a customer-success SLA shortened);
  page warm-up    what opening the policy page starts in the background: the plan with
                  the mappings in force (``sync.whatif.warm``), on a fresh cache;
  warmed preview  the first preview after that warm-up: the candidate's half alone.

Wall and CPU milliseconds (a busy machine inflates the first), deals planned and the
headline for each; ``--check`` also computes each what-if by planning every deal twice
and stops if the answers differ. The last line is `whatif: <ms> ms at <N> deals`: the
first preview at the largest size.

    .venv/bin/python benchmarks/whatif.py [--sizes 500,3000,10000] [--check] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import pstats
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package

from handoff_sync.config.load import load_config  # noqa: E402
from handoff_sync.daemon.logs import configure_logging  # noqa: E402
from handoff_sync.demo.sandbox_config import write_sandbox_config  # noqa: E402
from handoff_sync.mapping.loader import validate_mappings  # noqa: E402
from handoff_sync.mapping.mapping_set import MappingSet  # noqa: E402
from handoff_sync.sandbox.core.usage import Quotas  # noqa: E402
from handoff_sync.sandbox.server import SandboxServer  # noqa: E402
from handoff_sync.store import Store  # noqa: E402
from handoff_sync.sync.cycle import PipelineRunner  # noqa: E402
from handoff_sync.sync.whatif import Baselines, WhatIf, warm, what_if  # noqa: E402

SORT = ("tottime",)  # --profile: where the time goes, by own time
QUOTAS = Quotas(salesforce_daily=10_000_000, hubspot_daily=10_000_000, hubspot_per_10s=None,
                hubspot_search_per_second=None)
# The gate line after which the new required field goes, and the SLA the other change
# shortens (both in the default pack's handoff.yaml).
GATE_LINE = '          - {field: budget, label: "Budget confirmed (BANT)", weight: 2}\n'
NEW_FIELD = "          - {field: success_criteria, label: Success criteria, weight: 3}\n"
SLA_LINE = "        duration: {hours: 48}\n"
SHORTER_SLA = "        duration: {hours: 24}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,3000,10000",
                        help="comma-separated deal counts (default: 500,3000,10000)")
    parser.add_argument("--check", action="store_true",
                        help="compare each what-if with planning every deal twice")
    parser.add_argument("--profile", action="store_true",
                        help="print cProfile's top functions for the first preview")
    args = parser.parse_args()
    configure_logging("error", "json")
    sizes = [int(s) for s in args.sizes.split(",")]
    seconds = 0.0
    for size in sizes:
        seconds = measure(size, check=args.check, profile=args.profile)
    print(f"whatif: {seconds * 1000:.0f} ms at {sizes[-1]:,} deals")


def measure(deals: int, *, check: bool = False, profile: bool = False) -> float:
    with tempfile.TemporaryDirectory(prefix="hs-bench-") as tmp, \
            SandboxServer(quotas=QUOTAS) as server:
        folder = Path(tmp)
        server.sandbox.seed(deals=deals, partners=max(12, deals // 40), random_seed=7)
        mappings = folder / "mappings"
        shutil.copytree(ROOT / "mappings", mappings, ignore=shutil.ignore_patterns("packs"))
        config_file = folder / "handoff-sync.yaml"
        write_sandbox_config(server.base_url, config_file,
                             database=f"sqlite:///{folder}/handoff-sync.db", mappings=mappings)
        config = load_config(config_file)
        pipeline = config.pipelines[0]
        store = Store.connect(config.database.url)
        store.migrate()
        runner = PipelineRunner(config, pipeline, store, holder="bench")
        try:
            started = time.perf_counter()
            for _ in range(2):  # the first cycle and its echo
                runner.run_cycle()
            print(f"{deals:>7,} deals  synced in {time.perf_counter() - started:.1f} s")
        finally:
            runner.close()
        current = _valid(mappings)
        gate = _candidate(folder / "gate", mappings, GATE_LINE, GATE_LINE + NEW_FIELD)
        sla = _candidate(folder / "sla", mappings, SLA_LINE, SHORTER_SLA)
        now = datetime.now(UTC)
        baselines = Baselines()

        def preview(candidate: MappingSet, name: str, *, profiled: bool = False) -> float:
            seconds, result = _timed(lambda: what_if(
                store, pipeline.name, current, candidate, now,
                create=pipeline.create_opportunities, baselines=baselines), profiled)
            print(f"{deals:>7,} deals  {name:<14}: {seconds[0] * 1000:7.0f} ms wall  "
                  f"{seconds[1] * 1000:7.0f} ms CPU  {result.headline()}")
            if check:
                full = what_if(store, pipeline.name, current, candidate, now,
                               create=pipeline.create_opportunities, narrow=False)
                if dataclasses.replace(full, seconds=0) != dataclasses.replace(result, seconds=0):
                    raise SystemExit("the what-if differs from planning every deal twice:\n"
                                     f"{result.headline()}\n{full.headline()}")
            return seconds[0]

        try:
            first = preview(gate, "first preview", profiled=profile)
            preview(gate, "again")
            preview(sla, "other change")
            baselines = Baselines()  # a new console: nothing held
            wall, cpu = time.perf_counter(), time.process_time()
            warm(store, pipeline.name, current, now, create=pipeline.create_opportunities,
                 baselines=baselines)
            print(f"{deals:>7,} deals  {'page warm-up':<14}: "
                  f"{(time.perf_counter() - wall) * 1000:7.0f} ms wall  "
                  f"{(time.process_time() - cpu) * 1000:7.0f} ms CPU  (in the background)")
            preview(gate, "warmed preview")
        finally:
            store.close()
        return first


def _timed(run: Callable[[], WhatIf], profile: bool) -> tuple[tuple[float, float], WhatIf]:
    """(wall, CPU) seconds of ``run`` and its answer."""
    profiler = cProfile.Profile() if profile else None
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    result = run()
    if profiler is not None:
        profiler.disable()
    seconds = (time.perf_counter() - wall, time.process_time() - cpu)
    if profiler is not None:
        pstats.Stats(profiler).sort_stats(*SORT).print_stats(40)
    return seconds, result


def _candidate(folder: Path, mappings: Path, old: str, new: str) -> MappingSet:
    """A copy of ``mappings`` with ``old`` replaced by ``new`` in handoff.yaml, validated."""
    shutil.copytree(mappings, folder)
    file = folder / "handoff.yaml"
    text = file.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in handoff.yaml any more: update the benchmark"
    file.write_text(text.replace(old, new, 1), encoding="utf-8")
    return _valid(folder)


def _valid(folder: Path) -> MappingSet:
    mappings, problems = validate_mappings(folder)
    if mappings is None:
        raise SystemExit(f"{folder} does not validate: {problems}")
    return mappings


if __name__ == "__main__":
    main()
