"""structlog set-up, done once per process: JSON lines off a terminal, readable on one.

Secrets never reach a log line: values under keys that name a secret are replaced, and so
are values that look like bearer tokens, whatever the key, and every secret value the
process has loaded (``redaction``), wherever it appears: in any field, nested or not, and
in the ``exception`` text, which is why redaction runs after ``format_exc_info``. Lines
from the standard library's loggers (urllib3, APScheduler) are redacted by their formatter.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from handoff_sync.safety import redaction

_SECRET_KEY = re.compile(
    r"(pass(word)?|secret|token|authorization|session_id|api_key|private_key|assertion)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(Bearer\s+)[^\s\"']+", re.IGNORECASE)
REDACTED = redaction.REDACTED

_configured = False


class _CurrentStderr:
    """Writes to whatever sys.stderr is at the time of the write, not at set-up.

    pytest's capture and the daemon's tests swap sys.stderr; a logger bound to the old
    stream would write to a closed file."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


_STDERR = _CurrentStderr()


def redact_secrets(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        if _SECRET_KEY.search(key) and value not in (None, ""):
            event[key] = REDACTED
        else:
            event[key] = _redact_value(value)
    return event


def _redact_value(value: Any) -> Any:
    value = redaction.redact_value(value)
    if isinstance(value, str) and "bearer" in value.lower():
        return _BEARER.sub(r"\1" + REDACTED, value)
    return value


class _RedactingFormatter(logging.Formatter):
    """The standard library's lines (and their tracebacks) with secrets redacted."""

    def format(self, record: logging.LogRecord) -> str:
        return str(_redact_value(super().format(record)))


def configure_logging(level: str = "info", fmt: str | None = None) -> None:
    """Configure structlog and stdlib logging; later calls only change the level/format."""
    global _configured
    numeric = logging.getLevelNamesMapping().get(level.upper())
    if numeric is None:
        raise ValueError(f"unknown log level {level!r}; use debug, info, warning or error")
    if fmt is None:
        fmt = "console" if sys.stderr.isatty() else "json"
    renderer: Any = (
        structlog.dev.ConsoleRenderer() if fmt == "console" else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            redact_secrets,  # after the exception became text: it may carry a secret
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=_STDERR),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(_STDERR)  # type: ignore[arg-type]
    handler.setFormatter(_RedactingFormatter(logging.BASIC_FORMAT))
    logging.basicConfig(level=max(numeric, logging.WARNING), handlers=[handler], force=True)
    _configured = True
