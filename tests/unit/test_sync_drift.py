"""Schema drift: which mapped fields a describe() answer says to leave alone, and why."""

from __future__ import annotations

from connectors.base import FieldSchema, ObjectSchema
from handoff_sync.mapping.loader import load_mappings
from handoff_sync.mapping.system.describe import check_against_describe
from handoff_sync.sync.drift import detect_drift, drifted_fields
from handoff_sync.testing.builders import DEFAULT_MAPPINGS


def described(names: set[str], *, read_only: frozenset[str] = frozenset(),
              object_name: str = "Opportunity") -> ObjectSchema:
    return ObjectSchema(object_name, {
        name: FieldSchema(name, "string", createable=name not in read_only,
                          updateable=name not in read_only) for name in names},
        case_insensitive=True)


def test_a_complete_writable_object_has_no_drift() -> None:
    crm = load_mappings(DEFAULT_MAPPINGS).crm
    assert detect_drift(crm, described(crm.system_fields())) == {}


def test_a_deleted_field_and_a_read_only_output_are_named_with_the_reason() -> None:
    crm = load_mappings(DEFAULT_MAPPINGS).crm
    fields = crm.system_fields() - {"Budget__c"}
    drift = detect_drift(crm, described(fields, read_only=frozenset({"Handoff_Brief__c"})))
    assert set(drift) == {"salesforce.Opportunity.Budget__c",
                          "salesforce.Opportunity.Handoff_Brief__c"}
    assert "deleted or renamed" in drift["salesforce.Opportunity.Budget__c"]
    assert "read-only" in drift["salesforce.Opportunity.Handoff_Brief__c"]
    assert drifted_fields(drift, "salesforce", "Opportunity") == {"Budget__c",
                                                                  "Handoff_Brief__c"}
    assert drifted_fields(drift, "hubspot", "deals") == set()


def test_a_read_only_field_the_mapping_only_reads_is_not_drift() -> None:
    crm = load_mappings(DEFAULT_MAPPINGS).crm
    assert detect_drift(crm, described(crm.system_fields(),
                                       read_only=frozenset({"StageName"}))) == {}


def test_drift_and_the_live_check_are_one_check() -> None:
    """Every field the sync leaves alone is a problem `mappings validate --live` reports on
    that field's line, and every missing or read-only written field it reports is drift:
    an admin who runs the live check sees exactly what the sync would skip."""
    crm = load_mappings(DEFAULT_MAPPINGS).crm
    gone = {"Budget__c", "Economic_Buyer__c"}
    frozen = frozenset({"Handoff_Brief__c", "Handoff_Gate_Status__c", "StageName"})
    schema = described(crm.system_fields() - gone, read_only=frozen)
    drift = drifted_fields(detect_drift(crm, schema), "salesforce", "Opportunity")
    rules = {rule.system_field: rule for rule in (*crm.fields.values(), *crm.outputs.values())}
    flagged = {path[-2] if path[-1] == "field" else None
               for path in (p.path for p in check_against_describe(crm, schema))}
    by_field = {rules[name].path[-1] for name in drift}
    assert drift == gone | {name for name in frozen if rules[name].writes
                            or rules[name] in crm.outputs.values()}
    assert by_field <= flagged
