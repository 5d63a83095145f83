"""What the connectors' error tables share: the actions a row can name, and status matching.

Each connector keeps its own table (``salesforce_errors.TABLE``, ``hubspot_errors.TABLE``)
because the vendors' codes differ; how a row's HTTP status matches is the same for both,
and so is what failed below HTTP: requests and urllib3 raise their own classes, but the
socket's or ssl's error at the bottom of the chain says it (``connect_cause``,
``tls_cause``): socket.gaierror is DNS, ConnectionRefusedError nothing listening,
urllib3's ConnectTimeoutError a connect timeout, SSLCertVerificationError TLS; and the
connection or pool the chain keeps says where the call went (``endpoint_of``).
"""

from __future__ import annotations

import errno
import socket
import ssl
from collections import deque
from collections.abc import Iterator
from enum import Enum
from urllib.parse import urlsplit

from urllib3.exceptions import ConnectTimeoutError, NewConnectionError


class Action(Enum):
    """What the connector does with a failure a table row matches."""

    RETRY = "retry"
    RETRY_SAFE = "retry if idempotent"  # repeat only calls that cannot apply twice
    REAUTH = "re-authenticate once"
    RECORD = "blame the records"  # a batch refused for its records: split and find them
    FAIL = "fail"


def status_matches(rule: int | range | None, status: int | None) -> bool:
    """A row's status (one code, a range, or None for any) against a response's status."""
    if isinstance(rule, range):
        return status is not None and status in rule
    return rule is None or rule == status


def failure_chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception behind it, nearest first. requests and urllib3 wrap the
    socket's or ssl's error a few layers deep (in ``args``, ``reason`` or the chain), so
    every layer is looked at."""
    seen: set[int] = set()
    pending: deque[object] = deque([exc])
    while pending:
        item = pending.popleft()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        pending.extend([*item.args, getattr(item, "reason", None), item.__cause__,
                        item.__context__])


def tls_cause(exc: BaseException) -> str | None:
    """``hostname`` when TLS verification refused the certificate as being for another
    host, ``untrusted`` when it refused it for any other reason (CERTIFICATE_VERIFY_FAILED:
    not signed by a CA the connection trusts, expired ...); None when it did not refuse."""
    for item in failure_chain(exc):
        if isinstance(item, ssl.SSLCertVerificationError) or \
                "CERTIFICATE_VERIFY_FAILED" in str(item):
            text = str(getattr(item, "verify_message", "") or item)
            code = getattr(item, "verify_code", None)
            if code in _NAME_MISMATCH or "mismatch" in text or "doesn't match" in text:
                return "hostname"
            return "untrusted"
    return None


def certificate_rejected(exc: BaseException) -> bool:
    """Did TLS verification refuse the server's certificate (CERTIFICATE_VERIFY_FAILED)?"""
    return tls_cause(exc) is not None


def connect_cause(exc: BaseException) -> str | None:
    """Why no connection was made, as a key of ``errors.CAUSES`` (dns, refused, timeout,
    network); None when a connection was made (or the failure is something else: a reset,
    a read timeout, TLS). Decided by the socket-level error at the bottom of the chain:
    urllib3's own classes do not tell a refused connection from a timed-out one
    (NewConnectionError is a ConnectTimeoutError)."""
    items = list(failure_chain(exc))
    for item in items:
        if isinstance(item, socket.gaierror):
            return "dns"
    for item in items:
        if isinstance(item, ConnectionRefusedError):
            return "refused"
        if isinstance(item, OSError) and item.errno in _NO_ROUTE:
            return "network"
    for item in items:
        # urllib3 raises ConnectTimeoutError itself for a connect timeout; its subclass
        # NewConnectionError is any other OSError while connecting.
        if type(item) is ConnectTimeoutError:
            return "timeout"
    if any(isinstance(item, NewConnectionError) for item in items):
        return "network"  # another OSError while connecting (no address, network down)
    return None


def endpoint_of(exc: BaseException) -> str | None:
    """``host:port`` the failed request went to, from the connection, pool or request the
    exception keeps; None when none does."""
    for item in failure_chain(exc):
        for holder in (getattr(item, "conn", None), getattr(item, "pool", None)):
            host, port = getattr(holder, "host", None), getattr(holder, "port", None)
            if isinstance(host, str) and host:
                if not isinstance(port, int):
                    port = 443 if getattr(holder, "scheme", "") == "https" else None
                return endpoint(host, port)
        request = getattr(item, "request", None)
        url = getattr(request, "url", None)
        if isinstance(url, str) and url:
            return endpoint_of_url(url)
    return None


def endpoint_of_url(url: str) -> str | None:
    """``host:port`` of a URL (443 for https without a port); None without a host."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname:
        return None
    return endpoint(parts.hostname, port or (443 if parts.scheme == "https" else 80))


def endpoint(host: str, port: int | None) -> str:
    """``host:port`` as messages and the product's config lookup write it."""
    host = f"[{host}]" if ":" in host else host  # an IPv6 literal
    return f"{host}:{port}" if port else host


_NAME_MISMATCH = frozenset({62, 64})  # X509_V_ERR_HOSTNAME_MISMATCH, _IP_ADDRESS_MISMATCH
_NO_ROUTE = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH})
