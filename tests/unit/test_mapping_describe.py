"""The default packs against the sandbox's definitions (what its describe() serves).

The product talks to the sandbox only over HTTP; these tests read its object definitions
directly (salesforce_schema, hubspot_schema) and turn them into the describe-like
ObjectSchemas that `mappings validate --live` will build from the connectors.
"""

import dataclasses
from pathlib import Path

import pytest

from connectors.base import FieldSchema, ObjectSchema
from handoff_sync.mapping.loader import load_mappings
from handoff_sync.mapping.system.describe import check_against_describe
from handoff_sync.model import SystemName
from handoff_sync.sandbox.hubspot import schema as hubspot_schema
from handoff_sync.sandbox.salesforce import schema as salesforce_schema

ROOT = Path(__file__).resolve().parents[2]


def salesforce_object(name: str) -> ObjectSchema:
    obj = salesforce_schema.find_object(name)
    assert obj is not None, name
    fields = {
        f.name: FieldSchema(
            name=f.name, type=f.type, createable=f.createable, updateable=f.updateable,
            nillable=f.nillable, length=f.length,
            picklist_values=f.picklist if f.type in ("picklist", "multipicklist",
                                                     "combobox") else None,
            restricted_picklist=f.restricted, reference_to=f.reference_to,
        )
        for f in obj.fields
    }
    return ObjectSchema(obj.name, fields, case_insensitive=True)


def hubspot_object(object_type: str) -> ObjectSchema:
    fields = {}
    for prop in hubspot_schema.PROPERTIES[object_type]:
        type_ = prop.type
        if type_ == "enumeration" and prop.field_type == "checkbox":
            type_ = "multi_enumeration"
        writable = not (prop.read_only_value or prop.calculated)
        options = tuple(value for _, value in prop.options)
        picklist = options if prop.type == "enumeration" and options else None
        fields[prop.name] = FieldSchema(
            name=prop.name, type=type_, createable=writable, updateable=writable,
            picklist_values=picklist, restricted_picklist=picklist is not None,
        )
    pipelines = {p.id: tuple(s.id for s in p.stages)
                 for p in hubspot_schema.PIPELINES.get(object_type, ())}
    return ObjectSchema(object_type, fields, pipeline_field="pipeline" if pipelines else None,
                        stage_field="dealstage" if pipelines else None, pipelines=pipelines)

PACKS = [ROOT / "mappings", ROOT / "mappings" / "packs" / "salesforce-prm-hubspot-crm"]


def described(mapping):
    if mapping.system is SystemName.SALESFORCE:
        return salesforce_object(mapping.object), salesforce_object("Task")
    return hubspot_object(mapping.object), hubspot_object("tasks")


def described_partners(mapping):
    """The partner account object of a PRM mapping, as the sandbox describes it."""
    if mapping.system is SystemName.SALESFORCE:
        return salesforce_object(mapping.partners.object)
    return hubspot_object(mapping.partners.object)


@pytest.mark.parametrize("folder", PACKS, ids=["pack-a", "pack-b"])
def test_default_packs_fit_the_sandbox_definitions(folder):
    mappings = load_mappings(folder)
    for mapping in (mappings.prm, mappings.crm):
        deal_object, task_object = described(mapping)
        partner_object = described_partners(mapping) if mapping.partners else None
        assert check_against_describe(mapping, deal_object, task_object, partner_object) == []
        # and every field named really is described (not skipped by the check)
        for name in mapping.system_fields():
            assert deal_object.get(name) is not None, name
        for rule in mapping.fields.values():
            if rule.values is not None and rule.system_field != "dealstage":
                allowed = deal_object.get(rule.system_field).picklist_values
                assert allowed is not None and set(rule.values) <= set(allowed), rule.name
    # Each pack's PRM reads partner accounts; every field it names is described, and each
    # value map covers the picklist exactly.
    partners = mappings.prm.partners
    assert partners is not None and mappings.crm.partners is None
    account = described_partners(mappings.prm)
    for name in partners.system_fields():
        assert account.get(name) is not None, name
    for rule in partners.fields.values():
        allowed = account.get(rule.system_field).picklist_values
        if rule.values is not None:
            assert allowed is not None and set(rule.values) == set(allowed), rule.name


@pytest.mark.parametrize("folder", PACKS, ids=["pack-a", "pack-b"])
def test_partner_fields_are_checked_against_the_account_object(folder):
    prm = load_mappings(folder).prm
    deal_object, task_object = described(prm)
    account = described_partners(prm)
    rules = prm.partners
    engineers = rules.fields["partner.certified_engineers"].system_field
    conversations = rules.fields["partner.technical_conversations"]
    [(scope_field, partner_value)] = rules.scope.items()
    changed = _changed(_without(account, engineers), conversations.system_field,
                       picklist_values=(*conversations.values, "Architect"))
    changed = _changed(changed, scope_field, picklist_values=("Customer", "Prospect"))
    problems = {(p.line, p.message) for p in check_against_describe(
        prm, deal_object, task_object, changed)}
    first = next(iter(conversations.values))
    assert problems == {
        (line_of(prm.file, f"partner.certified_engineers: {{field: {engineers}"),
         f"{account.name} has no field '{engineers}'"),
        (line_of(prm.file, f"values: {{{first}: "),
         f"{account.name}.{conversations.system_field} has the value 'Architect', which the "
         "value map lacks; records holding it could not be read"),
        (line_of(prm.file, f"{scope_field}: {partner_value}"),
         f"{account.name}.{scope_field} has no value '{partner_value}', so no account would "
         "be a partner"),
    }
    # The partner checks are the ones a sync cycle finds drift in: a gone field is skipped.
    from handoff_sync.sync.drift import detect_drift
    assert detect_drift(prm, deal_object, task_object, _without(account, engineers)) == {
        f"{prm.system.value}.{rules.object}.{engineers}":
            f"{rules.object} has no field {engineers} any more (deleted or renamed)"}


def _pack_a():
    return load_mappings(PACKS[0])


def _without(obj: ObjectSchema, name: str) -> ObjectSchema:
    return dataclasses.replace(obj, fields={k: v for k, v in obj.fields.items() if k != name})


def _changed(obj: ObjectSchema, name: str, **changes) -> ObjectSchema:
    fields = dict(obj.fields)
    fields[name] = dataclasses.replace(fields[name], **changes)
    return dataclasses.replace(obj, fields=fields)


def _messages(mapping, obj, task=None):
    return [(str(p.file.name), p.line, p.message, p.hint)
            for p in check_against_describe(mapping, obj, task)]


def line_of(file: Path, marker: str) -> int:
    return next(n for n, line in enumerate(file.read_text().splitlines(), 1) if marker in line)


def test_a_missing_field_is_reported_at_its_line_with_a_hint():
    crm = _pack_a().crm
    problems = _messages(crm, _without(salesforce_object("Opportunity"), "Budget__c"),
                         salesforce_object("Task"))
    assert problems == [("salesforce.yaml", line_of(crm.file, "budget: {field: Budget__c"),
                         "Opportunity has no field 'Budget__c'", "")]


def test_a_near_miss_field_name_gets_a_hint():
    crm = _pack_a().crm
    opportunity = salesforce_object("Opportunity")
    renamed = dict(opportunity.fields)
    renamed["Budget_Amount__c"] = dataclasses.replace(renamed.pop("Budget__c"),
                                                      name="Budget_Amount__c")
    problems = _messages(crm, dataclasses.replace(opportunity, fields=renamed),
                         salesforce_object("Task"))
    assert problems[0][3] == "did you mean 'Budget_Amount__c'?"


@pytest.mark.parametrize(("field", "changes", "message"), [
    ("Amount", {"type": "string"}, "Opportunity.Amount is of type 'string'"),
    ("Amount", {"updateable": False}, "Opportunity.Amount is read-only"),
    ("Handoff_Gate_Status__c", {"picklist_values": ("Passed", "Blocked")}, None),
    ("Handoff_Stage__c", {"picklist_values": ("1 Pre-Handoff Assessment",)},
     "'2 Joint Discovery' is not a value of Opportunity.Handoff_Stage__c"),
    ("Handoff_Brief__c", {"nillable": False}, "cannot be blank"),
    ("Partner_Rep_Email__c", {"type": "picklist", "picklist_values": ("a@b.c",),
                              "restricted_picklist": True}, "restricted picklist"),
])
def test_incompatibilities_are_reported(field, changes, message):
    crm = _pack_a().crm
    problems = _messages(crm, _changed(salesforce_object("Opportunity"), field, **changes),
                         salesforce_object("Task"))
    if message is None:  # 'Not Required' is mapped but no longer a value
        message = "'Not Required' is not a value of Opportunity.Handoff_Gate_Status__c"
    assert any(message in p[2] for p in problems), problems


def test_hubspot_stage_values_are_checked_against_the_scoped_pipeline():
    prm = _pack_a().prm
    deals = hubspot_object("deals")
    moved = dataclasses.replace(deals, pipelines={**deals.pipelines,
                                                  "9004451": ("9004452", "9004453")})
    problems = _messages(prm, moved, hubspot_object("tasks"))
    assert [p[2] for p in problems] == [f"'{stage}' is not a value of deals.dealstage"
                                        for stage in ("9004454", "9004455", "9004456",
                                                      "9004457")]
    gone = dataclasses.replace(deals, pipelines={"default": ()})
    assert _messages(prm, gone, hubspot_object("tasks"))[0][2] == \
        "no pipeline with id '9004451'"


def test_task_fields_are_checked_against_the_task_object():
    crm = _pack_a().crm
    task = _changed(salesforce_object("Task"), "Handoff_Task_Key__c", createable=False)
    assert [p[2] for p in _messages(crm, salesforce_object("Opportunity"), task)] == [
        "Task.Handoff_Task_Key__c is not writable"]
    assert _messages(crm, salesforce_object("Opportunity"))[0][2].startswith(
        "no description of the task object")


def test_limit_problem_knows_lengths_and_precisions_from_describe():
    from connectors.base import FieldSchema
    from handoff_sync.mapping.system.describe import limit_problem

    name = FieldSchema("Economic_Buyer__c", "string", length=120)
    assert limit_problem(name, "x" * 120) is None
    assert "121 characters long; Economic_Buyer__c holds at most 120" in str(
        limit_problem(name, "x" * 121))
    amount = FieldSchema("Amount", "currency", precision=18, scale=2)
    assert limit_problem(amount, 999_999_999_999_999.5) is None
    assert limit_problem(amount, 9_999_999_999_999_999) is None
    assert "at most 16 digits" in str(limit_problem(amount, 10 ** 16))
    assert limit_problem(amount, 10 ** 400) is not None
    assert limit_problem(amount, None) is None
    # HubSpot numbers are doubles (no precision in describe): only the read bounds apply.
    assert limit_problem(FieldSchema("amount", "number"), "1" * 300) is None
