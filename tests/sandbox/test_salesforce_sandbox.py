"""Contract tests for the Salesforce emulation: auth, sessions, quota, limits, faults, describe.

Everything goes through the real, unmodified simple-salesforce client; only the OAuth token
endpoint (as our connector calls it) and the /__sandbox__/ control plane are called with
plain requests. Query, records and collections live in the sibling test_salesforce_* files,
which import the helpers below.
"""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.testing.sandbox_clients import salesforce_session

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


# --- helpers shared by the test_salesforce_* modules ---------------------------------------


def control(server: SandboxServer, path: str, payload: dict[str, Any] | None = None) -> Any:
    """POST to the sandbox control plane."""
    response = salesforce_session(server).post(f"{server.base_url}/__sandbox__/{path}",
                                               json=payload or {})
    response.raise_for_status()
    return response.json()


def client(server: SandboxServer, token: str, version: str = "59.0") -> Salesforce:
    """A client on a token, configured as the connector configures it."""
    return Salesforce(instance_url=server.base_url, session_id=token,
                      session=salesforce_session(server), version=version)


def opportunity(**fields: Any) -> dict[str, Any]:
    """The smallest valid Opportunity, plus ``fields``."""
    return {"Name": "Acme renewal", "StageName": "Prospecting", "CloseDate": "2025-06-30",
            **fields}


def create_many(sf: Salesforce, object_name: str, records: list[dict[str, Any]]) -> list[str]:
    """Create through sObject Collections, 200 at a time; returns the new ids in order."""
    ids: list[str] = []
    for start in range(0, len(records), 200):
        chunk = [{"attributes": {"type": object_name}, **r} for r in records[start:start + 200]]
        results = sf.restful("composite/sobjects", method="POST",
                             json={"allOrNone": True, "records": chunk})
        assert all(r["success"] for r in results), results
        ids.extend(r["id"] for r in results)
    return ids


def error_code(exc: pytest.ExceptionInfo[Any]) -> str:
    return str(exc.value.content[0]["errorCode"])


def token_call(
    server: SandboxServer, form: dict[str, str], headers: dict[str, str] | None = None
) -> requests.Response:
    """The raw OAuth token request, as the connector makes it."""
    return salesforce_session(server).post(f"{server.base_url}/services/oauth2/token",
                                           data=form, headers=headers)


# --- OAuth grants ---------------------------------------------------------------------------


def password_form(server: SandboxServer, **overrides: str) -> dict[str, str]:
    creds = server.sandbox.credentials
    return {"grant_type": "password", "client_id": creds.sf_client_id,
            "client_secret": creds.sf_client_secret, "username": creds.sf_username,
            "password": creds.sf_password + creds.sf_security_token, **overrides}


def test_password_grant_issues_a_token_the_client_can_use(sandbox: SandboxServer) -> None:
    response = token_call(sandbox, password_form(sandbox))

    assert response.status_code == 200
    assert "Sforce-Limit-Info" not in response.headers
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["instance_url"] == sandbox.base_url
    assert body["scope"] == "api"
    assert body["issued_at"].isdigit()
    assert body["id"].startswith(f"{sandbox.base_url}/id/00D")
    sf = client(sandbox, body["access_token"])
    assert sf.query("SELECT COUNT() FROM Opportunity")["totalSize"] == 0


def test_password_grant_accepts_the_password_without_security_token(
    sandbox: SandboxServer,
) -> None:
    form = password_form(sandbox, password=sandbox.sandbox.credentials.sf_password)

    assert token_call(sandbox, form).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "error", "description"),
    [
        ({"password": "wrong"}, "invalid_grant", "authentication failure"),
        ({"username": "someone@else.example"}, "invalid_grant", "authentication failure"),
        ({"client_id": "3MVG9unknown"}, "invalid_client_id", "client identifier invalid"),
        ({"client_secret": "nope"}, "invalid_client", "invalid client credentials"),
        ({"grant_type": "authorization_code"}, "unsupported_grant_type",
         "grant type not supported"),
    ],
)
def test_password_grant_failures_use_salesforce_oauth_errors(
    sandbox: SandboxServer, overrides: dict[str, str], error: str, description: str
) -> None:
    response = token_call(sandbox, password_form(sandbox, **overrides))

    assert response.status_code == 400
    assert response.json() == {"error": error, "error_description": description}


def test_client_credentials_grant_with_basic_header_or_form(sandbox: SandboxServer) -> None:
    creds = sandbox.sandbox.credentials
    session = salesforce_session(sandbox)
    basic = requests.Request("POST", "https://x", auth=(creds.sf_client_id,
                                                        creds.sf_client_secret)).prepare()

    by_header = token_call(sandbox, {"grant_type": "client_credentials"},
                           {"Authorization": basic.headers["Authorization"]})
    by_form = token_call(sandbox, {"grant_type": "client_credentials",
                                   "client_id": creds.sf_client_id,
                                   "client_secret": creds.sf_client_secret})
    wrong = token_call(sandbox, {"grant_type": "client_credentials",
                                 "client_id": creds.sf_client_id, "client_secret": "x"})

    assert by_header.status_code == by_form.status_code == 200
    assert wrong.json()["error"] == "invalid_client"
    sf = Salesforce(instance_url=sandbox.base_url, session_id=by_header.json()["access_token"],
                    session=session)
    assert sf.query("SELECT Id FROM User")["totalSize"] == 1


def jwt_assertion(server: SandboxServer, key_pem: str | None = None, **claims: Any) -> str:
    """The assertion simple-salesforce's JWT login builds (exp as a string)."""
    creds = server.sandbox.credentials
    payload = {"iss": creds.sf_client_id, "sub": creds.sf_username,
               "aud": "https://login.salesforce.com", "exp": f"{time.time() + 180:.0f}",
               **claims}
    return jwt.encode(payload, key_pem or creds.jwt_private_key_pem, algorithm="RS256")


def other_private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def test_jwt_bearer_grant_issues_a_token(sandbox: SandboxServer) -> None:
    response = token_call(sandbox, {"grant_type": JWT_GRANT,
                                    "assertion": jwt_assertion(sandbox)})

    assert response.status_code == 200, response.text
    sf = client(sandbox, response.json()["access_token"])
    assert sf.query("SELECT Id FROM Opportunity")["done"] is True


@pytest.mark.parametrize(
    ("claims", "foreign_key", "error", "description"),
    [
        ({"aud": "https://evil.example"}, False, "invalid_grant", "audience is invalid"),
        ({"exp": f"{time.time() - 60:.0f}"}, False, "invalid_grant", "invalid assertion"),
        ({"iss": "3MVG9other"}, False, "invalid_client_id", "client identifier invalid"),
        ({"sub": "intruder@x.example"}, False, "invalid_grant", "invalid assertion"),
        ({}, True, "invalid_grant", "invalid assertion"),
    ],
)
def test_jwt_bearer_grant_refuses_bad_assertions(
    sandbox: SandboxServer, claims: dict[str, Any], foreign_key: bool, error: str,
    description: str,
) -> None:
    key = other_private_key() if foreign_key else None
    response = token_call(sandbox, {"grant_type": JWT_GRANT,
                                    "assertion": jwt_assertion(sandbox, key, **claims)})

    assert response.status_code == 400
    assert response.json() == {"error": error, "error_description": description}


# --- sessions, quota, limits, faults ---------------------------------------------------------


def test_expired_sessions_raise_the_clients_expired_session(
    sandbox: SandboxServer, sf: Salesforce
) -> None:
    issued = client(sandbox, token_call(sandbox, password_form(sandbox)).json()["access_token"])
    sf.query("SELECT Id FROM User")
    issued.query("SELECT Id FROM User")

    control(sandbox, "expire-sessions")

    for stale in (sf, issued):
        with pytest.raises(SalesforceExpiredSession) as exc:
            stale.query("SELECT Id FROM User")
        assert exc.value.status == 401
        assert error_code(exc) == "INVALID_SESSION_ID"
    fresh = client(sandbox, sandbox.sandbox.credentials.sf_session_id)
    assert fresh.query("SELECT Id FROM User")["totalSize"] == 1


def test_unknown_token_is_an_invalid_session(sandbox: SandboxServer) -> None:
    with pytest.raises(SalesforceExpiredSession) as exc:
        client(sandbox, "00D000000000001!made-up").Opportunity.describe()

    assert exc.value.content == [{"message": "Session expired or invalid",
                                  "errorCode": "INVALID_SESSION_ID"}]


def test_daily_quota_refuses_with_request_limit_exceeded(
    sandbox: SandboxServer, sf: Salesforce
) -> None:
    control(sandbox, "faults", {"quotas": {"salesforce_daily": 3}})
    for _ in range(3):
        sf.query("SELECT Id FROM User")

    with pytest.raises(SalesforceRefusedRequest) as exc:
        sf.query("SELECT Id FROM User")

    assert exc.value.status == 403
    assert exc.value.content[0] == {"message": "TotalRequests Limit exceeded.",
                                    "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    assert sf.api_usage["api-usage"].used == 3
    assert sf.api_usage["api-usage"].total == 3


def test_limits_and_api_usage_agree(sf: Salesforce) -> None:
    sf.query("SELECT Id FROM User")
    limits = sf.limits()

    daily = limits["DailyApiRequests"]
    usage = sf.api_usage["api-usage"]
    assert daily["Max"] == usage.total == 1_000_000
    assert daily["Remaining"] == usage.total - usage.used == daily["Max"] - 2
    assert {"DailyBulkV2QueryJobs", "DailyBulkV2QueryFileStorageMB"} <= set(limits)


def test_injected_fault_surfaces_once_then_the_call_succeeds(
    sandbox: SandboxServer, sf: Salesforce
) -> None:
    control(sandbox, "faults", {"rules": [{"api": "salesforce", "path": "query", "count": 1,
                                           "status": 503, "retry_after": 2}]})

    with pytest.raises(SalesforceGeneralError) as exc:
        sf.query("SELECT Id FROM User")

    assert exc.value.status == 503
    assert error_code(exc) == "SERVER_UNAVAILABLE"
    assert sf.query("SELECT Id FROM User")["totalSize"] == 1


def test_api_versions_in_range_work_and_others_are_not_found(sandbox: SandboxServer) -> None:
    token = sandbox.sandbox.credentials.sf_session_id
    for version in ("31.0", "66.0"):
        assert client(sandbox, token, version).query("SELECT Id FROM User")["totalSize"] == 1

    with pytest.raises(SalesforceResourceNotFound) as exc:
        client(sandbox, token, "30.0").query("SELECT Id FROM User")

    assert error_code(exc) == "NOT_FOUND"


# --- describe --------------------------------------------------------------------------------


def test_global_describe_lists_the_org_objects(sf: Salesforce) -> None:
    described = sf.describe()

    assert described["encoding"] == "UTF-8"
    assert described["maxBatchSize"] == 200
    by_name = {o["name"]: o for o in described["sobjects"]}
    assert {"Opportunity", "Account", "User", "Task", "Deal_Registration__c"} <= set(by_name)
    assert by_name["Opportunity"]["keyPrefix"] == "006"
    assert by_name["Deal_Registration__c"]["custom"] is True
    assert by_name["Opportunity"]["urls"]["describe"] == (
        "/services/data/v59.0/sobjects/Opportunity/describe")


def test_object_describe_reports_field_metadata(sf: Salesforce) -> None:
    described = sf.Opportunity.describe()
    fields = {f["name"]: f for f in described["fields"]}

    assert described["name"] == "Opportunity"
    assert described["keyPrefix"] == "006"
    assert fields["Name"]["type"] == "string"
    assert fields["Name"]["length"] == 120
    assert fields["Name"]["nillable"] is False
    assert fields["Amount"]["type"] == "currency"
    assert (fields["Amount"]["precision"], fields["Amount"]["scale"]) == (18, 2)
    assert fields["StageName"]["restrictedPicklist"] is True
    assert "Closed Won" in [p["value"] for p in fields["StageName"]["picklistValues"]]
    assert fields["Partner_Registration_Id__c"]["externalId"] is True
    assert fields["Partner_Registration_Id__c"]["unique"] is True
    assert fields["IsClosed"]["updateable"] is False
    assert fields["AccountId"]["referenceTo"] == ["Account"]
    assert fields["AccountId"]["relationshipName"] == "Account"
    assert fields["CloseDate"]["soapType"] == "xsd:date"


def test_picklist_defaults_and_basic_info(sf: Salesforce) -> None:
    task = sf.Task
    status = next(f for f in task.describe()["fields"] if f["name"] == "Status")
    task.create({"Subject": "Call"})

    defaults = [p["value"] for p in status["picklistValues"] if p["defaultValue"]]
    assert defaults == ["Not Started"]
    info = task.metadata()
    assert info["objectDescribe"]["name"] == "Task"
    assert len(info["recentItems"]) == 1


def test_unknown_object_is_not_found(sf: Salesforce) -> None:
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.Nonexistent__c.describe()

    assert exc.value.content == [{"message": "The requested resource does not exist",
                                  "errorCode": "NOT_FOUND"}]
