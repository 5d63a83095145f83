"""The SOQL the connector sends: checked API names, the select list a cursor needs, the
incremental query in (SystemModstamp, Id) order, and id lists cut to fit the URL limit.

Pure: literals are written by ``connectors.salesforce.soql_literals``; nothing here calls
Salesforce.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC
from urllib.parse import quote_plus

from connectors.base import Cursor
from connectors.errors import SchemaError
from connectors.salesforce import soql_literals as soql
from connectors.salesforce.errors import SYSTEM

# Salesforce refuses a request whose URI plus headers exceed 16,384 bytes; our headers
# (bearer token, content type, query options) stay far below the 2,384 bytes left over.
MAX_URL_BYTES = 14_000


def api_name(identifier: str) -> str:
    """A checked field/object name; a bad one is a mapping problem, reported as such."""
    try:
        return soql.name(identifier)
    except ValueError as exc:
        raise SchemaError(f"{identifier!r} is not a Salesforce field or object API name; fix "
                          "it in the mapping", system=SYSTEM) from exc


def normalized(cursor: Cursor | None) -> Cursor | None:
    """A cursor in UTC; a naive time (as some databases return) is read as UTC."""
    if cursor is None:
        return None
    moment = cursor.modified_at
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return Cursor(moment, cursor.last_id)


def select_fields(fields: Sequence[str], *, deleted: bool) -> list[str]:
    """Id and SystemModstamp first (the cursor needs them), requested fields, IsDeleted."""
    wanted = ["Id", "SystemModstamp", *fields, *(["IsDeleted"] if deleted else [])]
    seen: dict[str, str] = {}
    for item in wanted:
        seen.setdefault(api_name(item).lower(), item)
    return list(seen.values())


def query_text(obj: str, select: Sequence[str], scope: Mapping[str, str] | None,
          after: Cursor | None, *, ordered: bool) -> str:
    where: list[str] = []
    if after is not None:
        stamp = soql.datetime_literal(after.modified_at)
        if after.last_id:
            where.append(f"(SystemModstamp > {stamp} OR (SystemModstamp = {stamp} "
                         f"AND Id > {soql.quote(after.last_id)}))")
        else:
            where.append(f"SystemModstamp >= {stamp}")
    for name, value in sorted((scope or {}).items()):
        where.append(f"{api_name(name)} = {soql.literal(value)}")
    text = f"SELECT {', '.join(select)} FROM {obj}"
    if where:
        text += " WHERE " + " AND ".join(where)
    return text + (" ORDER BY SystemModstamp, Id" if ordered else "")


def id_chunks(url_prefix_bytes: int, prefix: str, suffix: str,
              ids: Sequence[str]) -> Iterator[list[str]]:
    """Ids in runs whose ``prefix + 'id','id' + suffix`` query URL stays under the limit.

    URL-encoding works character by character, so encoded lengths add up exactly.
    """
    fixed = url_prefix_bytes + len(quote_plus(prefix)) + len(quote_plus(suffix))
    chunk: list[str] = []
    size = fixed
    for record_id in ids:
        item = len(quote_plus(soql.quote(record_id))) + (len(quote_plus(",")) if chunk else 0)
        if chunk and size + item > MAX_URL_BYTES:
            yield chunk
            chunk, size = [], fixed
            item = len(quote_plus(soql.quote(record_id)))
        if size + item > MAX_URL_BYTES:
            raise ValueError(f"the query for id {record_id!r} alone exceeds the URL limit")
        chunk.append(record_id)
        size += item
    if chunk:
        yield chunk
