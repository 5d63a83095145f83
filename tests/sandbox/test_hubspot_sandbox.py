"""HubSpot CRM v3 emulation, judged by the real hubspot-api-client: records, validation,
timestamps, authentication (private app and OAuth), rate limits and injected faults.

Search, batch, associations and metadata have their own test_hubspot_*.py files.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm import deals
from hubspot.crm.deals import (
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.objects import tasks
from hubspot.oauth import ApiException as OAuthApiException
from urllib3.util.retry import Retry

from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.testing.sandbox_clients import hubspot_client

FROZEN = datetime(2026, 3, 2, 9, 30, 0, 123000, tzinfo=UTC)


def body_of(info: pytest.ExceptionInfo[Any]) -> dict[str, Any]:
    """The JSON error body the client hands over as text."""
    return json.loads(info.value.body)


def create_deal(hs: HubSpot, **properties: str) -> deals.SimplePublicObject:
    return hs.crm.deals.basic_api.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
            properties={"dealname": "Acme rollout", **properties}))


def control(sandbox: SandboxServer, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(f"{sandbox.base_url}/__sandbox__/{path}", json=payload,
                             verify=str(sandbox.ca_file), timeout=10)
    response.raise_for_status()
    return response.json()


# --- records ---------------------------------------------------------------------------
def test_deal_create_read_update_archive(hs: HubSpot) -> None:
    created = create_deal(hs, amount="120000", dealstage="qualifiedtobuy", region="EMEA")
    assert created.id.isdigit()
    assert created.properties["hs_object_id"] == created.id
    assert created.properties["pipeline"] == "default"  # defaulted when omitted
    assert created.properties["hs_is_closed"] == "false"
    assert created.properties["hs_deal_stage_probability"] == "0.4"

    api = hs.crm.deals.basic_api
    read = api.get_by_id(created.id, properties=["amount", "region", "budget", "nope"])
    assert read.properties["amount"] == "120000"
    assert read.properties["region"] == "EMEA"
    assert read.properties["budget"] is None  # known but unset: null
    assert "nope" not in read.properties  # unknown names are left out
    assert {"hs_object_id", "createdate", "hs_lastmodifieddate"} <= set(read.properties)

    updated = api.update(created.id, simple_public_object_input=SimplePublicObjectInput(
        properties={"dealstage": "closedwon", "amount": ""}))
    assert updated.properties["hs_is_closed_won"] == "true"
    assert updated.properties["amount"] is None  # an empty string clears a property

    assert api.archive(created.id) is None
    with pytest.raises(deals.exceptions.NotFoundException) as info:
        api.get_by_id(created.id)
    assert body_of(info)["category"] == "OBJECT_NOT_FOUND"
    archived = api.get_by_id(created.id, archived=True)
    assert archived.archived is True and archived.archived_at is not None
    assert [d.id for d in api.get_page(archived=True).results] == [created.id]
    assert api.get_page().results == []


def test_get_page_follows_after_until_the_last_page(hs: HubSpot) -> None:
    ids = [create_deal(hs, dealname=f"Deal {i}").id for i in range(5)]
    seen, after, pages = [], None, 0
    while True:
        page = hs.crm.deals.basic_api.get_page(limit=2, after=after, properties=["dealname"])
        seen += [deal.id for deal in page.results]
        pages += 1
        if page.paging is None:
            break
        after = page.paging.next.after
        assert page.paging.next.link.startswith("https://")
    assert seen == ids and pages == 3
    default_props = hs.crm.deals.basic_api.get_page().results[0].properties
    assert set(default_props) == {"dealname", "amount", "closedate", "pipeline", "dealstage",
                                  "createdate", "hs_lastmodifieddate", "hs_object_id"}


def test_task_created_with_its_deal_is_seen_from_both_sides(hs: HubSpot) -> None:
    deal = create_deal(hs)
    task = hs.crm.objects.tasks.basic_api.create(
        simple_public_object_input_for_create=tasks.SimplePublicObjectInputForCreate(
            properties={"hs_timestamp": "1772443800000", "hs_task_subject": "Intro call"},
            associations=[tasks.PublicAssociationsForObject(
                to=tasks.PublicObjectId(id=deal.id),
                types=[tasks.AssociationSpec(association_category="HUBSPOT_DEFINED",
                                             association_type_id=216)])]))
    assert task.properties["hs_task_status"] == "NOT_STARTED"
    assert task.properties["hs_timestamp"] == "2026-03-02T09:30:00.000Z"

    read = hs.crm.objects.tasks.basic_api.get_by_id(task.id, associations=["deals"])
    assert [(a.id, a.type) for a in read.associations["deals"].results] == [
        (deal.id, "task_to_deal")]
    from_deal = hs.crm.associations.v4.basic_api.get_page("deals", deal.id, "tasks")
    assert [str(r.to_object_id) for r in from_deal.results] == [task.id]
    assert from_deal.results[0].association_types[0].type_id == 215


def test_task_without_due_date_is_refused(hs: HubSpot) -> None:
    with pytest.raises(tasks.ApiException) as info:
        hs.crm.objects.tasks.basic_api.create(
            simple_public_object_input_for_create=tasks.SimplePublicObjectInputForCreate(
                properties={"hs_task_subject": "No due date"}))
    assert info.value.status == 400
    assert body_of(info)["errors"][0]["context"]["propertyName"] == ["hs_timestamp"]


def test_writes_are_validated_by_property_type(hs: HubSpot) -> None:
    with pytest.raises(deals.ApiException) as info:
        create_deal(hs, nope="x", hs_object_id="1", dealtype="bogus", amount="12k",
                    decision_date="1714564800123", competitors="Acme;Nobody")
    body = body_of(info)
    assert info.value.status == 400
    assert body["category"] == "VALIDATION_ERROR"
    assert body["message"].startswith("Property values were not valid: [")
    codes = {e["context"]["propertyName"][0]: e["code"] for e in body["errors"]}
    assert codes == {"nope": "PROPERTY_DOESNT_EXIST", "hs_object_id": "READ_ONLY_VALUE",
                     "dealtype": "INVALID_OPTION", "amount": "INVALID_DECIMAL",
                     "decision_date": "INVALID_DATE", "competitors": "INVALID_OPTION"}
    assert "not midnight" in next(e["message"] for e in body["errors"]
                                  if e["code"] == "INVALID_DATE")
    assert hs.crm.deals.basic_api.get_page().results == []  # nothing was written

    ok = create_deal(hs, decision_date="1714521600000", closedate="2024-05-01T14:00:00+02:00",
                     partner_prepared_prospect="TRUE", competitors="Acme;Hooli")
    stored = hs.crm.deals.basic_api.get_by_id(ok.id, properties=[
        "decision_date", "closedate", "partner_prepared_prospect", "competitors"]).properties
    assert stored["decision_date"] == "2024-05-01"
    assert stored["closedate"] == "2024-05-01T12:00:00.000Z"
    assert stored["partner_prepared_prospect"] == "true"
    assert stored["competitors"] == "Acme;Hooli"


def test_deal_stage_must_belong_to_the_deal_pipeline(hs: HubSpot) -> None:
    with pytest.raises(deals.ApiException) as info:
        create_deal(hs, pipeline="9004451", dealstage="closedwon")
    assert body_of(info)["errors"][0]["code"] == "INVALID_OPTION"
    won = create_deal(hs, pipeline="9004451", dealstage="9004456")
    assert (won.properties["hs_is_closed"], won.properties["hs_is_closed_won"],
            won.properties["hs_deal_stage_probability"]) == ("true", "true", "1.0")


def test_unique_values_conflict_and_address_records(hs: HubSpot) -> None:
    first = create_deal(hs, partner_registration_id="REG-1")
    with pytest.raises(deals.ApiException) as info:
        create_deal(hs, partner_registration_id="REG-1")
    assert info.value.status == 409
    assert body_of(info)["category"] == "CONFLICT"
    assert f"Existing ID: {first.id}" in body_of(info)["message"]

    api = hs.crm.deals.basic_api
    assert api.get_by_id("REG-1", id_property="partner_registration_id").id == first.id
    api.update("REG-1", id_property="partner_registration_id",
               simple_public_object_input=SimplePublicObjectInput(properties={"amount": "5"}))
    assert api.get_by_id(first.id, properties=["amount"]).properties["amount"] == "5"
    with pytest.raises(deals.ApiException) as info:
        api.get_by_id("Acme rollout", id_property="dealname")
    assert info.value.status == 400


def test_missing_records_are_404_in_hubspot_shape(hs: HubSpot) -> None:
    for key in ("999", "not-a-number"):
        with pytest.raises(deals.exceptions.NotFoundException) as info:
            hs.crm.deals.basic_api.get_by_id(key)
        body = body_of(info)
        assert (body["status"], body["category"]) == ("error", "OBJECT_NOT_FOUND")
        assert body["correlationId"]
    with pytest.raises(deals.exceptions.NotFoundException):
        hs.crm.deals.basic_api.update("999", simple_public_object_input=SimplePublicObjectInput(
            properties={"amount": "1"}))


def test_last_modified_follows_the_sandbox_clock_and_ignores_archiving(
        sandbox: SandboxServer, hs: HubSpot) -> None:
    clock = sandbox.sandbox.clock
    clock.freeze(FROZEN)
    deal = create_deal(hs)
    assert deal.properties["createdate"] == "2026-03-02T09:30:00.123Z"
    assert deal.properties["hs_lastmodifieddate"] == "2026-03-02T09:30:00.123Z"
    clock.shift(5)
    updated = hs.crm.deals.basic_api.update(deal.id, simple_public_object_input=(
        SimplePublicObjectInput(properties={"amount": "10"})))
    assert updated.properties["hs_lastmodifieddate"] == "2026-03-02T09:30:05.123Z"
    assert updated.properties["createdate"] == "2026-03-02T09:30:00.123Z"
    assert updated.updated_at == FROZEN + timedelta(seconds=5)
    clock.shift(5)
    hs.crm.deals.basic_api.archive(deal.id)
    archived = hs.crm.deals.basic_api.get_by_id(deal.id, archived=True)
    assert archived.properties["hs_lastmodifieddate"] == "2026-03-02T09:30:05.123Z"
    assert archived.archived_at == FROZEN + timedelta(seconds=10)


def test_unknown_object_type_is_a_400(hs: HubSpot) -> None:
    with pytest.raises(Exception) as info:
        hs.crm.objects.basic_api.get_page("widgets")
    assert info.value.status == 400
    assert body_of(info)["message"] == "Unable to infer object type from: widgets"


# --- authentication --------------------------------------------------------------------
def test_calls_without_a_valid_token_are_401(sandbox: SandboxServer) -> None:
    anonymous = HubSpot(host=sandbox.base_url, ssl_ca_cert=str(sandbox.ca_file))
    with pytest.raises(deals.exceptions.UnauthorizedException) as info:
        anonymous.crm.deals.basic_api.get_page()
    body = body_of(info)
    assert body["category"] == "INVALID_AUTHENTICATION"
    assert body["message"].startswith("Authentication credentials not found. This API "
                                      "supports OAuth 2.0 authentication")
    with pytest.raises(deals.exceptions.UnauthorizedException):
        hubspot_client(sandbox, access_token="pat-na1-forged").crm.deals.basic_api.get_page()


def test_oauth_refresh_issues_a_token_that_works_then_expires(sandbox: SandboxServer) -> None:
    creds = sandbox.sandbox.credentials
    tokens = HubSpot(host=sandbox.base_url, ssl_ca_cert=str(sandbox.ca_file)).oauth.tokens_api
    issued = tokens.create(grant_type="refresh_token", client_id=creds.hs_client_id,
                           client_secret=creds.hs_client_secret,
                           refresh_token=creds.hs_refresh_token)
    assert (issued.expires_in, issued.token_type) == (1800, "bearer")
    assert issued.refresh_token == creds.hs_refresh_token
    oauth_client = hubspot_client(sandbox, access_token=issued.access_token)
    assert oauth_client.crm.deals.basic_api.get_page().results == []

    sandbox.sandbox.clock.shift(1801)
    with pytest.raises(deals.exceptions.UnauthorizedException) as info:
        oauth_client.crm.deals.basic_api.get_page()
    body = body_of(info)
    assert body["category"] == "EXPIRED_AUTHENTICATION"
    assert body["message"] == "The OAuth token used to make this call expired 1 second(s) ago."

    fresh = tokens.create(grant_type="refresh_token", client_id=creds.hs_client_id,
                          client_secret=creds.hs_client_secret,
                          refresh_token=creds.hs_refresh_token)
    sandbox.sandbox.expire_sessions()
    with pytest.raises(deals.exceptions.UnauthorizedException):
        hubspot_client(sandbox, access_token=fresh.access_token).crm.deals.basic_api.get_page()
    assert hubspot_client(sandbox).crm.deals.basic_api.get_page().results == []


@pytest.mark.parametrize(("field", "status"), [("refresh_token", "BAD_REFRESH_TOKEN"),
                                               ("client_id", "BAD_CLIENT_ID")])
def test_oauth_refresh_refuses_bad_credentials(sandbox: SandboxServer, field: str,
                                               status: str) -> None:
    creds = sandbox.sandbox.credentials
    form = {"grant_type": "refresh_token", "client_id": creds.hs_client_id,
            "client_secret": creds.hs_client_secret, "refresh_token": creds.hs_refresh_token,
            field: "wrong"}
    tokens = HubSpot(host=sandbox.base_url, ssl_ca_cert=str(sandbox.ca_file)).oauth.tokens_api
    with pytest.raises(OAuthApiException) as info:
        tokens.create(**form)
    assert info.value.status == 400
    assert body_of(info)["status"] == status


# --- rate limits and faults ------------------------------------------------------------
def test_every_response_carries_rate_limit_headers(hs: HubSpot) -> None:
    _, status, headers = hs.crm.deals.basic_api.get_page_with_http_info()
    assert status == 200
    for name in ("X-HubSpot-RateLimit-Max", "X-HubSpot-RateLimit-Remaining",
                 "X-HubSpot-RateLimit-Interval-Milliseconds", "X-HubSpot-RateLimit-Daily",
                 "X-HubSpot-RateLimit-Daily-Remaining"):
        assert headers[name].isdigit()
    assert headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"


@pytest.mark.parametrize(("quota", "policy", "word"), [
    ("hubspot_per_10s", "TEN_SECONDLY_ROLLING", "ten_secondly_rolling"),
    ("hubspot_daily", "DAILY", "daily"),
])
def test_quota_exhaustion_is_a_429_with_the_documented_body(
        sandbox: SandboxServer, hs: HubSpot, quota: str, policy: str, word: str) -> None:
    control(sandbox, "faults", {"quotas": {quota: 3}})
    for _ in range(3):
        hs.crm.deals.basic_api.get_page()
    with pytest.raises(deals.ApiException) as info:
        hs.crm.deals.basic_api.get_page()
    assert info.value.status == 429
    body = body_of(info)
    assert body["message"] == f"You have reached your {word} limit."
    assert (body["status"], body["errorType"], body["policyName"]) == (
        "error", "RATE_LIMIT", policy)
    assert body["correlationId"]
    assert info.value.headers["X-HubSpot-RateLimit-Max"]


def test_search_has_its_own_per_second_limit(sandbox: SandboxServer, hs: HubSpot) -> None:
    control(sandbox, "faults", {"quotas": {"hubspot_search_per_second": 1}})
    search = hs.crm.deals.search_api.do_search
    search(public_object_search_request=deals.PublicObjectSearchRequest(limit=1))
    with pytest.raises(deals.ApiException) as info:
        search(public_object_search_request=deals.PublicObjectSearchRequest(limit=1))
    assert (info.value.status, body_of(info)["policyName"]) == (429, "SECONDLY")
    assert hs.crm.deals.basic_api.get_page().results == []  # other endpoints still admit


def test_an_injected_503_fails_once_then_calls_succeed(sandbox: SandboxServer,
                                                       hs: HubSpot) -> None:
    control(sandbox, "faults", {"rules": [{"api": "hubspot", "count": 1, "status": 503}]})
    with pytest.raises(deals.exceptions.ServiceException) as info:
        hs.crm.deals.basic_api.get_page()
    assert info.value.status == 503
    assert body_of(info)["status"] == "error"
    assert hs.crm.deals.basic_api.get_page().results == []


def test_an_injected_429_carries_retry_after(sandbox: SandboxServer) -> None:
    control(sandbox, "faults", {"rules": [
        {"api": "hubspot", "count": 1, "effect": {"status": 429, "retry_after": 2}}]})
    no_retries = HubSpot(access_token=sandbox.sandbox.credentials.hs_access_token,
                         host=sandbox.base_url, ssl_ca_cert=str(sandbox.ca_file),
                         retry=Retry(total=0))
    with pytest.raises(deals.ApiException) as info:
        no_retries.crm.deals.basic_api.get_page()
    assert info.value.status == 429
    assert info.value.headers["Retry-After"] == "2"
    assert body_of(info)["policyName"] == "TEN_SECONDLY_ROLLING"


def test_the_default_client_waits_out_a_429_with_retry_after(sandbox: SandboxServer,
                                                             hs: HubSpot) -> None:
    control(sandbox, "faults", {"rules": [
        {"api": "hubspot", "count": 1, "effect": {"status": 429, "retry_after": 0}}]})
    assert hs.crm.deals.basic_api.get_page().results == []  # urllib3 honoured Retry-After
    stats = requests.get(f"{sandbox.base_url}/__sandbox__/stats", verify=str(sandbox.ca_file),
                         timeout=10).json()
    assert stats["hubspot"]["calls"] == 2
