"""Where the demo still imports the sandbox server from; the server is :mod:`.core.server`.

Kept only for handoff_sync/demo.py and demo_generator.py, which another change moves to
demo/ and onto the control-plane client (:mod:`.core.control_client`); delete this module
then. Everything else imports ``handoff_sync.sandbox.core.server``.
"""

from handoff_sync.sandbox.core.server import (
    CONTROL_TOKEN_ENV,
    ControlTokenRequired,
    SandboxServer,
)

__all__ = ["CONTROL_TOKEN_ENV", "ControlTokenRequired", "SandboxServer"]
