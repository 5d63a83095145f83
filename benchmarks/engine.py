"""Engine throughput and memory: map + link + reconcile + gate + plan over generated pairs.

For each size N (default 10k, 100k, 1M) a child process generates N partner registrations
(HubSpot deals as the search API returns them) and N Salesforce opportunities (as SOQL
returns them), with the mix a running daemon sees: 85% already linked (stored links),
10% linked by an explicit id field, 5% found by the matching rules; and, on top, N/4
registrations no opportunity is for (submitted, not yet in the CRM) and N/40 opportunities
no registration names (direct deals), alike in name: matching looks at them every cycle,
and a few stand in its review queue. It then times

  first cycle   map both sides + plan with no history (every deal gets its verdict,
                brief and tasks written);
  steady cycle  map + plan again after the first plan was applied (nothing changed, so
                nothing to do: the daemon's common case);
  no memo       the same as the daemon ran it before engine.memo: records stay mapped
                from the last cycle and only deals whose SLA clocks time moved are planned
                (EngineInput.dirty), but matching, channel conflicts and creation look at
                every record again;
  incremental   the same as the daemon runs it now: as "no memo", with the memo the
                steady cycle filled (EngineInput.memo), so those steps redo only what
                changed (here: nothing).

Planning runs with the cyclic garbage collector paused, as sync.cycle runs it
(``--collector on`` leaves it running; mapping the records runs with it on either way).

Memory: the peak resident set during planning minus the resident set before it (the
kernel's high-water mark is reset just before planning), per deal, for each cycle; and
the process's peak resident set itself (input included).
The last line is `engine: <N> deal-pairs/s`, the first cycle's rate for N = 100,000.
Each rate is also given per CPU second the process used: on a machine shared with other
work the wall-clock rate falls with the load, the CPU one much less.

    .venv/bin/python benchmarks/engine.py [--sizes 10000,100000,1000000] [--collector on]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package

from connectors.base import Owner  # noqa: E402
from handoff_sync.engine.memo import PlanMemo  # noqa: E402
from handoff_sync.engine.plan import Dirty, EngineInput, plan  # noqa: E402
from handoff_sync.engine.time_driven import clock_driven_deals  # noqa: E402
from handoff_sync.engine.types import EngineState, Link, LinkMethod  # noqa: E402
from handoff_sync.mapping.loader import load_mappings  # noqa: E402
from handoff_sync.mapping.system.convert import to_canonical  # noqa: E402
from handoff_sync.model import OwnerDirectory  # noqa: E402
from handoff_sync.sync.collector import paused  # noqa: E402

NOW = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)
CYCLES = ("first", "steady", "no memo", "incremental")
QUIET = ("no memo", "incremental")  # cycles after which nothing changed
WORDS = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka",
         "Tyrell", "Cyberdyne", "Soylent", "Aperture", "Vandelay", "Pied", "Piper", "Gringotts",
         "Oscorp", "Monarch", "Dunder", "Sterling", "Prestige", "Massive", "Dynamic",
         "Nakatomi", "Gekko", "Rekall", "Virtucon", "Zorg", "Ollivander")
PRODUCTS = ("data platform", "CRM rollout", "analytics suite", "security upgrade",
            "cloud migration", "billing revamp", "support desk", "ETL replacement")
TEXTS = ("CFO Dana Lee", "Replace the legacy ETL", "SSO, SCIM and an integration API",
         "Board approves in Q1", "Champion: VP Data; blocker: IT security", "Net 60 promised",
         None, None)
SF_STAGES = ("1 Pre-Handoff Assessment", "2 Joint Discovery", "3 Knowledge Transfer",
             "4 Responsibility Transition", "5 Partnership Preservation")
USERS = [Owner(f"005{i:012d}AAA", f"rep{i}@vendor.example", i % 17 != 0,
               f"005{(i // 10) * 10:012d}AAA") for i in range(200)]


def generate(n: int, seed: int = 42) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                               dict[str, Link]]:
    """Raw PRM and CRM records and the stored links of an org pair with n deals."""
    rng = random.Random(seed)
    prm: list[dict[str, Any]] = []
    crm: list[dict[str, Any]] = []
    links: dict[str, Link] = {}
    for i in range(n):
        hs_id, sf_id = str(10_000_000 + i), f"006{i:012d}AAA"
        name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(PRODUCTS)} {i}"
        amount = rng.choice((40_000, 90_000, 120_000, 180_000, 250_000, 400_000))
        kind = rng.random()
        modified = NOW - timedelta(minutes=rng.randint(1, 60 * 24 * 30))
        prm.append({
            "hs_object_id": hs_id, "pipeline": "9004451", "dealname": name,
            "dealstage": rng.choice(("9004453", "9004454", "9004455", "9004452")),
            "amount": str(amount), "closedate": "2027-01-15T00:00:00Z",
            "customer_account_name": name.split(" ")[0] + " Inc",
            "customer_domain": f"{name.split(' ')[0].lower()}{i}.example",
            "partner_account_name": f"Partner {i % 50}",
            "partner_rep_email": f"rep{i % 50}@partner{i % 50}.example",
            "budget": str(amount) if rng.random() < 0.7 else "",
            "economic_buyer": rng.choice(TEXTS) or "", "need": rng.choice(TEXTS) or "",
            "technical_requirements": rng.choice(TEXTS) or "",
            "stakeholder_map": rng.choice(TEXTS) or "",
            "partner_prepared_prospect": rng.choice(("true", "false", "")),
            "crm_opportunity_id": sf_id if 0.85 <= kind < 0.95 else "",
            "hs_lastmodifieddate": modified.isoformat(),
        })
        crm.append({
            "Id": sf_id, "Name": name if kind < 0.95 else name.upper(), "Amount": amount,
            "CloseDate": date(2027, 1, 20), "StageName": "Qualification", "IsClosed": False,
            "IsWon": rng.random() < 0.1, "OwnerId": USERS[i % 200].id,
            "CS_Owner__c": USERS[(i + 7) % 200].id if rng.random() < 0.5 else None,
            "Partner_Registration_Id__c": hs_id if kind < 0.85 else None,
            "Handoff_Stage__c": rng.choice(SF_STAGES),
            "Handoff_Stage_Entered__c": modified - timedelta(days=rng.randint(0, 20)),
            "Economic_Buyer__c": rng.choice(TEXTS), "Need__c": rng.choice(TEXTS),
            "Stakeholder_Map__c": rng.choice(TEXTS), "Commitments__c": rng.choice(TEXTS),
            "Open_Risks__c": rng.choice(TEXTS), "Success_Criteria__c": rng.choice(TEXTS),
            "Co_Led_Meetings__c": rng.choice((0, 1, 2, 3, None)),
            "Partner_Prepared_Prospect__c": False, "SystemModstamp": modified,
        })
        if kind < 0.85:
            links[hs_id] = Link(hs_id, sf_id, LinkMethod.STORED, 1.0)
    loose = random.Random(seed + 1)  # its own draws: the linked records stay as they were
    for i in range(n // 4):
        record = dict(prm[loose.randrange(n)])
        record.update({"hs_object_id": str(30_000_000 + i), "dealstage": "9004452",
                       "crm_opportunity_id": "", "dealname": f"{loose.choice(WORDS)} "
                       f"{loose.choice(WORDS)} {loose.choice(PRODUCTS)} u{i}"})
        prm.append(record)
    for i in range(n // 40):
        record = dict(crm[loose.randrange(n)])
        record.update({"Id": f"006{i:012d}DDD", "Partner_Registration_Id__c": None,
                       "Name": f"{loose.choice(WORDS)} {loose.choice(WORDS)} "
                               f"{loose.choice(PRODUCTS)} d{i}"})
        crm.append(record)
    return prm, crm, links


def _rss_kb() -> int:
    return _status_kb("VmRSS")


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS


def run_size(n: int, collector_on: bool = False) -> dict[str, float]:
    mappings = load_mappings(ROOT / "mappings")
    crm_owners, prm_owners = OwnerDirectory(USERS), OwnerDirectory()
    raw_prm, raw_crm, links = generate(n)
    gc.collect()
    figures: dict[str, float] = {}
    state = EngineState(links=links)
    prm: list[Any] = []
    crm: list[Any] = []
    memo = PlanMemo()  # the daemon's, filled by each plan given it
    for cycle in CYCLES:
        gc.collect()
        before = _rss_kb()
        _reset_peak()
        started, cpu_started = time.perf_counter(), time.process_time()
        if cycle not in QUIET:  # the daemon keeps unchanged records mapped
            prm = [to_canonical(mappings.prm, raw, prm_owners) for raw in raw_prm]
            crm = [to_canonical(mappings.crm, raw, crm_owners) for raw in raw_crm]
        mapped = time.perf_counter()
        dirty = (Dirty(deals=clock_driven_deals(state, mappings.policy, NOW))
                 if cycle in QUIET else None)
        engine_input = EngineInput("bench", mappings, prm, crm, state, NOW, crm_owners,
                                   prm_owners, dirty,
                                   memo=None if cycle in ("first", "no memo") else memo)
        # As sync.cycle plans: with the cyclic collector paused (--collector on: running).
        result = plan(engine_input) if collector_on else paused(plan, engine_input)
        done, cpu_done = time.perf_counter(), time.process_time()
        peak = _status_kb("VmHWM")
        figures[f"{cycle}_s"] = done - started
        figures[f"{cycle}_map_s"] = mapped - started
        figures[f"{cycle}_rate"] = n / (done - started)
        figures[f"{cycle}_cpu_rate"] = n / max(cpu_done - cpu_started, 1e-9)
        figures[f"{cycle}_kb_per_deal"] = (peak - before) / n
        figures[f"{cycle}_peak_mb"] = peak / 1024
        figures[f"{cycle}_writes"] = len(result.writes)
        figures[f"{cycle}_tasks"] = len(result.tasks)
        if cycle == "first":
            _apply(raw_prm, raw_crm, result, mappings)
            state = _next_state(state, result)
        del result
    return figures


def _apply(raw_prm: list[dict[str, Any]], raw_crm: list[dict[str, Any]], result: Any,
           mappings: Any) -> None:
    """Write the plan's values into the raw records, as the systems would hold them."""
    from handoff_sync.mapping.system.convert import outputs_to_system, to_system
    from handoff_sync.model import Role
    owners = OwnerDirectory(USERS)
    by_id = {Role.PRM: {r["hs_object_id"]: r for r in raw_prm},
             Role.CRM: {r["Id"]: r for r in raw_crm}}
    for write in result.writes:
        side = mappings.side(write.role)
        record = by_id[write.role][write.record_id]
        record.update(to_system(side, write.values, owners).values)
        record.update(outputs_to_system(side, write.outputs, owners).values)


def _next_state(state: EngineState, result: Any) -> EngineState:
    links = dict(state.links)
    for change in result.links:
        links[change.link.prm_id] = change.link
    from handoff_sync.engine.types import TaskState
    return EngineState(
        links=links, bases={b.deal: b for b in result.bases},
        tasks={a.task.key: TaskState(a.task, "t") for a in result.tasks},
        clocks={(c.deal, c.handoff_type, c.clock): c for c in result.clocks},
        verdicts={v.deal: v for v in result.verdicts})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--collector", choices=("paused", "on"), default="paused",
                        help="the garbage collector while planning: paused as the daemon "
                             "plans (sync.collector), or on")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_size(args.child, args.collector == "on")))
        return
    rate_100k = None
    for n in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run([sys.executable, __file__, "--child", str(n),
                              "--collector", args.collector], check=True,
                             capture_output=True, text=True).stdout
        f = json.loads(out.strip().splitlines()[-1])
        for cycle in CYCLES:
            print(f"{n:>9,} pairs, {cycle:11} cycle: {f[f'{cycle}_s']:7.2f} s "
                  f"(mapping {f[f'{cycle}_map_s']:6.2f} s), "
                  f"{f[f'{cycle}_rate']:9,.0f} pairs/s "
                  f"({f[f'{cycle}_cpu_rate']:,.0f} per CPU second), "
                  f"{f[f'{cycle}_kb_per_deal']:5.2f} KB/deal peak over input "
                  f"(peak {f[f'{cycle}_peak_mb']:,.0f} MB), "
                  f"{int(f[f'{cycle}_writes']):,} record writes, "
                  f"{int(f[f'{cycle}_tasks']):,} task actions")
        if n == 100_000:
            rate_100k = f["first_rate"]
    if rate_100k is not None:
        print(f"engine: {rate_100k:.0f} deal-pairs/s")


if __name__ == "__main__":
    main()
