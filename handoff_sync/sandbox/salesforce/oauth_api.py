"""The OAuth token endpoint: the password, client-credentials and JWT bearer grants,
each answering with a session the REST endpoints then accept."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import jwt

from handoff_sync.sandbox.core.http import Request, Response, Router
from handoff_sync.sandbox.salesforce.ids import salesforce_id
from handoff_sync.sandbox.salesforce.rest import (
    BareResponse,
    add_routes,
)

if TYPE_CHECKING:
    from handoff_sync.sandbox.salesforce.api import SalesforceApi


ORG_ID = salesforce_id("00D", 1)
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")


class _OAuthError(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


class OAuthEndpoints:
    """POST /services/oauth2/token: the password, client-credentials and JWT bearer grants."""

    def __init__(self, api: SalesforceApi) -> None:
        self.api = api
        self.store = api.store

    def register(self, router: Router) -> None:
        add_routes(router, [
            ("POST", r"/services/oauth2/token", self.token, False),
        ])

    def token(self, request: Request) -> Response:
        form = request.form()
        grants: dict[str, Callable[[Request, dict[str, str]], None]] = {
            "password": self._grant_password,
            "client_credentials": self._grant_client_credentials,
            JWT_GRANT: self._grant_jwt_bearer,
        }
        grant = grants.get(form.get("grant_type", ""))
        try:
            if grant is None:
                raise _OAuthError("unsupported_grant_type", "grant type not supported")
            grant(request, form)
        except _OAuthError as exc:
            return BareResponse.json(400, {"error": exc.error,
                                           "error_description": exc.description})
        return BareResponse.json(200, self._issue_token())

    def _check_client(self, client_id: str | None, secret: str | None) -> None:
        creds = self.api.sandbox.credentials
        if client_id != creds.sf_client_id:
            raise _OAuthError("invalid_client_id", "client identifier invalid")
        if secret is None or not hmac.compare_digest(secret, creds.sf_client_secret):
            raise _OAuthError("invalid_client", "invalid client credentials")

    def _grant_password(self, _: Request, form: dict[str, str]) -> None:
        creds = self.api.sandbox.credentials
        self._check_client(form.get("client_id"), form.get("client_secret"))
        accepted = (creds.sf_password + creds.sf_security_token, creds.sf_password)
        username_ok = form.get("username", "").lower() == creds.sf_username.lower()
        if not username_ok or form.get("password") not in accepted:
            raise _OAuthError("invalid_grant", "authentication failure")

    def _grant_client_credentials(self, request: Request, form: dict[str, str]) -> None:
        scheme, _, encoded = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() == "basic":
            try:
                pair = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise _OAuthError("invalid_client", "invalid client credentials") from None
            client_id, _, secret = pair.partition(":")
            self._check_client(client_id, secret)
        else:
            self._check_client(form.get("client_id"), form.get("client_secret"))

    def _grant_jwt_bearer(self, _: Request, form: dict[str, str]) -> None:
        creds = self.api.sandbox.credentials
        try:
            # exp is checked below: simple-salesforce sends it as a string, which PyJWT refuses.
            claims = jwt.decode(form.get("assertion", ""), creds.jwt_public_key_pem,
                                algorithms=["RS256"],
                                options={"verify_exp": False, "verify_aud": False,
                                         "verify_iat": False, "verify_nbf": False})
        except jwt.PyJWTError:
            raise _OAuthError("invalid_grant", "invalid assertion") from None
        if claims.get("iss") != creds.sf_client_id:
            raise _OAuthError("invalid_client_id", "client identifier invalid")
        audiences = claims.get("aud")
        audiences = audiences if isinstance(audiences, list) else [audiences]
        allowed = {self.api.sandbox.base_url, *JWT_AUDIENCES}
        if not any(isinstance(a, str) and a.rstrip("/") in allowed for a in audiences):
            raise _OAuthError("invalid_grant", "audience is invalid")
        if str(claims.get("sub", "")).lower() != creds.sf_username.lower():
            raise _OAuthError("invalid_grant", "invalid assertion")
        if not _unexpired(claims.get("exp")):
            raise _OAuthError("invalid_grant", "invalid assertion")

    def _issue_token(self) -> dict[str, str]:
        creds = self.api.sandbox.credentials
        token = f"{ORG_ID[:15]}!{secrets.token_urlsafe(48)}"
        self.api.tokens.add(token)
        issued_at = str(int(self.api.sandbox.clock.now().timestamp() * 1000))
        identity = f"{self.api.sandbox.base_url}/id/{ORG_ID}/{self.store.integration_user_id}"
        digest = hmac.new(creds.sf_client_secret.encode(), (identity + issued_at).encode(),
                          hashlib.sha256).digest()
        return {
            "access_token": token,
            "instance_url": self.api.sandbox.base_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": base64.b64encode(digest).decode(),
            "scope": "api",
        }


def _unexpired(exp: Any) -> bool:
    """JWT exp in the future; numeric strings accepted (simple-salesforce sends one)."""
    try:
        return float(exp) > time.time()
    except (TypeError, ValueError):
        return False
