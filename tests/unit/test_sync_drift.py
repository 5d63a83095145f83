"""Schema drift: which mapped fields a describe() answer says to leave alone, and why."""

from __future__ import annotations

from handoff_sync.mapping.loader import load_mappings
from handoff_sync.mapping.system.describe import SystemField, SystemObject
from handoff_sync.sync.drift import detect_drift, drifted_fields
from handoff_sync.testing.builders import DEFAULT_MAPPINGS


def described(names: set[str], *, read_only: frozenset[str] = frozenset(),
              object_name: str = "Opportunity") -> SystemObject:
    return SystemObject(object_name, {
        name: SystemField(name, "string", createable=name not in read_only,
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
