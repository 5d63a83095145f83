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

import ipaddress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from pydantic import (
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from connectors.reading import did_you_mean
from connectors.registry import SYSTEMS
from handoff_sync.config.connections import AnyConnectionConfig
from handoff_sync.config.errors import (
    KeyProblems,
)
from handoff_sync.config.fields import DEFAULT_FILE, ConfigPath, Name, Secret, Section, Text
from handoff_sync.config.secrets import (
    LoadContext,
    absolute,
    context_of,
    expand_env,
)
from handoff_sync.problems.report import KeyPath

if TYPE_CHECKING:  # the connectors' settings, imported where they are built
    pass

from handoff_sync.config.connections import ConnectionConfig

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
        url = url.set(database=str(_sqlite_file(Path(url.database), context)))
    return url.render_as_string(hide_password=False)


DATA_DIR_ENV = "HANDOFF_SYNC_DATA_DIR"


def _sqlite_file(path: Path, context: LoadContext) -> Path:
    """Where a SQLite path lands: an absolute one as written; a relative one in
    ``$HANDOFF_SYNC_DATA_DIR`` when set (the Docker image sets /data, a writable volume,
    while /config is mounted read-only), else in the config file's folder. A store that
    already exists beside the config and not yet in the data folder (an install from
    before the variable) stays where it is, so an upgrade never starts an empty one."""
    beside_config = absolute(path, context.base)
    named = context.environ.get(DATA_DIR_ENV, "").strip()
    if not named or path.is_absolute():
        return beside_config
    if not Path(named).is_absolute():
        raise ValueError(f"${DATA_DIR_ENV} is {named!r}: it must be an absolute folder "
                         "(e.g. /data), else the store would move with the working folder")
    in_data = Path(named) / path
    return beside_config if beside_config.is_file() and not in_data.exists() else in_data


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
    """SQLAlchemy URL: sqlite:///FILE (relative to $HANDOFF_SYNC_DATA_DIR if set, else to
    the config folder) or
    postgresql+psycopg://USER@HOST/DB; a password only as ${VAR}."""


class ServerConfig(Section):
    """The health and metrics endpoint (/healthz, /readyz, /metrics)."""

    host: Annotated[Text, Field(min_length=1)] = "127.0.0.1"
    """Address to listen on; loopback by default, so nothing outside the host sees it."""
    port: Annotated[int, Field(ge=0, le=65535)] = 9464
    """TCP port (0 picks a free one)."""
    unready_after_failed_cycles: Annotated[int, Field(ge=1)] = 3
    """/readyz answers 503 once a pipeline has failed this many cycles in a row."""


ARGON2_PREFIX = "$argon2"


class ConsoleUserConfig(Section):
    """One person who may log in to the admin console."""

    name: Annotated[Text, Field(min_length=1, max_length=200)]
    """The login name (an email works)."""
    role: Literal["viewer", "admin"] = "viewer"
    """viewer reads every page; admin may also save mappings, resolve reviews and sync."""
    password_hash: Text
    """An argon2 hash (``handoff-sync console hash-password`` prints one), or ${VAR}
    naming the environment variable that holds it. Never the password itself."""

    @field_validator("password_hash")
    @classmethod
    def _argon2(cls, value: str) -> str:
        if not value.startswith(ARGON2_PREFIX):
            raise ValueError("must be an argon2 hash ($argon2id$...): run `handoff-sync "
                             "console hash-password` and paste what it prints, or write "
                             "${VAR} to read it from the environment")
        return value


class ConsoleConfig(Section):
    """The admin web console: sync health, review queue, mappings, reports."""

    enabled: bool = False
    """true serves the console from the daemon (`run`) on server.host:server.port, beside
    /healthz and /metrics; `handoff-sync console` serves it on its own either way."""
    host: Annotated[Text, Field(min_length=1)] = "127.0.0.1"
    """Address `handoff-sync console` listens on; loopback by default."""
    port: Annotated[int, Field(ge=0, le=65535)] = 9465
    """TCP port of `handoff-sync console` (0 picks a free one)."""
    users: list[ConsoleUserConfig] = Field(default_factory=list)
    """Who may log in, with their role and argon2 password hash."""
    identity_header: Annotated[Text, Field(min_length=1)] | None = None
    """Trust this request header (e.g. X-Forwarded-User) as the logged-in user's name when
    a reverse proxy in front of the console authenticates people; only from
    trusted_proxies."""
    trusted_proxies: list[Text] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    """Peer addresses (or networks, 10.0.0.0/8) whose identity_header and X-Forwarded-For,
    -Proto and -Host are believed."""
    admins: list[Text] = Field(default_factory=list)
    """With identity_header: the user names that get the admin role (others: viewer)."""
    session_secret: Secret | None = None
    """Signs session cookies (${VAR} or {file: PATH}); without it a random key per process,
    so a restart logs everyone out."""
    session_minutes: Annotated[int, Field(ge=5, le=7 * 24 * 60)] = 480
    """How long a login lasts."""

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip("[]"), strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network: write the "
                                 "proxy's address (10.0.0.7) or its network (10.0.0.0/24)"
                                 ) from None
        return value

    @property
    def authenticates(self) -> bool:
        """Whether anyone must prove who they are (users or a trusted proxy header)."""
        return bool(self.users) or self.identity_header is not None

    @model_validator(mode="after")
    def _unique_users(self) -> ConsoleConfig:
        seen: set[str] = set()
        for index, user in enumerate(self.users):
            key = user.name.casefold()
            if key in seen:
                raise KeyProblems.one(("users", index, "name"),
                                      f"user {user.name!r} is listed twice")
            seen.add(key)
        return self


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
    create_opportunities: bool = True
    """false grades only: no opportunity is created for an approved registration that
    none matches, even when the mappings say how (handoff.yaml creation, the CRM file's
    create section)."""


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
    console: ConsoleConfig = Field(default_factory=dict, validate_default=True)  # type: ignore[arg-type]
    """The admin web console."""
    _path: Path = PrivateAttr(default=Path(DEFAULT_FILE))
    _lines: dict[KeyPath, int] = PrivateAttr(default_factory=dict)

    @property
    def path(self) -> Path:
        """The file this config was loaded from (absolute)."""
        return self._path

    def where(self, path: KeyPath) -> str:
        """``file:line`` of the key at ``path`` in the file, or of its nearest ancestor
        written there (a key left at its default is not): what a message points to."""
        probe = tuple(path)
        while probe and probe not in self._lines:
            probe = probe[:-1]
        return f"{self._path}:{self._lines.get(probe, 1)}"

    def written(self, path: KeyPath) -> bool:
        """Is the key at ``path`` written in the file (not left at its default)?"""
        return tuple(path) in self._lines

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
