"""Creating deals by key in HubSpot: find what exists, upsert the rest, attach companies.

A deal to create carries a key for a property with unique values
(``CreateTarget.key_field``). A batch read by that property (``idProperty``; not search,
so a deal created a moment ago is found too) returns the keys some deal already holds:
those are returned as they are (``created`` False), not written again. The others go
through batch upsert on the key property: should another process create one in between,
HubSpot updates it rather than adding a second deal, because the property is unique.

Companies: remembered once found or created (search lags behind writes, so a company
made a cycle ago may not be searchable yet), else searched by domain, then by exact name (a namesake
with a domain of its own is another company), else created (batch create); each
created or found deal is then associated with its company in one v4 batch call (an
association that exists already changes nothing, so a repeat is harmless).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import structlog
from hubspot.crm.associations.v4 import (
    AssociationSpec,
    BatchInputPublicAssociationMultiPost,
    PublicAssociationMultiPost,
)
from hubspot.crm.associations.v4 import PublicObjectId as AssociationEnd
from hubspot.crm.objects import (
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchReadInputSimplePublicObjectId,
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectId,
)

from connectors.base import (
    AccountTarget,
    CreateTarget,
    DealCreate,
    RecordError,
    WriteResult,
)
from connectors.errors import SchemaError
from connectors.hubspot.batch import Input, Outcome, chunks, isolate
from connectors.hubspot.errors import SYSTEM
from connectors.hubspot.facts import MAX_BATCH
from connectors.hubspot.records import body_of, context_ids, dicts, results_of
from connectors.hubspot.schema import PropertySchema
from connectors.hubspot.transport import HubSpotTransport
from connectors.hubspot.writes import send_upsert

log = structlog.get_logger("connectors.hubspot")

HUBSPOT_DEFINED = "HUBSPOT_DEFINED"
AccountKey = tuple[str | None, str | None]  # (domain, name)


class DealCreator:
    """``Connector.create_deals`` for one HubSpot account."""

    def __init__(self, transport: HubSpotTransport, batch_api: Any, search_api: Any,
                 associations_api: Any, schema: PropertySchema) -> None:
        self._transport = transport
        self._batch = batch_api
        self._search = search_api
        self._associations = associations_api
        self._schema = schema
        # (company object, account key) -> the company found or created for it earlier:
        # search lags behind writes, so a company made a cycle ago may not be found yet.
        self._known: dict[tuple[str, AccountKey], str] = {}

    def create_deals(self, target: CreateTarget,
                     deals: Sequence[DealCreate]) -> list[WriteResult]:
        if not deals:
            return []
        names = sorted({n for d in deals for n in d.fields} | {target.key_field})
        self._schema.require(target.object, names, writing=True)
        key = self._schema.definitions(target.object)[target.key_field]
        if not key.get("hasUniqueValue"):
            raise SchemaError(f"HubSpot {target.object}.{target.key_field} is not a unique "
                              "property; created deals are keyed by it, so create it with "
                              "'unique values' on", system=SYSTEM)
        existing = self._existing(target, [deal.key for deal in deals])
        results: dict[str, WriteResult] = {
            deal.key: WriteResult(deal.key, existing[deal.key], True, created=False)
            for deal in deals if deal.key in existing}
        missing = [deal for deal in dict((d.key, d) for d in deals).values()
                   if deal.key not in results]
        inputs = [Input(index, deal.key, deal.fields) for index, deal in enumerate(missing)]
        done: dict[int, Outcome] = {}
        for batch in chunks(inputs):
            done.update(isolate(batch, lambda b: send_upsert(
                self._transport, self._batch, target.object, target.key_field, b),
                match="key", key_property=target.key_field))
        for index, deal in enumerate(missing):
            outcome = done[index]
            record = outcome.record or {}
            results[deal.key] = WriteResult(
                deal.key, str(record["id"]) if record else None, outcome.error is None,
                created=bool(record.get("new")) and outcome.error is None, error=outcome.error)
        account = target.account
        if account is not None and account.association_type_id is not None:
            self._attach(target.object, account, deals, results)
        return [results[deal.key] for deal in deals]

    # --- deals ----------------------------------------------------------------------
    def _existing(self, target: CreateTarget, keys: Sequence[str]) -> dict[str, str]:
        """Key -> the id of the deal holding it (keys no deal holds are left out)."""
        found: dict[str, str] = {}
        wanted = list(dict.fromkeys(keys))
        for start in range(0, len(wanted), MAX_BATCH):
            body = BatchReadInputSimplePublicObjectId(
                properties=[target.key_field], properties_with_history=[],
                id_property=target.key_field,
                inputs=[SimplePublicObjectId(id=key) for key in wanted[start:start + MAX_BATCH]])

            def batch_read(kw: dict[str, Any],
                           b: BatchReadInputSimplePublicObjectId = body) -> Any:
                return self._batch.read_with_http_info(target.object, b, **kw)

            reply = self._transport.call(f"batch read {target.object} by "
                                         f"{target.key_field}", "read", batch_read)
            for record in results_of(reply):
                value = (record.get("properties") or {}).get(target.key_field)
                if value is not None:
                    found[str(value)] = str(record["id"])
        return found

    # --- companies ------------------------------------------------------------------
    def _attach(self, deal_object: str, account: AccountTarget, deals: Sequence[DealCreate],
                results: dict[str, WriteResult]) -> None:
        """Associate each written deal with its company (found or created); a failure marks
        that deal's result (it exists; the next creation attaches it)."""
        written = [deal for deal in deals if results[deal.key].ok and results[deal.key].id]
        wanted = {deal.key: _account_key(deal) for deal in written}
        names = {wanted[deal.key]: (deal.account_name or "").strip() or None
                 for deal in written}
        companies = self._companies(account, [k for k in names if k != (None, None)], names)
        attached = [deal for deal in written if companies.get(wanted[deal.key])]
        links = [Input(index, str(results[deal.key].id), {"to": companies[wanted[deal.key]],
                                                          "deal": deal.key})
                 for index, deal in enumerate(attached)]
        if not links:
            return
        spec = [AssociationSpec(association_category=HUBSPOT_DEFINED,
                                association_type_id=account.association_type_id)]

        def send(batch: Sequence[Input]) -> Mapping[str, Any]:
            body = BatchInputPublicAssociationMultiPost(inputs=[
                PublicAssociationMultiPost(_from=AssociationEnd(id=item.key),
                                           to=AssociationEnd(id=item.properties["to"]),
                                           types=spec) for item in batch])
            reply = self._transport.call(
                f"associate {deal_object} with {account.object}", "associate",
                lambda kw: self._associations.create_with_http_info(
                    deal_object, account.object, body, **kw), writing=True)
            errors = [{**entry, "context": {"ids": context_ids(entry, "fromObjectId")}}
                      for entry in dicts(body_of(reply).get("errors"))]
            failed = {deal_id for entry in errors for deal_id in entry["context"]["ids"]}
            return {"results": [{"id": item.key} for item in batch if item.key not in failed],
                    "errors": errors}

        for batch in chunks(links):
            for index, outcome in isolate(batch, send, match="id").items():
                if outcome.error is None:
                    continue
                key = links[index].properties["deal"]
                # The company may be gone (merged, deleted): look it up afresh next time.
                self._known.pop((account.object, wanted[key]), None)
                result = results[key]
                results[key] = WriteResult(result.ref, result.id, False, result.created,
                                           RecordError("ASSOCIATION_FAILED", "the deal was "
                                                       "created but not attached to its "
                                                       f"company: {outcome.error.message}",
                                                       retriable=True))

    def _companies(self, account: AccountTarget, wanted: Sequence[AccountKey],
                   names: Mapping[AccountKey, str | None]) -> dict[AccountKey, str | None]:
        """Account key -> the company id found or created (None: not created); ``names``:
        the company name to look up and create each with."""
        out: dict[AccountKey, str | None] = {}
        to_create: list[AccountKey] = []
        for key in wanted:
            domain, name = key[0], names[key]
            found = self._known.get((account.object, key))
            if found is None and domain and account.domain_field:
                found = self._find(account, account.domain_field, domain)
            if found is None and name:
                # A namesake with a domain of its own is another company.
                found = self._find(account, account.name_field, name,
                                   without=account.domain_field if domain else None)
            out[key] = found
            if found is None:
                to_create.append(key)
        inputs = [Input(index, "", {account.name_field: names[key] or key[0],
                                    **({account.domain_field: key[0]}
                                       if key[0] and account.domain_field else {})})
                  for index, key in enumerate(to_create)]
        for batch in chunks(inputs, MAX_BATCH):
            for index, outcome in isolate(batch, lambda b: self._send_create(account, b),
                                          match="order").items():
                record = outcome.record
                out[to_create[index]] = str(record["id"]) if record else None
        self._known.update({(account.object, key): found for key, found in out.items()
                            if found is not None})
        return out

    def _find(self, account: AccountTarget, field: str, value: str,
              without: str | None = None) -> str | None:
        """The first company whose ``field`` equals ``value`` (and that has no
        ``without`` property, when given)."""
        filters = [Filter(property_name=field, operator="EQ", value=value)]
        if without:
            filters.append(Filter(property_name=without, operator="NOT_HAS_PROPERTY"))
        body = PublicObjectSearchRequest(
            filter_groups=[FilterGroup(filters=filters)],
            properties=[field], sorts=[], limit=1, after="0")
        reply = self._transport.call(
            f"search {account.object}", "search",
            lambda kw: self._search.do_search_with_http_info(account.object, body, **kw),
            search=True)
        records = results_of(reply)
        return str(records[0]["id"]) if records else None

    def _send_create(self, account: AccountTarget, batch: Sequence[Input]) -> Mapping[str, Any]:
        body = BatchInputSimplePublicObjectBatchInputForCreate(inputs=[
            SimplePublicObjectBatchInputForCreate(properties=dict(item.properties),
                                                  object_write_trace_id=item.trace_id)
            for item in batch])
        reply = self._transport.call(
            f"batch create {account.object}", "write",
            lambda kw: self._batch.create_with_http_info(account.object, body, **kw),
            writing=True, repeatable=False)
        return body_of(reply)


def _account_key(deal: DealCreate) -> AccountKey:
    """(domain, None) when the deal has a domain - one company per domain, whatever name
    each registration spells - else (None, name)."""
    domain = (deal.account_domain or "").strip().lower().removeprefix("www.") or None
    return (domain, None) if domain else (None, (deal.account_name or "").strip() or None)
