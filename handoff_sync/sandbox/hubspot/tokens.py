"""Access tokens issued by the OAuth refresh grant, and when each stops working.

Expiry runs on the sandbox clock, so a test can shift the clock past ``expires_in`` and see
the 401 a real portal sends half an hour later.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal

ACCESS_TOKEN_SECONDS = 1800

TokenState = Literal["valid", "expired", "unknown"]


@dataclass(frozen=True)
class TokenCheck:
    state: TokenState
    expires_at_ms: int = 0


class TokenRegistry:
    def __init__(self) -> None:
        self._expiry_ms: dict[str, int] = {}

    def reset(self) -> None:
        self._expiry_ms = {}

    def issue(self, now_ms: int) -> str:
        # Real OAuth access tokens are long opaque strings starting with "C".
        token = "C" + secrets.token_urlsafe(96)
        self._expiry_ms[token] = now_ms + ACCESS_TOKEN_SECONDS * 1000
        return token

    def check(self, token: str, now_ms: int) -> TokenCheck:
        expires = self._expiry_ms.get(token)
        if expires is None:
            return TokenCheck("unknown")
        return TokenCheck("valid" if now_ms < expires else "expired", expires)

    def expire_all(self, now_ms: int) -> None:
        for token, expires in list(self._expiry_ms.items()):
            self._expiry_ms[token] = min(expires, now_ms)
