"""HubSpot credentials: where the secrets come from and which bearer token a call carries.

Settings name environment variables or files, never the secrets themselves, so a settings
object can be printed, logged or diffed safely. Secrets are read once, when the connector
starts (``secret_text.read_secret``, the one reader), into ``Secret`` values whose repr
hides them; each value read and each token an OAuth refresh mints goes to the
``on_secret`` hook, which the daemon uses to redact it.

Two kinds of app:
* a private app has one static access token; a 401 means the token is wrong or revoked,
  and nothing the connector does can fix that;
* an OAuth app trades its refresh token for 30-minute access tokens. HubSpot says to
  refresh ahead of expiry (``expires_in``) rather than waiting for a 401, so ``OAuthTokens``
  renews a margin before expiry; a 401 anyway (revocation, clock trouble, the sandbox's
  expire-sessions) gets one refresh and one repeat, then it is an ``AuthError``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import structlog

from connectors.errors import AuthError
from connectors.secret_text import SecretHook, SecretTextError
from connectors.secret_text import read_secret as read_text

log = structlog.get_logger("connectors.hubspot")

AuthKind = Literal["private_app", "oauth"]


class Secret:
    """A credential value that never shows itself in a repr, a log line or a traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class CredentialSources:
    """Where each HubSpot secret is read from; a file, when set, wins over its variable."""

    access_token_env: str = "HUBSPOT_ACCESS_TOKEN"
    """Environment variable holding the private app's access token (pat-...)."""
    access_token_file: str | None = None
    """File holding the private app's access token (e.g. a mounted secret)."""
    client_id_env: str = "HUBSPOT_CLIENT_ID"
    """Environment variable holding the OAuth app's client id."""
    client_id_file: str | None = None
    """File holding the OAuth app's client id."""
    client_secret_env: str = "HUBSPOT_CLIENT_SECRET"
    """Environment variable holding the OAuth app's client secret."""
    client_secret_file: str | None = None
    """File holding the OAuth app's client secret."""
    refresh_token_env: str = "HUBSPOT_REFRESH_TOKEN"
    """Environment variable holding the OAuth refresh token of the installed account."""
    refresh_token_file: str | None = None
    """File holding the OAuth refresh token."""


def read_secret(what: str, env_name: str, file: str | None,
                environ: Mapping[str, str] | None = None, *,
                on_secret: SecretHook | None = None) -> Secret:
    """The secret from ``file`` if given, else from the environment, told to
    ``on_secret``; AuthError naming the source (never a value) when it is missing, empty,
    unreadable or holds a control character."""
    try:
        return Secret(read_text(file=file, env=env_name, environ=environ,
                                on_secret=on_secret))
    except SecretTextError as exc:
        raise AuthError(f"the HubSpot {what} cannot be used: {exc}",
                        system="hubspot") from None


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What the OAuth token endpoint answered."""

    access_token: Secret
    expires_in: float  # seconds
    refresh_token: Secret | None = None  # HubSpot may rotate it


class PrivateAppToken:
    """A private app's static token: nothing to renew."""

    kind: AuthKind = "private_app"

    def __init__(self, token: Secret) -> None:
        self._token = token

    def bearer(self) -> str:
        return self._token.reveal()

    def renew_after_refusal(self) -> bool:
        """A 401 with a static token cannot be fixed here."""
        return False


class OAuthTokens:
    """Access tokens from the refresh-token grant, renewed ``margin`` seconds early."""

    kind: AuthKind = "oauth"

    def __init__(self, refresh: Callable[[Secret], TokenGrant], refresh_token: Secret, *,
                 margin: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._refresh = refresh
        self._refresh_token = refresh_token
        self._margin = margin
        self._clock = clock
        self._access: Secret | None = None
        self._expires_at = 0.0
        self.refreshes = 0

    def bearer(self) -> str:
        if self._access is None or self._clock() >= self._expires_at - self._margin:
            self._renew("expiring" if self._access is not None else "first use")
        assert self._access is not None
        return self._access.reveal()

    def renew_after_refusal(self) -> bool:
        """HubSpot refused the current token: get a new one (the caller repeats once)."""
        self._renew("refused")
        return True

    def _renew(self, why: str) -> None:
        grant = self._refresh(self._refresh_token)
        self.refreshes += 1
        self._access = grant.access_token
        self._expires_at = self._clock() + grant.expires_in
        if grant.refresh_token is not None:
            self._refresh_token = grant.refresh_token
        log.info("hubspot access token renewed", why=why, expires_in_s=grant.expires_in)


TokenSource = PrivateAppToken | OAuthTokens
