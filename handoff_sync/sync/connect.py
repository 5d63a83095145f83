"""From a configured connection to a connector: the one place connectors are built.

The config speaks the operator's language (seconds as numbers, secrets as references);
each system's connection section turns itself into its connector's frozen settings
(``connector_settings()``), and ``connectors.registry`` names the class built from them,
so nothing here knows one system from another. Secrets stay references: Salesforce
reads them at each login (a rotated secret is picked up), HubSpot when the connector is
built. Both read them by one rule (``connectors.secret_text``) and tell every value, and
every token they mint, to the ``on_secret`` hook given here, which registers it for
redaction: connectors import nothing of handoff_sync. Each secret is also checked once
here, by that same reader, so a missing or malformed one stops the build with a message
naming the config key and its variable or file, before any call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from connectors.base import Connector
from connectors.budget import LedgerFactory
from connectors.errors import AuthError
from connectors.registry import spec
from handoff_sync.config.connections import AnyConnectionConfig
from handoff_sync.config.secrets import (
    MULTILINE_KEYS,
    SecretError,
    read_secret,
    secret_sources,
)
from handoff_sync.safety import redaction


def build_connector(connection: AnyConnectionConfig, *,
                    environ: Mapping[str, str] | None = None,
                    ledgers: LedgerFactory | None = None,
                    stop: Callable[[], bool] | None = None,
                    daemon: bool = False) -> Connector:
    """The connector for ``connection``; secrets come from ``environ`` (default
    ``os.environ``) or the files the config names.

    A missing, unreadable or malformed secret raises ``connectors.errors.AuthError`` here,
    naming the connection's key and the variable or file.

    ``ledgers`` (the store's, in the daemon and ``sync``) keeps the API budget per org in
    the database, shared by every pipeline and replica, counted in batches of
    ``budget.flush_calls``; without it each connector counts its own calls. ``stop`` ends
    a budget wait early (SIGTERM). Every secret the connector reads and every token it
    mints is registered for redaction (``redaction.remember``).

    ``daemon`` (`handoff-sync run`): a call that cannot connect is retried under the
    connection's retry settings, to ride out a server restarting; for a one-shot command
    (the default) it fails at once, since the person who ran it is waiting for the answer.
    """
    check_secrets(connection, environ)
    row = spec(connection.system)
    settings = connection.connector_settings(shared_budget=ledgers is not None,
                                             retry_connect=daemon)
    if not isinstance(settings, row.settings_class()):
        raise TypeError(f"the {connection.system} connection section built "
                        f"{type(settings).__name__}, not the registry's {row.settings}")
    return row.connector_class()(settings, environ=environ, ledgers=ledgers, stop=stop,
                                 on_secret=redaction.remember)


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
