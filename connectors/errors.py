"""The one error tree every connector raises; vendor exceptions are chained with ``from``.

    ConnectorError                     anything a connector reports as an exception
    ├── TransientError                 429, 5xx, timeouts, resets: retried inside the
    │   │                              connector (tenacity); seen outside only wrapped in
    │   │                              RetriesExhausted
    │   └── RateLimited                429 / HubSpot RATE_LIMIT, with the wait it asked for
    ├── RetriesExhausted               a transient failure outlived the retry budget; the
    │                                  cycle fails, its checkpoint stays, the next cycle
    │                                  redoes the work
    └── FatalError                     retrying cannot help; the pipeline stops and an
        │                              admin must act (the message says what to do)
        ├── AuthError                  credentials refused, or a 401 that survived re-auth
        ├── PermissionDenied           missing scopes / object or field permissions
        ├── QuotaExhausted             the daily allowance is used up (Salesforce
        │                              REQUEST_LIMIT_EXCEEDED, HubSpot DAILY): a 24-hour
        │                              quota, not a blip, so the run stops
        ├── SchemaError                unknown object or field: the mapping and the org
        │                              disagree
        └── CertificateRejected        the server's TLS certificate does not verify against
                                       the configured CA: a wrong ca_file or host

    StopRequested                      not a failure: a stop (SIGTERM) was asked for while
                                       the connector waited (the API budget); the call was
                                       not made, the cycle stops without recording

Per-record problems (a validation rule, a value too long, a deleted record) are not
exceptions: they come back as ``WriteResult.error`` so one bad record never sinks its batch.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of every connector exception. ``system`` names the system for messages."""

    def __init__(self, message: str, *, system: str = "", status: int | None = None,
                 code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.system = system
        self.status = status
        self.code = code

    def __str__(self) -> str:
        prefix = f"{self.system}: " if self.system else ""
        return prefix + self.message


class TransientError(ConnectorError):
    """Worth retrying after a pause; ``retry_after`` is the server's hint in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object
                 ) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class RateLimited(TransientError):
    """The server throttled us (HTTP 429)."""


class RetriesExhausted(ConnectorError):
    """Gave up on a transient failure after the bounded retry time."""


class FatalError(ConnectorError):
    """Retrying cannot help; someone has to change something."""


class AuthError(FatalError):
    """Credentials were refused."""


class PermissionDenied(FatalError):
    """The integration user or app lacks a permission or scope."""


class QuotaExhausted(FatalError):
    """The daily API allowance is used up; the pipeline waits for it to renew."""


class SchemaError(FatalError):
    """An object or field the mapping names does not exist or cannot be used."""


class CertificateRejected(FatalError):
    """The server's certificate does not verify against the CA the connection trusts."""


class StopRequested(Exception):
    """A stop was asked for while waiting; the call was not made. Not a ConnectorError,
    so no caller mistakes it for a failed call or a failed record."""
