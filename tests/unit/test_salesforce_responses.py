"""simple-salesforce edge cases the sandbox does not produce, with exact-URL `responses` mocks.

Proxies answering HTML, malformed Sforce-Limit-Info headers, token endpoint failures,
non-JSON error bodies, per-record lock errors and missing Bulk headers: each goes through
the real client and the connector, and every registered response must be used.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
import responses
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from responses import matchers

from connectors.base import RecordWrite
from connectors.errors import AuthError, FatalError, QuotaExhausted, RetriesExhausted
from connectors.salesforce.auth import SalesforceAuth, SecretRef, retry_after_seconds
from connectors.salesforce.connector import SalesforceConnector, SalesforceSettings
from connectors.salesforce.errors import NETWORK_TABLE, RECORD_TABLE, TABLE, TOKEN_TABLE
from connectors.salesforce.query import MAX_URL_BYTES
from handoff_sync.testing.clock import FakeClock

LOGIN = "https://acme.my.salesforce.com"
INSTANCE = "https://acme.my.salesforce.com"
TOKEN_URL = f"{LOGIN}/services/oauth2/token"
DATA = f"{INSTANCE}/services/data/v59.0"
OWNERS_SOQL = "SELECT Id, Name, Email, IsActive, ManagerId FROM User ORDER BY Id"
SECRET = "cs-very-secret"
TOKEN = "00D000000000001!token"
USER = {"attributes": {"type": "User"}, "Id": "005000000000001AAA",
        "Email": "Ada@Acme.example", "IsActive": True, "ManagerId": None}
HTML_502 = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def fake_time() -> FakeClock:
    return FakeClock()


def client_credentials() -> SalesforceAuth:
    return SalesforceAuth(kind="client_credentials", login_url=LOGIN, client_id="3MVG9.key",
                          client_secret=SecretRef(env="SF_SECRET"))


def make(fake_time: FakeClock, auth: SalesforceAuth | None = None,
         environ: dict[str, str] | None = None, **settings: Any) -> SalesforceConnector:
    return SalesforceConnector(
        SalesforceSettings(auth=auth or client_credentials(), **settings),
        sleep=fake_time.sleep, clock=fake_time.clock, wall_clock=lambda: 1_700_000_000.0,
        environ=environ or {"SF_SECRET": SECRET})


def add_token(rsps: responses.RequestsMock, token: str = TOKEN) -> None:
    rsps.post(TOKEN_URL, json={"access_token": token, "instance_url": INSTANCE,
                               "id": f"{LOGIN}/id/00D/005", "token_type": "Bearer",
                               "issued_at": "1700000000000", "signature": "x"})


def add_owners(rsps: responses.RequestsMock, *, limit_info: str | None = "api-usage=1/15000",
               **kwargs: Any) -> None:
    headers = {"Sforce-Limit-Info": limit_info} if limit_info else {}
    options: dict[str, Any] = {"json": {"totalSize": 1, "done": True, "records": [USER]},
                               "headers": headers, **kwargs}
    rsps.get(f"{DATA}/query/", match=[matchers.query_param_matcher({"q": OWNERS_SOQL})],
             **options)


# --- the token endpoint ---------------------------------------------------------------------


def test_client_credentials_post_basic_auth_to_the_login_url_and_the_token_is_used(
    rsps: responses.RequestsMock, fake_time: FakeClock
) -> None:
    add_token(rsps)
    add_owners(rsps)

    owners = make(fake_time).owners()

    token_request, query_request = (call.request for call in rsps.calls)
    expected = base64.b64encode(f"3MVG9.key:{SECRET}".encode()).decode()
    assert token_request.headers["Authorization"] == f"Basic {expected}"
    assert parse_qs(str(token_request.body)) == {"grant_type": ["client_credentials"]}
    assert query_request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert [(o.id, o.email, o.active) for o in owners] == [
        ("005000000000001AAA", "ada@acme.example", True)]


def rsa_pair() -> tuple[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return pem, key.public_key()


@pytest.mark.parametrize(
    ("login_url", "audience"),
    [
        ("https://acme.my.salesforce.com", "https://login.salesforce.com"),
        ("https://test.salesforce.com", "https://test.salesforce.com"),
        ("https://acme--uat.sandbox.my.salesforce.com", "https://test.salesforce.com"),
        ("https://partners.acme.example/s", "https://partners.acme.example/s"),
    ],
)
def test_jwt_bearer_signs_the_claims_salesforce_checks(
    rsps: responses.RequestsMock, fake_time: FakeClock, login_url: str, audience: str
) -> None:
    pem, public = rsa_pair()
    auth = SalesforceAuth(kind="jwt_bearer", login_url=login_url, client_id="3MVG9.key",
                          username="sync@acme.example", private_key=SecretRef(env="KEY"))
    rsps.post(f"{login_url}/services/oauth2/token",
              json={"access_token": TOKEN, "instance_url": INSTANCE})
    add_owners(rsps)

    make(fake_time, auth, {"KEY": pem}).owners()

    form = parse_qs(str(rsps.calls[0].request.body))
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    claims = jwt.decode(form["assertion"][0], public, algorithms=["RS256"], audience=audience,
                        options={"verify_exp": False})
    assert claims == {"iss": "3MVG9.key", "sub": "sync@acme.example", "aud": audience,
                      "exp": 1_700_000_180}


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (400, {"error": "invalid_grant", "error_description": "authentication failure"},
         "authentication failure"),
        (400, {"error": "invalid_client_id", "error_description": "client identifier invalid"},
         "consumer key"),
        (400, {"error": "unsupported_grant_type", "error_description": "grant type not "
               "supported"}, "enable the flow"),
        (400, "<html><body>Bad Request</body></html>", "non-JSON body"),
        (200, {"instance_url": INSTANCE}, "no access_token"),
        (200, {"access_token": TOKEN, "instance_url": "http://acme.example"}, "non-https"),
    ],
)
def test_token_endpoint_refusals_are_auth_errors_and_not_retried(
    rsps: responses.RequestsMock, fake_time: FakeClock, status: int, body: Any, message: str
) -> None:
    if isinstance(body, str):
        rsps.post(TOKEN_URL, status=status, body=body, content_type="text/html")
    else:
        rsps.post(TOKEN_URL, status=status, json=body)

    with pytest.raises(AuthError) as exc:
        make(fake_time).owners()

    assert message in str(exc.value)
    assert SECRET not in str(exc.value)
    assert fake_time.sleeps == []


def test_an_unavailable_token_endpoint_is_retried(
    rsps: responses.RequestsMock, fake_time: FakeClock
) -> None:
    rsps.post(TOKEN_URL, status=503, body="<html>maintenance</html>", content_type="text/html")
    rsps.post(TOKEN_URL, status=500, json={"error": "server_error"})
    add_token(rsps)
    add_owners(rsps)

    connector = make(fake_time)
    connector.owners()

    assert len(fake_time.sleeps) == 2
    assert connector.usage.calls == {"auth": 3, "query": 1}


# --- headers and bodies a proxy or a busy org may send ------------------------------------------


def test_a_malformed_sforce_limit_info_keeps_the_last_good_reading(
    rsps: responses.RequestsMock, fake_time: FakeClock
) -> None:
    add_token(rsps)
    add_owners(rsps, limit_info="api-usage=10/15000")
    add_owners(rsps, limit_info="api-usage=banana")
    add_owners(rsps, limit_info="api-usage=/; garbage")
    connector = make(fake_time)
    readings = []

    for _ in range(3):
        connector.owners()
        readings.append((connector.usage.daily_used, connector.usage.daily_limit))

    assert readings == [(10, 15_000)] * 3
    assert connector.budget.daily_limit == 15_000


def test_sforce_limit_info_with_per_app_usage_is_read(
    rsps: responses.RequestsMock, fake_time: FakeClock
) -> None:
    add_token(rsps)
    add_owners(rsps, limit_info="api-usage=25/5000; per-app-api-usage=17/250(appName=handoff)")
    connector = make(fake_time)

    connector.owners()

    assert (connector.usage.daily_used, connector.usage.daily_limit) == (25, 5_000)


def test_an_html_502_from_a_proxy_on_a_query_is_retried(
    rsps: responses.RequestsMock, fake_time: FakeClock
) -> None:
    add_token(rsps)
    add_owners(rsps, status=502, body=HTML_502, content_type="text/html", json=None,
               limit_info=None)
    add_owners(rsps)

    with structlog.testing.capture_logs() as logs:
        owners = make(fake_time).owners()

    assert len(owners) == 1
    (retry,) = [e for e in logs if e["event"] == "retrying"]
    assert "non-JSON body from a proxy or gateway" in retry["error"]
    assert "<html>" not in retry["error"]


def test_an_html_502_on_a_create_is_not_repeated(
    rsps: responses.RequestsMock, fake_time: FakeClock
) -> None:
    add_token(rsps)
    rsps.post(f"{DATA}/composite/sobjects", status=502, body=HTML_502, content_type="text/html")

    with pytest.raises(RetriesExhausted) as exc:
        make(fake_time).write("Opportunity", [RecordWrite("new", None, {"Name": "A"})])

    assert "not repeated" in str(exc.value)
    assert [c.request.method for c in rsps.calls] == ["POST", "POST"]  # token, one create


def test_a_200_with_an_html_page_is_retried_like_a_glitch(
    rsps: responses.RequestsMock, fake_time: FakeClock
) -> None:
    add_token(rsps)
    add_owners(rsps, body="<html>Sign in to the guest wifi</html>", content_type="text/html",
               json=None)
    add_owners(rsps)

    assert len(make(fake_time).owners()) == 1
    assert len(fake_time.sleeps) == 1


def test_a_non_json_400_is_a_clear_error_and_not_retried(
    rsps: responses.RequestsMock, fake_time: FakeClock
) -> None:
    add_token(rsps)
    add_owners(rsps, status=400, body="Bad Request: header too large", json=None,
               content_type="text/plain")

    with pytest.raises(FatalError) as exc:
        make(fake_time).owners()

    assert "HTTP 400" in str(exc.value) and "header too large" in str(exc.value)
    assert fake_time.sleeps == []


def test_a_401_with_an_html_body_still_logs_in_again(
    rsps: responses.RequestsMock, fake_time: FakeClock
) -> None:
    add_token(rsps, token="00D!first")
    add_owners(rsps, status=401, body="<html>Session expired</html>", json=None,
               content_type="text/html")
    add_token(rsps, token="00D!second")
    add_owners(rsps)

    connector = make(fake_time)
    connector.owners()

    assert rsps.calls[-1].request.headers["Authorization"] == "Bearer 00D!second"
    assert connector.usage.calls == {"auth": 2, "query": 2}


def test_retry_after_seconds_are_honoured_and_counted_as_throttling(
    rsps: responses.RequestsMock, fake_time: FakeClock
) -> None:
    add_token(rsps)
    add_owners(rsps, status=429, json=[{"errorCode": "REQUEST_LIMIT_EXCEEDED",
                                        "message": "ConcurrentPerOrgLongTxn Limit exceeded."}],
               headers={"Retry-After": "7"}, limit_info=None)
    add_owners(rsps)

    connector = make(fake_time)
    connector.owners()

    assert fake_time.sleeps == [7.0]
    assert connector.usage.throttled_seconds == 7.0


def test_retry_after_reads_both_forms() -> None:
    def response(value: str) -> requests.Response:
        r = requests.Response()
        r.headers["Retry-After"] = value
        return r

    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC).timestamp()
    later = format_datetime(datetime(2025, 1, 1, 12, 0, 30, tzinfo=UTC), usegmt=True)

    assert retry_after_seconds(response("12"), now=lambda: now) == 12.0
    assert retry_after_seconds(response(later), now=lambda: now) == 30.0
    assert retry_after_seconds(response("soon"), now=lambda: now) is None


def test_request_limit_exceeded_is_quota_exhausted_after_one_call(
    rsps: responses.RequestsMock, fake_time: FakeClock
) -> None:
    add_token(rsps)
    add_owners(rsps, status=403, json=[{"errorCode": "REQUEST_LIMIT_EXCEEDED",
                                        "message": "TotalRequests Limit exceeded."}],
               limit_info="api-usage=15001/15000")

    connector = make(fake_time)
    with pytest.raises(QuotaExhausted):
        connector.owners()

    assert fake_time.sleeps == []
    assert connector.usage.daily_used == 15_001


# --- per-record results -------------------------------------------------------------------


def test_per_record_lock_errors_are_retriable_and_other_failures_are_not(
    rsps: responses.RequestsMock, fake_time: FakeClock
) -> None:
    add_token(rsps)
    ids = ["006000000000001AAA", "006000000000002AAA", "006000000000003AAA"]
    rsps.patch(f"{DATA}/composite/sobjects", json=[
        {"id": ids[0], "success": False, "errors": [{
            "statusCode": "UNABLE_TO_LOCK_ROW",
            "message": "unable to obtain exclusive access to this record", "fields": []}]},
        {"id": ids[1], "success": False, "errors": [{
            "statusCode": "ENTITY_IS_DELETED", "message": "entity is deleted", "fields": []}]},
        {"id": ids[2], "success": True, "errors": []},
    ], match=[matchers.json_params_matcher({"allOrNone": False, "records": [
        {"attributes": {"type": "Opportunity"}, "Amount": n, "id": i}
        for n, i in enumerate(ids)]})])

    results = make(fake_time).write("Opportunity", [
        RecordWrite(f"r{n}", i, {"Amount": n}) for n, i in enumerate(ids)])

    locked, deleted, ok = results
    assert locked.error is not None and locked.error.retriable
    assert locked.error.code == "UNABLE_TO_LOCK_ROW"
    assert "retried next cycle" in locked.error.message
    assert deleted.error is not None and not deleted.error.retriable
    assert deleted.error.code == "ENTITY_IS_DELETED"
    assert ok.ok and ok.error is None and not ok.created


def test_results_that_cannot_be_matched_to_records_are_an_error(
    rsps: responses.RequestsMock, fake_time: FakeClock
) -> None:
    add_token(rsps)
    rsps.patch(f"{DATA}/composite/sobjects", json=[{"id": "006000000000001AAA",
                                                    "success": True, "errors": []}])

    with pytest.raises(FatalError, match="1 results for 2 records"):
        make(fake_time).write("Opportunity", [
            RecordWrite("a", "006000000000001AAA", {"Amount": 1}),
            RecordWrite("b", "006000000000002AAA", {"Amount": 2})])


# --- bulk and fetch -------------------------------------------------------------------------


def test_a_bulk_results_page_without_its_record_count_header_is_retried(
    rsps: responses.RequestsMock, fake_time: FakeClock
) -> None:
    add_token(rsps)
    stamp = "2025-03-03T09:30:00.000+0000"
    first = [{"attributes": {"type": "Opportunity"}, "Id": "006000000000001AAA",
              "SystemModstamp": stamp, "Name": "A"}]
    rsps.get(f"{DATA}/query/", json={"totalSize": 3, "done": False, "records": first,
                                     "nextRecordsUrl": "/services/data/v59.0/query/01g-1"})
    rsps.get(f"{DATA}/sobjects/Opportunity/describe", json={"name": "Opportunity", "fields": [
        {"name": n, "type": t} for n, t in (("Id", "id"), ("SystemModstamp", "datetime"),
                                            ("Name", "string"))]})
    rsps.post(f"{DATA}/jobs/query", json={"id": "7500000000000001", "state": "UploadComplete"})
    rsps.get(f"{DATA}/jobs/query/7500000000000001", json={"state": "JobComplete"})
    results = f"{DATA}/jobs/query/7500000000000001/results"
    csv_page = ('"Id","SystemModstamp","Name"\n"006000000000003AAA","' + stamp
                + '","C"\n"006000000000002AAA","' + stamp + '","B"\n')
    rsps.get(results, body=csv_page, content_type="text/csv",
             headers={"Sforce-Locator": "null"})
    rsps.get(results, body=csv_page, content_type="text/csv",
             headers={"Sforce-Locator": "null", "Sforce-NumberOfRecords": "2"})

    pages = list(make(fake_time, bulk_threshold=1, page_size=200).pull(
        "Opportunity", ["Name"], None))

    assert [c.id for p in pages for c in p.changes] == [
        "006000000000001AAA", "006000000000003AAA", "006000000000002AAA"]
    assert pages[-1].cursor is not None and pages[-1].cursor.last_id == "006000000000003AAA"
    assert len(fake_time.sleeps) == 1
    job = json.loads(str(rsps.calls[3].request.body))
    assert job["operation"] == "query"
    assert "ORDER BY" not in job["query"]
    assert "Id > '006000000000001AAA'" in job["query"]


def test_fetch_keeps_every_query_url_under_the_16_kb_limit(
    rsps: responses.RequestsMock, fake_time: FakeClock
) -> None:
    add_token(rsps)
    ids = [f"006{n:012d}AAA" for n in range(1_200)]
    urls: list[str] = []

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        urls.append(str(request.url))
        soql = parse_qs(urlsplit(str(request.url)).query)["q"][0]
        asked = re.findall(r"'(006\w+)'", soql)
        records = [{"attributes": {"type": "Opportunity"}, "Id": i,
                    "SystemModstamp": "2025-03-03T09:30:00.000+0000", "Name": i}
                   for i in asked]
        return 200, {}, json.dumps({"totalSize": len(records), "done": True,
                                    "records": records})

    rsps.add_callback(responses.GET, f"{DATA}/query/", callback=answer)

    found = make(fake_time).fetch("Opportunity", ids, ["Name"])

    assert [r.id for r in found] == ids
    assert len(urls) == 3
    assert all(len(url) <= MAX_URL_BYTES < 16_384 for url in urls)
    assert max(len(url) for url in urls) > MAX_URL_BYTES - 100  # chunks are filled


# --- the tables themselves -------------------------------------------------------------------


def test_every_row_of_the_error_tables_renders_a_message_and_says_why() -> None:
    rows = [*TABLE, *TOKEN_TABLE, *(row for _, row in NETWORK_TABLE)]
    for row in rows:
        text = row.message.format(subject="query Opportunity", detail="d", status=500,
                                  field="F__c")
        assert text and "{" not in text and row.reason
    assert all(rule.advice and rule.reason for rule in RECORD_TABLE.values())
    # The last row of each HTTP table catches everything, so no failure goes unclassified.
    assert TABLE[-1].matches(418, "TEAPOT") and TOKEN_TABLE[-1].matches(418, None)
