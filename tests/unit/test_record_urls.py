"""Record links as each system's registry row builds them: Salesforce's from the
connection's URLs, HubSpot's from the portal its account details name."""

from __future__ import annotations

from connectors.hubspot.facts import account_facts
from connectors.registry import SYSTEMS

SALESFORCE = SYSTEMS["salesforce"].record_url
HUBSPOT = SYSTEMS["hubspot"].record_url


def test_a_salesforce_record_opens_on_the_orgs_own_host() -> None:
    assert SALESFORCE is not None
    urls = {"instance_url": "https://acme.my.salesforce.com/", "login_url": ""}
    assert SALESFORCE(urls, "Opportunity", "006000000000001AAA") == \
        "https://acme.my.salesforce.com/lightning/r/Opportunity/006000000000001AAA/view"
    # Only a login host known: through the login page, which sends the person on.
    login = {"login_url": "https://test.salesforce.com"}
    assert SALESFORCE(login, "Opportunity", "006000000000001AAA") == \
        "https://test.salesforce.com/?startURL=%2F006000000000001AAA"
    assert SALESFORCE({}, "Opportunity", "006000000000001AAA") is None
    # An id is never markup or a path in the address.
    assert SALESFORCE(urls, "Deal__c", "a/b?c") == \
        "https://acme.my.salesforce.com/lightning/r/Deal__c/a%2Fb%3Fc/view"


def test_a_hubspot_record_opens_in_the_portal_by_object_type_id() -> None:
    assert HUBSPOT is not None
    portal = {"portal_id": "4455667"}
    assert HUBSPOT(portal, "deals", "1234") == \
        "https://app.hubspot.com/contacts/4455667/record/0-3/1234"
    assert HUBSPOT(portal, "contacts", "9") == \
        "https://app.hubspot.com/contacts/4455667/record/0-1/9"
    assert HUBSPOT(portal, "companies", "9") == \
        "https://app.hubspot.com/contacts/4455667/record/0-2/9"
    # A custom object is named by its own object type id; the portal's app host counts.
    eu = {"portal_id": "4455667", "ui_domain": "app-eu1.hubspot.com"}
    assert HUBSPOT(eu, "2-3456", "77") == \
        "https://app-eu1.hubspot.com/contacts/4455667/record/2-3456/77"


def test_no_hubspot_link_without_a_portal_or_a_record_page() -> None:
    assert HUBSPOT is not None
    assert HUBSPOT({}, "deals", "1234") is None  # no cycle has named the portal yet
    assert HUBSPOT({"portal_id": "44 55"}, "deals", "1234") is None
    assert HUBSPOT({"portal_id": "4455667"}, "tasks", "1") is None  # tasks have no page
    assert HUBSPOT({"portal_id": "4455667"}, "p_partner_deals", "1") is None
    assert HUBSPOT({"portal_id": "4455667"}, "deals", "") is None
    # A host that is no host name falls back to the app's own.
    odd = {"portal_id": "1", "ui_domain": "evil.example/x?"}
    assert HUBSPOT(odd, "deals", "2") == "https://app.hubspot.com/contacts/1/record/0-3/2"


def test_the_account_details_give_the_portal_and_its_app_host() -> None:
    assert account_facts({"portalId": 4455667, "uiDomain": "APP-EU1.hubspot.com",
                          "accountType": "STANDARD"}) == \
        {"portal_id": "4455667", "ui_domain": "app-eu1.hubspot.com"}
    assert account_facts({"portalId": 12}) == {"portal_id": "12"}
    assert account_facts({"portalId": "12<b>", "uiDomain": "javascript:alert(1)"}) == {}
    assert account_facts({}) == {}
