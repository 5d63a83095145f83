"""The Docker image and the compose example, checked as files (CI has no Docker engine):
the image installs exactly the lock, keeps state in a writable /data, probes /readyz on
the configured port; the compose example runs PostgreSQL, migrates once, then the daemon.
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+) \\$", re.M)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
            for line in joined.splitlines() if line.strip()]


def instructions(kind: str) -> list[str]:
    return [arguments for name, arguments in dockerfile_instructions() if name == kind]


def locked() -> dict[str, tuple[Version, str]]:
    text = (ROOT / "requirements.lock").read_text()
    pins: dict[str, tuple[Version, str]] = {}
    for match in PIN.finditer(text):
        entry = text[match.start():].split("\n", 1)[1]
        hashes = re.match(r"(\s+--hash=sha256:[0-9a-f]{64}( \\)?\n)+", entry)
        pins[canonicalize_name(match["name"])] = (Version(match["version"]),
                                                  hashes.group(0) if hashes else "")
    return pins


def test_the_lock_pins_every_dependency_with_hashes() -> None:
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    required = [Requirement(line) for line in setup["options"]["install_requires"].splitlines()
                if line.strip() and not line.strip().startswith("#")]
    build = re.search(r"requires = \[(.*?)\]", (ROOT / "pyproject.toml").read_text())
    assert build is not None
    required += [Requirement(item.strip().strip('"')) for item in build.group(1).split(",")]
    pins = locked()
    for requirement in required:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not in requirements.lock: run .ci/lock"
        version, hashes = pins[name]
        assert requirement.specifier.contains(version, prereleases=True), \
            f"requirements.lock pins {name}=={version}, outside {requirement}: run .ci/lock"
        assert hashes, f"{name} has no --hash in requirements.lock"
    lock = (ROOT / "requirements.lock").read_text()
    assert "--index-url" not in lock and "--find-links" not in lock  # no machine's own paths


def test_the_image_installs_the_lock_and_nothing_else() -> None:
    runs = " && ".join(instructions("RUN"))
    assert "pip install --require-hashes --no-deps -r requirements.lock" in runs
    assert "pip install --no-deps --no-build-isolation ." in runs
    assert "pip check" in runs
    assert any("requirements.lock" in arguments for arguments in instructions("COPY"))


def test_the_image_keeps_state_in_a_writable_data_volume() -> None:
    env = " ".join(instructions("ENV"))
    assert "HANDOFF_SYNC_DATA_DIR=/data" in env
    assert "HANDOFF_SYNC_CONFIG=/config/handoff-sync.yaml" in env
    assert instructions("VOLUME") == ["/data"]
    assert "mkdir -p /data && chown handoff /data" in " ".join(instructions("RUN"))
    assert instructions("USER") == ["handoff"]


def test_the_healthcheck_asks_readyz_on_the_configured_port() -> None:
    (check,) = instructions("HEALTHCHECK")
    assert check.endswith('CMD ["handoff-sync", "health"]'), check
    assert "9464" not in check  # the port comes from the config, through `health`


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_compose_runs_postgres_then_migrate_then_the_daemon() -> None:
    services = compose()["services"]
    assert services["db"]["image"].startswith("postgres:")
    assert "healthcheck" in services["db"]
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    # migrate creates the tables where the daemon will look: the same state volume
    assert "data:/data" in services["migrate"]["volumes"]
    daemon = services["handoff-sync"]
    assert daemon["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert "./config:/config:ro" in daemon["volumes"]
    assert "data:/data" in daemon["volumes"]  # the writable state volume
    assert set(compose()["volumes"]) == {"db", "data"}
    # DB_PASSWORD and the ${VARS} the config names come from .env, never from this file
    assert services["db"]["environment"]["POSTGRES_PASSWORD"].startswith("${DB_PASSWORD")
    for name in ("migrate", "handoff-sync"):
        assert services[name]["env_file"] == [".env"]
        assert "environment" not in services[name]


def test_the_readme_points_at_the_compose_file_and_the_lock() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "[compose.yaml](compose.yaml)" in readme
    assert "requirements.lock" in readme
