"""Describe documents of the emulated org, built from :mod:`.schema`.

Shapes follow DescribeGlobalResult / DescribeSObjectResult / Field as the REST API returns
them (crm-api-reference.md 2.3); keys a connector never reads are present with the values
a plain org gives, so code that indexes them does not trip over a missing key.
"""

from __future__ import annotations

from typing import Any

from handoff_sync.sandbox.salesforce.schema import OBJECTS, SfField, SfObject

_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "currency": "xsd:double",
    "double": "xsd:double",
    "percent": "xsd:double",
    "int": "xsd:int",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "boolean": "xsd:boolean",
}
_UNSORTABLE = frozenset({"textarea", "multipicklist"})
_NUMERIC = frozenset({"currency", "double", "percent", "int"})


def _urls(obj: SfObject, version: str) -> dict[str, str]:
    base = f"/services/data/v{version}/sobjects/{obj.name}"
    return {
        "compactLayouts": f"{base}/describe/compactLayouts",
        "rowTemplate": f"{base}/{{ID}}",
        "approvalLayouts": f"{base}/describe/approvalLayouts",
        "defaultValues": f"{base}/defaultValues?recordTypeId&fields",
        "listviews": f"{base}/listviews",
        "describe": f"{base}/describe",
        "quickActions": f"{base}/quickActions",
        "layouts": f"{base}/describe/layouts",
        "sobject": base,
    }


def object_summary(obj: SfObject, version: str) -> dict[str, Any]:
    """One entry of the global describe (also ``objectDescribe`` of the basic info)."""
    return {
        "activateable": False,
        "createable": obj.createable,
        "custom": obj.custom,
        "customSetting": False,
        "deepCloneable": False,
        "deletable": obj.deletable,
        "deprecatedAndHidden": False,
        "feedEnabled": not obj.custom,
        "hasSubtypes": False,
        "isInterface": False,
        "isSubtype": False,
        "keyPrefix": obj.key_prefix,
        "label": obj.label,
        "labelPlural": obj.label_plural,
        "layoutable": True,
        "mergeable": obj.name == "Account",
        "mruEnabled": True,
        "name": obj.name,
        "queryable": True,
        "replicateable": True,
        "retrieveable": True,
        "searchable": True,
        "triggerable": True,
        "undeletable": obj.deletable,
        "updateable": obj.updateable,
        "urls": _urls(obj, version),
    }


def describe_global(version: str) -> dict[str, Any]:
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [object_summary(obj, version) for obj in OBJECTS.values()],
    }


def describe_object(obj: SfObject, version: str) -> dict[str, Any]:
    """The full DescribeSObjectResult."""
    return {
        **object_summary(obj, version),
        "actionOverrides": [],
        "childRelationships": _child_relationships(obj),
        "compactLayoutable": True,
        "defaultImplementation": None,
        "extendedBy": None,
        "extendsInterfaces": None,
        "fields": [describe_field(fld) for fld in obj.fields],
        "implementedBy": None,
        "implementsInterfaces": None,
        "listviewable": None,
        "lookupLayoutable": None,
        "namedLayoutInfos": [],
        "networkScopeFieldName": None,
        "recordTypeInfos": [],
        "searchLayoutable": True,
        "sobjectDescribeOption": "FULL",
        "supportedScopes": [{"label": "All records", "name": "everything"},
                            {"label": "My records", "name": "mine"}],
    }


def _child_relationships(obj: SfObject) -> list[dict[str, Any]]:
    """Lookups from other objects to this one (e.g. Task.WhatId -> Opportunity)."""
    children = []
    for other in OBJECTS.values():
        for fld in other.fields:
            if obj.name in fld.reference_to and fld.name not in ("CreatedById",
                                                                  "LastModifiedById"):
                children.append({
                    "cascadeDelete": False, "childSObject": other.name,
                    "deprecatedAndHidden": False, "field": fld.name, "junctionIdListNames": [],
                    "junctionReferenceTo": [], "relationshipName": None,
                    "restrictedDelete": False,
                })
    return children


def describe_field(fld: SfField) -> dict[str, Any]:
    """One entry of ``fields[]``."""
    kind = fld.type
    return {
        "aggregatable": kind not in _UNSORTABLE and kind != "boolean",
        "autoNumber": fld.auto_number,
        "byteLength": fld.length * 3 if fld.length else 0,
        "calculated": False,
        "calculatedFormula": None,
        "cascadeDelete": False,
        "caseSensitive": False,
        "compoundFieldName": None,
        "controllerName": None,
        "createable": fld.createable,
        "custom": fld.custom,
        "defaultValue": False if kind == "boolean" else fld.default,
        "defaultValueFormula": None,
        "defaultedOnCreate": fld.defaulted_on_create,
        "dependentPicklist": False,
        "deprecatedAndHidden": False,
        "digits": 0,
        "displayLocationInDecimal": False,
        "encrypted": False,
        "externalId": fld.external_id,
        "extraTypeInfo": "plaintextarea" if kind == "textarea" else None,
        "filterable": kind != "textarea" or fld.length <= 255,
        "filteredLookupInfo": None,
        "groupable": kind not in _UNSORTABLE and kind not in _NUMERIC and kind != "datetime",
        "highScaleNumber": False,
        "htmlFormatted": False,
        "idLookup": fld.name == "Id" or fld.external_id or fld.name == "Username",
        "inlineHelpText": None,
        "label": fld.label,
        "length": fld.length if kind not in _NUMERIC else 0,
        "mask": None,
        "maskType": None,
        "name": fld.name,
        "nameField": fld.name == "Name" or (fld.name == "Subject"),
        "namePointing": len(fld.reference_to) > 1,
        "nillable": fld.nillable,
        "permissionable": fld.nillable and (fld.createable or fld.updateable),
        "picklistValues": _picklist_values(fld),
        "polymorphicForeignKey": len(fld.reference_to) > 1,
        "precision": fld.precision,
        "queryByDistance": False,
        "referenceTargetField": None,
        "referenceTo": list(fld.reference_to),
        "relationshipName": fld.relationship_name,
        "relationshipOrder": None,
        "restrictedDelete": False,
        "restrictedPicklist": fld.restricted,
        "scale": fld.scale,
        "searchPrefilterable": kind == "reference",
        "soapType": _SOAP_TYPES.get(kind, "xsd:string"),
        "sortable": kind not in _UNSORTABLE,
        "type": kind,
        "unique": fld.unique,
        "updateable": fld.updateable,
        "writeRequiresMasterRead": False,
    }


def _picklist_values(fld: SfField) -> list[dict[str, Any]]:
    return [
        {"active": True, "defaultValue": value == fld.default, "label": value,
         "validFor": None, "value": value}
        for value in fld.picklist
    ]
