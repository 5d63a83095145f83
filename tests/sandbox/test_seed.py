"""The sandbox seed generator: deterministic, schema-conformant, and varied enough to demo."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import statistics
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from handoff_sync.mapping.policy.gates import evaluate_gate
from handoff_sync.model import Deal
from handoff_sync.sandbox.core.credentials import Credentials
from handoff_sync.sandbox.core.seed_data import HubSpotSeedObject, SeedData
from handoff_sync.sandbox.hubspot import schema as hs_schema
from handoff_sync.sandbox.salesforce import schema as sf_schema
from handoff_sync.sandbox.salesforce.ids import is_valid_id, salesforce_id
from handoff_sync.sandbox.seed import companies
from handoff_sync.sandbox.seed.generator import generate, generate_with_truth
from handoff_sync.sandbox.seed.records import IdSequence
from handoff_sync.sandbox.seed.rules import (
    CS_HANDOFF_GO_LIVE,
    DIRECT_DEALS_PER_REGISTRATIONS,
    HANDOFF_THRESHOLD,
    INTEGRATION_USERNAME,
    LINK_KINDS,
    STAGE_WINDOW_DAYS,
)
from handoff_sync.sandbox.seed.truth import SeedTruth
from handoff_sync.testing.builders import default_mappings, seeded_inputs

NOW = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]
HS_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
HS_DATE = re.compile(r"^\d{4}-\d\d-\d\d$")
HS_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
EMAIL = re.compile(r"^[a-z0-9.]+@[a-z0-9.-]+\.[a-z]+$")
# Qualification facts: (Salesforce field, HubSpot property) pairs the gates read.
QUALIFICATION = (
    ("Budget__c", "budget"), ("Economic_Buyer__c", "economic_buyer"), ("Need__c", "need"),
    ("Decision_Date__c", "decision_date"), ("Decision_Process__c", "decision_process"),
    ("Technical_Requirements__c", "technical_requirements"),
    ("Competitors__c", "competitors"), ("Stakeholder_Map__c", "stakeholder_map"),
    ("Commitments__c", "commitments"), ("Success_Criteria__c", "success_criteria"),
    ("Open_Risks__c", "open_risks"),
    ("Partner_Prepared_Prospect__c", "partner_prepared_prospect"),
    ("Intro_Call_At__c", "intro_call_at"), ("Joint_Discovery_At__c", "joint_discovery_at"),
    ("Communication_Protocol__c", "communication_protocol"),
    ("Co_Led_Meetings__c", "co_led_meetings"), ("Partner_Feedback__c", "partner_feedback"),
    ("Partner_Ongoing_Role__c", "partner_ongoing_role"),
    ("Partner_Split_Pct__c", "partner_split_pct"),
)


@pytest.fixture(scope="module")
def seeded() -> tuple[SeedData, SeedTruth]:
    return generate_with_truth(deals=1000, partners=12, random_seed=42, now=NOW)


@pytest.fixture(scope="module")
def data(seeded: tuple[SeedData, SeedTruth]) -> SeedData:
    return seeded[0]


@pytest.fixture(scope="module")
def truth(seeded: tuple[SeedData, SeedTruth]) -> SeedTruth:
    return seeded[1]


def by_id(data: SeedData, obj: str) -> dict[str, dict[str, Any]]:
    return {record["Id"]: record for record in data.salesforce[obj]}


def hs_by_id(data: SeedData, kind: str) -> dict[str, HubSpotSeedObject]:
    return {obj.id: obj for obj in data.hubspot[kind]}


def partner_deals(data: SeedData) -> list[HubSpotSeedObject]:
    pipeline = hs_schema.PARTNER_PIPELINE.id
    return [d for d in data.hubspot["deals"] if d.properties["pipeline"] == pipeline]


def crm_deals(data: SeedData) -> list[HubSpotSeedObject]:
    pipeline = hs_schema.DEFAULT_PIPELINE.id
    return [d for d in data.hubspot["deals"] if d.properties["pipeline"] == pipeline]


def digest(data: SeedData) -> str:
    return hashlib.sha256(repr(data).encode()).hexdigest()


# --- determinism ------------------------------------------------------------------------
def test_same_arguments_give_identical_data_and_truth() -> None:
    first = generate_with_truth(deals=300, partners=7, random_seed=5, now=NOW)
    second = generate_with_truth(deals=300, partners=7, random_seed=5, now=NOW)
    assert first == second
    assert digest(first[0]) == digest(second[0])


def test_generate_returns_the_data_half_of_generate_with_truth() -> None:
    data = generate(deals=40, partners=3, random_seed=8, now=NOW)
    assert data == generate_with_truth(deals=40, partners=3, random_seed=8, now=NOW)[0]


def test_the_same_instant_in_another_zone_gives_identical_data() -> None:
    elsewhere = NOW.astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert generate(deals=50, partners=3, random_seed=1, now=elsewhere) == generate(
        deals=50, partners=3, random_seed=1, now=NOW)


def test_a_different_seed_or_clock_gives_different_data() -> None:
    base = generate(deals=100, partners=4, random_seed=1, now=NOW)
    assert generate(deals=100, partners=4, random_seed=2, now=NOW) != base
    assert generate(deals=100, partners=4, random_seed=1, now=NOW + timedelta(days=1)) != base


def test_output_does_not_depend_on_string_hashing() -> None:
    script = (
        "import hashlib; from datetime import datetime, UTC;"
        "from handoff_sync.sandbox.seed.generator import generate;"
        "d = generate(deals=150, partners=5, random_seed=9,"
        " now=datetime(2026, 3, 2, 9, 30, tzinfo=UTC));"
        "print(hashlib.sha256(repr(d).encode()).hexdigest())"
    )
    digests = set()
    for hash_seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO)}
        run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                             text=True, check=True, cwd=REPO)
        digests.add(run.stdout.strip())
    assert len(digests) == 1


CAPABILITY_FIELDS = {"Technical_Conversations__c", "Approval_Navigation__c",
                     "Certified_Engineers__c", "partner_tier", "technical_conversations",
                     "approval_navigation", "certified_engineers"}


def without_capabilities(data: SeedData) -> SeedData:
    return dataclasses.replace(
        data,
        salesforce={name: [{k: v for k, v in r.items() if k not in CAPABILITY_FIELDS}
                           for r in records] for name, records in data.salesforce.items()},
        hubspot={kind: [dataclasses.replace(o, properties={
            k: v for k, v in o.properties.items() if k not in CAPABILITY_FIELDS})
            for o in objects] for kind, objects in data.hubspot.items()})


class _NoCapabilities:
    """What a partner's capabilities add to its records when they are switched off."""

    def salesforce(self) -> dict[str, object]:
        return {}

    def hubspot(self, tier: str) -> dict[str, str]:
        return {}


@pytest.mark.parametrize("arguments", [(1000, 12, 42), (300, 40, 7)])
def test_partner_capabilities_leave_every_other_seeded_value_as_it_was(
        monkeypatch: pytest.MonkeyPatch, arguments: tuple[int, int, int]) -> None:
    """Capabilities come from a generator of their own: with them switched off, every
    other value is the same (a draw from the main stream would shift every later one)."""
    deals, partners, random_seed = arguments
    data = generate(deals=deals, partners=partners, random_seed=random_seed, now=NOW)
    monkeypatch.setattr(companies, "capability_of", lambda partner, seed: _NoCapabilities())
    switched_off = generate(deals=deals, partners=partners, random_seed=random_seed, now=NOW)
    assert without_capabilities(data) == switched_off
    assert data != switched_off  # the fields are there


def test_partner_accounts_carry_the_same_capabilities_in_both_systems() -> None:
    data = generate(deals=300, partners=40, random_seed=7, now=NOW)
    accounts = {a["Name"]: a for a in data.salesforce["Account"]}
    companies = {c.properties["name"]: c.properties for c in data.hubspot["companies"]}
    tiers = list(sf_schema.PARTNER_TIERS)
    levels: dict[str, list[int]] = {tier: [] for tier in tiers}
    for name, account in accounts.items():
        company = companies[name]
        if account["Type"] != "Partner":  # customers have no capability fields
            assert not CAPABILITY_FIELDS & (set(account) | set(company)), name
            continue
        conversations = sf_schema.TECHNICAL_CONVERSATIONS.index(
            account["Technical_Conversations__c"])
        approvals = sf_schema.APPROVAL_NAVIGATION.index(account["Approval_Navigation__c"])
        engineers = account["Certified_Engineers__c"]
        assert engineers == int(engineers) >= 0
        # HubSpot holds the same partner's same capabilities (option values, weakest first).
        assert company["partner_tier"] == list(hs_schema.PARTNER_TIERS)[
            tiers.index(account["Partner_Tier__c"])]
        assert company["technical_conversations"] == list(
            hs_schema.TECHNICAL_CONVERSATIONS)[conversations]
        assert company["approval_navigation"] == list(hs_schema.APPROVAL_NAVIGATION)[approvals]
        assert company["certified_engineers"] == str(int(engineers))
        levels[account["Partner_Tier__c"]].append(conversations + approvals + int(engineers))
    # Higher tiers are more capable on the whole, and partners differ within a tier.
    means = [statistics.mean(levels[tier]) for tier in tiers if levels[tier]]
    assert means == sorted(means) and len(means) >= 3
    assert any(len(set(found)) > 1 for found in levels.values())


# --- arguments and scale ----------------------------------------------------------------
def test_counts_scale_with_deals_and_partners() -> None:
    small = generate(deals=100, partners=3, random_seed=3, now=NOW)
    large = generate(deals=400, partners=9, random_seed=3, now=NOW)
    for seed, deals, partners in ((small, 100, 3), (large, 400, 9)):
        assert len(seed.salesforce["Deal_Registration__c"]) == deals
        assert len(partner_deals(seed)) == deals
        accounts = seed.salesforce["Account"]
        assert sum(a["Type"] == "Partner" for a in accounts) == partners
        companies = seed.hubspot["companies"]
        assert sum(c.properties["type"] == "PARTNER" for c in companies) == partners
    for key in ("salesforce.Opportunity", "hubspot.deals", "salesforce.Account",
                "hubspot.companies", "hubspot.associations", "salesforce.User"):
        assert large.counts()[key] > small.counts()[key]
    assert 2.5 < large.counts()["salesforce.Opportunity"] / small.counts()[
        "salesforce.Opportunity"] < 5.5


def test_zero_deals_still_makes_people_and_partners() -> None:
    data, truth = generate_with_truth(deals=0, partners=2, random_seed=1, now=NOW)
    assert truth.scenarios == ()
    assert data.salesforce["Deal_Registration__c"] == data.salesforce["Opportunity"] == []
    assert data.hubspot["deals"] == [] and data.hubspot["tasks"] == []
    assert len(data.salesforce["Account"]) == 2 and data.hubspot_owners
    assert INTEGRATION_USERNAME in {u["Username"] for u in data.salesforce["User"]}


@pytest.mark.parametrize(("deals", "partners", "now"), [
    (-1, 1, NOW), (1, -1, NOW), (5, 0, NOW), (5, 1, NOW.replace(tzinfo=None)),
])
def test_bad_arguments_are_refused(deals: int, partners: int, now: datetime) -> None:
    with pytest.raises(ValueError):
        generate(deals=deals, partners=partners, random_seed=1, now=now)


# --- Salesforce schema conformance -------------------------------------------------------
def check_sf_value(obj: sf_schema.SfObject, fld: sf_schema.SfField, value: Any,
                   ids: dict[str, set[str]]) -> None:
    where = f"{obj.name}.{fld.name}={value!r}"
    kind = fld.type
    if kind in ("id", "reference"):
        assert isinstance(value, str) and len(value) == 18 and is_valid_id(value), where
        targets = (obj.name,) if kind == "id" else fld.reference_to
        assert any(value in ids[target] for target in targets), f"dangling {where}"
    elif kind in ("string", "textarea", "email", "url", "phone", "combobox"):
        assert isinstance(value, str) and 0 < len(value) <= fld.length, where
        if kind == "email":
            assert EMAIL.match(value), where
    elif kind == "picklist":
        assert value in fld.picklist, where
    elif kind == "multipicklist":
        parts = value.split(";")
        assert parts and set(parts) <= set(fld.picklist) and len(parts) == len(set(parts))
    elif kind in ("currency", "double", "percent"):
        assert isinstance(value, float), where
        assert abs(value) < 10 ** (fld.precision - fld.scale), where
        assert round(value, fld.scale) == value, where
    elif kind == "date":
        assert type(value) is date, where
    elif kind == "datetime":
        assert isinstance(value, datetime) and value.utcoffset() == timedelta(0), where
        assert value.microsecond % 1000 == 0, f"not truncated to ms: {where}"
    elif kind == "boolean":
        assert isinstance(value, bool), where
    else:
        raise AssertionError(f"unexpected field type {kind} in {where}")


def test_salesforce_records_conform_to_the_schema(data: SeedData) -> None:
    assert set(data.salesforce) <= set(sf_schema.OBJECTS)
    ids = {name: {r["Id"] for r in data.salesforce.get(name, [])} for name in sf_schema.OBJECTS}
    ids.update(Contact=set(), Lead=set())
    for name, records in data.salesforce.items():
        obj = sf_schema.OBJECTS[name]
        required = [f.name for f in obj.fields if not f.nillable]
        assert len(ids[name]) == len(records), f"duplicate {name} ids"
        for record in records:
            assert set(record) <= {f.name for f in obj.fields}, set(record) - {
                f.name for f in obj.fields}
            assert all(record.get(f) is not None for f in required), (name, record["Id"])
            assert record["Id"].startswith(obj.key_prefix)
            for key, value in record.items():
                if value is not None:
                    check_sf_value(obj, obj.field(key), value, ids)  # type: ignore[arg-type]
        for fld in obj.fields:
            if fld.unique:
                values = [r[fld.name] for r in records if r.get(fld.name) is not None]
                assert len(values) == len(set(values)), f"{name}.{fld.name} not unique"


def test_salesforce_ids_are_numbered_per_object_from_one(data: SeedData) -> None:
    for name, records in data.salesforce.items():
        prefix = sf_schema.OBJECTS[name].key_prefix
        ids = [r["Id"] for r in records]
        assert sorted(ids) == sorted(salesforce_id(prefix, n) for n in range(1, len(ids) + 1))
    registrations = data.salesforce["Deal_Registration__c"]
    assert [r["Name"] for r in registrations[:3]] == ["DR-000001", "DR-000002", "DR-000003"]


def test_incremental_ids_equal_salesforce_id_across_digit_blocks() -> None:
    sequence = IdSequence("a0D")  # the generator's fast path; blocks turn over every 3,844
    assert [sequence.next() for _ in range(9000)] == [salesforce_id("a0D", n)
                                                      for n in range(1, 9001)]


def test_salesforce_system_fields_and_derived_values(data: SeedData) -> None:
    integration = next(u for u in data.salesforce["User"] if u["Username"] == INTEGRATION_USERNAME)
    assert integration["Email"] == INTEGRATION_USERNAME and integration["IsActive"]
    for records in data.salesforce.values():
        for r in records:
            assert r["IsDeleted"] is False
            assert r["CreatedById"] == r["LastModifiedById"] == integration["Id"]
            assert r["CreatedDate"] <= r["LastModifiedDate"] == r["SystemModstamp"] <= NOW
    for opp in data.salesforce["Opportunity"]:
        probability, closed, won = sf_schema.OPPORTUNITY_STAGES[opp["StageName"]]
        assert (opp["Probability"], opp["IsClosed"], opp["IsWon"]) == (probability, closed, won)
    for task in data.salesforce["Task"]:
        assert task["IsClosed"] == (task["Status"] in sf_schema.CLOSED_TASK_STATUSES)
        assert task["WhatId"].startswith("006") and "Handoff_Task_Key__c" not in task
    for user in data.salesforce["User"]:
        assert user["Name"] == f"{user['FirstName']} {user['LastName']}"
    for account in data.salesforce["Account"]:
        assert account["IsPartner"] == (account["Type"] == "Partner")
        if account["Type"] == "Partner":
            assert account["Partner_Tier__c"] and account["Region__c"]
        else:
            assert account["Type"] in ("Prospect", "Customer") and account["Website"]


def test_integration_username_matches_the_sandbox_credentials() -> None:
    default = next(f.default for f in dataclasses.fields(Credentials) if f.name == "sf_username")
    assert default == INTEGRATION_USERNAME


def test_managers_and_owners_are_users(data: SeedData) -> None:
    users = by_id(data, "User")
    aes = [u for u in users.values() if u["Title"] == "Account Executive"]
    assert len(aes) >= 4 and all(users[u["ManagerId"]]["Title"] != "Account Executive"
                                 for u in aes)
    assert sum(not u["IsActive"] for u in users.values()) == 1
    managers = [u for u in users.values() if u["Title"] == "Partner Manager"]
    assert 2 <= len(managers) <= 4
    for r in data.salesforce["Deal_Registration__c"]:
        assert users[r["OwnerId"]]["Title"] == "Partner Manager"


# --- HubSpot schema conformance ----------------------------------------------------------
def check_hs_value(kind: str, prop: hs_schema.HsProperty, value: str,
                   owner_ids: set[str]) -> None:
    where = f"{kind}.{prop.name}={value!r}"
    assert isinstance(value, str), where
    if prop.name in ("hubspot_owner_id", "cs_owner_id"):
        assert value in owner_ids, f"unknown owner {where}"
    elif prop.type == "number":
        assert HS_NUMBER.match(value), where
        # Whole numbers are stored bare ("120000"); stage probabilities come as the
        # pipeline defines them ("1.0").
        assert prop.calculated or not value.endswith(".0"), where
    elif prop.type == "date":
        assert HS_DATE.match(value) and date.fromisoformat(value), where
    elif prop.type == "datetime":
        assert HS_DATETIME.match(value), where
    elif prop.type == "bool":
        assert value in ("true", "false"), where
    elif prop.type == "enumeration" and prop.options:
        allowed = {option_value for _, option_value in prop.options}
        parts = value.split(";") if prop.field_type == "checkbox" else [value]
        assert set(parts) <= allowed and len(parts) == len(set(parts)), where
    else:
        assert value, f"empty string instead of absent: {where}"


def test_hubspot_objects_conform_to_the_properties(data: SeedData) -> None:
    owner_ids = {o["id"] for o in data.hubspot_owners}
    for kind, objects in data.hubspot.items():
        props = {p.name: p for p in hs_schema.PROPERTIES[kind]}
        assert len({o.id for o in objects}) == len(objects), f"duplicate {kind} ids"
        for obj in objects:
            assert obj.id.isdigit() and obj.properties["hs_object_id"] == obj.id
            assert set(obj.properties) <= set(props), set(obj.properties) - set(props)
            for name, value in obj.properties.items():
                if value is not None:
                    check_hs_value(kind, props[name], value, owner_ids)
        for prop in props.values():
            if prop.has_unique_value:
                values = [o.properties[prop.name] for o in objects
                          if o.properties.get(prop.name) is not None]
                assert len(values) == len(set(values)), f"{kind}.{prop.name} not unique"


def test_hubspot_timestamps_match_the_object_and_precede_now(data: SeedData) -> None:
    def iso(at: datetime) -> str:
        return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"

    for objects in data.hubspot.values():
        for obj in objects:
            assert obj.created_at <= obj.updated_at <= NOW
            assert obj.created_at.microsecond % 1000 == 0
            assert obj.properties["createdate"] == iso(obj.created_at)
            assert obj.properties["hs_lastmodifieddate"] == iso(obj.updated_at)
    for owner in data.hubspot_owners:
        assert owner["createdAt"] <= owner["updatedAt"] <= iso(NOW)


def test_deal_pipelines_stages_and_calculated_flags_agree(data: SeedData) -> None:
    pipelines = {p.id: {s.id: s for s in p.stages} for p in hs_schema.PIPELINES["deals"]}
    for deal in data.hubspot["deals"]:
        p = deal.properties
        stage = pipelines[p["pipeline"]][p["dealstage"]]
        won = stage.is_closed and float(stage.probability) > 0
        assert p["hs_is_closed"] == str(stage.is_closed).lower()
        assert p["hs_is_closed_won"] == str(won).lower()
        assert p["hs_deal_stage_probability"] == stage.probability
        assert p["dealname"] and p["amount"] and p["closedate"]
    assert {d.properties["dealstage"] for d in partner_deals(data)} == {
        s.id for s in hs_schema.PARTNER_PIPELINE.stages}
    assert {d.properties["dealstage"] for d in crm_deals(data)} == {
        s.id for s in hs_schema.DEFAULT_PIPELINE.stages}


def test_associations_point_at_existing_objects(data: SeedData) -> None:
    ids = {kind: {o.id for o in objects} for kind, objects in data.hubspot.items()}
    for from_type, from_id, to_type, to_id, type_id in data.hubspot_associations:
        assert hs_schema.ASSOCIATION_TYPES[(from_type, to_type)] == type_id
        assert from_id in ids[from_type] and to_id in ids[to_type]
    deal_links = Counter(a[1] for a in data.hubspot_associations if a[:3:2] == ("deals",
                                                                              "companies"))
    assert set(deal_links) == ids["deals"] and set(deal_links.values()) == {1}
    task_links = {a[1] for a in data.hubspot_associations if a[0] == "tasks"}
    assert task_links == ids["tasks"] and ids["tasks"]
    assert any(a[0] == "contacts" for a in data.hubspot_associations)


def test_owner_objects_look_like_the_owners_api(data: SeedData) -> None:
    keys = {"id", "email", "type", "firstName", "lastName", "userId",
            "userIdIncludingInactive", "createdAt", "updatedAt", "archived", "teams"}
    for owner in data.hubspot_owners:
        assert set(owner) == keys and owner["type"] == "PERSON"
        assert owner["id"].isdigit() and isinstance(owner["userIdIncludingInactive"], int)
        assert owner["userId"] == (None if owner["archived"] else owner[
            "userIdIncludingInactive"])
        assert EMAIL.match(owner["email"]) and owner["teams"][0]["primary"] is True
    assert sum(o["archived"] for o in data.hubspot_owners) == 1
    assert len({o["id"] for o in data.hubspot_owners}) == len(data.hubspot_owners)


def test_one_person_is_missing_on_each_side(data: SeedData, truth: SeedTruth) -> None:
    sf_emails = {u["Email"] for u in data.salesforce["User"]} - {INTEGRATION_USERNAME}
    hs_emails = {o["email"] for o in data.hubspot_owners}
    assert sorted(sf_emails - hs_emails) == list(truth.salesforce_only_emails)
    assert sorted(hs_emails - sf_emails) == list(truth.hubspot_only_emails)
    # ... and some registrations name them, so "owner email with no CRM user" happens.
    ae_emails = {r.get("AE_Email__c") for r in data.salesforce["Deal_Registration__c"]}
    assert set(truth.salesforce_only_emails) <= ae_emails
    assert set(truth.hubspot_only_emails) <= ae_emails
    inactive = next(o for o in data.hubspot_owners if o["archived"])
    assert [inactive["email"]] == list(truth.inactive_emails)


def test_partner_reps_write_from_their_own_domain_and_some_partners_have_seats(
        data: SeedData) -> None:
    users = {u["Email"] for u in data.salesforce["User"]}
    owners = {o["email"]: o for o in data.hubspot_owners}
    domains = {a["Name"]: a["Website"].split("www.")[-1] for a in data.salesforce["Account"]
               if a["IsPartner"]}
    partners = by_id(data, "Account")
    seated: dict[str, set[bool]] = {}
    for r in data.salesforce["Deal_Registration__c"]:
        rep = r.get("Partner_Rep_Email__c")
        if rep:
            partner = partners[r["Partner_Account__c"]]["Name"]
            assert rep.endswith("@" + domains[partner])
            # A rep is a user of both systems (a partner user; its own HubSpot team) or
            # of neither.
            assert (rep in users) == (rep in owners)
            if rep in owners:
                assert owners[rep]["teams"][0]["name"] == "Partner Reps"
            seated.setdefault(partner, set()).add(rep in users)
    # Seats are per partner: all its reps or none; both kinds occur.
    assert all(len(kinds) == 1 for kinds in seated.values())
    assert {kind for kinds in seated.values() for kind in kinds} == {True, False}


# --- the spread the demo needs -----------------------------------------------------------
def test_every_stage_status_and_handoff_type_occurs(data: SeedData) -> None:
    registrations = data.salesforce["Deal_Registration__c"]
    # The seed is an org nobody has driven yet: won deals still show the partner handoff's
    # last stage; the customer-success kickoff stage is the stage autopilot's to set.
    assert {r["Handoff_Stage__c"] for r in registrations} == set(
        sf_schema.HANDOFF_STAGES) - {"6 Customer Success Kickoff"}
    assert {r["Registration_Status__c"] for r in registrations} == {
        "Submitted", "Approved", "Rejected", "Expired", "Converted"}
    assert {r["Handoff_Type__c"] for r in registrations} == set(sf_schema.HANDOFF_TYPES)
    assert {d.properties["handoff_stage"] for d in partner_deals(data)} == set(
        hs_schema.HANDOFF_STAGES) - {"kickoff"}
    assert {o["StageName"] for o in data.salesforce["Opportunity"]} >= {"Closed Won",
                                                                       "Closed Lost"}
    statuses = Counter(r["Registration_Status__c"] for r in registrations)
    assert statuses.most_common(1)[0][0] == "Converted"


def test_older_wins_carry_their_kickoff_and_it_costs_the_main_stream_no_draw(
        data: SeedData, truth: SeedTruth, monkeypatch: pytest.MonkeyPatch) -> None:
    """The report's funnel ends at the customer-success kickoff: older wins (their partner
    handoff ran to its last stage) mostly had one; fresh wins (closed won to CS) wait."""
    opportunities = by_id(data, "Opportunity")
    deals = hs_by_id(data, "deals")
    older = [s for s in truth.scenarios if s.sf_opportunity_id and s.hs_deal_id
             and opportunities[s.sf_opportunity_id]["IsWon"]
             and s.handoff_type == "Partner to Direct"]
    held = [s for s in older if "Kickoff_At__c" in opportunities[s.sf_opportunity_id]]
    assert 0.5 < len(held) / len(older) < 1
    for s in held:
        record = opportunities[s.sf_opportunity_id]
        assert record["CreatedDate"] < record["Kickoff_At__c"] <= record["LastModifiedDate"]
        hs_value = deals[s.hs_deal_id].properties["kickoff_at"]  # the same instant
        assert hs_value == record["Kickoff_At__c"].strftime("%Y-%m-%dT%H:%M:%S.%f")[:23] + "Z"
    assert not any("Kickoff_At__c" in opportunities[s.sf_opportunity_id]
                   for s in truth.scenarios if s.sf_opportunity_id
                   and s.handoff_type == "Closed Won to CS")
    # Without the kickoffs, every other value is what it would have been: no extra draw.
    from handoff_sync.sandbox.seed import deals as seed_deals

    monkeypatch.setattr(seed_deals, "kickoff_ms", lambda s, stamps: None)
    bare = generate(deals=1000, partners=12, random_seed=42, now=NOW)
    stripped = dataclasses.replace(data, salesforce={
        name: [{k: v for k, v in r.items() if k != "Kickoff_At__c"} for r in records]
        for name, records in data.salesforce.items()}, hubspot={
        kind: [dataclasses.replace(o, properties={k: v for k, v in o.properties.items()
                                                  if k != "kickoff_at"}) for o in objects]
        for kind, objects in data.hubspot.items()})
    assert digest(stripped) == digest(bare)


def test_amounts_straddle_the_handoff_threshold(data: SeedData) -> None:
    amounts = [r["Amount__c"] for r in data.salesforce["Deal_Registration__c"]]
    above = sum(a >= HANDOFF_THRESHOLD for a in amounts) / len(amounts)
    assert 0.15 < above < 0.35
    assert min(amounts) >= 5_000 and max(amounts) <= 900_000


def test_every_deal_carries_the_segment_of_its_registered_amount(data: SeedData,
                                                                 truth: SeedTruth) -> None:
    # custom.segment in the packs: Enterprise from 100k, Mid-Market from 25k, SMB below;
    # the registration and its CRM records (both vendors) agree, so the report can break
    # figures down by segment; direct deals and decoys by their own amount.
    def band(amount: float) -> tuple[str, str]:
        return (("Enterprise", "enterprise") if amount >= 100_000 else
                ("Mid-Market", "mid_market") if amount >= 25_000 else ("SMB", "smb"))

    registrations, opportunities = by_id(data, "Deal_Registration__c"), by_id(
        data, "Opportunity")
    deals = hs_by_id(data, "deals")
    for s in truth.scenarios:
        sf, hs = band(s.amount)
        assert registrations[s.sf_registration_id]["Segment__c"] == sf
        assert deals[s.hs_registration_id].properties["segment"] == hs
        if s.sf_opportunity_id is not None and s.hs_deal_id is not None:
            assert opportunities[s.sf_opportunity_id]["Segment__c"] == sf
            assert deals[s.hs_deal_id].properties["segment"] == hs
        if s.decoy_sf_opportunity_id is not None and s.decoy_hs_deal_id is not None:
            decoy = opportunities[s.decoy_sf_opportunity_id]
            assert decoy["Segment__c"] == band(decoy["Amount"])[0]
            assert deals[s.decoy_hs_deal_id].properties["segment"] == band(
                decoy["Amount"])[1]
    for d in truth.direct:
        opp = opportunities[d.sf_opportunity_id]
        assert opp["Segment__c"] == band(opp["Amount"])[0]
        assert deals[d.hs_deal_id].properties["segment"] == band(opp["Amount"])[1]
    assert {r["Segment__c"] for r in data.salesforce["Opportunity"]} == set(
        sf_schema.SEGMENTS)
    assert set(hs_schema.SEGMENTS) == {d.properties["segment"] for d in data.hubspot["deals"]}


@pytest.mark.parametrize(("sf_name", "hs_name"), QUALIFICATION)
def test_each_qualification_fact_is_both_filled_and_missing(data: SeedData, sf_name: str,
                                                            hs_name: str) -> None:
    for records in (data.salesforce["Deal_Registration__c"], data.salesforce["Opportunity"]):
        filled = [bool(r.get(sf_name)) for r in records]  # False counts as not given
        assert any(filled) and not all(filled), sf_name
    for deals in (partner_deals(data), crm_deals(data)):
        filled = [d.properties.get(hs_name) not in (None, "false") for d in deals]
        assert any(filled) and not all(filled), hs_name


def test_later_stages_and_diligent_partners_fill_more(data: SeedData) -> None:
    stage_one = [r for r in data.salesforce["Deal_Registration__c"]
                 if r["Handoff_Stage__c"].startswith("1")]
    stage_four = [r for r in data.salesforce["Deal_Registration__c"]
                  if r["Handoff_Stage__c"].startswith("4")]

    def fill_rate(records: list[dict[str, Any]]) -> float:
        return sum(bool(r.get(f)) for r in records for f, _ in QUALIFICATION) / len(records)

    assert fill_rate(stage_four) > fill_rate(stage_one) + 3
    by_partner: dict[str, list[dict[str, Any]]] = {}
    for r in stage_four:
        by_partner.setdefault(r["Partner_Account__c"], []).append(r)
    rates = [fill_rate(rs) for rs in by_partner.values() if len(rs) >= 5]
    assert max(rates) - min(rates) > 1.5  # partner scorecards differ


def test_some_stage_windows_are_overdue(data: SeedData, truth: SeedTruth) -> None:
    open_now = [r for r in data.salesforce["Deal_Registration__c"]
                if r["Registration_Status__c"] in ("Submitted", "Approved", "Converted")]
    late = [NOW - r["Handoff_Stage_Entered__c"]
            > timedelta(days=STAGE_WINDOW_DAYS[int(r["Handoff_Stage__c"][0]) - 1])
            for r in open_now]
    assert 0.05 < sum(late) / len(late) < 0.6
    assert any(s.overdue for s in truth.scenarios) and not all(s.overdue for s in
                                                                  truth.scenarios)


def test_timestamps_never_lie_in_the_future(data: SeedData) -> None:
    for records in data.salesforce.values():
        for r in records:
            for key, value in r.items():
                if isinstance(value, datetime):
                    assert value <= NOW, key
    for deal in data.hubspot["deals"]:
        for name in ("handoff_stage_entered_at", "intro_call_at", "joint_discovery_at"):
            value = deal.properties.get(name)
            assert value is None or value <= NOW.strftime("%Y-%m-%dT%H:%M:%S.%f")[:23] + "Z"


def test_mirrored_records_carry_the_same_scenario(data: SeedData, truth: SeedTruth) -> None:
    registrations = by_id(data, "Deal_Registration__c")
    partner = hs_by_id(data, "deals")
    for s in truth.scenarios:
        sf_reg = registrations[s.sf_registration_id]
        hs_reg = partner[s.hs_registration_id].properties
        assert sf_reg["Deal_Name__c"] == hs_reg["dealname"]
        assert sf_reg["Customer_Domain__c"] == hs_reg["customer_domain"] == s.customer_domain
        assert sf_reg["Amount__c"] == s.amount == float(hs_reg["amount"])
        assert sf_reg["Handoff_Stage__c"][0] == str(s.handoff_stage)
        assert sf_reg["Registration_Status__c"] == s.registration_status
        assert (s.sf_opportunity_id is None) == (s.registration_status not in (
            "Approved", "Converted"))


# --- linking variety ---------------------------------------------------------------------
@pytest.mark.parametrize("random_seed", [1, 2, 3])
def test_every_link_kind_occurs_from_200_deals(random_seed: int) -> None:
    _, truth = generate_with_truth(deals=200, partners=6, random_seed=random_seed, now=NOW)
    assert set(Counter(s.link for s in truth.scenarios)) == set(LINK_KINDS)


def test_link_kinds_have_realistic_shares(truth: SeedTruth) -> None:
    kinds = Counter(s.link for s in truth.scenarios)
    with_crm = sum(s.sf_opportunity_id is not None for s in truth.scenarios)
    assert 0.07 < kinds["fuzzy"] / with_crm < 0.13
    assert 1 <= kinds["ambiguous"] <= 0.03 * with_crm
    assert 2 <= kinds["conflict"] <= 0.04 * len(truth.scenarios)
    assert kinds["explicit"] > with_crm / 2


def test_explicit_links_point_both_ways(data: SeedData, truth: SeedTruth) -> None:
    registrations, opportunities = by_id(data, "Deal_Registration__c"), by_id(data,
                                                                              "Opportunity")
    deals = hs_by_id(data, "deals")
    linked = [s for s in truth.scenarios if s.link == "explicit"]
    assert linked
    for s in linked:
        assert s.sf_opportunity_id is not None and s.hs_deal_id is not None
        opp = opportunities[s.sf_opportunity_id]
        assert opp["Partner_Registration_Id__c"] == s.hs_registration_id
        assert deals[s.hs_registration_id].properties["crm_opportunity_id"] == opp["Id"]
        assert deals[s.hs_deal_id].properties["partner_registration_id"] == s.sf_registration_id
        assert registrations[s.sf_registration_id]["CRM_Deal_Id__c"] == s.hs_deal_id


def test_fuzzy_links_match_only_on_account_name_amount_and_date(data: SeedData,
                                                                  truth: SeedTruth) -> None:
    registrations, opportunities = by_id(data, "Deal_Registration__c"), by_id(data,
                                                                              "Opportunity")
    accounts, deals = by_id(data, "Account"), hs_by_id(data, "deals")
    for s in (s for s in truth.scenarios if s.link in ("fuzzy", "ambiguous")):
        assert s.sf_opportunity_id is not None and s.hs_deal_id is not None
        reg, opp = registrations[s.sf_registration_id], opportunities[s.sf_opportunity_id]
        assert "CRM_Deal_Id__c" not in reg and "Partner_Registration_Id__c" not in opp
        assert "crm_opportunity_id" not in deals[s.hs_registration_id].properties
        assert "partner_registration_id" not in deals[s.hs_deal_id].properties
        assert accounts[opp["AccountId"]]["Website"].rstrip("/").endswith(s.customer_domain)
        assert opp["Name"] != reg["Deal_Name__c"]
        assert abs(opp["Amount"] - reg["Amount__c"]) <= 0.035 * reg["Amount__c"]
        assert 0 < abs((opp["CloseDate"] - reg["Expected_Close_Date__c"]).days) <= 6


def test_ambiguous_registrations_have_two_candidates(data: SeedData, truth: SeedTruth) -> None:
    opportunities = by_id(data, "Opportunity")
    for s in (s for s in truth.scenarios if s.link == "ambiguous"):
        assert s.decoy_sf_opportunity_id is not None and s.decoy_hs_deal_id is not None
        real, decoy = opportunities[s.sf_opportunity_id], opportunities[
            s.decoy_sf_opportunity_id]
        assert real["AccountId"] == decoy["AccountId"] and real["Id"] != decoy["Id"]
        assert abs(decoy["Amount"] - real["Amount"]) <= 0.05 * real["Amount"]
        assert abs((decoy["CloseDate"] - real["CloseDate"]).days) <= 5


def test_channel_conflicts_pair_two_partners_on_one_deal(data: SeedData,
                                                        truth: SeedTruth) -> None:
    registrations = by_id(data, "Deal_Registration__c")
    conflicts = [s for s in truth.scenarios if s.link == "conflict"]
    assert conflicts and len(conflicts) % 2 == 0
    for s in conflicts:
        assert s.conflicts_with is not None
        other = truth.scenarios[s.conflicts_with]
        assert other.conflicts_with == s.number and other.partner != s.partner
        assert other.customer_domain == s.customer_domain
        mine, theirs = registrations[s.sf_registration_id], registrations[
            other.sf_registration_id]
        assert abs(mine["Amount__c"] - theirs["Amount__c"]) <= 0.11 * mine["Amount__c"]
        # One registration was converted and linked; the later rival was just submitted.
        assert {mine["Registration_Status__c"], theirs["Registration_Status__c"]} & {
            "Submitted"}


# --- direct deals ------------------------------------------------------------------------
def test_direct_deals_are_closed_and_untouched_by_partners(data: SeedData,
                                                          truth: SeedTruth) -> None:
    opportunities, deals = by_id(data, "Opportunity"), hs_by_id(data, "deals")
    registered = {r["Customer_Domain__c"] for r in data.salesforce["Deal_Registration__c"]}
    assert len(truth.direct) == 1000 // DIRECT_DEALS_PER_REGISTRATIONS
    assert {d.won for d in truth.direct} == {True, False}
    for d in truth.direct:
        opp, twin = opportunities[d.sf_opportunity_id], deals[d.hs_deal_id].properties
        assert (opp["StageName"], opp["IsClosed"], opp["IsWon"]) == (
            "Closed Won" if d.won else "Closed Lost", True, d.won)
        assert opp["LeadSource"] != "Partner Referral"
        assert not {"PartnerAccountId", "Partner_Registration_Id__c", "Handoff_Type__c",
                    "Handoff_Stage__c"} & set(opp)
        # The report's cycle length: the CRM record's creation day to its close date.
        assert (opp["CreatedDate"].date(), opp["CloseDate"]) == (d.created, d.close_date)
        assert twin["pipeline"] == hs_schema.DEFAULT_PIPELINE.id
        assert twin["dealstage"] == ("closedwon" if d.won else "closedlost")
        assert twin["dealname"] == opp["Name"]
        assert twin["closedate"] == d.close_date.isoformat() + "T00:00:00.000Z"
        assert deals[d.hs_deal_id].created_at == opp["CreatedDate"]
        assert "partner_registration_id" not in twin and "partner_account_name" not in twin
        assert twin["customer_domain"] not in registered


def test_direct_won_deals_take_a_typical_direct_cycle(truth: SeedTruth) -> None:
    cycles = [d.cycle_days for d in truth.direct if d.won]
    assert 20 <= statistics.median(cycles) <= 45
    assert all(d.cycle_days > 0 for d in truth.direct)


def test_the_seed_knows_the_default_policy_go_live() -> None:
    rule = default_mappings().policy.handoff_types["closed_won_to_cs"].required_when
    assert rule is not None and (rule.field, rule.op) == ("close_date", ">=")
    assert date.fromisoformat(str(rule.value)) == CS_HANDOFF_GO_LIVE.date()


@pytest.mark.parametrize("now", [NOW, datetime(2029, 6, 1, 12, tzinfo=UTC)])
def test_direct_deals_need_no_handoff_under_the_default_policy(now: datetime) -> None:
    """Before go-live and years after it: no gate, so no task, clock or breach."""
    inputs = seeded_inputs(deals=200, now=now)
    direct = {d.sf_opportunity_id for d in inputs.truth.direct}
    records = [r for r in inputs.crm if r.record_id in direct]
    assert len(records) == len(direct) >= 3
    for record in records:
        close = record.values["close_date"]
        assert isinstance(close, date) and close < min(now, CS_HANDOFF_GO_LIVE).date()
        gate = evaluate_gate(inputs.mappings.policy, Deal.from_values(record.values))
        assert not gate.required, record.record_id


def test_direct_deals_come_after_the_scenarios() -> None:
    """Made last, so adding them moved no scenario's records or ids."""
    data, truth = generate_with_truth(deals=300, partners=7, random_seed=5, now=NOW)
    opportunities = [r["Id"] for r in data.salesforce["Opportunity"]]
    direct = [d.sf_opportunity_id for d in truth.direct]
    assert opportunities[-len(direct):] == direct
    scenario_ids = {s.sf_opportunity_id for s in truth.scenarios} | {
        s.decoy_sf_opportunity_id for s in truth.scenarios}
    assert set(opportunities[:-len(direct)]) <= scenario_ids
