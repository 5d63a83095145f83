"""Getting a Salesforce access token ourselves, from a configurable login URL.

simple-salesforce's login helpers only reach ``https://{domain}.salesforce.com`` and lean
on SOAP ``login()``, which Salesforce is retiring; My Domain hosts, private-connectivity
endpoints and the loopback sandbox all need another login URL. So the connector posts the
OAuth grant to ``{login_url}/services/oauth2/token`` itself (JWT bearer, client
credentials or username-password) and hands the token and instance URL to the client.

Secrets are never settings values: ``SecretRef`` names an environment variable or a file,
and the value is read (``secret_text.read_secret``, the one reader) at each login, so a
rotated secret is picked up, and never stored on the settings or logged. Each value read
and each token minted (the JWT assertion, the access token) goes to the ``on_secret``
hook, which the daemon uses to redact it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import jwt
import requests

from connectors.errors import AuthError
from connectors.salesforce.errors import SYSTEM, classify_token_response
from connectors.secret_text import SecretHook, SecretTextError, ignore, read_secret

AuthKind = Literal["jwt_bearer", "client_credentials", "password", "session"]
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_LIFETIME_SECONDS = 180  # Salesforce accepts at most 3 minutes


@dataclass(frozen=True, slots=True)
class SecretRef:
    """Where a secret lives; the settings hold this, never the secret itself."""

    env: str | None = None
    """Environment variable holding the secret."""
    file: Path | None = None
    """File holding the secret (a mounted secret, the JWT private key PEM); when set it
    wins over ``env``, as in the HubSpot connector (one rule for operators)."""

    def __post_init__(self) -> None:
        if not self.env and self.file is None:
            raise ValueError("a secret needs an environment variable (env) or a file")

    def read(self, environ: Mapping[str, str] | None = None, *, multiline: bool = False,
             on_secret: SecretHook | None = None) -> str:
        """The secret's value, told to ``on_secret``; AuthError naming the file or variable
        when it is missing, unreadable or holds a control character (a line break is
        allowed with ``multiline``, for a PEM key)."""
        try:
            return read_secret(file=self.file, env=self.env, environ=environ,
                               multiline=multiline, on_secret=on_secret)
        except SecretTextError as exc:
            raise AuthError(str(exc), system=SYSTEM) from None


@dataclass(frozen=True, slots=True)
class SalesforceAuth:
    """How the connector logs in to Salesforce."""

    kind: AuthKind = "jwt_bearer"
    """jwt_bearer | client_credentials | password | session (an existing session id)."""
    login_url: str = "https://login.salesforce.com"
    """Where tokens come from: login/test.salesforce.com, a My Domain URL or the sandbox."""
    client_id: str = ""
    """The connected app's consumer key (not a secret; jwt_bearer, client_credentials and
    password)."""
    username: str = ""
    """The integration user (jwt_bearer and password)."""
    private_key: SecretRef | None = None
    """The PEM private key whose certificate is on the connected app (jwt_bearer)."""
    client_secret: SecretRef | None = None
    """The connected app's consumer secret (client_credentials and password)."""
    password: SecretRef | None = None
    """The integration user's password (password)."""
    security_token: SecretRef | None = None
    """Appended to the password when the org requires it (password; optional)."""
    session_id: SecretRef | None = None
    """An existing access token (session); re-read from its source after a 401."""
    instance_url: str = ""
    """The org's instance URL (session; the token response supplies it otherwise)."""
    jwt_audience: str | None = None
    """JWT ``aud``; by default login/test.salesforce.com for salesforce.com hosts (My
    Domain logins included, as Salesforce requires) and the login URL otherwise."""

    def __post_init__(self) -> None:
        needs: dict[str, tuple[str, ...]] = {
            "jwt_bearer": ("client_id", "username", "private_key"),
            "client_credentials": ("client_id", "client_secret"),
            "password": ("client_id", "client_secret", "username", "password"),
            "session": ("session_id", "instance_url"),
        }
        if self.kind not in needs:
            raise ValueError(f"auth kind {self.kind!r} is not one of {', '.join(needs)}")
        missing = [name for name in needs[self.kind] if not getattr(self, name)]
        if missing:
            raise ValueError(f"auth kind {self.kind} needs {', '.join(missing)}")
        for name, url in (("login_url", self.login_url), ("instance_url", self.instance_url)):
            if url and urlsplit(url).scheme != "https":
                raise ValueError(f"{name} must be an https:// URL, got {url!r}")

    def audience(self) -> str:
        if self.jwt_audience:
            return self.jwt_audience
        host = urlsplit(self.login_url).hostname or ""
        if host == "salesforce.com" or host.endswith(".salesforce.com"):
            sandbox = host.startswith("test.") or ".sandbox." in host
            return "https://test.salesforce.com" if sandbox else "https://login.salesforce.com"
        return self.login_url.rstrip("/")


@dataclass(frozen=True, slots=True)
class Token:
    """An access token and the instance it is good for; repr never shows the token."""

    access_token: str
    instance_url: str

    def __repr__(self) -> str:
        return f"Token(instance_url={self.instance_url!r}, access_token=<redacted>)"


def obtain_token(auth: SalesforceAuth, session: requests.Session, *,
                 clock: Callable[[], float] = time.time,
                 environ: Mapping[str, str] | None = None,
                 on_secret: SecretHook = ignore) -> Token:
    """A token by the configured grant (one HTTP call), or the configured session; every
    secret read and the token minted are told to ``on_secret`` first.

    Raises ``AuthError`` for refused credentials and ``TransientError`` for failures worth
    retrying (the caller retries through ``call_with_retry``).
    """
    if auth.kind == "session":
        assert auth.session_id is not None  # checked in SalesforceAuth
        return Token(auth.session_id.read(environ, on_secret=on_secret),
                     auth.instance_url.rstrip("/"))
    form, basic = _grant(auth, clock, environ, on_secret)
    url = auth.login_url.rstrip("/") + "/services/oauth2/token"
    response = session.post(url, data=form, auth=basic,
                            headers={"Accept": "application/json"})
    body = _json(response)
    if response.status_code != 200 or not isinstance(body, dict):
        raise classify_token_response(response.status_code, body if body is not None
                                      else response.text, login_url=auth.login_url,
                                      retry_after=retry_after_seconds(response))
    token, instance = body.get("access_token"), body.get("instance_url")
    for minted in (token, body.get("refresh_token")):
        if isinstance(minted, str):
            on_secret(minted)
    if not isinstance(token, str) or not isinstance(instance, str) or not token:
        raise AuthError(f"the token response from {auth.login_url} has no access_token or "
                        "instance_url", system=SYSTEM)
    if urlsplit(instance).scheme != "https":
        raise AuthError(f"the token response names a non-https instance {instance!r}",
                        system=SYSTEM)
    return Token(token, instance.rstrip("/"))


def _grant(auth: SalesforceAuth, clock: Callable[[], float],
           environ: Mapping[str, str] | None, on_secret: SecretHook,
           ) -> tuple[dict[str, str], tuple[str, str] | None]:
    """The token request's form and, for client credentials, its Basic credentials."""
    if auth.kind == "jwt_bearer":
        assert auth.private_key is not None
        claims = {"iss": auth.client_id, "sub": auth.username, "aud": auth.audience(),
                  "exp": int(clock()) + JWT_LIFETIME_SECONDS}
        key = auth.private_key.read(environ, multiline=True, on_secret=on_secret)
        try:
            assertion = jwt.encode(claims, key, algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise AuthError("the JWT private key is not a usable RSA PEM key",
                            system=SYSTEM) from exc
        on_secret(assertion)  # a bearer credential for its 3 minutes
        return {"grant_type": JWT_GRANT, "assertion": assertion}, None
    assert auth.client_secret is not None
    secret = auth.client_secret.read(environ, on_secret=on_secret)
    if auth.kind == "client_credentials":
        return {"grant_type": "client_credentials"}, (auth.client_id, secret)
    assert auth.password is not None
    password = auth.password.read(environ, on_secret=on_secret)
    if auth.security_token is not None:
        password += auth.security_token.read(environ, on_secret=on_secret)
    return {"grant_type": "password", "client_id": auth.client_id, "client_secret": secret,
            "username": auth.username, "password": password}, None


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def retry_after_seconds(response: requests.Response, *,
                        now: Callable[[], float] = time.time) -> float | None:
    """``Retry-After`` in seconds, from either form (seconds or an HTTP date)."""
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw.strip()))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None  # unreadable: the backoff decides
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now())
