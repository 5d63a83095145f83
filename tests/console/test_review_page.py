"""/review over HTTP: items named, filters, bulk dismissal with a confirmation, links
previewed then made (a move of a partner's attribution only when confirmed on its own),
and nothing of it for a viewer."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text as sa_text
from starlette.testclient import TestClient

from handoff_sync.console.review_view import Filters
from handoff_sync.engine.types import Plan, ReviewItem, ReviewKind
from handoff_sync.model import Role
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store import CycleOutcome, RunKind, RunOutcome, Store
from tests.console.support import ADMIN, VIEWER, client_for, console_world, csrf_of

# This seed and size give an ambiguous_link, a channel_conflict (two partners registered
# one customer) and three unresolved_owner items of one account executive.
SEED = {"deals": 200, "partners": 12, "random_seed": 11}
HX = {"HX-Request": "true"}


@pytest.fixture
def world(sandbox: SandboxServer, tmp_path: Path) -> Any:
    with console_world(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/state.db",
                       **SEED) as world:
        yield world


def items(store: Store, status: str | None = "open") -> dict[str, dict[str, Any]]:
    return {item["key"]: item for item in store.reviews("partners", status=status)}


def of_kind(store: Store, kind: str) -> list[dict[str, Any]]:
    return [item for item in items(store).values() if item["kind"] == kind]


def text(page: str) -> str:
    """The page's text, tags dropped and whitespace folded (names as a reader sees them)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def post(client: TestClient, url: str, data: dict[str, Any], **kwargs: Any) -> Any:
    return client.post(url, data={"csrf_token": csrf_of(client, "/review"), **data},
                       headers=HX, **kwargs)


def owner_group(store: Store) -> tuple[str, list[dict[str, Any]]]:
    """The email with the most open unresolved_owner items, and its items."""
    by_email: dict[str, list[dict[str, Any]]] = {}
    for item in of_kind(store, "unresolved_owner"):
        if item["details"]["email"]:
            by_email.setdefault(item["details"]["email"], []).append(item)
    email = max(by_email, key=lambda e: len(by_email[e]))
    return email, by_email[email]


def test_items_are_named_and_owner_items_grouped_per_person(world: dict[str, Any]) -> None:
    store: Store = world["store"]
    state = store.load_pipeline("partners")
    page = client_for(world["context"], ADMIN).get("/review")
    assert page.status_code == 200
    shown = text(page.text)
    nav = re.findall(r'<nav>.*?</nav>', page.text, re.S)[0]
    assert nav.index("/review") < nav.index("/audit")
    # A channel conflict names both registrations, their deals and partners.
    [conflict] = of_kind(store, "channel_conflict")
    for prm_id in conflict["details"]["registrations"]:
        fields = state.mirror[Role.PRM][prm_id].fields
        assert fields["dealname"] in shown and fields["partner_account_name"] in shown
    # An ambiguous link names its candidate opportunities.
    [ambiguous] = of_kind(store, "ambiguous_link")
    for crm_id, _score in ambiguous["candidates"]:
        assert state.mirror[Role.CRM][crm_id].fields["Name"] in shown
    # One person's unresolved_owner items: one entry, every deal named.
    email, group = owner_group(store)
    assert len(group) >= 2
    assert page.text.count(f"Account executive {email}</strong>: {len(group)} deals") == 1
    for item in group:
        prm_id = item["deal"].removeprefix("prm:")
        assert state.mirror[Role.PRM][prm_id].fields["dealname"] in shown
    counts = dict(re.findall(r'data-kind="(\w+)">[^<]*<b>(\d+)</b>', page.text))
    assert counts["unresolved_owner"] == str(len(of_kind(store, "unresolved_owner")))
    assert counts["channel_conflict"] == "1"


def test_registrations_and_opportunities_link_to_their_records(
        world: dict[str, Any], sandbox: SandboxServer) -> None:
    store: Store = world["store"]
    page = client_for(world["context"], ADMIN).get("/review").text
    portal = sandbox.sandbox.credentials.hs_portal_id
    # The registrations (HubSpot deals) open in the portal the cycle learned; the
    # opportunities on the org's Salesforce host.
    [conflict] = of_kind(store, "channel_conflict")
    for prm_id in conflict["details"]["registrations"]:
        url = f"https://app.hubspot.com/contacts/{portal}/record/0-3/{prm_id}"
        assert f'<a href="{url}" target="_blank" rel="noopener noreferrer">{prm_id}</a>' \
            in page
    [ambiguous] = of_kind(store, "ambiguous_link")
    for crm_id, _score in ambiguous["candidates"]:
        url = f"{sandbox.base_url}/lightning/r/Opportunity/{crm_id}/view"
        assert f'<a href="{url}" target="_blank" rel="noopener noreferrer">{crm_id}</a>' \
            in page


def test_filters_narrow_the_list_and_htmx_gets_just_the_list(world: dict[str, Any]) -> None:
    store: Store = world["store"]
    client = client_for(world["context"], VIEWER)
    [conflict] = of_kind(store, "channel_conflict")
    partner = next(iter(conflict["details"]["partners"].values()))

    fragment = client.get("/review", params={"kind": "channel_conflict"},
                          headers={**HX, "HX-Target": "review-list"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert conflict["key"] in fragment.text and "unresolved_owner:" not in fragment.text

    [ambiguous] = of_kind(store, "ambiguous_link")
    by_partner = text(client.get("/review", params={"partner": partner}).text)
    assert conflict["summary"] in by_partner and ambiguous["key"] not in by_partner

    email, group = owner_group(store)
    searched = client.get("/review", params={"q": email.upper()}).text
    assert f"{len(group)} items" in searched and conflict["key"] not in searched

    assert "status: no status 'nope'" in text(client.get("/review",
                                                         params={"status": "nope"}).text)
    assert "no pipeline 'other'" in text(client.get("/review", params={"pipeline": "other"}).text)
    assert Filters.parse({"q": "  a   b "}, ["partners"]).q == "a b"


def test_a_viewer_sees_no_buttons_and_may_not_dismiss_or_link(world: dict[str, Any]) -> None:
    store: Store = world["store"]
    client = client_for(world["context"], VIEWER)
    page = client.get("/review").text
    assert 'name="keys"' not in page and "Link…" not in page and "Dismiss" not in page
    email, group = owner_group(store)
    [ambiguous] = of_kind(store, "ambiguous_link")
    for url, data in [
            ("/review/dismiss", {"pipeline": "partners", "keys": group[0]["key"],
                                 "confirm": "yes"}),
            ("/review/dismiss-owner", {"pipeline": "partners", "email": email,
                                       "confirm": "yes"}),
            ("/review/link", {"pipeline": "partners", "key": ambiguous["key"],
                              "opportunity": ambiguous["candidates"][0][0],
                              "confirm": "yes"})]:
        response = post(client, url, data)
        assert response.status_code == 403 and "viewer role cannot" in response.text
    assert len(of_kind(store, "unresolved_owner")) >= len(group)
    assert ambiguous["key"] in items(store)


def test_one_persons_items_are_dismissed_together_after_a_confirmation(
        world: dict[str, Any]) -> None:
    store: Store = world["store"]
    client = client_for(world["context"], ADMIN)
    email, group = owner_group(store)
    asked = post(client, "/review/dismiss-owner", {"pipeline": "partners", "email": email})
    assert asked.status_code == 200 and f"Dismiss {len(group)} items of {email}" in asked.text
    assert len([i for i in of_kind(store, "unresolved_owner")
                if i["details"]["email"] == email]) == len(group)  # nothing yet

    done = post(client, "/review/dismiss-owner", {"pipeline": "partners", "email": email,
                                                  "confirm": "yes"})
    assert done.status_code == 200 and done.headers["HX-Trigger"] == "review-changed"
    assert f"Dismissed {len(group)} items of {email}" in done.text
    after = items(store, None)
    for item in group:
        assert after[item["key"]]["status"] == "dismissed"
        assert after[item["key"]]["resolved_by"] == ADMIN
    again = post(client, "/review/dismiss-owner", {"pipeline": "partners", "email": email,
                                                   "confirm": "yes"})
    assert again.status_code == 400 and "No open unresolved_owner item names" in again.text


def test_selected_items_of_one_kind_are_dismissed_after_a_confirmation(
        world: dict[str, Any]) -> None:
    store: Store = world["store"]
    client = client_for(world["context"], ADMIN)
    routing = [item["key"] for item in of_kind(store, "routing_owner")][:2]
    [conflict] = of_kind(store, "channel_conflict")

    mixed = post(client, "/review/dismiss", {"pipeline": "partners",
                                             "keys": [routing[0], conflict["key"]]})
    assert mixed.status_code == 400 and "dismiss items of one kind" in mixed.text
    none = post(client, "/review/dismiss", {"pipeline": "partners"})
    assert none.status_code == 400 and "keys:" in none.text

    asked = post(client, "/review/dismiss", {"pipeline": "partners", "keys": routing})
    assert "Dismiss 2 routing owner items?" in text(asked.text)
    assert all(key in items(store) for key in routing)
    done = post(client, "/review/dismiss", {"pipeline": "partners", "keys": routing,
                                            "confirm": "yes"})
    assert "Dismissed 2 routing owner items" in text(done.text)
    after = items(store, None)
    assert [after[key]["status"] for key in routing] == ["dismissed", "dismissed"]
    assert after[conflict["key"]]["status"] == "open"


def test_a_link_is_previewed_then_made_and_recorded_with_who_made_it(
        world: dict[str, Any]) -> None:
    store: Store = world["store"]
    client = client_for(world["context"], ADMIN)
    [ambiguous] = of_kind(store, "ambiguous_link")
    state = store.load_pipeline("partners")
    prm_id = ambiguous["deal"].removeprefix("prm:")
    crm_id = ambiguous["candidates"][1][0]  # the second best: a person's choice
    form = {"pipeline": "partners", "key": ambiguous["key"], "opportunity": crm_id}

    preview = post(client, "/review/link", form)
    assert preview.status_code == 200
    shown = text(preview.text)
    assert state.mirror[Role.CRM][crm_id].fields["Name"] in shown
    assert state.mirror[Role.PRM][prm_id].fields["dealname"] in shown
    assert "partner of record of opportunity" in shown
    assert "move_attribution" not in preview.text
    assert items(store)[ambiguous["key"]]["status"] == "open"  # a preview changes nothing

    done = post(client, "/review/link", {**form, "registration": prm_id, "confirm": "yes"})
    assert done.status_code == 200 and f"linked to {crm_id}" in done.text
    item = items(store, None)[ambiguous["key"]]
    assert (item["status"], item["resolved_by"]) == ("resolved", ADMIN)
    assert store.load_pipeline("partners").engine.links[prm_id].crm_id == crm_id
    world["runner"].run_cycle()
    assert store.load_pipeline("partners").engine.links[prm_id].crm_id == crm_id


def test_taking_another_partners_opportunity_needs_its_own_confirmation(
        world: dict[str, Any]) -> None:
    store: Store = world["store"]
    client = client_for(world["context"], ADMIN)
    [conflict] = of_kind(store, "channel_conflict")
    state = store.load_pipeline("partners")
    chosen = conflict["details"]["registrations"][0]
    mine = conflict["details"]["partners"][chosen]
    holder, target = next(
        (prm_id, link.crm_id) for prm_id, link in sorted(state.engine.links.items())
        if prm_id not in conflict["details"]["registrations"]
        and state.mirror[Role.PRM][prm_id].fields["partner_account_name"] != mine)
    theirs = state.mirror[Role.PRM][holder].fields["partner_account_name"]
    form = {"pipeline": "partners", "key": conflict["key"], "registration": chosen,
            "opportunity_id": target}

    preview = post(client, "/review/link", form)
    shown = text(preview.text)
    assert f"opportunity {target} loses registration" in shown and holder in shown
    assert f"{theirs} → {mine}" in shown and "moves a partner's attribution" in shown
    assert 'name="move_attribution"' in preview.text

    refused = post(client, "/review/link", {**form, "confirm": "yes"})
    assert refused.status_code == 400 and "Nothing was linked" in refused.text
    assert store.load_pipeline("partners").engine.links[holder].crm_id == target
    assert items(store)[conflict["key"]]["status"] == "open"

    done = post(client, "/review/link", {**form, "confirm": "yes", "move_attribution": "yes"})
    assert done.status_code == 200 and f"linked to {target}" in done.text
    links = store.load_pipeline("partners").engine.links
    assert links[chosen].crm_id == target and holder not in links


def test_a_link_the_crm_refuses_says_why_and_stores_nothing(world: dict[str, Any]) -> None:
    store: Store = world["store"]
    client = client_for(world["context"], ADMIN)
    [ambiguous] = of_kind(store, "ambiguous_link")
    before = store.load_pipeline("partners").engine.links
    form = {"pipeline": "partners", "key": ambiguous["key"], "confirm": "yes"}
    for typed, said in [("0065g00000ABCDE' OR Name != '", "is not a Salesforce id"),
                        ("", "Choose the opportunity")]:
        response = post(client, "/review/link", {**form, "opportunity_id": typed})
        assert response.status_code == 400 and said in html.unescape(response.text)
    assert store.load_pipeline("partners").engine.links == before
    assert items(store)[ambiguous["key"]]["status"] == "open"


def test_a_deal_name_with_markup_shows_as_text(world: dict[str, Any], hs: Any) -> None:
    from hubspot.crm.deals import SimplePublicObjectInput

    store: Store = world["store"]
    [ambiguous] = of_kind(store, "ambiguous_link")
    prm_id = ambiguous["deal"].removeprefix("prm:")
    hostile = "<script>alert('deal')</script> Cobaltford"
    hs.crm.deals.basic_api.update(prm_id, SimplePublicObjectInput(
        properties={"dealname": hostile}))
    world["runner"].run_cycle()
    page = client_for(world["context"], ADMIN).get("/review", params={"q": "cobaltford"})
    assert "<script>alert" not in page.text
    assert html.escape(hostile, quote=True).replace("&#x27;", "&#39;") in page.text


def test_without_htmx_a_form_post_answers_with_the_whole_page(world: dict[str, Any]) -> None:
    store: Store = world["store"]
    client = client_for(world["context"], ADMIN)
    keys = [item["key"] for item in of_kind(store, "routing_owner")][:1]
    response = client.post("/review/dismiss", data={
        "csrf_token": csrf_of(client, "/review"), "pipeline": "partners", "keys": keys})
    assert response.status_code == 200 and "<html" in response.text
    assert "Dismiss 1 routing owner item?" in text(response.text)
    assert 'id="review-list"' in response.text


def long_queue(store: Store) -> tuple[list[ReviewItem], list[ReviewItem]]:
    """A cycle that states 70 routing items and two people's 30 unresolved_owner items
    each, their keys interleaved (paging raw items would split them): 72 entries, two
    pages. The items of the world's first cycle close (not stated again)."""
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    routing = [ReviewItem(f"routing_owner:r{n:02d}@vendor.example", ReviewKind.ROUTING_OWNER,
                          f"owner:r{n:02d}", f"r{n:02d}@vendor.example has no CRM user",
                          details={"email": f"r{n:02d}@vendor.example"}) for n in range(70)]
    owners = [ReviewItem(f"unresolved_owner:prm:{5000 + n}:crm_owner",
                         ReviewKind.UNRESOLVED_OWNER, f"prm:{5000 + n}",
                         "no active CRM user",
                         details={"role": "crm_owner",
                                  "email": ("Ann@X.example", "bo@x.example")[n % 2]})
              for n in range(60)]
    store.record_cycle(CycleOutcome("partners", "paging", RunKind.INCREMENTAL, at, at,
                                    RunOutcome.OK, Plan("partners", at,
                                                        reviews=(*routing, *owners)),
                                    frozenset(), {}, {}))
    return routing, owners


def test_a_queue_longer_than_a_page_is_paged_with_counts_and_filters_kept(
        world: dict[str, Any]) -> None:
    store: Store = world["store"]
    _routing, owners = long_queue(store)
    client = client_for(world["context"], ADMIN)

    first = client.get("/review")
    counts = dict(re.findall(r'data-kind="(\w+)">[^<]*<b>(\d+)</b>', first.text))
    assert counts == {"routing_owner": "70", "unresolved_owner": "60"}
    assert first.text.count('<article class="entry') == 50
    assert "entries 1–50 of 72 · page 1 of 2" in first.text
    assert 'href="/review?status=open&amp;page=2"' in first.text and 'rel="prev"' not in first.text

    second = client.get("/review", params={"status": "open", "page": "2"},
                        headers={**HX, "HX-Target": "review-list"})
    assert "<html" not in second.text and second.text.count('<article class="entry') == 22
    assert dict(re.findall(r'data-kind="(\w+)">[^<]*<b>(\d+)</b>', second.text)) == counts
    assert "entries 51–72 of 72 · page 2 of 2" in second.text and 'rel="next"' not in second.text
    # Each person once, with all 30 of their items, though only a few deals are named.
    folded = second.text.casefold()
    assert folded.count("account executive ann@x.example</strong>: 30 deals") == 1
    assert folded.count("account executive bo@x.example</strong>: 30 deals") == 1
    assert "and 22 more deals" in text(second.text)
    assert "routing_owner:r49@" not in second.text and "routing_owner:r50@" in second.text

    # A filter is kept from page to page; past the end is the last page.
    kind = client.get("/review", params={"kind": "routing_owner", "page": "2"}).text
    assert kind.count('<article class="entry') == 20 and "page 2 of 2" in kind
    assert 'href="/review?kind=routing_owner&amp;status=open"' in kind  # previous: page 1
    assert "unresolved_owner:" not in kind
    assert "page 2 of 2" in client.get("/review", params={"page": "9"}).text
    assert "page: no page '0'" in text(client.get("/review", params={"page": "0"}).text)

    # A person's group selected on the page dismisses all of their items.
    group = re.search(r'name="groups" value="([^"]*ann@x.example)"', second.text)
    assert group is not None
    asked = post(client, "/review/dismiss", {"pipeline": "partners",
                                             "groups": html.unescape(group.group(1))})
    assert "Dismiss 30 unresolved owner items?" in text(asked.text)
    done = post(client, "/review/dismiss", {"pipeline": "partners", "confirm": "yes",
                                            "groups": html.unescape(group.group(1))})
    assert "Dismissed 30 unresolved owner items" in text(done.text)
    after = items(store, None)
    assert {after[item.key]["status"] for item in owners[0::2]} == {"dismissed"}
    assert {after[item.key]["status"] for item in owners[1::2]} == {"open"}
    assert "of 71" in client.get("/review").text


def test_name_filters_list_the_same_entries_from_the_stored_names_as_from_the_records(
        world: dict[str, Any]) -> None:
    """The partner and search filters read the names a cycle keeps on each item; items
    recorded before names were kept are named from their records until a cycle names
    them. Either way a filter lists the same entries."""
    store: Store = world["store"]
    state = store.load_pipeline("partners")
    client = client_for(world["context"], ADMIN)
    [conflict] = of_kind(store, "channel_conflict")
    [ambiguous] = of_kind(store, "ambiguous_link")
    partner = next(iter(conflict["details"]["partners"].values()))
    email, group = owner_group(store)
    candidate = state.mirror[Role.CRM][ambiguous["candidates"][0][0]].fields["Name"]
    wanted = {  # filters -> what the list must show (None: it must be empty)
        "partner": ({"partner": partner.upper()}, conflict["key"]),
        "email": ({"q": email.upper()}, f"{len(group)} items"),
        "candidate": ({"q": candidate.casefold()}, ambiguous["key"]),
        "two words": ({"q": f"{ambiguous['key']} {candidate.split()[0]}"}, ambiguous["key"]),
        "kind too": ({"q": email, "kind": "channel_conflict"}, None),
        "wildcard": ({"q": "%"}, None),
        "every status": ({"partner": partner, "status": "all"}, conflict["key"]),
    }

    def lists() -> dict[str, str]:
        found = {}
        for name, (params, key) in wanted.items():
            page = client.get("/review", params=params, headers={**HX, "HX-Target":
                                                                 "review-list"})
            assert page.status_code == 200
            assert (key in page.text) if key else "No open review items match" in page.text
            found[name] = page.text
        return found

    assert not store.has_unnamed_reviews(None, None)  # the cycle named every item
    stored = lists()
    assert stored["two words"].count('<article class="entry') == 1
    assert conflict["key"] not in stored["email"] + stored["candidate"]
    with store.engine.begin() as connection:  # as rows recorded before 0011 are
        connection.execute(sa_text("UPDATE reviews SET partners = NULL, search_text = NULL"))
    assert store.has_unnamed_reviews("partners", None)
    assert lists() == stored
    world["runner"].run_cycle()  # names every item, the ones it does not restate too
    assert not store.has_unnamed_reviews(None, None)
    assert lists() == stored
