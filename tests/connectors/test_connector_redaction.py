"""Every secret a connector holds is redacted wherever it shows up: the ones it reads (at
each login, so a rotated secret file too) and the ones it mints (a HubSpot access token
from an OAuth refresh, a Salesforce session from a grant). Connectors import nothing of
handoff_sync, so ``connect.build_connector`` hands them the hook that registers each value;
the checks go through the real log pipeline (``handoff_sync.daemon.logs``), fields and exception
text both, as a vendor library's error would carry a token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from connectors.salesforce.connector import SalesforceConnector
from handoff_sync.config.load import load_config
from handoff_sync.daemon.logs import configure_logging
from handoff_sync.safety import redaction
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.sync.connect import build_connector
from tests.sandbox.test_salesforce_sandbox import control
from tests.unit.test_config_connect import config_file


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    redaction.forget_all()
    yield
    redaction.forget_all()


def leak_into_the_log(value: str, capsys: pytest.CaptureFixture[str]) -> str:
    """Log ``value`` in a field and in an exception's text, as JSON lines; what was printed."""
    configure_logging("info", "json")
    log = structlog.get_logger("connectors.vendor")
    capsys.readouterr()
    try:
        raise RuntimeError(f"the server refused {value!r} (expired?)")
    except RuntimeError:
        log.error("call_failed", detail=f"sent {value}", exc_info=True)
    err = capsys.readouterr().err
    [line] = [json.loads(x) for x in err.splitlines() if '"call_failed"' in x]
    assert "[redacted]" in line["detail"] and "[redacted]" in line["exception"]
    return err


def connections(sandbox: SandboxServer, tmp_path: Path, **salesforce: str) -> Path:
    """A config file: Salesforce with ``salesforce``'s auth keys, HubSpot by OAuth."""
    (tmp_path / "ca.pem").write_text(Path(sandbox.ca_file).read_text())
    crm = {"system": "salesforce", "login_url": sandbox.base_url, "ca_file": "ca.pem",
           **salesforce}
    prm = {"system": "hubspot", "host": sandbox.base_url, "auth": "oauth",
           "client_id": "${HS_ID}", "client_secret": "${HS_SECRET}",
           "refresh_token": "${HS_REFRESH}", "ca_file": "ca.pem"}
    return config_file(tmp_path, "".join(
        f"{name}:\n" + "".join(f"  {key}: {value}\n" for key, value in keys.items())
        for name, keys in (("crm", crm), ("prm", prm))))


def test_a_rotated_secret_file_read_at_the_next_login_is_redacted(
        sandbox: SandboxServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    session_file = tmp_path / "sf-session"
    session_file.write_text(sandbox.sandbox.credentials.sf_session_id + "\n")
    session_file.chmod(0o600)
    file = connections(sandbox, tmp_path, auth="session",
                       session_id=f"{{file: {session_file}}}", instance_url=sandbox.base_url)
    crm = build_connector(load_config(file, environ={}).connections["crm"], environ={})
    try:
        assert crm.owners()
        control(sandbox, "expire-sessions")  # the org ends the session ...
        rotated = sandbox.sandbox.credentials.sf_session_id
        session_file.write_text(rotated + "\n")  # ... and ops mount a fresh one
        assert crm.owners()  # a 401, then a login that reads the new file
    finally:
        crm.close()
    assert rotated not in leak_into_the_log(rotated, capsys)


def test_a_hubspot_access_token_minted_by_an_oauth_refresh_is_redacted(
        sandbox: SandboxServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    creds = sandbox.sandbox.credentials
    file = connections(sandbox, tmp_path, auth="session", session_id="${SF_SESSION}",
                       instance_url=sandbox.base_url)
    environ = {"HS_ID": creds.hs_client_id, "HS_SECRET": creds.hs_client_secret,
               "HS_REFRESH": creds.hs_refresh_token}
    prm = build_connector(load_config(file, environ={}).connections["prm"], environ=environ)
    try:
        assert prm.owners()  # the first call refreshes
        minted = prm.transport.tokens.bearer()  # type: ignore[union-attr]
        control(sandbox, "expire-sessions")
        assert prm.owners()  # a 401, then a second refresh
        renewed = prm.transport.tokens.bearer()  # type: ignore[union-attr]
    finally:
        prm.close()
    assert minted != renewed
    err = leak_into_the_log(minted, capsys) + leak_into_the_log(renewed, capsys)
    assert minted not in err and renewed not in err


@pytest.mark.parametrize("kind", ["jwt_bearer", "client_credentials"])
def test_a_salesforce_session_minted_by_a_grant_is_redacted(
        sandbox: SandboxServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        kind: str) -> None:
    creds = sandbox.sandbox.credentials
    grant = ({"private_key": "${SF_KEY}", "username": creds.sf_username}
             if kind == "jwt_bearer" else {"client_secret": "${SF_SECRET}"})
    file = connections(sandbox, tmp_path, auth=kind, client_id=creds.sf_client_id, **grant)
    environ = {"SF_KEY": creds.jwt_private_key_pem, "SF_SECRET": creds.sf_client_secret}
    crm = build_connector(load_config(file, environ={}).connections["crm"], environ=environ)
    assert isinstance(crm, SalesforceConnector)
    try:
        assert crm.owners()
    finally:
        crm.close()
    # What the sandbox handed out: the only copy outside the connector.
    [session] = sandbox.sandbox.salesforce.tokens
    assert session not in leak_into_the_log(session, capsys)
