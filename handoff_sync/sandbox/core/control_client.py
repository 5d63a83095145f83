"""A typed HTTP client for the sandbox's /__sandbox__/ control plane (see :mod:`.control`).

What a tool outside the sandbox (the demo, a script, a test) uses to seed it, read and
move its clock and read the credentials it accepts, over HTTPS with the sandbox's CA,
exactly as it would drive a sandbox in another process. Nothing here reaches into the
server object::

    control = ControlClient(server.base_url, server.ca_file)
    counts = control.seed(deals=500, partners=12, random_seed=42)
    creds = control.credentials()          # creds.salesforce.session_id, ...
    control.shift_clock(3 * 86_400)        # three days pass
    now = control.now()                    # aware UTC datetime

Control-plane calls are not vendor API calls: they never show in /__sandbox__/stats and
never spend a quota.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

DEFAULT_TIMEOUT = 30.0
# A large seed takes a while (100,000 deals: tens of seconds on a laptop).
DEFAULT_SEED_TIMEOUT = 600.0


class ControlError(Exception):
    """The control plane refused a call (``status``) or could not be reached (``None``)."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(message if status is None else f"{status}: {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True)
class SalesforceCredentials:
    username: str
    password: str
    security_token: str
    client_id: str
    client_secret: str
    session_id: str
    instance_url: str
    login_url: str
    api_version: str
    jwt_private_key_pem: str


@dataclass(frozen=True)
class HubSpotCredentials:
    access_token: str
    host: str
    client_id: str
    client_secret: str
    refresh_token: str
    portal_id: int


@dataclass(frozen=True)
class SandboxCredentials:
    """GET /__sandbox__/credentials: what a connector needs to log in to either vendor."""

    base_url: str
    ca_pem: str
    salesforce: SalesforceCredentials
    hubspot: HubSpotCredentials

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> SandboxCredentials:
        sf, hs = doc["salesforce"], doc["hubspot"]
        return cls(
            base_url=str(doc["base_url"]),
            ca_pem=str(doc["ca_pem"]),
            salesforce=SalesforceCredentials(
                username=str(sf["username"]), password=str(sf["password"]),
                security_token=str(sf["security_token"]), client_id=str(sf["client_id"]),
                client_secret=str(sf["client_secret"]), session_id=str(sf["session_id"]),
                instance_url=str(sf["instance_url"]), login_url=str(sf["login_url"]),
                api_version=str(sf["api_version"]),
                jwt_private_key_pem=str(sf["jwt_private_key_pem"]),
            ),
            hubspot=HubSpotCredentials(
                access_token=str(hs["access_token"]), host=str(hs["host"]),
                client_id=str(hs["client_id"]), client_secret=str(hs["client_secret"]),
                refresh_token=str(hs["refresh_token"]), portal_id=int(hs["portal_id"]),
            ),
        )


@dataclass(frozen=True)
class ClockState:
    """GET /__sandbox__/clock: the sandbox's now, and how it got there."""

    now: datetime  # aware, UTC
    frozen: bool
    shift_seconds: float  # the offset from real time while not frozen

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> ClockState:
        return cls(now=datetime.fromisoformat(str(doc["now"])), frozen=bool(doc["frozen"]),
                   shift_seconds=float(doc["shift_seconds"]))


class ControlClient:
    """One sandbox's control plane. Thread-safe: a daemon thread may read the clock while
    the caller seeds or shifts it."""

    def __init__(self, base_url: str, ca_file: str | Path, *, token: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT,
                 seed_timeout: float = DEFAULT_SEED_TIMEOUT) -> None:
        """``token``: the control token, for a sandbox started with one (required beyond
        loopback)."""
        self.base_url = base_url.rstrip("/")
        self.ca_file = Path(ca_file)
        self.timeout = timeout
        self.seed_timeout = seed_timeout
        self._session = requests.Session()
        self._session.trust_env = False  # REQUESTS_CA_BUNDLE or a proxy would cut in
        self._session.verify = str(self.ca_file)
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"
        self._lock = threading.Lock()  # requests.Session is not safe across threads

    # --- credentials, data --------------------------------------------------------------
    def credentials(self) -> SandboxCredentials:
        """The credentials the sandbox accepts now (the Salesforce session id changes
        when sessions are expired)."""
        return SandboxCredentials.from_json(self._call("GET", "credentials"))

    def seed(self, *, deals: int, partners: int, random_seed: int) -> dict[str, int]:
        """Replace all data with a generated org pair (anchored on the sandbox clock);
        returns the records made per object, e.g. ``{"salesforce.Opportunity": 387}``."""
        body = {"deals": deals, "partners": partners, "random_seed": random_seed}
        answer = self._call("POST", "seed", body, timeout=self.seed_timeout)
        return {str(name): int(count) for name, count in answer["counts"].items()}

    def reset(self) -> None:
        """Empty both orgs; clear faults, schema drift, stats; the clock back to real time."""
        self._call("POST", "reset")

    def expire_sessions(self) -> None:
        """Every Salesforce session and HubSpot OAuth token expires (the next call is 401)."""
        self._call("POST", "expire-sessions")

    def stats(self) -> dict[str, Any]:
        """Vendor API calls since the last reset: ``{salesforce: {calls, by_endpoint}, ...}``."""
        return self._call("GET", "stats")

    # --- the clock ----------------------------------------------------------------------
    def clock(self) -> ClockState:
        return ClockState.from_json(self._call("GET", "clock"))

    def now(self) -> datetime:
        """The sandbox's now as an aware UTC datetime (a ``clock`` for the daemon)."""
        return self.clock().now

    def shift_clock(self, seconds: float) -> ClockState:
        """Move the sandbox's time forward (or back); a frozen clock stays frozen."""
        return ClockState.from_json(self._call("POST", "clock", {"shift_seconds": seconds}))

    def freeze_clock(self, at: datetime) -> ClockState:
        """Stop the sandbox's time at ``at`` (timezone-aware)."""
        return ClockState.from_json(self._call("POST", "clock", {"freeze_at": at.isoformat()}))

    def reset_clock(self) -> ClockState:
        """Back to real time: not frozen, no shift."""
        return ClockState.from_json(self._call("POST", "clock", {"reset": True}))

    # --- plumbing -----------------------------------------------------------------------
    def _call(self, method: str, path: str, body: dict[str, Any] | None = None, *,
              timeout: float | None = None) -> Any:
        url = f"{self.base_url}/__sandbox__/{path}"
        try:
            with self._lock:
                answer = self._session.request(method, url, json=body,
                                               timeout=timeout or self.timeout)
        except requests.RequestException as exc:
            raise ControlError(None, f"cannot reach the sandbox control plane at {url}: "
                                     f"{exc}") from exc
        try:
            doc = answer.json()
        except ValueError:
            doc = None
        if not answer.ok:
            message = doc.get("error") if isinstance(doc, dict) else None
            raise ControlError(answer.status_code, str(message or answer.reason))
        return doc

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
