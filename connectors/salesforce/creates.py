"""Creating deals by key in Salesforce: find what exists, attach accounts, upsert the rest.

A deal to create carries a key for an External ID field (``CreateTarget.key_field``).
One SOQL query finds the keys some record already holds: those records are returned as
they are (``created`` False), not written again, so an AE's edits made since are kept.
The others are sent through the collections upsert on the key field
(``PATCH /composite/sobjects/{Obj}/{KeyField}``): should another process create one in
between, the upsert finds it rather than adding a second record, because Salesforce
keeps an External ID unique.

Accounts: looked up by web domain (``Website`` holds URLs, so candidates come from a
LIKE on the domain and are compared by host), then by exact name (a
namesake with a web address of its own is another company), else created; the
deal's link field (``AccountId``) names it. One query per account, created accounts in
one collection call: a cycle creates a handful of deals, not thousands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

from connectors.base import AccountTarget, CreateTarget, DealCreate, WriteResult
from connectors.salesforce import query
from connectors.salesforce import soql_literals as soql
from connectors.salesforce.records import collection_record, write_result

COLLECTION_SIZE = 200

Pages = Callable[[str, str], Iterator[list[dict[str, Any]]]]
Collection = Callable[[str, str, list[dict[str, Any]], str], list[dict[str, Any]]]


def create_deals(target: CreateTarget, deals: Sequence[DealCreate], *, pages: Pages,
                 collection: Collection) -> list[WriteResult]:
    """See the module docstring; ``pages(obj, soql)`` yields query pages and
    ``collection(path, method, records, subject)`` makes one collection call."""
    obj = query.api_name(target.object)
    key_field = query.api_name(target.key_field)
    existing = _existing(obj, key_field, [deal.key for deal in deals], pages)
    results: dict[str, WriteResult] = {
        deal.key: WriteResult(deal.key, existing[deal.key.lower()], True, created=False)
        for deal in deals if deal.key.lower() in existing}
    missing = [deal for deal in dict((d.key, d) for d in deals).values()
               if deal.key not in results]
    accounts: dict[tuple[str | None, str | None], str | None] = {}
    account = target.account
    if account is not None and account.link_field:
        accounts = _accounts(account, missing, pages, collection)
    for start in range(0, len(missing), COLLECTION_SIZE):
        chunk = missing[start:start + COLLECTION_SIZE]
        records = []
        for deal in chunk:
            values = {**deal.fields, key_field: deal.key}
            found = accounts.get(_account_key(deal))
            if account is not None and account.link_field and found:
                values[query.api_name(account.link_field)] = found
            records.append(collection_record(obj, values))
        outcomes = collection(f"composite/sobjects/{obj}/{key_field}", "PATCH", records,
                              f"upsert {obj} by {key_field}")
        for deal, outcome in zip(chunk, outcomes, strict=True):
            results[deal.key] = write_result(deal.key, None, outcome, created=None)
    return [results[deal.key] for deal in deals]


def _existing(obj: str, key_field: str, keys: Sequence[str],
              pages: Pages) -> dict[str, str]:
    """Lower-cased key -> the id of the record holding it (External IDs compare without
    case)."""
    found: dict[str, str] = {}
    wanted = list(dict.fromkeys(keys))
    for start in range(0, len(wanted), COLLECTION_SIZE):
        listed = soql.in_list(wanted[start:start + COLLECTION_SIZE])
        text = f"SELECT Id, {key_field} FROM {obj} WHERE {key_field} IN {listed}"
        for records in pages(obj, text):
            for record in records:
                value = record.get(key_field)
                if isinstance(value, str):
                    found[value.lower()] = str(record["Id"])
    return found


def _account_key(deal: DealCreate) -> tuple[str | None, str | None]:
    """(domain, None) when the deal has a domain - one account per domain, whatever
    name each registration spells - else (None, name)."""
    domain = _host(deal.account_domain)
    return (domain, None) if domain else (None, (deal.account_name or "").strip() or None)


def _accounts(target: AccountTarget, deals: Sequence[DealCreate], pages: Pages,
              collection: Collection) -> dict[tuple[str | None, str | None], str | None]:
    """(domain, name) -> the account id found or created (None: nothing to go by, or the
    account could not be created; the deal is created without one)."""
    obj = query.api_name(target.object)
    name_field = query.api_name(target.name_field)
    domain_field = query.api_name(target.domain_field) if target.domain_field else None
    out: dict[tuple[str | None, str | None], str | None] = {}
    to_create: list[tuple[str | None, str | None]] = []
    names = {_account_key(deal): (deal.account_name or "").strip() or None for deal in deals}
    for wanted in names:
        domain, name = wanted[0], names[wanted]
        found = None
        if domain and domain_field:
            pattern = soql.like_pattern(domain, prefix=True, suffix=True)
            text = (f"SELECT Id, {domain_field} FROM {obj} WHERE {domain_field} LIKE "
                    f"{pattern} ORDER BY Id LIMIT 50")
            found = next((str(r["Id"]) for records in pages(obj, text) for r in records
                          if _host(r.get(domain_field)) == domain), None)
        if found is None and name:
            # A namesake with a web address of its own is another company.
            other = f" AND {domain_field} = null" if domain and domain_field else ""
            text = (f"SELECT Id FROM {obj} WHERE {name_field} = {soql.quote(name)}{other} "
                    "ORDER BY Id LIMIT 1")
            found = next((str(r["Id"]) for records in pages(obj, text) for r in records),
                         None)
        out[wanted] = found
        if found is None and (name or domain):
            to_create.append(wanted)
    for start in range(0, len(to_create), COLLECTION_SIZE):
        chunk = to_create[start:start + COLLECTION_SIZE]
        records = []
        for wanted in chunk:
            domain, name = wanted[0], names[wanted]
            values: dict[str, Any] = {name_field: name or domain}
            if domain and domain_field:
                values[domain_field] = domain
            records.append(collection_record(obj, values))
        outcomes = collection("composite/sobjects", "POST", records, f"create {obj}")
        for wanted, outcome in zip(chunk, outcomes, strict=True):
            out[wanted] = str(outcome["id"]) if outcome.get("success") else None
    return out


def _host(value: Any) -> str | None:
    """A web address or domain as a bare lower-case host: https://www.Acme.com/x -> acme.com."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().lower()
    host = urlsplit(text if "//" in text else "//" + text).hostname or ""
    return host.removeprefix("www.") or None
