"""What to check when a system fails a call: the connector's failure in the config's terms.

A connector says what failed (``connectors.errors``: the system, where the call went as
``endpoint`` host:port and, below HTTP, the ``cause``: dns, refused, timeout, network,
untrusted, hostname); only the product knows which connection of the config that was,
which key holds the URL, the CA bundle or the secret, and on which line. ``explain`` joins
the two into the line a person reads:

    salesforce connection 'crm': could not connect to Salesforce at 127.0.0.1:8443 for
    login at https://127.0.0.1:8443: connection refused (nothing listens on that port); is
    Salesforce (or the sandbox) running on that port? check connections.crm.login_url in
    /srv/handoff-sync.yaml:24

It never says whether anything tries again: that depends on who asked (the daemon does
at its next cycle, a one-shot command does not), so ``sync.failures`` adds it.
"""

from __future__ import annotations

from collections.abc import Sequence

from connectors.error_table import endpoint_of_url
from connectors.errors import AuthError, ConnectorError, PermissionDenied
from connectors.registry import spec
from handoff_sync.config.connections import AnyConnectionConfig
from handoff_sync.config.secrets import secret_sources
from handoff_sync.config.settings import Config

# What to ask about each cause below HTTP; {ref} is the config key to check, at its line.
_CAUSE_CHECKS = {
    "dns": "is the host name right? check {ref}",
    "refused": "is {label} (or the sandbox) running on that port? check {ref}",
    "timeout": "is that host reachable from here (a firewall, a proxy, a VPN)? check {ref}",
    "network": "is this machine on a network that reaches that host? check {ref}",
    "hostname": "does the URL name the host the certificate is for? check {ref}",
}


def explain(exc: ConnectorError, config: Config, names: Sequence[str]) -> str:
    """``exc`` as one line: which of the connections ``names`` (a pipeline's) failed, at
    which host:port, what failed and what to check, with the config key and its line.
    ``str(exc)`` when no connection of that system is among ``names``."""
    name = _connection_of(exc, config, names)
    if name is None:
        return str(exc)
    connection = config.connections[name]
    endpoint = exc.endpoint or _configured_endpoint(connection)
    head = f"{connection.system} connection '{name}'"
    if endpoint and endpoint not in exc.message:
        head += f" at {endpoint}"
    check = _check(exc, config, name, connection, endpoint)
    message = exc.message
    if check and exc.cause in ("untrusted", "hostname"):
        # The connector's own advice names keys generically ("set ca_file ..."); the
        # check below names the key of this config at its line, so it replaces it.
        message = message.split("; ", 1)[0]
    return f"{head}: {message}" + (f"; {check}" if check else "")


def _check(exc: ConnectorError, config: Config, name: str,
           connection: AnyConnectionConfig, endpoint: str | None) -> str | None:
    if exc.cause == "untrusted":
        ca_file = ("connections", name, "ca_file")
        if config.written(ca_file):
            return f"is ca_file the server's CA? check connections.{name}.ca_file in " \
                   f"{config.where(ca_file)}"
        return (f"the server's certificate is not signed by a public CA: set "
                f"connections.{name}.ca_file to the CA bundle that signed it (in "
                f"{config.where(ca_file)})")
    if exc.cause in _CAUSE_CHECKS:
        label = spec(connection.system).title
        return _CAUSE_CHECKS[exc.cause].format(
            label=label, ref=_url_ref(config, name, connection, endpoint, label))
    if isinstance(exc, AuthError):
        return _secret_check(config, name, connection)
    if isinstance(exc, PermissionDenied):
        return (f"the user or app connections.{name} logs in as needs that access "
                f"({config.where(('connections', name))})")
    return None


def _url_ref(config: Config, name: str, connection: AnyConnectionConfig,
             endpoint: str | None, label: str) -> str:
    """The URL key whose host:port is ``endpoint``, at its line; else the first URL key,
    saying that the endpoint came from the system (Salesforce's login answer names the
    instance URL)."""
    keys = type(connection).URL_KEYS
    if not keys:
        return f"connections.{name} in {config.where(('connections', name))}"
    for key in keys:
        value = getattr(connection, key, "")
        if value and endpoint and endpoint_of_url(value) == endpoint:
            return _key_ref(config, name, connection, key)
    ref = _key_ref(config, name, connection, keys[0])
    return f"{ref} ({endpoint} came from {label}, not from the config)" if endpoint else ref


def _key_ref(config: Config, name: str, connection: AnyConnectionConfig, key: str) -> str:
    path = ("connections", name, key)
    if config.written(path):
        return f"connections.{name}.{key} in {config.where(path)}"
    return (f"connections.{name}.{key} (not set: the default is "
            f"{getattr(connection, key, '')}) in {config.where(path)}")


def _secret_check(config: Config, name: str, connection: AnyConnectionConfig) -> str:
    sources = list(secret_sources(connection))
    where = config.where(("connections", name))
    if not sources:
        return f"check the credentials of connections.{name} in {where}"
    if len(sources) == 1:
        key, source = sources[0]
        place = source.env if source.env is not None else source.file
        return (f"is the secret in {place} current? check connections.{name}.{key} in "
                f"{config.where(('connections', name, key))}")
    listed = ", ".join(f"{key} ({source.env if source.env is not None else source.file})"
                       for key, source in sources)
    return f"are its secrets current? check connections.{name}: {listed}, in {where}"


def _connection_of(exc: ConnectorError, config: Config,
                   names: Sequence[str]) -> str | None:
    """The connection among ``names`` that raised ``exc``: the one of its system, or,
    when both sides are that system, the one whose URLs name its endpoint."""
    mine = [n for n in dict.fromkeys(names)
            if n in config.connections and config.connections[n].system == exc.system]
    if len(mine) > 1 and exc.endpoint:
        for name in mine:
            connection = config.connections[name]
            urls = [getattr(connection, key, "") for key in type(connection).URL_KEYS]
            if any(url and endpoint_of_url(url) == exc.endpoint for url in urls):
                return name
    return mine[0] if mine else None


def _configured_endpoint(connection: AnyConnectionConfig) -> str | None:
    for key in type(connection).URL_KEYS:
        value = getattr(connection, key, "")
        if value:
            return endpoint_of_url(value)
    return None
