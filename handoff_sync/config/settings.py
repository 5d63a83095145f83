"""The daemon's config file: database, server, schedule, connections and pipelines.

One YAML file, validated by the frozen models below (every key has a type, a default where
one makes sense and a one-line docstring; unknown keys are errors) and then for meaning
across keys (pipelines name connections that exist, their mappings folders hold the
right files). Every problem is reported at once, each as ``file:line: key.path: message``
in one ``ConfigError``.

Relative paths are relative to the config file's folder, so a config works from any
working directory. Secrets are references resolved by the connectors (see
``config.secrets``); ``handoff_sync.sync.connect.build_connector`` turns a connection
into a connector.

    version: 1
    database: {url: sqlite:///handoff-sync.db}
    server: {host: 127.0.0.1, port: 9464}
    schedule: {interval_seconds: 300, full_reconcile_cron: "0 2 * * *", timezone: UTC}
    connections:
      crm: {system: salesforce, auth: jwt_bearer, client_id: ..., username: ...,
            private_key: ${SF_JWT_KEY}}
      prm: {system: hubspot, access_token: {file: secrets/hubspot-token}}
    pipelines:
      - {name: partners, prm: prm, crm: crm, mappings: ./mappings}
"""

from __future__ import annotations

import codecs
import contextlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from connectors.registry import SYSTEMS
from handoff_sync.config.errors import (
    ConfigError,
    ConfigProblem,
    KeyProblems,
    line_of,
    validation_problems,
)
from handoff_sync.config.secrets import (
    LoadContext,
    SecretSource,
    absolute,
    context_of,
    expand_env,
    expand_text,
    parse_secret,
    remember_secrets,
    resolve_path,
)
from handoff_sync.problems.report import KeyPath, did_you_mean
from handoff_sync.problems.yaml_source import read_yaml_file
from handoff_sync.safety import redaction
from handoff_sync.safety.local_files import warn_if_loose

if TYPE_CHECKING:  # the connectors' settings, imported where they are built
    from connectors.budget import BudgetSettings
    from connectors.files.connector import FileDropSettings
    from connectors.hubspot.connector import HubSpotSettings
    from connectors.retry import RetrySettings
    from connectors.salesforce.connector import SalesforceSettings

__all__ = [
    "AnyConnectionConfig",
    "Config",
    "ConfigError",
    "ConnectionConfig",
    "DatabaseConfig",
    "FileDropConnectionConfig",
    "HubSpotConnectionConfig",
    "PipelineConfig",
    "SalesforceConnectionConfig",
    "ScheduleConfig",
    "SecretSource",
    "ServerConfig",
    "load_config",
    "load_config_or_report",
]

FORMAT_VERSION = 1
DEFAULT_FILE = Path("handoff-sync.yaml")
POLICY_FILE = "handoff.yaml"  # as in handoff_sync.mapping.loader
NAME_PATTERN = r"^[a-z0-9_-]+$"
API_VERSION_PATTERN = r"^\d+\.\d$"
PATTERN_WORDS = {
    NAME_PATTERN: "use lowercase letters, digits, '_' and '-'",
    API_VERSION_PATTERN: "write the version as digits, a dot and one digit, e.g. '59.0'",
}
"""What each ``pattern=`` below allows, as a problem says it."""

Text = Annotated[str, BeforeValidator(expand_text)]
"""Text in which ``${NAME}`` is replaced by the environment variable's value."""
ConfigPath = Annotated[Path, BeforeValidator(resolve_path)]
"""A path, made absolute against the config file's folder."""
Secret = Annotated[SecretSource, BeforeValidator(parse_secret)]
"""``${NAME}`` or ``{file: PATH}``; a literal value is refused."""
Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=64)]


class Section(BaseModel):
    """Base of every config model: frozen, strict types, no unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True,
                              use_attribute_docstrings=True)


# --- database, server, schedule -----------------------------------------------------------

_DRIVERS = {"sqlite": "sqlite", "sqlite+pysqlite": "sqlite",
            "postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg",
            "postgresql+psycopg": "postgresql+psycopg"}


def _database_url(value: Any, info: ValidationInfo) -> Any:
    """Refuse a password written in the file, expand ``${NAME}``, name the psycopg 3
    driver, and make a relative SQLite path absolute against the config folder."""
    if not isinstance(value, str):
        return value
    context = context_of(info)
    span = _password_span(value)
    password = None
    if span is not None:  # expanded apart, so characters like @ or / in it stay its own
        password = expand_env(value[span[0]:span[1]], context.environ)
        value = value[:span[0]] + "password" + value[span[1]:]
    text = expand_env(value, context.environ).strip()
    try:
        url = make_url(text)
    except ArgumentError:
        raise ValueError("not a database URL: expected sqlite:///FILE or "
                         "postgresql+psycopg://USER@HOST/DB") from None
    driver = _DRIVERS.get(url.drivername)
    if driver is None:
        raise ValueError(f"database driver '{url.drivername}' is not supported: use sqlite "
                         "or postgresql+psycopg (psycopg 3)")
    url = url.set(drivername=driver)
    if password is not None:
        url = url.set(password=password)
    if driver == "sqlite" and url.database and url.database != ":memory:" \
            and not url.database.startswith("file:"):
        url = url.set(database=str(absolute(Path(url.database), context.base)))
    return url.render_as_string(hide_password=False)


def _password_span(raw: str) -> tuple[int, int] | None:
    """Where the password is written in ``raw`` (it must be ${VAR} references), or None."""
    _, sep, rest = raw.partition("://")
    authority = rest.split("/", 1)[0]
    if not sep or "@" not in authority:
        return None
    userinfo = authority.rpartition("@")[0]
    user, has_password, password = userinfo.partition(":")
    if not has_password:
        return None
    if not _is_reference(password):
        raise ValueError("a database password may not be written in the config file: "
                         "write it as ${VAR} (postgresql+psycopg://user:${PGPASSWORD}@host/db)"
                         ", leave it out (psycopg reads PGPASSWORD) or set the whole URL as "
                         "${DATABASE_URL}")
    start = len(raw) - len(rest) + len(user) + 1
    return start, start + len(password)


def _is_reference(text: str) -> bool:
    rest = text
    while rest.startswith("${") and "}" in rest:
        rest = rest[rest.index("}") + 1:]
    return rest == "" and text != ""


class DatabaseConfig(Section):
    """Where the daemon keeps its state (links, checkpoints, ledger, runs)."""

    url: Annotated[str, BeforeValidator(_database_url)] = Field(
        default="sqlite:///handoff-sync.db", validate_default=True)
    """SQLAlchemy URL: sqlite:///FILE (relative to the config folder) or
    postgresql+psycopg://USER@HOST/DB; a password only as ${VAR}."""


class ServerConfig(Section):
    """The health and metrics endpoint (/healthz, /readyz, /metrics)."""

    host: Annotated[Text, Field(min_length=1)] = "127.0.0.1"
    """Address to listen on; loopback by default, so nothing outside the host sees it."""
    port: Annotated[int, Field(ge=0, le=65535)] = 9464
    """TCP port (0 picks a free one)."""
    unready_after_failed_cycles: Annotated[int, Field(ge=1)] = 3
    """/readyz answers 503 once a pipeline has failed this many cycles in a row."""


class ScheduleConfig(Section):
    """When each pipeline syncs and how replicas share pipelines."""

    interval_seconds: Annotated[float, Field(ge=5)] = 300.0
    """Seconds between incremental cycles of one pipeline."""
    jitter_seconds: Annotated[float, Field(ge=0)] = 30.0
    """Up to this many seconds are added at random to each start, so pipelines spread out."""
    full_reconcile_cron: Text = "0 2 * * *"
    """When the full reconcile (drift repair) runs: a 5-field crontab line."""
    timezone: Text = "UTC"
    """IANA time zone of full_reconcile_cron, e.g. UTC or Europe/Paris."""
    lease_seconds: Annotated[float, Field(ge=5)] = 60.0
    """How long a replica's claim on a pipeline lasts without renewal."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}: use an IANA name such as UTC or "
                             "Europe/Paris") from None
        return value

    @field_validator("full_reconcile_cron")
    @classmethod
    def _crontab(cls, value: str) -> str:
        try:
            CronTrigger.from_crontab(value, timezone="UTC")
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a crontab line (minute hour day month "
                             f"weekday, e.g. '0 2 * * *'): {exc}") from None
        return value

    @model_validator(mode="after")
    def _jitter_fits(self) -> ScheduleConfig:
        if self.jitter_seconds > self.interval_seconds:
            raise KeyProblems.one("jitter_seconds", "must not be more than interval_seconds "
                                  f"({self.interval_seconds:g})")
        return self

    def reconcile_trigger(self) -> CronTrigger:
        """The full reconcile's trigger, in the configured time zone."""
        return CronTrigger.from_crontab(self.full_reconcile_cron,
                                        timezone=ZoneInfo(self.timezone))


# --- connections ---------------------------------------------------------------------------

class RetryConfig(Section):
    """How hard a connector tries a failing call before the cycle gives up on it."""

    max_attempts: Annotated[int, Field(ge=1)] = 8
    """Attempts per call, the first included."""
    initial_wait_seconds: Annotated[float, Field(ge=0)] = 0.5
    """Base of the exponential backoff."""
    max_wait_seconds: Annotated[float, Field(gt=0)] = 30.0
    """Longest single wait (a longer Retry-After is honoured up to give_up_after_seconds)."""
    give_up_after_seconds: Annotated[float, Field(ge=0)] = 120.0
    """No retry starts later than this after the first attempt."""

    def settings(self) -> RetrySettings:
        """This section in the connectors' terms."""
        from connectors.retry import RetrySettings

        return RetrySettings(max_attempts=self.max_attempts,
                             initial_wait=self.initial_wait_seconds,
                             max_wait=self.max_wait_seconds,
                             give_up_after=self.give_up_after_seconds)


class BudgetConfig(Section):
    """The share of the system's daily API allowance handoff-sync may spend."""

    share: Annotated[float, Field(gt=0, le=1)] = 0.20
    """Fraction (0-1] of the daily allowance; other integrations need the rest."""
    slow_down_at: Annotated[float, Field(gt=0, le=1)] = 0.80
    """Fraction of the share after which calls are spaced out."""
    daily_limit: Annotated[int, Field(ge=1)] | None = None
    """The allowance when the server does not report it (it usually does)."""
    flush_calls: Annotated[int, Field(ge=1, le=1000)] = 20
    """Calls counted in this process before they are added to the org's budget in the
    database (shared by every pipeline and replica); the overspend bound per process."""
    flush_seconds: Annotated[float, Field(ge=0, le=300)] = 5.0
    """Longest time calls are counted in this process before they are added."""

    def settings(self, *, shared: bool = False) -> BudgetSettings:
        """This section in the connectors' terms. ``shared``: the budget is kept in a
        ledger in the database, so calls are counted in batches (flush_calls,
        flush_seconds): a shared ledger costs a database round trip."""
        from connectors.budget import BudgetSettings

        budget = BudgetSettings(share=self.share, slow_down_at=self.slow_down_at,
                                daily_limit=self.daily_limit)
        if shared:
            budget = replace(budget, flush_calls=self.flush_calls,
                             flush_seconds=self.flush_seconds)
        return budget


class _Auth:
    """Which keys each auth kind needs, may use, and must not have."""

    def __init__(self, needs: dict[str, tuple[str, ...]], optional: dict[str, tuple[str, ...]],
                 keys: tuple[str, ...]) -> None:
        self.needs, self.optional, self.keys = needs, optional, keys

    def problems(self, model: BaseModel, kind: str) -> list[tuple[KeyPath, str]]:
        needed = self.needs[kind]
        usable = set(needed) | set(self.optional.get(kind, ()))
        found: list[tuple[KeyPath, str]] = []
        for key in needed:
            if not getattr(model, key):
                found.append(((key,), f"auth {kind} needs {key} (it needs "
                              f"{', '.join(needed)})"))
        for key in self.keys:
            if key in model.model_fields_set and key not in usable \
                    and getattr(model, key) is not None:
                users = [k for k in self.needs
                         if key in self.needs[k] or key in self.optional.get(k, ())]
                listed = ", ".join(users[:-1]) + " and " + users[-1] if len(users) > 1 \
                    else users[0]
                found.append(((key,), f"not used by auth {kind} (only by {listed}); "
                              "remove it"))
        return found


_SALESFORCE_AUTH = _Auth(
    needs={"jwt_bearer": ("client_id", "username", "private_key"),
           "client_credentials": ("client_id", "client_secret"),
           "password": ("client_id", "client_secret", "username", "password"),
           "session": ("session_id", "instance_url")},
    optional={"jwt_bearer": ("jwt_audience",), "password": ("security_token",)},
    keys=("client_id", "username", "private_key", "client_secret", "password",
          "security_token", "session_id", "instance_url", "jwt_audience"))


class SalesforceConnectionConfig(Section):
    """One Salesforce org: how to log in and how to spend its API allowance."""

    system: Literal["salesforce"]
    """The kind of system behind this connection."""
    login_url: Text = "https://login.salesforce.com"
    """Where tokens come from: https://login.salesforce.com, https://test.salesforce.com,
    a My Domain URL, or the sandbox's URL."""
    auth: Literal["jwt_bearer", "client_credentials", "password", "session"] = "jwt_bearer"
    """The OAuth grant: jwt_bearer, client_credentials, password or session."""
    client_id: Text = ""
    """The connected app's consumer key (not a secret)."""
    username: Text = ""
    """The integration user (jwt_bearer and password)."""
    private_key: Secret | None = None
    """PEM private key whose certificate is on the connected app (jwt_bearer)."""
    client_secret: Secret | None = None
    """The connected app's consumer secret (client_credentials and password)."""
    password: Secret | None = None
    """The integration user's password (password)."""
    security_token: Secret | None = None
    """Appended to the password when the org requires one (password; optional)."""
    session_id: Secret | None = None
    """An existing access token (session)."""
    instance_url: Text = ""
    """The org's instance URL (session; the token response supplies it otherwise)."""
    jwt_audience: Text | None = None
    """JWT aud claim; by default worked out from login_url (jwt_bearer; rarely needed)."""
    api_version: Annotated[Text, Field(pattern=API_VERSION_PATTERN)] = "59.0"
    """REST API version without the v, in quotes, e.g. "59.0"."""
    ca_file: ConfigPath | None = None
    """CA bundle that verifies the org (a TLS-inspecting proxy, the sandbox); by default
    the bundled public CAs."""
    timeout_seconds: Annotated[float, Field(gt=0)] = 120.0
    """Longest wait for one HTTP response; Salesforce queries may take 2 minutes."""
    page_size: Annotated[int, Field(ge=200, le=2000)] = 2000
    """Rows per query page (200-2000)."""
    bulk_threshold: Annotated[int, Field(ge=0)] = 50_000
    """A pull matching more records than this continues through Bulk API 2.0."""
    bulk_page_size: Annotated[int, Field(ge=1)] = 50_000
    """Rows per Bulk API 2.0 results request."""
    bulk_poll_seconds: Annotated[float, Field(ge=0)] = 2.0
    """Pause between Bulk API 2.0 job status checks."""
    bulk_timeout_seconds: Annotated[float, Field(gt=0)] = 1_800.0
    """How long a Bulk API 2.0 job may run before the pull gives up for this cycle."""
    overlap_seconds: Annotated[float, Field(ge=0)] = 60.0
    """How far behind its cursor a pull re-reads, for rows committed late."""
    retry: RetryConfig = RetryConfig()
    """Backoff and give-up bounds for transient failures."""
    budget: BudgetConfig = BudgetConfig()
    """The share of the org's daily API allowance handoff-sync may use."""

    @model_validator(mode="after")
    def _auth_keys(self) -> SalesforceConnectionConfig:
        found = _SALESFORCE_AUTH.problems(self, self.auth)
        for key in ("login_url", "instance_url"):
            url = getattr(self, key)
            if url and urlsplit(url).scheme != "https":
                found.append(((key,), f"expected an https:// URL, got {url!r}"))
        if found:
            raise KeyProblems(found)
        return self

    def connector_settings(self, *, shared_budget: bool = False) -> SalesforceSettings:
        """This section in the connector's terms; secrets stay references (the connector
        reads them at each login, so a rotated secret is picked up). ``shared_budget``:
        see ``BudgetConfig.settings``."""
        from connectors.salesforce.auth import SalesforceAuth, SecretRef
        from connectors.salesforce.connector import SalesforceSettings

        def ref(source: SecretSource | None) -> SecretRef | None:
            return None if source is None else SecretRef(env=source.env, file=source.file)

        auth = SalesforceAuth(
            kind=self.auth, login_url=self.login_url.rstrip("/"), client_id=self.client_id,
            username=self.username, private_key=ref(self.private_key),
            client_secret=ref(self.client_secret), password=ref(self.password),
            security_token=ref(self.security_token), session_id=ref(self.session_id),
            instance_url=self.instance_url, jwt_audience=self.jwt_audience)
        return SalesforceSettings(
            auth=auth, api_version=self.api_version, ca_file=self.ca_file,
            timeout_seconds=self.timeout_seconds, page_size=self.page_size,
            bulk_threshold=self.bulk_threshold, bulk_page_size=self.bulk_page_size,
            bulk_poll_seconds=self.bulk_poll_seconds,
            bulk_timeout_seconds=self.bulk_timeout_seconds,
            overlap_seconds=self.overlap_seconds, retry=self.retry.settings(),
            budget=self.budget.settings(shared=shared_budget))

    def org(self, name: str) -> tuple[str, ...]:
        """Which org this connection (named ``name``) reaches, as far as the config tells:
        the same endpoint and user or app (see ``check_shared_crm_objects``)."""
        endpoint = (self.instance_url or self.login_url).rstrip("/").lower()
        who = self.username.lower() or self.client_id or _reference(self.session_id)
        return (self.system, endpoint, who) if who else (self.system, name)

    def path_problems(self) -> list[tuple[KeyPath, str]]:
        """Files this section names that are not there."""
        return _ca_file_problems(self.ca_file)


_HUBSPOT_AUTH = _Auth(
    needs={"private_app": ("access_token",),
           "oauth": ("client_id", "client_secret", "refresh_token")},
    optional={"oauth": ("token_refresh_margin_seconds",)},
    keys=("access_token", "client_id", "client_secret", "refresh_token",
          "token_refresh_margin_seconds"))


class HubSpotConnectionConfig(Section):
    """One HubSpot account: how to authenticate and how politely to use it."""

    system: Literal["hubspot"]
    """The kind of system behind this connection."""
    host: Text = "https://api.hubapi.com"
    """Base URL of the API (the sandbox's URL when trying handoff-sync out)."""
    auth: Literal["private_app", "oauth"] = "private_app"
    """private_app (one static token) or oauth (refresh-token grant)."""
    access_token: Secret | None = None
    """The private app's access token, pat-... (private_app)."""
    client_id: Secret | None = None
    """The OAuth app's client id (oauth)."""
    client_secret: Secret | None = None
    """The OAuth app's client secret (oauth)."""
    refresh_token: Secret | None = None
    """The installed account's OAuth refresh token (oauth)."""
    ca_file: ConfigPath | None = None
    """CA bundle that verifies the server (a TLS-inspecting proxy, the sandbox); by default
    the system store."""
    connect_timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    """Longest wait for a connection."""
    read_timeout_seconds: Annotated[float, Field(gt=0)] = 60.0
    """Longest wait for an answer; a slower call counts as a transient failure."""
    page_size: Annotated[int, Field(ge=2, le=200)] = 200
    """Records per search page (2-200)."""
    search_lag_seconds: Annotated[float, Field(ge=0)] = 30.0
    """How long a write may take to show in HubSpot's search (its index trails writes by
    seconds); overlap_seconds must cover it."""
    overlap_seconds: Annotated[float, Field(ge=0)] = 120.0
    """How far before its cursor a pull re-reads (at least search_lag_seconds)."""
    deletion_lookback_seconds: Annotated[float, Field(ge=0)] = 3600.0
    """Archived records this long before the cursor are reported again (at least
    overlap_seconds)."""
    archive_scan_interval_seconds: Annotated[float, Field(ge=0)] = 900.0
    """Least time between two scans for archived records of one object; 0 scans every
    pull. 15 minutes keeps a quiet cycle at one read per object; the nightly full
    reconcile sees deletions too."""
    burst_limit: Annotated[int, Field(ge=1)] = 190
    """Calls per burst window (HubSpot Professional/Enterprise: 190 per 10 s)."""
    burst_window_seconds: Annotated[float, Field(gt=0)] = 10.0
    """Length of the burst window."""
    search_limit: Annotated[int, Field(ge=1)] = 5
    """Search calls per search window (HubSpot: about 5 per second)."""
    search_window_seconds: Annotated[float, Field(gt=0)] = 1.0
    """Length of the search window."""
    pacing_margin: Annotated[float, Field(ge=0)] = 0.05
    """Fraction added to each window, so network jitter never tips a burst over."""
    token_refresh_margin_seconds: Annotated[float, Field(ge=0)] = 300.0
    """Seconds before an OAuth access token expires that it is renewed (oauth)."""
    retry: RetryConfig = RetryConfig()
    """Backoff and give-up bounds for transient failures."""
    budget: BudgetConfig = BudgetConfig()
    """The share of the account's daily API allowance handoff-sync may use."""

    @model_validator(mode="after")
    def _auth_keys(self) -> HubSpotConnectionConfig:
        found = _HUBSPOT_AUTH.problems(self, self.auth)
        if urlsplit(self.host).scheme != "https" or not urlsplit(self.host).hostname:
            found.append((("host",), f"expected an https:// URL, got {self.host!r}"))
        if self.overlap_seconds < self.search_lag_seconds:
            found.append((("overlap_seconds",), "must be at least search_lag_seconds "
                          f"({self.search_lag_seconds:g}): a pull must re-read as far back "
                          "as HubSpot's search index may trail, or a late-indexed change "
                          "is never read"))
        if self.deletion_lookback_seconds < self.overlap_seconds:
            found.append((("deletion_lookback_seconds",), "must be at least overlap_seconds "
                          f"({self.overlap_seconds:g})"))
        if found:
            raise KeyProblems(found)
        return self

    def connector_settings(self, *, shared_budget: bool = False) -> HubSpotSettings:
        """This section in the connector's terms; secrets stay references (read when the
        connector is built). ``shared_budget``: see ``BudgetConfig.settings``."""
        from connectors.hubspot.auth import CredentialSources
        from connectors.hubspot.connector import HubSpotSettings

        sources: dict[str, str | None] = {}
        for name in ("access_token", "client_id", "client_secret", "refresh_token"):
            source: SecretSource | None = getattr(self, name)
            if source is None:
                continue  # not used by this auth kind: the connector's defaults stay
            if source.file is not None:
                sources[f"{name}_file"] = str(source.file)
            else:
                sources[f"{name}_env"] = source.env
        return HubSpotSettings(
            host=self.host.rstrip("/"), auth=self.auth,
            credentials=CredentialSources(**sources),  # type: ignore[arg-type]
            ca_file=str(self.ca_file) if self.ca_file is not None else None,
            connect_timeout=self.connect_timeout_seconds,
            read_timeout=self.read_timeout_seconds, page_size=self.page_size,
            search_lag=timedelta(seconds=self.search_lag_seconds),
            overlap=timedelta(seconds=self.overlap_seconds),
            deletion_lookback=timedelta(seconds=self.deletion_lookback_seconds),
            archive_scan_interval=timedelta(seconds=self.archive_scan_interval_seconds),
            retry=self.retry.settings(), budget=self.budget.settings(shared=shared_budget),
            burst_limit=self.burst_limit, burst_window=self.burst_window_seconds,
            search_limit=self.search_limit, search_window=self.search_window_seconds,
            pacing_margin=self.pacing_margin,
            token_refresh_margin=self.token_refresh_margin_seconds)

    def org(self, name: str) -> tuple[str, ...]:
        """Which account this connection (named ``name``) reaches, as far as the config
        tells: the same host and token reference (see ``check_shared_crm_objects``)."""
        who = _reference(self.access_token or self.refresh_token)
        host = self.host.rstrip("/").lower()
        return (self.system, host, who) if who else (self.system, name)

    def path_problems(self) -> list[tuple[KeyPath, str]]:
        """Files this section names that are not there."""
        return _ca_file_problems(self.ca_file)


class FileDropConnectionConfig(Section):
    """A PRM without an API: CSV or JSON Lines exports dropped into a folder."""

    system: Literal["files"]
    """The kind of system behind this connection."""
    folder: ConfigPath
    """The folder the PRM exports into (only its top level is read)."""
    id_field: Annotated[Text, Field(min_length=1)]
    """The column (CSV) or key (JSONL) holding the registration id."""
    modified_field: Text | None = None
    """The column holding each row's modification time; by default the file's time."""
    deleted_field: Text | None = None
    """A column whose true value (true/yes/1) marks a deleted registration."""
    patterns: Annotated[tuple[str, ...], Field(min_length=1, strict=False)] = \
        ("*.csv", "*.jsonl")
    """File name patterns to read, ignoring case; other files are left alone."""
    encoding: Text = "utf-8-sig"
    """Text encoding of the files; the default also reads UTF-8 with a BOM (Excel)."""
    delimiter: Annotated[Text, Field(min_length=1, max_length=1)] | None = None
    """CSV delimiter (one character); by default guessed per file among , ; and tab."""
    settle_seconds: Annotated[float, Field(ge=0)] = 5.0
    """Files modified more recently than this are still being written: read them later."""

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r} (e.g. utf-8-sig, cp1252, latin-1, "
                             "utf-16)") from None
        return value

    def connector_settings(self, *, shared_budget: bool = False) -> FileDropSettings:
        """This section in the connector's terms (a folder has no API budget to share)."""
        from connectors.files.connector import FileDropSettings

        return FileDropSettings(
            folder=self.folder, id_field=self.id_field, modified_field=self.modified_field,
            deleted_field=self.deleted_field, patterns=self.patterns, encoding=self.encoding,
            delimiter=self.delimiter, settle_seconds=self.settle_seconds)

    def org(self, name: str) -> tuple[str, ...]:
        """A folder is no org: only the connection itself."""
        return (self.system, name)

    def path_problems(self) -> list[tuple[KeyPath, str]]:
        """The drop folder, if it is not there."""
        if self.folder.is_dir():
            return []
        return [(("folder",), f"folder {self.folder} not found")]


AnyConnectionConfig = SalesforceConnectionConfig | HubSpotConnectionConfig \
    | FileDropConnectionConfig
"""One connection's settings, whichever its system: one model per system of
``connectors.registry`` (its ``system`` key is the registry's name). Each model also says
what it stands for: ``connector_settings()`` (the registry's settings class), ``org(name)``
and ``path_problems()``."""

ConnectionConfig = Annotated[AnyConnectionConfig, Field(discriminator="system")]
"""The same, as the config file declares it: the ``system`` key picks the model."""


def _ca_file_problems(ca_file: Path | None) -> list[tuple[KeyPath, str]]:
    if ca_file is not None and not ca_file.is_file():
        return [(("ca_file",), f"file {ca_file} not found")]
    return []


class PipelineConfig(Section):
    """One PRM paired with one CRM through one mappings folder."""

    name: Name
    """The pipeline's name in logs, metrics and task keys: a-z, 0-9, _ and -."""
    prm: Text
    """The connection where partners register deals (a key of connections)."""
    crm: Text
    """The connection where the direct team works opportunities (a key of connections)."""
    mappings: ConfigPath
    """The mappings folder (handoff.yaml plus one file per system)."""
    enabled: bool = True
    """false keeps the pipeline configured but not syncing."""


class Config(Section):
    """The whole daemon config file."""

    version: Literal[1]
    """Format version of this file; 1."""
    database: DatabaseConfig = Field(default_factory=dict, validate_default=True)  # type: ignore[arg-type]
    """Where the daemon keeps its state."""
    server: ServerConfig = Field(default_factory=dict, validate_default=True)  # type: ignore[arg-type]
    """The health and metrics endpoint."""
    schedule: ScheduleConfig = Field(default_factory=dict, validate_default=True)  # type: ignore[arg-type]
    """When pipelines sync."""
    connections: dict[Name, ConnectionConfig]
    """The systems handoff-sync talks to, by a name pipelines refer to."""
    pipelines: Annotated[list[PipelineConfig], Field(min_length=1)]
    """The PRM/CRM pairs to keep in step."""
    _path: Path = PrivateAttr(default=Path(DEFAULT_FILE))

    @property
    def path(self) -> Path:
        """The file this config was loaded from (absolute)."""
        return self._path

    def connection(self, name: str) -> AnyConnectionConfig:
        return self.connections[name]

    def pipeline(self, name: str) -> PipelineConfig:
        return next(p for p in self.pipelines if p.name == name)

    @model_validator(mode="after")
    def _references(self) -> Config:
        found: list[tuple[KeyPath, str]] = []
        first: dict[str, int] = {}
        names = sorted(self.connections)
        for index, pipeline in enumerate(self.pipelines):
            where: KeyPath = ("pipelines", index)
            if pipeline.name in first:
                found.append(((*where, "name"), f"pipeline name '{pipeline.name}' is already "
                              f"used by pipelines[{first[pipeline.name]}]"))
            first.setdefault(pipeline.name, index)
            for side in ("prm", "crm"):
                name = getattr(pipeline, side)
                if name not in self.connections:
                    near = did_you_mean(name, names)
                    known = f"connections: {', '.join(names)}" if names else \
                        "no connections are defined"
                    found.append(((*where, side), f"no connection named '{name}'"
                                  + (f" ({near})" if near else "") + f"; {known}"))
            crm = self.connections.get(pipeline.crm)
            if crm is not None and SYSTEMS[crm.system].read_only is not None:
                found.append(((*where, "crm"), f"connection '{pipeline.crm}' is a "
                              f"{SYSTEMS[crm.system].title}, which can only be a PRM (it is "
                              "read, never written)"))
            if pipeline.prm == pipeline.crm and pipeline.prm in self.connections:
                found.append(((*where, "crm"), "prm and crm name the same connection"))
        if found:
            raise KeyProblems(found)
        return self


# --- loading ----------------------------------------------------------------------------

def load_config(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """The validated config in ``path``; raises ``ConfigError`` listing every problem.

    ``environ`` (default ``os.environ``) expands ``${NAME}`` in non-secret text; secrets
    are not read here (the connectors read them, from the same kind of environment).
    """
    file = Path(path).expanduser().absolute()
    if not file.is_file():
        if file.exists():
            raise ConfigError(f"config file {path} is not a file")
        raise ConfigError(f"config file {path} not found: create one with "
                          f"`handoff-sync init --out {path}`")
    document, yaml_problems = read_yaml_file(file)
    if document is None:
        raise ConfigError.from_problems(file, [
            ConfigProblem(file, p.line, p.path, p.message + (
                f" ({p.hint})" if p.hint and "mappings" not in p.hint else ""))
            for p in yaml_problems])
    context = LoadContext(base=file.parent,
                          environ=os.environ if environ is None else environ)
    try:
        config = Config.model_validate(document.data, context=context)
    except ValidationError as exc:
        raise ConfigError.from_problems(
            file, validation_problems(Config, exc, document, PATTERN_WORDS)) from None
    problems = [ConfigProblem(file, line_of(document.source, where), where, message)
                for where, message in check_files(config)]
    if problems:
        raise ConfigError.from_problems(file, problems)
    config._path = file
    _register_secrets(config, context.environ)
    warn_if_loose(file, "config file", private=False)  # it references secrets only
    return config


def _register_secrets(config: Config, environ: Mapping[str, str]) -> None:
    """Tell ``redaction`` every secret value this config can reach, so no output shows
    one: the connections' secrets and the database password (expanded from ${VAR})."""
    for connection in config.connections.values():
        remember_secrets(connection, environ)
    with contextlib.suppress(ArgumentError):  # not a URL: the store says so when opened
        redaction.remember(make_url(config.database.url).password)


def load_config_or_report(path: Path, environ: Mapping[str, str] | None = None) -> \
        Config | None:
    """The config, or None after printing why it cannot be used (for commands)."""
    try:
        return load_config(path, environ)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return None


def check_files(config: Config) -> list[tuple[KeyPath, str]]:
    """What the config names on disk: CA bundles, drop folders and mappings folders.

    Cheap on purpose: a mappings folder is checked for its files and the ``role`` of each
    system file; the sync cycle validates the mappings themselves.
    """
    found: list[tuple[KeyPath, str]] = []
    for name, connection in config.connections.items():
        found.extend((("connections", name, *key), message)
                     for key, message in connection.path_problems())
    for index, pipeline in enumerate(config.pipelines):
        if pipeline.enabled:  # a disabled pipeline may wait for its mappings
            found.extend(_check_mappings(config, pipeline, ("pipelines", index)))
    found.extend(check_shared_crm_objects(config))
    return found


# --- two pipelines on one CRM object -------------------------------------------------------
# Each pipeline keys its tasks by its own name, so two pipelines that both see an
# opportunity each keep their own follow-up tasks on it (duplicates) and overwrite each
# other's outputs. They may share an object only when their CRM mapping files say how:
# disjoint scopes (both scope on one field, with different values: a Salesforce record type
# or picklist, a HubSpot deal pipeline), or one of them alone writes outputs and tasks.
# Both are what the sync obeys; a config key that only silenced this check would not be.
# This check compares connection settings; each cycle also claims its object under the org
# its login names (``sync.py``, ``store/claims.py``), which catches one org reached two ways.


@dataclass(frozen=True)
class CrmUse:
    """What one enabled pipeline does to its CRM object, read from its CRM mapping file."""

    index: int
    name: str
    org: tuple[str, ...]  # identifies the org/account (see each connection model's org())
    object: str  # as the file writes it
    scope: Mapping[str, str]
    writes: bool  # the file maps outputs or tasks
    file: Path

    def disjoint_from(self, other_scope: Mapping[str, str]) -> bool:
        """True when no record can be in this scope and in ``other_scope``: one field
        scoped to different values."""
        return any(key in other_scope and other_scope[key] != value
                   for key, value in self.scope.items())


def check_shared_crm_objects(config: Config) -> list[tuple[KeyPath, str]]:
    """A problem for each pair of enabled pipelines that would both write outputs or
    tasks to one CRM object of one org, with scopes that may overlap."""
    uses = [use for index, pipeline in enumerate(config.pipelines) if pipeline.enabled
            for use in [crm_use(config, pipeline, index)] if use is not None]
    found: list[tuple[KeyPath, str]] = []
    for later, second in enumerate(uses):
        for first in uses[:later]:
            if first.org != second.org or first.object.lower() != second.object.lower() \
                    or not (first.writes and second.writes) or first.disjoint_from(second.scope):
                continue
            crm = config.pipelines[second.index].crm
            found.append((("pipelines", second.index, "crm"), shared_object_problem(
                (first.name, first.file), second,
                f"{second.org[0]} {second.object} of one org (connection '{crm}')")))
    return found


def shared_object_problem(first: tuple[str, Path], second: CrmUse, what: str) -> str:
    """Why pipeline ``first`` (name, CRM mapping file) and ``second`` may not both write
    ``what`` (an object of one org), and the three ways to let them."""
    first_name, first_file = first
    return (f"pipelines '{first_name}' and '{second.name}' both write outputs and tasks "
            f"to {what}, so each would add its own follow-up tasks to the records both "
            "see, and overwrite the other's outputs. Say how they share it: make their "
            f"scopes disjoint (a `scope:` on the same field with different values in "
            f"{first_file} and {second.file}, e.g. a record type or a HubSpot deal "
            "pipeline), or let one own outputs and tasks (remove `outputs:` and `tasks:` "
            "from the other's file), or set `enabled: false` on one")


def crm_use(config: Config, pipeline: PipelineConfig, index: int) -> CrmUse | None:
    """What ``pipeline`` (the ``index``th) does to its CRM object (None: no CRM mapping
    file to read; the config and mappings checks say why)."""
    connection = config.connections.get(pipeline.crm)
    if connection is None or SYSTEMS[connection.system].read_only is not None:
        return None  # reported by _references
    file = pipeline.mappings / f"{connection.system}.yaml"
    if not file.is_file():
        return None  # reported by _check_mappings
    document, _ = read_yaml_file(file)
    data = document.data if document is not None else None
    if not isinstance(data, dict) or not isinstance(data.get("object"), str):
        return None  # the mappings validation says why
    scope = data.get("scope")
    return CrmUse(index, pipeline.name, connection.org(pipeline.crm),
                  data["object"],
                  {str(k): str(v) for k, v in scope.items()} if isinstance(scope, dict)
                  else {},
                  bool(data.get("outputs")) or bool(data.get("tasks")), file)


def _reference(source: SecretSource | None) -> str:
    if source is None:
        return ""
    return f"file:{source.file}" if source.file is not None else f"env:{source.env}"


def _check_mappings(config: Config, pipeline: PipelineConfig,
                    where: KeyPath) -> list[tuple[KeyPath, str]]:
    folder = pipeline.mappings
    if not folder.is_dir():
        return [((*where, "mappings"), f"folder {folder} not found")]
    found: list[tuple[KeyPath, str]] = []
    if not (folder / POLICY_FILE).is_file():
        found.append(((*where, "mappings"), f"{folder} has no {POLICY_FILE} (a mappings "
                      f"folder holds {POLICY_FILE} and one file per system)"))
    roles = _roles(folder)
    for side in ("prm", "crm"):
        connection = config.connections.get(getattr(pipeline, side))
        if connection is None:
            continue
        system = connection.system
        claimed = [s for s, role in roles.items() if role == side]
        if system not in roles:
            found.append(((*where, side), f"connection '{getattr(pipeline, side)}' is "
                          f"{system}, but {folder} has no {system}.yaml"))
        elif claimed and system not in claimed:
            found.append(((*where, side), f"connection '{getattr(pipeline, side)}' is "
                          f"{system}, but the {side.upper()} side of the mappings in {folder} "
                          f"is {claimed[0]} ({claimed[0]}.yaml has role: {side})"))
    return found


def _roles(folder: Path) -> dict[str, str | None]:
    """System file -> its ``role`` key, for each system file in the folder (None when the
    file cannot be read; the mappings validation says why)."""
    roles: dict[str, str | None] = {}
    for system in SYSTEMS:
        file = folder / f"{system}.yaml"
        if file.is_file():
            document, _ = read_yaml_file(file)
            data = document.data if document is not None else None
            role = data.get("role") if isinstance(data, dict) else None
            roles[system] = role if isinstance(role, str) else None
    return roles
