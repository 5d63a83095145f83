"""Contract tests for the Salesforce emulation: SOQL query, paging, queryAll and Bulk 2.0."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import SalesforceMalformedRequest

from handoff_sync.sandbox.server import SandboxServer
from tests.sandbox.test_salesforce_sandbox import create_many, error_code, opportunity

SF_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000")


def many_opportunities(sf: Salesforce, count: int) -> list[str]:
    return create_many(sf, "Opportunity",
                       [opportunity(Name=f"Deal {i:05d}", Amount=float(i)) for i in range(count)])


def test_query_pages_2000_rows_and_query_all_loses_nothing(sf: Salesforce) -> None:
    created = many_opportunities(sf, 4_500)

    first = sf.query("SELECT Id, Name FROM Opportunity")
    everything = sf.query_all("SELECT Id, Name FROM Opportunity")

    assert first["totalSize"] == 4_500
    assert first["done"] is False
    assert len(first["records"]) == 2_000
    assert re.fullmatch(r"/services/data/v59\.0/query/01g\w{15}-2000", first["nextRecordsUrl"])
    ids = [r["Id"] for r in everything["records"]]
    assert everything["totalSize"] == 4_500
    assert len(set(ids)) == 4_500
    assert set(ids) == set(created)


def test_batch_size_header_sets_the_page_size(sf: Salesforce) -> None:
    many_opportunities(sf, 1_100)
    headers = {"Sforce-Query-Options": "batchSize=500"}

    first = sf.query("SELECT Id FROM Opportunity ORDER BY Name", headers=headers)
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    third = sf.query_more(second["nextRecordsUrl"], identifier_is_url=True)

    assert [len(p["records"]) for p in (first, second, third)] == [500, 500, 100]
    assert third["done"] is True
    assert "nextRecordsUrl" not in third


def test_page_is_a_snapshot_of_the_query(sf: Salesforce) -> None:
    ids = many_opportunities(sf, 2_100)
    first = sf.query("SELECT Id, Name FROM Opportunity")
    sf.Opportunity.update(ids[-1], {"Name": "Renamed after the query"})

    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)

    assert second["records"][-1]["Name"] == "Deal 02099"


def test_unknown_query_locator_is_rejected(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query_more("01g5g0000000099AAA-2000")

    assert exc.value.content[0] == {"message": "invalid query locator",
                                    "errorCode": "INVALID_QUERY_LOCATOR"}


def test_query_all_sees_deleted_rows_and_query_does_not(sf: Salesforce) -> None:
    kept, gone = many_opportunities(sf, 2)
    sf.Opportunity.delete(gone)

    live = sf.query_all("SELECT Id FROM Opportunity")
    every = sf.query_all("SELECT Id, IsDeleted FROM Opportunity", include_deleted=True)
    binned = sf.query("SELECT COUNT() FROM Opportunity WHERE IsDeleted = true",
                      include_deleted=True)

    assert [r["Id"] for r in live["records"]] == [kept]
    assert {r["Id"]: r["IsDeleted"] for r in every["records"]} == {kept: False, gone: True}
    assert binned == {"totalSize": 1, "done": True, "records": []}


def test_records_have_salesforce_attributes_and_value_formats(sf: Salesforce) -> None:
    created = sf.Opportunity.create(opportunity(Amount=1250.5, Handoff_Required__c=True))

    record = sf.query("SELECT Id, Amount, CloseDate, SystemModstamp, Handoff_Required__c, "
                      "Description FROM Opportunity")["records"][0]

    assert list(record) == ["attributes", "Id", "Amount", "CloseDate", "SystemModstamp",
                            "Handoff_Required__c", "Description"]
    assert record["attributes"] == {
        "type": "Opportunity",
        "url": f"/services/data/v59.0/sobjects/Opportunity/{created['id']}",
    }
    assert record["Amount"] == 1250.5
    assert record["CloseDate"] == "2025-06-30"
    assert SF_DATETIME.fullmatch(record["SystemModstamp"])
    assert record["Handoff_Required__c"] is True
    assert record["Description"] is None


def test_format_soql_values_with_quotes_and_backslashes_round_trip(sf: Salesforce) -> None:
    tricky = "O'Brien \\ \"Partners\" 100%_off"
    sf.Opportunity.create(opportunity(Name=tricky))
    sf.Opportunity.create(opportunity(Name="O'Brien plain"))

    exact = sf.query(format_soql("SELECT Name FROM Opportunity WHERE Name = {}", tricky))
    like = sf.query(format_soql("SELECT Name FROM Opportunity WHERE Name LIKE '{:like}%'",
                                "O'Brien \\"))

    assert [r["Name"] for r in exact["records"]] == [tricky]
    assert [r["Name"] for r in like["records"]] == [tricky]


def test_datetime_filters_accept_format_soql_offsets(
    sandbox: SandboxServer, sf: Salesforce
) -> None:
    clock = sandbox.sandbox.clock
    clock.freeze(datetime(2025, 3, 1, 12, 0, tzinfo=UTC))
    sf.Opportunity.create(opportunity(Name="Before"))
    clock.shift(3_600)
    sf.Opportunity.create(opportunity(Name="After"))

    soql = format_soql("SELECT Name FROM Opportunity WHERE SystemModstamp > {} "
                       "ORDER BY SystemModstamp, Id", datetime(2025, 3, 1, 12, 30, tzinfo=UTC))

    assert [r["Name"] for r in sf.query(soql)["records"]] == ["After"]


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELEC Id FROM Opportunity", "MALFORMED_QUERY"),
        ("SELECT Id FROM Opportunity WHERE", "MALFORMED_QUERY"),
        ("SELECT Bogus__c FROM Opportunity", "INVALID_FIELD"),
        ("SELECT Id FROM Opportunity WHERE Amount = 'ten'", "INVALID_FIELD"),
        ("SELECT Id FROM Nothing__c", "INVALID_TYPE"),
    ],
)
def test_query_errors_arrive_as_malformed_request(sf: Salesforce, soql: str, code: str) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query(soql)

    assert exc.value.status == 400
    assert error_code(exc) == code


def test_bulk2_query_returns_csv_pages(sf: Salesforce) -> None:
    many_opportunities(sf, 250)
    gone = sf.Opportunity.create(opportunity(Name="Binned"))["id"]
    sf.Opportunity.delete(gone)
    soql = "SELECT Id, Name, Amount, CloseDate, Description, IsClosed FROM Opportunity"

    pages = list(sf.bulk2.Opportunity.query(soql, max_records=100, wait=0.05))
    every = list(sf.bulk2.Opportunity.query_all(soql, max_records=1_000, wait=0.05))

    assert len(pages) == 3
    rows = [row for page in pages for row in csv.DictReader(io.StringIO(page))]
    assert len(rows) == 250
    assert pages[0].splitlines()[0] == '"Id","Name","Amount","CloseDate","Description","IsClosed"'
    assert rows[0] == {"Id": rows[0]["Id"], "Name": "Deal 00000", "Amount": "0.0",
                       "CloseDate": "2025-06-30", "Description": "", "IsClosed": "false"}
    assert len(list(csv.DictReader(io.StringIO(every[0])))) == 251
