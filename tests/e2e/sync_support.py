"""End-to-end support: a seeded sandbox and a working config for it, as `init` writes it."""

from __future__ import annotations

from pathlib import Path

from handoff_sync.init_command import write_sandbox_config
from handoff_sync.sandbox.server import SandboxServer


def configured_sandbox(server: SandboxServer, folder: Path, *, database_url: str,
                       deals: int = 40, partners: int = 4, random_seed: int = 3,
                       interval_seconds: int | None = None) -> Path:
    """Seed the sandbox and write `handoff-sync init --sandbox`'s config for it."""
    server.sandbox.seed(deals=deals, partners=partners, random_seed=random_seed)
    config = folder / "handoff-sync.yaml"
    write_sandbox_config(server.base_url, config, database=database_url)
    if interval_seconds is not None:
        text = config.read_text(encoding="utf-8")
        lines = [f"  interval_seconds: {interval_seconds}" if line.strip().startswith(
            "interval_seconds:") else line for line in text.splitlines()]
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config
