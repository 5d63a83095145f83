"""Why a cycle failed, as one of a few classes: a metric label and a probe's first word.

A failed cycle's run row keeps one line, ``"<ExceptionName>: <text>"`` (sync.py writes
it); the daemon sees the exception itself. Both map here to a class from ``TABLE``, by
walking the exception's class hierarchy to the first name the table knows. The set is
small and fixed so ``handoff_sync_cycle_failures_total{reason}`` keeps a bounded number
of series whatever the systems say; the text stays in the run row, the log and `status`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from connectors.errors import ConnectorError
from connectors.registry import SYSTEMS
from handoff_sync.safety.redaction import redact

INTERNAL = "internal"

# (exception class name, failure class, what an admin should look at). First match wins
# along the class hierarchy, so subclasses come before their bases.
TABLE: tuple[tuple[str, str, str], ...] = (
    ("AuthError", "auth", "credentials refused: check the connection's token or key"),
    ("PermissionDenied", "permission", "the integration user lacks a scope or permission"),
    ("QuotaExhausted", "quota", "the daily API allowance is used up"),
    ("SchemaError", "schema", "an object or field the mappings name is not in the system"),
    ("CertificateRejected", "tls", "the server's certificate does not verify against ca_file"),
    ("TransientError", "unreachable", "the system did not answer or kept failing"),
    ("RetriesExhausted", "unreachable", "the system did not answer or kept failing"),
    ("ConnectorError", "connector", "the system refused the cycle's requests"),
    ("CycleFailed", "config", "the mappings or the pipeline's connections are invalid"),
    ("SchemaOutdated", "database", "the database schema is not this version's"),
    ("StoreError", "database", "the state database failed"),
)
CLASSES = (*dict.fromkeys(row[1] for row in TABLE), INTERNAL)
_BY_NAME = {name: failure_class for name, failure_class, _ in TABLE}
_NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*):")


# Said only by the daemon (`handoff-sync run`): a one-shot command has no next cycle.
NEXT_CYCLE = "will try again at the next cycle"


def failure_message(exc: BaseException, text: str | None = None, *,
                    next_cycle: bool = False) -> str:
    """A failed run's recorded message, ``"Name: first line"``, with every known secret
    redacted: it is stored, and `status` and /readyz print it. ``text`` replaces
    ``str(exc)`` (the words ``sync.advice`` gives a connector's failure); ``next_cycle``
    (the daemon) adds that the next cycle tries again."""
    lines = (str(exc) if text is None else text).strip().splitlines()
    first = lines[0] if lines else ""
    if next_cycle:
        first = f"{first}; {NEXT_CYCLE}" if first else NEXT_CYCLE
    return redact(f"{type(exc).__name__}: {first}")


def failure_text(message: str) -> str:
    """A recorded message without its leading exception name: the words a person reads
    (the name is for ``classify_message``)."""
    match = _NAME.match(message)
    return message[match.end():].strip() if match else message


def classify(exc: BaseException) -> str:
    """The failure class of an exception a cycle raised; ``internal`` for a bug."""
    return _first_known(cls.__name__ for cls in type(exc).__mro__)


def classify_message(message: str | None) -> str:
    """The failure class of a failed run's stored message (``"Name: text"``)."""
    match = _NAME.match(message or "")
    if match is None:
        return INTERNAL
    name = match.group(1)
    if name in _BY_NAME:
        return _BY_NAME[name]
    known = _connector_errors().get(name)
    return _first_known(c.__name__ for c in known.__mro__) if known else INTERNAL


INTERNAL_ADVICE = ("a fault in handoff-sync itself: the daemon's log has the traceback; "
                   "report it with that")


def advice(failure_class: str) -> str:
    """What an admin should look at for a failure class (``TABLE``'s third column)."""
    for _, known, what in TABLE:
        if known == failure_class:
            return what
    return INTERNAL_ADVICE


def _first_known(names: Iterable[str]) -> str:
    for name in names:
        if name in _BY_NAME:
            return _BY_NAME[name]
    return INTERNAL


def _connector_errors() -> dict[str, type[ConnectorError]]:
    """Every ConnectorError subclass by name. Each registered connector is loaded first:
    a stored name may be one only a connector's modules define (SessionExpired,
    OutcomeUnknown), and `status` reads stored names without building any connector."""
    for row in SYSTEMS.values():
        row.connector_class()
    found: dict[str, type[ConnectorError]] = {}
    pending: list[type[ConnectorError]] = [ConnectorError]
    while pending:
        cls = pending.pop()
        found.setdefault(cls.__name__, cls)
        pending.extend(cls.__subclasses__())
    return found


__all__ = ["CLASSES", "INTERNAL", "NEXT_CYCLE", "TABLE", "advice", "classify",
           "classify_message", "failure_message", "failure_text"]
