"""The credentials one sandbox run accepts; fresh random secrets on every start."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SALESFORCE_API_VERSION = "59.0"


def _jwt_key_pair() -> tuple[str, str]:
    """RSA pair for the JWT bearer grant: the connected app's certificate and its key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private_pem, public_pem


def _salesforce_session() -> str:
    # Real session ids look like "00D<org id>!<opaque>"; clients treat them as opaque.
    return "00D5g00000SANDBOX!" + secrets.token_urlsafe(48)


@dataclass
class Credentials:
    base_url: str
    sf_username: str = "integration@handoff-sync.sandbox"
    sf_password: str = field(default_factory=lambda: "pw-" + secrets.token_urlsafe(12))
    sf_security_token: str = field(default_factory=lambda: secrets.token_hex(12).upper())
    sf_client_id: str = field(default_factory=lambda: "3MVG9sandbox." + secrets.token_hex(16))
    sf_client_secret: str = field(default_factory=lambda: secrets.token_hex(32).upper())
    sf_session_id: str = field(default_factory=_salesforce_session)
    hs_access_token: str = field(
        default_factory=lambda: "pat-na1-" + secrets.token_hex(4) + "-" + secrets.token_hex(14)
    )
    hs_client_id: str = field(default_factory=lambda: secrets.token_hex(16))
    hs_client_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    hs_refresh_token: str = field(default_factory=lambda: "na1-" + secrets.token_hex(20))
    hs_portal_id: int = field(default_factory=lambda: 10_000_000 + secrets.randbelow(10**8))
    jwt_private_key_pem: str = ""
    jwt_public_key_pem: str = ""

    def __post_init__(self) -> None:
        if not self.jwt_private_key_pem:
            self.jwt_private_key_pem, self.jwt_public_key_pem = _jwt_key_pair()

    def rotate_salesforce_session(self) -> None:
        self.sf_session_id = _salesforce_session()

    def to_json(self, ca_pem: str) -> dict[str, object]:
        """The stable /__sandbox__/credentials document (tools outside the tests read it)."""
        return {
            "base_url": self.base_url,
            "ca_pem": ca_pem,
            "salesforce": {
                "username": self.sf_username,
                "password": self.sf_password,
                "security_token": self.sf_security_token,
                "client_id": self.sf_client_id,
                "client_secret": self.sf_client_secret,
                "session_id": self.sf_session_id,
                "instance_url": self.base_url,
                "login_url": self.base_url,
                "api_version": SALESFORCE_API_VERSION,
                "jwt_private_key_pem": self.jwt_private_key_pem,
            },
            "hubspot": {
                "access_token": self.hs_access_token,
                "host": self.base_url,
                "client_id": self.hs_client_id,
                "client_secret": self.hs_client_secret,
                "refresh_token": self.hs_refresh_token,
                "portal_id": self.hs_portal_id,
            },
        }
