"""Raw record <-> canonical values through the default packs, both ways."""

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handoff_sync.mapping.loader import load_mappings
from handoff_sync.mapping.system.convert import (
    flatten_record,
    in_scope,
    outputs_to_system,
    task_to_system,
    to_canonical,
    to_system,
)
from handoff_sync.mapping.system.scope import scope_misses, scope_reason, skipped_record
from handoff_sync.model import (
    Output,
    Owner,
    OwnerDirectory,
    Role,
    SystemName,
    TaskPriority,
    TaskSpec,
)
from tests.property_support import examples

ROOT = Path(__file__).resolve().parents[2]
PACK_A = load_mappings(ROOT / "mappings")
PACK_B = load_mappings(ROOT / "mappings" / "packs" / "salesforce-prm-hubspot-crm")
MAPPINGS = [PACK_A.prm, PACK_A.crm, PACK_B.prm, PACK_B.crm]
OWNERS = OwnerDirectory([Owner("005A", "ann@example.com"), Owner("005B", "bob@example.com"),
                         Owner("71", "ann@example.com"), Owner("72", "cy@example.com")])
SF_OPP = PACK_A.crm
HS_REG = PACK_A.prm


def test_salesforce_opportunity_to_canonical():
    record = to_canonical(SF_OPP, {
        "attributes": {"type": "Opportunity"}, "Id": "006X", "Name": "Acme", "Amount": 1500.5,
        "CloseDate": "2026-06-30", "OwnerId": "005A", "Handoff_Stage__c": "2 Joint Discovery",
        "Competitors__c": "Acme;Hooli", "Partner_Prepared_Prospect__c": False,
        "Intro_Call_At__c": "2026-03-01T10:00:00.000+0000", "Co_Led_Meetings__c": 2.0,
        "SystemModstamp": "2026-03-02T00:00:00.000+0000", "Economic_Buyer__c": "  ",
    }, OWNERS)
    values = record.values
    assert (record.role, record.record_id) == (Role.CRM, "006X")
    assert values["amount"] == Decimal("1500.5")
    assert values["close_date"] == date(2026, 6, 30)
    assert values["ae_email"] == "ann@example.com"
    assert values["handoff_stage"] == "joint_discovery"
    assert values["competitors"] == ("Acme", "Hooli")
    assert values["partner_prepared_prospect"] is False
    assert values["intro_call_at"] == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert values["co_led_meetings"] == 2
    assert values["economic_buyer"] is None  # whitespace is blank
    assert record.modified_at == datetime(2026, 3, 2, tzinfo=UTC)
    assert record.issues == ()


def test_hubspot_registration_constants_scope_and_stage_map():
    raw = {"id": "901", "properties": {"dealname": "Acme", "pipeline": "9004451",
                                       "dealstage": "9004453", "amount": "250000",
                                       "customer_domain": "https://www.acme.io/x",
                                       "hs_lastmodifieddate": "2026-03-01T00:00:00Z"}}
    flat = flatten_record(SystemName.HUBSPOT, raw)
    record = to_canonical(HS_REG, flat, OWNERS)
    assert record.in_scope and record.record_id == "901"
    assert record.values["registration_status"] == "approved"
    assert record.values["currency"] == "USD"
    assert record.values["account_domain"] == "acme.io"
    assert not in_scope(HS_REG, {**flat, "pipeline": "default"})


def test_a_record_outside_the_scope_says_why_and_where_the_scope_is_written():
    raw = {"hs_object_id": "902", "dealname": "Acme", "pipeline": None}
    # A null or absent scope field is out of scope, not an exception.
    assert not to_canonical(HS_REG, raw, OWNERS).in_scope
    assert [str(m) for m in scope_misses(HS_REG, raw)] == ["pipeline is missing"]
    where = f"({HS_REG.file}:17)"  # the line of `pipeline:` under `scope:`
    assert scope_reason(HS_REG, {**raw, "pipeline": "default"}) == (
        f"pipeline is 'default'; the mapping's scope wants pipeline = 9004451 {where}")
    assert scope_reason(HS_REG, {**raw, "pipeline": "9004451"}) is None
    skipped = skipped_record(HS_REG, raw, "902")
    assert skipped is not None and (skipped.record_id, skipped.name) == ("902", "Acme")
    assert skipped.reason == f"pipeline is missing; the mapping's scope wants pipeline = " \
                             f"9004451 {where}"
    assert scope_reason(SF_OPP, {"Id": "006X"}) is None  # no scope: every record is in it


def test_unconvertible_values_become_issues_not_exceptions():
    record = to_canonical(SF_OPP, {"Id": "006X", "Amount": "lots", "OwnerId": "005Z",
                                   "Handoff_Stage__c": "9 Unknown",
                                   "SystemModstamp": "yesterday"}, OWNERS)
    by_field = {issue.name: issue for issue in record.issues}
    assert set(by_field) == {"amount", "ae_email", "handoff_stage", "modified_at"}
    assert "not a number" in by_field["amount"].message
    assert "not in the owner directory" in by_field["ae_email"].message
    assert "no entry in the value map" in by_field["handoff_stage"].message
    assert record.values["amount"] is None
    assert "Amount -> amount" in str(by_field["amount"])


def test_to_system_writes_only_writable_fields_in_the_systems_format():
    values = {"amount": Decimal("1200.456"), "close_date": date(2026, 7, 1),
              "handoff_stage": "knowledge_transfer", "deal_name": "ignored: read only",
              "partner_prepared_prospect": None, "competitors": ("Acme",),
              "ae_email": "ann@example.com"}
    sf = to_system(SF_OPP, values, OWNERS)
    assert sf.values == {"Amount": 1200.46, "Handoff_Stage__c": "3 Knowledge Transfer",
                         "Partner_Prepared_Prospect__c": False,  # the mapping's default
                         "Competitors__c": "Acme"}
    hs = to_system(HS_REG, values, OWNERS)
    assert hs.values["amount"] == "1200.46"
    assert hs.values["closedate"] == "2026-07-01"
    assert hs.values["partner_prepared_prospect"] == ""  # HubSpot clears with ""
    assert sf.issues == hs.issues == ()


def test_to_system_reports_values_it_cannot_write():
    result = to_system(SF_OPP, {"handoff_stage": "onboarding"}, OWNERS)  # no such stage
    assert result.values == {}
    assert "cannot be written" in result.issues[0].message


def test_outputs_to_system():
    out = outputs_to_system(SF_OPP, {
        Output.GATE_STATUS: "blocked", Output.COMPLETENESS: 40,
        Output.MISSING_FIELDS: ("Budget", "Need"), Output.HANDOFF_REQUIRED: None,
        Output.SLA_DUE: datetime(2026, 3, 1, 17, tzinfo=UTC)}, OWNERS).values
    assert out == {"Handoff_Gate_Status__c": "Blocked", "Handoff_Completeness__c": 40,
                   "Handoff_Missing_Fields__c": "Budget\nNeed", "Handoff_Required__c": False,
                   "Handoff_SLA_Due__c": "2026-03-01T17:00:00.000+0000"}


@pytest.mark.parametrize(("mapping", "expected"), [
    (SF_OPP, {"Subject": "Do it", "Description": "body", "ActivityDate": "2026-03-04",
              "OwnerId": "005B", "Status": "Not Started", "Priority": "High",
              "Handoff_Task_Key__c": "k1", "WhatId": "006X"}),
    (PACK_B.crm, {"hs_task_subject": "Do it", "hs_task_body": "body",
                  "hs_timestamp": "2026-03-04T15:00:00.000Z", "hubspot_owner_id": "72",
                  "hs_task_status": "NOT_STARTED", "hs_task_priority": "HIGH",
                  "handoff_task_key": "k1"}),
])
def test_task_to_system(mapping, expected):
    assignee = "bob@example.com" if mapping is SF_OPP else "cy@example.com"
    task = TaskSpec("k1", "complete_stage_gate", "006X", "Do it", "body", assignee,
                    datetime(2026, 3, 4, 15, tzinfo=UTC), TaskPriority.HIGH)
    result = task_to_system(mapping, task, OWNERS)
    assert dict(result.values) == expected and result.issues == ()


def test_task_assignee_without_a_user_is_an_issue():
    task = TaskSpec("k1", "x", "006X", "s", "", "partner@reseller.example",
                    datetime(2026, 3, 4, tzinfo=UTC), TaskPriority.LOW)
    result = task_to_system(SF_OPP, task, OWNERS)
    assert "OwnerId" not in result.values
    assert "no active owner" in result.issues[0].message


# ----------------------------------------------------------- round trip (property based)

_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
                min_size=1, max_size=40)
_ITEM = _TEXT.filter(lambda s: ";" not in s)
_MOMENT = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1),
                       timezones=st.just(UTC)).map(lambda d: d.replace(
                           microsecond=d.microsecond // 1000 * 1000))
_AMOUNT = st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False,
                      allow_infinity=False)


def _raw_strategy(rule, system):
    hs = system is SystemName.HUBSPOT
    if rule.values is not None:
        keys = sorted(rule.values)
        if rule.transform.name == "multi_select":
            return st.lists(st.sampled_from(keys), min_size=1, unique=True).map(";".join)
        return st.sampled_from(keys)
    name = rule.transform.name
    if name == "owner_email":
        return st.sampled_from(["71", "72"] if hs else ["005A", "005B"])
    if name in ("number", "currency"):
        return _AMOUNT.map(lambda d: format(d, "f")) if hs else _AMOUNT.map(float)
    if name == "integer":
        ints = st.integers(min_value=0, max_value=10**6)
        return ints.map(str) if hs else ints
    if name == "bool":
        return st.sampled_from(["true", "false"]) if hs else st.booleans()
    if name == "date":
        return st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)).map(
            date.isoformat)
    if name == "datetime":
        suffix = "Z" if hs else "+0000"
        return _MOMENT.map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.")
                           + f"{d.microsecond // 1000:03d}{suffix}")
    if name == "multi_select":
        return st.lists(_ITEM, min_size=1, max_size=4, unique_by=str.strip).map(
            lambda items: ";".join(i.strip() for i in items)).filter(bool)
    if name == "email":
        return st.from_regex(r"[a-z][a-z0-9.]{0,10}@[a-z]{1,10}\.(com|io)", fullmatch=True)
    return _TEXT


@pytest.mark.slow  # a property test per mapping (conftest marks only @given tests itself)
@pytest.mark.parametrize("mapping", MAPPINGS, ids=lambda m: f"{m.file.parent.name}/{m.file.name}")
def test_round_trip_keeps_every_mapped_value(mapping):
    both = {name: rule for name, rule in mapping.fields.items()
            if rule.reads and rule.writes and rule.system_field}
    assert both, "each default mapping syncs some fields both ways"
    record = st.fixed_dictionaries({rule.system_field: _raw_strategy(rule, mapping.system)
                                    for rule in both.values()})

    @settings(max_examples=examples(60), deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(record)
    def round_trip(raw):
        mapped = to_canonical(mapping, raw, OWNERS)
        assert mapped.issues == ()
        back = to_system(mapping, mapped.values, OWNERS)
        assert back.issues == ()
        for rule in both.values():
            assert back.values[rule.system_field] == raw[rule.system_field], rule.name
        # and reading what was written gives the same canonical values
        assert to_canonical(mapping, dict(back.values), OWNERS).values == mapped.values

    round_trip()
