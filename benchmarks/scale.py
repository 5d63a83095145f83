"""Scale (issue #20): a first sync against the APIs' own pace, quiet cycles, memory, store.

For each size N (default 10,000 and 100,000 seeded deal scenarios; `--sizes 2000` is a
quick check, `--sizes 1000000` the big one) it runs the daemon the way it ships, against
the sandbox the way it ships, and prints a table:

  seed          how long the sandbox took to generate the N scenarios (fixed random seed
                7, so every run syncs the same data);
  first sync    wall and CPU time of the first (full) cycle, the daemon's peak RSS, and
                the API-bound minimum: the fewest seconds the calls it actually made
                could take at the sandbox's quotas, next to the measured time and their
                ratio;
  store         the store's bytes per deal after the first sync (SQLite: the file after a
                WAL checkpoint, -wal and -shm included; PostgreSQL: pg_total_relation_size
                summed over the store's tables);
  echo cycle    the next cycle, an overlap window later: it reads the first cycle's
                writes back;
  quiet cycle   nothing changed since the echo cycle, an overlap window later: CPU and
                wall time in the long-running daemon process, its RSS then; and the peak
                RSS of a fresh process that loads the store and runs one quiet cycle (the
                honest "quiet RSS": a daemon restarted into a quiet world);
  1% changed    N/100 deals edited through the vendors' REST APIs (half the
                opportunities' Amount in Salesforce, half the registrations' amount in
                HubSpot), then one cycle: wall and CPU.

Its last line is, for the largest size run:

    scale: first-sync <ratio>x api-minimum at <N>, quiet <ms> ms <MB> MB at <N>

How the figures are kept honest:

- Three processes. The sandbox is `handoff-sync sandbox` (its shipped quotas: HubSpot 190
  calls per 10 s, 5 searches per s, 1,000,000 a day; Salesforce 100,000 a day) in a
  process of its own, so its memory and CPU are not the daemon's. The daemon is a child
  process of this script that runs cycles when told (a long-running daemon: its caches
  live across cycles); RSS is its own `getrusage(RUSAGE_SELF).ru_maxrss` and CPU its own
  `time.process_time()` around each cycle. The fresh quiet process is a third child.
- The config is exactly what `handoff-sync init --sandbox` writes: default overlap windows
  (Salesforce 60 s, HubSpot 120 s), pacing, budget share (20% of each daily allowance),
  Bulk API threshold. Nothing is switched off (benchmarks/sync.py lifts the quotas and
  sets the overlap to 0; this does not).
- The API-bound minimum is computed from the calls the sandbox counted during the first
  cycle (its /__sandbox__/stats before and after; token endpoints left out, they are not
  metered): HubSpot's burst lane (every metered call, searches included, at 190 per 10 s)
  and its search lane (searches at 5 per s) run side by side, so HubSpot needs the longer
  of the two; Salesforce meters only a daily allowance, which costs no time until the
  calls pass the daemon's share of it (then each further share waits a day), and the
  same holds for HubSpot's daily allowance. The minimum is the longest lane, each lane
  taken as calls / rate. It leaves out latency, the daemon's own CPU and the pacing margin
  the HubSpot connector keeps (5%), so a ratio of 1.0 is hard to reach; the gap above it
  is what the cycle spends beyond the APIs' pace. It also leaves out that a rolling
  window lets its first calls go at once (190 HubSpot calls, 5 searches): at a few hundred
  deals that overstates the minimum and the ratio may fall below 1; at 10,000 deals
  (about 290 HubSpot calls) calls / rate says 15 s where the window allows 10 s, at
  100,000 (about 2,750) 145 s against 140 s. Each lane's line shows both.
- The overlap windows pass twice: before the echo cycle and again before the quiet
  cycle. A pull re-reads from its cursor less the overlap window, and a completed pull
  settles its cursor at the system's time its first query ran; so the echo cycle, run an
  overlap window after the first sync's last write, reads those writes back once, and
  the quiet cycle, run an overlap window after the echo, reads only what the echo wrote
  (what a daemon reads once a burst of writes is older than the overlap). The sandbox has
  a controllable clock (POST /__sandbox__/clock), so by default (`--clock shift`) its
  clock is moved forward by the longest overlap window plus 30 s each time: record
  timestamps and the APIs' "now" move as they would in that time, at no wall-clock cost.
  The daemon's own clock is not moved (a daemon's SLA clocks would have run 3 minutes
  more); `--clock wait` waits the same time out in real time instead (both clocks move,
  about 5 minutes more per size).
- The daemon process's cold start (imports, login, migrations) is outside the cycle
  timings; the fresh quiet process's peak RSS includes it, as a restarted daemon's would.
- The 1% edits go through the vendors' REST APIs (a SOQL query for the linked
  opportunities, sObject Collections and HubSpot batch updates), as a person's edits
  would; the sandbox has no control-plane edit.

    .venv/bin/python benchmarks/scale.py [--sizes 10000,100000] [--database sqlite|postgresql]
                                         [--clock shift|wait]

A 100,000-deal run takes tens of minutes (the first sync is paced by HubSpot's limits);
the machine's other load shows in wall times, not in CPU times or call counts.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package

import requests  # noqa: E402

from handoff_sync.sandbox.control import MAX_SEED_PARTNERS  # noqa: E402
from handoff_sync.sandbox.core.control_client import ControlClient  # noqa: E402

RANDOM_SEED = 7
DAY = 86_400.0
RESULT = "SCALE-RESULT "  # the prefix of the children's answer lines on stdout
PG_ADMIN_URL = os.environ.get("HANDOFF_SYNC_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
SANDBOX_START_SECONDS = 60.0
CLOCK_MARGIN_SECONDS = 30.0


class BenchError(Exception):
    """A run that cannot give figures; the message says why."""


# --- the command line -----------------------------------------------------------------

def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000",
                        help="comma-separated deal counts (default: 10000,100000)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite",
                        help="the store's backend (postgresql: a fresh database at "
                             "$HANDOFF_SYNC_TEST_PG, default " + PG_ADMIN_URL + ", dropped "
                             "afterwards)")
    parser.add_argument("--clock", choices=("shift", "wait"), default="shift",
                        help="pass the overlap windows before the quiet cycle by moving the "
                             "sandbox's clock (default) or by waiting in real time")
    parser.add_argument("--calls", action="store_true",
                        help="also print each cycle's API calls per endpoint, as the sandbox "
                             "counted them")
    parser.add_argument("--logs", type=Path, metavar="DIR",
                        help="keep the sandbox's and the daemon processes' logs in DIR/<size>/")
    parser.add_argument("--log-level", choices=("debug", "info", "warning", "error"),
                        default="error", help="the daemon processes' log level (default: "
                                              "error; info logs each pull's reads and cursor)")
    parser.add_argument("--child", choices=("daemon", "quiet"), help=argparse.SUPPRESS)
    parser.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return run_child(args.child, args.config, args.log_level)
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes takes whole numbers separated by commas, not {args.sizes!r}")
    if not sizes or min(sizes) < 1:
        parser.error("--sizes needs at least one deal count >= 1")
    results = []
    try:
        for size in sizes:
            result = measure(size, args.database, args.clock, args.log_level, args.logs)
            print(result.table(calls=args.calls), flush=True)
            results.append(result)
    except BenchError as exc:
        print(f"scale: {exc}", file=sys.stderr)
        return 1
    print(headline(results))
    return 0


def headline(results: Sequence[Result]) -> str:
    """The last line: the largest size's figures."""
    top = max(results, key=lambda r: r.deals)
    return (f"scale: first-sync {top.ratio:.2f}x api-minimum at {top.deals}, "
            f"quiet {top.quiet.cpu * 1000:.0f} ms {top.quiet_rss_mb:.0f} MB at {top.deals}")


# --- one size ---------------------------------------------------------------------------

@dataclass
class Cycle:
    """One cycle as a child measured it."""

    name: str
    wall: float
    cpu: float
    peak_rss_mb: float
    rss_mb: float
    outcome: str
    counts: dict[str, int]
    calls: dict[str, int]
    message: str | None
    # Calls per system and endpoint during the cycle, as the sandbox counted them.
    endpoints: dict[str, dict[str, int]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Cycle:
        return cls(doc["name"], doc["wall"], doc["cpu"], doc["peak_rss_mb"], doc["rss_mb"],
                   doc["outcome"], doc["counts"], doc["calls"], doc.get("message"))


@dataclass
class Lane:
    name: str
    calls: int
    seconds: float
    how: str


@dataclass
class Result:
    deals: int
    database: str
    clock: str
    seed_seconds: float
    seed_counts: dict[str, int]
    first: Cycle
    lanes: list[Lane]
    store_bytes: int
    echo: Cycle
    quiet: Cycle
    fresh: Cycle
    edits: dict[str, int]
    edit_seconds: float
    changed: Cycle
    cycles: list[Cycle] = field(default_factory=list)

    @property
    def api_minimum(self) -> float:
        return max(lane.seconds for lane in self.lanes)

    @property
    def ratio(self) -> float:
        return self.first.wall / self.api_minimum if self.api_minimum > 0 else math.inf

    @property
    def quiet_rss_mb(self) -> float:
        return self.fresh.peak_rss_mb

    def table(self, *, calls: bool = False) -> str:
        n = self.deals
        records = sum(v for k, v in self.seed_counts.items())
        lines = [
            f"{n:,} deals ({records:,} records seeded in {self.seed_seconds:.1f} s; store "
            f"{self.database}; overlap windows passed by {self.clock})",
            f"  {'':<22}{'wall s':>9}{'CPU s':>9}{'peak RSS':>10}{'RSS now':>9}"
            f"{'planned':>9}{'read':>9}{'written':>9}  API calls",
        ]
        rows = [("first sync", self.first), ("echo cycle", self.echo),
                ("quiet cycle", self.quiet), ("quiet, fresh process", self.fresh),
                ("1% changed cycle", self.changed)]
        for label, cycle in rows:
            spent = ", ".join(f"{system} {count:,}" for system, count in sorted(
                cycle.calls.items()))
            outcome = "" if cycle.outcome == "ok" else f"  outcome {cycle.outcome}: " \
                f"{cycle.message or ''}"
            lines.append(
                f"  {label:<22}{cycle.wall:>9.2f}{cycle.cpu:>9.2f}"
                f"{cycle.peak_rss_mb:>7.0f} MB{cycle.rss_mb:>6.0f} MB"
                f"{cycle.counts.get('deals', 0):>9,}{cycle.counts.get('records_read', 0):>9,}"
                f"{cycle.counts.get('records_written', 0):>9,}  {spent}{outcome}")
        lines.append(f"  API-bound minimum of the first sync: {self.api_minimum:.1f} s; "
                     f"measured {self.first.wall:.1f} s = {self.ratio:.2f}x")
        for lane in self.lanes:
            lines.append(f"    {lane.name:<18}{lane.calls:>8,} calls  {lane.seconds:>8.1f} s  "
                         f"{lane.how}")
        lines.append(f"  store after the first sync: {self.store_bytes / 1e6:.1f} MB = "
                     f"{self.store_bytes / n:,.0f} bytes per deal")
        lines.append(f"  quiet: {self.quiet.cpu * 1000:.0f} ms CPU in the running daemon, "
                     f"{self.fresh.cpu * 1000:.0f} ms in a fresh process whose peak RSS is "
                     f"{self.fresh.peak_rss_mb:.0f} MB")
        edited = ", ".join(f"{system} {count:,}" for system, count in sorted(self.edits.items()))
        lines.append(f"  1% changed: {sum(self.edits.values()):,} deals edited ({edited}) in "
                     f"{self.edit_seconds:.1f} s; the cycle took {self.changed.wall:.2f} s, "
                     f"{self.changed.cpu:.2f} s CPU")
        if calls:
            for label, cycle in rows:
                lines.append(f"  {label} calls by endpoint:")
                for system, endpoints in sorted(cycle.endpoints.items()):
                    for endpoint, count in sorted(endpoints.items(), key=lambda e: -e[1]):
                        lines.append(f"    {system:<11}{count:>7,}  {endpoint}")
        return "\n".join(lines)


def measure(deals: int, database: str, clock: str, log_level: str,
            logs: Path | None) -> Result:
    with tempfile.TemporaryDirectory(prefix="hs-scale-") as tmp, \
            store_database(database, Path(tmp)) as url, \
            SandboxProcess(Path(tmp)) as sandbox, kept_logs(Path(tmp), logs, deals):
        folder = Path(tmp)
        control = sandbox.control
        started = time.perf_counter()
        progress(f"{deals:,} deals: seeding the sandbox")
        counts = control.seed(deals=deals, partners=min(MAX_SEED_PARTNERS, max(12, deals // 40)),
                              random_seed=RANDOM_SEED)
        seed_seconds = time.perf_counter() - started
        progress(f"{deals:,} deals: seeded in {seed_seconds:.1f} s")
        config_file = folder / "handoff-sync.yaml"
        config = write_config(sandbox.base_url, config_file, url)
        with DaemonProcess(config_file, folder, log_level) as daemon:
            first = counted(control, lambda: daemon.cycle("first"))
            progress(f"{deals:,} deals: first sync took {first.wall:.1f} s")
            lanes = api_lanes(first.endpoints, quotas(control), config)
            store_bytes = store_size(url)
            pass_overlap(control, config, clock)
            echo = counted(control, lambda: daemon.cycle("echo"))
            progress(f"{deals:,} deals: echo cycle took {echo.wall:.1f} s")
            pass_overlap(control, config, clock)
            quiet = counted(control, lambda: daemon.cycle("quiet"))
            fresh = counted(control, lambda: run_fresh_quiet(config_file, folder, log_level))
            progress(f"{deals:,} deals: quiet cycles took {quiet.wall:.1f} s, "
                     f"{fresh.wall:.1f} s in a fresh process")
            started = time.perf_counter()
            edits = edit_one_percent(control, deals)
            edit_seconds = time.perf_counter() - started
            changed = counted(control, lambda: daemon.cycle("changed"))
        for cycle in (first, echo, quiet, fresh, changed):
            if cycle.outcome in ("failed", "interrupted"):
                raise BenchError(f"{deals:,} deals: the {cycle.name} cycle {cycle.outcome}: "
                                 f"{cycle.message}")
        return Result(deals, database, clock, seed_seconds, counts, first, lanes, store_bytes,
                      echo, quiet, fresh, edits, edit_seconds, changed)


def counted(control: ControlClient, run: Callable[[], Cycle]) -> Cycle:
    """Run a cycle; note the calls the sandbox counted meanwhile on it."""
    before = control.stats()
    cycle = run()
    after = control.stats()
    cycle.endpoints = {system: _metered(before.get(system, {}), after.get(system, {}))
                       for system in ("salesforce", "hubspot")}
    return cycle


@contextmanager
def kept_logs(folder: Path, logs: Path | None, deals: int) -> Iterator[None]:
    """Copy the processes' logs to ``logs``/<deals>/ when the size is done (or failed)."""
    try:
        yield
    finally:
        if logs is not None:
            target = logs / str(deals)
            target.mkdir(parents=True, exist_ok=True)
            for log in folder.glob("*.log"):
                shutil.copyfile(log, target / log.name)


def progress(text: str) -> None:
    """Where a long run is (stderr, so stdout stays the figures)."""
    print(f"{time.strftime('%H:%M:%S')} scale: {text}", file=sys.stderr, flush=True)


# --- the sandbox process ------------------------------------------------------------------

class SandboxProcess:
    """`handoff-sync sandbox` on a free loopback port, empty, with its shipped quotas."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ca_file = folder / "sandbox-ca.pem"
        self.log = folder / "sandbox.log"
        self.base_url = ""
        self._process: subprocess.Popen[str] | None = None
        self._control: ControlClient | None = None

    @property
    def control(self) -> ControlClient:
        assert self._control is not None
        return self._control

    def __enter__(self) -> SandboxProcess:
        code = "import sys; from handoff_sync.cli.main import main; sys.exit(main())"
        with self.log.open("w") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-c", code, "--log-level", "error", "sandbox", "--port",
                 "0", "--seed", "empty", "--ca-out", str(self.ca_file)],
                cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True)
        assert self._process.stdout is not None
        deadline = time.monotonic() + SANDBOX_START_SECONDS
        for line in self._process.stdout:
            if "listening on " in line:
                self.base_url = line.split("listening on ", 1)[1].strip()
                break
            if time.monotonic() > deadline:
                break
        if not self.base_url:
            self.__exit__()
            raise BenchError(f"the sandbox did not start: {tail(self.log)}")
        # It prints one more line, when it stops: the pipe holds it unread.
        self._control = ControlClient(self.base_url, self.ca_file, seed_timeout=6 * 3600.0)
        return self

    def __exit__(self, *_: object) -> None:
        if self._control is not None:
            self._control.close()
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process is not None and self._process.stdout is not None:
            self._process.stdout.close()


def quotas(control: ControlClient) -> dict[str, Any]:
    """The quotas the sandbox enforces now (GET /__sandbox__/faults)."""
    answer = control._call("GET", "faults")  # the typed client has no getter for them
    found: dict[str, Any] = answer["quotas"]
    return found


# --- the config and the store ----------------------------------------------------------------

def write_config(base_url: str, config_file: Path, database_url: str) -> Any:
    from handoff_sync.config.load import load_config
    from handoff_sync.demo.sandbox_config import write_sandbox_config

    write_sandbox_config(base_url, config_file, database=database_url)
    return load_config(config_file)


@contextmanager
def store_database(backend: str, folder: Path) -> Iterator[str]:
    """The store's URL: a SQLite file in ``folder``, or a PostgreSQL database of its own
    (created here, dropped WITH (FORCE) afterwards) so no other user's tables are touched."""
    if backend == "sqlite":
        from handoff_sync.store import sqlite_url_for

        yield sqlite_url_for(folder / "handoff-sync.db")
        return
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict

    name = f"hs_scale_{secrets.token_hex(6)}"
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=10) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        raise BenchError(f"cannot create a database at {PG_ADMIN_URL} (set "
                         f"HANDOFF_SYNC_TEST_PG): {str(exc).strip().splitlines()[0]}") from None
    info = conninfo_to_dict(PG_ADMIN_URL)
    try:
        yield (f"postgresql+psycopg://{info.get('user') or 'postgres'}@"
               f"{info.get('host') or '127.0.0.1'}:{info.get('port') or '5432'}/{name}")
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                          .format(sql.Identifier(name)))


def store_size(url: str) -> int:
    """Bytes the store takes now (the daemon process is idle between cycles)."""
    if url.startswith("sqlite"):
        import sqlite3

        path = Path(url.split(":///", 1)[1])
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
                   if p.exists())
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as db:
        row = db.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'm')").fetchone()
    return int(row[0]) if row else 0


# --- API-bound minimum ---------------------------------------------------------------------------

def api_lanes(made: dict[str, dict[str, int]], quota: dict[str, Any],
              config: Any) -> list[Lane]:
    """Per lane: the metered calls the first sync made (per system and endpoint) and the
    fewest seconds they take at the sandbox's quotas (see the module docstring)."""
    shares = {connection.system: float(connection.budget.share)
              for connection in config.connections.values()}
    lanes = []
    hubspot = made.get("hubspot", {})
    total = sum(hubspot.values())
    searches = sum(n for endpoint, n in hubspot.items() if endpoint.endswith("/search"))
    burst = quota.get("hubspot_per_10s")
    if burst:
        lanes.append(Lane("hubspot burst", total, total / (burst / 10.0),
                          f"every call at {burst} per 10 s (the window lets them go in "
                          f"{_windowed(total, burst, 10.0):.0f} s)"))
    per_second = quota.get("hubspot_search_per_second")
    if per_second:
        lanes.append(Lane("hubspot search", searches, searches / per_second,
                          f"searches at {per_second} per s (the window lets them go in "
                          f"{_windowed(searches, per_second, 1.0):.0f} s)"))
    for system, key in (("hubspot", "hubspot_daily"), ("salesforce", "salesforce_daily")):
        calls = sum(made.get(system, {}).values())
        daily = quota.get(key)
        if daily:
            share = shares.get(system, 1.0)
            allowance = max(1, int(daily * share))
            days = max(0, math.ceil(calls / allowance) - 1)
            lanes.append(Lane(f"{system} daily", calls, days * DAY,
                              f"{share:.0%} of {daily:,} a day: "
                              f"{'no wait' if not days else f'{days} day(s) of waiting'}"))
    if not lanes:
        raise BenchError("the sandbox enforces no quota: no API-bound minimum to compare with")
    return lanes


def _windowed(calls: int, limit: int, window: float) -> float:
    """When the last of ``calls`` may go under ``limit`` calls per rolling ``window``."""
    return (calls - 1) // limit * window if calls > 0 else 0.0


def _metered(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    """Calls per endpoint between two stats snapshots, the token endpoints left out."""
    old = before.get("by_endpoint", {})
    return {endpoint: count - old.get(endpoint, 0)
            for endpoint, count in after.get("by_endpoint", {}).items()
            if count > old.get(endpoint, 0) and "oauth" not in endpoint}


# --- passing the overlap windows, the 1% edits ----------------------------------------------

def pass_overlap(control: ControlClient, config: Any, how: str) -> None:
    seconds = max(float(getattr(connection, "overlap_seconds", 0.0))
                  for connection in config.connections.values()) + CLOCK_MARGIN_SECONDS
    if how == "shift":
        control.shift_clock(seconds)
    else:
        time.sleep(seconds)


def edit_one_percent(control: ControlClient, deals: int) -> dict[str, int]:
    """Edit N/100 linked deals (at least 1) through the vendors' REST APIs: every other
    one's Opportunity Amount in Salesforce, the rest's registration amount in HubSpot. The
    deals are spread evenly over the opportunities in Id order (the same every run)."""
    credentials = control.credentials()
    sf, hs = credentials.salesforce, credentials.hubspot
    session = requests.Session()
    session.trust_env = False
    session.verify = str(control.ca_file)
    data = f"{sf.instance_url}/services/data/v{sf.api_version}"
    sf_headers = {"Authorization": f"Bearer {sf.session_id}"}
    linked: list[dict[str, Any]] = []
    answer = _send(session, "GET", f"{data}/query", "Salesforce query", headers=sf_headers,
                   params={"q": "SELECT Id, Amount, Partner_Registration_Id__c FROM "
                                "Opportunity WHERE Partner_Registration_Id__c != null "
                                "ORDER BY Id"})
    while True:
        linked.extend(answer["records"])
        if answer.get("done", True):
            break
        answer = _send(session, "GET", sf.instance_url + answer["nextRecordsUrl"],
                       "Salesforce query more", headers=sf_headers)
    wanted = max(1, deals // 100)
    if not linked:
        raise BenchError("the seeded Salesforce org has no opportunity linked to a "
                         "registration: nothing to edit for the 1% cycle")
    step = len(linked) / min(wanted, len(linked))
    chosen = [linked[int(i * step)] for i in range(min(wanted, len(linked)))]
    in_salesforce = [(r["Id"], float(r.get("Amount") or 0) + 1000 + i)
                     for i, r in enumerate(chosen) if i % 2 == 0]
    in_hubspot = [(str(r["Partner_Registration_Id__c"]), float(r.get("Amount") or 0) + 1000 + i)
                  for i, r in enumerate(chosen) if i % 2 == 1]
    for start in range(0, len(in_salesforce), 200):
        batch = in_salesforce[start:start + 200]
        records = [{"attributes": {"type": "Opportunity"}, "id": record_id, "Amount": amount}
                   for record_id, amount in batch]
        results = _send(session, "PATCH", f"{data}/composite/sobjects",
                        "Salesforce collection update", headers=sf_headers,
                        json={"allOrNone": True, "records": records})
        failed = [r for r in results if not r.get("success")]
        if failed:
            raise BenchError(f"Salesforce refused the 1% edits: {failed[:3]}")
    hs_headers = {"Authorization": f"Bearer {hs.access_token}"}
    for start in range(0, len(in_hubspot), 100):
        batch = in_hubspot[start:start + 100]
        inputs = [{"id": record_id, "properties": {"amount": f"{amount:.2f}"}}
                  for record_id, amount in batch]
        _send(session, "POST", f"{hs.host}/crm/v3/objects/deals/batch/update",
              "HubSpot batch update", headers=hs_headers, json={"inputs": inputs})
    session.close()
    return {"salesforce": len(in_salesforce), "hubspot": len(in_hubspot)}


def _send(session: requests.Session, method: str, url: str, what: str, **kwargs: Any) -> Any:
    """The JSON of a 2xx answer; a 429 (HubSpot's window still full of the daemon's calls)
    is waited out and the request sent again, as the connectors do."""
    for _ in range(20):
        response = session.request(method, url, timeout=120, **kwargs)
        if response.status_code != 429:
            break
        time.sleep(float(response.headers.get("Retry-After") or 1.0))
    if response.status_code >= 300:
        raise BenchError(f"{what} answered HTTP {response.status_code}: {response.text[:300]}")
    return response.json()


# --- the daemon's processes ---------------------------------------------------------------------

class DaemonProcess:
    """A child that loads the config and store once, then runs one cycle per request."""

    def __init__(self, config_file: Path, folder: Path, log_level: str) -> None:
        self.log = folder / "daemon.log"
        self._args = [sys.executable, str(Path(__file__).resolve()), "--child", "daemon",
                      "--config", str(config_file), "--log-level", log_level]
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> DaemonProcess:
        with self.log.open("w") as log:
            self._process = subprocess.Popen(self._args, cwd=ROOT, stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, stderr=log, text=True)
        _answer(self._process.stdout, self.log)  # ready: config loaded, store migrated
        return self

    def cycle(self, name: str) -> Cycle:
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write(f"cycle {name}\n")
        self._process.stdin.flush()
        return Cycle.from_json(_answer(self._process.stdout, self.log))

    def __exit__(self, *_: object) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            try:
                assert self._process.stdin is not None
                self._process.stdin.write("exit\n")
                self._process.stdin.close()
                self._process.wait(timeout=120)
            except (OSError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait()


def run_fresh_quiet(config_file: Path, folder: Path, log_level: str) -> Cycle:
    log = folder / "fresh.log"
    with log.open("w") as err:
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child",
                               "quiet", "--config", str(config_file), "--log-level",
                               log_level], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=err, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith(RESULT):
            return Cycle.from_json(json.loads(line[len(RESULT):]))
    raise BenchError(f"the fresh quiet process ended ({done.returncode}) without a result: "
                     f"{tail(log)}")


def _answer(stream: IO[str] | None, log: Path) -> dict[str, Any]:
    assert stream is not None
    for line in stream:
        if line.startswith(RESULT):
            doc: dict[str, Any] = json.loads(line[len(RESULT):])
            if "error" in doc:
                raise BenchError(f"the daemon process failed: {doc['error']}")
            return doc
    raise BenchError(f"the daemon process ended without answering: {tail(log)}")


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace")
                         .splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- inside the children ------------------------------------------------------------------------

def run_child(kind: str, config_file: Path, log_level: str) -> int:
    """The daemon side: `daemon` answers `cycle NAME` lines until `exit`; `quiet` runs one
    cycle in a fresh process and exits. Answers are RESULT lines of JSON on stdout."""
    from handoff_sync.config.load import load_config
    from handoff_sync.daemon.logs import configure_logging
    from handoff_sync.store import Store
    from handoff_sync.sync.cycle import PipelineRunner

    configure_logging(log_level, "json")  # to stderr: the parent keeps it in a log file
    config = load_config(config_file)
    store = Store.connect(config.database.url)
    runner = None
    try:
        if kind == "daemon":
            store.migrate()
        runner = PipelineRunner(config, config.pipelines[0], store, holder="scale-bench",
                                daemon=True)
        if kind == "quiet":
            _reply(_cycle(runner, "quiet, fresh process"))
            return 0
        _reply({"ready": True, "peak_rss_mb": _peak_rss_mb()})
        for line in sys.stdin:
            command, _, name = line.strip().partition(" ")
            if command == "exit":
                break
            if command != "cycle":
                _reply({"error": f"unknown command {line.strip()!r}"})
                return 2
            _reply(_cycle(runner, name))
        return 0
    finally:
        if runner is not None:
            runner.close()
        store.close()


def _cycle(runner: Any, name: str) -> dict[str, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    report = runner.run_cycle()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    counts = dict(report.counts)
    calls = {system: int(usage.get("total", 0)) for system, usage in report.api_calls.items()}
    outcome, message = report.outcome.value, report.message
    del report  # its plan is not the daemon's to keep
    return {"name": name, "wall": wall, "cpu": cpu, "peak_rss_mb": _peak_rss_mb(),
            "rss_mb": _rss_mb(), "outcome": outcome, "counts": counts, "calls": calls,
            "message": message}


def _reply(doc: dict[str, Any]) -> None:
    sys.stdout.write(RESULT + json.dumps(doc) + "\n")
    sys.stdout.flush()


def _peak_rss_mb() -> float:
    """This process's peak resident set (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb() -> float:
    """This process's resident set now."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


if __name__ == "__main__":
    sys.exit(main())
