"""API calls one sync cycle spends per system, against the fewest the APIs allow (issue #5).

Calls are what an integration is rationed by (Salesforce's daily allowance, HubSpot's burst,
search and daily limits), so each connector must spend close to the minimum. For N changed
deals per system (default 1,000 / 10,000 / 100,000) this runs one cycle of each connector
against the loopback sandbox: ``start_cycle()``, a pull of the deal object with the default
mappings' fields since a cursor (every page consumed), then N updates of two output fields
(gate status and completeness, converted by the mapping). Calls are counted by kind from
``connector.usage`` and checked against the sandbox's own count of requests.

Minimum per cycle: Salesforce ceil(N/2000) query pages + ceil(N/200) collection writes;
HubSpot ceil(N/200) search pages + ceil(N/100) batch writes. Target: at most 2% over that
minimum plus 3 calls of fixed overhead per cycle.

How the figures are kept honest:
- The N records are loaded straight into the sandbox's stores (clones of a generated org's
  opportunities and partner-pipeline deals, modified after the cursor among the org's
  older records), so setup costs no API calls and little time.
- The sandbox's rate quotas are lifted; the connectors' own pacing stays at its defaults
  (HubSpot: 190 calls per 10 s, 5 searches per s), so HubSpot records/s are paced figures.
  Call counts do not depend on pacing.
- Salesforce logs in with a session id (no token call; a JWT or password grant adds one
  per token lifetime, not per cycle). Its default settings continue a pull of more than
  50,000 rows through Bulk API 2.0, which needs far fewer calls than query pages; for such
  sizes a REST-only cycle (bulk threshold at N) runs too, so the query-page path is
  measured as well, and its ratio is printed next to the headline.
- The sandbox serves from a thread of this process: throughput includes the server sharing
  the interpreter with the clients.

    .venv/bin/python benchmarks/connectors.py [--sizes 1000,10000,100000]

The last line is the headline: `api-call-ratio: <X>`, calls used over the minimum for the
largest N (100,000 by default), both systems together at default settings, overhead
included. The exit status is 1 when a cycle lost records, failed writes or its call count
disagrees with the sandbox's.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `connectors` is the package at the root, not this script

from connectors.base import ApiUsage, Connector, Cursor, RecordWrite  # noqa: E402
from connectors.hubspot.connector import HubSpotConnector, HubSpotSettings  # noqa: E402
from connectors.salesforce.auth import SalesforceAuth, SecretRef  # noqa: E402
from connectors.salesforce.connector import SalesforceConnector, SalesforceSettings  # noqa: E402
from handoff_sync.daemon.logs import configure_logging  # noqa: E402
from handoff_sync.mapping.loader import load_mappings  # noqa: E402
from handoff_sync.mapping.system.convert import SystemMapping, in_scope, outputs_to_system  # noqa: E402
from handoff_sync.model import GateStatus, Output, OwnerDirectory  # noqa: E402
from handoff_sync.sandbox.core.seed_data import HubSpotSeedObject, SeedData  # noqa: E402
from handoff_sync.sandbox.salesforce.ids import salesforce_id  # noqa: E402
from handoff_sync.sandbox.seed.generator import generate  # noqa: E402
from handoff_sync.sandbox.server import SandboxServer  # noqa: E402
from handoff_sync.testing.sandbox_clients import generous_quotas  # noqa: E402

SIZES = (1_000, 10_000, 100_000)
# Records per call at the API maximum: (read page, write batch).
PER_CALL = {"salesforce": (2_000, 200), "hubspot": (200, 100)}
TOLERANCE = 0.02  # target: calls within 2% of the minimum ...
FIXED_OVERHEAD = 3  # ... plus at most this many calls per cycle
TEMPLATE_SCENARIOS = 1_000  # the generated org whose records are cloned into N
CHANGE_WINDOW = timedelta(hours=22)  # the N records' modification times spread over this
GATES = tuple(GateStatus)
CLONE_NUMBERS = 10_000_000  # Salesforce record numbers of the clones start here


@dataclass(frozen=True)
class Phase:
    """One half of a cycle: calls made by kind, records handled, time, pacing waits."""

    calls: dict[str, int]
    records: int
    seconds: float
    paced: float

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def describe(self) -> str:
        return ", ".join(f"{kind} {count:,}" for kind, count in sorted(self.calls.items()))


@dataclass(frozen=True)
class Cycle:
    system: str
    label: str
    n: int
    pull: Phase
    write: Phase
    server_calls: int
    problems: tuple[str, ...] = field(default=())

    @property
    def used(self) -> int:
        return self.pull.total + self.write.total

    @property
    def pull_minimum(self) -> int:
        return math.ceil(self.n / PER_CALL[self.system][0])

    @property
    def write_minimum(self) -> int:
        return math.ceil(self.n / PER_CALL[self.system][1])

    @property
    def minimum(self) -> int:
        return self.pull_minimum + self.write_minimum

    @property
    def allowed(self) -> float:
        return self.minimum * (1 + TOLERANCE) + FIXED_OVERHEAD


# --- setup: N changed records, loaded into the stores -------------------------------------


@dataclass(frozen=True)
class ChangedDeals:
    """N linked pairs of changed records: their ids on each side and modification times."""

    times: list[datetime]
    salesforce_ids: list[str]
    hubspot_ids: list[str]


def changed_deals(n: int, cursor: datetime, org: SeedData, crm: SystemMapping,
                  prm: SystemMapping) -> ChangedDeals:
    """Distinct whole-millisecond instants after the cursor, spread over the window, and
    ids above every id of the generated org."""
    step_ms = max(1, int(CHANGE_WINDOW.total_seconds() * 1000) // n)
    times = [cursor + timedelta(seconds=1, milliseconds=i * step_ms) for i in range(n)]
    key_prefix = org.salesforce[crm.object][0]["Id"][:3]
    first_hubspot = max(int(d.id) for d in org.hubspot[prm.object]) + 1
    return ChangedDeals(times, [salesforce_id(key_prefix, CLONE_NUMBERS + i) for i in range(n)],
                        [str(first_hubspot + i) for i in range(n)])


def load_salesforce(server: SandboxServer, org: SeedData, crm: SystemMapping,
                    prm: SystemMapping, changed: ChangedDeals) -> None:
    """The generated org plus a changed clone of one of its records per changed deal,
    linked to its HubSpot clone (the link field is unique)."""
    rows = org.salesforce[crm.object]
    templates = [r for r in rows if in_scope(crm, r)]
    link = crm.fields[prm.id_field].system_field
    assert link is not None
    clones = []
    for i, (record_id, partner_id, at) in enumerate(
            zip(changed.salesforce_ids, changed.hubspot_ids, changed.times, strict=True)):
        clone = dict(templates[i % len(templates)])
        clone.update({"Id": record_id, link: partner_id, "LastModifiedDate": at,
                      "SystemModstamp": at})
        clones.append(clone)
    data = SeedData(salesforce={**org.salesforce, crm.object: [*rows, *clones]})
    with server.sandbox.lock:
        server.sandbox.salesforce.reset()
        server.sandbox.salesforce.load_seed(data)


def load_hubspot(server: SandboxServer, org: SeedData, crm: SystemMapping,
                 prm: SystemMapping, changed: ChangedDeals) -> None:
    """The generated org plus a changed clone of one of its in-scope deals per changed
    deal, linked to its Salesforce clone."""
    deals = org.hubspot[prm.object]
    templates = [d for d in deals if in_scope(prm, d.properties)]
    link = prm.fields[crm.id_field].system_field
    assert link is not None
    clones = []
    for i, (record_id, crm_id, at) in enumerate(
            zip(changed.hubspot_ids, changed.salesforce_ids, changed.times, strict=True)):
        template = templates[i % len(templates)]
        clones.append(HubSpotSeedObject(record_id, {**template.properties, link: crm_id},
                                        template.created_at, at))
    data = SeedData(hubspot={**org.hubspot, prm.object: [*deals, *clones]},
                    hubspot_associations=org.hubspot_associations,
                    hubspot_owners=org.hubspot_owners)
    with server.sandbox.lock:
        server.sandbox.hubspot.reset()
        server.sandbox.hubspot.load_seed(data)


# --- connectors, as production configures them -------------------------------------------


def salesforce_connector(server: SandboxServer, **settings: Any) -> SalesforceConnector:
    auth = SalesforceAuth(kind="session", session_id=SecretRef(env="SF_SESSION"),
                          instance_url=server.base_url)
    return SalesforceConnector(
        SalesforceSettings(auth=auth, ca_file=Path(server.ca_file), **settings),
        environ={"SF_SESSION": server.sandbox.credentials.sf_session_id})


def hubspot_connector(server: SandboxServer) -> HubSpotConnector:
    return HubSpotConnector(
        HubSpotSettings(host=server.base_url, ca_file=str(server.ca_file)),
        environ={"HUBSPOT_ACCESS_TOKEN": server.sandbox.credentials.hs_access_token})


# --- one cycle ----------------------------------------------------------------------------


def measure(usage: ApiUsage, action: Callable[[], int]) -> Phase:
    calls, paced = dict(usage.calls), usage.throttled_seconds
    started = time.perf_counter()
    records = action()
    seconds = time.perf_counter() - started
    spent = {kind: count - calls.get(kind, 0) for kind, count in usage.calls.items()
             if count != calls.get(kind, 0)}
    return Phase(spent, records, seconds, usage.throttled_seconds - paced)


def output_values(mapping: SystemMapping, i: int) -> dict[str, Any]:
    """What the engine would write back: a gate verdict and a completeness percent."""
    converted = outputs_to_system(mapping, {Output.GATE_STATUS: GATES[i % len(GATES)],
                                            Output.COMPLETENESS: i % 101}, OwnerDirectory())
    return dict(converted.values)


def run_cycle(server: SandboxServer, connector: Connector, mapping: SystemMapping, n: int,
              since: Cursor, label: str) -> Cycle:
    api = connector.system
    names = sorted(mapping.system_fields())
    scope = dict(mapping.scope) or None
    problems: list[str] = []
    pulled: list[str] = []
    deletions = 0

    def pull() -> int:
        nonlocal deletions
        for page in connector.pull(mapping.object, names, since, scope=scope):
            for change in page.changes:
                deletions += change.deleted
                pulled.append(change.id)
        return len(pulled)

    server_before = server.sandbox.usage.stats()[api]["calls"]
    try:
        connector.start_cycle()
        pull_phase = measure(connector.usage, pull)
        unique = list(dict.fromkeys(pulled))
        if len(unique) != n or deletions:
            problems.append(f"pulled {len(unique):,} distinct records ({len(pulled):,} in "
                            f"all, {deletions} deletions), expected {n:,} changes")
        writes = [RecordWrite(rid, rid, output_values(mapping, i)) for i, rid in
                  enumerate(unique)]
        results: list[Any] = []

        def write() -> int:
            results.extend(connector.write(mapping.object, writes))
            return len(results)

        write_phase = measure(connector.usage, write)
    finally:
        connector.close()
    failed = [r for r in results if not r.ok]
    if failed:
        first = failed[0].error
        problems.append(f"{len(failed):,} writes failed, e.g. "
                        f"{first.code if first else '?'}: {first.message if first else ''}")
    server_calls = server.sandbox.usage.stats()[api]["calls"] - server_before
    if server_calls != pull_phase.total + write_phase.total:
        problems.append(f"the sandbox answered {server_calls:,} calls, the connector counted "
                        f"{pull_phase.total + write_phase.total:,}")
    return Cycle(api, label, n, pull_phase, write_phase, server_calls, tuple(problems))


# --- report -------------------------------------------------------------------------------


def phase_line(name: str, phase: Phase, minimum: int) -> str:
    rate = phase.records / phase.seconds if phase.seconds else float("inf")
    paced = f", paced {phase.paced:.1f} s" if phase.paced >= 0.05 else ""
    return (f"    {name:<5} {phase.total:>6,} calls (min {minimum:>5,})  [{phase.describe()}]  "
            f"{phase.records:,} records in {phase.seconds:.1f} s = {rate:,.0f} rec/s{paced}")


def report(cycle: Cycle, field_count: int) -> None:
    print(f"  {cycle.label} ({field_count} mapped fields)")
    print(phase_line("pull", cycle.pull, cycle.pull_minimum))
    print(phase_line("write", cycle.write, cycle.write_minimum))
    verdict = "within target" if cycle.used <= cycle.allowed else "OVER TARGET"
    print(f"    cycle {cycle.used:>6,} calls, minimum {cycle.minimum:,}, overhead "
          f"{cycle.used - cycle.minimum:+,}, ratio {cycle.used / cycle.minimum:.3f}; "
          f"allowed {cycle.allowed:,.1f}: {verdict}; the sandbox answered "
          f"{cycle.server_calls:,}")
    for problem in cycle.problems:
        print(f"    PROBLEM: {problem}")
    sys.stdout.flush()


def scope_text(mapping: SystemMapping) -> str:
    return ", ".join(f"{k}={v}" for k, v in mapping.scope.items()) or "(all records)"


def ratio(cycles: Sequence[Cycle]) -> float:
    return sum(c.used for c in cycles) / sum(c.minimum for c in cycles)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES),
                        help="comma-separated counts of changed deals per system")
    args = parser.parse_args()
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    if not sizes or sizes[0] < 1:
        parser.error("--sizes needs positive whole numbers")
    configure_logging("warning")

    mappings = load_mappings(ROOT / "mappings")
    crm, prm = mappings.crm, mappings.prm
    now = datetime.now(UTC).replace(microsecond=0)
    since = Cursor(now - timedelta(days=1))  # the org's own records all lie two days back
    started = time.perf_counter()
    org = generate(deals=TEMPLATE_SCENARIOS, partners=20, random_seed=5,
                   now=now - timedelta(days=2))
    hs_defaults = HubSpotSettings()
    bulk_threshold = next(f.default for f in fields(SalesforceSettings)
                          if f.name == "bulk_threshold")
    quotas = generous_quotas()
    headline: dict[int, list[Cycle]] = {}
    rest_only: dict[int, Cycle] = {}
    with SandboxServer(quotas=quotas) as server:
        print(f"sandbox in this process at {server.base_url}; its rate quotas lifted "
              f"(Salesforce daily {quotas.salesforce_daily:,}, HubSpot daily "
              f"{quotas.hubspot_daily:,}, no HubSpot burst or search limit)")
        print(f"connector pacing at defaults: HubSpot {hs_defaults.burst_limit} calls per "
              f"{hs_defaults.burst_window:g} s and {hs_defaults.search_limit} searches per "
              f"{hs_defaults.search_window:g} s (+{hs_defaults.pacing_margin:.0%} margin); "
              f"Salesforce session-id auth (no login call), Bulk API 2.0 above "
              f"{bulk_threshold:,} matched rows")
        print(f"changed records: clones of a {TEMPLATE_SCENARIOS:,}-scenario generated org, "
              f"modified after the cursor {since.modified_at:%Y-%m-%dT%H:%M:%SZ}; "
              f"{prm.object} in scope {scope_text(prm)}, {crm.object} in scope "
              f"{scope_text(crm)}")
        for n in sizes:
            changed = changed_deals(n, since.modified_at, org, crm, prm)
            print(f"\nN = {n:,} changed deals per system")
            load_salesforce(server, org, crm, prm, changed)
            sf = run_cycle(server, salesforce_connector(server), crm, n, since,
                           f"salesforce {crm.object}, default settings")
            report(sf, len(crm.system_fields()))
            if n > bulk_threshold:
                load_salesforce(server, org, crm, prm, changed)
                rest = run_cycle(server, salesforce_connector(server, bulk_threshold=n),
                                 crm, n, since, f"salesforce {crm.object}, REST only "
                                 f"(bulk_threshold {n:,})")
                report(rest, len(crm.system_fields()))
                rest_only[n] = rest
            load_hubspot(server, org, crm, prm, changed)
            hs = run_cycle(server, hubspot_connector(server), prm, n, since,
                           f"hubspot {prm.object}, default settings")
            report(hs, len(prm.system_fields()))
            headline[n] = [sf, hs]
            print(f"  both systems: {sum(c.used for c in headline[n]):,} calls, minimum "
                  f"{sum(c.minimum for c in headline[n]):,}, ratio {ratio(headline[n]):.3f}")
    print(f"\nran in {time.perf_counter() - started:.0f} s")
    largest = sizes[-1]
    if largest in rest_only:
        print(f"with Salesforce REST only at N = {largest:,}: ratio "
              f"{ratio([rest_only[largest], headline[largest][1]]):.3f}")
    if largest != SIZES[-1]:
        print(f"(headline for N = {largest:,}: the issue's figure is for N = {SIZES[-1]:,})")
    print(f"api-call-ratio: {ratio(headline[largest]):.3f}")
    cycles = [*(c for pair in headline.values() for c in pair), *rest_only.values()]
    if any(c.problems for c in cycles):
        sys.exit(1)  # a measurement that lost records or miscounted calls proves nothing


if __name__ == "__main__":
    main()
