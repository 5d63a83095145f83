"""How fast is the sandbox with a large org? It must never be the bottleneck of a sync.

Starts `handoff-sync sandbox` as its own process with a seeded org pair, lifts the rate
quotas (we measure the server, not HubSpot's limits), then times through the real clients:
a full SOQL query_all of Opportunity (per 2,000-row page), a 200-record sObject Collections
update, a HubSpot search page of 200 and a 100-input batch update; and reads the server's
peak memory (VmHWM). Targets: a 2,000-row page under 0.1 s, a batch write under 0.05 s.

It also reads the sandbox's own CPU time (/proc/<pid>/stat) over two full paged reads on
the wire: the HubSpot connector's incremental pull of the default mappings' scope (its
exact search requests, planned by ``connectors.hubspot.search``: 200 per page, re-anchored
at the 10,000-result cap) and a Salesforce query plus every queryMore page. A page must
cost the server the same at any depth and size, so the CPU per page must not grow with N.

    .venv/bin/python benchmarks/sandbox.py [--deals 100000] [--repeat 5]

The last line is the headline: `sandbox-page-2000: <seconds> s`.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import requests
import yaml
from hubspot import HubSpot
from hubspot.crm.deals import (
    BatchInputSimplePublicObjectBatchInput,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInput,
)
from simple_salesforce import Salesforce

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `connectors` is the package at the root, not this script

from connectors.hubspot.search import Hit, SlicedSearch  # noqa: E402


def start_sandbox(deals: int, ca_out: Path) -> tuple[subprocess.Popen[str], str]:
    exe = Path(sys.executable).with_name("handoff-sync")
    proc = subprocess.Popen(
        [str(exe), "--log-format", "json", "sandbox", "--port", "0", "--deals", str(deals),
         "--ca-out", str(ca_out)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        match = re.search(r"listening on (https://\S+)", line)
        if match:
            return proc, match.group(1)
    raise SystemExit(f"sandbox exited before listening (exit code {proc.wait()})")


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def full_search_pull(session: requests.Session, url: str, headers: dict[str, str],
                     scope: dict[str, str]) -> tuple[int, int]:
    """The connector's first (cursorless) pull of ``scope``, request for request; (records
    handed over, search calls)."""
    plan = SlicedSearch(None, scope=scope)
    records = 0
    while (request := plan.next_request()) is not None:
        body = {"filterGroups": [{"filters": [
                    {"propertyName": c.property, "operator": c.operator, "value": c.value}
                    for c in group]} for group in request.groups],
                "sorts": [{"propertyName": request.sort, "direction": "ASCENDING"}],
                "properties": ["dealname", "amount", "dealstage", "hs_lastmodifieddate"],
                "limit": request.limit}
        if request.after is not None:
            body["after"] = request.after
        answer = session.post(url, json=body, headers=headers)
        answer.raise_for_status()
        found = answer.json()
        hits = [Hit(int(r["id"]), int(datetime.fromisoformat(
            r["properties"]["hs_lastmodifieddate"]).timestamp() * 1000))
            for r in found["results"]]
        step = plan.accept(hits, has_more="paging" in found, total=found.get("total"))
        records += len(step.hits)
    return records, plan.calls


def full_query(session: requests.Session, base_url: str, data: str,
               headers: dict[str, str], soql: str) -> tuple[int, int]:
    """A SOQL query and every queryMore page after it; (rows, calls)."""
    answer = session.get(f"{data}/query/", params={"q": soql}, headers=headers).json()
    rows, calls = len(answer["records"]), 1
    while not answer["done"]:
        answer = session.get(base_url + answer["nextRecordsUrl"], headers=headers).json()
        rows, calls = rows + len(answer["records"]), calls + 1
    return rows, calls


def typical_time(repeat: int, action: Callable[[], object]) -> float:
    """Median of ``repeat`` runs (the best one when there are fewer than three)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times) if repeat < 3 else statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    workdir = tempfile.TemporaryDirectory(prefix="handoff-sync-bench-")
    ca = Path(workdir.name) / "ca.pem"
    started = time.perf_counter()
    proc, base_url = start_sandbox(args.deals, ca)
    print(f"seeded {args.deals} deal scenarios and started in "
          f"{time.perf_counter() - started:.1f} s at {base_url}")
    try:
        plain = requests.Session()
        plain.trust_env = False
        plain.verify = str(ca)
        creds = plain.get(f"{base_url}/__sandbox__/credentials", timeout=30).json()
        plain.post(f"{base_url}/__sandbox__/faults", json={"quotas": {
            "salesforce_daily": None, "hubspot_daily": None, "hubspot_per_10s": None,
            "hubspot_search_per_second": None}}, timeout=30).raise_for_status()

        sf_session = requests.Session()
        sf_session.trust_env = False
        sf_session.verify = str(ca)
        sf = Salesforce(instance_url=base_url, session_id=creds["salesforce"]["session_id"],
                        session=sf_session, version="59.0")
        hs = HubSpot(access_token=creds["hubspot"]["access_token"], host=base_url,
                     ssl_ca_cert=str(ca))

        soql = "SELECT Id, Name, Amount, StageName, CloseDate, SystemModstamp FROM Opportunity"
        rows = sf.query(soql.replace("SELECT Id, Name, Amount, StageName, CloseDate, "
                                     "SystemModstamp", "SELECT COUNT()"))["totalSize"]
        full = typical_time(max(1, args.repeat // 2), lambda: sf.query_all(soql))
        pages = max(1, -(-rows // 2000))
        print(f"salesforce query_all through the client: {rows} rows in {pages} pages, "
              f"{full:.3f} s ({full / pages:.4f} s per 2,000-row page)")

        # On the wire: the same calls without the clients' own parsing and model building,
        # which is what "the sandbox is never the bottleneck" is about.
        wire = requests.Session()
        wire.trust_env = False
        wire.verify = str(ca)
        sf_headers = {"Authorization": f"Bearer {creds['salesforce']['session_id']}"}
        hs_headers = {"Authorization": f"Bearer {creds['hubspot']['access_token']}"}
        data = f"{base_url}/services/data/v59.0"
        first = wire.get(f"{data}/query/", params={"q": soql}, headers=sf_headers).json()
        # The first page is the costly one: it evaluates the whole query and opens the cursor.
        page = typical_time(args.repeat, lambda: wire.get(
            f"{data}/query/", params={"q": soql}, headers=sf_headers).raise_for_status())
        print(f"salesforce first page of {len(first['records'])} rows (query over all "
              f"{rows}) on the wire: {page:.4f} s")

        ids = [r["Id"] for r in first["records"][:200]]
        body = {"allOrNone": False, "records": [
            {"attributes": {"type": "Opportunity"}, "id": i, "Description": "bench"}
            for i in ids]}
        collection = typical_time(args.repeat, lambda: wire.patch(
            f"{data}/composite/sobjects", json=body, headers=sf_headers).raise_for_status())
        client_collection = typical_time(args.repeat, lambda: sf.restful(
            "composite/sobjects", method="PATCH", json=body))
        print(f"salesforce collection update of {len(ids)}: {collection:.4f} s on the wire, "
              f"{client_collection:.4f} s through the client")

        search = {
            "filterGroups": [{"filters": [{"propertyName": "hs_lastmodifieddate",
                                           "operator": "GTE", "value": "0"}]}],
            "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
            "properties": ["dealname", "amount", "dealstage", "hs_lastmodifieddate"],
            "limit": 200,
        }
        search_url = f"{base_url}/crm/v3/objects/deals/search"
        found = wire.post(search_url, json=search, headers=hs_headers).json()
        search_page = typical_time(args.repeat, lambda: wire.post(
            search_url, json=search, headers=hs_headers).raise_for_status())
        search_api = hs.crm.deals.search_api
        request = PublicObjectSearchRequest(
            filter_groups=search["filterGroups"], sorts=search["sorts"],
            properties=search["properties"], limit=200)
        client_search = typical_time(args.repeat, lambda: search_api.do_search(
            public_object_search_request=request))
        print(f"hubspot search page of {len(found['results'])} (of {found['total']}): "
              f"{search_page:.4f} s on the wire, {client_search:.4f} s through the client")

        scope = {str(k): str(v) for k, v in yaml.safe_load(
            (ROOT / "mappings" / "hubspot.yaml").read_text(encoding="utf-8"))["scope"].items()}
        before = cpu_seconds(proc.pid)
        pulled, calls = full_search_pull(wire, search_url, hs_headers, scope)
        pull_cpu = cpu_seconds(proc.pid) - before
        print(f"hubspot full pull of scope {scope}: {pulled} deals in {calls} searches, "
              f"{pull_cpu:.2f} s of sandbox CPU ({1000 * pull_cpu / max(calls, 1):.1f} ms "
              "per search page)")
        before = cpu_seconds(proc.pid)
        queried, calls = full_query(wire, base_url, data, sf_headers,
                                    soql + " ORDER BY SystemModstamp, Id")
        query_cpu = cpu_seconds(proc.pid) - before
        print(f"salesforce full query + queryMore: {queried} rows in {calls} calls, "
              f"{query_cpu:.2f} s of sandbox CPU ({1000 * query_cpu / max(calls, 1):.1f} ms "
              "per page)")

        inputs = [{"id": deal["id"], "properties": {"description": "bench"}}
                  for deal in found["results"][:100]]
        batch_url = f"{base_url}/crm/v3/objects/deals/batch/update"
        hs_batch = typical_time(args.repeat, lambda: wire.post(
            batch_url, json={"inputs": inputs}, headers=hs_headers).raise_for_status())
        batch = BatchInputSimplePublicObjectBatchInput(inputs=[
            SimplePublicObjectBatchInput(id=i["id"], properties=i["properties"])
            for i in inputs])
        client_batch = typical_time(args.repeat, lambda: hs.crm.deals.batch_api.update(
            batch_input_simple_public_object_batch_input=batch))
        print(f"hubspot batch update of {len(inputs)}: {hs_batch:.4f} s on the wire, "
              f"{client_batch:.4f} s through the client")
        print(f"sandbox peak memory: {peak_memory_mb(proc.pid):.0f} MB")
        verdict = "ok" if page < 0.1 and max(collection, hs_batch) < 0.05 else "OVER TARGET"
        print(f"targets on the wire (page < 0.1 s, batch write < 0.05 s): {verdict}")
        print(f"sandbox-page-2000: {page:.4f} s")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        workdir.cleanup()


if __name__ == "__main__":
    main()
