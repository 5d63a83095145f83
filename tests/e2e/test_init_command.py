"""`handoff-sync init` as a user runs it: the template, the sandbox config, and refusals."""

from __future__ import annotations

import json
import logging
import socket
import ssl
import stat
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import structlog

from handoff_sync.cli.main import main
from handoff_sync.config.load import load_config
from handoff_sync.sandbox.core import tls
from handoff_sync.sandbox.server import SandboxServer


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """cli.main points the loggers at this test's captured stderr; later tests must not
    write to it after pytest closes it."""
    saved, root = structlog.get_config(), logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.configure(**saved)
    root.handlers[:] = handlers
    root.setLevel(level)


def handoff_sync(*argv: str) -> int:
    """The `handoff-sync` command line, in-process (so the sandbox fixture serves it)."""
    return main(list(argv))


def one_error(capsys: pytest.CaptureFixture[str], argv: Sequence[str]) -> str:
    assert handoff_sync(*argv) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("handoff-sync init: ")
    return lines[0]


# --- the template ---------------------------------------------------------------------------

def test_template_is_written_once_unless_forced(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "etc" / "handoff-sync.yaml"
    assert handoff_sync("init", "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed
    assert f"handoff-sync migrate --config {out}" in printed
    assert f"handoff-sync sync --config {out}" in printed
    assert "private_key: ${SF_JWT_KEY}" in out.read_text()

    out.write_text("# edited by the operator\n")
    error = one_error(capsys, ["init", "--out", str(out)])
    assert error == f"handoff-sync init: {out} already exists; pass --force to overwrite"
    assert out.read_text() == "# edited by the operator\n"
    assert handoff_sync("init", "--out", str(out), "--force") == 0
    assert "version: 1" in out.read_text()


def test_out_must_be_a_file_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    error = one_error(capsys, ["init", "--out", str(tmp_path)])
    assert f"{tmp_path} is a folder" in error


# --- the sandbox config ---------------------------------------------------------------------

def test_sandbox_config_works_at_once(sandbox: SandboxServer, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cfg.yaml"
    assert handoff_sync("init", "--sandbox", sandbox.base_url, "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert f"handoff-sync migrate --config {out}" in printed
    assert f"handoff-sync sync --config {out}" in printed

    creds = sandbox.sandbox.credentials
    secrets = tmp_path / "secrets"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700
    key, token = secrets / "salesforce-jwt-key.pem", secrets / "hubspot-access-token"
    for file in (key, token):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert key.read_text().strip() == creds.jwt_private_key_pem.strip()
    assert token.read_text().strip() == creds.hs_access_token
    assert (tmp_path / "ca.pem").read_text() == Path(sandbox.ca_file).read_text()

    text = out.read_text()
    assert creds.hs_access_token not in text and "PRIVATE KEY" not in text
    assert creds.hs_access_token not in printed and "PRIVATE KEY" not in printed
    config = load_config(out, environ={})
    assert config.schedule.interval_seconds == 30
    assert config.database.url == f"sqlite:///{tmp_path}/handoff-sync.db"
    crm, prm = config.connections["crm"], config.connections["prm"]
    assert (crm.system, crm.auth, crm.login_url) == (  # type: ignore[union-attr]
        "salesforce", "jwt_bearer", sandbox.base_url)
    assert (crm.client_id, crm.username) == (creds.sf_client_id, creds.sf_username)  # type: ignore[union-attr]
    assert (prm.system, prm.host) == ("hubspot", sandbox.base_url)  # type: ignore[union-attr]
    [pipeline] = config.pipelines
    assert (pipeline.name, pipeline.prm, pipeline.crm) == ("partners", "prm", "crm")
    assert pipeline.mappings == Path(__file__).resolve().parents[2] / "mappings"


def test_sandbox_options_and_force(sandbox: SandboxServer, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cfg.yaml"
    mappings = Path(__file__).resolve().parents[2] / "mappings"
    argv = ["init", "--sandbox", sandbox.base_url + "/", "--out", str(out),
            "--mappings", str(mappings), "--database", "sqlite:///state/sync.db"]
    assert handoff_sync(*argv) == 0
    capsys.readouterr()
    config = load_config(out, environ={})
    assert config.database.url == f"sqlite:///{tmp_path}/state/sync.db"

    error = one_error(capsys, argv)
    assert "already exist; pass --force to overwrite" in error
    token = tmp_path / "secrets" / "hubspot-access-token"
    token.chmod(0o644)
    assert handoff_sync(*argv, "--force") == 0
    assert stat.S_IMODE(token.stat().st_mode) == 0o600  # an old, too open file is fixed


def test_sandbox_must_be_on_loopback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cfg.yaml"
    error = one_error(capsys, ["init", "--sandbox", "https://sandbox.example.com:8765",
                               "--out", str(out)])
    assert "only talks to a sandbox on this machine" in error
    assert "not sandbox.example.com" in error
    error = one_error(capsys, ["init", "--sandbox", "http://127.0.0.1:8765", "--out", str(out)])
    assert "takes the sandbox's https:// URL" in error
    assert not out.exists()


def test_sandbox_not_running(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = one_error(capsys, ["init", "--sandbox", f"https://127.0.0.1:{port}",
                               "--out", str(tmp_path / "cfg.yaml")])
    assert error == (f"handoff-sync init: cannot reach the sandbox at https://127.0.0.1:{port}: "
                     "connection refused (nothing listens on that port); start it with "
                     "`handoff-sync sandbox` and pass the URL it prints")
    assert list(tmp_path.iterdir()) == []


def test_missing_mappings_folder(sandbox: SandboxServer, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    error = one_error(capsys, ["init", "--sandbox", sandbox.base_url, "--out",
                               str(tmp_path / "cfg.yaml"), "--mappings", str(tmp_path / "no")])
    assert error == (f"handoff-sync init: the mappings folder {tmp_path / 'no'} does not "
                     "exist; pass --mappings DIR")


@pytest.fixture
def impostor(tmp_path: Path) -> Iterator[str]:
    """A loopback HTTPS server that answers like the sandbox but sends a CA that did not
    sign its certificate (what a process squatting on the port could do)."""
    served, other = tls.generate(), tls.generate()
    _, cert_file, key_file = served.write(tmp_path / "impostor")
    body = json.dumps({
        "base_url": "", "ca_pem": other.ca_pem,
        "salesforce": {"client_id": "x", "username": "u", "api_version": "59.0",
                       "jwt_private_key_pem": "k"},
        "hubspot": {"access_token": "t"}}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_ca_that_does_not_verify_the_server_is_refused(impostor: str, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    out = tmp_path / "conf" / "cfg.yaml"
    error = one_error(capsys, ["init", "--sandbox", impostor, "--out", str(out)])
    assert error == (f"handoff-sync init: the CA that {impostor} sent does not verify its "
                     "certificate; is something else listening there?")
    assert not (tmp_path / "conf").exists()
