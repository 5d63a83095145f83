"""The config file's connections: one model per system of connectors.registry, with the
retry and API-budget sections they share, and what each connection stands for (its
connector's settings, its org, the files it names)."""

from __future__ import annotations

import codecs
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    Field,
    field_validator,
    model_validator,
)

from handoff_sync.config.errors import (
    KeyProblems,
)
from handoff_sync.config.fields import API_VERSION_PATTERN, ConfigPath, Secret, Section, Text
from handoff_sync.config.secrets import (
    SecretSource,
)
from handoff_sync.problems.report import KeyPath

if TYPE_CHECKING:  # the connectors' settings, imported where they are built
    from connectors.budget import BudgetSettings
    from connectors.files.connector import FileDropSettings
    from connectors.hubspot.connector import HubSpotSettings
    from connectors.retry import RetrySettings
    from connectors.salesforce.connector import SalesforceSettings



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

    def settings(self, *, retry_connect: bool = True) -> RetrySettings:
        """This section in the connectors' terms. ``retry_connect`` False: a call that
        could not connect at all is reported at once (one-shot commands)."""
        from connectors.retry import RetrySettings

        return RetrySettings(max_attempts=self.max_attempts,
                             initial_wait=self.initial_wait_seconds,
                             max_wait=self.max_wait_seconds,
                             give_up_after=self.give_up_after_seconds,
                             retry_connect=retry_connect)


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

    URL_KEYS: ClassVar[tuple[str, ...]] = ("login_url", "instance_url")

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

    def connector_settings(self, *, shared_budget: bool = False,
                           retry_connect: bool = True) -> SalesforceSettings:
        """This section in the connector's terms; secrets stay references (the connector
        reads them at each login, so a rotated secret is picked up). ``shared_budget``:
        see ``BudgetConfig.settings``; ``retry_connect``: ``RetryConfig.settings``."""
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
            overlap_seconds=self.overlap_seconds,
            retry=self.retry.settings(retry_connect=retry_connect),
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

    URL_KEYS: ClassVar[tuple[str, ...]] = ("host",)

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
        elif self.deletion_lookback_seconds < (
                floor := self.overlap_seconds + self.archive_scan_interval_seconds):
            # A restarted daemon (or the replica taking the pipeline over) reports
            # deletions back to its cursor less this; the last scan before it may be an
            # interval older than the cursor, which settles at the last pull's time.
            found.append((("deletion_lookback_seconds",), "must be at least overlap_seconds "
                          "+ archive_scan_interval_seconds "
                          f"({floor:g}), or a deal archived between the last archive scan "
                          "and a restart is never reported deleted"))
        if found:
            raise KeyProblems(found)
        return self

    def connector_settings(self, *, shared_budget: bool = False,
                           retry_connect: bool = True) -> HubSpotSettings:
        """This section in the connector's terms; secrets stay references (read when the
        connector is built). ``shared_budget``: see ``BudgetConfig.settings``;
        ``retry_connect``: ``RetryConfig.settings``."""
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
            retry=self.retry.settings(retry_connect=retry_connect),
            budget=self.budget.settings(shared=shared_budget),
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

    URL_KEYS: ClassVar[tuple[str, ...]] = ()

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

    def connector_settings(self, *, shared_budget: bool = False,
                           retry_connect: bool = True) -> FileDropSettings:
        """This section in the connector's terms (a folder has no API budget to share,
        and no connection to retry)."""
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


def _reference(source: SecretSource | None) -> str:
    if source is None:
        return ""
    return f"file:{source.file}" if source.file is not None else f"env:{source.env}"
