"""What failed below HTTP, read from the exception chain requests and urllib3 raise.

The chains are built as the libraries build them (urllib3 2: MaxRetryError -> the
connection error -> the socket's or ssl's error as ``__cause__``; requests wraps the
MaxRetryError in its own class), so the classifier is tested without a network. Both
connectors' tables are checked: a refused or unresolvable host is ``CannotConnect``
naming host:port and the cause, never "in time"; a connection that broke after it was
made is not; and one-shot retry settings report it at once, where the daemon's retry it.
"""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Callable, Iterator

import pytest
import requests
import responses
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from connectors.error_table import connect_cause, endpoint_of, tls_cause
from connectors.errors import (
    CannotConnect,
    CertificateRejected,
    ConnectorError,
    RetriesExhausted,
    TransientError,
)
from connectors.hubspot import errors as hubspot_errors
from connectors.retry import RetrySettings, call_with_retry
from connectors.salesforce import errors as salesforce_errors
from connectors.salesforce.auth import SalesforceAuth, SecretRef
from connectors.salesforce.connector import SalesforceConnector, SalesforceSettings
from handoff_sync.testing.clock import FakeClock

HOST, PORT = "crm.example.invalid", 8443
URL = f"https://{HOST}:{PORT}/services/oauth2/token"


def caused(error: BaseException, cause: BaseException) -> BaseException:
    error.__cause__ = cause
    return error


def refused() -> BaseException:
    connection = HTTPSConnection(HOST, PORT)
    return caused(NewConnectionError(connection, "Failed to establish a new connection: "
                                     "[Errno 111] Connection refused"),
                  ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"))


def unresolvable() -> BaseException:
    gai = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return caused(NameResolutionError(HOST, HTTPSConnection(HOST, PORT), gai), gai)


def connect_timed_out() -> BaseException:
    return caused(ConnectTimeoutError(HTTPSConnection(HOST, PORT), f"Connection to {HOST} "
                                      "timed out. (connect timeout=10)"),
                  TimeoutError("timed out"))


def no_route() -> BaseException:
    return caused(NewConnectionError(HTTPSConnection(HOST, PORT), "Failed to establish a "
                                     "new connection: [Errno 113] No route to host"),
                  OSError(errno.EHOSTUNREACH, "No route to host"))


def certificate(message: str, code: int) -> BaseException:
    verify = ssl.SSLCertVerificationError(1, f"[SSL: CERTIFICATE_VERIFY_FAILED] certificate "
                                          f"verify failed: {message}")
    verify.verify_code, verify.verify_message = code, message
    return caused(SSLError(verify), verify)


def untrusted() -> BaseException:
    return certificate("unable to get local issuer certificate", 20)


def wrong_host() -> BaseException:
    return certificate(f"Hostname mismatch, certificate is not valid for '{HOST}'.", 62)


def pooled(reason: BaseException) -> MaxRetryError:
    """As urllib3 raises it with retries off (the HubSpot client)."""
    assert isinstance(reason, Exception)
    return MaxRetryError(HTTPSConnectionPool(HOST, PORT), "/crm/v3/objects/deals", reason)


def via_requests(reason: BaseException) -> requests.RequestException:
    """As requests raises it (the Salesforce connector's session)."""
    kind: type[requests.RequestException] = requests.ConnectionError
    if isinstance(reason, SSLError):
        kind = requests.exceptions.SSLError
    elif type(reason) is ConnectTimeoutError:
        kind = requests.ConnectTimeout
    request = requests.Request("POST", URL).prepare()
    return kind(pooled(reason), request=request)


CONNECT_FAILURES: dict[str, Callable[[], BaseException]] = {
    "refused": refused, "dns": unresolvable, "timeout": connect_timed_out,
    "network": no_route}


@pytest.mark.parametrize("cause", CONNECT_FAILURES)
def test_the_socket_error_at_the_bottom_of_the_chain_says_why_no_connection_was_made(
        cause: str) -> None:
    reason = CONNECT_FAILURES[cause]()
    for raised in (reason, pooled(reason), via_requests(reason)):
        assert connect_cause(raised) == cause
        assert tls_cause(raised) is None
    assert endpoint_of(via_requests(reason)) == endpoint_of(pooled(reason)) == f"{HOST}:{PORT}"


def test_a_connection_that_was_made_and_then_failed_is_no_connect_failure() -> None:
    reset = ProtocolError("Connection aborted.", ConnectionResetError(104, "reset by peer"))
    read_timeout = ReadTimeoutError(HTTPSConnectionPool(HOST, PORT), "/x", "Read timed out.")
    for raised in (reset, read_timeout, pooled(reset), via_requests(read_timeout)):
        assert connect_cause(raised) is None


def test_tls_verification_tells_an_untrusted_certificate_from_one_for_another_host() -> None:
    assert tls_cause(via_requests(untrusted())) == "untrusted"
    assert tls_cause(pooled(wrong_host())) == "hostname"
    ip_mismatch = certificate("IP address mismatch, certificate is not valid for "
                              "'10.0.0.1'.", 64)
    assert tls_cause(ip_mismatch) == "hostname"
    assert connect_cause(via_requests(untrusted())) is None


@pytest.mark.parametrize("cause", CONNECT_FAILURES)
def test_salesforce_classifies_a_connect_failure_as_cannot_connect(cause: str) -> None:
    error = salesforce_errors.classify(via_requests(CONNECT_FAILURES[cause]()),
                                       subject="login at https://crm.example.invalid:8443",
                                       idempotent=False)
    assert type(error) is CannotConnect  # even for a create: nothing was sent
    assert (error.cause, error.endpoint, error.system) == (cause, f"{HOST}:{PORT}", "salesforce")
    assert str(error).startswith(f"salesforce: could not connect to Salesforce at {HOST}:"
                                 f"{PORT} for login at https://crm.example.invalid:8443: ")
    assert "in time" not in str(error) and "broke" not in str(error)


@pytest.mark.parametrize("cause", CONNECT_FAILURES)
def test_hubspot_classifies_a_connect_failure_as_cannot_connect(cause: str) -> None:
    failure = hubspot_errors.failure_of(pooled(CONNECT_FAILURES[cause]()))
    assert failure is not None
    row, error = hubspot_errors.classify(failure, subject="search deals", writing=True)
    assert type(error) is CannotConnect and row.action.value == "retry"
    assert (error.cause, error.endpoint) == (cause, f"{HOST}:{PORT}")
    assert str(error).startswith(f"hubspot: could not connect to HubSpot at {HOST}:{PORT} "
                                 "for search deals: ")
    assert "in time" not in str(error)


def test_the_words_name_what_failed() -> None:
    words = {cause: str(salesforce_errors.classify(via_requests(make()), subject="s"))
             for cause, make in CONNECT_FAILURES.items()}
    assert words["refused"].endswith("connection refused (nothing listens on that port)")
    assert words["dns"].endswith("the host name does not resolve (DNS)")
    assert words["timeout"].endswith("the connection timed out (no answer from that host "
                                     "and port)")
    assert words["network"].endswith("no route to that host (network unreachable)")


@pytest.mark.parametrize(("make", "cause", "words"), [
    (untrusted, "untrusted", "does not verify against the CA this connection trusts"),
    (wrong_host, "hostname", "is for another host name"),
])
def test_both_connectors_refuse_a_certificate_at_once_saying_which_way(
        make: Callable[[], BaseException], cause: str, words: str) -> None:
    salesforce = salesforce_errors.classify(via_requests(make()), subject="login")
    failure = hubspot_errors.failure_of(pooled(make()))
    assert failure is not None
    _, hubspot = hubspot_errors.classify(failure, subject="search deals")
    for error in (salesforce, hubspot):
        assert isinstance(error, CertificateRejected)
        assert (error.cause, error.endpoint) == (cause, f"{HOST}:{PORT}")
        assert f"TLS certificate at {HOST}:{PORT} {words}" in str(error)


def test_a_connection_that_broke_is_still_retried_as_before() -> None:
    reset = ProtocolError("Connection aborted.", ConnectionResetError(104, "reset by peer"))
    error = salesforce_errors.classify(via_requests(reset), subject="query Opportunity")
    assert type(error) is TransientError and error.cause is None
    assert "the connection to Salesforce broke during query Opportunity" in str(error)


# --- retrying: the daemon rides it out, a one-shot command reports at once ----------------

def cannot_connect() -> CannotConnect:
    return CannotConnect("could not connect to Salesforce at h:1 for login: connection "
                         "refused (nothing listens on that port)", system="salesforce",
                         endpoint="h:1", cause="refused")


def failing(error: Callable[[], ConnectorError]) -> tuple[Callable[[], None], list[int]]:
    calls: list[int] = []

    def call() -> None:
        calls.append(1)
        raise error()

    return call, calls


def test_a_one_shot_command_gets_a_connect_failure_at_once() -> None:
    clock = FakeClock()
    call, calls = failing(cannot_connect)
    with pytest.raises(CannotConnect) as raised:
        call_with_retry(call, settings=RetrySettings(retry_connect=False), what="login",
                        sleep=clock.sleep, clock=clock.clock)
    assert (len(calls), clock.sleeps) == (1, [])
    assert raised.value.cause == "refused"


def test_a_one_shot_command_still_retries_a_server_error() -> None:
    clock = FakeClock()
    call, calls = failing(lambda: TransientError("HTTP 503", system="salesforce", status=503))
    with pytest.raises(RetriesExhausted):
        call_with_retry(call, settings=RetrySettings(retry_connect=False, max_attempts=3),
                        what="salesforce query", sleep=clock.sleep, clock=clock.clock)
    assert len(calls) == 3


def test_the_daemon_retries_a_connect_failure_and_keeps_what_failed_when_it_gives_up() -> None:
    clock = FakeClock()
    call, calls = failing(cannot_connect)
    with pytest.raises(RetriesExhausted) as raised:
        call_with_retry(call, settings=RetrySettings(max_attempts=4), what="salesforce login",
                        sleep=clock.sleep, clock=clock.clock)
    assert len(calls) == 4 and len(clock.sleeps) == 3
    exhausted = raised.value
    assert (exhausted.cause, exhausted.endpoint, exhausted.system) == ("refused", "h:1",
                                                                       "salesforce")
    assert str(exhausted) == ("salesforce: salesforce login failed 4 times: could not connect "
                              "to Salesforce at h:1 for login: connection refused (nothing "
                              "listens on that port)")
    assert isinstance(exhausted.__cause__, CannotConnect)


# --- through the Salesforce connector, with `responses` raising the chain -----------------

@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.mark.parametrize("retry_connect", [False, True], ids=["one-shot", "daemon"])
def test_a_refused_login_through_the_connector(rsps: responses.RequestsMock,
                                               retry_connect: bool) -> None:
    for _ in range(1 if not retry_connect else 3):
        rsps.post(URL, body=via_requests(refused()))
    clock = FakeClock()
    auth = SalesforceAuth(kind="client_credentials", login_url=f"https://{HOST}:{PORT}",
                          client_id="app", client_secret=SecretRef(env="SF_SECRET"))
    settings = SalesforceSettings(auth=auth, retry=RetrySettings(
        max_attempts=3, retry_connect=retry_connect))
    connector = SalesforceConnector(settings, sleep=clock.sleep, clock=clock.clock,
                                    environ={"SF_SECRET": "s3cret"})

    with pytest.raises(ConnectorError) as raised:
        connector.owners()
    connector.close()

    error = raised.value
    assert type(error) is (RetriesExhausted if retry_connect else CannotConnect)
    assert (error.cause, error.endpoint) == ("refused", f"{HOST}:{PORT}")
    assert len(clock.sleeps) == (2 if retry_connect else 0)
    assert "connection refused (nothing listens on that port)" in str(error)
