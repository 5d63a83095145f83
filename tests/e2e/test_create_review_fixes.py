"""Issue 16 review: bugs found in creating and routing opportunities, each pinned by a
test against the sandbox with the real clients (both shipped packs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from hubspot.crm.objects import (
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)

from handoff_sync.engine.types import creation_key
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store.types import RunOutcome
from handoff_sync.testing.yaml_text import without_section
from tests.e2e.create_support import (
    APPROVED_AT,
    DEFAULT_PACK,
    REVERSED_PACK,
    Sides,
    add_routing,
    pack_copy,
)
from tests.e2e.sync_support import run_cli, sync_world
from tests.e2e.test_create_opportunity import FALLBACK, NOW, cycle, pack  # noqa: F401

pytest_plugins = ("tests.store_support",)


@pytest.fixture
def bare(sandbox: SandboxServer, tmp_path: Path, store_url: str,
         pack: str) -> Iterator[dict[str, Any]]:  # noqa: F811
    """The pack (a copy, no routing yet) and its sides."""
    mappings = pack_copy(pack, tmp_path / "mappings")
    with sync_world(sandbox, tmp_path, database_url=store_url, now=NOW,
                    mappings=mappings) as world:
        world["sides"] = Sides.of(pack, sandbox)
        world["folder"] = mappings
        yield world


def partner_seat_users(sides: Sides) -> list[str]:
    """Two CRM users who own no opportunity (partner reps with seats): no open handoffs."""
    if sides.pack == DEFAULT_PACK:
        rows = sides.sf.query_all("SELECT Email FROM User WHERE IsActive = true AND "
                                  "Title = 'Partner Account Manager' ORDER BY Id")["records"]
        return [r["Email"].lower() for r in rows][:2]
    owners = sides.hs.crm.owners.owners_api.get_page(limit=100).results
    return sorted(o.email.lower() for o in owners if not o.archived and any(
        t.name == "Partner Reps" for t in (o.teams or [])))[:2]


def test_a_cap_counts_the_opportunity_created_in_the_cycle_before(
        bare: dict[str, Any]) -> None:
    """The opportunity created last cycle is an open handoff of its owner this cycle,
    before its pair was ever planned: with a cap of 1 the next deal goes to the other
    member, never a second one to the first."""
    sides: Sides = bare["sides"]
    first, second = partner_seat_users(sides)
    add_routing(bare["folder"], f"routing:\n  teams:\n    pair:\n      members: [{first}, "
                                f"{second}]\n      cap: 1\n  rules:\n    - team: pair\n")
    one = sides.register("Capstone one", "Capstone Alpha", "capstone-alpha.example", 150000)
    cycle(bare)
    [made] = sides.created_for(creation_key("partners", one))
    assert made["owner"] == first  # a tie: the first listed
    two = sides.register("Capstone two", "Capstone Beta", "capstone-beta.example", 160000)
    cycle(bare)
    [made] = sides.created_for(creation_key("partners", two))
    assert made["owner"] == second  # the first is at the cap of 1


def test_a_namesake_account_with_another_domain_is_not_the_customer(
        bare: dict[str, Any]) -> None:
    """Two companies called "Harbor Labs": the registration's customer is at
    harbor-labs.example, the CRM's only namesake at harborlabs.example. The new
    opportunity is not attached to the namesake (found by name only when it has no
    domain of its own); a namesake without a domain is still found."""
    sides: Sides = bare["sides"]
    other = make_account(sides, "Harbor Labs", "harborlabs.example")
    prm_id = sides.register("Harbor rollout", "Harbor Labs", "harbor-labs.example", 150000)
    bare_name = make_account(sides, "Quayside Mills", None)
    second = sides.register("Quayside rollout", "Quayside Mills", "quayside.example", 150000)
    cycle(bare)
    [made] = sides.created_for(creation_key("partners", prm_id))
    assert made["account"] and made["account"] != other
    [made] = sides.created_for(creation_key("partners", second))
    assert made["account"] == bare_name


def make_account(sides: Sides, name: str, domain: str | None) -> str:
    """An account (Salesforce) or company (HubSpot) in the CRM; its id."""
    if sides.pack == DEFAULT_PACK:
        return str(sides.sf.Account.create({"Name": name, **(
            {"Website": f"https://www.{domain}"} if domain else {})})["id"])
    return str(sides.hs.crm.companies.basic_api.create(SimplePublicObjectInputForCreate(
        properties={"name": name, **({"domain": domain} if domain else {})})).id)


@pytest.mark.parametrize("pack", [REVERSED_PACK])  # HubSpot is the CRM: its search lags
def test_a_company_created_last_cycle_is_found_under_search_lag(
        bare: dict[str, Any], sandbox: SandboxServer) -> None:
    """HubSpot's search index lags behind writes: the company created for one registration
    is not searchable yet when the next cycle creates an opportunity for a second
    registration of the same customer. The second opportunity joins the same company; no
    second company is made for the domain."""
    sides: Sides = bare["sides"]
    set_search_lag(sandbox, 600_000)
    try:
        one = sides.register("Saltmarsh pilot", "Saltmarsh Ltd", "saltmarsh.example", 150000)
        cycle(bare)
        two = sides.register("Saltmarsh rollout", "Saltmarsh Ltd", "saltmarsh.example",
                             190000)
        cycle(bare)
    finally:
        set_search_lag(sandbox, None)
    [first] = sides.created_for(creation_key("partners", one))
    [second] = sides.created_for(creation_key("partners", two))
    assert first["account"] and second["account"] == first["account"]
    assert accounts_with_domain(sides, "saltmarsh.example") == [first["account"]]


def set_search_lag(server: SandboxServer, lag_ms: int | None) -> None:
    requests.post(f"{server.base_url}/__sandbox__/faults",
                  json={"quotas": {"hubspot_search_lag_ms": lag_ms}},
                  verify=str(server.ca_file), timeout=10).raise_for_status()


def accounts_with_domain(sides: Sides, domain: str) -> list[str]:
    """The HubSpot companies with ``domain``."""
    found = sides.hs.crm.companies.search_api.do_search(PublicObjectSearchRequest(
        filter_groups=[FilterGroup(filters=[Filter(property_name="domain", operator="EQ",
                                                   value=domain)])], limit=10))
    return [c.id for c in found.results]


def test_dismissing_a_direct_deal_conflict_lets_the_opportunity_be_created(
        bare: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The channel_conflict item of a registration resembling a direct deal says no
    opportunity is created "until a person links it to one of them or dismisses this".
    Dismissing it (it is not that deal) creates the registration's opportunity; it used
    to stay a dead end: no opportunity, and no item left to say so."""
    sides: Sides = bare["sides"]
    sides.direct_deal("Brindlewood analytics suite", "Brindlewood Foods",
                      "brindlewood.example", 200000, "2027-03-30", FALLBACK)
    prm_id = sides.register("Brindlewood analytics suite", "Brindlewood Foods",
                            "brindlewood.example", 218000, close="2027-02-14")
    cycle(bare)
    assert sides.created_for(creation_key("partners", prm_id)) == []
    key = f"channel_conflict:direct:prm:{prm_id}"
    code, _, err = run_cli(capsys, "review", "dismiss", key, "--config",
                           str(tmp_path / "handoff-sync.yaml"))
    assert code == 0, err
    assert cycle(bare).counts["opportunities_created"] == 1
    [made] = sides.created_for(creation_key("partners", prm_id))
    assert made["prm_id"] == prm_id
    cycle(bare)
    assert len(sides.created_for(creation_key("partners", prm_id))) == 1


def test_a_deal_that_fell_back_because_the_team_was_full_keeps_its_item(
        bare: dict[str, Any]) -> None:
    """Everyone in the team at the cap: the deal goes to the fallback owner with an
    unrouted item, which stands while the opportunity is still the fallback owner's and
    the team still full. It used to resolve itself at the next cycle that planned it when
    its registration sorted before the deal that filled the team (routed again as if
    nobody had any open handoff), though nothing had changed."""
    sides: Sides = bare["sides"]
    member = partner_seat_users(sides)[0]
    add_routing(bare["folder"], f"routing:\n  teams:\n    solo:\n      members: [{member}]"
                                "\n      cap: 1\n  rules:\n    - team: solo\n")
    late = sides.register("Fernhill one", "Fernhill Alpha", "fernhill-alpha.example",
                          150000, approved=False)  # the lower id, approved later
    early = sides.register("Fernhill two", "Fernhill Beta", "fernhill-beta.example", 160000)
    cycle(bare)
    [made] = sides.created_for(creation_key("partners", early))
    assert made["owner"] == member
    approve(sides, late)
    cycle(bare)
    [made] = sides.created_for(creation_key("partners", late))
    assert made["owner"] == FALLBACK
    item = f"unrouted:prm:{late}"
    for full in (False, True):  # a quiet cycle, then one that plans every deal
        report = bare["runner"].run_cycle(full=full)
        assert report.outcome is RunOutcome.OK, report.message
        assert item in {i["key"] for i in bare["store"].reviews("partners")}


def approve(sides: Sides, prm_id: str) -> None:
    """The channel manager approves the registration in the PRM."""
    if sides.pack == DEFAULT_PACK:
        sides.hs.crm.deals.basic_api.update(prm_id, SimplePublicObjectInput(
            properties={"dealstage": "9004453"}))
    else:
        sides.sf.Deal_Registration__c.update(prm_id, {
            "Registration_Status__c": "Approved", "Approved_At__c": APPROVED_AT})


def test_an_opportunity_created_with_nobody_to_own_it_keeps_its_item(
        bare: dict[str, Any]) -> None:
    """The fallback owner is no CRM user (and no routing: section): the opportunity is
    created with the CRM's default owner and an unrouted item says so. The item stands
    while nobody routing could choose is a CRM user; it used to resolve itself at the
    next cycle, though the opportunity still had no routed owner."""
    handoff = bare["folder"] / "handoff.yaml"
    handoff.write_text(without_section(handoff.read_text(), "routing").replace(
        "fallback_owner_email: revops@example.com", "fallback_owner_email: gone@example.com"))
    sides: Sides = bare["sides"]
    prm_id = sides.register("Larchmont rollout", "Larchmont Inc", "larchmont.example", 150000)
    first = bare["runner"].run_cycle()
    assert first.counts["opportunities_created"] == 1
    item = f"unrouted:prm:{prm_id}"
    for full in (False, True):
        assert item in {i["key"] for i in bare["store"].reviews("partners")}
        bare["runner"].run_cycle(full=full)
    assert item in {i["key"] for i in bare["store"].reviews("partners")}
    assert len(sides.created_for(creation_key("partners", prm_id))) == 1
