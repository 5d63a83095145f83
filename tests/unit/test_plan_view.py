"""`plan`'s text as people read it (cli.plan_view): summary first, deal by deal with names,
old -> new on one line each, tasks by person, --deal, --limit and records out of scope.

Plans are made by the engine from records written the way the APIs return them, mapped
with the default pack (PRM = HubSpot registrations, CRM = Salesforce opportunities).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any

import pytest

from connectors.base import Owner
from handoff_sync.cli.plan_view import (
    NoSuchDeal,
    PlanView,
    Shown,
    close_names,
    matching_deals,
    render,
    show,
)
from handoff_sync.engine.plan import EngineInput, plan
from handoff_sync.engine.types import EngineState, Plan
from handoff_sync.mapping.system.convert import SystemMapping, to_canonical
from handoff_sync.mapping.system.scope import SkippedRecord, skipped_record
from handoff_sync.model import OwnerDirectory, Role
from handoff_sync.store.types import MirrorRecord
from handoff_sync.sync.plan_context import plan_context
from handoff_sync.sync.write import field_changes
from handoff_sync.testing.builders import default_mappings

NOW = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)
MAPPINGS = default_mappings()
AE, MANAGER, REVOPS = "005000000000001AAA", "005000000000003AAA", "005000000000009AAA"
OWNERS = {Role.CRM: OwnerDirectory([Owner(AE, "ava.ae@vendor.example", True, MANAGER,
                                          "Ava Stone"),
                                    Owner(MANAGER, "max.manager@vendor.example", True),
                                    Owner(REVOPS, "revops@example.com", True, None,
                                          "Revenue Operations")]),
          Role.PRM: OwnerDirectory()}


def registration(number: int, name: str, **extra: Any) -> dict[str, Any]:
    return {"hs_object_id": str(number), "pipeline": "9004451", "dealname": name,
            "dealstage": "9004453", "amount": "150000",
            "crm_opportunity_id": f"00600000000000{number}AAA",
            "customer_account_name": f"{name.split()[0]} Corp", "partner_account_name": "Bluebird",
            "partner_rep_email": "pat@bluebird.example",
            "hs_lastmodifieddate": "2026-11-18T10:00:00Z", **extra}


def opportunity(number: int, name: str, **extra: Any) -> dict[str, Any]:
    return {"Id": f"00600000000000{number}AAA", "Name": name, "Amount": 150000.0,
            "IsClosed": False, "IsWon": False, "StageName": "Qualification", "OwnerId": AE,
            "CloseDate": date(2027, 1, 15), "Partner_Registration_Id__c": str(number),
            "Partner_Prepared_Prospect__c": False,
            "SystemModstamp": datetime(2026, 11, 18, 11, 0, tzinfo=UTC), **extra}


@dataclasses.dataclass(frozen=True)
class _Side:
    mapping: SystemMapping
    owners: OwnerDirectory


def view_of(prm: list[dict[str, Any]], crm: list[dict[str, Any]],
            skipped: tuple[SkippedRecord, ...] = ()) -> PlanView:
    """The view `plan` prints for these raw records, made as the offline plan makes it."""
    records = {Role.PRM: tuple(to_canonical(MAPPINGS.prm, r, OWNERS[Role.PRM]) for r in prm),
               Role.CRM: tuple(to_canonical(MAPPINGS.crm, r, OWNERS[Role.CRM]) for r in crm)}
    result = plan(EngineInput("partners", MAPPINGS, records[Role.PRM], records[Role.CRM],
                              EngineState(), NOW, OWNERS[Role.CRM], OWNERS[Role.PRM]))
    mirror = {Role.PRM: {r["hs_object_id"]: MirrorRecord(r["hs_object_id"], None, r)
                         for r in prm},
              Role.CRM: {r["Id"]: MirrorRecord(r["Id"], None, r) for r in crm}}
    sides = {role: _Side(MAPPINGS.side(role), OWNERS[role]) for role in Role}
    context = plan_context(result, MAPPINGS, records, OWNERS, EngineState(), skipped=skipped)
    return PlanView("offline plan", result, field_changes(result, sides, mirror), context,
                    "writing would cost hubspot 1, salesforce 1")


ACME = "Acme data platform"
GLOBEX = "Globex CRM rollout"


def two_deals() -> PlanView:
    return view_of([registration(1, ACME), registration(2, GLOBEX)],
                   [opportunity(1, ACME), opportunity(2, GLOBEX)])


def test_a_deal_that_needs_no_handoff_shows_no_score_and_blanks_its_fields() -> None:
    # The opportunity still holds what an earlier version wrote for it.
    text = render(view_of([registration(1, ACME, amount="50000")], [opportunity(
        1, ACME, Amount=50000.0, Handoff_Completeness__c=8.0,
        Handoff_Missing_Fields__c="Budget confirmed (BANT)")]))
    assert "  gate: not_required (partner_to_direct, pre_handoff_assessment)" in text
    assert "% complete" not in text and "    missing: " not in text
    assert "    Handoff_Completeness__c: 8.0 -> (empty)\n" in text
    assert "    Handoff_Missing_Fields__c: Budget confirmed (BANT) -> (empty)\n" in text


def test_the_summary_comes_first_then_people_then_deals_by_name() -> None:
    text = render(two_deals())
    sections = [text.index(word) for word in ("Summary", "Tasks by person", "Deals",
                                              GLOBEX)]
    assert sections == sorted(sections)
    summary = text[:text.index("Tasks by person")]
    assert "deals planned:     2 (2 with something to do)" in summary
    assert "records to update: hubspot 2, salesforce 2" in summary
    assert "tasks:             2 to create" in summary
    assert "links:             2 new (2 id_field), 0 removed" in summary
    assert "API calls:         writing would cost hubspot 1, salesforce 1" in summary
    assert text.index(ACME) < text.index(GLOBEX)  # deals by name


def test_each_deal_is_headed_by_its_name_ids_account_partner_and_owner() -> None:
    text = render(two_deals())
    block = text[text.index(f"{ACME}  ["):text.index(f"{GLOBEX}  [")]
    assert block.startswith(f"{ACME}  [HubSpot deal 1, Salesforce Opportunity "
                            "006000000000001AAA]\n")
    assert "  account Acme Corp; partner Bluebird (rep pat@bluebird.example)\n" in block
    assert f"  owner Ava Stone <ava.ae@vendor.example> [{AE}]\n" in block
    assert "  gate: blocked, " in block and "(partner_to_direct, pre_handoff_assessment)" in block
    assert "  SLA first_touch: due 2026-11-25 15:30 UTC (on track)\n" in block
    # Field writes under the record they go to, old -> new, one line each.
    assert "  Salesforce Opportunity 006000000000001AAA:\n" in block
    assert "    Handoff_Gate_Status__c: (empty) -> Blocked\n" in block
    assert "    Partner_Rep_Email__c: (empty) -> pat@bluebird.example\n" in block
    assert "  HubSpot deal 1:\n    " in block
    # Then its tasks: who, when, and where a partner task is written.
    assert "    create   Complete the handoff facts for Acme data platform\n" in block
    assert ("             -> Revenue Operations <revops@example.com> [005000000000009AAA], "
            "due 2026-11-19 15:30 UTC, high, on the registration\n") in block


def test_values_show_on_one_line_cut_and_without_control_characters() -> None:
    long = "CFO signs\nCTO approves\r\n" + "x" * 200
    view = view_of([registration(1, ACME)],
                   [opportunity(1, ACME, Stakeholder_Map__c=long,
                                Commitments__c="Net 30\x1b[2J\u202e")])
    text = render(view)
    line = next(x for x in text.splitlines() if x.startswith("    stakeholder_map: "))
    assert line == ("    stakeholder_map: (empty) -> CFO signs\\nCTO approves\\nxxxxxxxxxxxxxxx"
                    "xxxxxxxxxxxxxxxxx... (224 chars)")
    assert "    commitments: (empty) -> Net 30\n" in text
    assert "\x1b" not in text and "\u202e" not in text and "\r" not in text


def test_tasks_are_summed_up_by_person_with_their_name_and_user_id() -> None:
    text = render(two_deals())
    people = text[text.index("Tasks by person"):text.index("\nDeals")]
    assert people.splitlines()[1:] == [
        f"  Revenue Operations <revops@example.com> [{REVOPS}]  2 to create"]
    assert f"-> Revenue Operations <revops@example.com> [{REVOPS}], due" in text


def test_limit_shows_the_first_deals_and_says_how_to_see_the_rest() -> None:
    text = render(two_deals(), Shown(limit=1))
    assert "Deals (the first 1 of 2, by name)" in text
    assert f"{ACME}  [" in text and f"{GLOBEX}  [" not in text
    assert "... and 1 more deals (--limit 0 for all, --json for everything)" in text
    assert f"{GLOBEX}  [" in render(two_deals(), Shown(limit=0))


@pytest.mark.parametrize("query", ["2", "006000000000002AAA", "globex crm ROLLOUT", "globex"])
def test_deal_finds_one_deal_by_either_id_or_its_name(query: str) -> None:
    view = two_deals()
    assert matching_deals(view.context, query) == {"prm:2"}
    text = show([view], query, 20)
    assert f"Deals matching {query!r}" in text
    assert f"{GLOBEX}  [HubSpot deal 2, " in text and ACME not in text
    assert text.index("Summary") < text.index(GLOBEX)


def test_a_deal_that_matches_nothing_names_the_close_ones() -> None:
    view = two_deals()
    with pytest.raises(NoSuchDeal) as missing:
        show([view], "globx", 20)
    assert str(missing.value) == ("no deal has the id or name 'globx'; close names: "
                                  "Globex CRM rollout")
    assert missing.value.exit_code == 2
    assert close_names([view.context], "acme platfrom") == [ACME]
    with pytest.raises(NoSuchDeal) as nothing:
        show([view], "zzz", 20)
    assert str(nothing.value) == ("no deal has the id or name 'zzz'; give a PRM or CRM record "
                                  "id or the deal's name (a part of it matches too)")


def test_records_outside_the_scope_are_listed_with_the_reason_and_the_scope_line() -> None:
    outside = registration(3, "Initech upgrade")
    del outside["pipeline"]
    moved = {**registration(4, "Hooli move"), "pipeline": "default"}
    hostile = {**registration(5, "Evil\x1b]8;;http://x\x1b\\ Corp\u202e"),
               "pipeline": "\x1b[2Jdefault"}
    skipped = tuple(s for raw in (outside, moved, hostile)
                    if (s := skipped_record(MAPPINGS.prm, raw, raw["hs_object_id"])) is not None)
    view = view_of([registration(1, ACME)], [opportunity(1, ACME)], skipped)
    text = render(view)
    assert "  skipped by scope:  3 records (listed below)" in text
    line = (f"skipped: pipeline is missing; the mapping's scope wants pipeline = 9004451 "
            f"({MAPPINGS.prm.file}:17)")
    assert f"  HubSpot deal 3 'Initech upgrade' {line}" in text
    assert "  HubSpot deal 4 'Hooli move' skipped: pipeline is 'default'; " in text
    # A partner's text shows its escapes as text, never acts on the terminal.
    assert "  HubSpot deal 5 'Evil Corp' skipped: pipeline is '\\x1b[2Jdefault'; " in text
    assert "\x1b" not in text and "\u202e" not in text
    assert show([view], "3", 20).count("Initech upgrade") == 1  # --deal finds it too


def test_a_quiet_plan_says_there_is_nothing_to_do() -> None:
    quiet = dataclasses.replace(two_deals(), plan=Plan("partners", NOW, deals=2), changes=())
    text = render(quiet)
    assert "records to update: none (no field writes)" in text
    assert "tasks:             none" in text
    assert "Deals: nothing to do for any deal" in text


def test_a_stage_the_autopilot_moves_is_explained_on_its_deal() -> None:
    text = render(view_of([registration(1, ACME, hs_date_entered_9004453="2026-11-16T14:00:00Z")],
                          [opportunity(1, ACME)]))
    summary = text[:text.index("Deals")]
    assert "stage moves:       1 (1 set)" in summary
    assert ("  stage set: (none) -> pre_handoff_assessment, entered 2026-11-16 14:00 UTC "
            "(stage set to pre_handoff_assessment)\n") in text
    assert "    Handoff_Stage__c: (empty) -> 1 Pre-Handoff Assessment\n" in text
