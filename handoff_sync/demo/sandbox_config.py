"""A daemon config for a running sandbox (`init --sandbox URL`, and the demo): the sandbox's
credentials and CA fetched over its HTTP control plane, kept in files beside the config.

The sandbox's CA is not known before the first request, so that request skips TLS
verification; that is safe only on loopback, which is why other hosts are refused. A
second request, verified with the CA just received, proves the CA belongs to the server.
"""

from __future__ import annotations

import os
import shlex
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import InsecureRequestWarning

from connectors.error_table import connect_cause
from connectors.errors import CAUSES
from handoff_sync.config.init_files import (
    DEFAULT_DATABASE,
    InitError,
    InitResult,
    Written,
    choose_pack,
    refuse_existing,
    sides,
    write,
    write_secret,
)
from handoff_sync.config.load import load_config
from handoff_sync.config.template import render_sandbox
from handoff_sync.sandbox.core.loopback import CONTROL_TOKEN_ENV, is_loopback

CREDENTIALS_PATH = "/__sandbox__/credentials"
SANDBOX_TIMEOUT_SECONDS = 10.0
SECRETS_FOLDER = "secrets"
SF_KEY_FILE = "salesforce-jwt-key.pem"
HS_TOKEN_FILE = "hubspot-access-token"
CA_FILE = "ca.pem"


# --- the sandbox config ---------------------------------------------------------------

@dataclass(frozen=True)
class SandboxCredentials:
    """What the config needs from /__sandbox__/credentials; repr hides the secrets."""

    base_url: str
    ca_pem: str
    sf_client_id: str
    sf_username: str
    sf_api_version: str
    sf_private_key_pem: str
    hs_access_token: str

    def __repr__(self) -> str:
        return (f"SandboxCredentials(base_url={self.base_url!r}, "
                f"sf_client_id={self.sf_client_id!r}, sf_username={self.sf_username!r}, "
                "secrets=<redacted>)")


def write_sandbox_config(url: str, out: Path, *, force: bool = False, pack: str | None = None,
                         mappings: Path | None = None, database: str | None = None,
                         timeout: float = SANDBOX_TIMEOUT_SECONDS) -> InitResult:
    """Fetch the sandbox's credentials and CA, write them and a config that connects
    ``pack``'s systems (default: the default pack, or the one ``mappings`` holds), check
    that the config loads; returns what was written and the lines to print."""
    base_url = loopback_url(url)
    folder = out.resolve().parent
    secrets = folder / SECRETS_FOLDER
    key_file, token_file, ca_file = secrets / SF_KEY_FILE, secrets / HS_TOKEN_FILE, \
        folder / CA_FILE
    refuse_existing([out, ca_file, key_file, token_file], force)
    chosen = choose_pack(pack, mappings)
    mappings_folder = (mappings if mappings is not None else chosen.folder).resolve()
    if not mappings_folder.is_dir():
        how = "" if mappings is not None else " (an installed package ships none)"
        raise InitError(f"the mappings folder {mappings_folder} does not exist{how}; pass "
                        "--mappings DIR")
    credentials = fetch_sandbox_credentials(base_url, timeout=timeout)
    folder.mkdir(parents=True, exist_ok=True)
    write(ca_file, credentials.ca_pem)
    secrets.mkdir(mode=0o700, exist_ok=True)
    secrets.chmod(0o700)  # mkdir's mode is masked by the umask, and the folder may exist
    write_secret(key_file, credentials.sf_private_key_pem)
    write_secret(token_file, credentials.hs_access_token)
    write(out, render_sandbox(
        url=base_url, mappings=str(mappings_folder), database=database or DEFAULT_DATABASE,
        sf_client_id=credentials.sf_client_id, sf_username=credentials.sf_username,
        sf_api_version=credentials.sf_api_version, sides=sides(chosen)))
    config = load_config(out)
    quoted = shlex.quote(str(out))
    commands = (f"handoff-sync migrate --config {quoted}",
                f"handoff-sync sync --config {quoted}")
    restart = ("the sandbox makes new credentials each time it starts: after restarting it, "
               "run this again with --force")
    lines = (
        f"wrote {out}: pipeline partners, {chosen.label()} at {base_url}",
        f"      {ca_file}: the sandbox's CA certificate",
        f"      {key_file}, {token_file}: the sandbox's secrets (owner-only)",
        f"      database: {config.database.url}; mappings: {mappings_folder}",
        restart,
        f"next: {commands[0]}",
        f"      {commands[1]}",
    )
    return InitResult(lines, out, chosen, mappings_folder, str(config.database.url),
                      (Written(out, "config"), Written(ca_file, "ca"),
                       Written(key_file, "secret"), Written(token_file, "secret")),
                      commands, sandbox=base_url, notes=(restart,))


def loopback_url(url: str) -> str:
    """``https://HOST:PORT`` of a loopback URL; InitError for anything else."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname:
        raise InitError(f"--sandbox takes the sandbox's https:// URL as `handoff-sync "
                        f"sandbox` prints it (e.g. https://127.0.0.1:8765), not {url!r}")
    if not is_loopback(parts.hostname):
        raise InitError(f"--sandbox only talks to a sandbox on this machine (127.0.0.1, ::1 "
                        f"or localhost), not {parts.hostname}: its first request cannot "
                        "verify TLS")
    try:
        _ = parts.port  # raises ValueError for a port out of range
    except ValueError:
        raise InitError(f"{url!r} has an invalid port") from None
    return f"https://{parts.netloc}"


def fetch_sandbox_credentials(base_url: str, *,
                              timeout: float = SANDBOX_TIMEOUT_SECONDS) -> SandboxCredentials:
    """The credentials document, fetched twice: unverified to learn the CA, then verified
    with that CA (and the answer of the verified request is the one used)."""
    first = _credentials(_get(base_url, verify=False, timeout=timeout), base_url)
    with tempfile.TemporaryDirectory(prefix="handoff-sync-init-") as tmp:
        bundle = Path(tmp) / CA_FILE
        bundle.write_text(first.ca_pem, encoding="utf-8")
        verified = _credentials(_get(base_url, verify=str(bundle), timeout=timeout), base_url)
    if verified.ca_pem != first.ca_pem:
        raise InitError(f"the sandbox at {base_url} changed its CA between two requests; "
                        "run init again")
    return verified


def _control_headers() -> dict[str, str]:
    """A sandbox beyond loopback answers its control plane only with its token."""
    token = os.environ.get(CONTROL_TOKEN_ENV, "").strip()
    return {"Authorization": f"Bearer {token}"} if token else {}


def _get(base_url: str, *, verify: bool | str, timeout: float) -> Any:
    session = requests.Session()
    session.trust_env = False  # no proxy and no REQUESTS_CA_BUNDLE for a loopback call
    url = base_url + CREDENTIALS_PATH
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureRequestWarning)
            response = session.get(url, verify=verify, timeout=timeout,
                                   headers=_control_headers())
    except requests.exceptions.SSLError:
        if verify is False:
            raise InitError(f"cannot talk TLS to {base_url}: is it the sandbox (`handoff-sync "
                            "sandbox`)?") from None
        raise InitError(f"the CA that {base_url} sent does not verify its certificate; is "
                        "something else listening there?") from None
    except requests.exceptions.ConnectionError as exc:
        cause = connect_cause(exc)
        why = f": {CAUSES[cause]}" if cause else ""
        raise InitError(f"cannot reach the sandbox at {base_url}{why}; start it with "
                        "`handoff-sync sandbox` and pass the URL it prints") from None
    except requests.exceptions.RequestException as exc:
        raise InitError(f"cannot read {url}: {type(exc).__name__}") from None
    finally:
        session.close()
    if response.status_code == 401:
        raise InitError(f"the sandbox at {base_url} wants its control token: set "
                        f"{CONTROL_TOKEN_ENV} to the token it was started with")
    if response.status_code != 200:
        raise InitError(f"{url} answered HTTP {response.status_code}: is {base_url} the "
                        "handoff-sync sandbox?")
    try:
        return response.json()
    except ValueError:
        raise InitError(f"{url} did not answer JSON: is {base_url} the handoff-sync "
                        "sandbox?") from None


def _credentials(document: Any, base_url: str) -> SandboxCredentials:
    def text(section: str | None, key: str) -> str:
        holder = document.get(section) if section else document
        value = holder.get(key) if isinstance(holder, Mapping) else None
        if not isinstance(value, str) or not value.strip():
            where = f"{section}.{key}" if section else key
            raise InitError(f"{base_url}{CREDENTIALS_PATH} has no {where}: is it the "
                            "handoff-sync sandbox?")
        return value

    if not isinstance(document, Mapping):
        raise InitError(f"{base_url}{CREDENTIALS_PATH} is not a JSON object: is it the "
                        "handoff-sync sandbox?")
    ca_pem = text(None, "ca_pem")
    if "BEGIN CERTIFICATE" not in ca_pem:
        raise InitError(f"{base_url}{CREDENTIALS_PATH} has no PEM certificate in ca_pem")
    return SandboxCredentials(
        base_url=base_url, ca_pem=ca_pem,
        sf_client_id=text("salesforce", "client_id"),
        sf_username=text("salesforce", "username"),
        sf_api_version=text("salesforce", "api_version"),
        sf_private_key_pem=text("salesforce", "jwt_private_key_pem"),
        hs_access_token=text("hubspot", "access_token"))


