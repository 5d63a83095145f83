"""A system that cannot be reached or refuses us, as an operator meets it: `sync --once` and
`plan` against the sandbox's config with one thing wrong exit 1 with one line on stderr
that names the system, the connection, host:port, the class of failure and what to check
(the config key and its line), no traceback, and never a promise to try again later: a
one-shot command has no later. It fails fast: one attempt, not two minutes of backoff.
Only the daemon retries such a call and says its next cycle will try again.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from handoff_sync.cli.main import main
from handoff_sync.config.load import load_config
from handoff_sync.safety import redaction
from handoff_sync.sandbox.core import tls
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store import Store
from handoff_sync.store.types import RunOutcome
from handoff_sync.sync.cycle import PipelineRunner
from handoff_sync.sync.failures import NEXT_CYCLE
from tests.e2e.sync_support import configured_sandbox

COMMANDS = {"sync": ["sync", "--once"], "plan": ["plan"]}
PROMISE = re.compile(r"\bagain\b|\blater\b|next cycle")  # "try again later" and kin


@pytest.fixture
def config(sandbox: SandboxServer, tmp_path: Path) -> Iterator[Path]:
    file = configured_sandbox(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/c.db",
                              deals=6, partners=2)
    assert main(["--log-level", "error", "migrate", "--config", str(file)]) == 0
    yield file
    redaction.forget_all()


def free_port() -> int:
    """A port nothing listens on: bound, read, closed."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def edit(config: Path, old: str, new: str) -> int:
    """Replace ``old`` on the first line holding it (the CRM's section comes first) and
    return that line's 1-based number."""
    lines = config.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if old in line)
    lines[index] = lines[index].replace(old, new)
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return index + 1


def url_line(config: Path, key: str, url: str) -> int:
    """Point the connection key (login_url: the CRM's; host: the PRM's) at ``url``."""
    text = config.read_text(encoding="utf-8")
    [current] = re.findall(rf'^\s+{key}: ("[^"]+")$', text, flags=re.MULTILINE)
    return edit(config, f"{key}: {current}", f'{key}: "{url}"')


def one_line(capsys: pytest.CaptureFixture[str], config: Path, command: str) -> str:
    capsys.readouterr()
    code = main(["--log-level", "error", *COMMANDS[command], "--config", str(config)])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""  # nothing was synced or planned: no summary of zeros
    assert "Traceback" not in err
    [line] = err.splitlines()
    assert not PROMISE.search(line)  # a one-shot command promises no later
    verb = "failed" if command == "sync" else "cannot plan"
    assert line.startswith(f"handoff-sync {command}: pipeline partners: {verb} (")
    return line


@pytest.mark.parametrize("command", COMMANDS)
def test_nothing_listening_on_the_crm_port(config: Path, command: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    line_no = url_line(config, "login_url", f"https://127.0.0.1:{port}")
    line = one_line(capsys, config, command)
    assert "(unreachable): salesforce connection 'crm': could not connect to Salesforce at " \
           f"127.0.0.1:{port}" in line
    assert "connection refused (nothing listens on that port)" in line
    assert line.endswith("is Salesforce (or the sandbox) running on that port? check "
                         f"connections.crm.login_url in {config}:{line_no}")


@pytest.mark.parametrize("command", COMMANDS)
def test_a_prm_host_name_that_does_not_resolve(config: Path, command: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    line_no = url_line(config, "host", "https://prm.example.invalid:8443")
    line = one_line(capsys, config, command)
    assert "(unreachable): hubspot connection 'prm': could not connect to HubSpot at " \
           "prm.example.invalid:8443" in line
    assert "the host name does not resolve (DNS)" in line
    assert line.endswith("is the host name right? check connections.prm.host in "
                         f"{config}:{line_no}")


@pytest.mark.parametrize("command", COMMANDS)
def test_a_ca_file_that_did_not_sign_the_servers_certificate(
        config: Path, command: str, sandbox: SandboxServer,
        capsys: pytest.CaptureFixture[str]) -> None:
    (config.parent / "other-ca.pem").write_text(tls.generate().ca_pem)
    line_no = edit(config, "ca_file: ca.pem", "ca_file: other-ca.pem")  # the CRM's
    line = one_line(capsys, config, command)
    endpoint = sandbox.base_url.removeprefix("https://")
    assert f"(tls): salesforce connection 'crm': Salesforce's TLS certificate at {endpoint} " \
           "does not verify against the CA this connection trusts" in line
    assert line.endswith(f"is ca_file the server's CA? check connections.crm.ca_file in "
                         f"{config}:{line_no}")


@pytest.mark.parametrize("command", COMMANDS)
def test_a_token_the_prm_does_not_accept(config: Path, command: str, sandbox: SandboxServer,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    token_file = config.parent / "secrets" / "hubspot-access-token"
    token_file.write_text("pat-na1-00000000-0000-0000-0000-000000000000\n")
    line_no = edit(config, "access_token: {file: secrets/hubspot-access-token}",
                   "access_token: {file: secrets/hubspot-access-token}")
    line = one_line(capsys, config, command)
    endpoint = sandbox.base_url.removeprefix("https://")
    assert f"(auth): hubspot connection 'prm' at {endpoint}: HubSpot refused the " \
           "credentials" in line
    assert line.endswith(f"is the secret in {token_file} current? check "
                         f"connections.prm.access_token in {config}:{line_no}")
    assert "pat-na1-0000" not in line


def test_a_jwt_key_the_crm_does_not_accept(config: Path, sandbox: SandboxServer,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    key_file = config.parent / "secrets" / "salesforce-jwt-key.pem"
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file.write_bytes(other.private_bytes(serialization.Encoding.PEM,
                                             serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    line_no = edit(config, "private_key: {file:", "private_key: {file:")
    line = one_line(capsys, config, "sync")
    endpoint = sandbox.base_url.removeprefix("https://")
    assert f"(auth): salesforce connection 'crm' at {endpoint}: Salesforce refused the " \
           "login" in line
    assert line.endswith(f"is the secret in {key_file} current? check "
                         f"connections.crm.private_key in {config}:{line_no}")


def test_a_one_shot_command_makes_one_attempt_and_the_json_says_why(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url_line(config, "login_url", f"https://127.0.0.1:{free_port()}")
    capsys.readouterr()
    code = main(["--log-level", "error", "sync", "--once", "--json", "--config", str(config)])
    out, _ = capsys.readouterr()
    [summary] = json.loads(out)
    assert code == 1 and summary["outcome"] == "failed"
    assert summary["api_calls"]["salesforce"]["total"] == 1  # not retried
    assert summary["message"].startswith("CannotConnect: salesforce connection 'crm': ")
    assert not PROMISE.search(summary["message"])
    # `status` shows the same words for the recorded run.
    code = main(["--log-level", "error", "status", "--json", "--config", str(config)])
    assert code == 0 and "connection refused" in capsys.readouterr().out


def test_the_daemon_retries_and_says_its_next_cycle_tries_again(config: Path) -> None:
    url_line(config, "login_url", f"https://127.0.0.1:{free_port()}")
    edit(config, "    ca_file: ca.pem", "    ca_file: ca.pem\n    retry: {max_attempts: 3, "
         "initial_wait_seconds: 0.01, max_wait_seconds: 0.01}")
    loaded = load_config(config)
    with Store.connect(loaded.database.url) as store:
        runner = PipelineRunner(loaded, loaded.pipelines[0], store, holder="t", daemon=True)
        try:
            report = runner.run_cycle()
        finally:
            runner.close()
    assert report.outcome is RunOutcome.FAILED
    assert report.api_calls["salesforce"]["total"] == 3  # retried to the configured end
    assert report.message is not None
    assert report.message.startswith("RetriesExhausted: salesforce connection 'crm': "
                                     "salesforce login at https://127.0.0.1:")
    assert "connection refused (nothing listens on that port)" in report.message
    assert report.message.endswith(f"check connections.crm.login_url in {config}:24; "
                                   f"{NEXT_CYCLE}")
