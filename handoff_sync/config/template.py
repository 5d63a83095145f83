"""The config files `handoff-sync init` writes: a commented template, and a sandbox config.

Both are plain text with comments (YAML libraries drop comments, so neither is built by
dumping the models). Every key of the template carries a comment; the tests load both
through ``load_config``, so a key renamed in the models cannot leave them stale.

Each system's connection is one block, written under the connection name of the side the
mapping pack gives it (``prm`` or ``crm``): the pack decides which system is which side.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from connectors.registry import SYSTEMS

CONNECTION_NAMES = {"prm": "prm", "crm": "crm"}
"""The connection each side is written under; the pipeline refers to these names."""

TEMPLATE_HEAD = """\
# handoff-sync daemon configuration (format version 1).
# Relative paths are relative to this file's folder. Secrets are never written here: a
# secret key takes ${ENV_VAR} (an environment variable) or {file: /path} (e.g. a mounted
# secret). ${NAME} also works in any other text value; `$${` writes a literal "${".
version: 1                              # format of this file

database:                               # where the daemon keeps its state
  # SQLite file for one daemon (a relative path: in $HANDOFF_SYNC_DATA_DIR if set, as in
  # the Docker image's /data, else in this folder); PostgreSQL (psycopg 3) for
  # production and for several replicas: postgresql+psycopg://USER@HOST:5432/DB
  # A password only as ${VAR}, or leave it out and set PGPASSWORD; ${DATABASE_URL} works.
  url: __DATABASE__

server:                                 # /healthz, /readyz and /metrics
  host: 127.0.0.1                       # loopback: only this host can reach it
  port: 9464                            # TCP port (0 picks a free one)
  unready_after_failed_cycles: 3        # /readyz 503 once a pipeline fails this many in a row

schedule:                               # when each pipeline syncs
  interval_seconds: 300                 # incremental cycle of each pipeline (at least 5)
  jitter_seconds: 30                    # random delay added to each start (<= interval)
  full_reconcile_cron: "0 2 * * *"      # full drift repair: minute hour day month weekday
  timezone: UTC                         # IANA zone of the crontab line, e.g. Europe/Paris
  lease_seconds: 60                     # a replica's claim on a pipeline lasts this long

connections:                            # name: settings; pipelines refer to the names
__CONNECTIONS__
  # A PRM without an API, exporting CSV / JSON Lines files into a folder:
  # drops:
  #   system: files
  #   folder: /srv/prm-exports          # only its top level is read; never modified
  #   id_field: registration_id         # column/key with the registration id (required)
  #   modified_field: updated_at        # row modification time (default: the file's)
  #   deleted_field: is_deleted         # true/yes/1 marks a deleted registration
  #   patterns: ["*.csv", "*.jsonl"]    # file names to read, ignoring case
  #   encoding: utf-8-sig               # text encoding (utf-8-sig also reads Excel's BOM)
  #   delimiter: ","                    # CSV delimiter (default: guessed per file)
  #   settle_seconds: 5                 # files younger than this are still being written

pipelines:                              # the PRM/CRM pairs to keep in step
# Two pipelines on one CRM object of one org must say how they share it in their CRM
# mapping files: disjoint `scope:` (one field, different values), or `outputs:`/`tasks:`
# in only one of them; otherwise each would add its own tasks to the same records.
  - name: partners                      # a-z 0-9 _ -; appears in logs, metrics, task keys
    prm: prm                            # the connection where partners register deals
    crm: crm                            # the connection where the direct team sells
    enabled: true                       # false: configured but not syncing
    create_opportunities: true          # false: grade only, never create an opportunity
    # the mappings folder: handoff.yaml + one file per system (relative to this file)
    mappings: __MAPPINGS__

console:                                # the admin web console: health, reviews, mappings
  enabled: false                        # true: `run` serves it on server.host:server.port
  host: 127.0.0.1                       # where `handoff-sync console` listens (loopback)
  port: 9465                            # its TCP port (0 picks a free one)
  session_minutes: 480                  # how long a login lasts
  # session_secret: ${CONSOLE_SESSION_SECRET}  # signs cookies; unset: restarts log all out
  users: []                             # who may log in (off loopback, someone must)
  # users:                              # `handoff-sync console hash-password` prints a hash
  #   - name: dana@vendor.example       # the login name
  #     role: admin                     # viewer reads; admin also saves, links, syncs
  #     password_hash: ${DANA_CONSOLE_HASH}   # argon2 hash, or ${VAR} holding it
  # identity_header: X-Forwarded-User   # or trust a reverse proxy's login header
  # trusted_proxies: [127.0.0.1, "::1"] # ... only from these peers
  # admins: [dana@vendor.example]       # ... these are admins, everyone else a viewer
"""

TEMPLATE_CONNECTIONS = {
    "salesforce": """\
    system: salesforce                  # salesforce | hubspot | files
    login_url: https://login.salesforce.com   # test.salesforce.com or a My Domain URL
    auth: jwt_bearer                    # jwt_bearer | client_credentials | password | session
    client_id: ${SF_CLIENT_ID}          # the connected app's consumer key (not a secret)
    username: ${SF_USERNAME}            # the integration user (jwt_bearer, password)
    private_key: ${SF_JWT_KEY}          # PEM key of the app's certificate (jwt_bearer)
    # client_secret: ${SF_CLIENT_SECRET}   # consumer secret (client_credentials, password)
    # password: ${SF_PASSWORD}             # the user's password (password)
    # security_token: ${SF_SECURITY_TOKEN} # appended to the password if required (password)
    # session_id: ${SF_SESSION_ID}         # an existing access token (session)
    # instance_url: https://MYDOMAIN.my.salesforce.com  # the org (session only)
    # jwt_audience: https://login.salesforce.com         # JWT aud, if not the default
    api_version: "59.0"                 # REST API version, in quotes
    # ca_file: ca.pem                   # CA bundle for a TLS-inspecting proxy
    timeout_seconds: 120                # longest wait for one response
    page_size: 2000                     # rows per query page (200-2000)
    bulk_threshold: 50000               # bigger pulls continue through Bulk API 2.0
    bulk_page_size: 50000               # rows per Bulk API 2.0 results request
    bulk_poll_seconds: 2                # pause between Bulk API 2.0 status checks
    bulk_timeout_seconds: 1800          # a Bulk API 2.0 job may run this long
    overlap_seconds: 60                 # a pull re-reads this far behind its cursor
    retry:                              # transient failures (429, 5xx, timeouts)
      max_attempts: 8                   # attempts per call, the first included
      initial_wait_seconds: 0.5         # base of the exponential backoff
      max_wait_seconds: 30              # longest single wait
      give_up_after_seconds: 120        # no retry starts later than this
    budget:                             # the org's daily API allowance
      share: 0.2                        # fraction handoff-sync may spend (0-1]
      slow_down_at: 0.8                 # calls are spaced out past this part of the share
      flush_calls: 20                   # calls counted here before the shared count hears
      flush_seconds: 5                  # ... or seconds (one budget per org, all replicas)
      # daily_limit: 100000             # only if the org does not report its allowance
""",
    "hubspot": """\
    system: hubspot                     # salesforce | hubspot | files
    host: https://api.hubapi.com        # HubSpot's API
    auth: private_app                   # private_app | oauth
    access_token: ${HUBSPOT_ACCESS_TOKEN}  # the private app's token (private_app)
    # client_id: ${HUBSPOT_CLIENT_ID}         # OAuth app (oauth)
    # client_secret: ${HUBSPOT_CLIENT_SECRET} # OAuth app (oauth)
    # refresh_token: ${HUBSPOT_REFRESH_TOKEN} # the installed account's token (oauth)
    # token_refresh_margin_seconds: 300       # renew OAuth tokens this early (oauth)
    # ca_file: ca.pem                   # CA bundle for a TLS-inspecting proxy
    connect_timeout_seconds: 10         # longest wait for a connection
    read_timeout_seconds: 60            # longest wait for an answer
    page_size: 200                      # records per search page (2-200)
    search_lag_seconds: 30              # how far HubSpot's search index may trail writes
    overlap_seconds: 120                # a pull re-reads this far behind its cursor (>= lag)
    deletion_lookback_seconds: 3600     # archived records re-reported this far back
    archive_scan_interval_seconds: 900  # least time between archive scans (0: every pull);
                                        # the nightly full reconcile sees deletions too
    burst_limit: 190                    # calls per burst window (your HubSpot tier)
    burst_window_seconds: 10            # length of the burst window
    search_limit: 5                     # search calls per search window
    search_window_seconds: 1            # length of the search window
    pacing_margin: 0.05                 # safety margin added to each window
    retry:                              # transient failures (429, 5xx, timeouts)
      max_attempts: 8                   # attempts per call
      initial_wait_seconds: 0.5         # base of the backoff
      max_wait_seconds: 30              # longest single wait
      give_up_after_seconds: 120        # no retry starts later than this
    budget:                             # the account's daily API allowance
      share: 0.2                        # fraction handoff-sync may spend (0-1]
      slow_down_at: 0.8                 # calls are spaced out past this part of the share
      flush_calls: 20                   # calls counted here before the shared count hears
      flush_seconds: 5                  # ... or seconds (one budget per account, all replicas)
      # daily_limit: 500000             # only if HubSpot does not report it
""",
}
"""Each system's connection block of the template, after its ``  NAME:`` line."""

SANDBOX_HEAD = """\
# handoff-sync against the loopback sandbox at __URL_TEXT__
# (written by `handoff-sync init --sandbox`; the sandbox makes new credentials each time
# it starts, so run that command again, with --force, after restarting it).
# Secrets are in secrets/ next to this file; ca.pem is the sandbox's CA.
version: 1

database:                              # relative: to this file ($HANDOFF_SYNC_DATA_DIR if set)
  url: __DATABASE__

server:
  host: 127.0.0.1                       # /healthz, /readyz and /metrics
  port: 9464

schedule:
  interval_seconds: 30                  # the sandbox is local: sync often
  jitter_seconds: 5
  full_reconcile_cron: "0 2 * * *"
  timezone: UTC
  lease_seconds: 60

connections:
__CONNECTIONS__
pipelines:
  - name: partners
    prm: prm
    crm: crm
    mappings: __MAPPINGS__
    enabled: true
"""

SANDBOX_CONNECTIONS = {
    "salesforce": """\
    system: salesforce
    login_url: __URL__
    auth: jwt_bearer
    client_id: __SF_CLIENT_ID__
    username: __SF_USERNAME__
    private_key: {file: secrets/salesforce-jwt-key.pem}
    api_version: __SF_API_VERSION__
    ca_file: ca.pem
""",
    "hubspot": """\
    system: hubspot
    host: __URL__
    auth: private_app
    access_token: {file: secrets/hubspot-access-token}
    ca_file: ca.pem
""",
}
"""Each system's connection block of the sandbox config, after its ``  NAME:`` line."""

DEFAULT_SIDES = {"crm": "salesforce", "prm": "hubspot"}
"""The systems of the default pack (mappings/), side -> system."""

WRITTEN_SYSTEMS = frozenset(TEMPLATE_CONNECTIONS) & frozenset(SANDBOX_CONNECTIONS)
"""The systems init writes a connection for (a file drop is set up by hand)."""


def _connections(blocks: Mapping[str, str], sides: Mapping[str, str], *,
                 labelled: bool) -> str:
    """The connection blocks of ``sides`` (side -> system), the CRM first, each under its
    side's connection name; ``labelled`` adds which side and system it is."""
    parts = []
    for side in ("crm", "prm"):
        system = sides[side]
        header = f"  {CONNECTION_NAMES[side]}:"
        if labelled:
            header = f"{header:<40}# the {side.upper()}: {SYSTEMS[system].title} here"
        parts.append(f"{header}\n{blocks[system]}")
    return "\n".join(parts)


TEMPLATE = TEMPLATE_HEAD.replace(
    "__CONNECTIONS__\n", _connections(TEMPLATE_CONNECTIONS, DEFAULT_SIDES, labelled=True) + "\n")
"""The template of the default pack, placeholders in (what the tests read key by key)."""


def variables(sides: Mapping[str, str]) -> tuple[str, ...]:
    """The environment variables the template's connections of ``sides`` need set (their
    uncommented ``${NAME}``s), the CRM's first."""
    found: list[str] = []
    for side in ("crm", "prm"):
        for line in TEMPLATE_CONNECTIONS[sides[side]].splitlines():
            if not line.lstrip().startswith("#"):
                found += [n for n in re.findall(r"\$\{([A-Z0-9_]+)\}", line) if n not in found]
    return tuple(found)


def _scalar(text: str) -> str:
    """``text`` as a YAML scalar that stays text (a JSON string is valid YAML)."""
    return json.dumps(text)


def render_template(*, mappings: str = "./mappings",
                    database: str = "sqlite:///handoff-sync.db",
                    sides: Mapping[str, str] = DEFAULT_SIDES) -> str:
    """The commented template for real orgs, with a connection for each side's system
    (``sides``: side -> system, each one of WRITTEN_SYSTEMS)."""
    connections = _connections(TEMPLATE_CONNECTIONS, sides, labelled=True)
    return TEMPLATE_HEAD.replace("__CONNECTIONS__\n", connections + "\n") \
        .replace("__DATABASE__", _scalar(database)).replace("__MAPPINGS__", _scalar(mappings))


def render_sandbox(*, url: str, mappings: str, database: str, sf_client_id: str,
                   sf_username: str, sf_api_version: str,
                   sides: Mapping[str, str] = DEFAULT_SIDES) -> str:
    """A ready config for the sandbox at ``url`` (secrets in files beside it), with a
    connection for each side's system (``sides``: side -> system, as render_template)."""
    values = {"__URL__": url, "__MAPPINGS__": mappings, "__DATABASE__": database,
              "__SF_CLIENT_ID__": sf_client_id, "__SF_USERNAME__": sf_username,
              "__SF_API_VERSION__": sf_api_version}
    connections = _connections(SANDBOX_CONNECTIONS, sides, labelled=False)
    text = SANDBOX_HEAD.replace("__CONNECTIONS__\n", connections + "\n") \
        .replace("__URL_TEXT__", url)
    for marker, value in values.items():
        text = text.replace(marker, _scalar(value))
    return text
