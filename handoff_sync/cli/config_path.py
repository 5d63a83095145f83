"""Where a command finds the daemon config when --config is not given.

``$HANDOFF_SYNC_CONFIG`` when set (the Docker image sets it to
/config/handoff-sync.yaml, so `docker exec ... handoff-sync status` needs no flag),
else ./handoff-sync.yaml.
"""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_ENV = "HANDOFF_SYNC_CONFIG"
FALLBACK_CONFIG = Path("handoff-sync.yaml")


def default_config() -> Path:
    """The config file a command uses without --config."""
    named = os.environ.get(CONFIG_ENV, "").strip()
    return Path(named) if named else FALLBACK_CONFIG


def default_config_help() -> str:
    """How --config's default reads in --help."""
    return f"${CONFIG_ENV} if set, else ./{FALLBACK_CONFIG}"
