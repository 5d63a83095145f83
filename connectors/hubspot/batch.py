"""Batch writes: cutting inputs into calls, reading multi-status answers, isolating failures.

Pure logic around a ``send`` function the connector supplies (one batch call with retries).
Whatever goes wrong, every input ends with one result of its own:

* 207 multi-status: ``errors[]`` name the failed inputs (by id, unique key or
  ``objectWriteTraceId``); everything else in the batch was written. Every input carries a
  trace id (its position), so even creates can be blamed one by one.
* a whole-batch 400/409 (``BatchRejected``): nothing was written. The inputs the answer
  names fail, the rest is sent again; when it names none, the inputs that set a property
  the answer mentions are tried apart from the others, and failing that the batch is
  halved until the bad record stands alone. Each good record is written exactly once,
  because a rejected batch wrote nothing.
* a create whose fate is unknown (the connection dropped after sending, HTTP 500) is not
  repeated: its records come back as OUTCOME_UNKNOWN rather than risk a duplicate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from connectors.base import RecordError
from connectors.hubspot.errors import (
    BatchRejected,
    OutcomeUnknown,
    named_inputs,
    record_error,
)
from connectors.hubspot.facts import MAX_BATCH

Match = Literal["id", "key", "order"]


@dataclass(frozen=True, slots=True)
class Input:
    """One input of a batch: its position in the caller's list, its id or unique key
    (empty for a create) and the properties it writes."""

    index: int
    key: str
    properties: Mapping[str, Any]

    @property
    def trace_id(self) -> str:
        return str(self.index)

    def names(self) -> set[str]:
        """How an error entry may refer to this input (see ``named_inputs``)."""
        names = {f"objectWriteTraceId:{self.trace_id}"}
        if self.key:
            names.add(f"id:{self.key}")
        return names


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one input: the object HubSpot returned, or why it failed."""

    record: Mapping[str, Any] | None
    error: RecordError | None = None


Send = Callable[[Sequence[Input]], Mapping[str, Any]]

NO_RESULT = RecordError("NO_RESULT", "HubSpot's answer to the batch did not mention this "
                        "record; it is written again next cycle", retriable=True)


def chunks(inputs: Sequence[Input], size: int = MAX_BATCH) -> Iterator[list[Input]]:
    """Batches of at most ``size`` inputs, none holding one id or key twice (HubSpot
    refuses duplicate ids in a batch; a repeated key goes to a later batch, so writes to
    one record still apply in input order)."""
    pending = list(inputs)
    while pending:
        batch: list[Input] = []
        keys: set[str] = set()
        later: list[Input] = []
        for item in pending:
            if len(batch) < size and (not item.key or item.key not in keys):
                batch.append(item)
                if item.key:
                    keys.add(item.key)
            else:
                later.append(item)
        yield batch
        pending = later


def isolate(inputs: Sequence[Input], send: Send, *, match: Match,
            key_property: str | None = None) -> dict[int, Outcome]:
    """Send one batch; if HubSpot rejects it as a whole, narrow down the records at fault."""
    try:
        body = send(inputs)
    except BatchRejected as rejected:
        return _split(inputs, rejected, send, match, key_property)
    except OutcomeUnknown as unknown:
        error = RecordError("OUTCOME_UNKNOWN", f"{unknown}; it may or may not have been "
                            "written, so it is not repeated automatically: check HubSpot "
                            "before writing it again", retriable=False)
        return {item.index: Outcome(None, error) for item in inputs}
    return outcomes(inputs, body, match=match, key_property=key_property)


def _split(inputs: Sequence[Input], rejected: BatchRejected, send: Send, match: Match,
           key_property: str | None) -> dict[int, Outcome]:
    failed = Outcome(None, rejected.error)
    if len(inputs) == 1:
        return {inputs[0].index: failed}
    named = [item for item in inputs if item.names() & rejected.named]
    if named:
        result = {item.index: failed for item in named}
        rest = [item for item in inputs if item not in named]
        if rest:
            result.update(isolate(rest, send, match=match, key_property=key_property))
        return result
    suspects = [item for item in inputs if rejected.properties & set(item.properties)]
    if suspects and len(suspects) < len(inputs):
        groups = [[item for item in inputs if item not in suspects], suspects]
    else:
        half = len(inputs) // 2
        groups = [list(inputs[:half]), list(inputs[half:])]
    result = {}
    for group in groups:
        result.update(isolate(group, send, match=match, key_property=key_property))
    return result


def outcomes(inputs: Sequence[Input], body: Mapping[str, Any], *, match: Match,
             key_property: str | None = None) -> dict[int, Outcome]:
    """One outcome per input from a 200/201/207 batch answer.

    Failed inputs are those an ``errors[]`` entry names. Results are matched to the rest by
    id (update), by the unique key property (upsert), or in order (create: HubSpot answers
    in input order, and a trace id on the result wins when present)."""
    by_name: dict[str, Input] = {}
    for item in inputs:
        for name in item.names():
            by_name[name] = item
    result: dict[int, Outcome] = {}
    for entry in _list(body.get("errors")):
        error = record_error(entry)
        for name in named_inputs(entry):
            named = by_name.get(name)
            if named is not None:
                result[named.index] = Outcome(None, error)
    waiting = [item for item in inputs if item.index not in result]
    records = _list(body.get("results"))
    for item, record in _pair(waiting, records, match, key_property):
        result[item.index] = Outcome(record)
    for item in inputs:
        result.setdefault(item.index, Outcome(None, NO_RESULT))
    return result


def _pair(waiting: list[Input], records: list[dict[str, Any]], match: Match,
          key_property: str | None) -> Iterable[tuple[Input, dict[str, Any]]]:
    traced = {str(r["objectWriteTraceId"]): r for r in records if r.get("objectWriteTraceId")}
    if traced:
        return [(item, traced[item.trace_id]) for item in waiting if item.trace_id in traced]
    if match == "order":
        return list(zip(waiting, records, strict=False))
    found: dict[str, dict[str, Any]] = {}
    for record in records:
        if match == "id":
            found[str(record.get("id"))] = record
        else:
            properties = record.get("properties") or {}
            value = properties.get(key_property) if key_property else None
            if value is not None:
                found[str(value)] = record
    return [(item, found[item.key]) for item in waiting if item.key in found]


def _list(raw: Any) -> list[dict[str, Any]]:
    return [item for item in raw if isinstance(item, dict)] if isinstance(raw, list) else []
