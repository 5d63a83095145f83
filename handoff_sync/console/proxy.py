"""What a request says about itself, believed only from a trusted reverse proxy.

The console usually sits behind a proxy that terminates TLS. The X-Forwarded-* headers
(and ``console.identity_header``) are believed only when the peer the socket is
connected to is in ``console.trusted_proxies``; from anyone else they are ignored, as
anyone can send them. The server must not rewrite the peer from those headers itself
(``daemon.asgi.AsgiServer`` turns uvicorn's proxy_headers off): this module decides.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

from handoff_sync.config.settings import ConsoleConfig

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=64)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip("[]"), strict=False) for entry in entries)


def peer_address(request: HTTPConnection) -> str:
    """The address of whoever holds the socket (the proxy, behind one)."""
    return request.client.host if request.client else "unknown"


def from_trusted_proxy(console: ConsoleConfig, request: HTTPConnection) -> bool:
    try:
        peer = ipaddress.ip_address(peer_address(request).strip("[]"))
    except ValueError:
        return False
    return any(peer in network for network in _networks(tuple(console.trusted_proxies)))


def _last(value: str | None) -> str:
    """The last entry of a comma-separated forwarded header: the one our proxy added."""
    return (value or "").split(",")[-1].strip()


def client_address(console: ConsoleConfig, request: HTTPConnection) -> str:
    """The person's address: the peer, or behind a trusted proxy what it forwarded."""
    if from_trusted_proxy(console, request):
        forwarded = _last(request.headers.get("x-forwarded-for"))
        if forwarded:
            return forwarded
    return peer_address(request)


def is_https(console: ConsoleConfig, request: HTTPConnection) -> bool:
    """Whether the browser reached us over TLS: directly, or through a trusted proxy
    that says so in X-Forwarded-Proto."""
    if request.url.scheme in ("https", "wss"):
        return True
    return (from_trusted_proxy(console, request)
            and _last(request.headers.get("x-forwarded-proto")).casefold() == "https")


def public_host(console: ConsoleConfig, request: HTTPConnection) -> str:
    """The host (and port) the browser asked for: Host, or a trusted proxy's
    X-Forwarded-Host (proxies often rewrite Host to the upstream's address)."""
    if from_trusted_proxy(console, request):
        forwarded = _last(request.headers.get("x-forwarded-host"))
        if forwarded:
            return forwarded
    return request.headers.get("host", "")


def host_is_loopback(host: str) -> bool:
    """Whether a Host header names this machine (localhost, 127.0.0.0/8, ::1)."""
    try:
        name = urlsplit(f"//{host}").hostname or ""
    except ValueError:  # "[::1" and the like
        return False
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
