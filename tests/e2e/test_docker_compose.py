"""The image and compose.yaml, run for real where a Docker engine is available.

Opt-in (it builds an image and pulls postgres:16): ``HANDOFF_SYNC_DOCKER_TEST=1``. CI has
no engine; tests/test_docker.py checks the same files there. A copy of the checkout is
the compose project, so `build: .` and every path in compose.yaml are used as written;
an override file adds only the sandbox (a service in the image, reached as
https://sandbox:8765) for the daemon to sync with. Checked: the daemon's container turns
healthy through its HEALTHCHECK, two cycles finish ok against PostgreSQL, and
`docker stop` ends it with exit code 0.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from handoff_sync.cli.main import main
from tests.e2e.test_readme import copy_checkout

pytestmark = [
    pytest.mark.heavy,
    pytest.mark.skipif(os.environ.get("HANDOFF_SYNC_DOCKER_TEST") != "1",
                       reason="opt-in: set HANDOFF_SYNC_DOCKER_TEST=1 where a Docker engine "
                              "runs (builds the image, runs compose.yaml)"),
]

OVERRIDE = """\
services:
  sandbox:
    image: handoff-sync-compose-check
    entrypoint: ["handoff-sync"]
    command: ["sandbox", "--host", "sandbox", "--port", "8765", "--deals", "60"]
    environment: {{HANDOFF_SYNC_SANDBOX_CONTROL_TOKEN: "{token}"}}
    ports: ["127.0.0.1:{port}:8765"]
  handoff-sync:
    depends_on: [sandbox]
"""


def compose_command() -> list[str]:
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.skip("neither `docker compose` nor docker-compose is installed")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(2)
    pytest.fail(f"{what} within {timeout:g} s")


def test_compose_example_runs_healthy_syncs_and_stops_cleanly(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    compose = compose_command()
    project = tmp_path / "handoff"
    project.mkdir()
    copy_checkout(project)
    token, password, port = secrets.token_hex(16), secrets.token_hex(16), free_port()
    (project / ".env").write_text(f"DB_PASSWORD={password}\n")
    (project / "compose.override.yaml").write_text(OVERRIDE.format(token=token, port=port))
    subprocess.run(["docker", "build", "-q", "-t", "handoff-sync-compose-check", str(project)],
                   check=True, capture_output=True)
    env = {**os.environ, "COMPOSE_PROJECT_NAME": f"hscheck{port}"}

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*compose, *args], cwd=project, env=env, check=check,
                              capture_output=True, text=True)

    try:
        run("up", "-d", "sandbox")
        # The config, as the README says: init against the sandbox, then the paths the
        # container sees (/config) and a server reachable from outside the container.
        config = project / "config"
        monkeypatch.setenv("HANDOFF_SYNC_SANDBOX_CONTROL_TOKEN", token)
        monkeypatch.setenv("DB_PASSWORD", password)
        wait_until(lambda: main(["init", "--sandbox", f"https://127.0.0.1:{port}", "--out",
                                 str(config / "handoff-sync.yaml"), "--force", "--database",
                                 "postgresql://handoff:${DB_PASSWORD}@db/handoff"]) == 0,
                   60, "init could not reach the sandbox")
        shutil.copytree(project / "mappings", config / "mappings")
        text = (config / "handoff-sync.yaml").read_text()
        shipped = str((Path(__file__).resolve().parents[2] / "mappings").resolve())
        text = (text.replace(shipped, "/config/mappings").replace(str(config), "/config")
                .replace(f"https://127.0.0.1:{port}", "https://sandbox:8765"))
        document = yaml.safe_load(text)
        document["server"] = {**(document.get("server") or {}), "host": "0.0.0.0"}
        document["schedule"] = {**(document.get("schedule") or {}), "interval_seconds": 5,
                                "jitter_seconds": 0}
        (config / "handoff-sync.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
        for path in config.rglob("*"):
            os.chown(path, 10001, -1)  # the image's user reads its secrets

        run("up", "-d")
        container = run("ps", "-q", "handoff-sync").stdout.strip()

        def health() -> str:
            return subprocess.run(["docker", "inspect", "-f", "{{.State.Health.Status}}",
                                   container], capture_output=True, text=True).stdout.strip()

        wait_until(lambda: health() == "healthy", 240, "the daemon never turned healthy")

        def cycles_ok() -> bool:
            logs = run("logs", "--no-color", "handoff-sync").stdout
            finished = [json.loads(line[line.index("{"):]) for line in logs.splitlines()
                        if '"cycle_finished"' in line]
            return sum(1 for entry in finished if entry.get("outcome") == "ok") >= 2

        wait_until(cycles_ok, 180, "two cycles did not finish ok")
        subprocess.run(["docker", "stop", container], check=True, capture_output=True)
        code = subprocess.run(["docker", "inspect", "-f", "{{.State.ExitCode}}", container],
                              capture_output=True, text=True).stdout.strip()
        assert code == "0", run("logs", "--no-color", "handoff-sync").stdout[-3000:]
    except BaseException:
        # What went wrong, in the test's output: every service's log, the health probes.
        print(run("logs", "--no-color", check=False).stdout[-20000:])
        print(subprocess.run(["docker", "inspect", "-f", "{{json .State.Health}}",
                              run("ps", "-q", "handoff-sync", check=False).stdout.strip()],
                             capture_output=True, text=True).stdout)
        raise
    finally:
        run("down", "-v", "--remove-orphans", check=False)
