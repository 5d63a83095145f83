"""What an emulated vendor API may use of the sandbox hosting it: its URL, clock,
credentials and usage meter. A protocol, so the vendor folders depend on core only and
the sandbox (app.py) that assembles them sits above both."""

from __future__ import annotations

from typing import Protocol

from handoff_sync.sandbox.core.clock import SandboxClock
from handoff_sync.sandbox.core.credentials import Credentials
from handoff_sync.sandbox.core.usage import UsageMeter


class SandboxHost(Protocol):
    base_url: str
    clock: SandboxClock
    credentials: Credentials
    usage: UsageMeter
