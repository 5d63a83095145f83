"""How one record's write fails, as Salesforce reports it: :class:`RecordError` (errorCode,
message, fields) in the single-record and the collection shape, the allOrNone
roll-back error, and the several records an external id may match."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_ROLLED_BACK = (
    "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header"
)


class RecordError(Exception):
    """One record's failure, as Salesforce reports it (errorCode, message, fields)."""

    def __init__(
        self, code: str, message: str, fields: Iterable[str] | None = (), status: int = 400
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.fields = None if fields is None else list(fields)  # None: REST omits the key
        self.status = status

    def rest_error(self) -> dict[str, Any]:
        """The single-record REST shape (errorCode)."""
        error: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            error["fields"] = self.fields
        return error

    def collection_error(self) -> dict[str, Any]:
        """The per-record shape of sObject Collections (statusCode)."""
        return {"statusCode": self.code, "message": self.message, "fields": self.fields or []}


def rolled_back_error() -> RecordError:
    return RecordError("ALL_OR_NONE_OPERATION_ROLLED_BACK", _ROLLED_BACK)


class MultipleMatches(Exception):
    """An external id value that matches several records (REST answers 300)."""

    def __init__(self, ids: list[str]) -> None:
        super().__init__(f"{len(ids)} records match")
        self.ids = ids
