"""Console pages at scale: every page of the nav, with 100,000 deals in the store.

It builds a SQLite store the way a daemon leaves it after a first full cycle over an org
pair of N deals (default 100,000): the engine benchmark's generated registrations and
opportunities (85% already linked, 10% by an id field, 5% by the matching rules) are
planned by the engine and recorded through ``Store.record_cycle``: mirror, links,
bases, verdicts, gate history, clocks, tasks, review items, and 2% of the deals with a
refused write. Around that cycle sit 40 earlier cycles and one failed cycle after it,
so the health page has a history and a current failure, and 500 mapping edits for the
audit page. No API is called.

Then it serves the console in process (Starlette's TestClient, logged in as an admin)
and times GET of each page in the nav: one warm-up (a page computed in a background job,
/reports, is polled until its result shows), then ``--repeat`` requests. It prints the
build time and store size, median and p95 per page (warm: the report already computed).

Then the cold cases the warm p95 hides, on /reports: a cycle is recorded (a run row
started and finished, as a cycle moves the store's version) and the page is asked
again: the time of that first request (it answers at once with the older figures,
labelled), and how long until the fresh figures show (the rows read again and the
report computed, in background jobs); then the same when only the minute moves (the
report is keyed by ``now`` to the minute). The last line is
`console: <max warm p95> ms p95 at <N> deals (target 300)`. Pages are whatever the nav
has when it runs. Each run adds one run row to a kept store.

Building the 100,000-deal store takes minutes; ``--keep DIR`` builds it in DIR once and
later runs time the pages against it (new pages, new migrations) without building again.

    .venv/bin/python benchmarks/console.py [--deals 100000] [--repeat 20] [--keep DIR]
"""

from __future__ import annotations

import argparse
import html
import re
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package
sys.path.insert(0, str(ROOT / "benchmarks"))  # the engine benchmark's generator

import engine as generated  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from handoff_sync.config.load import load_config  # noqa: E402
from handoff_sync.config.settings import Config  # noqa: E402
from handoff_sync.console.app import create_app  # noqa: E402
from handoff_sync.console.auth import hash_password  # noqa: E402
from handoff_sync.console.context import ConsoleContext  # noqa: E402
from handoff_sync.daemon.logs import configure_logging  # noqa: E402
from handoff_sync.demo.sandbox_config import write_sandbox_config  # noqa: E402
from handoff_sync.engine.plan import EngineInput, plan  # noqa: E402
from handoff_sync.engine.types import EngineState  # noqa: E402
from handoff_sync.mapping.loader import load_mappings  # noqa: E402
from handoff_sync.mapping.system.convert import to_canonical  # noqa: E402
from handoff_sync.model import OwnerDirectory, Role  # noqa: E402
from handoff_sync.sandbox.server import SandboxServer  # noqa: E402
from handoff_sync.store import Store  # noqa: E402
from handoff_sync.store.types import (  # noqa: E402
    CycleOutcome,
    FailureKind,
    MirrorRecord,
    RecordFailure,
    RunKind,
    RunOutcome,
)

NOW = generated.NOW
ADMIN, PASSWORD = "bench", "benchmark password"
CONFIG = "handoff-sync.yaml"
HISTORY = 40  # earlier cycles, five minutes apart
AUDIT_EDITS = 500
REFUSED_SHARE = 50  # one deal in 50 has a refused write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page")
    parser.add_argument("--keep", metavar="DIR", type=Path,
                        help="build the store in DIR, or reuse the one built there before")
    args = parser.parse_args()
    configure_logging("error", "json")
    with tempfile.TemporaryDirectory(prefix="hs-bench-console-") as tmp:
        worst, deals = run(args.keep or Path(tmp), args.deals, args.repeat)
    print(f"console: {worst:.0f} ms p95 at {deals} deals (target 300)")


def run(folder: Path, deals: int, repeat: int) -> tuple[float, int]:
    """The worst p95 and the number of deals in the store."""
    marker = folder / "deals.txt"  # written once the store is complete
    built = marker.exists()
    config = load_config(folder / CONFIG) if built else write_config(folder)
    store = Store.connect(config.database.url)
    try:
        store.migrate()
        if built:
            deals = int(marker.read_text(encoding="utf-8"))
            print(f"store: {deals:,} deals, built before in {folder}")
        else:
            started = time.perf_counter()
            build(store, config, deals)
            marker.write_text(str(deals), encoding="utf-8")
            print(f"store: {deals:,} deals recorded in {time.perf_counter() - started:.1f} s")
        if not store.mapping_edits(limit=1):
            audit_history(store, config)
        size = (folder / "console.db").stat().st_size / 1e6
        print(f"store: {size:,.0f} MB")
        clock = Clock(NOW)
        return measure(ConsoleContext(config, store, clock=clock), repeat), deals
    finally:
        store.close()


def write_config(folder: Path) -> Config:
    """The `init --sandbox` config (a sandbox runs only to hand out its credentials: no
    page calls an API) with one admin."""
    config_file = folder / CONFIG
    folder.mkdir(parents=True, exist_ok=True)
    with SandboxServer() as server:
        write_sandbox_config(server.base_url, config_file,
                             database=f"sqlite:///{folder}/console.db")
    with config_file.open("a", encoding="utf-8") as out:
        out.write(f"console:\n  users:\n    - {{name: {ADMIN}, role: admin, "
                  f"password_hash: '{hash_password(PASSWORD)}'}}\n")
    return load_config(config_file)


def build(store: Store, config: Config, deals: int) -> None:
    pipeline = config.pipelines[0]
    mappings = load_mappings(pipeline.mappings)
    raw_prm, raw_crm, links = generated.generate(deals)
    crm_owners, prm_owners = OwnerDirectory(generated.USERS), OwnerDirectory()
    prm = [to_canonical(mappings.prm, raw, prm_owners) for raw in raw_prm]
    crm = [to_canonical(mappings.crm, raw, crm_owners) for raw in raw_crm]
    result = plan(EngineInput(pipeline.name, mappings, prm, crm, EngineState(links=links),
                              NOW, crm_owners, prm_owners))
    failures = refused_writes(result, raw_crm)
    refused = {failure.deal for failure in failures}
    calls = usage(deals)
    for index in range(HISTORY):  # the history before the big cycle
        at = NOW - timedelta(minutes=5 * (HISTORY - index) + 10)
        run_id = f"history{index:04d}"
        store.start_run(pipeline.name, run_id, RunKind.INCREMENTAL, at, "bench")
        store.finish_run(run_id, at + timedelta(seconds=4), RunOutcome.OK, None, calls,
                         {"records_read": 40 + index, "records_written": index % 7})
    started = NOW - timedelta(minutes=10)
    store.start_run(pipeline.name, "full0001", RunKind.FULL, started, "bench")
    store.record_cycle(CycleOutcome(
        pipeline=pipeline.name, run_id="full0001", kind=RunKind.FULL, started_at=started,
        ended_at=started + timedelta(seconds=95), outcome=RunOutcome.PARTIAL, plan=result,
        written_deals=frozenset(b.deal for b in result.bases if b.deal not in refused),
        task_ids=MappingProxyType({action.task.key: f"00T{index:015d}"
                                   for index, action in enumerate(result.tasks)}),
        mirror={Role.PRM: mirror(raw_prm, "hs_object_id", "hs_lastmodifieddate"),
                Role.CRM: mirror(raw_crm, "Id", "SystemModstamp")},
        mirror_replace=frozenset(Role), failures=failures,
        counts=MappingProxyType({"records_read": 2 * deals, "deals": deals,
                                 "records_written": len(result.writes),
                                 "tasks_created": len(result.tasks),
                                 "errors": len(failures)}),
        api_calls=calls, message=f"{len(failures)} records were not written"))
    failed_at = NOW - timedelta(minutes=5)
    store.start_run(pipeline.name, "failed0001", RunKind.INCREMENTAL, failed_at, "bench")
    store.finish_run("failed0001", failed_at + timedelta(seconds=2), RunOutcome.FAILED,
                     "salesforce: INVALID_SESSION_ID: Session expired or invalid: check "
                     "the connected app's certificate", calls, {"errors": 1})


def audit_history(store: Store, config: Config) -> None:
    """A year of mapping edits by a few admins (the audit page shows the last 200)."""
    folder = str(config.pipelines[0].mappings)
    for index in range(AUDIT_EDITS):
        weight = 10 + index % 20
        store.record_mapping_edit(
            folder, at=NOW - timedelta(days=365) + timedelta(hours=17 * index),
            by=f"admin{index % 4}@vendor.example",
            summary=f"gate discovery: economic_buyer weight {weight - 1} -> {weight}",
            diff={"policy.yaml": f"@@ -40,7 +40,7 @@\n       - field: economic_buyer\n"
                                 f"-        weight: {weight - 1}\n+        weight: {weight}\n"})


def refused_writes(result: Any, raw_crm: list[dict[str, Any]]) -> tuple[RecordFailure, ...]:
    by_deal = {write.deal: write for write in result.writes if write.role is Role.CRM}
    failures = []
    for index, (deal, write) in enumerate(sorted(by_deal.items())):
        if index % REFUSED_SHARE == 0:
            code, message = ((("FIELD_CUSTOM_VALIDATION_EXCEPTION",
                              "Close date cannot be in the past for an open opportunity"))
                             if index % 3 else
                             ("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access"))
            failures.append(RecordFailure(FailureKind.RECORD, Role.CRM, "salesforce",
                                          "Opportunity", write.record_id, code, message,
                                          deal=deal, retriable=code == "UNABLE_TO_LOCK_ROW"))
    return tuple(failures)


def mirror(raw: list[dict[str, Any]], id_field: str,
           stamp_field: str) -> MappingProxyType[str, MirrorRecord]:
    """The records as the mirror holds them: flat, JSON-safe values."""
    def safe(value: Any) -> Any:
        return value.isoformat() if isinstance(value, date | datetime) else value

    records = {}
    for record in raw:
        stamp = record[stamp_field]
        modified = stamp if isinstance(stamp, datetime) else datetime.fromisoformat(stamp)
        records[str(record[id_field])] = MirrorRecord(
            str(record[id_field]), modified, {k: safe(v) for k, v in record.items()})
    return MappingProxyType(records)


def usage(deals: int) -> dict[str, dict[str, Any]]:
    def system(total: int, limit: int) -> dict[str, Any]:
        return {"calls": {"query": total}, "total": total, "daily_used": total * 3,
                "daily_limit": limit, "window_remaining": None, "window_limit": None,
                "throttled_seconds": 0.0, "budget_unshared": False}

    return {"salesforce": system(max(5, deals // 2000), 1_000_000),
            "hubspot": system(max(5, deals // 100), 500_000)}


class Clock:
    """The console's clock: NOW, moved on by the minute-tick measure."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def measure(context: ConsoleContext, repeat: int) -> float:
    """Median and p95 milliseconds per page of the nav, then the reports page's cold
    cases; the worst warm p95."""
    app = create_app(context)
    client = TestClient(app, base_url="http://127.0.0.1")
    token = _token(client.get("/login").text)
    client.post("/login", data={"name": ADMIN, "password": PASSWORD, "csrf_token": token})
    worst = 0.0
    for href, label in app.state.nav:
        first = client.get(href)
        if first.status_code != 200:
            raise SystemExit(f"{href} answered {first.status_code}: {first.text[:300]}")
        first = until_fresh(client, first)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(href)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        worst = max(worst, p95)
        print(f"{label:<10} {href:<12} median {statistics.median(times):7.1f} ms  "
              f"p95 {p95:7.1f} ms  ({len(first.content) / 1e3:,.0f} kB, {repeat} requests)")
    store, pipeline = context.store, context.pipelines[0].name
    run_id = f"bench{time.time_ns()}"
    store.start_run(pipeline, run_id, RunKind.INCREMENTAL, NOW, "bench")
    store.finish_run(run_id, NOW + timedelta(seconds=3), RunOutcome.OK, None, {}, {})
    cold(client, "after a cycle")
    assert isinstance(context.clock, Clock)
    context.clock.now = NOW + timedelta(minutes=1)
    cold(client, "a minute on")
    return worst


def cold(client: TestClient, case: str) -> None:
    """/reports asked once the store or the minute moved: that request's time, and how
    long until the fresh figures show (polling as htmx does)."""
    started = time.perf_counter()
    first = client.get("/reports")
    answered = time.perf_counter() - started
    shown = ("older figures, labelled" if "Figures as of" in first.text
             else "computing" if "Computing the report" in first.text
             else "fresh figures" if '<section id="volume"' in first.text else "?")
    until_fresh(client, first)
    fresh = time.perf_counter() - started
    print(f"Reports    cold, {case}: first request {answered * 1000:7.1f} ms "
          f"({shown}); fresh figures shown after {fresh:5.1f} s")


def until_fresh(client: TestClient, page: Any) -> Any:
    """``page`` once no background job is pending for it: polled as htmx does (every
    0.2 s here rather than 2 s, so the time measured is the job's, give or take)."""
    while "report-pending" in page.text:
        found = re.search(r'hx-get="(/reports\?[^"]*job=[^"]+)"', page.text)
        if found is None:
            raise SystemExit("a pending /reports page without its poll link")
        time.sleep(0.2)
        page = client.get(html.unescape(found.group(1)), headers={"HX-Request": "true"})
    return page


def _token(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


if __name__ == "__main__":
    main()
