"""CRM search (POST /crm/v3/objects/deals/search) through the real client: operators,
typed comparison, sorting, paging, the 10,000-result cap, the incremental cursor with
timestamp ties, and index lag. Data is seeded through load_seed, as the seed does."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm import deals
from hubspot.crm.deals import SimplePublicObjectInputForCreate

from handoff_sync.sandbox.core.seed_data import HubSpotSeedObject, SeedData
from handoff_sync.sandbox.server import SandboxServer

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FIRST_ID = 5001
NAMES = ["Acme rollout", "Globex renewal", "Initech expansion", "Umbrella renewal"]
REGIONS = ["NA", "EMEA", "APAC", None]
COMPETITORS = ["Acme", "Hooli;Globex", None, "Initech;Hooli"]


def epoch_ms(at: datetime) -> str:
    return str(int(at.timestamp() * 1000))


def row(i: int) -> dict[str, str | None]:
    """Deal i of the operator fixture: amount unset for 0, 1000 for 10 (numeric order)."""
    return {
        "dealname": f"{NAMES[i % 4]} {i}",
        "amount": str(i * 100) if i else None,
        "region": REGIONS[i % 4],
        "competitors": COMPETITORS[i % 4],
        "closedate": (T0 + timedelta(days=i)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "partner_prepared_prospect": "true" if i % 2 else "false",
    }


ROWS = [row(i) for i in range(12)]


def seed(sandbox: SandboxServer, rows: list[dict[str, str | None]], *,
         modified: Callable[[int], datetime] = lambda i: T0 + timedelta(minutes=i),
         first_id: int = FIRST_ID) -> list[str]:
    objects = [HubSpotSeedObject(str(first_id + i), dict(props), T0, modified(i))
               for i, props in enumerate(rows)]
    with sandbox.sandbox.lock:
        sandbox.sandbox.hubspot.load_seed(SeedData(hubspot={"deals": objects}))
    return [obj.id for obj in objects]


def search(hs: HubSpot, *groups: list[dict[str, Any]], **request: Any
           ) -> deals.CollectionResponseWithTotalSimplePublicObjectForwardPaging:
    filter_groups = [deals.FilterGroup(filters=[deals.Filter(**f) for f in group])
                     for group in groups]
    body = deals.PublicObjectSearchRequest(filter_groups=filter_groups or None,
                                           **{"limit": 200, **request})
    return hs.crm.deals.search_api.do_search(public_object_search_request=body)


def ids_of(page: Any) -> list[str]:
    return [result.id for result in page.results]


def expected(test: Callable[[dict[str, str | None]], bool]) -> list[str]:
    return [str(FIRST_ID + i) for i, props in enumerate(ROWS) if test(props)]


def amount(props: dict[str, str | None]) -> float | None:
    return float(props["amount"]) if props["amount"] else None


def error_of(call: Callable[[], Any]) -> tuple[int, dict[str, Any]]:
    with pytest.raises(deals.ApiException) as info:
        call()
    return info.value.status, json.loads(info.value.body)


OPERATOR_CASES: list[tuple[dict[str, Any], Callable[[dict[str, str | None]], bool]]] = [
    ({"property_name": "region", "operator": "EQ", "value": "emea"},
     lambda p: p["region"] == "EMEA"),
    ({"property_name": "region", "operator": "NEQ", "value": "EMEA"},
     lambda p: p["region"] != "EMEA"),
    ({"property_name": "amount", "operator": "LT", "value": "300"},
     lambda p: (a := amount(p)) is not None and a < 300),
    ({"property_name": "amount", "operator": "LTE", "value": "300"},
     lambda p: (a := amount(p)) is not None and a <= 300),
    ({"property_name": "amount", "operator": "GT", "value": "900"},
     lambda p: (a := amount(p)) is not None and a > 900),
    ({"property_name": "amount", "operator": "GTE", "value": "900"},
     lambda p: (a := amount(p)) is not None and a >= 900),
    ({"property_name": "amount", "operator": "BETWEEN", "value": "200", "high_value": "500"},
     lambda p: (a := amount(p)) is not None and 200 <= a <= 500),
    ({"property_name": "region", "operator": "IN", "values": ["na", "apac"]},
     lambda p: p["region"] in ("NA", "APAC")),
    ({"property_name": "region", "operator": "NOT_IN", "values": ["NA", "APAC"]},
     lambda p: p["region"] not in ("NA", "APAC")),
    ({"property_name": "amount", "operator": "HAS_PROPERTY"}, lambda p: p["amount"] is not None),
    ({"property_name": "amount", "operator": "NOT_HAS_PROPERTY"}, lambda p: p["amount"] is None),
    ({"property_name": "dealname", "operator": "CONTAINS_TOKEN", "value": "Renewal"},
     lambda p: "renewal" in (p["dealname"] or "")),
    ({"property_name": "dealname", "operator": "NOT_CONTAINS_TOKEN", "value": "renewal"},
     lambda p: "renewal" not in (p["dealname"] or "")),
    ({"property_name": "dealname", "operator": "CONTAINS_TOKEN", "value": "glob*"},
     lambda p: (p["dealname"] or "").startswith("Globex")),
    ({"property_name": "closedate", "operator": "GTE", "value": epoch_ms(T0 + timedelta(days=9))},
     lambda p: (p["closedate"] or "") >= "2026-01-14"),
    ({"property_name": "closedate", "operator": "LT", "value": "2026-01-08T09:00:00Z"},
     lambda p: (p["closedate"] or "") < "2026-01-08T09"),
    ({"property_name": "partner_prepared_prospect", "operator": "EQ", "value": "TRUE"},
     lambda p: p["partner_prepared_prospect"] == "true"),
    ({"property_name": "competitors", "operator": "IN", "values": ["Hooli"]},
     lambda p: "Hooli" in (p["competitors"] or "")),
]


@pytest.mark.parametrize(("flt", "test"), OPERATOR_CASES,
                         ids=[f"{f['operator']}-{f['property_name']}" for f, _ in OPERATOR_CASES])
def test_each_operator_compares_by_property_type(
        sandbox: SandboxServer, hs: HubSpot, flt: dict[str, Any],
        test: Callable[[dict[str, str | None]], bool]) -> None:
    seed(sandbox, ROWS)
    page = search(hs, [flt])
    assert ids_of(page) == expected(test)
    assert page.total == len(expected(test))
    assert page.paging is None


def test_groups_are_ored_and_filters_anded(sandbox: SandboxServer, hs: HubSpot) -> None:
    seed(sandbox, ROWS)
    page = search(hs,
                  [{"property_name": "region", "operator": "EQ", "value": "NA"},
                   {"property_name": "amount", "operator": "GT", "value": "0"}],
                  [{"property_name": "amount", "operator": "GTE", "value": "1000"}])
    assert ids_of(page) == expected(lambda p: (p["region"] == "NA" and p["amount"] is not None)
                                    or (amount(p) or 0) >= 1000)


def test_sorts_take_one_property_in_either_form(sandbox: SandboxServer, hs: HubSpot) -> None:
    ids = seed(sandbox, ROWS)
    descending = ids_of(search(hs, sorts=[{"propertyName": "amount",
                                           "direction": "DESCENDING"}]))
    assert descending == [*reversed(ids[1:]), ids[0]]  # numeric order, unset last
    assert ids_of(search(hs, sorts=["amount"])) == [*ids[1:], ids[0]]
    assert ids_of(search(hs, sorts=["-amount"])) == descending
    assert ids_of(search(hs)) == ids  # default: hs_object_id ascending
    newest_first = ids_of(search(hs, sorts=[{"propertyName": "hs_lastmodifieddate",
                                             "direction": "DESCENDING"}]))
    assert newest_first == list(reversed(ids))
    status, body = error_of(lambda: search(hs, sorts=["amount", "dealname"]))
    assert (status, body["category"]) == (400, "VALIDATION_ERROR")


def test_properties_query_and_archived_records(sandbox: SandboxServer, hs: HubSpot) -> None:
    ids = seed(sandbox, ROWS)
    page = search(hs, properties=["region"], query="globex")
    assert ids_of(page) == expected(lambda p: (p["dealname"] or "").startswith("Globex"))
    assert set(page.results[0].properties) == {"region", "hs_object_id", "createdate",
                                               "hs_lastmodifieddate"}
    assert page.results[0].properties["region"] == "EMEA"
    hs.crm.deals.basic_api.archive(ids[1])
    assert ids[1] not in ids_of(search(hs))
    assert search(hs).total == len(ids) - 1


def test_pages_of_200_with_total_and_paging_only_when_more(sandbox: SandboxServer,
                                                           hs: HubSpot) -> None:
    ids = seed(sandbox, [{"dealname": f"D{i}"} for i in range(450)])
    seen, after = [], None
    for expected_size, expected_after in ((200, "200"), (200, "400"), (50, None)):
        page = search(hs, limit=200, after=after)
        assert page.total == 450 and len(page.results) == expected_size
        assert (page.paging.next.after if page.paging else None) == expected_after
        seen += ids_of(page)
        after = expected_after
    assert seen == ids
    status, body = error_of(lambda: search(hs, limit=201))
    assert (status, body["category"]) == (400, "VALIDATION_ERROR")


def test_results_beyond_10000_are_refused(sandbox: SandboxServer, hs: HubSpot) -> None:
    seed(sandbox, [{} for _ in range(10_050)], modified=lambda i: T0)
    page = search(hs, limit=200, after="9800")
    assert page.total == 10_050 and len(page.results) == 200
    assert page.paging.next.after == "10000"
    for after, limit in (("9900", 200), ("10000", 1)):
        status, body = error_of(lambda a=after, n=limit: search(hs, limit=n, after=a))
        assert status == 400 and body["category"] == "VALIDATION_ERROR"
        assert "10000" in body["message"]


def test_cursor_slices_ties_on_one_timestamp_by_object_id(sandbox: SandboxServer,
                                                          hs: HubSpot) -> None:
    tie = T0 + timedelta(hours=1)
    ids = seed(sandbox, [{} for _ in range(10)],
               modified=lambda i: T0 + timedelta(minutes=i) if i < 3 else tie)
    cursor = {"property_name": "hs_lastmodifieddate", "operator": "GTE", "value": epoch_ms(tie)}
    ascending = [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}]
    first = search(hs, [cursor], sorts=ascending, limit=3)
    assert ids_of(first) == ids[3:6] and first.total == 7
    last_id = first.results[-1].id
    rest = search(hs,
                  [{"property_name": "hs_lastmodifieddate", "operator": "EQ",
                    "value": tie.isoformat()},
                   {"property_name": "hs_object_id", "operator": "GT", "value": last_id}],
                  [{"property_name": "hs_lastmodifieddate", "operator": "GT",
                    "value": epoch_ms(tie)}],
                  sorts=ascending, limit=200)
    assert ids_of(rest) == ids[6:]
    assert first.results[0].properties["hs_lastmodifieddate"] == "2026-01-05T10:00:00.000Z"


def test_index_lag_hides_fresh_writes(sandbox: SandboxServer, hs: HubSpot) -> None:
    requests.post(f"{sandbox.base_url}/__sandbox__/faults",
                  json={"quotas": {"hubspot_search_lag_ms": 60_000}},
                  verify=str(sandbox.ca_file), timeout=10).raise_for_status()
    now = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
    sandbox.sandbox.clock.freeze(now)
    old = seed(sandbox, [{"dealname": "Old"}], modified=lambda i: now - timedelta(minutes=5))
    fresh = hs.crm.deals.basic_api.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
            properties={"dealname": "Fresh"}))
    assert ids_of(search(hs)) == old
    sandbox.sandbox.clock.shift(61)
    assert ids_of(search(hs)) == [*old, fresh.id]


@pytest.mark.parametrize(("groups", "filters_per_group"), [(6, 1), (1, 11), (3, 9)])
def test_filter_limits_are_enforced(sandbox: SandboxServer, hs: HubSpot, groups: int,
                                    filters_per_group: int) -> None:
    flt = {"property_name": "amount", "operator": "HAS_PROPERTY"}
    status, body = error_of(lambda: search(hs, *[[flt] * filters_per_group] * groups))
    assert (status, body["category"]) == (400, "VALIDATION_ERROR")
    assert search(hs, *[[flt] * 5] * 5).total == 0  # 25 in 5 groups is allowed


def test_bad_filters_are_400(sandbox: SandboxServer, hs: HubSpot) -> None:
    for flt in ({"property_name": "nope", "operator": "EQ", "value": "x"},
                {"property_name": "amount", "operator": "EQ", "value": "lots"},
                {"property_name": "amount", "operator": "IN"},
                {"property_name": "amount", "operator": "BETWEEN", "value": "1"}):
        status, body = error_of(lambda f=flt: search(hs, [f]))
        assert (status, body["category"]) == (400, "VALIDATION_ERROR"), flt
