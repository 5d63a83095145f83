"""Time linking 100,000 registrations to 100,000 opportunities (engine target: 50,000 pairs/s).

The mix of a steady-state cycle: 60% of the pairs have a stored link (and the id fields
the engine wrote), 30% are linked by an id field on one side, and 10% are unlinked and
must be matched by name, amount and close date - with the typing differences people
make ("ACME Corp." against "Acme Corporation", dashes, case). Prints the best of a few
runs, then `link: <pairs/s> pairs/s`.
"""

from __future__ import annotations

import random
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package

from handoff_sync.engine.link import LinkOutcome, link_records  # noqa: E402
from handoff_sync.engine.types import Link, LinkMethod  # noqa: E402
from handoff_sync.mapping.policy.file_model import Matching  # noqa: E402
from handoff_sync.mapping.system.convert import MappedRecord  # noqa: E402
from handoff_sync.model import Role, SystemName, Value  # noqa: E402

PAIRS = 100_000
STORED_SHARE, ID_FIELD_SHARE = 0.6, 0.3
RUNS = 3
MATCHING = Matching(
    exact=[], fuzzy=["deal_name"],
    normalise=["lowercase", "trim", "collapse_spaces", "strip_punctuation",
               "strip_legal_suffixes"],
    fuzzy_min_score=85, amount_tolerance_pct=10, close_date_window_days=45,
    auto_link_min_confidence=0.9, review_min_confidence=0.5)

SYLLABLES = ("ac", "me", "ver", "ta", "lo", "nix", "quo", "ra", "zen", "tri", "bel", "dor",
             "fa", "gri", "hel", "io", "jun", "ka", "lum", "mor", "nov", "or", "pax", "sil")
SUFFIXES = ("Inc", "Inc.", "Corp", "Corporation", "LLC", "Ltd", "GmbH", "", "", "")
PRODUCTS = ("Data Platform", "Analytics", "Security Suite", "CRM Rollout", "Cloud Migration",
            "Support Renewal", "Expansion", "Pilot", "Integration", "Training",
            "Managed Services", "Observability", "Backup", "Identity", "Networking")
STAMP = datetime(2025, 1, 1, tzinfo=UTC)


def company(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).title()


def record(role: Role, record_id: str, values: dict[str, Value]) -> MappedRecord:
    system = SystemName.HUBSPOT if role is Role.PRM else SystemName.SALESFORCE
    return MappedRecord(system, role, record_id, STAMP, True, MappingProxyType(values))


def build() -> tuple[list[MappedRecord], list[MappedRecord], dict[str, Link]]:
    rng = random.Random(7)
    companies = [company(rng) for _ in range(30_000)]
    partners = [f"Partner {index}" for index in range(300)]
    partner_of = {name: rng.choice(partners) for name in companies}  # one partner each
    prm: list[MappedRecord] = []
    crm: list[MappedRecord] = []
    stored: dict[str, Link] = {}
    for index in range(PAIRS):
        prm_id, crm_id = f"{index:08d}", f"006{index:012d}"
        name = rng.choice(companies)
        product = rng.choice(PRODUCTS)
        amount = Decimal(rng.randrange(10_000, 900_000, 500))
        close = date(2025, 1, 1) + timedelta(days=rng.randrange(365))
        reg: dict[str, Value] = {
            "prm_id": prm_id, "deal_name": f"{name} {rng.choice(SUFFIXES)} - {product}",
            "account_name": name, "account_domain": f"{name.lower()}.com",
            "partner_account": partner_of[name],
            "amount": amount, "close_date": close}
        opp: dict[str, Value] = {
            "crm_id": crm_id, "amount": amount, "close_date": close,
            "deal_name": f"{name.upper()} {rng.choice(SUFFIXES)} – {product.lower()}"}
        share = index / PAIRS
        if share < STORED_SHARE:
            stored[prm_id] = Link(prm_id, crm_id, LinkMethod.STORED, 1.0)
            reg["crm_id"], opp["prm_id"] = crm_id, prm_id
        elif share < STORED_SHARE + ID_FIELD_SHARE:
            if index % 2:
                reg["crm_id"] = crm_id
            else:
                opp["prm_id"] = prm_id
        else:  # typed independently: amount and date drift within the rules' windows
            opp["amount"] = (amount * Decimal(rng.uniform(0.95, 1.05))).quantize(Decimal(1))
            opp["close_date"] = close + timedelta(days=rng.randint(-20, 20))
        prm.append(record(Role.PRM, prm_id, reg))
        crm.append(record(Role.CRM, crm_id, opp))
    rng.shuffle(prm)
    rng.shuffle(crm)
    return prm, crm, stored


def main() -> None:
    prm, crm, stored = build()
    best = float("inf")
    outcome: LinkOutcome | None = None
    for _ in range(RUNS):
        started = time.perf_counter()
        outcome = link_records(prm, crm, stored, MATCHING)
        best = min(best, time.perf_counter() - started)
    assert outcome is not None
    methods = Counter(change.link.method.value for change in outcome.changes)
    reviews = Counter(item.kind.value for item in outcome.reviews)
    unmatched = round(PAIRS * (1 - STORED_SHARE - ID_FIELD_SHARE))
    print(f"{PAIRS} registrations x {PAIRS} opportunities, {unmatched} to match")
    print(f"links in force: {len(outcome.links)}; created: {dict(sorted(methods.items()))}")
    print(f"reviews: {dict(sorted(reviews.items()))}")
    print(f"best of {RUNS}: {best * 1000:.0f} ms")
    print(f"link: {PAIRS / best:,.0f} pairs/s")


if __name__ == "__main__":
    main()
