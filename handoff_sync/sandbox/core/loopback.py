"""Who may reach the sandbox: this machine (loopback), or whoever holds its control token.

The sandbox's own check, kept inside the package: the sandbox shares no code with the
product it stands in for (``handoff-sync init`` imports it from here, not the reverse).
"""

from __future__ import annotations

import ipaddress

CONTROL_TOKEN_ENV = "HANDOFF_SYNC_SANDBOX_CONTROL_TOKEN"
"""Where ``handoff-sync sandbox`` (and ``init --sandbox``) read the control-plane token."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine's loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
