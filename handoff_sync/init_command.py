"""`handoff-sync init`: write a daemon config file to start from.

Two ways in:
* ``init --out FILE`` writes the commented template for real orgs: every key with a
  comment, secrets as ``${VARS}`` to set before the first run.
* ``init --sandbox URL --out FILE`` writes a config that works at once against the loopback
  sandbox (`handoff-sync sandbox`): it fetches the sandbox's credentials and CA, keeps the
  secrets in files beside the config (``secrets/``, owner-only) and refers to them as
  ``{file: ...}``, so no secret is ever in the config file itself.

The sandbox's CA is not known before the first request, so that request skips TLS
verification; that is safe only on loopback, which is why other hosts are refused. A
second request, verified with the CA just received, proves the CA belongs to the server.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import InsecureRequestWarning

import handoff_sync
from handoff_sync.config import ConfigError, load_config
from handoff_sync.config_template import render_sandbox, render_template
from handoff_sync.sandbox.core.loopback import CONTROL_TOKEN_ENV, is_loopback

CREDENTIALS_PATH = "/__sandbox__/credentials"
DEFAULT_DATABASE = "sqlite:///handoff-sync.db"
SANDBOX_TIMEOUT_SECONDS = 10.0
SECRETS_FOLDER = "secrets"
SF_KEY_FILE = "salesforce-jwt-key.pem"
HS_TOKEN_FILE = "hubspot-access-token"
CA_FILE = "ca.pem"


class InitError(Exception):
    """Why init wrote nothing (or stopped); one line, ready to print."""


def default_mappings() -> Path:
    """The mappings folder shipped beside the package (a source checkout has one)."""
    return Path(handoff_sync.__file__).resolve().parent.parent / "mappings"


def add_init_command(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "init", help="write a daemon config file (a commented template, or one for the sandbox)",
        description="Write a daemon config file. Without --sandbox: a commented template for "
                    "real orgs, secrets as ${VARS} to set. With --sandbox URL: a config that "
                    "works at once against the loopback sandbox, with its CA (ca.pem) and "
                    "secrets (secrets/, owner-only) beside the config.")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE",
                        help="the config file to write, e.g. handoff-sync.yaml")
    parser.add_argument("--sandbox", metavar="URL", default=None,
                        help="the loopback sandbox's URL as `handoff-sync sandbox` prints it, "
                             "e.g. https://127.0.0.1:8765")
    parser.add_argument("--mappings", type=Path, default=None, metavar="DIR",
                        help="the mappings folder (default: ./mappings next to FILE; with "
                             "--sandbox, the mappings shipped with handoff-sync)")
    parser.add_argument("--database", default=None, metavar="URL",
                        help=f"database URL (default: {DEFAULT_DATABASE}, next to FILE)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite files that already exist")
    parser.set_defaults(func=run_init)


def run_init(args: argparse.Namespace) -> int:
    try:
        if args.sandbox is None:
            lines = write_template(args.out, force=args.force, mappings=args.mappings,
                                   database=args.database)
        else:
            lines = write_sandbox_config(args.sandbox, args.out, force=args.force,
                                         mappings=args.mappings, database=args.database)
    except InitError as exc:
        print(f"handoff-sync init: {exc}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        print(f"handoff-sync init: the config written to {args.out} does not load; fix the "
              "problems above (or the options given) and run init again with --force",
              file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


# --- the template for real orgs -------------------------------------------------------

def write_template(out: Path, *, force: bool = False, mappings: Path | None = None,
                   database: str | None = None) -> list[str]:
    """Write the commented template; returns the lines to print."""
    _refuse_existing([out], force)
    shown = str(mappings.resolve()) if mappings is not None else "./mappings"
    _write(out, render_template(mappings=shown, database=database or DEFAULT_DATABASE))
    folder = mappings.resolve() if mappings is not None else out.resolve().parent / "mappings"
    config = shlex.quote(str(out))
    return [
        f"wrote {out}: a commented config template for real orgs",
        "next: set SF_CLIENT_ID, SF_USERNAME, SF_JWT_KEY and HUBSPOT_ACCESS_TOKEN (or point "
        "the secrets at files with {file: PATH}), review every key,",
        f"      put the mappings in {folder} (to start from: {default_mappings()}) and check "
        f"them: handoff-sync mappings validate --mappings {shlex.quote(str(folder))}",
        f"      handoff-sync migrate --config {config}",
        f"      handoff-sync sync --once --config {config}",
    ]


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


def write_sandbox_config(url: str, out: Path, *, force: bool = False,
                         mappings: Path | None = None, database: str | None = None,
                         timeout: float = SANDBOX_TIMEOUT_SECONDS) -> list[str]:
    """Fetch the sandbox's credentials and CA, write them and a config that uses them,
    check that the config loads; returns the lines to print."""
    base_url = loopback_url(url)
    folder = out.resolve().parent
    secrets = folder / SECRETS_FOLDER
    key_file, token_file, ca_file = secrets / SF_KEY_FILE, secrets / HS_TOKEN_FILE, \
        folder / CA_FILE
    _refuse_existing([out, ca_file, key_file, token_file], force)
    mappings_folder = (mappings if mappings is not None else default_mappings()).resolve()
    if not mappings_folder.is_dir():
        how = "" if mappings is not None else " (an installed package ships none)"
        raise InitError(f"the mappings folder {mappings_folder} does not exist{how}; pass "
                        "--mappings DIR")
    credentials = fetch_sandbox_credentials(base_url, timeout=timeout)
    folder.mkdir(parents=True, exist_ok=True)
    _write(ca_file, credentials.ca_pem)
    secrets.mkdir(mode=0o700, exist_ok=True)
    secrets.chmod(0o700)  # mkdir's mode is masked by the umask, and the folder may exist
    _write_secret(key_file, credentials.sf_private_key_pem)
    _write_secret(token_file, credentials.hs_access_token)
    _write(out, render_sandbox(
        url=base_url, mappings=str(mappings_folder), database=database or DEFAULT_DATABASE,
        sf_client_id=credentials.sf_client_id, sf_username=credentials.sf_username,
        sf_api_version=credentials.sf_api_version))
    config = load_config(out)
    quoted = shlex.quote(str(out))
    return [
        f"wrote {out}: pipeline partners, HubSpot (PRM) -> Salesforce (CRM) at {base_url}",
        f"      {ca_file}: the sandbox's CA certificate",
        f"      {key_file}, {token_file}: the sandbox's secrets (owner-only)",
        f"      database: {config.database.url}; mappings: {mappings_folder}",
        "the sandbox makes new credentials each time it starts: after restarting it, run "
        "this again with --force",
        f"next: handoff-sync migrate --config {quoted}",
        f"      handoff-sync sync --once --config {quoted}",
    ]


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
    except requests.exceptions.ConnectionError:
        raise InitError(f"cannot reach the sandbox at {base_url}: start it with "
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


# --- files ------------------------------------------------------------------------------

def _refuse_existing(files: list[Path], force: bool) -> None:
    for file in files:
        if file.is_dir():
            raise InitError(f"{file} is a folder; --out takes a file name, e.g. "
                            f"{file / 'handoff-sync.yaml'}")
    existing = [str(f) for f in files if f.exists()]
    if existing and not force:
        raise InitError(f"{', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}"
                        "; pass --force to overwrite")


def _write(file: Path, text: str) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text, encoding="utf-8")


def _write_secret(file: Path, value: str) -> None:
    """Write ``value`` readable by the owner only, whatever the umask or an older file."""
    descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(value.strip() + "\n")
