"""From a configured connection to a connector: the config's words to the connectors'.

The config speaks the operator's language (seconds as numbers, secrets as references);
the connectors take their own frozen settings dataclasses. This module is the one place
that translates, so neither side needs to know the other's names. Secrets stay references
here too: Salesforce reads them at each login (a rotated secret is picked up), HubSpot
when the connector is built. Both read them by one rule (``connectors.secret_text``) and
tell every value, and every token they mint, to the ``on_secret`` hook given here, which
registers it for redaction: connectors import nothing of handoff_sync. Each secret is also
checked once here, by that same reader, so a missing or malformed one stops the build
with a message naming the config key and its variable or file, before any call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import timedelta
from typing import assert_never

from connectors.budget import BudgetSettings, LedgerFactory
from connectors.errors import AuthError
from connectors.files.connector import FileDropConnector, FileDropSettings
from connectors.hubspot.auth import CredentialSources
from connectors.hubspot.connector import HubSpotConnector, HubSpotSettings
from connectors.retry import RetrySettings
from connectors.salesforce.auth import SalesforceAuth, SecretRef
from connectors.salesforce.connector import SalesforceConnector, SalesforceSettings
from handoff_sync.config.secrets import (
    MULTILINE_KEYS,
    SecretError,
    SecretSource,
    read_secret,
    secret_sources,
)
from handoff_sync.config.settings import (
    AnyConnectionConfig,
    BudgetConfig,
    FileDropConnectionConfig,
    HubSpotConnectionConfig,
    RetryConfig,
    SalesforceConnectionConfig,
)
from handoff_sync.safety import redaction

AnyConnector = SalesforceConnector | HubSpotConnector | FileDropConnector


def build_connector(connection: AnyConnectionConfig, *,
                    environ: Mapping[str, str] | None = None,
                    ledgers: LedgerFactory | None = None,
                    stop: Callable[[], bool] | None = None) -> AnyConnector:
    """The connector for ``connection``; secrets come from ``environ`` (default
    ``os.environ``) or the files the config names.

    A missing, unreadable or malformed secret raises ``connectors.errors.AuthError`` here,
    naming the connection's key and the variable or file.

    ``ledgers`` (the store's, in the daemon and ``sync``) keeps the API budget per org in
    the database, shared by every pipeline and replica, counted in batches of
    ``budget.flush_calls``; without it each connector counts its own calls. ``stop`` ends
    a budget wait early (SIGTERM). Every secret the connector reads and every token it
    mints is registered for redaction (``redaction.remember``).
    """
    check_secrets(connection, environ)
    if isinstance(connection, SalesforceConnectionConfig):
        settings = salesforce_settings(connection)
        if ledgers is not None:
            settings = replace(settings, budget=_shared(connection.budget))
        return SalesforceConnector(settings, environ=environ, ledgers=ledgers, stop=stop,
                                   on_secret=redaction.remember)
    if isinstance(connection, HubSpotConnectionConfig):
        hubspot = hubspot_settings(connection)
        if ledgers is not None:
            hubspot = replace(hubspot, budget=_shared(connection.budget))
        return HubSpotConnector(hubspot, environ=environ, ledgers=ledgers, stop=stop,
                                on_secret=redaction.remember)
    if isinstance(connection, FileDropConnectionConfig):
        return FileDropConnector(file_drop_settings(connection))
    assert_never(connection)


def check_secrets(connection: AnyConnectionConfig,
                  environ: Mapping[str, str] | None = None) -> None:
    """Read and check every secret of ``connection`` by the connectors' own reader
    (registering each for redaction, warning about loose file modes); AuthError naming
    the key of the first unusable one."""
    for key, source in secret_sources(connection):
        try:
            read_secret(source, environ, multiline=key in MULTILINE_KEYS)
        except SecretError as exc:
            raise AuthError(f"{key}: {exc}", system=connection.system) from None


def salesforce_settings(connection: SalesforceConnectionConfig) -> SalesforceSettings:
    def ref(source: SecretSource | None) -> SecretRef | None:
        return None if source is None else SecretRef(env=source.env, file=source.file)

    auth = SalesforceAuth(
        kind=connection.auth, login_url=connection.login_url.rstrip("/"),
        client_id=connection.client_id, username=connection.username,
        private_key=ref(connection.private_key), client_secret=ref(connection.client_secret),
        password=ref(connection.password), security_token=ref(connection.security_token),
        session_id=ref(connection.session_id), instance_url=connection.instance_url,
        jwt_audience=connection.jwt_audience)
    return SalesforceSettings(
        auth=auth, api_version=connection.api_version, ca_file=connection.ca_file,
        timeout_seconds=connection.timeout_seconds, page_size=connection.page_size,
        bulk_threshold=connection.bulk_threshold, bulk_page_size=connection.bulk_page_size,
        bulk_poll_seconds=connection.bulk_poll_seconds,
        bulk_timeout_seconds=connection.bulk_timeout_seconds,
        overlap_seconds=connection.overlap_seconds,
        retry=_retry(connection.retry), budget=_budget(connection.budget))


def hubspot_settings(connection: HubSpotConnectionConfig) -> HubSpotSettings:
    sources: dict[str, str | None] = {}
    for name in ("access_token", "client_id", "client_secret", "refresh_token"):
        source: SecretSource | None = getattr(connection, name)
        if source is None:
            continue  # not used by this auth kind: the connector's defaults stay
        if source.file is not None:
            sources[f"{name}_file"] = str(source.file)
        else:
            sources[f"{name}_env"] = source.env
    return HubSpotSettings(
        host=connection.host.rstrip("/"), auth=connection.auth,
        credentials=CredentialSources(**sources),  # type: ignore[arg-type]
        ca_file=str(connection.ca_file) if connection.ca_file is not None else None,
        connect_timeout=connection.connect_timeout_seconds,
        read_timeout=connection.read_timeout_seconds, page_size=connection.page_size,
        search_lag=timedelta(seconds=connection.search_lag_seconds),
        overlap=timedelta(seconds=connection.overlap_seconds),
        deletion_lookback=timedelta(seconds=connection.deletion_lookback_seconds),
        archive_scan_interval=timedelta(seconds=connection.archive_scan_interval_seconds),
        retry=_retry(connection.retry), budget=_budget(connection.budget),
        burst_limit=connection.burst_limit, burst_window=connection.burst_window_seconds,
        search_limit=connection.search_limit, search_window=connection.search_window_seconds,
        pacing_margin=connection.pacing_margin,
        token_refresh_margin=connection.token_refresh_margin_seconds)


def file_drop_settings(connection: FileDropConnectionConfig) -> FileDropSettings:
    return FileDropSettings(
        folder=connection.folder, id_field=connection.id_field,
        modified_field=connection.modified_field, deleted_field=connection.deleted_field,
        patterns=connection.patterns, encoding=connection.encoding,
        delimiter=connection.delimiter, settle_seconds=connection.settle_seconds)


def _retry(retry: RetryConfig) -> RetrySettings:
    return RetrySettings(max_attempts=retry.max_attempts, initial_wait=retry.initial_wait_seconds,
                         max_wait=retry.max_wait_seconds,
                         give_up_after=retry.give_up_after_seconds)


def _budget(budget: BudgetConfig) -> BudgetSettings:
    return BudgetSettings(share=budget.share, slow_down_at=budget.slow_down_at,
                          daily_limit=budget.daily_limit)


def _shared(budget: BudgetConfig) -> BudgetSettings:
    """The budget counted in batches: a shared ledger costs a database round trip."""
    return replace(_budget(budget), flush_calls=budget.flush_calls,
                   flush_seconds=budget.flush_seconds)
