"""The one error tree every connector raises; vendor exceptions are chained with ``from``.

    ConnectorError                     anything a connector reports as an exception
    ├── TransientError                 429, 5xx, timeouts, resets: retried inside the
    │   │                              connector (tenacity); seen outside only wrapped in
    │   │                              RetriesExhausted
    │   ├── RateLimited                429 / HubSpot RATE_LIMIT, with the wait it asked for
    │   └── CannotConnect              no connection was made, so nothing was sent: the
    │                                  host name does not resolve, nothing listens on the
    │                                  port, the connect timed out, no route. Retried by
    │                                  the daemon; raised at once where RetrySettings.
    │                                  retry_connect is off (one-shot commands)
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
                                       the configured CA (a wrong ca_file), or is for
                                       another host name (a wrong URL)

    StopRequested                      not a failure: a stop (SIGTERM) was asked for while
                                       the connector waited (the API budget); the call was
                                       not made, the cycle stops without recording

Besides its message, a ConnectorError may say where the call went (``endpoint``,
"host:port") and what failed below HTTP (``cause``, one of ``CAUSES``), so the product
can name the setting to check without parsing the message. The message says what failed;
what to do next (retry, stop, which config key to check) is the caller's to say: a
connector does not know whether a daemon will try again.

Per-record problems (a validation rule, a value too long, a deleted record) are not
exceptions: they come back as ``WriteResult.error`` so one bad record never sinks its batch.
"""

from __future__ import annotations

# What failed below HTTP, by ``ConnectorError.cause``; the words every connector uses.
CAUSES: dict[str, str] = {
    "dns": "the host name does not resolve (DNS)",
    "refused": "connection refused (nothing listens on that port)",
    "timeout": "the connection timed out (no answer from that host and port)",
    "network": "no route to that host (network unreachable)",
    "untrusted": "its TLS certificate does not verify against the CA the connection trusts",
    "hostname": "its TLS certificate is for another host name",
}
CONNECT_CAUSES = frozenset({"dns", "refused", "timeout", "network"})
TLS_CAUSES = frozenset({"untrusted", "hostname"})


class ConnectorError(Exception):
    """Base of every connector exception. ``system`` names the system for messages;
    ``endpoint`` ("host:port") where the failed call went, when known; ``cause`` a key of
    ``CAUSES`` when the failure was below HTTP."""

    def __init__(self, message: str, *, system: str = "", status: int | None = None,
                 code: str | None = None, endpoint: str | None = None,
                 cause: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.system = system
        self.status = status
        self.code = code
        self.endpoint = endpoint
        self.cause = cause

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


class CannotConnect(TransientError):
    """No connection was made (``cause``: dns, refused, timeout or network), so nothing
    was sent: repeating is safe even for a create."""


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
