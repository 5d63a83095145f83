"""What every console page works with: the config, the store and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from handoff_sync.config.settings import Config, PipelineConfig
from handoff_sync.console.jobs import Jobs
from handoff_sync.console.whatif_proofs import WhatIfProofs
from handoff_sync.errors import CommandError
from handoff_sync.store import Store
from handoff_sync.sync.whatif import Baselines


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ConsoleContext:
    """Shared by every request (a Store is safe to share between threads)."""

    config: Config
    store: Store
    clock: Callable[[], datetime] = field(default=utc_now)
    secure_cookies: bool = False
    """Mark every session cookie Secure. Without it a cookie is Secure when its request
    came over TLS, directly or through a trusted proxy's X-Forwarded-Proto (proxy.py)."""
    whatif_baselines: Baselines = field(default_factory=Baselines)
    """The plans with the mappings in force that /policy's previews compare with."""
    jobs: Jobs = field(default_factory=Jobs)
    """Reports and what-ifs computed in the background (jobs.py), shared by requests."""
    whatif_proofs: WhatIfProofs = field(default_factory=WhatIfProofs)
    """The what-ifs shown to admins, a save's proof (whatif_proofs.py)."""

    @property
    def pipelines(self) -> list[PipelineConfig]:
        return list(self.config.pipelines)

    def pipeline(self, name: str) -> PipelineConfig:
        """The configured pipeline ``name``; CommandError naming the known ones."""
        for pipeline in self.config.pipelines:
            if pipeline.name == name:
                return pipeline
        known = ", ".join(p.name for p in self.config.pipelines)
        raise CommandError(f"no pipeline {name!r} in {self.config.path} (pipelines: {known})")

    def mappings_folder(self, pipeline: str) -> Path:
        return self.pipeline(pipeline).mappings
